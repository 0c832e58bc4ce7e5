# tests/slurm.sh — a private SLURM cluster for the script tests (tests/test_slurm*.sh).
# Source it after tests/helpers.sh, once the test has defined ok/no/check:
#
# slurm_require NAME         munged, slurmctld, slurmd, sbatch and scontrol are installed;
#                            else a FAIL line, NAME's summary line and exit 1
# slurm_begin PREFIX         T = a new temp dir /tmp/PREFIX.XXXXXX (state, log, munge, work
#                            in it), CB = a private copy of $CBOUND (default build/cbound)
#                            there, and a trap that stops the daemons and removes T at exit
#                            (a test adds its own clean-up by defining slurm_cleanup)
# slurm_munge                munged on a socket of its own, $T/munge/sock
# slurm_conf CLUSTER HOST SUFFIX
#                            $T/slurm.conf: the settings every test uses (own ports, that
#                            munge socket, state, pid and log files under T), slurmctld on
#                            HOST, per-slurmd files named with SUFFIX ("" for one node,
#                            "-%n" for several), then the node and partition lines read from
#                            stdin; exports SLURM_CONF
# slurm_one_node             slurm_munge + slurm_conf for node "localhost" (2 CPUs), starts
#                            slurmctld and slurmd, waits until the node is idle and checks it
# job_state ID               "STATE RESTARTS" of job ID
# wait_for ID TIMEOUT STATES...
#                            poll until job ID is in one of STATES; else print its state

slurm_require() {
    local d
    for d in munged slurmctld slurmd sbatch scontrol; do
        if ! command -v "$d" >/dev/null; then
            no "$d is not installed (apt-get install slurm-wlm munge)"
            echo "$1: $pass passed, $fail failed"
            exit 1
        fi
    done
}

slurm_stop() {
    local f pid
    for f in "$T"/slurmd*.pid "$T/slurmctld.pid" "$T/munge/pid"; do
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    declare -F slurm_cleanup >/dev/null && slurm_cleanup
    rm -rf "$T"
}

slurm_begin() {
    T=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$T"
    mkdir -p "$T/state" "$T/log" "$T/munge" "$T/work"
    chown munge:munge "$T/munge"
    trap slurm_stop EXIT
    CB=$T/cbound
    private_copy "$(realpath "${CBOUND:-build/cbound}")" "$CB"
}

slurm_munge() {
    runuser -u munge -- munged --socket="$T/munge/sock" --pid-file="$T/munge/pid" --log-file="$T/munge/log" \
        --seed-file="$T/munge/seed"
}

slurm_conf() {
    local port=$((20000 + $$ % 20000))
    {
        cat <<EOF
ClusterName=$1
SlurmctldHost=$2
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
SlurmdSpoolDir=$T/spool$3
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd$3.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd$3.log
EOF
        cat
    } >"$T/slurm.conf"
    export SLURM_CONF=$T/slurm.conf
}

slurm_one_node() {
    mkdir -p "$T/spool"
    slurm_munge
    slurm_conf cbtest localhost "" <<EOF
NodeName=localhost CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=20000
PartitionName=debug Nodes=localhost Default=YES State=UP MaxTime=INFINITE
EOF
    local t0=$SECONDS
    slurmctld -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF" -N localhost
    wait_until 120 "the SLURM node idle" slurm_node_idle
    check "single-node SLURM up (node idle after $((SECONDS - t0)) s)" slurm_node_idle
    slurm_node_idle || tail -n 5 "$T"/log/*.log
}

slurm_node_idle() { [ "$(timeout 10 sinfo -h -o %t 2>/dev/null)" = idle ]; }

job_state() {
    scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | awk -F= '$1=="JobState"{s=$2} $1=="Restarts"{r=$2} END{print s, r}'
}

wait_for() {
    local id=$1 timeout=$2 s want
    shift 2
    for _ in $(seq 1 $((timeout * 4))); do
        s=$(job_state "$id")
        for want in "$@"; do [ "${s%% *}" = "$want" ] && return 0; done
        sleep 0.25
    done
    echo "job $id: still '$s' after ${timeout}s" >&2
    return 1
}
