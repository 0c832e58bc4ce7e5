#!/usr/bin/env bash
# PyTorch interop and the train/info command lines, end to end:
#   cbound train (Gaussian-teacher data) -> scripts/torch_interop.py import -> the torch
#   module's logits vs `cbound info --forward` on the same inputs -> export back ->
#   weight bytes and content hash identical, file valid for `cbound info`;
#   plus the CLI's refusals (overwrite, usage, missing/corrupt files) and determinism.
# Prints "interop: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CBOUND=${CBOUND:-build/cbound}
PY=/usr/bin/python3
SCRIPT=scripts/torch_interop.py
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
T=$(mktemp -d /tmp/cbound-test-interop-XXXXXX)
trap 'rm -rf "$T"' EXIT
passed=0; failed=0
. tests/helpers.sh
# Run a private copy: other builds in this tree may relink build/cbound while the test runs.
private_copy "$CBOUND" "$T/cbound"
CBOUND=$T/cbound
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
has() { grep -q -- "$2" "$1"; }  # file contains text
# Content hash by the Python implementation; a failure yields a unique string so comparisons fail.
hash_of() { $PY "$SCRIPT" hash "$1" 2>>"$T/hash.err" || echo "no-hash-$RANDOM-$1"; }

DATA=(--data gaussian --dim 20 --teacher-width 16 --classes 4 --n-train 300 --n-test 100 --data-seed 5)

# Two shapes: softplus (beta 2.5) with biases; tanh without biases, 3 layers.
i=0
for cfg in "--layers 20,24,4 --act softplus --beta 2.5 --bias" "--layers 20,17,11,4 --act tanh --no-bias --init gaussian --sigma 1.3"; do
    i=$((i + 1))
    m=$T/m$i.h5
    # shellcheck disable=SC2086
    "$CBOUND" train "${DATA[@]}" $cfg --epochs 4 --batch 32 --opt adam --lr 0.01 --seed 11 --quiet -o "$m" \
        >"$T/train$i.log" 2>&1
    check "train model $i ($cfg)" test $? -eq 0 -a -f "$m"
    $PY "$SCRIPT" import "$m" "$T/sd$i.pt" --module "$T/mod$i.pt" --init-out "$T/init$i.pt" >"$T/imp$i.log" 2>&1
    check "import model $i into torch" test $? -eq 0 -a -f "$T/mod$i.pt"
    # Same inputs through both: a (64, 20) float32 batch of high-entropy values.
    $PY -c "
import h5py, numpy as np
x = (np.random.default_rng(2385).standard_normal((64, 20)) * 1.7).astype('<f4')
with h5py.File('$T/x.h5', 'w') as f: f['x'] = x"
    "$CBOUND" info "$m" --forward "$T/x.h5" "$T/c$i.h5" >"$T/info$i.log" 2>&1
    check "cbound info --forward model $i" test $? -eq 0
    $PY -c "
import h5py, numpy as np, torch, sys
torch.set_num_threads(1)
seq = torch.load('$T/mod$i.pt')
x = torch.from_numpy(h5py.File('$T/x.h5')['x'][...])
with torch.no_grad(): t = seq(x).numpy()
c = h5py.File('$T/c$i.h5')['logits'][...]
d = np.abs(t - c).max() / max(1.0, np.abs(t).max())
print('model $i: max |torch - cbound| / max(1, max|logit|) = %.3g over %s logits' % (d, c.shape))
sys.exit(0 if c.shape == t.shape and d < 1e-5 else 1)" >"$T/cmp$i.log" 2>&1
    check "torch logits = cbound logits, model $i ($(tail -1 "$T/cmp$i.log"))" test $? -eq 0
    # Export back (module + initial weights) and compare bytes and hashes.
    $PY "$SCRIPT" export "$T/mod$i.pt" "$T/back$i.h5" --init "$T/init$i.pt" >"$T/exp$i.log" 2>&1
    check "export model $i back to a cbound file" test $? -eq 0
    $PY -c "
import h5py, numpy as np, sys
a, b = h5py.File('$m'), h5py.File('$T/back$i.h5')
same = all(a[k][...].tobytes() == b[k][...].tobytes() for k in a['layers'].keys() for k in
           ['layers/%s/%s' % (k, n) for n in a['layers/' + k].keys()])
