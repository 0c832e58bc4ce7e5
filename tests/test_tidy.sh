#!/usr/bin/env bash
# Tidy results files (schema version 2), read through python/cbound and raw h5py:
#   text      params/reason/why_not/gamma_rule are variable-length UTF-8, identifiers
#             fixed-length; cbound.load() gives str for every text column
#   grid      one p_<name> column per method parameter (float64 when every value is a
#             number, else text) equal to the params text, NaN/"" where not given; one
#             column per training-stage setting that varies (an lr axis: float64 `lr`;
#             widths: text; stage_n_train for an n_train axis), none for settings that do not vary
#   curves    one row per (stage, epoch) with the model file's epochs and its /curve
#             values; none for a model.file stage
#   storage   every table chunked, shuffle + deflate
#   summary   one line per (method, grid point, width); the progress line counts
#             running and queued items separately (at most one running per rank)
#   resume    kill -9 mid-run, then --resume: every table (curves too) equals an
#             uninterrupted run's (scripts/results_compare.py)
# Prints "test_tidy: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/helpers.sh
CB0=$(realpath "${CBOUND:-build/cbound}")
CMP="/usr/bin/python3 $(realpath scripts/results_compare.py)"
PY=$(realpath python)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1
T=$(mktemp -d /tmp/cbound-tidy.XXXXXX)
CB=$T/cbound
trap 'rm -rf "$T"' EXIT
private_copy "$CB0" "$CB" || exit 1
cd "$T"

# sweep NAME [NOOP]: 2 widths x 2 learning rates x 2 seeds = 8 stages, magnitude (numeric
# parameter) and mbp (numeric + text parameter, variant=paper is the default); NOOP > 0
# adds that many noop tasks per stage (a run long enough to be killed mid-way)
sweep() {
    cat >"$1.yaml" <<EOF
name: tidy
seed: 11
output: $T/$1/tidy.h5
data: {kind: gaussian, dim: 12, n_classes: 3, teacher_width: 10, n_train: 300, n_test: 120, scale: none}
model: {depth: 2, widths: [7, 11]}
train: {lr: [0.05, 0.1], epochs: 4, batch: 25}
seeds: [2, 5]
measure: {latala: false}
methods:
  - name: magnitude
    grid:
      sparsity: [0.5, 0.75]
  - name: mbp
    grid:
      d: [0.5]
      variant: [code, paper]
EOF
    if [ "${2:-0}" -gt 0 ]; then
        printf '  - name: noop\n    grid:\n      i: {range: [0, %d]}\n' "$2" >>"$1.yaml"
    fi
}
sweep ref
sweep kref 1500
sweep kill 1500
mpirun -n 2 "$CB" run --progress 0.05 ref.yaml >ref.log 2>&1; rc=$?
check "uninterrupted run at -n 2 (rc $rc)" test "$rc" = 0

/usr/bin/python3 - "$T/ref/tidy.h5" "$PY" >py.log 2>&1 <<'PY'
import math, sys
import h5py, numpy as np
sys.path.insert(0, sys.argv[2])
import cbound

path = sys.argv[1]
def check(name, cond):
    print(("PASS " if cond else "FAIL ") + name)

f = h5py.File(path, "r")
t = f["tasks"]
vlen = lambda ds, c: h5py.check_string_dtype(ds.dtype[c])
check("tasks.params, tasks.reason: variable-length UTF-8",
      all(vlen(t, c) is not None and vlen(t, c).encoding == "utf-8" and vlen(t, c).length is None
          for c in ("params", "reason")))
check("bounds.why_not, bounds.gamma_rule: variable-length UTF-8",
      all(vlen(f["bounds"], c).length is None for c in ("why_not", "gamma_rule")))
check("tasks.key: fixed-length 16", vlen(t, "key").length == 16)
check("schema_version 2", int(f.attrs["schema_version"]) == 2)
tables = ("tasks", "layers", "bounds", "series", "curves")
check("every table chunked with shuffle + gzip",
      all(f[n].chunks is not None and f[n].compression == "gzip" and f[n].shuffle for n in tables))

r = cbound.load(path)
texts = [(n, c) for n in tables for c in r[n].columns if r[n][c].dtype == object]
bad = [(n, c) for n, c in texts if not all(isinstance(v, str) or v is None for v in r[n][c])]
check("cbound.load: every text column is str (%d columns, bad: %s)" % (len(texts), bad),
      len(texts) >= 10 and not bad)
