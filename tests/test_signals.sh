#!/usr/bin/env bash
# Signals at every phase of `cbound run` under mpirun:
#   Ctrl-C      SIGINT to the process group of scripts/cbound-mpirun (what a terminal
#               does): running tasks finish, exit 3, .h5 written, no rank left
#   SIGTERM     to cbound-mpirun: the same
#   bare mpirun SIGTERM to mpirun itself: Open MPI ends the ranks ~2 s later (it cannot
#               forward SIGTERM); rank 0 has written the .h5 by then, no rank is left
#               when mpirun returns, and --resume completes the sweep
#   one rank    SIGTERM to a worker rank only: rank 0 learns it at once, stops, exit 3
#   early       a signal while the data files are read: exit 3, nothing written
# and the interrupted sweeps, resumed, equal an uninterrupted run. The launcher phases and the
# bare-mpirun phases interrupt two results files of the same sweep, so that neither pair depends
# on how many tasks the other left; each phase prints how many tasks were recorded when its
# signal was sent and when the run ended. A phase whose run got ahead of the test (the machine
# left this shell unscheduled while the ranks ran on) is repeated from the state it started from.
# Prints "test_signals: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/helpers.sh
CB0=$(realpath "${CBOUND:-build/cbound}")
CMP="/usr/bin/python3 $(realpath scripts/results_compare.py)"
WRAP=$(realpath scripts/cbound-mpirun)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1
T=$(mktemp -d /tmp/cbound-signals.XXXXXX)
CB=$T/cbound # a private copy: `pgrep -f $CB` finds exactly this test's ranks
cp "$CB0" "$CB"
trap 'pkill -KILL -f "^$CB " 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"
started() { for _ in $(seq 1 150); do [ -e "$1" ] && break; sleep 0.1; done; sleep "$2"; }
ranks_left() { pgrep -f "^$CB run" | wc -l; }
# records_grow N [H5]: wait until H5's journal (sig.h5's) holds more than N task records (this run is under way)
more_records() { [ "$(journal_records "$2.journal")" -gt "$1" ]; }
records_grow() { wait_until 120 "new records in ${2:-sig.h5}.journal" more_records "$1" "${2:-sig.h5}"; }
rank_pid() { # RANK: pid of that MPI rank of this test's run
    local p
    for p in $(pgrep -f "^$CB run"); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && { echo "$p"; return; }
    done
}
left() { echo "$(journal_records "$1.journal") of 40 recorded"; }
unfinished() { [ "$(journal_records "$1.journal")" -lt 40 ]; } # H5: its sweep was stopped before the end
rows() { /usr/bin/python3 -c "import h5py,sys; print(len(h5py.File(sys.argv[1])['tasks']))" "$1" 2>/dev/null || echo none; }

cat >sig.yaml <<EOF
name: sig
seed: 5
output: $T/sig.h5
data: {kind: gaussian, dim: 10, n_classes: 3, teacher_width: 12, n_train: 200, n_test: 100, scale: none}
model: {depth: 3, widths: [6]}
train: {lr: 0.05, epochs: 2, batch: 25}
seeds: [3]
methods:
  - name: noop
    grid:
      i: {range: [0, 40]}
      spin_ms: 700
EOF
sed "s#output: $T/sig.h5#output: $T/sig2.h5#" sig.yaml >sig2.yaml

# Each phase is a function that returns 0 when its premise held (until_premise in helpers.sh
# repeats it from the same state otherwise); the checks then read what it left.

