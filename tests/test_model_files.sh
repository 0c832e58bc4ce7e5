#!/usr/bin/env bash
# test_model_files — sweeps over models a researcher brings (model.file):
#  1. a custom PyTorch module (named layers fc1..fc3, Dropout, F.relu in forward, hidden
#     widths 40 and 24) trained in PyTorch on the Digits set, exported with
#     torch_interop.export_module (torch.fx trace), swept with mbp and magnitude under
#     mpirun -n 2: the original model's metrics in the tasks table equal PyTorch's on the
#     same train/test CSVs, the stage key is the file's content, not its path;
#  2. mismatched model files (input width, classes, a NaN weight) and an unsupported
#     PyTorch layer are refused before any results file exists, naming the file;
#  3. keys follow data contents: the same data path with changed contents gives new
#     stage and task keys, and --resume then recomputes everything, giving the tables of a
#     fresh run on the new contents;
#  4. a model trained on the conv feature map (cbound train --features conv): cbound compress with
#     the same map keeps its test accuracy, another draw of the map or none is refused naming both;
#     cbound data --export gives the inputs the model sees (its forward pass on them, its accuracy).
# The PyTorch side is scripts/examples/digits_torch.py, run through the tour of docs/models.md.
# Prints "test_model_files: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)
CB0=$(realpath "${CBOUND:-build/cbound}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
. tests/helpers.sh
PY=/usr/bin/python3
T=$(mktemp -d /tmp/cbound-mf.XXXXXX)
trap 'rm -rf "$T"' EXIT
CB=$T/cbound
private_copy "$CB0" "$CB"
cd "$T"

# ---- 1. the documented tour (README.md and docs/models.md, between the byom-commands markers), run as written
# in a scratch tree with this repository's scripts, sweeps and binary
mkdir -p tour/build tour/jobs/sweeps && cp -r "$REPO/scripts" "$REPO/python" tour/ && cp "$REPO/jobs/sweeps/byom-digits.yaml" tour/jobs/sweeps/
cp "$CB" tour/build/cbound
sed -n '/byom-commands:begin/,/byom-commands:end/p' "$REPO/docs/models.md" | sed '1,2d;$d' | sed '$d' >tour.sh
check "the documented commands were found ($(grep -c '^[^#]' tour.sh) lines)" grep -q "build/cbound compress" tour.sh
sed -n '/byom-commands:begin/,/byom-commands:end/p' "$REPO/README.md" | sed '1,2d;$d' | sed '$d' >tour-readme.sh
check "README's Bring-your-own-model commands are the same lines" cmp -s tour.sh tour-readme.sh
(cd tour && bash -e ../tour.sh) >tour.out 2>&1; rc=$?
check "the documented tour runs (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || tail -20 tour.out
check "Dropout noted as ignored" grep -q "drop ignored" tour.out
check "the report was written" test -s tour/results/byom-digits/report/report.md
check "the compressed model came back to PyTorch" test -s tour/data/byom/pruned.pt
grep -E '^(train|test) ' tour.out >torch.out
$PY - tour/results/byom-digits.h5 torch.out >cmp.out 2>&1 <<'PY'
import sys, h5py, numpy as np
t = h5py.File(sys.argv[1])["tasks"][:]
ref = {l.split()[0]: [float(v) for v in l.split()[1:]] for l in open(sys.argv[2])}
assert len(t) == 4 and set(t["status"]) == {b"ok"}, t["status"]
assert set(t["width"]) == {40}, t["width"]
for part in ("train", "test"):
    loss, acc = ref[part]
    l, a = t["orig_%s_loss" % part], t["orig_%s_acc" % part]
    assert np.allclose(l, loss, rtol=2e-5), (part, l, loss)
    assert np.allclose(a, acc, rtol=0, atol=1e-6), (part, a, acc)   # float32 mean in torch; one sample is 7e-4
print("ok orig metrics equal PyTorch's: train %.6f/%.4f test %.6f/%.4f" % tuple(ref["train"] + ref["test"]))
PY
if grep -q '^ok' cmp.out; then ok "$(grep '^ok' cmp.out)"; else no "orig metrics vs PyTorch: $(tail -3 cmp.out)"; fi
cp tour/data/byom/train.csv tour/data/byom/test.csv tour/data/byom/digits_mlp.h5 . && cp digits_mlp.h5 net.h5
cat >mf.yaml <<YAML
name: mf
seed: 7
output: $T/out/mf.h5
data: {kind: csv, path: train.csv, test_path: test.csv, target: digit, scale: none}
model: {file: net.h5}
methods:
  - name: mbp
    grid: {d: [0.5, 2]}
    save: weights
  - name: magnitude
    grid: {sparsity: [0.5]}
    save: masks
YAML
check "sweep over the model file runs (-n 2)" mpirun -n 2 "$CB" run --quiet mf.yaml
# an unsupported layer is refused, naming it
$PY - "$REPO/scripts" >conv.out 2>&1 <<'PY'
import sys, torch, torch.nn as nn
sys.path.insert(0, sys.argv[1])
import torch_interop
class Conv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 2, 3)
        self.fc = nn.Linear(124, 10)
    def forward(self, x):
        return self.fc(torch.flatten(self.conv1(x.view(-1, 1, 64)), 1))
