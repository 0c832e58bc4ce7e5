#!/usr/bin/env bash
# test_cli — the `cbound` binary's top level: every subcommand answers --help (exit 0,
# a usage line), --version names cbound's git revision and the libraries, an unknown
# command or no command is a usage error (exit 2) that lists the commands.
# Prints "test_cli: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CB=$(realpath "${CBOUND:-build/cbound}")
pass=0; fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
no() { echo "FAIL $*"; fail=$((fail + 1)); }
T=$(mktemp -d /tmp/cbound-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT

cmds=$(sed -n 's/^ *{"\([a-z-]*\)", cb_cli_[a-z_]*,.*/\1/p' src/cmd/main.c)
[ -n "$cmds" ] && ok "command table read from src/cmd/main.c ($(echo $cmds | wc -w) commands)" || no "command table"
for c in $cmds; do
    "$CB" "$c" --help >"$T/out" 2>&1; rc=$?
    if [ "$rc" -eq 0 ] && grep -qi "usage\|cbound $c\|cbound [0-9]" "$T/out"; then ok "cbound $c --help"; else no "cbound $c --help (exit $rc)"; fi
done
"$CB" --version >"$T/v" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q "^cbound [0-9.]* (git " "$T/v" && grep -q "MPI:" "$T/v" && grep -q "HDF5:" "$T/v" &&
    grep -q "GSL:" "$T/v" && grep -q "OpenBLAS:" "$T/v" && ok "--version: revision and library versions" || no "--version"
"$CB" no-such-command >"$T/u" 2>&1; rc=$?
[ "$rc" -eq 2 ] && grep -q "unknown command 'no-such-command'" "$T/u" && grep -q "report" "$T/u" &&
    ok "unknown command: exit 2, lists the commands" || no "unknown command (exit $rc)"
"$CB" >"$T/n" 2>&1; rc=$?
[ "$rc" -eq 2 ] && grep -q "^usage: cbound" "$T/n" && ok "no command: exit 2 with usage" || no "no command (exit $rc)"
echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