# ------------------------------------------------------------------ Ctrl-C
# premise: stopped with at least 10 of the 40 tasks left (the next phase needs a running sweep)
phase_int() {
    restore sig.h5
    set -m # job control: the launcher gets its own process group, SIGINT not ignored (as from a terminal)
    "$WRAP" -n 2 "$CB" run --quiet --grace 30 sig.yaml >int.log 2>&1 &
    pid=$!
    set +m
    started sig.h5.journal 0
    records_grow 0
    echo "# SIGINT at $(left sig.h5)"
    kill -INT -- -"$pid" 2>/dev/null
    t0=$SECONDS; wait "$pid"; rc=$?; took=$((SECONDS - t0))
    echo "# stopped at $(left sig.h5)"
    [ "$(journal_records sig.h5.journal)" -le 30 ]
}
echo "# SIGINT to the launcher's process group (at ${SECONDS}s)"
snapshot sig.h5
until_premise 3 "SIGINT" phase_int
check "SIGINT: stopped before the sweep's end ($(left sig.h5))" unfinished sig.h5
check "SIGINT to the process group: exit 3 (rc $rc)" test "$rc" = 3
check "SIGINT: running tasks finished within the grace period ($took s)" test "$took" -lt 20
check "SIGINT: .h5 written ($(rows sig.h5) rows)" test -f sig.h5
check "SIGINT: says how to resume" grep -q "cbound run --resume sig.yaml" int.log
check "SIGINT: no rank left ($(ranks_left))" test "$(ranks_left)" = 0

# ------------------------------------------------------------------ SIGTERM to the launcher
# started with INT and TERM ignored and blocked, as nohup-style launchers and some CI
# systems do: the wrapper restores them (bash alone could not trap them)
phase_term() {
    restore sig.h5
    n0=$(journal_records sig.h5.journal)
    before=$(rows sig.h5) # read now: h5py's import can take seconds, and the signal must not wait for it
    perl -MPOSIX -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGINT, SIGTERM)); $SIG{INT} = $SIG{TERM} = "IGNORE";
        exec @ARGV or die' "$WRAP" -n 3 "$CB" run --quiet --resume --grace 30 sig.yaml >term.log 2>&1 &
    pid=$!
    records_grow "$n0"
    echo "# SIGTERM at $(left sig.h5)"
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"; rc=$?
    echo "# stopped at $(left sig.h5)"
    unfinished sig.h5
}
echo "# SIGTERM to cbound-mpirun started with SIGTERM ignored and blocked (at ${SECONDS}s; $(left sig.h5))"
snapshot sig.h5
until_premise 3 "SIGTERM to cbound-mpirun" phase_term
check "SIGTERM to cbound-mpirun: stopped before the sweep's end ($(left sig.h5))" unfinished sig.h5
check "SIGTERM to cbound-mpirun: exit 3 (rc $rc)" test "$rc" = 3
check "SIGTERM to cbound-mpirun: more rows than before ($before -> $(rows sig.h5))" test "$(rows sig.h5)" -gt "$before"
check "SIGTERM to cbound-mpirun: no rank left" test "$(ranks_left)" = 0

# ------------------------------------------------------------------ SIGTERM to bare mpirun
# (on sig2.h5; stdin from /dev/null, as mpirun forwards it to rank 0)
# premise: stopped with at least 10 of the 40 tasks left
phase_bare() {
    restore sig2.h5
    mpirun -n 2 "$CB" run --quiet --flush-every 3600 sig2.yaml </dev/null >bare.log 2>&1 &
    pid=$!
    records_grow 1 sig2.h5 # two tasks in the journal, and no .h5 yet (no flush for an hour)
    echo "# SIGTERM at $(left sig2.h5)"
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"; rc=$?
    echo "# ended at $(left sig2.h5) (rc $rc)"
    [ "$(journal_records sig2.h5.journal)" -le 30 ]
}
echo "# SIGTERM to mpirun itself (at ${SECONDS}s; $(left sig2.h5))"
snapshot sig2.h5
until_premise 3 "SIGTERM to mpirun" phase_bare
check "SIGTERM to mpirun: stopped before the sweep's end ($(left sig2.h5))" unfinished sig2.h5
check "SIGTERM to mpirun: non-zero exit (Open MPI ends the job: rc $rc)" test "$rc" -ne 0
check "SIGTERM to mpirun: rank 0 wrote the .h5 before the ranks were killed ($(rows sig2.h5) rows)" test "$(rows sig2.h5)" -gt 1
check "SIGTERM to mpirun: no rank left when mpirun returns ($(ranks_left))" test "$(ranks_left)" = 0

