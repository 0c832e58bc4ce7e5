#!/usr/bin/env bash
# End-to-end test of the Occam-bound columns through the runner: a tiny Gaussian-teacher sweep
# with the `subspace` method and magnitude pruning coded by `measure.code: 4`, under
# `mpirun -n 1` and `-n 2`. Checks the tasks table's layout (h5dump -H lists every code_bits* and
# bound column), that both runs give identical rows (the streams do not depend on the rank
# count), that code_bits is the sum of its parts, that occam_bound is recomputed from
# (train_err_count, n_train, code_bits) by an independent route (scipy-free: a Python
# long-sum of the binomial CDF in exact fractions and bisection) and that the weights code of the
# pruned model charges its nonzero positions. Prints "occam_sweep: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CB=${CBOUND:-build/cbound}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1
pass=0; fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

for n in 1 2; do
    cat >"$tmp/s$n.yaml" <<EOF
name: occam-sweep
seed: 2385
output: $tmp/s$n.h5
data: {kind: gaussian, dim: 12, n_classes: 3, teacher_width: 16, n_train: 600, n_test: 300, scale: none}
model: {depth: 2, widths: [24]}
train: {lr: 0.05, epochs: 3, batch: 32}
measure: {norms: false, latala: false, sparsity: false, margins: false, code: 4}
methods:
  - name: subspace
    grid: {d: [40, 80], levels: 3, epochs: 8, qat_epochs: 2, batch: 64, lr: 0.05}
  - name: magnitude
    grid: {sparsity: 0.6}
EOF
    if mpirun -n "$n" "$CB" run --quiet "$tmp/s$n.yaml" >"$tmp/log$n" 2>&1; then ok "sweep under mpirun -n $n"
    else bad "sweep under mpirun -n $n: $(tail -3 "$tmp/log$n")"; fi
done

hdr=$(h5dump -H -d /tasks "$tmp/s1.h5" 2>&1)
missing=""
for c in code_bits code_bits_arch code_bits_key code_bits_hyper code_bits_codebook code_bits_counts \
         code_bits_symbols code_bits_positions code_ideal_symbols n_train train_err_count code_test_err delta \
         occam_bound occam_bound_kl vacuous; do
    echo "$hdr" | grep -q "H5T_IEEE_F64LE \"$c\";" || missing="$missing $c"
done
[ -z "$missing" ] && ok "h5dump -H: the tasks table has every code/bound column" || bad "missing columns:$missing"

out=$(/usr/bin/python3 - "$tmp/s1.h5" "$tmp/s2.h5" <<'EOF'
import sys, math
from fractions import Fraction
import h5py, numpy as np
t1 = {r["key"]: r for r in h5py.File(sys.argv[1], "r")["tasks"][:]}
t2 = {r["key"]: r for r in h5py.File(sys.argv[2], "r")["tasks"][:]}
skip = ("compress_s", "measure_s", "worker", "t_start", "t_end", "wall_s")
same = t1.keys() == t2.keys() and all(
    all((a == b) or (a != a and b != b) for name, a, b in zip(t1[k].dtype.names, t1[k], t2[k]) if name not in skip)
    for k in t1)
print("rows1v2", int(same))
if not same:
    print("keys", sorted(t1.keys()) == sorted(t2.keys()), [n for k in t1 if k in t2 for n, a, b in zip(t1[k].dtype.names, t1[k], t2[k]) if n not in skip and not (a == b or (a != a and b != b))])

def log_cdf(k, n, p):  # ln P[Bin(n,p) <= k]: exact rational terms, summed as big integers
    p = Fraction(p).limit_denominator(10**15)
    s = sum(math.comb(n, j) * p.numerator**j * (p.denominator - p.numerator)**(n - j) for j in range(k + 1))
    return (math.log(s) if s < 10**300 else s.bit_length() * math.log(2) + math.log(s / 2**s.bit_length())) \
        - n * math.log(p.denominator)

def inv(k, n, log_conf):
    lo, hi = k / n, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if log_cdf(k, n, mid) >= log_conf: lo = mid
        else: hi = mid
    return hi

for r in t1.values():
    m = r["method"].decode()
    parts = sum(r[c] for c in ("code_bits_arch", "code_bits_key", "code_bits_hyper", "code_bits_codebook",
                               "code_bits_counts", "code_bits_symbols", "code_bits_positions"))
    k, n, bits = int(r["train_err_count"]), int(r["n_train"]), float(r["code_bits"])
    ref = inv(k, n, math.log(r["delta"]) - bits * math.log(2))
    print(m, r["params"].decode(), "parts", int(parts == r["code_bits"]), "bound %.9f ref %.9f" % (r["occam_bound"], ref),
          "match", int(abs(r["occam_bound"] - ref) < 1e-8), "pos", r["code_bits_positions"], "key", r["code_bits_key"])
EOF
)
echo "$out" | sed 's/^/# /'
echo "$out" | grep -q "^rows1v2 1" && ok "mpirun -n 1 and -n 2 give identical rows" || bad "rows differ between 1 and 2 ranks"
n_tasks=$(echo "$out" | grep -c " parts ")
[ "$n_tasks" -eq 3 ] && ok "3 tasks carry a code length" || bad "expected 3 coded tasks, found $n_tasks"
[ "$(echo "$out" | grep -c 'parts 1 .*match 1')" -eq "$n_tasks" ] && ok "code_bits = sum of parts; occam_bound = exact-fraction binomial inversion (Python)" \
    || bad "parts or bound mismatch"
