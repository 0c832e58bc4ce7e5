#!/usr/bin/env bash
# Sweep expansion is bounded: sizes are computed before any value is made, so a
# range that cannot advance (bounds beyond 2^53, where v + 1 == v), an axis of
# millions of values or a grid of billions of points is an error naming the file
# and line within a second, never a hang or an allocation of gigabytes.
# Prints "test_sweep_bounds: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CB=$(realpath "${CBOUND:-build/cbound}")
T=$(mktemp -d /tmp/cbound-sweepbounds.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
pass=0; fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
no() { echo "FAIL $*"; fail=$((fail + 1)); }

# bad NAME 'expected text' GRID-LINES...: --dry-run exits 1 within 5 s and prints the text
bad() {
    local name=$1 want=$2; shift 2
    { printf 'name: %s\nmodel: {widths: [4, 8]}\nseeds: [1, 2]\nmethods:\n  - name: noop\n    grid:\n' "$name"
      for l in "$@"; do printf '      %s\n' "$l"; done; } >"$name.yaml"
    local t0=$SECONDS
    timeout 20 "$CB" run --dry-run "$name.yaml" >"$name.log" 2>&1; local rc=$?
    if [ "$rc" = 1 ] && grep -qF -- "$want" "$name.log" && [ $((SECONDS - t0)) -le 5 ]; then
        ok "$name: exit 1 in $((SECONDS - t0)) s: $want"
    else
        no "$name (rc $rc, $((SECONDS - t0)) s): $(head -2 "$name.log")"
    fi
}
bad stuck "stuck.yaml:7: key 'methods[0].grid.i': expected range bounds and step of magnitude at most 2^53" \
    "i: {range: [1e17, 100000000000000016, 1]}"
bad stuck_neg "stuck_neg.yaml:7: key 'methods[0].grid.i': expected range bounds" \
    "i: {range: [-1e300, 0, 1e299]}"
bad long_axis "long_axis.yaml:7: key 'methods[0].grid.i': expected at most 1,000,000 values on one grid axis, found 9000000000000000" \
    "i: {range: [0, 9000000000000000]}"
bad long_lin "long_lin.yaml:7: key 'methods[0].grid.i': expected at most 1,000,000 values on one grid axis, found 1000000000000000" \
    "i: {linspace: [0, 1, 1e15]}"
bad product "product.yaml:4: key 'methods': the sweep expands to more than 10,000,000 tasks (4e+08 with methods[0].grid.spin_ms at line 8)" \
    "i: {range: [0, 100]}" "spin_ms: {range: [0, 1000000]}"
bad product_list "product_list.yaml:4: key 'methods': the sweep expands to more than 10,000,000 tasks" \
    "i: {range: [0, 30000]}" "spin_ms: {range: [0, 40]}" "fail: [none, error, nan]"
# Inside the limits a range near 2^53 still expands exactly.
printf 'name: edge\nmodel: {widths: [4]}\nmethods:\n  - name: noop\n    grid: {i: {range: [9007199254740980, 9007199254740992, 4]}}\n' >edge.yaml
"$CB" run --dry-run edge.yaml >edge.log 2>&1; rc=$?
n=$(grep -c 'noop' edge.log)
if [ "$rc" = 0 ] && [ "$n" = 3 ] && grep -q 'i=9007199254740988' edge.log; then ok "range near 2^53: 3 exact values"
else no "range near 2^53 (rc $rc, $n tasks): $(grep noop edge.log | head -3)"; fi

echo "test_sweep_bounds: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