# ------------------------------------------------------------------ one worker rank
phase_rank() {
    restore sig2.h5
    n0=$(journal_records sig2.h5.journal)
    mpirun -n 2 "$CB" run --resume --progress 3600 sig2.yaml </dev/null >rank.log 2>&1 &
    pid=$!
    records_grow "$n0" sig2.h5 # the farm is running
    worker=$(rank_pid 1)
    echo "# SIGTERM to rank 1 (pid ${worker:-none found}) at $(left sig2.h5)"
    [ -n "$worker" ] && kill -TERM "$worker"
    wait "$pid"; rc=$?
    echo "# ended at $(left sig2.h5) (rc $rc)"
    unfinished sig2.h5
}
echo "# SIGTERM to one worker rank (at ${SECONDS}s; $(left sig2.h5))"
snapshot sig2.h5
until_premise 3 "SIGTERM to one worker rank" phase_rank
check "SIGTERM to rank 1 only: stopped before the sweep's end ($(left sig2.h5))" unfinished sig2.h5
check "SIGTERM to rank 1 only: exit 3 (rc $rc)" test "$rc" = 3
check "SIGTERM to rank 1 only: rank 0 heard of it" grep -q "rank 1 received a stop signal" rank.log
check "SIGTERM to rank 1 only: no rank left" test "$(ranks_left)" = 0

# ------------------------------------------------------------------ early: reading the data
echo "# a signal while the data files are read (at ${SECONDS}s)"
if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    printf 'name: early\noutput: %s/early.h5\ndata: {kind: fashion-mnist, n_train: 100, n_test: 100}\nmodel: {widths: [4]}\nmethods: [{name: noop}]\n' "$T" >early.yaml
    "$CB" run --quiet early.yaml >early.log 2>&1 &
    pid=$!
    # signal once the data file is open (rank 0 reads it whole before anything is written)
    for _ in $(seq 1 1000); do ls -l /proc/$pid/fd 2>/dev/null | grep -q fashion-mnist && break; sleep 0.005; done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"; rc=$?
    check "signal while reading the data: exit 3 (rc $rc)" test "$rc" = 3
    check "signal while reading the data: says so, nothing written" \
        test -n "$(grep 'stopped by a signal while reading the' early.log)" -a ! -e early.h5 -a ! -e early.h5.journal
else
    echo "# (no Fashion-MNIST: early-stop checks skipped)"
fi

# ------------------------------------------------------------------ resume = uninterrupted
echo "# resume both to the end (at ${SECONDS}s; sig.h5 $(left sig.h5), sig2.h5 $(left sig2.h5))"
for y in sig sig2; do
    mpirun -n 2 "$CB" run --quiet --resume $y.yaml </dev/null >end-$y.log 2>&1; rc=$?
    check "--resume of $y.h5 after its interruptions completes (rc $rc)" test "$rc" = 0
done
sed "s#output: $T/sig.h5#output: $T/ref.h5#; s/spin_ms: 700/spin_ms: 1/" sig.yaml >ref.yaml # spin_ms is a parameter: the keys change, so compare
mpirun -n 2 "$CB" run --quiet ref.yaml </dev/null >ref.log 2>&1
for y in sig sig2; do
    /usr/bin/python3 - "$T/$y.h5" "$T/ref.h5" >cmp-$y.txt 2>&1 <<'PY'
import h5py, sys
a, b = (h5py.File(p)["tasks"][:] for p in sys.argv[1:])
assert len(a) == len(b) == 40, (len(a), len(b))
for col in ("status", "test_acc", "orig_test_acc", "sparsity"):
    assert (a[col] == b[col]).all(), col
print("ok")
PY
    check "$y.h5, interrupted then resumed: same rows and values as an uninterrupted run" grep -qx ok cmp-$y.txt
done

echo "test_signals: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