same = same and set(a['layers/0'].keys()) == set(b['layers/0'].keys())
same = same and a.attrs['content_hash'] == b.attrs['content_hash'] and a.attrs['init_hash'] == b.attrs['init_hash']
same = same and a.attrs['activation'] == b.attrs['activation'] and a.attrs['beta'] == b.attrs['beta']
sys.exit(0 if same else 1)"
    check "round trip model $i: W, b, W_init, b_init bytes and both hashes identical" test $? -eq 0
    "$CBOUND" info "$T/back$i.h5" >"$T/infob$i.log" 2>&1
    check "cbound validates the Python-written file $i (hash computed by Python)" test $? -eq 0
    # The per-layer table of `cbound info` against numpy (independent norms and counts).
    $PY -c "
import h5py, numpy as np, sys
f = h5py.File('$m')
rows = [l.split() for l in open('$T/info$i.log') if l.split() and l.split()[0].isdigit() and ' x ' in l]
worst = 0.0
for r in rows:
    l = int(r[0]); W = f['layers/%d/W' % l][...].astype(np.float64); W0 = f['layers/%d/W_init' % l][...]
    ref = [np.linalg.norm(W), np.linalg.norm(W, 2), np.linalg.norm(W - W0), np.abs(W).max()]
    got = [float(r[5]), float(r[6]), float(r[7]), float(r[8])]
    worst = max(worst, max(abs(g - e) / e for g, e in zip(got, ref)))
    if int(r[1]) != W.shape[0] or int(r[3]) != W.shape[1] or int(r[9]) != np.count_nonzero(W): worst = 1
print('max relative difference %.2g over %d layers' % (worst, len(rows)))
sys.exit(0 if rows and worst < 2e-5 else 1)  # printed with 6 digits" >"$T/norms$i.log" 2>&1
    check "info's norms = numpy's (||W||_F, ||W||_2, ||W-W0||_F, max|w|, nnz), model $i: $(tail -1 "$T/norms$i.log")" \
        test $? -eq 0
done

# A state_dict needs --act; with it, the export validates in cbound; without init, init_known = 0.
$PY "$SCRIPT" export "$T/sd1.pt" "$T/sd1.h5" >"$T/e.log" 2>&1
check "state_dict export without --act refused" test $? -eq 1
check "  ... and says to pass --act" has "$T/e.log" "pass --act"
$PY "$SCRIPT" export "$T/sd1.pt" "$T/sd1.h5" --act softplus --beta 2.5 >"$T/e.log" 2>&1 &&
    "$CBOUND" info "$T/sd1.h5" >"$T/i.log" 2>&1
check "state_dict export (--act softplus --beta 2.5) loads in cbound" test $? -eq 0
check "  ... and cbound reports the initial weights as unknown" has "$T/i.log" "initial weights: unknown"
check "  ... with the same content hash as the cbound-trained file" \
    test "$(hash_of "$T/sd1.h5")" = "$(hash_of "$T/m1.h5")"

# Unsupported modules and bad files are refused with a message.
$PY -c "
import torch
torch.save(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.GELU(), torch.nn.Linear(3, 2)), '$T/gelu.pt')
torch.save(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU()), '$T/tail.pt')"
$PY "$SCRIPT" export "$T/gelu.pt" "$T/g.h5" >"$T/e.log" 2>&1
check "export refuses GELU (exit 1, names the module)" test $? -eq 1 -a ! -e "$T/g.h5"
check "  ... message names GELU" has "$T/e.log" "layer '1' is GELU"
$PY "$SCRIPT" export "$T/tail.pt" "$T/g.h5" >"$T/e.log" 2>&1
check "export refuses a trailing activation" has "$T/e.log" "last operation is an activation"
$PY "$SCRIPT" export "$T/mod1.pt" "$T/back1.h5" >"$T/e.log" 2>&1
check "export refuses to overwrite without --force" has "$T/e.log" "refusing to overwrite"
cp "$T/m1.h5" "$T/edited.h5"
$PY -c "
import h5py
with h5py.File('$T/edited.h5', 'r+') as f: f['layers/0/W'][2, 3] += 0.25"
$PY "$SCRIPT" import "$T/edited.h5" "$T/x.pt" >"$T/e.log" 2>&1
check "import detects an edited weight (hash mismatch)" has "$T/e.log" "hash mismatch"
"$CBOUND" info "$T/edited.h5" >"$T/e.log" 2>&1
check "cbound info detects it too (exit 1)" test $? -eq 1
check "  ... 'parameters hash mismatch' with a hint" has "$T/e.log" "hint: the file is corrupted"
$PY "$SCRIPT" rehash "$T/edited.h5" >/dev/null 2>&1 && "$CBOUND" info "$T/edited.h5" >/dev/null 2>&1
check "after rehash the edited file is valid again" test $? -eq 0

