#!/usr/bin/env bash
# Checkpointed training stages (cbound run --checkpoint-every, default 1 epoch):
#   kill -9   of every process during training leaves DIR/models/STAGE.ckpt; --resume
#             continues it ("continues from its checkpoint") and the model has the same
#             content hash, the tables the same values, as an uninterrupted run
#   stop      SIGUSR1 during training: the stage checkpoints at once (mid-epoch), exit 3;
#             resumed, same hash
#   damaged   a flipped byte in a checkpoint: noted, the stage retrains from the start
#             (same hash); in a model file: its checksum sidecar catches it before HDF5
#             opens the file, the stage is retrained (same hash)
#   progress  rank 0's progress line shows "epoch k/N loss"
#   off       --checkpoint-every 0 writes no checkpoint
# Prints "test_checkpoint: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/helpers.sh
CB0=$(realpath "${CBOUND:-build/cbound}")
CMP="/usr/bin/python3 $(realpath scripts/results_compare.py)"
WRAP=$(realpath scripts/cbound-mpirun)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1
T=$(mktemp -d /tmp/cbound-checkpoint.XXXXXX)
CB=$T/cbound
cp "$CB0" "$CB"
trap 'pkill -KILL -f "^$CB " 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"
hash_of() { "$CB" info "$1" 2>/dev/null | awk '/^hash/ {print $2}'; }
# epochs NAME: completed epochs recorded in NAME's checkpoint (i32 at byte 16)
ckpt_epoch() { /usr/bin/python3 -c "import struct,sys; print(struct.unpack_from('<i', open(sys.argv[1],'rb').read(), 16)[0])" "$1"; }

