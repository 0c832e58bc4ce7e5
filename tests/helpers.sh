# tests/helpers.sh — shell helpers the script tests (tests/test_*.sh) source:
#   . tests/helpers.sh        (from the repository root, before any cd elsewhere)
#
# ok NAME / no NAME                print "PASS NAME" / "FAIL NAME" and count it in $pass / $fail
#                                  (a test ends with "NAME: $pass passed, $fail failed", which
#                                  tests/run.sh adds up)
# check NAME CMD...                 ok NAME if CMD succeeds (its output discarded), else no NAME
# wait_until SECONDS WHAT CMD...   poll CMD every 0.1 s until it succeeds; on timeout print
#                                  "# timed out after SECONDS s waiting for WHAT" and return 1.
#                                  Tests wait for events (a file, a log line, a journal record,
#                                  a job state) this way, never for a fixed time: the timeout is
#                                  generous because a loaded machine is slow, not wrong.
#                                  CMD's arguments are expanded once, at the call: to poll
#                                  "$(…)", wrap the test in a function.
# journal_records FILE             number of task records ("CBR1") in a results journal (0 if none)
# until_premise TRIES WHAT FN...   run FN (one phase of a test that signals or kills a run
#                                  mid-way) until it returns 0, at most TRIES times. FN returns 0
#                                  when the phase's premise held (the run was still under way when
#                                  the signal reached it) and non-zero when the run got ahead of the
#                                  test: a stalled machine can leave the test's shell unscheduled
#                                  for seconds while the ranks run on. FN must restore the state it
#                                  starts from. Each retry is printed; after TRIES the phase's own
#                                  checks run on the last attempt (and fail, as they should when a
#                                  signal is never heeded).
# snapshot H5 / restore H5         save / put back results file H5 and its journal in the current
#                                  directory (the state an until_premise phase starts from;
#                                  restore removes what a phase wrote if there was none)
# private_copy SRC DEST            copy the cbound binary to DEST and check that it runs, retrying
#                                  while a concurrent `make` relinks SRC; returns 1 if it never does.

pass=0 fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
no() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then ok "$name"; else no "$name"; fi; }

wait_until() {
    local timeout=$1 what=$2
    shift 2
    local end=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$end" ]; then
            echo "# timed out after ${timeout} s waiting for $what"
            return 1
        fi
        sleep 0.1
    done
}

journal_records() {
    [ -s "$1" ] || { echo 0; return; }
    # grep, not python: tests poll this while ranks keep both cores busy, and a python start
    # under that load is slow enough to let several more tasks finish before a signal is sent
    LC_ALL=C grep -aoF CBR1 "$1" 2>/dev/null | wc -l
}

until_premise() {
    local tries=$1 what=$2 k
    shift 2
    for k in $(seq 1 "$tries"); do
        "$@" && return 0
        echo "# $what: the run got ahead of the test (attempt $k of $tries): again from the same state"
    done
    return 1
}

snapshot() { rm -rf "snap-$1"; mkdir "snap-$1"; cp -p "$1"* "snap-$1/" 2>/dev/null; true; }
restore() { rm -f "$1" "$1.journal"; cp -p "snap-$1/"* . 2>/dev/null; true; }

private_copy() {
    local try
    for try in 1 2 3 4 5 6 7 8 9 10; do
        cp "$1" "$2" 2>/dev/null && "$2" --version >/dev/null 2>&1 && return 0
        sleep 3
    done
    echo "# could not copy a working $1 to $2"
    return 1
}
