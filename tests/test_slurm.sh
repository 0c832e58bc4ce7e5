#!/usr/bin/env bash
# test_slurm — the sbatch scripts on a real single-node SLURM (Debian slurm-wlm + munge).
#   munged, slurmctld and slurmd run from a temp dir (own ports, own munge socket) and are
#   stopped by PID at the end, also on failure. Then:
#   1. jobs/cbound.sbatch refuses to run outside an allocation;
#   2. a tiny sweep through `sbatch jobs/cbound.sbatch` completes and its results equal a
#      local mpirun run of the same sweep;
#   3. jobs/cbound-multinode.sbatch (srun --mpi=pmix) runs a longer sweep uninterrupted;
#   4. the same sweep under --time=1 --signal=B:USR1@55: SLURM signals it ahead of the time
#      limit, the script stops the sweep and requeues the job, the requeued job (given
#      time; SLURM would otherwise hold it 2 minutes) resumes — tables identical to 3.
# Prints "test_slurm: N passed, N failed". About a minute.
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)
CB0=$(realpath "${CBOUND:-build/cbound}")
CMP="/usr/bin/python3 $REPO/scripts/results_compare.py"
pass=0; fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
no() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then ok "$name"; else no "$name"; fi; }
for d in munged slurmctld slurmd sbatch scontrol; do
    if ! command -v "$d" >/dev/null; then
        no "$d is not installed (apt-get install slurm-wlm munge)"
        echo "test_slurm: $pass passed, $fail failed"
        exit 1
    fi
done

T=$(mktemp -d /tmp/cbound-slurm.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/state" "$T/spool" "$T/log" "$T/munge" "$T/work"
chown munge:munge "$T/munge"
CB=$T/cbound
for try in 1 2 3 4 5 6 7 8 9 10; do
    cp "$CB0" "$CB" 2>/dev/null && "$CB" --version >/dev/null 2>&1 && break
    sleep 3
done

stop_daemons() {
    local f pid
    for f in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munge/pid"; do
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$T"
}
trap stop_daemons EXIT

port=$((20000 + $$ % 20000))
runuser -u munge -- munged --socket="$T/munge/sock" --pid-file="$T/munge/pid" --log-file="$T/munge/log" \
    --seed-file="$T/munge/seed"
cat >"$T/slurm.conf" <<EOF
ClusterName=cbtest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
KillWait=5
MinJobAge=600
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
NodeName=localhost CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=20000
PartitionName=debug Nodes=localhost Default=YES State=UP MaxTime=INFINITE
EOF
export SLURM_CONF=$T/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 1 100); do [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break; sleep 0.2; done
check "single-node SLURM up (node idle)" test "$(sinfo -h -o %t)" = idle

# job_state ID -> "STATE RESTARTS"
job_state() {
    scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | awk -F= '$1=="JobState"{s=$2} $1=="Restarts"{r=$2} END{print s, r}'
}
# wait_for ID TIMEOUT STATES... : poll until the job is in one of STATES
wait_for() {
    local id=$1 timeout=$2 s
    shift 2
    for _ in $(seq 1 $((timeout * 4))); do
        s=$(job_state "$id")
        for want in "$@"; do [ "${s%% *}" = "$want" ] && return 0; done
        sleep 0.25
    done
    echo "job $id: still '$s' after ${timeout}s" >&2
    return 1
}

cd "$T/work"
export CBOUND=$CB OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
sweep() { # NAME TASKS_PER_STAGE SPIN_MS
    sed -e "s#^name: .*#name: $1#" -e "s#^output: .*#output: $T/work/$1.h5#" -e "s#range: \[0, 6\]#range: [0, $2]#" \
        -e "s#spin_ms: 20#spin_ms: $3#" "$REPO/jobs/sweeps/test-tiny.yaml" >"$1.yaml"
}

# 1. outside an allocation
env -u SLURM_JOB_ID bash "$REPO/jobs/cbound.sbatch" x.yaml >outside.log 2>&1; rc=$?
check "cbound.sbatch outside an allocation: refuses (exit 2)" test "$rc" = 2
check "cbound.sbatch outside an allocation: says why" grep -q "not inside a SLURM allocation" outside.log

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

# 3. the multinode script (srun --mpi=pmix), uninterrupted: the reference for 4
sweep long 10 600
sed -e "s#^output: .*#output: $T/work/longref.h5#" long.yaml >longref.yaml
id=$(sbatch --parsable --nodes=1 --ntasks-per-node=2 -D "$T/work" -o longref.out \
    "$REPO/jobs/cbound-multinode.sbatch" longref.yaml)
wait_for "$id" 90 COMPLETED FAILED TIMEOUT CANCELLED
check "sbatch jobs/cbound-multinode.sbatch (srun --mpi=pmix): COMPLETED ($(job_state "$id"))" \
    test "$(job_state "$id")" = "COMPLETED 0"
check "srun job ran 2 ranks" grep -q "2 ranks" longref.out

# 4. the time limit: USR1 55 s before a 1-minute limit, stop, requeue, resume
id=$(sbatch --parsable --time=1 --signal=B:USR1@55 -D "$T/work" -o long.out "$REPO/jobs/cbound.sbatch" long.yaml \
    --grace 5)
requeued=0
for _ in $(seq 1 240); do
    read -r state restarts < <(job_state "$id")
    [ "${restarts:-0}" -ge 1 ] && [ "$state" = PENDING ] && { requeued=1; break; }
    case "$state" in COMPLETED | FAILED | TIMEOUT | CANCELLED) break ;; esac
    sleep 0.25
done
check "time limit near: the job stopped and requeued itself (state $state, restarts ${restarts:-0})" test "$requeued" = 1
check "stopped run: says how to resume" grep -q "cbound run --resume long.yaml" long.out
read -r done_first _ < <($CMP --count long.h5)
check "stopped run: partial results file ($done_first of 40 tasks)" test "${done_first:-0}" -gt 0 -a "${done_first:-40}" -lt 40
# Let the stopped instance finish completing (node idle again) before starting the requeued one.
# slurmd refuses to launch a job id it killed moments ago ("Job N already killed, do not
# launch batch job" -> FAILED): Slurm itself delays a requeued job's start; this test
# pulls the start forward, so it first gives slurmd that moment too.
for _ in $(seq 1 80); do [ "$(sinfo -h -o %t)" = idle ] && break; sleep 0.25; done
sleep 6
scontrol update JobId="$id" TimeLimit=5
scontrol update JobId="$id" StartTime=now
wait_for "$id" 90 COMPLETED FAILED TIMEOUT CANCELLED
check "requeued job resumed and COMPLETED ($(job_state "$id"))" test "$(job_state "$id")" = "COMPLETED 1"
[ "$(job_state "$id")" = "COMPLETED 1" ] || {
    echo "--- long.out"; tail -5 long.out
    echo "--- scontrol"; scontrol show job "$id" | grep -E "Reason|ExitCode|StdOut"
    echo "--- slurmd.log"; tail -15 "$T/log/slurmd.log"; }
check "requeued job resumed from the journal" grep -q "40 tasks ($done_first done before)" long.out
check "requeued + resumed tables equal the uninterrupted run" $CMP longref.h5 long.h5

echo "test_slurm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
