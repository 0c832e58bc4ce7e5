"""cbound — read a cbound results file into pandas.

    import cbound
    res = cbound.load("results/demo.h5")
    res.tasks, res.layers, res.bounds, res.series   # DataFrames (every table the file holds)
    cbound.join(res, "bounds")                      # bounds rows + the task's width, seed, method, p_* columns
    res.attrs["sweep_text"], res.units["tasks"]["test_acc"], res.docs["tasks"]["test_acc"]

What load() does to the HDF5 file (schema "cbound-results", docs/reference.md):
- every compound dataset becomes a DataFrame named after its path ("tasks", "layers", "bounds",
  "series", or any table a newer cbound writes, e.g. "curves"); unknown columns are kept as they are;
- every fixed-length byte string is decoded (UTF-8, trailing NULs removed) to `str`; root and
  table attributes too (`res.attrs`, `res.units`, `res.docs`, `res.table_docs`);
- a `params` column (canonical "k1=v1;k2=v2", sorted, defaults left out) is exploded into one
  column per parameter named `p_<name>`: float when every value given for that parameter is a
  number, else `str` (a file that already holds p_* columns keeps its own values). A parameter a task does not list is missing (NaN / None): it was at the
  method's default (`cbound run --list-methods` prints them). The `p_` prefix keeps parameters
  apart from result columns of the same name (the `sparsity` column vs magnitude's `sparsity`
  parameter, the bounds' `variant` vs mbp's `variant`).

Needs h5py, numpy and pandas (Debian: python3-h5py python3-numpy python3-pandas); no PyPI.
"""
import math

import numpy as np
import pandas as pd

try:
    import h5py
except ImportError as e:  # pragma: no cover - environment problem
    raise ImportError("cbound: h5py is missing (%s); hint: apt-get install python3-h5py, and run "
                      "/usr/bin/python3 if `python3` on PATH is another interpreter" % e)

__all__ = ["Results", "load", "join", "parse_params", "param_columns", "short_label", "method_defaults", "TASK_COLUMNS"]

SCHEMA = "cbound-results"
PARAM_PREFIX = "p_"
# Task columns join() brings in by default (plus every p_* column).
TASK_COLUMNS = ("task", "stage", "method", "params", "width", "seed", "status")


# ------------------------------------------------------------------ decoding


def _text(v):
    """bytes -> str (UTF-8, NULs stripped); anything else unchanged."""
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("utf-8", "replace").rstrip("\0")
    return v