# Command line: refuse overwrite, --force, usage errors, determinism, --eval.
h1=$(hash_of "$T/m1.h5")
"$CBOUND" train "${DATA[@]}" --layers 20,24,4 --epochs 1 --quiet -o "$T/m1.h5" >"$T/e.log" 2>&1
rc=$?
check "train refuses to overwrite an existing model (exit 1)" test $rc -eq 1
check "  ... with a clear message and hint" has "$T/e.log" "exists; refusing to overwrite"
check "  ... and leaves the file untouched" test "$(hash_of "$T/m1.h5")" = "$h1"
"$CBOUND" train "${DATA[@]}" --layers 20,24,4 --act softplus --beta 2.5 --epochs 4 --batch 32 --opt adam --lr 0.01 \
    --seed 11 --quiet --force -o "$T/m1.h5" >"$T/e.log" 2>&1
check "train --force overwrites; same settings and seed give the same model bytes" \
    test $? -eq 0 -a "$(hash_of "$T/m1.h5")" = "$h1"
ls "$T" | grep -q '\.tmp\.' && bad "no .tmp files left in the output directory" || ok "no .tmp files left in the output directory"
"$CBOUND" train "${DATA[@]}" --layers 20,24,4 --act softplus --beta 2.5 --epochs 4 --batch 32 --opt adam --lr 0.01 \
    --seed 12 --quiet -o "$T/seed12.h5" >/dev/null 2>&1
check "another seed gives another model" test "$(hash_of "$T/seed12.h5")" != "$h1"
"$CBOUND" info "$T/m1.h5" | sed -n '/^training config:/,$p' | sed 's/^  //' | grep -v '^training config:' >"$T/cfg.yaml"
"$CBOUND" train --config "$T/cfg.yaml" -o "$T/fromcfg.h5" >/dev/null 2>&1
check "train --config <info's training config> reproduces the model" \
    test "$(hash_of "$T/fromcfg.h5")" = "$h1"
"$CBOUND" info "$T/m1.h5" --eval >"$T/eval.log" 2>&1
check "info --eval recomputes the metrics" has "$T/eval.log" "recomputed on gaussian/train"
"$CBOUND" train "${DATA[@]}" --epochs 1 >"$T/e.log" 2>&1
check "train without -o: usage error (exit 2)" test $? -eq 2
"$CBOUND" train --bogus -o "$T/z.h5" >"$T/e.log" 2>&1
check "train with an unknown option: usage error (exit 2)" test $? -eq 2
"$CBOUND" train "${DATA[@]}" --layers 21,8,4 -o "$T/z.h5" >"$T/e.log" 2>&1
check "train with widths that do not fit the data: exit 1, no file" test $? -eq 1 -a ! -e "$T/z.h5"
check "  ... message names the mismatch" has "$T/e.log" "input width 21 does not match"
"$CBOUND" train "${DATA[@]}" --depth 3 -o "$T/z.h5" >"$T/e.log" 2>&1
check "--depth without --width: usage error" test $? -eq 2
"$CBOUND" train "${DATA[@]}" --depth 3 --width 10 --epochs 1 --quiet -o "$T/d3.h5" >/dev/null 2>&1 &&
    "$CBOUND" info "$T/d3.h5" >"$T/i.log" 2>&1
check "--depth 3 --width 10 gives a 20-10-10-4 network" has "$T/i.log" "network    20-10-10-4"
"$CBOUND" train --config "$T/nope.yaml" -o "$T/z.h5" >"$T/e.log" 2>&1
check "missing --config file: error" has "$T/e.log" "cannot open config file"
"$CBOUND" info "$T/absent.h5" >"$T/e.log" 2>&1
check "info on a missing file: exit 1 with hint" test $? -eq 1
check "  ... hint says how to make one" has "$T/e.log" "hint: train one with"
echo "not a model" >"$T/text.h5"
"$CBOUND" info "$T/text.h5" >"$T/e.log" 2>&1
check "info on a text file: 'not an HDF5 file'" has "$T/e.log" "not an HDF5 file"
"$CBOUND" info "$T/sd1.h5" --eval >"$T/e.log" 2>&1
check "info --eval on an imported model: exit 1, says it names no data" \
    test $? -eq 1 -a "$(grep -c 'names no training data' "$T/e.log")" -eq 1