check("cbound.load: params and reason are str", isinstance(r.tasks.params[0], str) and isinstance(r.tasks.reason[0], str))

# p_* columns from the file itself, against the params text
raw = t[:]
names = [c for c in raw.dtype.names if c.startswith("p_")]
check("p_* columns are p_d, p_sparsity, p_variant (%s)" % names, names == ["p_d", "p_sparsity", "p_variant"])
check("p_d, p_sparsity float64; p_variant text",
      raw.dtype["p_d"] == np.float64 and raw.dtype["p_sparsity"] == np.float64 and raw.dtype["p_variant"].kind == "O")
good = True
for row in raw:
    given = cbound.parse_params(row["params"].decode())
    for c in names:
        k, v = c[2:], row[c]
        if raw.dtype[c] == np.float64:
            good &= (k in given and float(given[k]) == v) or (k not in given and math.isnan(v))
        else:
            good &= v.decode() == given.get(k, "")
check("every p_* value equals the params text (NaN / empty where not given)", good)
check("p_variant: 'code' for 4 x 2 tasks, empty (default paper) for the others",
      sum(v == b"code" for v in raw["p_variant"]) == 8 and sum(v == b"" for v in raw["p_variant"]) == len(raw) - 8)

# stage settings that vary: lr (numeric) and widths (text); seed stays in `seed`; epochs does not vary
check("setting columns lr (float64) and widths (text), no epochs/batch column",
      "lr" in raw.dtype.names and raw.dtype["lr"] == np.float64 and raw.dtype["widths"].kind == "O"
      and "epochs" not in raw.dtype.names and "batch" not in raw.dtype.names)
check("lr column takes the values 0.05 and 0.1, 16 tasks each",
      sorted(set(raw["lr"].tolist())) == [0.05, 0.1] and (raw["lr"] == 0.05).sum() == 16)
models = r.tasks.stage.unique()
ok_cfg = True
for st in models:
    cfg = h5py.File("%s/models/%s.h5" % (path[:-3], st), "r").attrs["train_config"]
    cfg = dict(l.split(": ", 1) for l in (cfg.decode() if isinstance(cfg, bytes) else cfg).splitlines())
    rows = r.tasks[r.tasks.stage == st]
    # widths: the sweep's stage setting, input and output width 0 (= from the data) where the
    # model file's train_config has them resolved
    w = cfg["widths"].strip("[]").split(", ")
    ok_cfg &= all(rows.lr == float(cfg["lr"])) and all(rows.widths == "[0, %s, 0]" % w[1])
check("lr and widths equal each stage's model train_config (%d stages)" % len(models), ok_cfg and len(models) == 8)
check("docs: every p_* and setting column has a doc_ attribute",
      all(("doc_" + c) in t.attrs for c in names + ["lr", "widths"]))

# curves: one row per (stage, epoch), the model file's epochs and /curve
cv = r.curves
good = len(cv) > 0
for st in models:
    m = h5py.File("%s/models/%s.h5" % (path[:-3], st), "r")
    ep = int(m["metrics"].attrs["epochs"])
    rows = cv[cv.stage == st].sort_values("epoch")
    curve = m["curve"][:]
    good &= list(rows.epoch) == list(range(1, ep + 1)) and curve.shape == (ep, 3)
    good &= np.array_equal(rows[["train_loss", "train_acc", "test_acc"]].to_numpy(), curve, equal_nan=True)
check("curves: one row per (stage, epoch) = model epochs, values = the model's /curve (%d rows)" % len(cv),
      good and len(cv) == 8 * 4)
check("curves: train accuracy in [0, 1], test accuracy measured (test set 0.4 x training set)",
      cv.train_acc.between(0, 1).all() and cv.test_acc.notna().all())
check("curves: the training loss falls from the first to the last epoch in most stages",
      (cv.groupby("stage").train_loss.apply(lambda s: s.iloc[-1] < s.iloc[0])).mean() >= 0.5)
PY
while read -r line; do case $line in PASS*) ok "${line#PASS }" ;; FAIL*) no "${line#FAIL }" ;; *) echo "# $line" ;; esac; done <py.log

