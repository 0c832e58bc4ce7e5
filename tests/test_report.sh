#!/usr/bin/env bash
# test_report — the analysis step end to end: a tiny sweep (gaussian teacher data, two
# widths, two seeds; mbp, magnitude and a small two-layer 002 task) runs under
# mpirun -n 2, `cbound report` turns it into figures and tables, and the test checks
# that every expected figure exists and is a PNG, that the bounds table has one row
# per width with the expected bound columns, and that a partial results file (the
# job killed while running) still gives a report that says what is missing.
# Prints "test_report: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
CB0=$(realpath "${CBOUND:-build/cbound}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export CBOUND_SCRIPTS=$(realpath scripts)
. tests/helpers.sh
T=$(mktemp -d /tmp/cbound-report.XXXXXX)
trap 'rm -rf "$T"' EXIT
CB=$T/cbound   # private copy: a concurrent `make` may relink build/cbound
private_copy "$CB0" "$CB"
cd "$T"
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }

cat >e2e.yaml <<YAML
name: report-e2e
seed: 8
output: $T/out/e2e.h5
data: {kind: gaussian, dim: 16, n_classes: 3, teacher_width: 24, n_train: 400, n_test: 200}
model: {depth: 3, widths: [16, 32]}
train: {lr: 0.1, epochs: 20, batch: 32}
seeds: [1, 2]
methods:
  - name: mbp
    grid: {d: [0.5, 2, 8]}
  - name: magnitude
    grid: {sparsity: [0.5, 0.9]}
  - name: twolayer
    grid: {M: 3, d: 8, N: 64, starts: 2, iters: 50, every: 10}
YAML
check "tiny sweep runs (-n 2)" mpirun -n 2 "$CB" run --quiet e2e.yaml
"$CB" report out/e2e.h5 >report.out 2>&1; rc=$?
check "cbound report exits 0" test "$rc" -eq 0
R=out/e2e/report
check "report.md written" test -s $R/report.md
for fig in fig_004_fig2_error fig_004_fig4_sparsity fig_000_fig1_width fig_004_fig1_weights \
           fig_002_etf_objective fig_002_etf_distance fig_002_etf_spread; do
    check "$fig.png exists and is a PNG" is_png $R/$fig.png
done
# Figures for papers: a PDF beside every PNG, PNGs at >= 200 dpi (read from the file's pHYs
# chunk, not from the manifest), and no legend with more than 8 entries (figures.json).
/usr/bin/python3 - "$R" >fig.out 2>&1 <<'PY'
import sys, os, glob, json, struct
R = sys.argv[1]
pngs = sorted(glob.glob(os.path.join(R, "fig_*.png")))
assert len(pngs) >= 7, pngs
for p in pngs:
    pdf = p[:-4] + ".pdf"
    assert os.path.exists(pdf) and open(pdf, "rb").read(5) == b"%PDF-", pdf
    data = open(p, "rb").read()
    i = data.find(b"pHYs")
    assert i > 0, (p, "no pHYs chunk")
    ppx, ppy, unit = struct.unpack(">IIB", data[i + 4:i + 13])
    assert unit == 1 and ppx * 0.0254 >= 199.5, (p, ppx * 0.0254)
print("pdf+dpi ok", len(pngs))
man = json.load(open(os.path.join(R, "figures.json")))
listed = {f["png"] for f in man["figures"]}
assert listed == {os.path.basename(p) for p in pngs}, (listed, pngs)
for f in man["figures"]:
    assert f["pdf"] == f["png"][:-4] + ".pdf" and f["max_legend_entries"] <= 8, f
    assert all(n <= 8 for n in f["legend_entries"]), f
print("legends ok", len(man["figures"]))
PY
check "every figure: a PDF beside its PNG, PNG at >= 200 dpi" grep -q '^pdf+dpi ok' fig.out
check "no legend with more than 8 entries (figures.json lists every figure)" grep -q '^legends ok' fig.out
check "report prints the like-for-like bounds section" grep -q "Bounds on the test error, like for like" report.out
check "report counts vacuous and not-applicable rows" \
    grep -Eq "error-scale bound rows in this file: [0-9]+; vacuous \(>= 1\): [0-9]+; theorem does not apply: [0-9]+" report.out