echo "$out" | grep "^magnitude" | grep -Eq "pos [1-9][0-9.]* key 0.0" && ok "the pruned model's code charges its nonzero positions, no key" \
    || bad "magnitude row: $(echo "$out" | grep '^magnitude')"
# the sweep seed 2385 in Elias delta (N = 2386: 11 + 2*3 + 1 = 18 bits) and the 16-bit tag
[ "$(echo "$out" | grep '^subspace' | grep -c 'pos 0.0 key 34.0')" -eq 2 ] && ok "subspace codes: no positions, seed + tag 34 bits" \
    || bad "subspace rows: $(echo "$out" | grep '^subspace')"

# The random conv feature map (data.features: conv) on 600 / 300 Fashion-MNIST images: the
# classifier is MLP∘φ, 576-24-10 after φ. Identical rows under -n 1 and -n 2 (φ depends on the
# settings and the seed only); code_bits_arch = the MLP header (type gamma(2) + depth gamma(2) +
# delta(576) + delta(24) + delta(10) + 2 + 1 = 3 + 3 + 16 + 9 + 8 + 3 = 42 bits for the subspace
# code, 40 with the weights code's type gamma(1)) + φ's prefix (53 bits); the subspace key stays
# 34 bits (φ is keyed by the code's seed), the weights code adds φ's seed delta(2386) = 18 bits.
for n in 1 2; do
    cat >"$tmp/f$n.yaml" <<EOF
name: occam-features
seed: 2385
output: $tmp/f$n.h5
data: {kind: fashion-mnist, n_train: 600, n_test: 300, features: conv}
model: {depth: 2, widths: [24]}
train: {lr: 0.01, epochs: 2, batch: 64}
measure: {norms: false, latala: false, sparsity: false, margins: false, code: 4}
methods:
  - name: subspace
    grid: {d: 60, levels: 3, epochs: 4, qat_epochs: 1, batch: 64, lr: 0.05, refine: 5}
  - name: magnitude
    grid: {sparsity: 0.6}
EOF
    mpirun -n "$n" "$CB" run --quiet "$tmp/f$n.yaml" >"$tmp/flog$n" 2>&1 || bad "features sweep under mpirun -n $n: $(tail -3 "$tmp/flog$n")"
done
fout=$(/usr/bin/python3 - "$tmp/f1.h5" "$tmp/f2.h5" <<'EOF'
import sys
import h5py
t1 = {r["key"]: r for r in h5py.File(sys.argv[1], "r")["tasks"][:]}
t2 = {r["key"]: r for r in h5py.File(sys.argv[2], "r")["tasks"][:]}
skip = ("compress_s", "measure_s", "worker", "t_start", "t_end", "wall_s")
same = t1.keys() == t2.keys() and len(t1) == 2 and all(
    all((a == b) or (a != a and b != b) for name, a, b in zip(t1[k].dtype.names, t1[k], t2[k]) if name not in skip)
    for k in t1)
print("rows1v2", int(same))
for r in t1.values():
    print(r["method"].decode(), "arch %.0f key %.0f bound %.4f" % (r["code_bits_arch"], r["code_bits_key"], r["occam_bound"]))
EOF
)
echo "$fout" | sed 's/^/# /'
echo "$fout" | grep -q "^rows1v2 1" && ok "features: mpirun -n 1 and -n 2 give identical rows" || bad "features: rows differ or tasks missing"
echo "$fout" | grep -q "^subspace arch 95 key 34 " && ok "features: subspace code arch 42 + 53 (phi) = 95 bits, key 34 (no bits for phi's seed)" \
    || bad "features subspace row: $(echo "$fout" | grep '^subspace')"
echo "$fout" | grep -q "^magnitude arch 93 key 18 " && ok "features: weights code arch 40 + 53 = 93 bits, key delta(2386) = 18 bits (phi's seed)" \
    || bad "features magnitude row: $(echo "$fout" | grep '^magnitude')"

echo "occam_sweep: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
