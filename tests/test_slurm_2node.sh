#!/usr/bin/env bash
# test_slurm_2node — jobs/cbound-multinode.sbatch across two SLURM nodes on this machine.
#   Each "node" is a network namespace with its own hostname (unshare --uts), joined to a
#   bridge on a private subnet this test creates (10.213.77.0/24) and removes at the end;
#   slurmctld (hostname cbctl) sits on the bridge, one slurmd per namespace; the file
#   system is shared (nsenter --net, not `ip netns exec`, which remounts /sys and hides
#   the cgroup file system slurmd looks for). A sweep through `sbatch --nodes=2` runs one rank on each node
#   (srun --mpi=pmix, Open MPI's TCP transport between the namespaces): the results name
#   both hosts and equal a local run's tables. Needs root (namespaces); skipped otherwise.
# Prints "test_slurm_2node: N passed, N failed". About half a minute.
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)
. tests/helpers.sh
CMP="/usr/bin/python3 $REPO/scripts/results_compare.py"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v slurmd >/dev/null; then
    echo "# needs root, iproute2 and slurm-wlm: skipped"
    echo "test_slurm_2node: 0 passed, 0 failed"
    exit 0
fi

. tests/slurm.sh
slurm_begin cbound-2node
mkdir -p "$T/spool-cbnode1" "$T/spool-cbnode2"
tag=$(( $$ % 10000 ))                     # names of this test's links and namespaces
BR=cbbr$tag NS1=cbns1-$tag NS2=cbns2-$tag
NET=10.213.77

slurm_cleanup() { # after the daemons: the namespaces and the bridge
    ip netns del "$NS1" 2>/dev/null; ip netns del "$NS2" 2>/dev/null
    ip link del "$BR" 2>/dev/null
}

# the network: a bridge with the controller's address, a veth into each node's namespace
ip link add "$BR" type bridge && ip addr add $NET.1/24 dev "$BR" && ip link set "$BR" up
for n in 1 2; do
    ns=$([ $n = 1 ] && echo "$NS1" || echo "$NS2")
    ip netns add "$ns"
    ip link add "cbv$n-$tag" type veth peer name eth0 netns "$ns"
    ip link set "cbv$n-$tag" master "$BR" up
    ip -n "$ns" addr add $NET.1$n/24 dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
done
# reachable: a refused connection still crossed the bridge
reach() { ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/9" 2>&1 | grep -q refused; }
check "two network namespaces on a private bridge ($NET.0/24): node 2 reaches node 1" reach "$NS2" $NET.11

slurm_munge
slurm_conf cb2node "cbctl($NET.1)" -%n <<EOF
NodeName=cbnode1 NodeAddr=$NET.11 CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=4000
NodeName=cbnode2 NodeAddr=$NET.12 CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=4000
PartitionName=two Nodes=cbnode1,cbnode2 Default=YES State=UP MaxTime=INFINITE
EOF
# Both nodes share /tmp, where the PMIx plugin makes spmix_appdir_<uid>_<job>.<step>: each
# node gets its own config directory (the same slurm.conf) with an mpi.conf naming its own
# directory for that.
for n in cbnode1 cbnode2; do
    mkdir -p "$T/conf-$n" "$T/tmp-$n"
    cp "$T/slurm.conf" "$T/conf-$n/slurm.conf"
    echo "PMIxCliTmpDirBase=$T/tmp-$n" >"$T/conf-$n/mpi.conf"
done
unshare --uts sh -c "hostname cbctl && exec slurmctld -f $SLURM_CONF"
nsenter --net=/run/netns/"$NS1" unshare --uts sh -c "hostname cbnode1 && exec slurmd -f $T/conf-cbnode1/slurm.conf -N cbnode1"
nsenter --net=/run/netns/"$NS2" unshare --uts sh -c "hostname cbnode2 && exec slurmd -f $T/conf-cbnode2/slurm.conf -N cbnode2"
for _ in $(seq 1 100); do [ "$(sinfo -h -o %t | sort -u | tr '\n' ' ')" = "idle " ] && break; sleep 0.2; done
check "two slurmd nodes idle ($(sinfo -h -N -o '%N:%t' | tr '\n' ' '))" test "$(sinfo -h -N -o %t | grep -c idle)" = 2
[ "$fail" = 0 ] || tail -n 8 "$T"/log/*.log

cd "$T/work"
export CBOUND=$CB OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI between the namespaces: TCP on the test's subnet only
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=$NET.0/24 OMPI_MCA_oob_tcp_if_include=$NET.0/24
for name in two ref; do
    sed -e "s#^name: .*#name: two#" -e "s#^output: .*#output: $T/work/$name.h5#" -e "s#range: \[0, 6\]#range: [0, 5]#" \
        "$REPO/jobs/sweeps/test-tiny.yaml" >"$name.yaml"
done
env -u OMPI_MCA_btl -u OMPI_MCA_btl_tcp_if_include -u OMPI_MCA_oob_tcp_if_include \
    mpirun -n 2 --oversubscribe "$CB" run --quiet ref.yaml >ref.log 2>&1
id=$(sbatch --parsable --nodes=2 --ntasks-per-node=1 -D "$T/work" -o two.out "$REPO/jobs/cbound-multinode.sbatch" two.yaml)
wait_for "$id" 120 COMPLETED FAILED TIMEOUT CANCELLED
check "sbatch --nodes=2 jobs/cbound-multinode.sbatch: COMPLETED ($(job_state "$id"))" test "$(job_state "$id")" = "COMPLETED 0"
hosts=$(/usr/bin/python3 -c "import h5py; a = h5py.File('two.h5').attrs['hosts']; print(a.decode() if isinstance(a, bytes) else a)" 2>/dev/null)
check "the results name both nodes as hosts ($hosts)" test "$hosts" = "cbnode1,cbnode2"
workers=$(/usr/bin/python3 -c "import h5py; print(sorted(set(h5py.File('two.h5')['tasks']['worker'])))" 2>/dev/null)
check "both ranks ran tasks (workers $workers)" test "$workers" = "[0, 1]"
check "two-node results equal a local run" $CMP two.h5 ref.h5
[ "$fail" = 0 ] || { echo "--- two.out"; tail -n 20 two.out; tail -n 8 "$T"/log/*.log; }

echo "test_slurm_2node: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
