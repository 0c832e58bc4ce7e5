#!/usr/bin/env bash
# `cbound sketch`: a random layer is sketched and recovered by every solver; bad usage and
# missing files give exit status 2 / 1 with a message naming the problem. Every command's exit
# status is checked: a recovery that fails is a measurement (exit 0), not an error.
cd "$(dirname "$0")/.."
CB=${CBOUND:-${BUILD:-build}/cbound}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
pass=0 fail=0
err=$(mktemp)
ok() { if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "PASS $2"; else fail=$((fail + 1)); echo "FAIL $2"; fi; }
out=$("$CB" sketch --random 120x120 --density 0.01 --m 100 --delta-a 5 --delta-b 5 --solver ssmp+lp 2>&1); rc=$?
ok $([ $rc = 0 ] && echo "$out" | grep -q 'solver=ssmp+lp .*success=1' && echo 0 || echo 1) "ssmp+lp recovers a 120x120 1% layer at m = 100 (exit $rc)"
out=$("$CB" sketch --random 40x40 --density 0.03 --m 36 --delta-a 4 --delta-b 4 2>&1); rc=$?
n=$(echo "$out" | grep -c 'success=1')
ok $([ $rc = 0 ] && [ "$n" = 4 ] && echo "$out" | grep -q 'solver=ssmp .*success=0 .*unconverged=[1-9]' && echo 0 || echo 1) \
    "all five solvers on a 40x40 3% layer at m = 36: joint, joint-lp, lp, ssmp+lp recover, ssmp does not and says so ($n/4, exit $rc)"
out=$("$CB" sketch --random 40x40 --density 0.03 --m 36 --delta-a 4 --delta-b 4 --solver joint-lp --time-limit 0.000001 2>&1); rc=$?
ok $([ $rc = 0 ] && echo "$out" | grep -q 'success=0 not finished in 1e-06 s' && echo 0 || echo 1) "LP past --time-limit: 'not finished in T s', a measurement: exit 0 ($rc)"
out=$("$CB" sketch --random 600x600 --density 0.001 --m 50 --solver joint-lp 2>"$err"); rc=$?
ok $([ $rc = 1 ] && echo "$out" | grep -q 'solver=joint-lp .*not run: .*limit is 2^24' && grep -q hint "$err" && echo 0 || echo 1) \
    "joint-lp on a 600x600 layer: 'not run' line, exit 1"
out=$("$CB" sketch --random 120x120 --density 0.3 --m 10 --solver lp 2>&1); rc=$?
ok $([ $rc = 0 ] && echo "$out" | grep -q 'success=0' && echo 0 || echo 1) "m = 10 for 30% density: failure reported, a measurement: exit 0 ($rc)"
"$CB" sketch --random 120x120 --solver simplex >/dev/null 2>"$err"; rc=$?
ok $([ $rc = 2 ] && grep -q "'simplex'" "$err" && echo 0 || echo 1) "unknown solver: exit 2, named"
"$CB" sketch --random 12by12 >/dev/null 2>"$err"; rc=$?
ok $([ $rc = 2 ] && grep -q "P1xP2" "$err" && echo 0 || echo 1) "bad --random: exit 2"
"$CB" sketch >/dev/null 2>"$err"; rc=$?
ok $([ $rc = 2 ] && grep -q "either a model file" "$err" && echo 0 || echo 1) "no layer given: exit 2"
"$CB" sketch /nonexistent/model.h5 >/dev/null 2>"$err"; rc=$?
ok $([ $rc = 1 ] && grep -q "nonexistent" "$err" && echo 0 || echo 1) "missing model file: exit 1, path named"
"$CB" sketch --random 12x12 --bogus 1 >/dev/null 2>"$err"; rc=$?
ok $([ $rc = 2 ] && grep -q "unknown option --bogus" "$err" && echo 0 || echo 1) "unknown option: exit 2"
"$CB" sketch --random 12x12 --m >/dev/null 2>"$err"; rc=$?
ok $([ $rc = 2 ] && grep -q "needs a value" "$err" && echo 0 || echo 1) "option without value: exit 2"
rm -f "$err"
echo "sketch_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
