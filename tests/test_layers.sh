#!/usr/bin/env bash
# Tests that the source tree's layers stack (tests/check_layers.sh): the real tree
# passes, and copies of it with a planted upward include, a planted include cycle
# and a misplaced private header each fail.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
no() { fail=$((fail + 1)); echo "FAIL: $*"; }

out=$(tests/check_layers.sh 2>&1) && ok "the tree stacks ($(echo "$out" | tail -1 | grep -o "[0-9]* includes checked"))" || { no "the tree: $out"; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
plant() { # name, then a command run inside a fresh copy; the checker must fail naming $2
    rm -rf "$tmp/t" && mkdir -p "$tmp/t" && cp -r src include tests "$tmp/t/"
    (cd "$tmp/t" && eval "$3")
    local o; o=$(tests/check_layers.sh "$tmp/t" 2>&1)
    local rc=$?
    if [ $rc -ne 0 ] && echo "$o" | grep -q "$2"; then ok "$1 caught"; else no "$1 not caught (rc $rc): $o"; fi
}
plant "upward include (compress -> run)" "upward include" \
    "sed -i '0,/#include \"cbound\/ctx.h\"/s||#include \"cbound/task.h\"|' src/compress/mbp.c"
plant "upward include (model -> measure)" "upward include" \
    "sed -i '0,/#include \"cbound\/mlp.h\"/s||&\n#include \"cbound/bounds.h\"|' src/model/mlp.c"
plant "include cycle" "include cycle" \
    "sed -i 's|#include <stddef.h>|#include \"cbound/err.h\"\n&|' include/cbound/result.h && sed -i 's|#include <stddef.h>|#include \"cbound/result.h\"\n&|' include/cbound/err.h"
plant "private header from another folder" "not in src/measure" \
    "sed -i '0,/#include \"cbound\/norms.h\"/s||&\n#include \"dataio.h\"|' src/measure/norms.c"
echo "test_layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
