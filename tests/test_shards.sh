#!/usr/bin/env bash
# Shards: `cbound run --shard I/N` runs a deterministic slice of a sweep into its own
# file and `cbound merge` joins the slices:
#   3 shards (run at -n 1 and -n 2) cover every task exactly once, a model's tasks in
#   one shard; merged, the tables equal one uninterrupted run's bit for bit (timing
#   columns aside) and `run --resume` of the merged file has nothing left to do;
#   merge refuses a shard of another sweep, a missing shard (unless --partial: exit 4),
#   a repeated shard and an existing output without --force.
# Prints "test_shards: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/helpers.sh
CB0=$(realpath "${CBOUND:-build/cbound}")
CMP="/usr/bin/python3 $(realpath scripts/results_compare.py)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1
T=$(mktemp -d /tmp/cbound-shards.XXXXXX)
CB=$T/cbound
cp "$CB0" "$CB"
trap 'rm -rf "$T"' EXIT
cd "$T"
keys() { /usr/bin/python3 -c "
import h5py, sys
for p in sys.argv[1:]:
    for k in h5py.File(p)['tasks']['key']: print(k.decode())" "$@"; }

# sweep NAME SEED: 6 stages (3 widths x 2 seeds), 5 noop tasks each and 2 prune tasks each
sweep() {
    cat >"$1.yaml" <<EOF
name: sh
seed: $2
output: $T/$1/sh.h5
data: {kind: gaussian, dim: 10, n_classes: 3, teacher_width: 12, n_train: 200, n_test: 100, scale: none}
model: {depth: 3, widths: [6, 9, 13]}
train: {lr: 0.05, epochs: 2, batch: 25}
seeds: [3, 4]
measure: {latala: false, norms: false, margins: false}
methods:
  - name: noop
    grid:
      i: {range: [0, 5]}
  - name: magnitude
    grid:
      sparsity: [0.5, 0.8]
EOF
}
sweep one 17
sweep split 17
sweep other 18
mpirun -n 2 "$CB" run --quiet one.yaml >one.log 2>&1; rc=$?
check "one uninterrupted run (rc $rc)" test "$rc" = 0

"$CB" run --dry-run --shard 1/3 split.yaml >dry.log 2>&1; rc=$?
check "--dry-run --shard 1/3 lists the slice (rc $rc)" grep -q "shard 1 of 3" dry.log
"$CB" run --shard 3/3 split.yaml >bad.log 2>&1; rc=$?
check "--shard 3/3: usage error 2 (rc $rc)" test "$rc" = 2
for i in 0 1 2; do
    n=$((1 + i % 2))
    mpirun -n $n "$CB" run --quiet --shard $i/3 split.yaml >shard$i.log 2>&1; rc=$?
    check "shard $i/3 at -n $n (rc $rc)" test "$rc" = 0 -a -f "split/sh.shard-$i-of-3.h5"
done
keys split/sh.shard-{0,1,2}-of-3.h5 | sort >shard-keys.txt
keys one/sh.h5 | sort >one-keys.txt
check "3 shards: every task exactly once ($(wc -l <shard-keys.txt) of $(wc -l <one-keys.txt))" cmp shard-keys.txt one-keys.txt
/usr/bin/python3 - "$T" >stages.txt <<'PY'
import h5py, sys, collections
where = collections.defaultdict(set)
for i in range(3):
    for st in h5py.File(f"{sys.argv[1]}/split/sh.shard-{i}-of-3.h5")["tasks"]["stage"]:
        where[st].add(i)
print("ok" if all(len(v) == 1 for v in where.values()) and len(where) == 6 else dict(where))
PY
check "a model's tasks are all in one shard (each model trained once)" grep -qx ok stages.txt

"$CB" merge split.yaml split/sh.shard-{0,1,2}-of-3.h5 >merge.log 2>&1; rc=$?
check "merge of 3 shards (rc $rc)" test "$rc" = 0 -a -f split/sh.h5
check "merged tables equal one run's bit for bit" $CMP split/sh.h5 one/sh.h5
mpirun -n 2 "$CB" run --resume split.yaml >after.log 2>&1; rc=$?
check "run --resume of the merged file: nothing left to do (rc $rc)" grep -q "42 tasks (42 done before)" after.log
check "merged file unchanged by the resume" $CMP split/sh.h5 one/sh.h5

"$CB" merge split.yaml split/sh.shard-{0,1,2}-of-3.h5 >again.log 2>&1; rc=$?
check "merge over an existing results file without --force: exit 1 (rc $rc)" test "$rc" = 1
"$CB" merge --force split.yaml split/sh.shard-{0,2}-of-3.h5 >miss.log 2>&1; rc=$?
check "a shard missing: exit 1, says how many (rc $rc)" test "$rc" = 1 -a -n "$(grep 'of 3 shards not given' miss.log)"
"$CB" merge --force --partial split.yaml split/sh.shard-{0,2}-of-3.h5 >partial.log 2>&1; rc=$?
check "--partial: merged what there is, exit 4 (rc $rc)" test "$rc" = 4
"$CB" merge --force split.yaml split/sh.shard-{0,0,1}-of-3.h5 >rep.log 2>&1; rc=$?
check "a repeated shard: exit 1 (rc $rc)" test "$rc" = 1 -a -n "$(grep 'a repeat' rep.log)"
mpirun -n 1 "$CB" run --quiet --shard 1/3 other.yaml >other.log 2>&1
cp other/sh.shard-1-of-3.h5 split/sh.shard-9.h5; cp other/sh.shard-1-of-3.h5.journal split/sh.shard-9.h5.journal
"$CB" merge --force split.yaml split/sh.shard-{0,2}-of-3.h5 split/sh.shard-9.h5 >foreign.log 2>&1; rc=$?
check "a shard of another sweep: exit 1, names it (rc $rc)" test "$rc" = 1 -a -n "$(grep 'sh.shard-9.h5.journal: comes from another sweep' foreign.log)"

echo "test_shards: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
