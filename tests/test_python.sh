#!/usr/bin/env bash
# test_python — the Python package python/cbound (docs/python.md) on a real results file:
# a tiny sweep (gaussian teacher data, two widths, two seeds; mbp over d x variant and
# magnitude over sparsity x scope) runs under mpirun -n 2, then /usr/bin/python3 checks
# that cbound.load() gives str (never bytes) columns and attributes, one typed p_* column
# per method parameter (floats for numbers, str otherwise, missing where a task does not
# list it), that cbound.join() brings each layers/bounds/series row its own task's width,
# seed, method and parameters (checked against d_out, an independent fact of the row),
# that a table or column the loader does not know (a `probe` table added to a copy: the runner writes `curves` itself) is
# loaded too, that wrong files are refused, and that the one-liner printed in README.md
# and docs/python.md is the same and runs as printed.
# Prints "test_python: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)
CB0=$(realpath "${CBOUND:-build/cbound}")
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export PYTHONPATH="$REPO/python${PYTHONPATH:+:$PYTHONPATH}"
. tests/helpers.sh
T=$(mktemp -d /tmp/cbound-python.XXXXXX)
trap 'rm -rf "$T"' EXIT
CB=$T/cbound   # private copy: a concurrent `make` may relink build/cbound
private_copy "$CB0" "$CB"

cat >"$T/py.yaml" <<YAML
name: python-e2e
seed: 11
output: $T/out/py.h5
data: {kind: gaussian, dim: 12, n_classes: 3, teacher_width: 16, n_train: 300, n_test: 150}
model: {depth: 3, widths: [16, 24], bias: false}
train: {lr: 0.1, epochs: 15, batch: 30}
seeds: [1, 2]
methods:
  - name: mbp
    grid: {d: [0.5, 2.385], variant: [paper, code]}
  - name: magnitude
    grid: {sparsity: [0.5, 0.9], scope: [layer, global]}
YAML
(cd "$T" && mpirun -n 2 "$CB" run --quiet py.yaml) >"$T/run.out" 2>&1; rc=$?
check "tiny sweep runs (-n 2)" test "$rc" -eq 0
H5=$T/out/py.h5

# Each block prints "ok ..." on success; an assertion error or exception fails the check.
pycheck() { # name, then the Python program on stdin (argv[1] = results file)
    local name=$1 out
    out=$("$PY" - "$H5" 2>&1); local rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^ok' <<<"$out"; then ok "$name"; else no "$name"; sed 's/^/    /' <<<"$out" | tail -8; fi
}

pycheck "tables load; every string column and attribute is str, never bytes" <<'PY'
import sys, cbound
r = cbound.load(sys.argv[1])
assert {"tasks", "layers", "bounds", "series"} <= set(r.keys()), r.keys()
assert len(r.tasks) == 2 * 2 * (4 + 4), len(r.tasks)          # 2 widths x 2 seeds x (mbp 4 + magnitude 4)
for name, df in r.tables.items():
    for c in df.columns:
        if df[c].dtype == object:
            bad = [v for v in df[c] if v is not None and not isinstance(v, str)]
            assert not bad, (name, c, bad[:3])
for c in ("key", "stage", "method", "params", "status"):
    assert r.tasks[c].map(type).eq(str).all(), c
assert set(r.tasks["method"]) == {"mbp", "magnitude"}, set(r.tasks["method"])
assert set(r.tasks["status"]) == {"ok"}, set(r.tasks["status"])
assert r.attrs["schema"] == "cbound-results" and isinstance(r.attrs["sweep_text"], str)
assert "name: python-e2e" in r.attrs["sweep_text"]
assert isinstance(r.attrs["schema_version"], int) and isinstance(r.attrs["cbound_version"], str)
assert r.units["tasks"]["test_acc"] == "1" and isinstance(r.docs["tasks"]["test_acc"], str)
assert r.docs["bounds"]["error_bound"] and r.table_docs["tasks"]
assert r.bounds.query("scale == 'error'").shape[0] > 0
print("ok", len(r.tasks))
PY

