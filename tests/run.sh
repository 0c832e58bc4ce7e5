#!/usr/bin/env bash
# Runs every test binary in $BUILD (default build)/tests, MPI ones at each rank count their source
# names ("/* cbound-test: ranks 1 2 4 */"), and script tests tests/test_*.sh.
# Prints each test's summary and a final "TOTAL: N passed, N failed" line; exit
# status is non-zero iff any check failed or any test crashed (a non-zero exit
# without failed checks, or no "N passed, N failed" summary line at all).
set -u
# The tests send INT, TERM and USR1 as a terminal or a batch system would: run them with
# those signals at their defaults even if whatever started `make check` ignored or blocked
# them (bare mpirun, which the signal tests also use, cannot undo that itself).
if [ -z "${CBOUND_TEST_SIGNALS:-}" ]; then
    export CBOUND_TEST_SIGNALS=1
    exec perl -MPOSIX -e 'sigprocmask(SIG_UNBLOCK, POSIX::SigSet->new(SIGINT, SIGTERM, SIGUSR1));
        $SIG{$_} = "DEFAULT" for qw(INT TERM USR1); exec @ARGV or die "$ARGV[0]: $!\n"' "$BASH" "$0" "$@"
fi
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
# One thread for PyTorch too (the interop, model-file and report tests call it): its OpenMP threads
# spin-wait, and with the ranks of a concurrent test or job on the same cores a test that takes 1
# minute took 8 (measured on the 2-core machine under load).
export OMP_NUM_THREADS=1
# SAN=1 builds: MPI, HDF5 and GSL keep allocations alive until exit, which
# LeakSanitizer reports (and then exits before stdout is flushed). Leak checking
# is off; address and UB errors still abort the test.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
filter="${1:-}"
passed=0; failed=0; crashed=()
log=${BUILD:-build}/tests/log; mkdir -p "$log"

tally() { # name logfile rc seconds
    local p f
    p=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$2" | awk '{s+=$1} END {print s+0}')
    f=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$2" | awk '{s+=$3} END {print s+0}')
    passed=$((passed + p)); failed=$((failed + f))
    grep -E '^FAIL' "$2" | head -20
    # a failing test's own progress notes ("# ...": phases, timings, counts) say where it went wrong
    [ "$f" -gt 0 ] && grep -E '^# ' "$2" | head -30
    grep -E 'passed, [0-9]+ failed' "$2" | sed "\$s/\$/  ($4 s)/"
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then crashed+=("$1"); echo "CRASH $1 (exit $3), see $2"; tail -5 "$2";
    elif ! grep -Eq '[0-9]+ passed, [0-9]+ failed' "$2"; then
        # A test that ends without its summary line stopped early: count it as a crash.
        crashed+=("$1"); echo "CRASH $1 (no summary line, exit $3), see $2"; tail -5 "$2"; fi
}

for src in tests/test_*.c; do
    name=$(basename "$src" .c)
    [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
    ranks=$(sed -n 's/.*cbound-test: ranks \([0-9 ]*\).*/\1/p' "$src" | head -1)
    for n in ${ranks:-0}; do
        out="$log/$name.n$n.log"; t0=$SECONDS
        if [ "$n" = 0 ]; then
            timeout 600 "${BUILD:-build}/tests/$name" >"$out" 2>&1; rc=$?
        else
            timeout 600 mpirun -n "$n" "${BUILD:-build}/tests/$name" >"$out" 2>&1; rc=$?
        fi
        tally "$name${ranks:+ -n $n}" "$out" "$rc" $((SECONDS - t0))
    done
done
for src in tests/test_*.sh; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .sh)
    [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
    out="$log/$name.log"; t0=$SECONDS
    timeout 900 bash "$src" >"$out" 2>&1; rc=$?
    tally "$name" "$out" "$rc" $((SECONDS - t0))
done
echo "TOTAL: $passed passed, $failed failed${crashed[*]:+, crashed: ${crashed[*]}} ($SECONDS s)"
[ "$failed" -eq 0 ] && [ ${#crashed[@]} -eq 0 ]
