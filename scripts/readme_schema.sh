#!/usr/bin/env bash
# Regenerates the sweep-settings and results-column tables of docs/reference.md (between the
# markers <!-- runner-schema:begin --> and <!-- runner-schema:end -->) from
# `cbound run --schema`, i.e. from the settings table of src/run/sweep.c and the X-macro
# column lists of include/cbound/result.h. tests/test_runner.sh fails when they differ.
# (The name is historical: the tables lived in README.md.)
# Usage: scripts/readme_schema.sh [path/to/cbound] [--check]
set -eu
cd "$(dirname "$0")/.."
cb=${1:-build/cbound}
doc=docs/reference.md
new=$(mktemp)
trap 'rm -f "$new"' EXIT
grep -q '<!-- runner-schema:begin -->' "$doc" && grep -q '<!-- runner-schema:end -->' "$doc" ||
    { echo "$doc: the markers <!-- runner-schema:begin --> / end are missing" >&2; exit 1; }
schema=$(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$cb" run --schema)
awk -v schema="$schema" '
    /<!-- runner-schema:begin -->/ { print; print ""; print schema; skip = 1; next }
    /<!-- runner-schema:end -->/ { skip = 0 }
    !skip { print }' "$doc" >"$new"
if [ "${2:-}" = --check ]; then
    cmp -s "$new" "$doc" || { echo "$doc: the runner schema tables are stale; run scripts/readme_schema.sh" >&2; exit 1; }
    exit 0
fi
cat "$new" >"$doc"
