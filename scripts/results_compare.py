#!/usr/bin/python3
"""Compare cbound results files, or a results row with `cbound task` output.

  results_compare.py A.h5 B.h5          tables equal except timing/worker columns?
  results_compare.py --row A.h5 FILE    the task row of FILE (`cbound task` output)
                                        equals its row in A.h5 (timing columns aside)
  results_compare.py --count A.h5       prints "<rows> <failed>" of /tasks

Timing/worker columns: worker, t_start, t_end, wall_s and every column whose
unit attribute (unit_<col>) is "s". Floats must match bit for bit (NaN == NaN).
Exit status 0 when equal, 1 otherwise.
"""
import sys

import h5py
import numpy as np

TABLES = ("tasks", "layers", "bounds", "series", "curves")  # a table neither file has is skipped
TIMING = {"worker", "t_start", "t_end", "wall_s"}


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def unit(ds, col):
    u = ds.attrs.get("unit_" + col, b"")
    return u.decode() if isinstance(u, bytes) else str(u)


def compared_columns(ds):
    return [c for c in ds.dtype.names if c not in TIMING and unit(ds, c) != "s"]


def same(u, v):
    if u.dtype.kind == "f":
        return np.array_equal(u, v, equal_nan=True)
    return np.array_equal(u, v)


def compare_files(pa, pb):
    fa, fb = h5py.File(pa, "r"), h5py.File(pb, "r")
    bad = []
    for t in TABLES:
        if t not in fa and t not in fb:
            continue
        if (t in fa) != (t in fb):
            bad.append(f"{t}: in one file only")
            continue
        da, db = fa[t], fb[t]
        ca, cb = compared_columns(da), compared_columns(db)
        if ca != cb:
            bad.append(f"{t}: columns differ")
            continue
        a, b = da[:], db[:]
        if len(a) != len(b):
            bad.append(f"{t}: {len(a)} vs {len(b)} rows")
            continue
        bad += [f"{t}.{c}" for c in ca if not same(a[c], b[c])]
    if bad:
        print("differ: " + ", ".join(bad[:20]))
        return 1
    print(f"identical ({len(fa['tasks'])} tasks, {len(fa['layers'])} layer rows)")
    return 0


def compare_row(path, replay):
    f = h5py.File(path, "r")
    vals, layers = {}, []
    for line in open(replay):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "layer":
            kv = dict(zip(parts[0::2], parts[1::2]))
            layers.append(kv)
        elif len(parts) == 2:
            vals[parts[0]] = parts[1]
    key = vals["key"].encode()
    tasks = f["tasks"]
    rows = tasks[:][tasks["key"][:] == key]
    if len(rows) != 1:
        print(f"key {key} has {len(rows)} rows")
        return 1
    row, bad = rows[0], []
    for c in compared_columns(tasks):
        if c in ("task", "key", "stage", "method", "params", "width", "seed", "status", "reason"):
            continue
        if c.startswith("p_") or _text(tasks.attrs.get("doc_" + c, b"")).startswith("training-stage setting"):
            continue  # grid columns (p_*, varying stage settings): from the sweep, not printed by `cbound task`
        if c not in vals:
            continue  # derived columns (parameters, stage settings): `cbound task` prints their source
        x, y = float(vals[c]), float(row[c])
        if not (x == y or (np.isnan(x) and np.isnan(y))):
            bad.append(f"{c}: replay {x!r} vs file {y!r}")
    if vals.get("status") != row["status"].decode():
        bad.append("status")
    lt = f["layers"]
    lrows = lt[:][lt["key"][:] == key]
    if len(lrows) != len(layers):
        bad.append(f"layers: {len(layers)} vs {len(lrows)}")
    for kv, lr in zip(layers, lrows):
        for c in compared_columns(lt):
            if c == "key":
                continue
            x, y = float(kv[c]), float(lr[c])
            if not (x == y or (np.isnan(x) and np.isnan(y))):
                bad.append(f"layer {kv['layer']} {c}: {x!r} vs {y!r}")
    if bad:
        print("differ: " + "; ".join(bad[:10]))
        return 1
    print(f"row {key.decode()} identical")
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--row":
        return compare_row(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "--count":
        t = h5py.File(sys.argv[2], "r")["tasks"][:]
        print(len(t), int((t["status"] == b"failed").sum()))
        return 0
    if len(sys.argv) == 3:
        return compare_files(sys.argv[1], sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