# Training must outlast a few 0.1-s progress lines on a fast machine: 150 epochs take ~1.5 s here.
EPOCHS=150
# mid_training LOG: LOG shows an epoch line well inside training (5 <= k <= EPOCHS - 5)
mid_training() { grep -Eo "epoch [0-9]+/$EPOCHS" "$1" | awk -F'[ /]' -v n="$EPOCHS" '$2 >= 5 && $2 <= n - 5 {f = 1} END {exit !f}'; }
# sweep NAME: one stage (Gaussian data, EPOCHS epochs of Adam), 2 tasks
sweep() {
    cat >"$1.yaml" <<EOF
name: ck
seed: 9
output: $T/$1/ck.h5
data: {kind: gaussian, dim: 40, n_classes: 5, teacher_width: 30, n_train: 2000, n_test: 500, scale: none}
model: {depth: 3, widths: [128]}
train: {opt: adam, lr: 0.001, epochs: $EPOCHS, batch: 32}
seeds: [1]
methods:
  - name: noop
    grid:
      i: [0, 1]
EOF
}
for d in ref kill stop bad off; do sweep $d; done
"$CB" run --progress 0.5 ref.yaml >ref.log 2>&1; rc=$?
model=$(ls ref/ck/models/*.h5 2>/dev/null | head -1)
H=$(hash_of "$model"); stage=$(basename "$model" .h5)
check "reference run (rc $rc, model hash $H)" test "$rc" = 0 -a -n "$H"
check "no checkpoint left after the model is saved" test ! -e "ref/ck/models/$stage.ckpt"
check "model file has its checksum sidecar" grep -q "^cbound-crc32 " "$model.sum"

# ------------------------------------------------------------------ kill -9 during training
echo "# kill -9 during training (at ${SECONDS}s)"
# Each killed or stopped run below is repeated from scratch if it finished training before the
# signal reached it (until_premise in helpers.sh: a stalled machine can leave this shell behind).
# premise: killed during training, so a checkpoint and no model file
killed_in_training() { test -e "$1/ck/models/$stage.ckpt" -a ! -e "$1/ck/models/$stage.h5"; }
phase_kill() {
    rm -rf kill
    mpirun -n 2 "$CB" run --progress 0.1 kill.yaml >kill1.log 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do mid_training kill1.log && break; sleep 0.05; done
    pkill -KILL -f "^$CB run" ; kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    killed_in_training kill
}
until_premise 3 "kill -9 during training" phase_kill
e=$(ckpt_epoch "kill/ck/models/$stage.ckpt" 2>/dev/null || echo none)
# (the reference run can be over before its first progress line on a fast machine; this run
# was watched until an epoch line appeared)
check "progress line shows the model's epoch and loss" grep -Eq "training: ${stage:0:8} epoch [0-9]+/$EPOCHS loss [0-9.]+" kill1.log
check "kill -9: a checkpoint at epoch $e of $EPOCHS, no model file" test "$e" != none -a ! -e "kill/ck/models/$stage.h5"
mpirun -n 2 "$CB" run --quiet --resume kill.yaml >kill2.log 2>&1; rc=$?
check "kill -9 then --resume: continues from the checkpoint (rc $rc)" grep -q "stage $stage continues from its checkpoint (epoch $((${e/none/-2} + 1)) of $EPOCHS" kill2.log
check "kill -9 then --resume: same model content hash ($(hash_of kill/ck/models/$stage.h5) = $H)" test "$(hash_of kill/ck/models/$stage.h5)" = "$H"
check "kill -9 then --resume: tables equal the uninterrupted run" $CMP kill/ck.h5 ref/ck.h5

# ------------------------------------------------------------------ stop signal during training
echo "# SIGUSR1 during training (at ${SECONDS}s)"
# premise: the run had no model file when it stopped
phase_stop() {
    rm -rf stop
    "$WRAP" -n 2 "$CB" run --progress 0.1 --checkpoint-every 1000 stop.yaml >stop1.log 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do mid_training stop1.log && break; sleep 0.05; done
    kill -USR1 "$pid"
    wait "$pid"; rc=$?
    test ! -e "stop/ck/models/$stage.h5"
}
until_premise 3 "SIGUSR1 during training" phase_stop
check "SIGUSR1 during training: exit 3 (rc $rc)" test "$rc" = 3
check "SIGUSR1 during training: the stage checkpointed on the signal (no periodic ones), no model yet" \
    test -e "stop/ck/models/$stage.ckpt" -a ! -e "stop/ck/models/$stage.h5"
check "SIGUSR1 during training: says it stopped" grep -q "training stage $stage stopped: training stopped at epoch" stop1.log
mpirun -n 1 "$CB" run --quiet --resume stop.yaml >stop2.log 2>&1; rc=$?
check "stopped then --resume: continues from the mid-epoch checkpoint" grep -q "stage $stage continues from its checkpoint" stop2.log
check "stopped then --resume: continues, same model hash (rc $rc)" test "$(hash_of stop/ck/models/$stage.h5)" = "$H"
check "stopped then --resume: tables equal" $CMP stop/ck.h5 ref/ck.h5

# ------------------------------------------------------------------ damaged checkpoint and model file
echo "# damaged files (at ${SECONDS}s)"
# killed mid-training, as above (a fixed sleep after the first checkpoint can outlast training)
phase_bad() {
    rm -rf bad
    "$CB" run --progress 0.1 bad.yaml >bad0.log 2>&1 & pid=$!
    for _ in $(seq 1 600); do mid_training bad0.log && break; sleep 0.05; done
    kill -KILL "$pid"; wait "$pid" 2>/dev/null
    killed_in_training bad
}
until_premise 3 "kill -9 before damaging the checkpoint" phase_bad
check "damaged checkpoint: the killed run left one at epoch $(ckpt_epoch "bad/ck/models/$stage.ckpt" 2>/dev/null || echo none), no model" \
    test -e "bad/ck/models/$stage.ckpt" -a ! -e "bad/ck/models/$stage.h5"
printf '\xff' | dd of="bad/ck/models/$stage.ckpt" bs=1 seek=100 conv=notrunc 2>/dev/null
"$CB" run --quiet --resume bad.yaml >bad1.log 2>&1; rc=$?
check "damaged checkpoint: noted, retrained from the start (rc $rc)" grep -q "retraining stage $stage from the start: .*checksum mismatch" bad1.log
check "damaged checkpoint: same model hash" test "$(hash_of bad/ck/models/$stage.h5)" = "$H"
size=$(stat -c %s "bad/ck/models/$stage.h5")
printf '\x5a' | dd of="bad/ck/models/$stage.h5" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
"$CB" run --quiet --force bad.yaml >bad2.log 2>&1; rc=$?
check "damaged model file: the checksum catches it, the stage is retrained (rc $rc)" grep -q "retraining stage $stage: .*checksum mismatch" bad2.log
check "damaged model file: retrained to the same hash, tables equal" test "$(hash_of bad/ck/models/$stage.h5)" = "$H" -a -n "$($CMP bad/ck.h5 ref/ck.h5 && echo same)"

# ------------------------------------------------------------------ off
"$CB" run --quiet --checkpoint-every 0 off.yaml >off.log 2>&1 &
pid=$!
# watched for the whole run: no checkpoint may appear at any moment
while kill -0 "$pid" 2>/dev/null; do ls off/ck/models/ >>off.ls 2>&1; sleep 0.02; done
wait "$pid"; rc=$?
check "--checkpoint-every 0: no checkpoint written (rc $rc)" test "$rc" = 0 -a -z "$(grep ckpt off.ls)"
check "--checkpoint-every 0: same model hash" test "$(hash_of off/ck/models/$stage.h5)" = "$H"
"$CB" run --checkpoint-every 1.5 off.yaml >off2.log 2>&1; rc=$?
check "--checkpoint-every 1.5: usage error 2 (rc $rc)" test "$rc" = 2

echo "test_checkpoint: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