"$CBOUND" info "$T/m1.h5" --forward "$T/absent.h5" "$T/o.h5" >"$T/e.log" 2>&1
check "info --forward with a missing input: exit 1" test $? -eq 1
$PY -c "
import h5py, numpy as np
with h5py.File('$T/x7.h5', 'w') as f: f['x'] = np.zeros((3, 7), '<f4')"
"$CBOUND" info "$T/m1.h5" --forward "$T/x7.h5" "$T/o.h5" >"$T/e.log" 2>&1
check "info --forward with inputs of the wrong width: names the expected shape" has "$T/e.log" "shape (n, 20)"
"$CBOUND" info "$T/m1.h5" --forward "$T/x.h5" >"$T/e.log" 2>&1
check "info --forward with one file: usage error (exit 2)" test $? -eq 2
"$CBOUND" info "$T/m1.h5" --bogus >"$T/e.log" 2>&1
check "info with an unknown option: usage error (exit 2)" test $? -eq 2
printf 'lr: 0.1\nlearning_rate: 3\n' >"$T/badcfg.yaml"
"$CBOUND" train --config "$T/badcfg.yaml" -o "$T/z.h5" >"$T/e.log" 2>&1
check "train --config with an unknown key: exit 2, names file:line and key" \
    has "$T/e.log" "badcfg.yaml:2: unknown training setting 'learning_rate'"
mpirun -n 2 "$CBOUND" train "${DATA[@]}" --layers 20,24,4 --act softplus --beta 2.5 --epochs 4 --batch 32 \
    --opt adam --lr 0.01 --seed 11 --quiet -o "$T/mpi.h5" >"$T/e.log" 2>&1
check "mpirun -n 2 cbound train: rank 0 trains the same model, exit 0" \
    test $? -eq 0 -a "$(hash_of "$T/mpi.h5")" = "$h1"
# A model file held open for writing elsewhere (HDF5 file lock): a clear error with a hint.
$PY -c "
import h5py, subprocess, sys
with h5py.File('$T/m1.h5', 'r+'):
    r = subprocess.run(['$CBOUND', 'info', '$T/m1.h5'], capture_output=True, text=True)
sys.stderr.write(r.stderr)
sys.exit(r.returncode)" >"$T/e.log" 2>&1
check "info on a file locked by a writer: exit 1" test $? -eq 1
check "  ... hint names HDF5_USE_FILE_LOCKING" has "$T/e.log" "HDF5_USE_FILE_LOCKING=FALSE"
# An output file that appears while training (another process) is not overwritten either.
"$CBOUND" train "${DATA[@]}" --layers 20,24,4 --epochs 8000 --batch 300 --quiet -o "$T/race.h5" >"$T/race.log" 2>&1 &
pid=$!
# the file appears once training has begun (its "stage key" line), while it still runs
wait_until 300 "train's 'stage key' line" grep -q "stage key" "$T/race.log"
echo "someone else's" >"$T/race.h5"
kill -0 $pid 2>/dev/null; running=$?
wait $pid
rc=$?
check "train refuses an -o file that appeared while training (exit 1, file kept; still training when it appeared: $([ $running = 0 ] && echo yes || echo NO))" \
    test $running -eq 0 -a $rc -eq 1 -a "$(cat "$T/race.h5")" = "someone else's"
check "  ... message says it appeared while training" has "$T/race.log" "appeared while training"
# Option values out of range or malformed: usage errors (exit 2) naming the option.
n_usage=0
for args in "--drops 1,2,3,4,5,6,7,8,9" "--layers 20" "--scale huge" "--act gelu" "--loss hinge" "--opt rmsprop" \
    "--lr -1" "--epochs 0" "--n-train many" "--init xavier" "--beta 0"; do
    # shellcheck disable=SC2086
    "$CBOUND" train "${DATA[@]}" $args -o "$T/z.h5" >"$T/e.log" 2>&1
    rc=$?
    if [ $rc -eq 2 ] && grep -q -- "${args%% *}\|activation\|data scale" "$T/e.log"; then
        n_usage=$((n_usage + 1))
    else
        echo "  unexpected for '$args': exit $rc: $(head -2 "$T/e.log")"
    fi
done
check "11 malformed option values are usage errors naming the option ($n_usage of 11)" test $n_usage -eq 11
"$CBOUND" info >"$T/e.log" 2>&1
check "info without a file: usage error (exit 2)" test $? -eq 2
"$CBOUND" info --help >"$T/e.log" 2>&1 && "$CBOUND" train --help >>"$T/e.log" 2>&1
check "info --help and train --help" has "$T/e.log" "usage: cbound train"

echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
