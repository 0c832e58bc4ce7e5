#!/usr/bin/python3
"""cbound report — turn a cbound results file into the papers' figures and tables.

Usage: report.py RESULTS.h5 [--out DIR] [--quiet]

Reads the flat tables of a cbound results file (tasks, layers, bounds, series;
schema "cbound-results") and the model files of its run directory, and writes
PNG figures and a markdown file `report.md` into DIR (default: the run
directory next to the results file, `<results without .h5>/report/`). Every
figure and table is produced only when the tasks it needs are present; what is
missing is listed at the end of report.md, so the report works on partial files
(a sweep still running or interrupted).

Figures and tables (the paper each reproduces):
  004 Fig. 2   pruning error vs d: measured max ||x^L - x^L||_2 next to the
               Lemma 4.1/C.5 (kappa = 1) and Lemma D.3 bounds        fig_004_fig2_error.png
  004 Fig. 4   measured max(j_r, j_c) vs Lemma 5.1's bound            fig_004_fig4_sparsity.png
  004 Tab 1-3  generalization bounds (log10) next to the true
               generalization error, per width                        report.md
  000 Fig. 1   normalized compression error vs width                  fig_000_fig1_width.png
  002 Fig. 2-4 ETF objective, distance to ETF, spread of starts       fig_002_*.png
  003          pre-activation error / accuracy vs rank                fig_003_rank.png
  004 Fig 1,6  weight histograms against the fitted Gaussian          fig_004_fig1_weights.png
"""
import argparse
import glob
import math
import os
import sys

import numpy as np

try:
    import h5py
    import pandas as pd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit("cbound report: missing Python package (%s)\n  hint: apt-get install python3-h5py "
             "python3-pandas python3-matplotlib python3-numpy" % e)

LN10 = math.log(10.0)
# Methods that compress a trained model (everything but the standalone ones).
COMPRESS_METHODS = ("mbp", "magnitude", "random", "imp", "greedy", "structured", "lowrank")


# ------------------------------------------------------------------ loading


def load_table(f, name):
    """One table as a DataFrame with byte strings decoded; None when absent or empty."""
    if name not in f:
        return None
    arr = f[name][:]
    if arr.size == 0:
        return None
    df = pd.DataFrame(arr)
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].map(lambda b: b.decode("utf-8", "replace").rstrip("\0") if isinstance(b, bytes) else b)
    return df


def parse_params(text):
    """'d=0.5;variant=code' -> {'d': 0.5, 'variant': 'code'} (numbers parsed)."""
    out = {}
    for item in filter(None, (text or "").split(";")):
        k, _, v = item.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


