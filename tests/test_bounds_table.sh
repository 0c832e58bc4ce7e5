#!/usr/bin/env bash
# test_bounds_table — the bounds and series tables of a results file hold exactly the rows
# the tasks computed: a tiny sweep (bias-free and biased models, mbp and magnitude) runs
# under mpirun -n 2; for every task, `cbound task --key` replays it in one process and
# prints its rows (the in-memory CbResult), which must equal the file's rows for that key
# column by column (h5py), strings decoded; and the bias flag must match the model.
# Prints "test_bounds_table: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CB0=$(realpath "${CBOUND:-build/cbound}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
. tests/helpers.sh
T=$(mktemp -d /tmp/cbound-btab.XXXXXX)
trap 'rm -rf "$T"' EXIT
CB=$T/cbound
private_copy "$CB0" "$CB"
cd "$T"
pass=0; fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
no() { echo "FAIL $*"; fail=$((fail + 1)); }

cat >btab.yaml <<YAML
name: btab
seed: 11
output: $T/out/btab.h5
data: {kind: gaussian, dim: 10, n_classes: 3, teacher_width: 12, n_train: 300, n_test: 100}
model: {depth: 3, widths: [12], bias: false}
train: {lr: 0.1, epochs: 15, batch: 30}
seeds: [1, 2]
methods:
  - name: mbp
    grid: {d: [0.7, 3.1], variant: [paper, code]}
  - name: magnitude
    grid: {sparsity: [0.6]}
YAML
sed -e 's/bias: false/bias: true/' -e 's/name: btab/name: btab-bias/' -e 's|btab.h5|btab-bias.h5|' btab.yaml >btab-bias.yaml

for sw in btab btab-bias; do
    if mpirun -n 2 "$CB" run --quiet $sw.yaml >run-$sw.out 2>&1; then ok "$sw: sweep runs (-n 2)"; else no "$sw: sweep (exit $?)"; cat run-$sw.out; continue; fi
    keys=$("$CB" run --dry-run $sw.yaml 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && length($2) == 16 {print $2}')
    [ -n "$keys" ] && ok "$sw: task keys listed ($(echo $keys | wc -w))" || no "$sw: no keys from --dry-run"
    : >replay-$sw.out
    for k in $keys; do
        echo "key $k" >>replay-$sw.out
        "$CB" task --key "$k" $sw.yaml >>replay-$sw.out 2>/dev/null || echo "replay failed $k" >>replay-$sw.out
    done
    /usr/bin/python3 - out/$sw.h5 replay-$sw.out "$sw" >cmp-$sw.out 2>&1 <<'PY'
import math, re, shlex, sys
import h5py, numpy as np
path, replay, sw = sys.argv[1], sys.argv[2], sys.argv[3]
def dec(v):
    return v.decode().rstrip("\0") if isinstance(v, bytes) else v
with h5py.File(path, "r") as f:
    bounds = [{k: dec(r[k]) for k in r.dtype.names} for r in f["bounds"][:]]
    series = [{k: dec(r[k]) for k in r.dtype.names} for r in f["series"][:]]
    tasks = {dec(r["key"]): r for r in f["tasks"][:]}
mem_b, mem_s, key, failed = [], [], None, []
for line in open(replay):
    if line.startswith("key "):
        key = line.split()[1]
    elif line.startswith("replay failed"):
        failed.append(line.split()[-1])
    elif line.startswith("bound "):
        t = shlex.split(line)
        row = {"key": key, "name": t[1], "variant": t[2]}
        for k, v in zip(t[3::2], t[4::2]):
            row[k] = v
        mem_b.append(row)
    elif line.startswith("series "):
        t = line.split()
        mem_s.append({"key": key, "name": t[1], "i": int(t[2]), "x": float(t[3]), "y": float(t[4])})
assert not failed, "replays failed: %s" % failed
def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b
nums = ["value_ln", "error_bound", "gamma", "margin_loss", "complexity", "n"]
ints = ["applies", "vacuous"]
strs = ["scale", "gamma_rule", "why_not"]
file_b = {(r["key"], r["name"], r["variant"]): r for r in bounds}
assert len(file_b) == len(bounds), "duplicate (key, name, variant) rows in the file"
assert len(mem_b) == len(bounds), "%d rows replayed, %d in the file" % (len(mem_b), len(bounds))
bad = []
for m in mem_b:
    r = file_b.get((m["key"], m["name"], m["variant"]))
    if r is None:
        bad.append(("missing in file", m["key"], m["name"], m["variant"])); continue
    for c in nums:
        if not same(float(m[c]), float(r[c])): bad.append((c, m["key"], m["name"], m[c], r[c]))
    for c in ints:
        if int(m[c]) != int(r[c]): bad.append((c, m["key"], m["name"], m[c], r[c]))
    for c in strs:
        if m[c] != r[c]: bad.append((c, m["key"], m["name"], m[c], r[c]))
assert not bad, bad[:5]
file_s = {(r["key"], r["name"], int(r["i"])): r for r in series}
assert len(mem_s) == len(series) and len(series) > 0, "%d series rows replayed, %d in the file" % (len(mem_s), len(series))
for m in mem_s:
    r = file_s[(m["key"], m["name"], m["i"])]
    assert same(m["x"], float(r["x"])) and same(m["y"], float(r["y"])), (m, r)
biased = sw.endswith("bias")
flags = {float(t["model_bias"]) for t in tasks.values()}
assert flags == {1.0 if biased else 0.0}, flags
with_bias_reason = sum("biases" in r["why_not"] for r in bounds)
assert (with_bias_reason == len(bounds)) if biased else (with_bias_reason == 0), with_bias_reason
print("ok %d bound rows, %d series rows equal; model_bias %s" % (len(bounds), len(series), flags))
PY
    if grep -q '^ok' cmp-$sw.out; then ok "$sw: $(grep '^ok' cmp-$sw.out)"; else no "$sw: file vs replay: $(tail -3 cmp-$sw.out)"; fi
done
echo "test_bounds_table: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