def _attr(v):
    """An HDF5 attribute as a plain Python value: str, int, float, or a list of those."""
    v = _text(v)
    if isinstance(v, np.ndarray):
        if v.shape == ():
            return _attr(v[()])
        return [_attr(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _frame(ds):
    """A compound (or plain) dataset as a DataFrame with every string column decoded to str."""
    arr = ds[()]
    if arr.dtype.names is None:
        return pd.DataFrame({ds.name.rsplit("/", 1)[-1]: np.atleast_1d(arr)})
    df = pd.DataFrame({n: arr[n] for n in arr.dtype.names}) if arr.size else \
        pd.DataFrame({n: pd.Series(dtype=object if arr.dtype[n].kind in "SOU" else arr.dtype[n])
                      for n in arr.dtype.names})
    for n in arr.dtype.names:
        if arr.dtype[n].kind in "SO" and arr.size:
            df[n] = [_text(v) for v in df[n]]
            df[n] = df[n].astype(object)
    return df


# ------------------------------------------------------------------ parameters


def parse_params(text):
    """'d=0.5;variant=code' -> {'d': '0.5', 'variant': 'code'} (values as text, order kept)."""
    out = {}
    for item in filter(None, (text or "").split(";")):
        k, _, v = item.partition("=")
        out[k.strip()] = v.strip()
    return out


def _number(s):
    try:
        x = float(s)
    except (TypeError, ValueError):
        return None
    return x


def _explode(df):
    """Add one p_<name> column per parameter found in df['params']; return their names."""
    parsed = [parse_params(p) for p in df["params"]]
    names = []
    for p in parsed:
        for k in p:
            if k not in names:
                names.append(k)
    cols = []
    for k in names:
        raw = [p.get(k) for p in parsed]
        given = [v for v in raw if v is not None]
        nums = [_number(v) for v in given]
        col = PARAM_PREFIX + k
        if col in df:
            # the file already has the column (schema 2 writes them): keep its values; text cells of a
            # parameter a task does not list are "" there and None here, as in the columns made below
            if df[col].dtype == object:
                df[col] = df[col].map(lambda v: None if v is None or v == "" else v).astype(object)
        elif given and all(x is not None for x in nums):
            df[col] = np.array([np.nan if v is None else float(v) for v in raw], dtype=float)
        else:
            df[col] = pd.Series([None if v is None else str(v) for v in raw], index=df.index, dtype=object)
        cols.append(col)
    return cols


def param_columns(df):
    """The p_* parameter columns of a DataFrame (tasks, or a join)."""
    return [c for c in df.columns if isinstance(c, str) and c.startswith(PARAM_PREFIX)]


def short_label(values, digits=3):
    """{'p_d': 1.51428571429, 'p_variant': 'code'} -> 'd = 1.51, variant = code' (missing values left out).

    Numbers are printed with `digits` significant digits; integers without a decimal point."""
    parts = []
    for k, v in values.items():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        name = k[len(PARAM_PREFIX):] if k.startswith(PARAM_PREFIX) else k
        if isinstance(v, (float, np.floating)) and float(v).is_integer() and abs(v) < 1e15:
            s = "%d" % int(v)
        elif isinstance(v, (float, np.floating, int, np.integer)):
            s = "%.*g" % (digits, v)
        else:
            s = str(v)
        parts.append("%s = %s" % (name, s))
    return ", ".join(parts)


# ------------------------------------------------------------------ results


class Results:
    """The tables and provenance of one results file.

    Attributes: path; tables (dict name -> DataFrame); attrs (root provenance, decoded);
    units / docs (dict table -> {column: text}); table_docs (dict table -> text);
    params (the p_* columns of the tasks table). Each table is also an attribute
    (res.tasks) and an item (res["tasks"])."""

    def __init__(self, path, tables, attrs, units, docs, table_docs, params):
        self.path = path
        self.tables = tables
        self.attrs = attrs
        self.units = units
        self.docs = docs
        self.table_docs = table_docs
        self.params = params

    def __getattr__(self, name):
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError("%s has no table or attribute %r (tables: %s)"
                             % (self.__dict__.get("path", "results"), name, ", ".join(sorted(tables))))

    def __getitem__(self, name):
        return self.tables[name]

    def __contains__(self, name):
        return name in self.tables

    def keys(self):
        return list(self.tables)

    def join(self, table, cols=None):
        return join(self, table, cols)

    def __repr__(self):
        sizes = ", ".join("%s %d" % (k, len(v)) for k, v in self.tables.items())
        return "<cbound.Results %s: %s>" % (self.path, sizes)


def load(path):
    """Read every table and attribute of a cbound results file; see the module docstring."""
    tables, units, docs, table_docs = {}, {}, {}, {}
    with h5py.File(path, "r") as f:
        attrs = {k: _attr(v) for k, v in f.attrs.items()}
        schema = attrs.get("schema")
        if schema is not None and schema != SCHEMA:
            raise ValueError("%s: expected schema %r, found %r" % (path, SCHEMA, schema))
        found = []
        f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
        for name in found:
            ds = f[name]
            if ds.ndim > 1:
                continue  # not a table
            df = _frame(ds)
            a = {k: _attr(v) for k, v in ds.attrs.items()}
            units[name] = {k[5:]: v for k, v in a.items() if k.startswith("unit_")}
            docs[name] = {k[4:]: v for k, v in a.items() if k.startswith("doc_")}
            table_docs[name] = a.get("doc", "")
            tables[name] = df
    params = _explode(tables["tasks"]) if "tasks" in tables and "params" in tables["tasks"] else []
    return Results(path, tables, attrs, units, docs, table_docs, params)


def join(res, table, cols=None):
    """Rows of `table` (e.g. "layers", "bounds", "series") with their task's columns.

    Brings in TASK_COLUMNS that exist, every p_* parameter column, every measure_*
    column (measure settings swept as a list), and any extra task columns named in `cols` (e.g. ["test_acc", "kept_fraction"]). Joined on `key`; a
    column the table already has keeps its name and the task's copy gets "_task"."""
    if isinstance(res, str):
        res = load(res)
    t = res.tables["tasks"]
    rows = res.tables[table]
    want = [c for c in TASK_COLUMNS if c in t] + list(res.params) + [c for c in t if c.startswith("measure_")]
    want += [c for c in (cols or []) if c in t and c not in want]
    missing = [c for c in (cols or []) if c not in t]
    if missing:
        raise KeyError("tasks table has no column(s) %s" % ", ".join(missing))
    seen = []
    for c in ["key"] + want:
        if c not in seen:
            seen.append(c)
    return rows.merge(t[seen], on="key", how="left", suffixes=("", "_task"), validate="many_to_one")


# ------------------------------------------------------------------ method defaults


def method_defaults(exe=None):
    """{method: {parameter: default text}} from `cbound run --list-methods`, or {} if no cbound runs.

    The binary: `exe`, else $CBOUND, else the repository's build/cbound (then any build*/cbound,
    newest first), else `cbound` on PATH.
    Parameters listed without a default (mbp's `sparsity`) are left out. Use it to label or fill
    a missing p_* value knowingly: some defaults only hold when another parameter is absent (an
    mbp task given `sparsity` solves its d; see docs/python.md)."""
    import glob
    import os
    import shutil
    import subprocess
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    builds = sorted(glob.glob(os.path.join(repo, "build*", "cbound")), key=os.path.getmtime, reverse=True)
    cands = [exe, os.environ.get("CBOUND"), os.path.join(repo, "build", "cbound")] + builds + [shutil.which("cbound")]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    for c in cands:
        if not c or not os.path.exists(c):
            continue
        try:
            out = subprocess.run([c, "run", "--list-methods"], capture_output=True, text=True, timeout=60,
                                 env=env).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        found, method = {}, None
        for line in out.splitlines():
            if line.startswith("  ") and not line.startswith("   ") and line.split():
                method = line.split()[0]
            elif "parameters:" in line and method:
                toks = line.split("parameters:", 1)[1].split()
                found[method] = dict(t.split("=", 1) for t in toks if "=" in t)
        if found:
            return found
    return {}
