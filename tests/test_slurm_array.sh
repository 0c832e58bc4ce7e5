#!/usr/bin/env bash
# test_slurm_array — jobs/cbound-array.sbatch (shards as a job array, then the merge job) on a real single-node SLURM (Debian slurm-wlm + munge).
#   A 3-element array (sbatch --array=0-2) runs the shards of a sweep, a dependent
#   `--merge` job joins them: the merged file's tables equal a local mpirun run's.
# Prints "test_slurm_array: N passed, N failed". About half a minute.
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)
. tests/helpers.sh
CMP="/usr/bin/python3 $REPO/scripts/results_compare.py"
. tests/slurm.sh
slurm_require test_slurm_array
slurm_begin cbound-slurm
slurm_one_node

cd "$T/work"
export CBOUND=$CB OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
sweep() { # NAME TASKS_PER_STAGE SPIN_MS
    sed -e "s#^name: .*#name: $1#" -e "s#^output: .*#output: $T/work/$1.h5#" -e "s#range: \[0, 6\]#range: [0, $2]#" \
        -e "s#spin_ms: 20#spin_ms: $3#" "$REPO/jobs/sweeps/test-tiny.yaml" >"$1.yaml"
}
sweep sh 4 0
sweep shref 4 0
sed -i "s#^name: shref#name: sh#" shref.yaml
mpirun -n 2 "$CB" run --quiet shref.yaml >shref.log 2>&1
env -u SLURM_JOB_ID bash "$REPO/jobs/cbound-array.sbatch" sh.yaml >outside.log 2>&1; rc=$?
check "cbound-array.sbatch outside an allocation: refuses (exit 2)" test "$rc" = 2
aid=$(sbatch --parsable --array=0-2 --ntasks=1 -D "$T/work" -o "sh-%a.out" "$REPO/jobs/cbound-array.sbatch" sh.yaml)
mid=$(sbatch --parsable --ntasks=1 --dependency=afterok:"$aid" -D "$T/work" -o merge.out \
    "$REPO/jobs/cbound-array.sbatch" --merge sh.yaml)
wait_for "$mid" 180 COMPLETED FAILED TIMEOUT CANCELLED
for i in 0 1 2; do
    check "array element $i: COMPLETED ($(job_state "${aid}_$i"))" test "$(job_state "${aid}_$i")" = "COMPLETED 0"
    check "array element $i: its shard file" test -f "sh.shard-$i-of-3.h5"
done
check "merge job after the array: COMPLETED ($(job_state "$mid"))" test "$(job_state "$mid")" = "COMPLETED 0"
check "merge job: merged 3 shards" grep -q "merging 3 shards of sh.yaml" merge.out
check "merged array results equal a local mpirun run" $CMP sh.h5 shref.h5
[ "$fail" = 0 ] || for f in sh-*.out merge.out; do echo "--- $f"; tail -5 "$f"; done

echo "test_slurm_array: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