try:
    torch_interop.export_module(Conv(), "conv.h5")
    print("conv exported")
except torch_interop.InteropError as e:
    print("conv refused:", e)
PY
check "Conv1d refused, naming the layer" grep -q "conv refused: layer 'conv1' is Conv1d" conv.out
# the state_dict of a custom module with named layers (fc1, fc2, fc3; dropout has no parameters)
$PY - "$REPO/scripts" <<'PY'
import sys, torch
sys.path.insert(0, sys.argv[1])
import torch_interop
m = torch_interop.read_model("net.h5")
sd = {}
for i, (W, b) in enumerate(zip(m["Ws"], m["bs"])):
    sd["fc%d.weight" % (i + 1)], sd["fc%d.bias" % (i + 1)] = torch.tensor(W), torch.tensor(b)
torch.save(sd, "named_sd.pt")
PY
$PY "$REPO/scripts/torch_interop.py" export named_sd.pt named.h5 --act relu >named.out 2>&1
check "a named state_dict (fc1..fc3) exports with --act, the same model" \
    test "$("$CB" info named.h5 | awk '/^hash/ {print $2; exit}')" = "$("$CB" info net.h5 | awk '/^hash/ {print $2; exit}')"
check "cbound info --eval evaluates an imported model on given data" \
    sh -c "'$CB' info net.h5 --eval --data.kind csv --data.path train.csv | grep -q 'recomputed on csv/train'"
# the saved compressed models give the compressed model's numbers in PyTorch
$PY - out/mf.h5 "$REPO/scripts" >saved.out 2>&1 <<'PY'
import sys, h5py, numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, sys.argv[2])
import torch_interop
t = h5py.File(sys.argv[1])["tasks"][:]
a_tr = np.loadtxt("train.csv", delimiter=",", skiprows=1); a_te = np.loadtxt("test.csv", delimiter=",", skiprows=1)
for r in t:
    key, method = r["key"].decode(), r["method"].decode()
    m = torch_interop.read_model("out/mf/compressed/%s.h5" % key)
    Ws, bs, act, beta = m["Ws"], m["bs"], m["act"], m["beta"]
    if method == "magnitude":   # a mask: 1 where kept
        nnz = sum(int((W != 0).sum()) for W in Ws)
        assert all(set(np.unique(W)) <= {0.0, 1.0} for W in Ws) and nnz == r["nnz"], (nnz, r["nnz"])
        continue
    net = torch_interop.build_sequential(Ws, bs, act, beta)
    for part, a in (("train", a_tr), ("test", a_te)):
        with torch.no_grad():
            z = net(torch.tensor(a[:, :64], dtype=torch.float32)); y = torch.tensor(a[:, 64], dtype=torch.long)
        loss, acc = float(F.cross_entropy(z, y)), float((z.argmax(1) == y).float().mean())
        assert abs(loss - r["%s_loss" % part]) <= 2e-5 * loss and abs(acc - r["%s_acc" % part]) < 1e-6, (part, loss, acc)
print("ok saved compressed weights give the tasks' losses and accuracies in PyTorch; the saved mask has the task's nnz")
PY
if grep -q '^ok' saved.out; then ok "$(grep '^ok' saved.out)"; else no "saved models: $(tail -3 saved.out)"; fi
key0=$("$CB" run --dry-run mf.yaml 2>/dev/null | awk '$1 == "0" {print $2}')
"$CB" compress net.h5 --method mbp --param d=0.5 --seed 7 --data.kind csv --data.path train.csv \
    --data.test_path test.csv --data.target digit --data.scale none -o c.h5 >row.txt 2>compress.err
check "cbound compress prints the sweep task's key ($key0)" grep -qx "key $key0" row.txt
check "cbound compress prints the same row as the sweep task (timings aside)" \
    $PY "$REPO/scripts/results_compare.py" --row out/mf.h5 row.txt
check "cbound compress wrote the compressed model, identical to the sweep's saved one" \
    test "$("$CB" info c.h5 | awk '/^hash/ {print $2; exit}')" = "$("$CB" info out/mf/compressed/$key0.h5 | awk '/^hash/ {print $2; exit}')"
