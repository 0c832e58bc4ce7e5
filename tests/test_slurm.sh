#!/usr/bin/env bash
# test_slurm — the sbatch scripts on a real single-node SLURM (Debian slurm-wlm + munge).
#   munged, slurmctld and slurmd run from a temp dir (own ports, own munge socket) and are
#   stopped by PID at the end, also on failure. Then:
#   1. jobs/cbound.sbatch refuses to run outside an allocation;
#   2. a tiny sweep through `sbatch jobs/cbound.sbatch` completes and its results equal a
#      local mpirun run of the same sweep;
#   3. the reference for 4., uninterrupted, outside SLURM (in the background during 4.): a
#      training stage longer than the time limit of 4., then short tasks;
#   4. the same sweep with a 1-minute limit and --signal=B:USR1@55: SLURM signals it while
#      the model trains, the script stops the sweep (the stage checkpoints) and requeues the
#      job, the requeued job (given time; SLURM would otherwise hold it 2 minutes) continues
#      the training from the checkpoint — the same model (content hash) and tables as 3.
# (jobs/cbound-multinode.sbatch runs in test_slurm_2node.sh.)
# Prints "test_slurm: N passed, N failed". About two and a half minutes.
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)
. tests/helpers.sh
CMP="/usr/bin/python3 $REPO/scripts/results_compare.py"
. tests/slurm.sh
slurm_require test_slurm
slurm_begin cbound-slurm
slurm_one_node

cd "$T/work"
export CBOUND=$CB OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
sweep() { # NAME TASKS_PER_STAGE SPIN_MS
    sed -e "s#^name: .*#name: $1#" -e "s#^output: .*#output: $T/work/$1.h5#" -e "s#range: \[0, 6\]#range: [0, $2]#" \
        -e "s#spin_ms: 20#spin_ms: $3#" "$REPO/jobs/sweeps/test-tiny.yaml" >"$1.yaml"
}

echo "# part 1 (at ${SECONDS}s)"
# 1. outside an allocation
env -u SLURM_JOB_ID bash "$REPO/jobs/cbound.sbatch" x.yaml >outside.log 2>&1; rc=$?
check "cbound.sbatch outside an allocation: refuses (exit 2)" test "$rc" = 2
check "cbound.sbatch outside an allocation: says why" grep -q "not inside a SLURM allocation" outside.log
# the time-limit signal during the script's start-up (here: while `cbound --version` runs)
# must not end the job: no sweep is started, the job asks to be requeued. The stub's --version
# lasts until the test has sent the signal (at most 30 s), however late the test gets to it.
printf '#!/bin/sh\necho "$*" >>"%s/slow.calls"\n[ "$1" = --version ] && { touch "%s/slow.started"; i=0; while [ ! -e "%s/slow.sent" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; echo cbound slow; }\nexit 0\n' \
    "$T" "$T" "$T" >"$T/slowcb"
chmod +x "$T/slowcb"
SLURM_JOB_ID=999999 SLURM_SUBMIT_DIR=$T/work CBOUND=$T/slowcb bash "$REPO/jobs/cbound.sbatch" x.yaml >early.log 2>&1 &
pid=$!
wait_until 30 "the start-up of cbound.sbatch" test -e "$T/slow.started"
kill -USR1 "$pid"
touch "$T/slow.sent"
wait "$pid"; rc=$?
check "USR1 during the script's start-up: the job survives it and says so (exit $rc)" \
    grep -q "stopped before the sweep started" early.log
check "USR1 during the script's start-up: no sweep started, requeue asked" \
    test "$(cat "$T/slow.calls")" = --version -a -n "$(grep 'requeueing job 999999' early.log)"

echo "# part 2 (at ${SECONDS}s)"
# 2. a tiny sweep through sbatch, against a local run
sweep tiny 3 0
sweep tinyref 3 0
sed -i "s#^name: tinyref#name: tiny#" tinyref.yaml
mpirun -n 2 "$CB" run --quiet tinyref.yaml >tinyref.log 2>&1
id=$(sbatch --parsable -D "$T/work" -o tiny.out "$REPO/jobs/cbound.sbatch" tiny.yaml)
wait_for "$id" 60 COMPLETED FAILED TIMEOUT CANCELLED
check "sbatch jobs/cbound.sbatch tiny.yaml: COMPLETED ($(job_state "$id"))" test "$(job_state "$id")" = "COMPLETED 0"
check "job log starts with host, date and job id" grep -q "^cbound job $id (restart 0) on $(hostname) at 20" tiny.out
check "job log has the cbound version" grep -q "^cbound [0-9.]* (git" tiny.out
check "sbatch results equal a local mpirun run" $CMP tinyref.h5 tiny.h5