# ------------------------------------------------------------------ summary and progress line
n=$(grep -Ec "^(magnitude|mbp) +(7|11) +(sparsity=0.5|sparsity=0.75|d=0.5;variant=code|d=0.5) +4 +0 " ref.log)
check "summary: one line per (method, grid point, width): 8 lines of 4 tasks ($n)" test "$n" = 8
check "summary: no line averages over the grid (no method/width line of 16 tasks)" \
    bash -c "! grep -Eq '^(magnitude|mbp) +(7|11) +16 ' ref.log"
running_ok() { awk '/ running, [0-9]+ queued/ { for (i = 1; i <= NF; ++i) if ($(i + 1) == "running,") { if ($i > 2) bad = 1; seen = 1 } }
                END { exit !(seen && !bad) }' "$1"; }
check "progress: 'N running, M queued' with N <= 2 ranks" running_ok ref.log

# ------------------------------------------------------------------ kill -9 mid-run, resume
# 8 x (4 + 1500) tasks: the kill lands while tasks are being recorded
mpirun -n 2 "$CB" run --quiet kref.yaml >kref.log 2>&1; rc=$?
check "uninterrupted run with 12,032 tasks (rc $rc)" test "$rc" = 0
setsid mpirun -n 2 "$CB" run --quiet kill.yaml >kill1.log 2>&1 &
pid=$!
recorded() { test "$(journal_records kill/tidy.h5.journal)" -ge 100; }
wait_until 120 "100 recorded tasks" recorded
# mpirun and its ranks share the session setsid made (each rank has its own process group)
pkill -KILL -s "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
gone() { ! pgrep -s "$pid" >/dev/null; }
wait_until 30 "the killed run's ranks to end" gone
k=$(journal_records kill/tidy.h5.journal)
check "kill -9 mid-run: $k of 12032 tasks recorded" test "$k" -lt 12032
mpirun -n 2 "$CB" run --quiet --resume kill.yaml >kill2.log 2>&1; rc=$?
check "kill -9 then --resume completes (rc $rc)" test "$rc" = 0
check "kill -9 then --resume: every table (curves, p_*, settings) equals the uninterrupted run" $CMP kill/tidy.h5 kref/tidy.h5

# ------------------------------------------------------------------ a model.file stage has no curve rows
"$CB" train --data gaussian --dim 12 --classes 3 --teacher-width 10 --n-train 300 --n-test 120 --layers 0,7,0 \
    --epochs 3 -o byo.h5 --quiet >/dev/null 2>&1
cat >byo.yaml <<EOF
name: byo
seed: 11
output: $T/byo/byo.h5
data: {kind: gaussian, dim: 12, n_classes: 3, teacher_width: 10, n_train: 300, n_test: 120, scale: none}
model: {file: $T/byo.h5}
methods:
  - name: noop
    grid:
      i: [0, 1]
EOF
"$CB" run --quiet byo.yaml >byo.log 2>&1; rc=$?
check "cbound train writes the model's curve (3 epochs)" \
    /usr/bin/python3 -c "import h5py, sys; sys.exit(h5py.File('byo.h5')['curve'].shape != (3, 3))"
check "model.file sweep (rc $rc): empty curves table" \
    /usr/bin/python3 -c "import h5py, sys; f = h5py.File('byo/byo.h5'); sys.exit(not (len(f['tasks']) == 2 and len(f['curves']) == 0))"

# ------------------------------------------------------------------ a setting named like a result column
cat >ntr.yaml <<EOF
name: ntr
seed: 11
output: $T/ntr/ntr.h5
data: {kind: gaussian, dim: 12, n_classes: 3, teacher_width: 10, n_train: [200, 300], n_test: 60, scale: none}
model: {depth: 2, widths: [5]}
train: {epochs: 2, batch: 25}
methods:
  - name: noop
    grid:
      i: [0]
EOF
"$CB" run --quiet ntr.yaml >ntr.log 2>&1; rc=$?
check "an n_train axis (rc $rc): column stage_n_train (float64, 200 and 300) beside the result column n_train" \
    /usr/bin/python3 -c "
import h5py, sys
t = h5py.File('ntr/ntr.h5')['tasks']
sys.exit(not (t.dtype['stage_n_train'] == 'f8' and sorted(t['stage_n_train'][:]) == [200, 300]
              and 'n_train' in t.dtype.names and 'data' not in t.dtype.names))"

echo "test_tidy: $pass passed, $fail failed"
[ "$fail" = 0 ]