"$CB" compress net.h5 --method mbp --param d=0.5 --seed 7 --data.kind csv --data.path train.csv \
    --data.test_path test.csv --data.target digit --data.scale none -o c.h5 >/dev/null 2>&1
check "cbound compress refuses to overwrite its output" test $? -eq 1
"$CB" compress net.h5 --method mbp --param d=0.5 >/dev/null 2>&1
check "cbound compress without data: usage error (exit 2)" test $? -eq 2
"$CB" compress net.h5 --method mbp --param d=0.5 --data.kind csv --data.path train.csv --data.test_path test.csv \
    --data.target digit --data.scale '[none, unit]' >list.txt 2>&1; rc=$?
check "cbound compress with a list value: refused, one task only (rc $rc)" \
    grep -q "the settings given make 2 tasks; cbound compress runs one" list.txt
# a model trained on the random conv feature map (cbound train --features conv): compressed
# with the same map it keeps its metrics; with another draw of the map (another data.seed) or
# none it is refused before any work, naming both maps. Numbers on the command line stay numbers.
if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    "$CB" train --quiet --data fashion-mnist --n-train 300 --n-test 100 --features conv --data-seed 5 \
        --depth 2 --width 16 --opt adam --lr 0.003 --epochs 10 -o phi.h5 >phi.log 2>&1; rc=$?
    check "cbound train --features conv: a 576-input model (rc $rc)" grep -q "^network    576-16-10" <("$CB" info phi.h5)
    phi_data=(--data.kind fashion-mnist --data.n_train 300 --data.n_test 100 --data.features conv)
    "$CB" compress phi.h5 --method noop "${phi_data[@]}" --data.seed 5 >phi-same.txt 2>&1; rc=$?
    want=$("$CB" info phi.h5 | sed -n 's/.*test loss [0-9.]* acc \([0-9.]*\).*/\1/p')
    got=$(awk '$1 == "test_acc" {printf "%.4f", $2}' phi-same.txt)
    check "cbound compress, same feature map: the model's test accuracy ($got = $want, rc $rc)" test "$rc:$got" = "0:$want"
    "$CB" compress phi.h5 --method noop "${phi_data[@]}" --data.seed 6 >phi-other.txt 2>&1; rc=$?
    check "cbound compress, another draw of the map: refused (rc $rc), names both" \
        grep -q "phi.h5 was trained on the feature map conv (16 filters, pool 4, gain 10, data.seed 5); the sweep's data gives conv (16 filters, pool 4, gain 10, data.seed 6)" phi-other.txt
    "$CB" compress phi.h5 --method noop --data.kind fashion-mnist --data.n_train 300 >phi-none.txt 2>&1; rc=$?
    check "cbound compress, no feature map: refused (rc $rc), says to set it" \
        grep -q "hint: set data.features: conv, .* data.seed: 5 (the model's)" phi-none.txt
    # the inputs as the model sees them, for training elsewhere: its forward pass on the exported
    # test inputs gives its recorded test accuracy
    "$CB" data --kind fashion-mnist --n-train 300 --n-test 100 --features conv --seed 5 --export phi-data.h5 >export.log 2>&1
    $PY -c "import h5py; f = h5py.File('phi-data.h5'); h5py.File('phi-in.h5', 'w')['x'] = f['test/x'][:]" 2>>export.log
    "$CB" info phi.h5 --forward phi-in.h5 phi-out.h5 >>export.log 2>&1
    got=$($PY -c "import h5py; y = h5py.File('phi-data.h5')['test/y'][:]; z = h5py.File('phi-out.h5')['logits'][:]
print('%.4f' % (z.argmax(1) == y).mean())" 2>>export.log)
    check "cbound data --export: the model's forward pass on the exported test inputs gives its test accuracy ($got = $want)" \
        test "$got" = "$want"
    "$CB" data --kind fashion-mnist --n-train 300 --n-test 100 --export phi-data.h5 >export2.log 2>&1; rc=$?
    check "cbound data --export: refuses to overwrite (rc $rc)" grep -q "phi-data.h5 exists (use --force" export2.log
    "$CB" data --kind fashion-mnist --n-train 300 --n-test 100 --export no/such/dir/x.h5 >export3.log 2>&1; rc=$?
    check "cbound data --export into a missing directory: exit 1, names the file (rc $rc)" \
        test "$rc" = 1 -a -n "$(grep 'no/such/dir/x.h5.tmp: cannot create' export3.log)"
    "$CB" train --quiet --data fashion-mnist --features convv -o bogus.h5 >bogus.log 2>&1; rc=$?
    check "cbound train --features convv: usage error 2, names the choices (rc $rc)" \
        test "$rc" = 2 -a -n "$(grep "expected none, conv or conv_abs, found 'convv'" bogus.log)"
else
    echo "# (no Fashion-MNIST: feature-map model checks skipped)"
fi
k1=$("$CB" run --dry-run mf.yaml 2>/dev/null | awk '$1 == "0" {print $3}')
mkdir -p elsewhere && cp net.h5 elsewhere/renamed.h5
sed 's|file: net.h5|file: elsewhere/renamed.h5|' mf.yaml >mf2.yaml
k2=$("$CB" run --dry-run mf2.yaml 2>/dev/null | awk '$1 == "0" {print $3}')
check "stage key from the file's contents, not its path ($k1)" test -n "$k1" -a "$k1" = "$k2"

# ---- 2. mismatched model files are refused before any results file exists
$PY - <<'PY'
import h5py, numpy as np, shutil
shutil.copy("net.h5", "nan.h5")
with h5py.File("nan.h5", "r+") as f:
    w = f["layers/1/W"][:]; w[3, 5] = np.nan; f["layers/1/W"][...] = w
PY
"$CB" train --data csv --data-path train.csv --target digit --layers 0,16,0 --epochs 1 -o ok16.h5 --quiet >/dev/null 2>&1
"$CB" train --data gaussian --dim 30 --classes 10 --teacher-width 8 --n-train 50 --n-test 20 --layers 0,8,0 --epochs 1 -o in30.h5 --quiet >/dev/null 2>&1
"$CB" train --data gaussian --dim 64 --classes 7 --teacher-width 8 --n-train 50 --n-test 20 --layers 0,8,0 --epochs 1 -o out7.h5 --quiet >/dev/null 2>&1
for case in "in30.h5:input width 30" "out7.h5:output width 7" "nan.h5:is nan"; do
    f=${case%%:*}; what=${case#*:}
    sed -e "s|file: net.h5|file: [ok16.h5, $f]|" -e "s|out/mf.h5|out/bad-${f%.h5}.h5|" mf.yaml >bad.yaml
    mpirun -n 2 "$CB" run bad.yaml >bad.out 2>&1; rc=$?
    if [ $rc -ne 0 ] && grep -q "key 'model.file'" bad.out && grep -q "$f" bad.out && grep -q "$what" bad.out && \
       [ ! -e "out/bad-${f%.h5}.h5" ] && [ ! -e "out/bad-${f%.h5}.h5.journal" ]; then
        ok "$f refused before any results file (exit $rc): $(grep -m1 error bad.out)"
    else
        no "$f: exit $rc, output: $(head -3 bad.out)"
    fi
done

# ---- 3. keys follow the data's contents
cat >dk.yaml <<YAML
name: dk
seed: 9
output: $T/out/dk.h5
data: {kind: csv, path: d.csv, target: y, test_fraction: 0.25}
model: {depth: 2, widths: [6]}
train: {epochs: 3, batch: 20}
methods:
  - name: magnitude
    grid: {sparsity: [0.3, 0.6]}
YAML
$PY -c "
import numpy as np
r = np.random.default_rng(1); x = r.normal(size=(120, 5)); y = (x[:, 0] + x[:, 1] > 0).astype(int)
np.savetxt('d_a.csv', np.c_[x, y], delimiter=',', fmt='%.6g', header='a,b,c,d,e,y', comments='')
x[7, 2] += 0.5
np.savetxt('d_b.csv', np.c_[x, y], delimiter=',', fmt='%.6g', header='a,b,c,d,e,y', comments='')"
cp d_a.csv d.csv
keys_a=$("$CB" run --dry-run dk.yaml 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && length($2) == 16 {print $2, $3}')
check "run on the first contents" mpirun -n 2 "$CB" run --quiet dk.yaml
cp d_b.csv d.csv
keys_b=$("$CB" run --dry-run dk.yaml 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && length($2) == 16 {print $2, $3}')
same=$(comm -12 <(echo "$keys_a" | tr ' ' '\n' | sort) <(echo "$keys_b" | tr ' ' '\n' | sort) | wc -l)
check "changed contents, same path: every stage and task key changes" test -n "$keys_a" -a "$same" -eq 0
check "--resume after the change recomputes" mpirun -n 2 "$CB" run --quiet --resume dk.yaml
sed 's|out/dk.h5|out/fresh.h5|' dk.yaml >fresh.yaml
check "fresh run on the new contents" mpirun -n 2 "$CB" run --quiet fresh.yaml
check "resumed tables equal the fresh run's (timing columns aside)" $PY "$REPO/scripts/results_compare.py" out/dk.h5 out/fresh.h5
echo "test_model_files: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
