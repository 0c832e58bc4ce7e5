#!/usr/bin/env bash
# Tests for `cbound bench-norms` (src/cmd/norms_cli.c): the certified norm equals LAPACK's on the
# benchmark matrices (float32 stream, double, double kernel), the matrix file it writes is
# the one it measured (numpy recomputes the norm from it), and every usage error exits 2.
# Prints "norms_cli: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CB=${CBOUND:-build/cbound}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
pass=0; fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

for kind in gaussian spiked; do
    line=$("$CB" bench-norms --n 300 --kind "$kind" --repeat 1 --lapack --data-out "$tmp/A.f64")
    rc=$?
    v=$(get "$line" value); r=$(get "$line" dgesdd_value); e=$(get "$line" err)
    if [ $rc -eq 0 ] && awk -v v="$v" -v r="$r" 'BEGIN { d = v - r; if (d < 0) d = -d; exit !(d <= 1e-8 * r && v <= r * (1 + 1e-13)) }'; then
        ok "$kind: Lanczos $v vs dgesdd $r (certified err $e)"
    else bad "$kind: exit $rc, line: $line"; fi
    p=$(/usr/bin/python3 -c "
import numpy as np, sys
a = np.fromfile('$tmp/A.f64', dtype='<f8').reshape(300, 300)
print(repr(float(np.linalg.norm(a, 2))))")
    if awk -v v="$v" -v p="$p" 'BEGIN { d = v - p; if (d < 0) d = -d; exit !(d <= 1e-8 * p) }'; then
        ok "$kind: numpy norm(A, 2) of the written matrix = $p"
    else bad "$kind: numpy $p vs cbound $v"; fi
done

# the float32 stream is the default; --dtype double and --double-kernel stream float64
for args in "" "--dtype double" "--double-kernel"; do
    line=$("$CB" bench-norms --n 257 --kind spiked --repeat 1 --lapack $args)
    rc=$?
    v=$(get "$line" value); r=$(get "$line" dgesdd_value); k=$(get "$line" kernel)
    want=float64; [ -z "$args" ] && want=float32
    if [ $rc -eq 0 ] && [ "${k%%-*}" = "$want" ] && awk -v v="$v" -v r="$r" 'BEGIN { d = v - r; if (d < 0) d = -d; exit !(d <= 1e-8 * r) }'; then
        ok "bench-norms ${args:-(default)}: kernel $k, $v vs dgesdd $r"
    else bad "bench-norms ${args:-(default)}: exit $rc, line: $line"; fi
done

usage() { # name args...: must exit 2 with a message on stderr
    local name=$1; shift
    "$CB" bench-norms "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ $rc -eq 2 ] && [ -s "$tmp/err" ]; then ok "usage error: $name"; else bad "usage error: $name (exit $rc)"; fi
}
usage "unknown kind" --kind uniform
usage "unknown option" --size 10
usage "unknown dtype" --dtype half
usage "missing value" --n
"$CB" bench-norms --n 10 >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -ne 0 ] && grep -q "65" "$tmp/err"; then ok "n below 65 rejected"; else bad "n 10 accepted (exit $rc)"; fi
"$CB" bench-norms --n 100 --repeat 1 --data-out /nonexistent/dir/A.f64 >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "cannot write" "$tmp/err"; then ok "unwritable --data-out: exit 1"; else bad "unwritable --data-out (exit $rc)"; fi
usage "repeat 0" --repeat 0
usage "rtol not a number" --rtol tight
"$CB" bench-norms --help >"$tmp/out"; rc=$?
if [ $rc -eq 0 ] && grep -q "usage: cbound bench-norms" "$tmp/out"; then ok "help"; else bad "help (exit $rc)"; fi
echo "norms_cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