class Report:
    def __init__(self, path, outdir, quiet):
        self.path = path
        self.outdir = outdir
        self.quiet = quiet
        self.md = []          # markdown lines
        self.missing = []     # what could not be produced and why
        self.figures = []
        with h5py.File(path, "r") as f:
            self.attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            self.tasks = load_table(f, "tasks")
            self.layers = load_table(f, "layers")
            self.bounds = load_table(f, "bounds")
            self.series = load_table(f, "series")
        if self.tasks is not None:
            params = self.tasks["params"].map(parse_params)
            self.tasks["p"] = params
        self.rundir = os.path.splitext(path)[0]
        self.not_in_sweep = []
        self.sweep_methods = set()
        try:
            import yaml
            sw = yaml.safe_load(self.attrs.get("sweep_text", "")) or {}
            self.sweep_methods = {m.get("name") for m in sw.get("methods", []) if isinstance(m, dict)}
        except Exception:  # an unreadable sweep text only affects the wording of "missing"
            if self.tasks is not None:
                self.sweep_methods = set(self.tasks["method"])

    def lack(self, what, methods=None):
        """Record a figure/table that could not be made: missing data, or not in this sweep at all."""
        if methods is not None and self.sweep_methods and not (self.sweep_methods & set(methods)):
            self.not_in_sweep.append("%s (the sweep has no %s task)" % (what.split(":")[0], " / ".join(sorted(methods))))
        else:
            self.missing.append(what)

    # -------------------------------------------------------------- helpers

    def say(self, line=""):
        self.md.append(line)

    def savefig(self, fig, name, caption):
        p = os.path.join(self.outdir, name)
        fig.savefig(p, dpi=120, bbox_inches="tight")
        plt.close(fig)
        self.figures.append(name)
        self.say("![%s](%s)" % (caption, name))
        self.say("")
        self.say("*%s*" % caption)
        self.say("")

    def table(self, df, floatfmt="%.4g"):
        """DataFrame -> markdown table lines."""
        cols = [str(c) for c in df.columns]
        self.say("| " + " | ".join(cols) + " |")
        self.say("|" + "---|" * len(cols))
        for _, row in df.iterrows():
            cells = []
            for c, v in zip(cols, row.values):
                if c in ("width", "M", "d", "layer", "seed") and isinstance(v, (int, float, np.number)) and np.isfinite(v):
                    cells.append("%d" % int(v))
                elif isinstance(v, (float, np.floating)) and np.isinf(v):
                    cells.append("inf")
                elif isinstance(v, (float, np.floating)):
                    cells.append("n/a" if not np.isfinite(v) else floatfmt % v)
                else:
                    cells.append(str(v))
            self.say("| " + " | ".join(cells) + " |")
        self.say("")

    def ok_tasks(self, method=None):
        if self.tasks is None:
            return None
        t = self.tasks[self.tasks["status"] == "ok"]
        if method is not None:
            t = t[t["method"] == method]
        return t if len(t) else None

    # -------------------------------------------------------------- sections

    def summary(self):
        self.say("# cbound report: %s" % os.path.basename(self.path))
        self.say("")
        a = self.attrs
        for k in ("sweep_name", "cbound_version", "cbound_git_rev", "start_time", "end_time", "mpi_size", "complete"):
            if k in a:
                self.say("- %s: %s" % (k, a[k]))
        if self.tasks is None:
            self.say("- no finished tasks yet")
            self.missing.append("the tasks table is empty: nothing has finished yet")
            return
        t = self.tasks
        n_ok = int((t["status"] == "ok").sum())
        n_fail = int((t["status"] != "ok").sum())
        total = a.get("n_tasks")
        self.say("- tasks finished: %d ok, %d failed%s" % (n_ok, n_fail,
                 "" if total is None else " of %d in the sweep" % int(total)))
        if total is not None and n_ok + n_fail < int(total):
            self.missing.append("%d of %d tasks have not finished (partial file): figures show what exists"
                                % (int(total) - n_ok - n_fail, int(total)))
        self.say("")
        g = t.groupby(["method", "width", "status"]).size().reset_index(name="tasks")
        self.say("## Tasks by method and width")
        self.say("")
        self.table(g)
        if n_fail:
            self.say("### Failed tasks")
            self.say("")
            self.table(t[t["status"] != "ok"][["key", "method", "params", "reason"]].head(20))

    def fig2_error(self):
        """004 Figure 2: measured pruning error vs d against Lemma C.5 and D.3 bounds."""
        t = self.ok_tasks("mbp")
        need = ["mbp_d", "out_err_max", "outbound_c5_log"]
        if t is None or not all(c in t for c in need) or t["outbound_c5_log"].isna().all():
            self.lack("004 Figure 2: needs `mbp` tasks with the output-error bounds (measure.latala)", ["mbp"])
            return
        widths = sorted(t["width"].unique())
        fig, axes = plt.subplots(1, len(widths), figsize=(5 * len(widths), 4), squeeze=False)
        for ax, w in zip(axes[0], widths):
            s = t[t["width"] == w].sort_values("mbp_d")
            g = s.groupby("mbp_d")
            d = np.array(sorted(s["mbp_d"].unique()))
            ax.plot(d, g["out_err_max"].mean().values, "o-", label="measured max ||x^L - x^L||_2")
            ax.plot(d, np.exp(g["outbound_c5_log"].mean().values), "s--", label="Lemma 4.1/C.5 bound (kappa=1, C=1)")
            if "outbound_d3_log" in s and not s["outbound_d3_log"].isna().all():
                ax.plot(d, np.exp(g["outbound_d3_log"].mean().values), "^--", label="Lemma D.3 bound (kappa_l, C=1)")
            ax.set_yscale("log")
            ax.set_xlabel("MBP parameter d")
            ax.set_ylabel("output error (logit units, L2 norm)")
            ax.set_title("width %d" % w)
            ax.legend(fontsize=7)
        self.say("## 004 Figure 2: pruning error vs the Lemma 4.1/C.5 and D.3 bounds")
        self.say("")
        self.savefig(fig, "fig_004_fig2_error.png",
                     "Measured max over training inputs of the output error after randomized MBP, vs the "
                     "bounds of 004 Lemma 4.1/C.5 and D.3 (Latala constant C = 1, mean over seeds).")

    def fig4_sparsity(self):
        """004 Figure 4: measured max(j_r, j_c) vs Lemma 5.1's bound, per layer."""
        t = self.ok_tasks("mbp")
        if t is None or self.layers is None or "j_bound" not in self.layers or self.layers["j_bound"].isna().all():
            self.lack("004 Figure 4: needs `mbp` tasks with measure.sparsity (j_r, j_c, Lemma 5.1)", ["mbp"])
            return
        lay = self.layers.merge(t[["key", "width", "mbp_d"]], on="key")
        lay["j_max"] = lay[["max_nnz_row", "max_nnz_col"]].max(axis=1)
        widths = sorted(lay["width"].unique())
        fig, axes = plt.subplots(1, len(widths), figsize=(5 * len(widths), 4), squeeze=False)
        for ax, w in zip(axes[0], widths):
            s = lay[lay["width"] == w]
            for l in sorted(s["layer"].unique()):
                sl = s[s["layer"] == l].groupby("mbp_d")[["j_max", "j_bound"]].mean()
                line, = ax.plot(sl.index, sl["j_max"], "o-", label="layer %d measured" % l)
                ax.plot(sl.index, sl["j_bound"], "--", color=line.get_color(), label="layer %d Lemma 5.1" % l)
            ax.set_xlabel("MBP parameter d")
            ax.set_ylabel("max(j_r, j_c) (nonzeros per row/column)")
            ax.set_yscale("log")
            ax.set_title("width %d" % w)
            ax.legend(fontsize=6)
        self.say("## 004 Figure 4: distributed sparsity")
        self.say("")
        self.savefig(fig, "fig_004_fig4_sparsity.png",
                     "Measured max(j_r, j_c) per layer after randomized MBP vs 004 Lemma 5.1's bound "
                     "3 lambda max(d1, d2) chi (dashed).")

    def tables_bounds(self):
        """004 Tables 1-3: log10 of each bound per width, next to the true generalization error."""
        if self.bounds is None or self.tasks is None:
            self.lack("004 Tables 1-3: no rows in the bounds table (measure.margins off or no finished tasks)", COMPRESS_METHODS)
            return
        b = self.bounds.merge(self.tasks[["key", "width", "seed", "method", "gen_error", "status"]], on="key")
        b = b[b["status"] == "ok"]
        if not len(b):
            self.lack("004 Tables 1-3: bounds rows exist only for failed tasks")
            return
        b["bound"] = b["name"] + np.where(b["variant"] != "", " [" + b["variant"] + "]", "")
        b["log10"] = b["log_value"] / LN10
        # Per (width, seed, bound): the tightest over the tasks of that model (the recipe picks the best d);
        # then the mean over seeds.
        per_seed = b.groupby(["width", "seed", "bound"])["log10"].min().reset_index()
        # np.mean, not pandas' mean: pandas' compensated sum turns inf + inf into NaN.
        piv = per_seed.groupby(["width", "bound"])["log10"].apply(lambda v: float(np.mean(v.values)))
        piv = piv.unstack("bound")
        if "orig_train_acc" in self.tasks:
            ok = self.tasks[self.tasks["status"] == "ok"]
            ge = (ok["orig_train_acc"] - ok["orig_test_acc"]).groupby(ok["width"]).mean()
            piv.insert(0, "true gen. error (orig)", ge)
        piv = piv.reset_index()
        self.say("## 004 Tables 1-3: generalization bounds (log10), per width")
        self.say("")
        self.say("Each bound column is log10 of the bound, tightest over the tasks of a model, mean over seeds; "
                 "`true gen. error` is train accuracy - test accuracy of the original model (linear scale). "
                 "Constants dropped by each bound are listed in the README (Measurements and bounds). "
                 "`inf`: the margin that variant uses (e.g. the minimum training margin in the authors' code) "
                 "is <= 0 because the model does not fit every training point.")
        self.say("")
        self.table(piv, "%.3f")
        if "gamma_p05" in self.tasks:
            ok = self.tasks[(self.tasks["status"] == "ok") & self.tasks["method"].isin(COMPRESS_METHODS)]
            bad = ok[~(ok["gamma_p05"] > 0)]
            if len(bad) and not (b["variant"] == "paper").any():
                self.say("No `paper` variants of Bartlett 2017 / Neyshabur 2015 / 2017: they use gamma = the 5th "
                         "percentile of the training margins, which is <= 0 for these models (training accuracy "
                         "below 95%%; median gamma_p05 = %.3g). Train longer (e.g. `train.stop_ce: 0.01`) to get "
                         "them." % float(np.median(bad["gamma_p05"])))
                self.say("")
        piv.to_csv(os.path.join(self.outdir, "table_004_bounds.csv"), index=False)

    def fig_width_000(self):
        """000 Figure 1: normalized compression error vs width (mean +- std over seeds)."""
        t = self.ok_tasks()
        if t is None or "out_err_norm" not in t or t["out_err_norm"].isna().all():
            self.lack("000 Figure 1: needs compression tasks with out_err_norm", COMPRESS_METHODS)
            return
        t = t[~t["out_err_norm"].isna()]
        if t["width"].nunique() < 2:
            self.lack("000 Figure 1: needs at least two widths (found %d)" % t["width"].nunique())
            return
        fig, ax = plt.subplots(figsize=(9, 4.5))
        for (m, p), s in t.groupby(["method", "params"]):
            g = s.groupby("width")["out_err_norm"]
            mu, sd = g.mean(), g.std().fillna(0.0)
            ax.errorbar(mu.index, mu.values, yerr=sd.values, marker="o", capsize=3,
                        label="%s %s" % (m, p.replace("method=", "")))
        ax.set_xlabel("hidden width")
        ax.set_ylabel("normalized error E||f - f^||^2 / E||f||^2")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5), ncol=1 + t.groupby(["method", "params"]).ngroups // 30)
        self.say("## 000 Figure 1: normalized compression error vs width")
        self.say("")
        self.savefig(fig, "fig_000_fig1_width.png",
                     "Normalized output error of the compressed network vs hidden width "
                     "(mean +- standard deviation over seeds), per method and setting.")

    def figs_002(self):
        """002 Figures 2-4 and Theorem 1 from the `twolayer` tasks."""
        t = self.ok_tasks("twolayer")
        if t is None or "etf_R_gd" not in t:
            self.lack("002 Figures 2-4: no finished `twolayer` tasks", ["twolayer"])
            return
        t = t.copy()
        t["M"] = t["p"].map(lambda p: p.get("M", np.nan))
        t["d"] = t["p"].map(lambda p: p.get("d", np.nan))
        self.say("## 002 Figures 2-4: gradient ascent of the limit objective vs the ETF")
        self.say("")
        fig_t = t[~t["etf_R_gd"].isna()]
        if len(fig_t):
            g = fig_t.groupby("M")[["etf_R_gd", "etf_R_etf", "etf_R_rel_gap"]].mean()
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
            a1.plot(g.index, g["etf_R_gd"], "o-", label="GD (best of the starts)")
            a1.plot(g.index, g["etf_R_etf"], "x--", label="ETF value (002 Lemma 5)")
            a1.set_xlabel("compressed width M")
            a1.set_ylabel("limit objective R~(V) = 1' G_VV^+ 1")
            a1.legend(fontsize=7)
            gap = g["etf_R_rel_gap"].abs().clip(lower=1e-17)
            a2.semilogy(g.index, gap, "o-")
            a2.set_xlabel("compressed width M")
            a2.set_ylabel("|R~_GD - R~_ETF| / R~_ETF")
            self.savefig(fig, "fig_002_etf_objective.png",
                         "002 Figure 2: the limit objective reached by Riemannian gradient ascent vs the ETF value, "
                         "and their relative gap (mean over seeds).")
            self.table(g.reset_index(), "%.12g")
        ser = self.series if self.series is not None else pd.DataFrame(columns=["key", "name"])
        ser = ser[ser["key"].isin(t["key"])]
        for base, fname, ylab, cap in (
                ("etf_dist", "fig_002_etf_distance.png", "||G_VV - G_ETF||_F",
                 "002 Figure 3: distance of the Gram matrix to the ETF's along the iterations (band: min to max "
                 "over starts), per M."),
                ("etf_R", "fig_002_etf_spread.png", "R~(V) along the iterations",
                 "002 Figure 4: the objective along the iterations, band from the worst to the best start, per M.")):
            lo, hi = ser[ser["name"] == base + "_min"], ser[ser["name"] == base + "_max"]
            if not len(lo):
                self.missing.append("002: no `%s_min/_max` series" % base)
                continue
            fig, ax = plt.subplots(figsize=(6, 4))
            keys = t[t["key"].isin(lo["key"])].sort_values("M")["key"].tolist()
            if len(keys) > 8:
                keys = keys[:: max(1, len(keys) // 8)]
            for k in keys:
                a = lo[lo["key"] == k].sort_values("i")
                b = hi[hi["key"] == k].sort_values("i")
                M = t.loc[t["key"] == k, "M"].iloc[0]
                line, = ax.plot(b["x"], b["y"], "-", lw=1, label="M=%g" % M)
                ax.fill_between(a["x"].values, a["y"].values, b["y"].values, color=line.get_color(), alpha=0.25)
            if base == "etf_dist":
                ax.set_yscale("log")
            ax.set_xlabel("iteration")
            ax.set_ylabel(ylab)
            ax.legend(fontsize=6)
            self.savefig(fig, fname, cap)
        th = ser[ser["name"] == "thm1_gap_N"]
        if len(th):
            fig, ax = plt.subplots(figsize=(6, 4))
            for k, g in th.groupby("key"):
                d = t.loc[t["key"] == k, "d"].iloc[0]
                g = g.sort_values("x")
                ax.loglog(g["x"], g["y"], "o-", ms=3, label="d=%g" % d)
            xs = np.array(sorted(th["x"].unique()), dtype=float)
            ax.loglog(xs, th["y"].max() * np.sqrt(xs[0] / xs), "k:", label="slope -1/2")
            ax.set_xlabel("teacher width N")
            ax.set_ylabel("|L(V,W) - L~(V)|")
            ax.legend(fontsize=6)
            self.savefig(fig, "fig_002_thm1.png",
                         "002 Theorem 1: gap between the exact and the limit loss vs N, per input dimension d "
                         "(the theorem predicts 1/sqrt(N) + 1/d).")

    def figs_003(self):
        """003: relative pre-activation error vs rank, data-driven vs truncated SVD, per layer."""
        if self.series is None:
            self.lack("003 rank curves: no series rows", ["lowrank"])
            return
        ser = self.series
        cur = ser[ser["name"].str.match(r"lr_(data|svd)_L\d+$")]
        if not len(cur):
            self.lack("003 rank curves: no `lowrank` tasks with curves (grid curves: 1)", ["lowrank"])
            return
        cur = cur.assign(mode=cur["name"].str.extract(r"lr_(data|svd)_")[0],
                         layer=cur["name"].str.extract(r"_L(\d+)$")[0].astype(int))
        layers = sorted(cur["layer"].unique())
        fig, axes = plt.subplots(1, len(layers), figsize=(4.5 * len(layers), 3.8), squeeze=False)
        for ax, l in zip(axes[0], layers):
            for mode, style in (("svd", "--"), ("data", "-")):
                c = cur[(cur["layer"] == l) & (cur["mode"] == mode)]
                for k, g in c.groupby("key"):
                    g = g.sort_values("x")
                    ax.semilogy(g["x"], g["y"].clip(lower=1e-17), style,
                                label="%s (%s)" % ("data-driven" if mode == "data" else "truncated SVD", k[:6]))
            ax.set_xlabel("rank r")
            ax.set_ylabel("||(W - W^)X||_F / ||WX||_F")
            ax.set_title("layer %d" % l)
            ax.legend(fontsize=6)
        self.say("## 003: pre-activation error vs rank")
        self.say("")
        self.savefig(fig, "fig_003_rank.png",
                     "003: relative pre-activation reconstruction error on training inputs vs rank, data-driven "
                     "(closed form through the SVD of WX) vs data-agnostic truncated SVD.")
        t = self.ok_tasks("lowrank")
        if t is not None and "lowrank_param_fraction" in t:
            g = t.groupby(["width", "params"])[["lowrank_param_fraction", "test_acc", "orig_test_acc"]].mean()
            self.table(g.reset_index())

    def figs_series(self):
        """002 Figures 2-4 and 003 rank curves, and any other series, from the series table."""
        if self.series is None:
            return  # the 002/003 sections say what they lack
        s = self.series.merge(self.tasks[["key", "method", "params", "width", "seed"]], on="key", how="left")
        special = s["name"].str.match(r"(etf_|thm1_|lr_(data|svd)_L)")
        for name, g in s[~special].groupby("name"):
            fig, ax = plt.subplots(figsize=(6, 4))
            for key, gk in g.groupby("key"):
                gk = gk.sort_values("i")
                lab = "%s %s" % (gk["method"].iloc[0], gk["params"].iloc[0])
                ax.plot(gk["x"], gk["y"], marker=".", label=lab[:60])
            ax.set_xlabel(SERIES_AXES.get(name, ("x", "y"))[0])
            ax.set_ylabel(SERIES_AXES.get(name, ("x", "y"))[1])
            scale = SERIES_AXES.get(name, ("", "", "linear"))
            if len(scale) > 2 and scale[2] == "log":
                ax.set_yscale("log")
            if g["key"].nunique() <= 12:
                ax.legend(fontsize=6)
            fname = "fig_series_%s.png" % name.replace("/", "_")
            self.say("## Series `%s`" % name)
            self.say("")
            self.savefig(fig, fname, SERIES_CAPTION.get(name, "Series %s from the series table." % name))

    def fig_weights(self):
        """004 Figures 1 and 6: weight histograms of the trained models against the fitted Gaussian."""
        models = sorted(glob.glob(os.path.join(self.rundir, "models", "*.h5")))
        if not models:
            self.lack("004 Figures 1/6: no model files under %s/models" % self.rundir)
            return
        shown = []
        for p in models:
            try:
                with h5py.File(p, "r") as f:
                    depth = int(f.attrs.get("depth", len(f["layers"])))
                    Ws = [f["layers/%d/W" % l][:] for l in range(depth)]
            except (OSError, KeyError) as e:
                self.lack("004 Figures 1/6: cannot read %s (%s)" % (p, e))
                continue
            width = Ws[0].shape[0]
            if width in [w for w, _ in shown]:
                continue
            shown.append((width, Ws))
            if len(shown) >= 3:
                break
        if not shown:
            return
        nl = max(len(W) for _, W in shown)
        fig, axes = plt.subplots(len(shown), nl, figsize=(3.2 * nl, 2.6 * len(shown)), squeeze=False)
        for r, (width, Ws) in enumerate(shown):
            for l, W in enumerate(Ws):
                ax = axes[r][l]
                w = W.ravel().astype(np.float64)
                sd = w.std()
                ax.hist(w, bins=100, density=True, alpha=0.6)
                xs = np.linspace(w.min(), w.max(), 300)
                ax.plot(xs, np.exp(-(xs - w.mean()) ** 2 / (2 * sd * sd)) / (sd * math.sqrt(2 * math.pi)), "r-",
                        lw=1)
                ax.set_title("width %d, layer %d" % (width, l), fontsize=8)
                ax.set_xlabel("weight value", fontsize=7)
                ax.tick_params(labelsize=6)
            for l in range(len(Ws), nl):
                axes[r][l].axis("off")
        self.say("## 004 Figures 1 and 6: weight distributions")
        self.say("")
        self.savefig(fig, "fig_004_fig1_weights.png",
                     "Histograms of trained weights per layer (density) with the Gaussian of the same mean and "
                     "variance (red): 004's Assumption 3.1.")

    def finish(self):
        self.say("## What is missing")
        self.say("")
        if not self.missing:
            self.say("Nothing: every figure and table this sweep calls for was produced.")
        for m in self.missing:
            self.say("- " + m)
        self.say("")
        if self.not_in_sweep:
            self.say("Not part of this sweep: " + "; ".join(self.not_in_sweep) + ".")
            self.say("")
        with open(os.path.join(self.outdir, "report.md"), "w") as f:
            f.write("\n".join(self.md) + "\n")


SERIES_AXES = {
    "imp_test_acc": ("sparsity after the IMP level", "test accuracy"),
    "imp_train_acc": ("sparsity after the IMP level", "training accuracy"),
    "imp_test_loss": ("sparsity after the IMP level", "test loss (nats)"),
    "imp_layer_kept": ("layer", "kept fraction of the layer"),
    "margin_quantile_orig": ("quantile", "training margin f(x)[y] - max_j f(x)[j] (original)"),
    "margin_quantile_comp": ("quantile", "training margin (compressed)"),
    "lr_planted_nuc": ("samples", "relative recovery error", "log"),
    "lr_planted_rrr": ("samples", "relative recovery error", "log"),
    "lr_planted_ls": ("samples", "relative recovery error", "log"),
}
SERIES_CAPTION = {
    "imp_test_acc": "Lottery tickets (004 Sec. 6): test accuracy at every IMP level vs sparsity.",
    "margin_quantile_orig": "Quantiles of the original model's training margins (pick gamma at analysis time).",
    "margin_quantile_comp": "Quantiles of the compressed model's training margins.",
}


def main(argv):
    ap = argparse.ArgumentParser(prog="cbound report", description=__doc__.split("\n")[0])
    ap.add_argument("results", help="results file (.h5) written by cbound run")
    ap.add_argument("--out", help="output directory (default: <results without .h5>/report)")
    ap.add_argument("--quiet", action="store_true", help="do not print the tables")
    a = ap.parse_args(argv)
    if not os.path.exists(a.results):
        sys.exit("cbound report: error: %s: no such file\n  hint: run `cbound run SWEEP.yaml` first" % a.results)
    try:
        with h5py.File(a.results, "r") as f:
            schema = f.attrs.get("schema", b"")
            schema = schema.decode() if isinstance(schema, bytes) else str(schema)
    except OSError as e:
        sys.exit("cbound report: error: %s: not an HDF5 file (%s)" % (a.results, e))
    if schema != "cbound-results":
        sys.exit("cbound report: error: %s: expected schema 'cbound-results', found '%s'" % (a.results, schema))
    out = a.out or os.path.join(os.path.splitext(a.results)[0], "report")
    os.makedirs(out, exist_ok=True)
    for old in glob.glob(os.path.join(out, "fig_*.png")) + glob.glob(os.path.join(out, "table_*.csv")):
        os.remove(old)  # figures of an earlier report of this file; this one rewrites what applies
    r = Report(a.results, out, a.quiet)
    r.summary()
    if r.tasks is not None:
        r.fig2_error()
        r.fig4_sparsity()
        r.tables_bounds()
        r.fig_width_000()
        r.figs_002()
        r.figs_003()
        r.figs_series()
    r.fig_weights()
    r.finish()
    if not a.quiet:
        print("\n".join(r.md))
    print("cbound report: wrote %s/report.md and %d figure(s)" % (out, len(r.figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
