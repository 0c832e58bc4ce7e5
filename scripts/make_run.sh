#!/usr/bin/env bash
# `make run`: the demo sweep (jobs/sweeps/demo.yaml, Fashion-MNIST) on NP ranks.
# Usage: scripts/make_run.sh BUILD/cbound NP
# Resumes from the journal when one exists, so running `make run` again finishes an
# interrupted run or, when it is complete, only rewrites the file and the summary.
set -euo pipefail
cbound=${1:?usage: scripts/make_run.sh BUILD/cbound NP}
np=${2:-2}
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
sweep=jobs/sweeps/demo.yaml
out=results/demo.h5

echo "cbound: demo sweep $sweep on $np MPI rank(s) -> $out"
"$cbound" --version | head -1
rc=0
mpirun -n "$np" --oversubscribe "$cbound" run --resume --progress 10 "$sweep" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "cbound: the demo sweep stopped (exit $rc); run \`make run\` again to resume it" >&2
    exit "$rc"
fi

echo
echo "Load the tables in Python:"
echo "  import h5py, pandas; f = h5py.File('$out'); tasks = pandas.DataFrame(f['tasks'][:])"

# The analysis step: the papers' figures and tables for the demo, next to the results file.
echo
"$cbound" report "$out"
