#!/usr/bin/env bash
# test_sweep_axes — any scalar setting of data, model and train may be a list or a
# generator (an axis of the stages' grid), and `cbound run SWEEP key=value ...` overrides
# settings with the file's validation:
#   - train.lr as a list in the file and model.depth as a list on the command line give
#     one stage per (lr, depth, width, seed), run under mpirun -n 2, every row ok;
#   - the combination equal to the file without axes keeps that file's stage and task keys
#     (an axis at its default leaves keys alone); a data.n_train axis loads each data set;
#   - measure settings may be lists too: each task runs once per combination, a
#     measure_<setting> column each, the default combination keeps the base keys;
#   - the overrides are recorded with the sweep text in the results file; `cbound task`
#     with the same overrides replays a row; a typo gets "did you mean", a bad value the
#     file's message, both exit 1 before any results file.
# Prints "test_sweep_axes: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)
CB0=$(realpath "${CBOUND:-build/cbound}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
. tests/helpers.sh
PY=/usr/bin/python3
T=$(mktemp -d /tmp/cbound-axes.XXXXXX)
trap 'rm -rf "$T"' EXIT
CB=$T/cbound
private_copy "$CB0" "$CB"
cd "$T"
keys() { "$CB" run --dry-run "$@" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && length($2) == 16 {print $2, $3}'; }

cat >base.yaml <<YAML
name: axes
seed: 5
output: $T/out/base.h5
data: {kind: gaussian, dim: 8, n_classes: 3, teacher_width: 8, n_train: 120, n_test: 60}
model: {depth: 2, widths: [6]}
train: {epochs: 2, batch: 20}
methods:
  - name: magnitude
    grid: {sparsity: [0.5]}
YAML
# lr 0.02 is the default: the axis [0.02, 0.1] contains the base sweep
sed -e 's|train: {epochs: 2, batch: 20}|train: {epochs: 2, batch: 20, lr: [0.02, 0.1]}|' -e 's|out/base.h5|out/axes.h5|' base.yaml >axes.yaml
base_keys=$(keys base.yaml)
axes_keys=$(keys axes.yaml model.depth=[2,3])
check "4 stages: lr x depth ($(echo "$axes_keys" | wc -l) tasks)" test "$(echo "$axes_keys" | wc -l)" -eq 4
check "the combination equal to the base sweep keeps its task and stage keys ($base_keys)" \
    sh -c "echo '$axes_keys' | grep -qx '$base_keys'"
check "sweep with a list in the file and an override on the command line runs (-n 2)" \
    mpirun -n 2 "$CB" run --quiet axes.yaml model.depth=[2,3]
$PY - out/axes.h5 >tab.out 2>&1 <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1])
t = f["tasks"][:]
assert len(t) == 4 and set(t["status"]) == {b"ok"}, t["status"]
depths = sorted({int(len([1 for r in f["layers"][:] if r["key"] == k])) for k in t["key"]})
assert depths == [2, 3], depths
text = f.attrs["sweep_text"]
text = text.decode() if isinstance(text, bytes) else text
assert "# command-line overrides:" in text and "model.depth=[2,3]" in text, text[-200:]
print("ok 4 rows, depths", depths, "; overrides recorded")
PY
if grep -q '^ok' tab.out; then ok "$(grep '^ok' tab.out)"; else no "results: $(tail -3 tab.out)"; fi
k=$(echo "$axes_keys" | sed -n 4p | cut -d' ' -f1)
"$CB" task --key "$k" axes.yaml model.depth=[2,3] >row.txt 2>&1
check "cbound task replays a row of the overridden sweep" $PY "$REPO/scripts/results_compare.py" --row out/axes.h5 row.txt
"$CB" task --key "$k" axes.yaml >row2.txt 2>&1
check "without the override that key is not in the sweep (exit 1)" sh -c "! '$CB' task --key $k axes.yaml >/dev/null 2>&1"
# a data axis: each stage's data set is loaded (n_train 60 and 120)
check "data.n_train as an axis runs" mpirun -n 2 "$CB" run --quiet base.yaml data.n_train=[60,120] output=$T/out/ntr.h5
$PY -c "
import h5py; t = h5py.File('out/ntr.h5')['tasks'][:]
assert len(t) == 2 and len(set(t['orig_train_loss'])) == 2, t['orig_train_loss']" >/dev/null 2>&1
check "  ... two stages with different training sets (different training losses)" test $? -eq 0
# errors: a typo, a bad value, a generator; nothing written
"$CB" run base.yaml train.epoch=2 output=$T/out/e1.h5 >e1.out 2>&1; rc=$?
check "typo: exit 1 with 'did you mean train.epochs'" sh -c "test $rc -eq 1 && grep -q \"did you mean 'train.epochs'\" e1.out && test ! -e out/e1.h5"
"$CB" run base.yaml train.lr=[0.1,-1] output=$T/out/e2.h5 >e2.out 2>&1; rc=$?
check "bad value in a list: exit 1, the file's message" sh -c "test $rc -eq 1 && grep -q \"key 'train.lr': expected a number > 0, found '-1'\" e2.out"
"$CB" run --dry-run base.yaml "train.lr={linspace: [0.01, 0.05, 3]}" >e3.out 2>&1
check "a generator on the command line: 3 stages" test "$(grep -cE '^ +[0-9]+ [0-9a-f]{16}' e3.out)" -eq 3
"$CB" run --dry-run base.yaml 'methods=[{name: noop}]' >e6.out 2>&1; rc=$?
check "a whole section on the command line: exit 1, says so" sh -c "test $rc -eq 1 && grep -q \"key 'methods': a whole section cannot be set on the command line\" e6.out"
sed 's/name: magnitude/name: magnitute/' base.yaml >typo.yaml
"$CB" run --dry-run typo.yaml >e4.out 2>&1
check "method typo: did you mean 'magnitude'" grep -q "did you mean 'magnitude'" e4.out
"$CB" run --dry-run base.yaml --resum >e5.out 2>&1; rc=$?
check "option typo: exit 2, did you mean --resume" sh -c "test $rc -eq 2 && grep -q 'did you mean --resume' e5.out"
# measure settings as lists: every task runs once per combination (nothing retrained); the
# combination at the defaults keeps the base sweep's keys; a measure_<setting> column each
sed -e 's|out/base.h5|out/meas.h5|' base.yaml >meas.yaml
echo 'measure: {code: [0, 4], margins: [true, false]}' >>meas.yaml
meas_keys=$(keys meas.yaml)
check "measure.code x measure.margins: 4 tasks of 1 stage" \
    test "$(echo "$meas_keys" | wc -l)" -eq 4 -a "$(echo "$meas_keys" | awk '{print $2}' | sort -u | wc -l)" -eq 1