pycheck "params exploded into typed p_* columns (floats for numbers, str otherwise)" <<'PY'
import sys, math, cbound
r = cbound.load(sys.argv[1]); t = r.tasks
assert set(r.params) == {"p_d", "p_variant", "p_sparsity", "p_scope"}, r.params
assert str(t["p_d"].dtype) == "float64" and str(t["p_sparsity"].dtype) == "float64"
assert sorted(set(t.loc[t.method == "mbp", "p_d"])) == [0.5, 2.385], set(t["p_d"])
assert t.loc[t.method == "magnitude", "p_d"].isna().all()
# variant=paper is the default, so the canonical text leaves it out: None there, 'code' where given
assert set(t.loc[t.method == "mbp", "p_variant"].map(repr)) == {"None", "'code'"}, set(t["p_variant"])
assert t["p_scope"].dropna().map(type).eq(str).all() and set(t["p_scope"].dropna()) <= {"global"}
assert sorted(set(t["p_sparsity"].dropna())) == [0.5, 0.9]
# the columns say exactly what the params text says, row by row
for _, row in t.iterrows():
    given = cbound.parse_params(row["params"])
    for c in r.params:
        k = c[2:]
        v = row[c]
        if k in given:
            assert (float(given[k]) == v) if isinstance(v, float) else (given[k] == v), (row["params"], c, v)
        else:
            assert v is None or (isinstance(v, float) and math.isnan(v)), (row["params"], c, v)
assert cbound.short_label({"p_d": 1.51428571429, "p_variant": "code", "p_x": float("nan")}) == "d = 1.51, variant = code"
print("ok")
PY

pycheck "join: layers, bounds and series rows get their own task's width, seed, method, params" <<'PY'
import sys, cbound
r = cbound.load(sys.argv[1])
lay = cbound.join(r, "layers")
assert len(lay) == len(r.layers) and lay["width"].notna().all() and lay["method"].notna().all()
# independent check: in these 3-layer models, layers 0 and 1 have d_out = the hidden width
hid = lay[lay["layer"] < 2]
assert (hid["d_out"] == hid["width"]).all(), hid[["d_out", "width"]].drop_duplicates()
assert set(lay["p_sparsity"].dropna()) == {0.5, 0.9}
b = r.join("bounds", cols=["test_acc"])
assert len(b) == len(r.bounds) and b["seed"].isin([1, 2]).all() and b["test_acc"].between(0, 1).all()
# bounds and layers of the same tasks: one row per (task, bound) with its widest layer's j_r
jr = lay.groupby("key")["max_nnz_row"].max().rename("max_j_r")
both = b.merge(jr, on="key")
assert len(both) == len(b) and both["max_j_r"].notna().all()
# the join agrees with a plain pandas merge on key
m = r.bounds.merge(r.tasks[["key", "width", "method"]], on="key")
assert (m["width"].values == b["width"].values).all() and (m["method"].values == b["method"].values).all()
s = cbound.join(r, "series")
assert len(s) == len(r.series) and s["method"].notna().all()
try:
    cbound.join(r, "bounds", cols=["no_such_column"]); raise SystemExit("join accepted an unknown column")
except KeyError:
    pass
print("ok", len(lay), len(b), len(s))
PY

pycheck "tables and columns the loader does not know are loaded too; a file's own p_* columns are kept" <<'PY'
import sys, shutil, tempfile, os, numpy as np, h5py, cbound
d = tempfile.mkdtemp(); p = os.path.join(d, "extra.h5"); shutil.copy(sys.argv[1], p)
with h5py.File(p, "r+") as f:
    key = f["tasks"]["key"][0]
    dt = np.dtype([("key", "S16"), ("name", "S32"), ("x", "<f8"), ("y", "<f8")])
    ds = f.create_dataset("probe", data=np.array([(key, b"rank_curve", 1.0, 0.25), (key, b"rank_curve", 2.0, 0.125)], dtype=dt))
    ds.attrs["unit_y"] = b"1"
    f.create_dataset("empty", data=np.zeros(0, dtype=dt))
    # a tasks table that already holds p_* columns and a new setting column (as newer files do):
    # the file's p_* values are kept ("" read as missing), the new column is loaded as it is
    t = f["tasks"][()]
    extra = [("p_d", "<f8"), ("p_variant", h5py.string_dtype()), ("lr", "<f8")]
    keep = [n for n in t.dtype.names if n not in dict(extra)]
    nt = np.empty(t.shape, dtype=np.dtype([(n, t.dtype[n]) for n in keep] + extra))
    for n in keep:
        nt[n] = t[n]
    txt = lambda v: v.decode() if isinstance(v, bytes) else v
    pv = [dict(x.split("=") for x in txt(s).split(";") if x) for s in t["params"]]
    nt["p_d"] = [float(q["d"]) + 1000 if "d" in q else np.nan for q in pv]   # marked: the file's own values
    nt["p_variant"] = [q.get("variant", "") for q in pv]
    nt["lr"] = 0.1
    attrs = dict(f["tasks"].attrs)
    del f["tasks"]
    f.create_dataset("tasks", data=nt)
    for k, v in attrs.items():
        f["tasks"].attrs[k] = v