echo "# part 3 (at ${SECONDS}s)"
# 3. the reference for 4., uninterrupted: the same sweep under a plain `mpirun -n 1` outside
# SLURM, in the background while 4. runs (results do not depend on the rank count; the
# multinode template is tested across two nodes by test_slurm_2node.sh). One training stage
# of 30000 epochs (about 70 s here: longer than the 1-minute time limit of 4.), then 8 short
# tasks. The stage checkpoints every 400 epochs and on a stop.
cat >long.yaml <<YAML
name: long
seed: 20261122
output: $T/work/long.h5
data: {kind: gaussian, dim: 12, n_classes: 3, teacher_width: 16, n_train: 2000, n_test: 200, scale: none}
model: {depth: 3, widths: [64]}
train: {lr: 0.05, epochs: 30000, batch: 32}
seeds: [1]
methods:
  - name: noop
    grid: {i: {range: [0, 8]}, spin_ms: 200}
YAML
sed -e "s#^output: .*#output: $T/work/longref.h5#" long.yaml >longref.yaml
mpirun -n 1 "$CB" run --quiet --checkpoint-every 400 longref.yaml >longref.out 2>&1 &
ref=$!

echo "# part 4 (at ${SECONDS}s)"
# 4. the time limit, while the model trains: USR1 55 s before the limit, stop, requeue,
# continue. slurmctld sends the warning from a periodic check (every 30 s or so), so the
# moment is not ours: the job is submitted with 3 minutes, and once the training has
# written its first checkpoint the limit becomes 1 minute — the warning is then due and
# comes with slurmctld's next check, while the model still trains, before the limit.
id=$(sbatch --parsable --time=3 --signal=B:USR1@55 -D "$T/work" -o long.out "$REPO/jobs/cbound.sbatch" long.yaml \
    --grace 5 --checkpoint-every 400)
has_ckpt() { compgen -G "long/models/*.ckpt" >/dev/null; }
wait_until 120 "the first training checkpoint of job $id" has_ckpt
scontrol update JobId="$id" TimeLimit=1
requeued=0
for _ in $(seq 1 720); do # up to 180 s
    read -r state restarts < <(job_state "$id")
    [ "${restarts:-0}" -ge 1 ] && [ "$state" = PENDING ] && { requeued=1; break; }
    case "$state" in COMPLETED | FAILED | TIMEOUT | CANCELLED) break ;; esac
    sleep 0.25
done
check "time limit near: the job stopped and requeued itself (state $state, restarts ${restarts:-0})" test "$requeued" = 1
check "stopped run: says how to resume" grep -q "cbound run --resume long.yaml" long.out
check "stopped while training: the stage's checkpoint is on disk, no model yet" \
    sh -c "ls long/models/*.ckpt && ! ls long/models/*.h5"
read -r done_first _ < <($CMP --count long.h5 2>/dev/null || echo 0)
# Let the stopped instance finish completing before starting the requeued one: slurmd logs
# "[ID.batch] done with job", the node is idle again. slurmd also refuses to launch a job
# id it has just revoked ("Job N already killed, do not launch batch job" -> FAILED; the
# revocation is kept with a whole-second time stamp): Slurm itself delays a requeued job's
# start, this test pulls the start forward, so it waits until the clock is 3 s past the
# logged end of the stopped instance.
wait_until 120 "slurmd: [$id.batch] done with job" grep -qF "[$id.batch] done with job" "$T/log/slurmd.log"
node_idle() { [ "$(sinfo -h -o %t)" = idle ]; }
clock_past() { [ "$(date +%s)" -ge "$1" ]; }
wait_until 60 "the node idle again" node_idle
done_at=$(grep -F "[$id.batch] done with job" "$T/log/slurmd.log" | tail -1 | sed 's/^\[\([^].]*\).*/\1/')
done_s=$(date -d "$done_at" +%s 2>/dev/null || date +%s)
wait_until 60 "the clock 3 s past $done_at" clock_past $((done_s + 3))
scontrol update JobId="$id" TimeLimit=5
scontrol update JobId="$id" StartTime=now
wait_for "$id" 300 COMPLETED FAILED TIMEOUT CANCELLED
check "requeued job resumed and COMPLETED ($(job_state "$id"))" test "$(job_state "$id")" = "COMPLETED 1"
[ "$(job_state "$id")" = "COMPLETED 1" ] || {
    echo "--- long.out"; tail -5 long.out
    echo "--- scontrol"; scontrol show job "$id" | grep -E "Reason|ExitCode|StdOut"
    echo "--- slurmd.log"; tail -15 "$T/log/slurmd.log"; }
at=$(grep -o "continues from its checkpoint (epoch [0-9]* of 30000" long.out | grep -o "epoch [0-9]*")
check "requeued job continued the training from its checkpoint (${at:-not found})" test -n "$at"
check "requeued job resumed from the journal" grep -q "8 tasks (${done_first:-0} done before)" long.out
wait "$ref"; rc=$?
check "the uninterrupted reference run (mpirun -n 1) completed (exit $rc)" test "$rc" = 0
model_hash() { "$CB" info "$1"/models/*.h5 | awk '/^hash/ {print $2}'; }
check "the model trained across the requeue equals the uninterrupted one (content hash $(model_hash long))" \
    test "$(model_hash long)" = "$(model_hash longref)"
check "requeued + resumed tables equal the uninterrupted run" $CMP longref.h5 long.h5

echo "# done (at ${SECONDS}s)"
echo "test_slurm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