check "report states the operating-point rule" grep -q "Operating-point rule: per trained model, the most compressed task" report.out
check "report names biases as a failed hypothesis (these models have biases)" grep -q "network has biases" report.out
check "report prints the authors' code section in natural log" grep -q "as the authors' code computes them (natural log)" report.out
check "report prints the paper's Table 2 beside it" grep -q "The paper's Table 2 (as printed, natural log" report.out
# Operating-point table: one row per model, each bound cell a value with its flags.
/usr/bin/python3 - "$R/table_bounds_operating_point.csv" "$R/table_004_authors_ln.csv" >tab.out 2>&1 <<'PY'
import sys, pandas as pd
t = pd.read_csv(sys.argv[1])
assert set(t["width"]) <= {16, 32} and 1 <= len(t) <= 4, t["width"].tolist()   # one row per model with an operating point
need = ["sketch_004_thm5.2 [predicted_j]", "sketch_004_thm5.2 [measured_j]", "counting_004_lemmaE.1 [measured_nnz]",
        "arora2018_thm3.1 [as_004_states]", "test_error", "gen_gap", "kept_fraction"]
missing = [c for c in need if c not in t.columns]
assert not missing, missing
# biased models: every cell carries the not-applicable flag
cells = t["sketch_004_thm5.2 [measured_j]"].astype(str)
assert cells.str.endswith("!").all(), cells.tolist()
a = pd.read_csv(sys.argv[2])
assert sorted(a["width"].tolist()) == [16, 32] and "Ours (recipe)" in a and "Bartlett 2017 sqrt(C/n)" in a, a.columns
print("ok", len(t.columns))
PY
check "operating-point table: a row per model, flagged cells; authors' table per width" grep -q '^ok' tab.out
check "report lists nothing missing for a complete run" grep -q "Nothing: every figure and table this sweep" $R/report.md

# A partial file: a slow sweep killed (SIGKILL to the whole job) while running; the .h5
# rewritten every second from the journal is a partial file. The kill waits for events:
# three task records in the journal, then an .h5 written after them.
cat >slow.yaml <<YAML
name: report-partial
seed: 9
output: $T/out/slow.h5
data: {kind: gaussian, dim: 8, n_classes: 3, teacher_width: 8, n_train: 100, n_test: 50}
model: {depth: 2, widths: [8]}
train: {epochs: 2, batch: 25}
seeds: [1]
methods:
  - name: noop
    grid: {i: {range: [0, 200]}, spin_ms: 150}
YAML
setsid mpirun -n 2 "$CB" run --quiet --flush-every 1 slow.yaml >/dev/null 2>&1 &
job=$!
at_least() { [ "$(journal_records "$1")" -ge "$2" ]; }
wait_until 300 "3 task records in out/slow.h5.journal" at_least out/slow.h5.journal 3 && touch mark &&
    wait_until 60 "out/slow.h5 rewritten after them" test out/slow.h5 -nt mark
kill -9 -- -"$job" 2>/dev/null; wait "$job" 2>/dev/null
"$CB" report out/slow.h5 --quiet >partial.out 2>&1; rc=$?
check "report on a partial file exits 0" test "$rc" -eq 0
check "partial report says which tasks are missing" grep -Eq "[0-9]+ of 200 tasks have not finished" out/slow/report/report.md

# Errors: missing file, not a results file.
"$CB" report nothere.h5 >err1.out 2>&1; rc=$?
check "missing results file: non-zero exit" test "$rc" -ne 0
check "missing results file: message names it" grep -q "nothere.h5" err1.out
"$CB" report e2e.yaml >err2.out 2>&1; rc=$?
check "not an HDF5 file: non-zero exit and message" sh -c "test $rc -ne 0 && grep -q 'not an HDF5 file' err2.out"
echo "test_report: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
