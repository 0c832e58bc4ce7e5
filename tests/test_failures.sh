#!/usr/bin/env bash
# Failures that tell the truth (cbound run's exit statuses 4 and 5, --retry-failed,
# data read whole before any results file exists):
#   failed tasks   a run with failed rows exits 4 and says how to retry; --retry-failed
#                  runs exactly the failed tasks again (the journal grows by that many)
#   disk full      output on a small tmpfs: the run stops with exit 5 and "No space",
#                  no task is recorded as failed; after the tmpfs grows, --resume gives
#                  tables equal to a reference run (needs root for mount; else skipped)
#   out of memory  a model too big for `ulimit -v`: exit 5, nothing recorded as failed
#   bad data body  a truncated IDX body (beyond n_train), a ragged CSV row deep in the
#                  file, and n_train larger than the data: exit 1 at --dry-run and at run,
#                  naming file and line, no results file or journal created
# Prints "test_failures: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/helpers.sh
CB0=$(realpath "${CBOUND:-build/cbound}")
CMP="/usr/bin/python3 $(realpath scripts/results_compare.py)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
T=$(mktemp -d /tmp/cbound-failures.XXXXXX)
CB=$T/cbound
cp "$CB0" "$CB"
MNT=$T/small
cleanup() { mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"; rm -rf "$T"; }
trap cleanup EXIT
cd "$T"
run_n() { local n=$1; shift; mpirun -n "$n" --oversubscribe "$CB" run --quiet "$@"; }
records() { /usr/bin/python3 - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read(); at = 11; n = 0
while at + 8 <= len(b):
    l, = struct.unpack_from("<I", b, at)
    n += b[at + 8:at + 12] == b"CBR1"; at += 8 + l
print(n)
EOF
}

# sweep NAME OUTDIR COUNT [grid lines]: 4 stages, COUNT noop tasks each
sweep() {
    cat >"$1.yaml" <<EOF
name: $1
seed: 11
output: $2/$1.h5
data: {kind: gaussian, dim: 10, n_classes: 3, teacher_width: 12, n_train: 200, n_test: 100, scale: none}
model: {depth: 3, widths: [6, 11]}
train: {lr: 0.05, epochs: 2, batch: 25}
seeds: [3, 4]
methods:
  - name: noop
    grid:
      i: {range: [0, $3]}
${4:-}
EOF
}

# ------------------------------------------------------------------ failed tasks
echo "# failed tasks (at ${SECONDS}s)"
sweep soft "$T" 2 "      fail: [none, error]"
run_n 2 soft.yaml >soft1.log 2>&1; rc=$?
read -r rows failed < <($CMP --count soft.h5)
check "failed tasks: exit 4 (rc $rc), 16 rows of which 8 failed ($rows, $failed)" test "$rc:$rows:$failed" = "4:16:8"
check "failed tasks: says how to retry" grep -q "cbound run --retry-failed soft.yaml" soft1.log
n1=$(records soft.h5.journal)
run_n 1 --resume soft.yaml >soft2.log 2>&1; rc=$?
check "--resume of a finished run with failures: nothing reruns, exit 4 (rc $rc)" test "$rc:$(records soft.h5.journal)" = "4:$n1"
cp soft.h5 soft-before.h5
run_n 2 --retry-failed soft.yaml >soft3.log 2>&1; rc=$?
n2=$(records soft.h5.journal)
check "--retry-failed: the 8 failed tasks run again ($n1 -> $n2 records), exit 4 again (rc $rc)" test "$rc:$((n2 - n1))" = "4:8"
check "--retry-failed: announced" grep -q "8 failed tasks will run again" soft3.log
check "--retry-failed: tables unchanged (the failures are deterministic)" $CMP soft.h5 soft-before.h5
sweep good "$T" 3
run_n 2 good.yaml >good.log 2>&1; rc=$?
check "all tasks ok: exit 0 (rc $rc)" test "$rc" = 0
"$CB" run --retry-failed --force good.yaml >rf.log 2>&1; rc=$?
check "--retry-failed with --force: usage error 2 (rc $rc)" test "$rc" = 2

# ------------------------------------------------------------------ disk full
echo "# disk full (at ${SECONDS}s)"
mkdir -p "$MNT"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m cbound-test "$MNT" 2>/dev/null; then
    sweep full "$T/ref" 12 "      spin_ms: 2"
    run_n 2 full.yaml >fullref.log 2>&1
    used=$(du -sk --apparent-size "$T/ref" | cut -f1)
    sed -i "s#output: $T/ref/#output: $MNT/#" full.yaml
    # About a third of what the run needs: models and journal overflow part way.
    half=$(( (used / 3 + 3) / 4 * 4 ))
    mount -o remount,size=${half}k "$MNT"
    run_n 2 full.yaml >full1.log 2>&1; rc=$?
    check "disk full (tmpfs ${half}k of ${used}k needed): exit 5 (rc $rc)" test "$rc" = 5
    check "disk full: the message says so" grep -qi "no space left" full1.log
    check "disk full: says how to continue" grep -q "cbound run --resume full.yaml" full1.log
    if [ -f "$MNT/full.h5" ]; then
        read -r rows failed < <($CMP --count "$MNT/full.h5")
        check "disk full: no task recorded as failed ($failed of $rows)" test "$failed" = 0
    else ok "disk full: no task recorded as failed (no .h5 fitted)"; fi
    mount -o remount,size=64m "$MNT"
    run_n 2 --resume full.yaml >full2.log 2>&1; rc=$?
    check "after freeing space, --resume completes (rc $rc)" test "$rc" = 0
    check "after freeing space: tables equal the reference run" $CMP "$MNT/full.h5" "$T/ref/full.h5"
    # Room for the journal but not for the models: a worker's model save fails
    # (the training stage's failure is environmental: its tasks stay pending).
    rm -rf "$MNT"/full*
    mount -o remount,size=24k "$MNT"
    run_n 2 full.yaml >full3.log 2>&1; rc=$?
    check "model files do not fit: exit 5 (rc $rc)" test "$rc" = 5
    check "model files do not fit: names the training stage" grep -q "training stage [0-9a-f]* on rank" full3.log
    check "model files do not fit: nothing recorded" test "$(records "$MNT/full.h5.journal")" = 0
    mount -o remount,size=64m "$MNT"
    run_n 1 --resume full.yaml >full4.log 2>&1; rc=$?
    check "model files do not fit, then --resume: equal to the reference (rc $rc)" $CMP "$MNT/full.h5" "$T/ref/full.h5"
else
    echo "# (not root or no tmpfs: disk-full checks skipped)"
fi

# ------------------------------------------------------------------ out of memory
echo "# out of memory (at ${SECONDS}s)"
sweep oom "$T" 2
sed -i 's/widths: \[6, 11\]/widths: [6, 40000]/' oom.yaml # 40000 x 40000 floats: 6.4 GB
( ulimit -v 3000000; "$CB" run --quiet oom.yaml ) >oom1.log 2>&1; rc=$?
check "out of memory (ulimit -v 3 GB, a 6.4 GB layer): exit 5 (rc $rc)" test "$rc" = 5
check "out of memory: says so, and that finished work is kept" grep -q "fatal: out of memory allocating 6.4.*finished work is kept" oom1.log
check "out of memory: nothing recorded as failed" test "$(records oom.h5.journal)" = 0
sed -i 's/widths: \[6, 40000\]/widths: [6]/' oom.yaml
"$CB" run --quiet --resume oom.yaml >oom2.log 2>&1; rc=$?
read -r rows failed < <($CMP --count oom.h5)
check "out of memory, then --resume without the huge model: completes (rc $rc, $rows rows, $failed failed)" \
    test "$rc:$rows:$failed" = "0:4:0"

# ------------------------------------------------------------------ bad data bodies
echo "# data read whole before the results file (at ${SECONDS}s)"
/usr/bin/python3 - <<'EOF'
import gzip, os, struct, random
random.seed(5)
os.makedirs("idx", exist_ok=True)
def write(set_, n, body_n):
    img = struct.pack(">IIII", 0x803, n, 4, 4) + bytes(random.randrange(256) for _ in range(16 * body_n))
    lab = struct.pack(">II", 0x801, n) + bytes(random.randrange(10) for _ in range(n))
    open(f"idx/{set_}-images-idx3-ubyte", "wb").write(img)
    open(f"idx/{set_}-labels-idx1-ubyte", "wb").write(lab)
write("train", 100, 90)   # header says 100 images, the body holds 90
write("t10k", 40, 40)
with open("ragged.csv", "w") as f:
    f.write("a,b,c,y\n")
    for i in range(300):
        f.write("1.5,2.25,%d,%d\n" % (i, i % 2) if i != 250 else "1.5,2.25,%d\n" % i)
EOF
datasweep() { # NAME DATA-LINE
    printf 'name: %s\noutput: %s/%s.h5\ndata: %s\nmodel: {depth: 2, widths: [4]}\ntrain: {epochs: 1}\nmethods: [{name: noop}]\n' \
        "$1" "$T" "$1" "$2" >"$1.yaml"
}
datasweep trunc "{kind: mnist, path: $T/idx, n_train: 10, n_test: 10}"
run_n 1 --dry-run trunc.yaml >trunc0.log 2>&1; rc=$?
check "truncated IDX body (n_train 10 of 100): --dry-run exit 1 (rc $rc)" test "$rc" = 1
check "truncated IDX body: names the file and the truncation" grep -q "train-images-idx3-ubyte: truncated" trunc0.log
run_n 2 trunc.yaml >trunc1.log 2>&1; rc=$?
check "truncated IDX body: run exit 1, no results file or journal (rc $rc)" \
    test "$rc" = 1 -a ! -e trunc.h5 -a ! -e trunc.h5.journal -a ! -e trunc
check "truncated IDX body: error names sweep line" grep -q "trunc.yaml:3: key 'data'" trunc1.log
datasweep ragged "{kind: csv, path: $T/ragged.csv, n_train: 20}"
run_n 2 ragged.yaml >ragged.log 2>&1; rc=$?
check "ragged CSV row 252: exit 1, no results (rc $rc)" test "$rc" = 1 -a ! -e ragged.h5 -a ! -e ragged.h5.journal
check "ragged CSV row: names the file" grep -q "ragged.csv" ragged.log
sed -i 's/^1.5,2.25,250$/1.5,2.25,250,0/' ragged.csv
run_n 1 --dry-run ragged.yaml >ragged2.log 2>&1; rc=$?
check "repaired CSV: --dry-run exit 0 (rc $rc)" test "$rc" = 0
datasweep big "{kind: mnist, path: $T/idx, n_test: 50}"
sed -i 's/path: [^,]*,/path: '"${T//\//\\/}"'\/idx,/' big.yaml
write_ok() { /usr/bin/python3 -c "
import struct, random
n=100; open('idx/train-images-idx3-ubyte','wb').write(struct.pack('>IIII',0x803,n,4,4)+bytes(16*n))"; }
write_ok
run_n 1 --dry-run big.yaml >big.log 2>&1; rc=$?
check "n_test 50 with 40 test samples: --dry-run exit 1 (rc $rc)" test "$rc" = 1
check "n_test too large: names file, line, key and the limit" grep -q "big.yaml:3: key 'data.n_test': expected at most 40" big.log

echo "test_failures: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
