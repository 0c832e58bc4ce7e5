#!/usr/bin/env bash
# Regenerates the sweep-settings and results-column tables of README.md (between the
# markers <!-- runner-schema:begin --> and <!-- runner-schema:end -->) from
# `cbound run --schema`, i.e. from the settings table of src/sweep.c and the X-macro
# column lists of include/cbound/result.h. tests/test_runner.sh fails when they differ.
# Usage: scripts/readme_schema.sh [path/to/cbound] [--check]
set -eu
cd "$(dirname "$0")/.."
cb=${1:-build/cbound}
new=$(mktemp)
trap 'rm -f "$new"' EXIT
schema=$(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$cb" run --schema)
awk -v schema="$schema" '
    /<!-- runner-schema:begin -->/ { print; print ""; print schema; skip = 1; next }
    /<!-- runner-schema:end -->/ { skip = 0 }
    !skip { print }' README.md >"$new"
if [ "${2:-}" = --check ]; then
    cmp -s "$new" README.md || { echo "README.md: the runner schema tables are stale; run scripts/readme_schema.sh" >&2; exit 1; }
    exit 0
fi
cat "$new" >README.md