check "the combination at the defaults (code 0, margins true) keeps the base sweep's key" \
    sh -c "echo '$meas_keys' | grep -qx '$base_keys'"
check "measure lists run (-n 2)" mpirun -n 2 "$CB" run --quiet meas.yaml
PYTHONPATH=$REPO/python $PY - out/meas.h5 >meas.out 2>&1 <<'PY'
import sys, math, cbound
r = cbound.load(sys.argv[1])
t = r.tables["tasks"]
assert list(t["measure_code"]) == [0, 0, 4, 4] and list(t["measure_margins"]) == [1, 0, 1, 0], t
assert set(t["status"]) == {"ok"}
coded = [not math.isnan(v) for v in t["code_bits"]]
assert coded == [False, False, True, True], t["code_bits"]   # measure.code: N codes the model
b = cbound.join(r, "bounds")
assert sorted(set(b["key"])) == sorted(t["key"][t["measure_margins"] == 1]), b["key"]  # margins off: no bounds
assert set(b["measure_margins"]) == {1}
print("ok")
PY
check "measure_code, measure_margins columns; code bits only with code 4; bounds only with margins on" grep -qx ok meas.out
k=$(echo "$meas_keys" | sed -n 3p | awk '{print $1}')
"$CB" task --key "$k" meas.yaml >mrow.txt 2>/dev/null
check "cbound task replays a row of a measure combination" \
    $PY "$REPO/scripts/results_compare.py" --row out/meas.h5 mrow.txt
# list settings given in the file and again on the command line: the override replaces them
check "seeds=[1,2,3] over the file's seeds: 3 tasks" test "$(keys base.yaml seeds=[1,2,3] | wc -l)" -eq 3
check "model.widths=[4,5] over the file's widths: 2 tasks" test "$(keys base.yaml model.widths=[4,5] | wc -l)" -eq 2
for w in 4 5; do
    "$CB" train --data gaussian --dim 8 --classes 3 --teacher-width 8 --n-train 120 --n-test 60 --width $w \
        --depth 2 --epochs 1 -o m$w.h5 --quiet >/dev/null 2>&1
done
sed -e 's|model: {depth: 2, widths: \[6\]}|model: {file: "m*.h5"}|' base.yaml >files.yaml
check "model.file: a glob of 2 files, 2 tasks" test "$(keys files.yaml | wc -l)" -eq 2
check "model.file=m5.h5 over the file's glob: 1 task" test "$(keys files.yaml model.file=m5.h5 | wc -l)" -eq 1
echo "test_sweep_axes: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
