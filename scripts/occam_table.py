#!/usr/bin/python3
"""occam_table.py RESULTS.h5 [--best] [--csv OUT.csv] — the non-vacuous bounds of a run, side by side.

One row per task that has a code length (method subspace, or any method with measure.code = N):
test error of the decoded model, its training error, the code length and its parts, the Occam
bound (Langford 2005 Thm 4.1, binomial tail inversion) and its kl form, and whether it is vacuous.
--best keeps the row with the smallest bound per (data set, method): allowed without paying more
bits because every hypothesis is in one prefix-free code whose hyperparameters are part of the
code (docs/nonvacuous.md). For the report: `occam_rows(path)` returns the same table as a DataFrame.
"""
import sys

import h5py
import numpy as np
import pandas as pd

COLS = ["method", "params", "width", "seed", "n_train", "train_err_count", "code_test_err", "test_acc",
        "code_bits", "code_bits_arch", "code_bits_key", "code_bits_hyper", "code_bits_codebook",
        "code_bits_counts", "code_bits_symbols", "code_bits_positions", "occam_bound", "occam_bound_kl",
        "vacuous", "compress_s"]


def occam_rows(path):
    with h5py.File(path, "r") as f:
        t = f["tasks"][:]
    df = pd.DataFrame({c: t[c] for c in t.dtype.names if c in COLS or c == "status"})
    for c in ("method", "params", "status"):
        df[c] = df[c].str.decode("utf-8") if df[c].dtype == object else df[c].astype(str)
    df = df[(df["status"] == "ok") & np.isfinite(df["code_bits"])].copy()
    df["train_err"] = df["train_err_count"] / df["n_train"]
    df["test_err"] = df["code_test_err"]
    return df


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    df = occam_rows(argv[1])
    if "--best" in argv:
        df = df.loc[df.groupby("method")["occam_bound"].idxmin()]
    show = ["method", "params", "width", "train_err", "test_err", "code_bits", "code_bits_symbols", "occam_bound",
            "occam_bound_kl", "vacuous", "compress_s"]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60, "display.max_rows", 500):
        print(df[show].sort_values("occam_bound").to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if "--csv" in argv:
        df.to_csv(argv[argv.index("--csv") + 1], index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