r = cbound.load(p)
t = r.tasks
assert (t.loc[t.method == "mbp", "p_d"] > 1000).all() and t.loc[t.method != "mbp", "p_d"].isna().all()
assert set(t["p_variant"].map(repr)) == {"None", "'code'"}, set(t["p_variant"])
assert "p_sparsity" in r.params and (t["lr"] == 0.1).all() and isinstance(t["params"][0], str)
assert "probe" in r and list(r.probe["name"]) == ["rank_curve"] * 2 and r.units["probe"]["y"] == "1"
assert len(r.empty) == 0 and list(r.empty.columns) == ["key", "name", "x", "y"]
c = cbound.join(r, "probe")
assert c["method"].iloc[0] == r.tasks["method"].iloc[0]
shutil.rmtree(d)
print("ok")
PY

pycheck "refuses a file of another schema and names a missing table" <<'PY'
import sys, os, tempfile, h5py, cbound
p = os.path.join(tempfile.mkdtemp(), "model.h5")
with h5py.File(p, "w") as f:
    f.attrs["schema"] = b"cbound-model"
try:
    cbound.load(p); raise SystemExit("loaded a model file")
except ValueError as e:
    assert "cbound-results" in str(e) and "cbound-model" in str(e), e
r = cbound.load(sys.argv[1])
try:
    r.probe; raise SystemExit("no error for a missing table")
except AttributeError as e:
    assert "probe" in str(e) and "tasks" in str(e), e
print("ok")
PY

# The one-liner: the line after <!-- python-oneliner --> in README.md and docs/python.md.
oneliner() { awk '/<!-- python-oneliner -->/ {getline; getline; print; exit}' "$1" | sed 's/^    //'; }
readme_line=$(oneliner README.md); doc_line=$(oneliner docs/python.md)
check "README.md shows the one-liner" test -n "$readme_line"
check "docs/python.md shows the same one-liner" test -n "$doc_line" -a "$readme_line" = "$doc_line"
mkdir -p "$T/repo/results" && ln -s "$REPO/python" "$T/repo/python" && cp "$H5" "$T/repo/results/demo.h5"
rc=1; [ -n "$readme_line" ] && { (cd "$T/repo" && env -u PYTHONPATH bash -c "$readme_line") >"$T/oneliner.out" 2>&1; rc=$?; }
check "the one-liner runs as printed (from the repository root, results/demo.h5)" test "$rc" -eq 0
check "the one-liner prints a table of bounds by width" sh -c "grep -q 'sketch_004_thm5.2' '$T/oneliner.out' && grep -Eq '\b16\b.*\b24\b' '$T/oneliner.out'"
[ "$rc" -eq 0 ] || tail -5 "$T/oneliner.out"

# What to cite: CITATION.cff parses and names the same arXiv ids as docs/references.md.
"$PY" - CITATION.cff docs/references.md >"$T/cite.out" 2>&1 <<'PY'
import re, sys, yaml
cff = yaml.safe_load(open(sys.argv[1]))
assert cff["cff-version"] == "1.2.0" and cff["type"] == "software" and cff["authors"], cff.keys()
ids_cff = {i["value"][6:] for r in cff["references"] for i in r.get("identifiers", []) if i["value"].startswith("arXiv:")}
ids_doc = set(re.findall(r"\[(\d{4}\.\d{4,5})\]\(https://arxiv.org/abs/\1\)", open(sys.argv[2]).read()))
assert ids_cff == ids_doc and len(ids_doc) >= 15, (sorted(ids_cff ^ ids_doc), len(ids_doc))
assert all(r["authors"] and r["year"] and r["title"] for r in cff["references"])
print("ok", len(ids_doc))
PY
check "CITATION.cff parses and lists the same arXiv ids as docs/references.md" grep -q '^ok' "$T/cite.out"

# scripts/report.py reads through the package (its private loader is gone).
check "scripts/report.py imports the package's loader" grep -q '^import cbound\|^    import cbound\|from cbound import' scripts/report.py
check "scripts/report.py has no private load_table/parse_params" sh -c "! grep -Eq 'def (load_table|parse_params)' scripts/report.py"
echo "test_python: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
