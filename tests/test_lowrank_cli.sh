#!/usr/bin/env bash
# Tests for `cbound lowrank` (src/cmd/lowrank_cli.c), the distributed path of 003's
# data-driven compression: on a small trained model, LAPACK on one process, the
# distributed Gram + pdsyevd solver on 2 and 4 ranks and pdgesvd on 2 ranks print
# the same per-layer errors and accuracy; the saved model has layers of the asked
# rank (numpy) and loads with `cbound info`; usage errors exit 2, a missing model
# file exits 1 with the file named. Prints "lowrank_cli: N passed, N failed".
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

"$CB" train --data gaussian --dim 12 --classes 3 --teacher-width 16 --n-train 400 --n-test 200 \
    --depth 3 --width 20 --epochs 4 --lr 0.05 --seed 7 -o "$tmp/m.h5" >"$tmp/train.log" 2>&1 \
    && ok "trained a 12-20-20-3 model" || { bad "training failed: $(tail -3 "$tmp/train.log")"; }

# The per-layer lines (layer, shape, rank, error) and the accuracy line, without timings;
# `same A B`: equal shapes and ranks, errors within 1e-9 (rounding), the same accuracy line.
table() { grep -E '^ +[0-9]+ +[0-9]+ x [0-9]+ |^compressed:' "$1" | awk '{ if ($1 == "compressed:") print; else print $1, $2, $3, $4, $5, $6 }'; }
same() {
    paste <(table "$1") <(table "$2") | awk -F'\t' '
        { n++; split($1, a, " "); split($2, b, " ")
          if (a[1] == "compressed:") { if ($1 != $2) bad = 1; next }
          for (i = 1; i <= 5; ++i) if (a[i] != b[i]) bad = 1
          d = a[6] - b[6]; if (d < 0) d = -d; if (d > 1e-9) bad = 1 }
        END { exit (bad || n != 4) }'
}

"$CB" lowrank "$tmp/m.h5" --rank 3 --solver svd >"$tmp/ref.out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(table "$tmp/ref.out" | wc -l)" -eq 4 ] && ok "LAPACK (svd solver) on one process" \
    || bad "LAPACK run: exit $rc: $(tail -3 "$tmp/ref.out")"
for run in "2 scalapack" "4 scalapack" "2 pdgesvd"; do
    set -- $run
    mpirun -n "$1" "$CB" lowrank "$tmp/m.h5" --rank 3 --solver "$2" >"$tmp/d.out" 2>&1; rc=$?
    if [ $rc -eq 0 ] && same "$tmp/ref.out" "$tmp/d.out"; then
        ok "$2 on $1 ranks prints the same layer errors and accuracy as LAPACK"
    else bad "$2 on $1 ranks (exit $rc): $(diff <(table "$tmp/ref.out") <(table "$tmp/d.out") | head -6)"; fi
done

"$CB" lowrank "$tmp/m.h5" --rank 3 --mode svd --solver svd >"$tmp/svd1.out" 2>&1
mpirun -n 2 "$CB" lowrank "$tmp/m.h5" --rank 3 --mode svd >"$tmp/svd2.out" 2>&1; rc=$?
[ $rc -eq 0 ] && same "$tmp/svd1.out" "$tmp/svd2.out" && ok "mode svd: pdgesvd of W on 2 ranks = LAPACK" \
    || bad "mode svd on 2 ranks (exit $rc): $(diff <(table "$tmp/svd1.out") <(table "$tmp/svd2.out") | head -6)"

mpirun -n 2 "$CB" lowrank "$tmp/m.h5" --rank 3 --dense-last --out "$tmp/lr.h5" >"$tmp/out.log" 2>&1; rc=$?
ranks=$(/usr/bin/python3 -c "
import h5py, numpy as np
f = h5py.File('$tmp/lr.h5')
print(' '.join(str(np.linalg.matrix_rank(f['layers/%d/W' % l][:].astype(np.float64), tol=1e-4)) for l in range(3)))" 2>&1)
[ $rc -eq 0 ] && [ "$ranks" = "3 3 3" ] && grep -q '(kept)' "$tmp/out.log" \
    && ok "saved model: layer ranks $ranks (output layer kept: 3 rows)" || bad "saved model: exit $rc, ranks '$ranks'"
"$CB" info "$tmp/lr.h5" >"$tmp/info.log" 2>&1 && grep -q "network" "$tmp/info.log" \
    && ok "cbound info reads the compressed model" || bad "cbound info: $(tail -2 "$tmp/info.log")"

usage() { # name args...: must exit 2 with a message on stderr
    local name=$1; shift
    "$CB" lowrank "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ $rc -eq 2 ] && [ -s "$tmp/err" ]; then ok "usage error: $name"; else bad "usage error: $name (exit $rc)"; fi
}
usage "no model" --rank 2
usage "rank and fraction" "$tmp/m.h5" --rank 2 --rank-fraction 0.5
usage "unknown solver" "$tmp/m.h5" --solver qr
usage "unknown option" "$tmp/m.h5" --ranks 2
"$CB" lowrank "$tmp/missing.h5" --rank 2 >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "missing.h5" "$tmp/err" && ok "missing model file: exit 1 naming the file" \
    || bad "missing model file: exit $rc, $(cat "$tmp/err")"
"$CB" lowrank --help >"$tmp/help" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "usage: cbound lowrank" "$tmp/help" && ok "--help" || bad "--help (exit $rc): $(head -2 "$tmp/help")"

echo "lowrank_cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
