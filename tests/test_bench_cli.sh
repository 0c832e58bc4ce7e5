#!/usr/bin/env bash
# `cbound bench-train` (the training section of `make bench`) on a tiny network: the
# key=value line scripts/bench.sh parses, the data file scripts/bench_train.py reads
# (and that script itself, on that file), and the usage errors; every command's exit
# status is checked.
# Prints "bench_cli: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CBOUND=${CBOUND:-build/cbound}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
T=$(mktemp -d /tmp/cbound-test-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
passed=0; failed=0
. tests/helpers.sh
private_copy "$CBOUND" "$T/cbound" # private copy: other builds may relink build/cbound meanwhile
CBOUND=$T/cbound
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
get() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"; }

"$CBOUND" bench-train --widths 30,17,5 --samples 300 --batch 64 --epochs 2 --act tanh \
    --data-out "$T/d.bin" --no-gemm >"$T/out" 2>"$T/err"; rc=$?
check "bench-train runs (exit $rc)" test "$rc" -eq 0
check "prints the key=value line" grep -q '^bench-train widths=30,17,5 batch=64 samples=300 epochs=2 params=617 ' "$T/out"
rate=$(get "$T/out" samples_per_s); ratio=$(get "$T/out" mem_ratio)
check "samples_per_s > 0 ($rate), mem_ratio present ($ratio)" awk -v r="$rate" -v m="$ratio" 'BEGIN { exit !(r > 0 && m ~ /^-?[0-9.]+$/) }'
check "data file = x (300 x 30 float32) + y (300 int32)" test "$(stat -c %s "$T/d.bin")" -eq $((300 * 30 * 4 + 300 * 4))
/usr/bin/python3 scripts/bench_train.py --data "$T/d.bin" --widths 30,17,5 --batch 64 --epochs 1 >"$T/tout" 2>&1; rc=$?
check "bench_train.py reads it (exit $rc)" test "$rc" -eq 0
check "bench_train.py prints its key=value line" grep -q '^bench-train-torch widths=30,17,5 batch=64 samples=300 epochs=1 params=617 ' "$T/tout"
/usr/bin/python3 scripts/bench_train.py --data "$T/d.bin" --widths 31,17,5 >"$T/tout2" 2>&1; rc=$?
check "bench_train.py refuses a size mismatch (exit $rc, want 1)" bash -c "[ $rc -eq 1 ] && grep -q 'does not match the widths' '$T/tout2'"
/usr/bin/python3 scripts/bench_train.py --data /dev/null >"$T/tout3" 2>&1; rc=$?
check "bench_train.py refuses an empty file (exit $rc, want 1)" bash -c "[ $rc -eq 1 ] && grep -q '0 bytes is not' '$T/tout3'"

"$CBOUND" bench-train --help >"$T/h" 2>&1; rc=$?
check "--help (exit $rc)" bash -c "[ $rc -eq 0 ] && grep -q 'usage: cbound bench-train' '$T/h'"
"$CBOUND" bench-train --frobnicate 3 >"$T/e1" 2>&1; rc=$?
check "unknown option: exit 2 ($rc)" bash -c "[ $rc -eq 2 ] && grep -q \"unknown option '--frobnicate'\" '$T/e1'"
"$CBOUND" bench-train --widths 784 >"$T/e2" 2>&1; rc=$?
check "one width: exit 2 ($rc)" bash -c "[ $rc -eq 2 ] && grep -q 'needs 2 to 33' '$T/e2'"
"$CBOUND" bench-train --widths 784,x,10 >"$T/e3" 2>&1; rc=$?
check "non-numeric width: exit 2 ($rc)" bash -c "[ $rc -eq 2 ] && grep -q 'expects an integer' '$T/e3'"
"$CBOUND" bench-train --act sigmoid >"$T/e4" 2>&1; rc=$?
check "bad activation: exit 2 ($rc)" bash -c "[ $rc -eq 2 ] && grep -q \"found 'sigmoid'\" '$T/e4'"
"$CBOUND" bench-train --batch >"$T/e5" 2>&1; rc=$?
check "missing value: exit 2 ($rc)" bash -c "[ $rc -eq 2 ] && grep -q 'needs a value' '$T/e5'"
"$CBOUND" bench-train --widths 30,5 --samples 10 --epochs 1 --no-gemm --data-out /nonexistent/dir/d.bin >"$T/e6" 2>&1; rc=$?
check "unwritable --data-out: exit 1 ($rc)" bash -c "[ $rc -eq 1 ] && grep -q 'cannot write /nonexistent/dir/d.bin' '$T/e6'"
echo "bench_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
