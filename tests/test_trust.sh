#!/usr/bin/env bash
# Trust nothing on disk: a damaged record in the middle of the journal (a flipped
# byte in its payload, or in its length field) is skipped and reported with its
# byte offset; every intact record after it is kept, only its own task runs again,
# and the tables equal the undamaged run's. (Model files and checkpoints: their
# checksums are tested in tests/test_checkpoint.sh.)
# Prints "test_trust: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/helpers.sh
CB0=$(realpath "${CBOUND:-build/cbound}")
CMP="/usr/bin/python3 $(realpath scripts/results_compare.py)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
T=$(mktemp -d /tmp/cbound-trust.XXXXXX)
CB=$T/cbound
cp "$CB0" "$CB"
trap 'rm -rf "$T"' EXIT
cd "$T"
# offsets FILE: byte offset of every task record (CBR1) in a journal
offsets() { /usr/bin/python3 - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read(); at = 11
while at + 8 <= len(b):
    l, = struct.unpack_from("<I", b, at)
    if b[at + 8:at + 12] == b"CBR1": print(at)
    at += 8 + l
EOF
}
flip() { # FILE OFFSET: invert one byte
    /usr/bin/python3 -c "
import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, 'rb').read()); b[o] ^= 0xff; open(p, 'wb').write(b)" "$1" "$2"
}
cat >j.yaml <<EOF
name: j
seed: 3
output: $T/j.h5
data: {kind: gaussian, dim: 8, n_classes: 3, teacher_width: 10, n_train: 150, n_test: 60, scale: none}
model: {depth: 3, widths: [5, 9]}
train: {lr: 0.05, epochs: 2, batch: 25}
methods:
  - name: noop
    grid:
      i: {range: [0, 6]}
EOF
"$CB" run --quiet j.yaml >ref.log 2>&1
cp j.h5 ref.h5
cp j.h5.journal ref.journal
n=$(offsets ref.journal | wc -l)
check "reference run: $n task records" test "$n" = 12

for what in payload length; do
    cp ref.journal j.h5.journal
    at=$(offsets ref.journal | sed -n 5p)
    if [ "$what" = payload ]; then flip j.h5.journal $((at + 40)); else flip j.h5.journal $((at + 1)); fi
    "$CB" run --resume j.yaml >$what.log 2>&1; rc=$?
    check "flipped byte in a middle record's $what: resume completes (rc $rc)" test "$rc" = 0
    check "flipped $what: reported with its offset" grep -q "skipping a damaged record at byte $at " $what.log
    check "flipped $what: the 11 intact records are kept, one task runs again" grep -q "12 tasks (11 done before)" $what.log
    check "flipped $what: tables equal the undamaged run" $CMP j.h5 ref.h5
    "$CB" run --resume j.yaml >$what-again.log 2>&1; rc=$?
    check "flipped $what: a second resume keeps all 12 (the damaged bytes stay, skipped again)" \
        grep -q "12 tasks (12 done before)" $what-again.log
done
# two damaged records and a torn tail at once
cp ref.journal j.h5.journal
flip j.h5.journal $(( $(offsets ref.journal | sed -n 2p) + 30 ))
flip j.h5.journal $(( $(offsets ref.journal | sed -n 9p) + 30 ))
printf '\x60\x00\x00\x00\x01\x02\x03\x04CBR1torn' >>j.h5.journal
"$CB" run --resume j.yaml >multi.log 2>&1; rc=$?
check "two damaged records and a torn tail: both skipped, tail cut (rc $rc)" \
    test "$(grep -c 'skipping a damaged record' multi.log)" = 2 -a -n "$(grep 'ignoring 16 bytes' multi.log)"
check "two damaged records and a torn tail: 10 kept, tables equal" \
    test -n "$(grep '12 tasks (10 done before)' multi.log)" -a -n "$($CMP j.h5 ref.h5 && echo same)"

echo "test_trust: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
