#!/usr/bin/python3
"""cbound report — turn a cbound results file into the papers' figures and tables.

Usage: report.py RESULTS.h5 [--out DIR] [--quiet]

Reads the flat tables of a cbound results file (tasks, layers, bounds, series;
schema "cbound-results") and the model files of its run directory, and writes
figures (PNG at 200 dpi and a PDF beside each), a manifest `figures.json`
(files, panels, legend entries per figure) and a markdown file `report.md` into DIR (default: the run
directory next to the results file, `<results without .h5>/report/`). Every
figure and table is produced only when the tasks it needs are present; what is
missing is listed at the end of report.md, so the report works on partial files
(a sweep still running or interrupted).

Figures and tables (the paper each reproduces):
  004 Fig. 2   pruning error vs d: measured max ||x^L - x^L||_2 next to the
               Lemma 4.1/C.5 (kappa = 1) and Lemma D.3 bounds        fig_004_fig2_error.png
  004 Fig. 4   measured max(j_r, j_c) vs Lemma 5.1's bound            fig_004_fig4_sparsity.png
  bounds       every bound on the test error at each model's operating
               point (like for like, flags, counts)                   report.md
  004 Tab 2-3  the authors' code's numbers in natural log beside the
               paper's printed Table 2/3                              report.md
  000 Fig. 1   normalized compression error vs width                  fig_000_fig1_width.png
  002 Fig. 2-4 ETF objective, distance to ETF, spread of starts       fig_002_*.png
  003          pre-activation error / accuracy vs rank                fig_003_rank.png
  004 Fig 1,6  weight histograms against the fitted Gaussian          fig_004_fig1_weights.png
"""
import argparse
import glob
import json
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
    import matplotlib.ticker
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit("cbound report: missing Python package (%s)\n  hint: apt-get install python3-h5py "
             "python3-pandas python3-matplotlib python3-numpy" % e)

# The results loader is the package in python/cbound (docs/python.md).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import cbound  # noqa: E402

LN10 = math.log(10.0)
# Methods that compress a trained model (everything but the standalone ones).
COMPRESS_METHODS = ("mbp", "magnitude", "random", "imp", "greedy", "structured", "lowrank")

# ------------------------------------------------------------------ loading and figure helpers

# Figures for papers: PNG at FIG_DPI and a PDF beside it, at most MAX_LEGEND entries per legend.
FIG_DPI = 200
MAX_LEGEND = 8
plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "legend.fontsize": 7, "axes.labelsize": 9,
                     "savefig.dpi": FIG_DPI, "pdf.fonttype": 42})
COLORS = plt.get_cmap("tab10").colors


def log_width_axis(ax, widths):
    """Log x axis with ticks at the actual widths (128, 256, 512), no 10^k or minor tick labels."""
    ax.set_xscale("log")
    ws = sorted({int(w) for w in widths})
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ws))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FixedFormatter([str(w) for w in ws]))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    if len(ws) == 1:
        ax.set_xlim(ws[0] / 1.5, ws[0] * 1.5)


def pick_evenly(values, k=MAX_LEGEND):
    """At most k of the sorted values, first and last included, evenly spaced."""
    v = sorted(values)
    if len(v) <= k:
        return v
    idx = sorted({int(round(i * (len(v) - 1) / (k - 1))) for i in range(k)})
    return [v[i] for i in idx]


def band(ax, x, lo, hi, color):
    ax.fill_between(np.asarray(x, float), np.asarray(lo, float), np.asarray(hi, float), color=color, alpha=0.2,
                    lw=0)


def _num(v):
    """A parameter value for a label: 12, 0.5, or 'default' for the -1 that stands for an unknown default."""
    return "default" if v == -1 else "%g" % v


def fig_legend(fig, handles, labels, ncol):
    """One legend for the whole figure, below the panels (savefig's tight bounding box keeps it)."""
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol, frameon=False)


class Report:
    def __init__(self, path, outdir, quiet, op_tol=0.01):
        self.path = path
        self.op_tol = op_tol
        self.outdir = outdir
        self.quiet = quiet
        self.md = []          # markdown lines
        self.missing = []     # what could not be produced and why
        self.figures = []     # manifest rows: file names, dpi, panels, legend entries
        self.res = cbound.load(path)
        nonempty = lambda name: self.res.tables[name] if name in self.res and len(self.res.tables[name]) else None
        self.attrs = self.res.attrs
        self.tasks = nonempty("tasks")
        self.layers = nonempty("layers")
        self.bounds = nonempty("bounds")
        self.series = nonempty("series")
        try:
            self.defaults = cbound.method_defaults()
        except Exception:  # labels then say "default" instead of the value
            self.defaults = {}
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

    def param(self, t, name, method):
        """Column p_<name> of tasks t as numbers, a missing value filled with the method's default."""
        col = t["p_" + name] if "p_" + name in t else pd.Series(np.nan, index=t.index)
        dflt = self.defaults.get(method, {}).get(name)
        col = pd.to_numeric(col, errors="coerce")
        if dflt is not None:
            try:
                col = col.fillna(float(dflt))
            except ValueError:
                pass
        return col

    def settings(self, t, method, exclude=()):
        """Per task, its parameters as {p_name: value} with missing ones at the method's default."""
        cols = [c for c in cbound.param_columns(t) if c[2:] not in exclude and t[c].notna().any()]
        d = self.defaults.get(method, {})
        out = []
        for _, row in t[cols].iterrows():
            s = {}
            for c in cols:
                v = row[c]
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    v = d.get(c[2:], "default")
                    if t[c].dtype.kind == "f" and v != "default":
                        v = pd.to_numeric(v, errors="coerce")  # NaN when the default is not a number
                s[c] = v
            out.append(s)
        return out

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
        """Write NAME.png (FIG_DPI) and NAME.pdf; record panels and legend sizes in the manifest."""
        base = os.path.splitext(name)[0]
        axes = [ax for ax in fig.get_axes() if ax.get_visible() and ax.axison]
        legends = [len(ax.get_legend().get_texts()) for ax in axes if ax.get_legend() is not None]
        legends += [len(lg.get_texts()) for lg in fig.legends]
        if legends and max(legends) > MAX_LEGEND:  # a report bug, not a data problem: say so loudly
            raise RuntimeError("%s: a legend has %d entries (at most %d)" % (name, max(legends), MAX_LEGEND))
        fig.savefig(os.path.join(self.outdir, base + ".png"), dpi=FIG_DPI, bbox_inches="tight")
        fig.savefig(os.path.join(self.outdir, base + ".pdf"), bbox_inches="tight")
        plt.close(fig)
        self.figures.append({"png": base + ".png", "pdf": base + ".pdf", "dpi": FIG_DPI, "panels": len(axes),
                             "legend_entries": legends, "max_legend_entries": max(legends) if legends else 0})
        self.say("![%s](%s)" % (caption, base + ".png"))
        self.say("")
        self.say("*%s* (vector version: `%s`)" % (caption, base + ".pdf"))
        self.say("")

    def table(self, df, floatfmt="%.4g"):
        """DataFrame -> markdown table lines."""
        cols = [str(c) for c in df.columns]
        self.say("| " + " | ".join(cols) + " |")
        self.say("|" + "---|" * len(cols))
        for _, row in df.iterrows():
            cells = []
            for c, v in zip(cols, row.values):
                if c in ("width", "M", "d", "layer", "seed", "n") and isinstance(v, (int, float, np.number)) and np.isfinite(v):
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
        need = ["mbp_d", "out_err_max", "outbound_c5_ln"]
        if t is None or not all(c in t for c in need) or t["outbound_c5_ln"].isna().all():
            self.lack("004 Figure 2: needs `mbp` tasks with the output-error bounds (measure.latala)", ["mbp"])
            return
        t = t.assign(variant=self.settings_col(t, "mbp", "variant"))
        widths = sorted(int(w) for w in t["width"].unique())
        fig, axes = plt.subplots(1, len(widths), figsize=(3.3 * len(widths) + 0.4, 3.1), squeeze=False,
                                 sharey=True, constrained_layout=True)
        for ax, w in zip(axes[0], widths):
            s = t[t["width"] == w]
            for i, (var, sv) in enumerate(sorted(s.groupby("variant"), key=lambda kv: str(kv[0]))):
                g = sv.groupby("mbp_d")["out_err_max"].mean()
                ax.plot(g.index, g.values, "o-", ms=3, color=COLORS[i],
                        label=r"measured $\max_x \Vert f(x) - \hat f(x)\Vert _2$ (%s)" % var)
            g = s.groupby("mbp_d")
            ax.plot(g["outbound_c5_ln"].mean().index, np.exp(g["outbound_c5_ln"].mean().values), "s--", ms=3,
                    color=COLORS[2], label=r"Lemma 4.1/C.5 bound ($\kappa = 1$, $C = 1$)")
            if "outbound_d3_ln" in s and not s["outbound_d3_ln"].isna().all():
                ax.plot(g["outbound_d3_ln"].mean().index, np.exp(g["outbound_d3_ln"].mean().values), "^:", ms=3,
                        color=COLORS[3], label=r"Lemma D.3 bound ($\kappa_l$, $C = 1$)")
            ax.set_yscale("log")
            ax.set_xlabel(r"MBP parameter $d$")
            ax.set_title("width %d" % w)
        axes[0][0].set_ylabel(r"output error (logits, $\ell_2$ norm)")
        h, l = axes[0][0].get_legend_handles_labels()
        fig_legend(fig, h, l, 2)
        self.say("## 004 Figure 2: pruning error vs the Lemma 4.1/C.5 and D.3 bounds")
        self.say("")
        self.savefig(fig, "fig_004_fig2_error.png",
                     "Measured max over training inputs of the output error after randomized MBP (per variant), vs "
                     "the bounds of 004 Lemma 4.1/C.5 and D.3 (Latala constant C = 1); means over seeds.")

    def settings_col(self, t, method, name):
        """One parameter of tasks t as text, a missing value shown as the method's default."""
        dflt = self.defaults.get(method, {}).get(name, "default")
        col = t["p_" + name] if "p_" + name in t else pd.Series(None, index=t.index, dtype=object)
        return col.map(lambda v: dflt if v is None or (isinstance(v, float) and np.isnan(v)) else
                       cbound.short_label({"x": v}).split(" = ", 1)[1])

    def fig4_sparsity(self):
        """004 Figure 4: measured max(j_r, j_c) vs Lemma 5.1's bound, per layer."""
        t = self.ok_tasks("mbp")
        if t is None or self.layers is None or "j_bound" not in self.layers or self.layers["j_bound"].isna().all():
            self.lack("004 Figure 4: needs `mbp` tasks with measure.sparsity (j_r, j_c, Lemma 5.1)", ["mbp"])
            return
        lay = self.layers.merge(t[["key", "width", "mbp_d"]], on="key")
        lay["j_max"] = lay[["max_nnz_row", "max_nnz_col"]].max(axis=1)
        widths = sorted(int(w) for w in lay["width"].unique())
        fig, axes = plt.subplots(1, len(widths), figsize=(3.3 * len(widths) + 0.4, 3.1), squeeze=False,
                                 sharey=True, constrained_layout=True)
        for ax, w in zip(axes[0], widths):
            s = lay[lay["width"] == w]
            for i, l in enumerate(sorted(s["layer"].unique())[:4]):
                sl = s[s["layer"] == l].groupby("mbp_d")[["j_max", "j_bound"]].mean()
                ax.plot(sl.index, sl["j_max"], "o-", ms=3, color=COLORS[i], label="layer %d measured" % l)
                ax.plot(sl.index, sl["j_bound"], "--", color=COLORS[i], label="layer %d Lemma 5.1" % l)
            ax.set_xlabel(r"MBP parameter $d$")
            ax.set_yscale("log")
            ax.set_title("width %d" % w)
        axes[0][0].set_ylabel(r"$\max(j_r, j_c)$ (nonzeros per row / column)")
        h, l = axes[0][0].get_legend_handles_labels()
        fig_legend(fig, h, l, min(4, len(h)))
        self.say("## 004 Figure 4: distributed sparsity")
        self.say("")
        self.savefig(fig, "fig_004_fig4_sparsity.png",
                     "Measured max(j_r, j_c) per layer after randomized MBP vs 004 Lemma 5.1's bound "
                     "3 lambda max(d1, d2) chi (dashed); means over seeds and variants.")

    def bound_rows(self):
        """Bounds rows of finished tasks joined with their task's columns; None when there are none."""
        if self.bounds is None or self.tasks is None:
            return None
        cols = [c for c in ("key", "width", "seed", "stage", "method", "params", "status", "test_acc", "train_acc",
                            "orig_test_acc", "orig_train_acc", "kept_fraction") if c in self.tasks]
        b = self.bounds.merge(self.tasks[cols], on="key")
        b = b[b["status"] == "ok"].copy()
        if not len(b):
            return None
        b["bound"] = b["name"] + np.where(b["variant"] != "", " [" + b["variant"] + "]", "")
        return b

    def operating_points(self):
        """Per model (stage): the most compressed task whose test accuracy is within op_tol of the original's."""
        t = self.ok_tasks()
        if t is None or "kept_fraction" not in t:
            return None
        t = t[t["method"].isin(COMPRESS_METHODS) & t["stage"].astype(bool)]
        t = t[t["key"].isin(set(self.bounds["key"]))] if self.bounds is not None else t.iloc[0:0]
        rows = []
        for stage, s in t.groupby("stage"):
            ok = s[s["test_acc"] >= s["orig_test_acc"] - self.op_tol]
            if not len(ok):
                continue
            # most compressed first; ties broken by the higher test accuracy, then by expansion order
            pick = ok.sort_values(["kept_fraction", "test_acc", "task"], ascending=[True, False, True]).iloc[0]
            rows.append(pick)
        return pd.DataFrame(rows) if rows else None

    def tables_bounds(self):
        """Every error-scale bound at each model's operating point, on one scale, with its flags."""
        b = self.bound_rows()
        if b is None:
            self.lack("bounds tables: no rows in the bounds table (measure.margins off or no finished tasks)",
                      COMPRESS_METHODS)
            return
        err = b[b["scale"] == "error"]
        n_rows = len(err)
        n_vac = int((err["vacuous"] == 1).sum())
        n_na = int((err["applies"] == 0).sum())
        n_good = int(((err["vacuous"] == 0) & (err["applies"] == 1)).sum())
        self.say("## Bounds on the test error, like for like")
        self.say("")
        self.say("Every row below is a bound on the test 0-1 error of the compressed model, in the same form "
                 "R^_gamma + sqrt(C / n) (n = training samples, the constants and confidence terms each paper "
                 "hides in O(.) dropped the same way for every row), on a linear scale: 1 is the trivial bound.")
        self.say("")
        self.say("- error-scale bound rows in this file: %d; vacuous (>= 1): %d; theorem does not apply: %d; "
                 "non-vacuous and applicable: %d" % (n_rows, n_vac, n_na, n_good))
        # group reasons that differ only in their numbers (not in theorem names such as "Thm 5.2")
        num = r"(?<!Thm )(?<!Lemma )(?<![\w.^/])[-+]?\d+(\.\d+)?(e[-+]?\d+)?(?![\w./])"
        why = err[err["applies"] == 0]["why_not"].str.split("; ").explode().str.replace(num, "#", regex=True)
        if len(why):
            self.say("- why theorems do not apply (count of rows; numbers replaced by #):")
            for reason, c in why.value_counts().items():
                self.say("  - %d x %s" % (c, reason))
        self.say("")
        op = self.operating_points()
        self.say("### At each model's operating point")
        self.say("")
        self.say("Operating-point rule: per trained model, the most compressed task (lowest kept fraction) whose "
                 "test accuracy is within %g of the original model's (`--op-tol`). Flags after a value: "
                 "`v` vacuous, `!` the theorem's hypotheses fail for this model (reasons above)." % self.op_tol)
        self.say("")
        n_models = self.ok_tasks()["stage"].replace("", np.nan).dropna().nunique()
        n_op = 0 if op is None else len(op)
        if n_op < n_models:
            self.say("%d of %d trained models have no task within %g of their original test accuracy: they have "
                     "no operating point and no row below." % (n_models - n_op, n_models, self.op_tol))
            self.say("")
        if op is None:
            self.say("No task of any model keeps its test accuracy within %g of the original's." % self.op_tol)
            self.say("")
            self.missing.append("bounds at the operating point: no task within %g of its original's test accuracy"
                                % self.op_tol)
        else:
            sel = err[err["key"].isin(set(op["key"]))]
            cell = sel.assign(cell=[("%.3g" % v if np.isfinite(v) else "inf") + (" v" if vac else "") +
                                    ("!" if not ap else "")
                                    for v, vac, ap in zip(sel["error_bound"], sel["vacuous"], sel["applies"])])
            piv = cell.pivot_table(index="key", columns="bound", values="cell", aggfunc="first")
            info = op.set_index("key")[["width", "seed", "method", "params", "kept_fraction", "test_acc", "train_acc"]]
            info = info.assign(test_error=1 - info["test_acc"], gen_gap=info["train_acc"] - info["test_acc"])
            info = info.drop(columns=["test_acc", "train_acc"])
            tab = info.join(piv).sort_values(["width", "seed"]).reset_index(drop=True)
            # one table per family keeps the width readable
            fam = {"004 sketching / counting": ("sketch_004", "counting_004"), "Arora 2018": ("arora2018",),
                   "norm baselines (paper forms)": ("bartlett2017", "neyshabur2015", "neyshabur2017")}
            base = ["width", "seed", "method", "params", "kept_fraction", "test_error", "gen_gap"]
            for title, pre in fam.items():
                cols = [c for c in tab.columns if c not in base and c.startswith(pre)]
                if cols:
                    self.say("**%s**" % title)
                    self.say("")
                    self.table(tab[base + sorted(cols)], "%.3g")
            tab.to_csv(os.path.join(self.outdir, "table_bounds_operating_point.csv"), index=False)
        self.table_004_authors(b)
        self.assumption_31()

    def table_004_authors(self, b):
        """004 Tables 2/3 as the authors' code computes them, in natural log, beside the paper's numbers."""
        au = b[b["variant"] == "authors_code"]
        if not len(au):
            return
        self.say("## 004 Tables 2/3 as the authors' code computes them (natural log)")
        self.say("")
        self.say("The paper's tables are in natural log (see scripts/paper_tables/004.csv for the evidence). Its "
                 "Neyshabur 2015 / 2017 and Bartlett 2017 rows are the authors' code's squared complexity terms "
                 "(no square root, no 1/n, no margin loss): **not bounds on the error**, and not comparable with "
                 "`Ours` (= ln(R^ + sqrt(C/n)) of the authors' recipe). The `... sqrt(C/n)` columns put the baselines "
                 "on Ours' footing: ln sqrt(C/n) = (ln C - ln n)/2. Per width: the mean over seeds of each model's "
                 "value (the authors' terms depend only on the trained model). `true error` = ln(test error of the "
                 "original model).")
        self.say("")
        per = au.groupby(["width", "seed", "name"])["value_ln"].first().unstack("name")
        n = au.groupby(["width", "seed"])["n"].first()
        t = self.ok_tasks()
        te = t.groupby(["width", "seed"])["orig_test_acc"].first()
        rows = []
        for (w, sd), r in per.iterrows():
            row = {"width": w, "seed": sd, "n": n.get((w, sd), np.nan)}
            for k, lab in (("neyshabur2015", "Neyshabur 2015"), ("neyshabur2017", "Neyshabur 2017"),
                           ("bartlett2017", "Bartlett 2017")):
                if k in r:
                    row[lab] = r[k]
                    row[lab + " sqrt(C/n)"] = 0.5 * (r[k] - math.log(row["n"]))
            row["Ours (recipe)"] = r.get("sketch_004_thm5.2", np.nan)
            row["true error"] = math.log(max(1.0 - te.get((w, sd), np.nan), 1e-300))
            rows.append(row)
        ours = pd.DataFrame(rows).groupby("width").apply(lambda g: g.drop(columns=["width", "seed"]).apply(
            lambda v: float(np.mean(v.values)))).reset_index()
        solved = self.tasks["recipe_solved"] if "recipe_solved" in self.tasks else None
        self.table(ours, "%.2f")
        if solved is not None and solved.notna().any():
            s = self.tasks[self.tasks["recipe_solved"].notna()]
            self.say("The authors' recipe was solved (needed margin <= minimum margin at the d it returns) for "
                     "%d of %d models; where it was not, `Ours (recipe)` is R^ at an unmet margin condition "
                     "(flagged `!` in the bounds table)." % (int(s.groupby("stage")["recipe_solved"].max().sum()),
                                                            s["stage"].nunique()))
            self.say("")
        ref = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paper_tables", "004.csv")
        ds = self.attrs.get("sweep_text", "")
        table_no = 3 if "cifar10" in ds else 2
        if os.path.exists(ref):
            p = pd.read_csv(ref, comment="#")
            p = p[(p["paper"].astype(str).str.zfill(3) == "004") & (p["table"] == table_no)]
            piv = p.pivot_table(index="width", columns="row", values="value_ln").reset_index()
            piv = piv.rename(columns={"neyshabur2015": "Neyshabur 2015", "neyshabur2017": "Neyshabur 2017",
                                      "bartlett2017": "Bartlett 2017", "ours": "Ours", "true_error": "true error"})
            nn = 48000.0 if table_no == 2 else 40000.0
            for lab in ("Neyshabur 2015", "Neyshabur 2017", "Bartlett 2017"):
                piv[lab + " sqrt(C/n)"] = 0.5 * (piv[lab] - math.log(nn))
            self.say("The paper's Table %d (as printed, natural log; the sqrt(C/n) columns with n = %d, the "
                     "authors' training split):" % (table_no, nn))
            self.say("")
            self.table(piv, "%.2f")
        ours.to_csv(os.path.join(self.outdir, "table_004_authors_ln.csv"), index=False)

    def assumption_31(self):
        """How far the trained weights are from 004's Assumption 3.1, and the kept fraction against chi."""
        if self.layers is None or "w_kurtosis" not in self.layers:
            return
        t = self.ok_tasks()
        lay = self.layers.merge(t[["key", "stage", "method", "width"]], on="key")
        per = lay.groupby(["stage", "layer"])[["w_kurtosis", "w_ks"]].first()
        if per["w_kurtosis"].isna().all():
            return
        self.say("## 004 Assumption 3.1 (Gaussian weights) on these models")
        self.say("")
        self.say("Per layer of every trained model: excess kurtosis (0 for Gaussian weights) and the "
                 "Kolmogorov-Smirnov distance to the fitted normal. Over %d layers: kurtosis median %.3g "
                 "(range %.3g to %.3g), KS distance median %.3g (range %.3g to %.3g)."
                 % (len(per), per["w_kurtosis"].median(), per["w_kurtosis"].min(), per["w_kurtosis"].max(),
                    per["w_ks"].median(), per["w_ks"].min(), per["w_ks"].max()))
        mbp = lay[(lay["method"] == "mbp") & lay["expected_nnz"].notna() & (lay["expected_nnz"] > 0)]
        if len(mbp):
            r = mbp["nnz"] / mbp["expected_nnz"]
            self.say("Kept weights after randomized MBP against the Gaussian prediction chi d_out d_in (+ the kept "
                     "diagonal): measured / predicted median %.3f (range %.3f to %.3f) over %d layer rows; %d%% of "
                     "them below 1." % (r.median(), r.min(), r.max(), len(r), int(round(100 * (r < 1).mean()))))
        self.say("")


    def occam(self):
        """Occam bounds (the code length of the decoded model) beside the papers' bounds on the same tasks."""
        t = self.ok_tasks()
        if t is None or "code_bits" not in t or not np.isfinite(t["code_bits"].astype(float)).any():
            return
        t = t[np.isfinite(t["code_bits"].astype(float))].copy()
        t["train_err"] = t["train_err_count"] / t["n_train"]
        self.say("## Non-vacuous bounds: the code length of the compressed model")
        self.say("")
        self.say("For each task with a code (method `subspace`, or any method with `measure.code`): the decoded model's "
                 "test and training error, its prefix-free code length (all parts, hyperparameters included), and "
                 "the Occam bound R(h) <= Bin^-1(k, n, delta 2^-bits) (Langford 2005; `occam_bound`) with its kl "
                 "form, delta = %g; docs/nonvacuous.md. Best per method and width (every hypothesis is in one "
                 "prefix-free code, so choosing the best costs no extra bits). Beside it, on the same task, the "
                 "papers' error-scale bounds with their flags (`v` vacuous, `!` the theorem does not apply)."
                 % float(t["delta"].dropna().iloc[0]) if "delta" in t and t["delta"].notna().any() else "")
        self.say("")
        best = t.loc[t.groupby(["method", "width"])["occam_bound"].idxmin()].sort_values("occam_bound")
        rows = []
        for _, r in best.iterrows():
            row = {"method": r["method"], "params": r["params"], "width": r["width"], "n": r["n_train"],
                   "test_err": r["code_test_err"], "train_err": r["train_err"], "code_bits": r["code_bits"],
                   "occam_bound": r["occam_bound"], "occam_bound_kl": r["occam_bound_kl"],
                   "vacuous": "yes" if r.get("vacuous", 0) == 1 or r["occam_bound"] >= 1 else "no"}
            if self.bounds is not None:
                b = self.bounds[(self.bounds["key"] == r["key"]) & (self.bounds["scale"] == "error")]
                for _, x in b.iterrows():
                    if x["variant"] in ("measured_j", "measured_nnz", "paper", "as_004_states"):
                        v = x["error_bound"]
                        row["%s [%s]" % (x["name"], x["variant"])] = ("%.3g" % v if np.isfinite(v) else "inf") + \
                            (" v" if x["vacuous"] else "") + ("!" if not x["applies"] else "")
            rows.append(row)
        tab = pd.DataFrame(rows)
        self.table(tab, "%.4g")
        tab.to_csv(os.path.join(self.outdir, "table_occam.csv"), index=False)
        fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
        cols = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        handles, labels = [], []
        for i, (m, g) in enumerate(sorted(t.groupby("method"), key=lambda kv: kv[0])[:MAX_LEGEND // 2]):
            c = cols[i % len(cols)]
            vac = (g["vacuous"] == 1) | (g["occam_bound"] >= 1) if "vacuous" in g else g["occam_bound"] >= 1
            h = ax.scatter(g["code_bits"][~vac], g["occam_bound"][~vac], s=18, color=c, marker="o")
            ax.scatter(g["code_bits"][vac], g["occam_bound"][vac], s=18, facecolors="none", edgecolors=c, marker="o")
            ax.scatter(g["code_bits"], g["code_test_err"], s=18, color=c, marker="x")
            handles.append(h)
            labels.append("%s: bound" % m)
        handles.append(ax.scatter([], [], facecolors="none", edgecolors="k", marker="o"))
        labels.append("vacuous bound (hollow)")
        hx = ax.scatter([], [], color="k", marker="x")
        handles.append(hx)
        labels.append("test error (same models)")
        ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        bits = t["code_bits"][np.isfinite(t["code_bits"]) & (t["code_bits"] > 0)]
        if len(bits) and bits.max() > 10 * bits.min():   # a log axis only when the lengths span a decade
            ax.set_xscale("log")
            ax.set_xlabel("code length $|c(h)|$ (bits; log10 axis)")
        else:
            ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
            ax.set_xlabel("code length $|c(h)|$ (bits)")
        ax.set_ylabel("0-1 error")
        ax.set_ylim(0, min(1.05, max(1.0, float(np.nanmax(t["occam_bound"]))) + 0.05))
        ax.legend(handles, labels, fontsize=8, loc="best")
        self.savefig(fig, "fig_occam_bound_vs_bits.png",
                     "Occam bound of the decoded model against its code length, per task (circles), and the same "
                     "models' test error (crosses). Hollow circles are vacuous bounds (at least 1 - 1/K, the "
                     "error of guessing among K classes); the dotted line is the trivial bound 1.")

    def fig_width_000(self):
        """000 Figure 1: normalized compression error vs width (mean +- sd over seeds), a panel per method."""
        t = self.ok_tasks()
        if t is None or "out_err_norm" not in t or t["out_err_norm"].isna().all():
            self.lack("000 Figure 1: needs compression tasks with out_err_norm", COMPRESS_METHODS)
            return
        t = t[~t["out_err_norm"].isna() & (t["width"] > 0)]
        if t["width"].nunique() < 2:
            self.lack("000 Figure 1: needs at least two widths (found %d)" % t["width"].nunique())
            return
        panels = []   # (title, [(label, tasks)])
        thinned = []
        for m in sorted(t["method"].unique()):
            tm = t[t["method"] == m]
            sets = self.settings(tm, m)
            tm = tm.assign(_set=[tuple(sorted(s.items())) for s in sets])
            keys = sorted(tm["_set"].unique(), key=lambda k: [(str(a), b if isinstance(b, float) else str(b))
                                                               for a, b in k])
            # columns that vary within this method; text-valued ones split the method into panels
            vary = [c for c in {a for k in keys for a, _ in k} if len({dict(k).get(c) for k in keys}) > 1]
            split = [c for c in vary if tm[c].dtype == object] if len(keys) > MAX_LEGEND // 2 else []
            groups = {}
            for k in keys:
                kd = dict(k)
                groups.setdefault(tuple((c, kd.get(c)) for c in split), []).append(k)
            for gk, ks in sorted(groups.items(), key=lambda kv: str(kv[0])):
                title = m + ("" if not gk else ", " + cbound.short_label(dict(gk)))
                if len(ks) > MAX_LEGEND:
                    num = [c for c in vary if c not in split]
                    ks_sorted = sorted(ks, key=lambda k: [dict(k).get(c) for c in num])
                    keep = pick_evenly(range(len(ks_sorted)))
                    thinned.append("%s: %d of %d settings shown" % (title, len(keep), len(ks)))
                    ks = [ks_sorted[i] for i in keep]
                lines = []
                for k in ks:
                    kd = {c: v for c, v in k if c in vary and c not in split}
                    lines.append((cbound.short_label(kd) or m, tm[tm["_set"] == k]))
                panels.append((title, lines))
        ncol = 2 if len(panels) == 4 else min(3, len(panels))
        nrow = (len(panels) + ncol - 1) // ncol
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 2.6 * nrow), squeeze=False, sharey=True,
                                 constrained_layout=True)
        widths = sorted(int(w) for w in t["width"].unique())
        for i, (title, lines) in enumerate(panels):
            ax = axes[i // ncol][i % ncol]
            for j, (lab, s) in enumerate(lines):
                g = s.groupby("width")["out_err_norm"]
                mu, sd = g.mean(), g.std().fillna(0.0)
                ax.errorbar(mu.index, mu.values, yerr=sd.values, marker="o", ms=3, capsize=2, lw=1,
                            color=COLORS[j % len(COLORS)], label=lab)
            ax.set_yscale("log")
            log_width_axis(ax, widths)
            ax.set_title(title)
            ax.set_xlabel("hidden width")
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=6, frameon=False)
        for i in range(len(panels), nrow * ncol):
            axes[i // ncol][i % ncol].set_visible(False)
        for r in range(nrow):
            axes[r][0].set_ylabel(r"$\mathbb{E}\Vert f - \hat f\Vert ^2 / \mathbb{E}\Vert f\Vert ^2$")
        self.say("## 000 Figure 1: normalized compression error vs width")
        self.say("")
        self.savefig(fig, "fig_000_fig1_width.png",
                     "Normalized output error of the compressed network vs hidden width (mean +- standard "
                     "deviation over seeds), a panel per method (and text-valued setting), a line per setting"
                     + ("; " + "; ".join(thinned) + " (evenly spaced)" if thinned else "") + ".")

    def figs_002(self):
        """002 Figures 2-4 and Theorem 1 from the `twolayer` tasks."""
        t = self.ok_tasks("twolayer")
        if t is None or "etf_R_gd" not in t:
            self.lack("002 Figures 2-4: no finished `twolayer` tasks", ["twolayer"])
            return
        t = t.copy()
        for name in ("M", "d", "N"):
            t[name] = self.param(t, name, "twolayer")
        if t[["M", "d", "N"]].isna().any().any():
            # no cbound binary answered `run --list-methods`: a parameter left at its default is unknown here
            self.missing.append("002: the twolayer defaults are unknown (no cbound binary found; set CBOUND): "
                                "tasks at the default M, d or N are labelled 'default'")
            t[["M", "d", "N"]] = t[["M", "d", "N"]].fillna(-1)
        # a family = the sweep entry: every setting but M, d and the seed
        fam_cols = [c for c in cbound.param_columns(t) if c not in ("p_M", "p_d", "p_N")]
        t["family"] = [self.family_label(s) for s in self.settings(t, "twolayer", exclude=("M", "d", "N"))] \
            if fam_cols else "GD"
        # Figures 2-4 use the families that sweep M; Theorem 1 the tasks that sweep d.
        sweeps_m = [f for f, g in t.groupby("family") if g["M"].nunique() > 1] or sorted(t["family"].unique())
        self.say("## 002 Figures 2-4: gradient ascent of the limit objective vs the ETF")
        self.say("")
        fig_t = t[t["family"].isin(sweeps_m) & ~t["etf_R_gd"].isna()]
        if len(fig_t):
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.2, 3.0), constrained_layout=True)
            etf = fig_t.groupby("M")["etf_R_etf"].mean()
            a1.plot(etf.index, etf.values, "k-", lw=2.5, alpha=0.35, label=r"ETF value $\tilde R_{\mathrm{ETF}}$ (Lemma 5)")
            for j, f in enumerate(sweeps_m):
                g = fig_t[fig_t["family"] == f].groupby("M")
                a1.plot(g["etf_R_gd"].mean().index, g["etf_R_gd"].mean().values, "o", ms=3, color=COLORS[j],
                        label="GD, " + f)
                gap = g["etf_R_rel_gap"].max().abs().clip(lower=1e-17)
                a2.semilogy(gap.index, gap.values, "o-", ms=3, color=COLORS[j], label="GD, " + f)
            a1.set_xlabel(r"compressed width $M$")
            a1.set_ylabel(r"$\tilde R(V) = \mathbf{1}^\top G_{VV}^{+} \mathbf{1}$")
            a1.legend(fontsize=6)
            a2.set_xlabel(r"compressed width $M$")
            a2.set_ylabel(r"$\max\ |\tilde R_{\mathrm{GD}} - \tilde R_{\mathrm{ETF}}| / \tilde R_{\mathrm{ETF}}$")
            self.savefig(fig, "fig_002_etf_objective.png",
                         "002 Figure 2: the limit objective reached by Riemannian gradient ascent (best start, mean "
                         "over seeds) vs the ETF value, and the worst relative gap over seeds and starts, per sweep "
                         "entry.")
            tab = fig_t.groupby(["family", "M"])[["etf_R_gd", "etf_R_etf", "etf_R_rel_gap"]].mean().reset_index()
            self.table(tab, "%.12g")
        ser = self.series if self.series is not None else pd.DataFrame(columns=["key", "name", "i", "x", "y"])
        ser = ser[ser["key"].isin(t["key"])].merge(t[["key", "M", "d", "N", "family"]], on="key")
        for base, fname, ylab, cap in (
                ("etf_dist", "fig_002_etf_distance.png", r"$\Vert G_{VV} - G_{\mathrm{ETF}}\Vert _F$",
                 "002 Figure 3: distance of the Gram matrix to the ETF's along the iterations; line: median over "
                 "seeds of the worst start, band: best to worst start over all seeds; a panel per sweep entry."),
                ("etf_R", "fig_002_etf_spread.png", r"$\tilde R_{\mathrm{ETF}} - \tilde R(V)$",
                 "002 Figure 4: every start converges to the ETF value: the gap R~_ETF - R~(V) along the iterations; "
                 "line: median over seeds of the worst start, band: best to worst start over all seeds (gaps "
                 "below 1e-16 drawn at 1e-16); a panel per sweep entry.")):
            lo, hi = ser[ser["name"] == base + "_min"], ser[ser["name"] == base + "_max"]
            lo, hi = lo[lo["family"].isin(sweeps_m)], hi[hi["family"].isin(sweeps_m)]
            if base == "etf_R" and "etf_R_etf" in t:
                # as a gap to the ETF value: the worst start (min R) gives the largest gap
                etf = t.set_index("key")["etf_R_etf"]
                gap = lambda d: d.assign(y=(d["key"].map(etf) - d["y"]).clip(lower=1e-16))
                lo, hi = gap(hi), gap(lo)
            if not len(lo):
                self.missing.append("002: no `%s_min/_max` series" % base)
                continue
            fams = [f for f in sweeps_m if f in set(lo["family"])]
            fig, axes = plt.subplots(1, len(fams), figsize=(3.6 * len(fams) + 0.3, 3.0), squeeze=False,
                                     sharey=True, constrained_layout=True)
            best = hi   # the worst start: largest distance / largest gap
            for ax, f in zip(axes[0], fams):
                Ms = pick_evenly(lo.loc[lo["family"] == f, "M"].unique())
                for j, M in enumerate(Ms):
                    sel = lambda s: s[(s["family"] == f) & (s["M"] == M)]
                    a, b, m = sel(lo).groupby("i"), sel(hi).groupby("i"), sel(best).groupby("i")
                    x = m["x"].median()
                    ax.plot(x.values, m["y"].median().values, "-", lw=1, color=COLORS[j],
                            label=r"$M = %s$" % _num(M))
                    band(ax, a["x"].median().values, a["y"].min().values, b["y"].max().values, COLORS[j])
                ax.set_yscale("log")
                ax.set_xlabel("iteration")
                ax.set_title(f)
                ax.legend(fontsize=6, ncol=2)
            axes[0][0].set_ylabel(ylab)
            self.savefig(fig, fname, cap)
        th = ser[ser["name"] == "thm1_gap_N"]
        if len(th):
            # Theorem 1 reads across d: the tasks of the sweep entry that varies d (else every task)
            sweeps_d = [f for f, g in t.groupby("family") if g["d"].nunique() > 1]
            if sweeps_d:
                th = th[th["family"].isin(sweeps_d)]
            fig, ax = plt.subplots(figsize=(4.2, 3.2), constrained_layout=True)
            ds = pick_evenly(th["d"].dropna().unique(), MAX_LEGEND - 1)
            for j, d in enumerate(ds):
                g = th[th["d"] == d].groupby("x")["y"]
                ax.loglog(g.median().index, g.median().values, "o-", ms=3, lw=1, color=COLORS[j],
                          label=r"$d = %s$" % _num(d))
            xs = np.array(sorted(th["x"].unique()), dtype=float)
            top = th.groupby("x")["y"].median().iloc[0]
            ax.loglog(xs, top * np.sqrt(xs[0] / xs), "k:", label=r"slope $-1/2$")
            log_width_axis(ax, xs)   # ticks at the teacher widths N
            ax.tick_params(axis="x", labelsize=7)
            ax.set_xlabel(r"teacher width $N$")
            ax.set_ylabel(r"$|L(V, W) - \tilde L(V)|$")
            ax.legend(fontsize=6, ncol=2)
            self.savefig(fig, "fig_002_thm1.png",
                         "002 Theorem 1: gap between the exact and the limit loss vs N, per input dimension d "
                         "(median over seeds; the theorem predicts 1/sqrt(N) + 1/d).")

    @staticmethod
    def family_label(s):
        """Short name of a twolayer sweep entry: line search, or constant step (with its size)."""
        ls, st = s.get("p_line_search"), s.get("p_step")
        if ls in (0.0, "0"):
            return "constant step" + (" %g" % st if isinstance(st, float) and not np.isnan(st) else "")
        if ls in (1.0, "1"):
            return "line search"
        return cbound.short_label(s) or "GD"

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
        cur = cur.merge(self.tasks[["key", "width"]], on="key", how="left")
        layers = sorted(cur["layer"].unique())
        widths = pick_evenly(cur["width"].unique(), MAX_LEGEND // 2)
        fig, axes = plt.subplots(1, len(layers), figsize=(3.3 * len(layers) + 0.3, 3.0), squeeze=False,
                                 constrained_layout=True)
        for ax, l in zip(axes[0], layers):
            for j, w in enumerate(widths):
                for mode, style, lab in (("svd", "--", "truncated SVD"), ("data", "-", "data-driven")):
                    c = cur[(cur["layer"] == l) & (cur["mode"] == mode) & (cur["width"] == w)]
                    if not len(c):
                        continue
                    g = c.groupby("x")["y"].median().clip(lower=1e-17)
                    ax.semilogy(g.index, g.values, style, lw=1.2, color=COLORS[j], label="%s, width %d" % (lab, w))
            ax.set_xlabel(r"rank $r$")
            ax.set_title("layer %d" % l)
            ax.legend(fontsize=6)
        axes[0][0].set_ylabel(r"$\Vert (W - \hat W) X^\top\Vert _F / \Vert W X^\top\Vert _F$")
        self.say("## 003: pre-activation error vs rank")
        self.say("")
        self.savefig(fig, "fig_003_rank.png",
                     "003: relative pre-activation reconstruction error on training inputs vs rank, data-driven "
                     "(closed form through the SVD of WX, solid) vs data-agnostic truncated SVD (dashed); median over "
                     "the tasks of each width (seeds and settings).")
        t = self.ok_tasks("lowrank")
        if t is not None and "lowrank_param_fraction" in t:
            g = t.groupby(["width", "params"])[["lowrank_param_fraction", "test_acc", "orig_test_acc"]].mean()
            self.table(g.reset_index())

    def figs_series(self):
        """Every other series (IMP levels, margin quantiles, planted recovery ...): a panel per method, a
        line per setting when there are few, else the median over the tasks of each width with a band."""
        if self.series is None:
            return  # the 002/003 sections say what they lack
        t = self.tasks[["key", "stage", "method", "width", "seed"] + cbound.param_columns(self.tasks)]
        s = self.series.merge(t, on="key", how="left")
        special = s["name"].str.match(r"(etf_|thm1_|lr_(data|svd)_L)")
        for name, g in s[~special].groupby("name"):
            methods = sorted(g["method"].dropna().unique())
            if name.endswith("_orig"):
                # the original model's series is the same in every task of a model: one panel, one task per model
                first = g.drop_duplicates("stage")["key"]
                g = g[g["key"].isin(first)].assign(method="original models")
                methods = ["original models"]
            fig, axes = plt.subplots(1, len(methods), figsize=(3.6 * len(methods) + 0.3, 3.0), squeeze=False,
                                     sharey=True, constrained_layout=True)
            how = []
            # several rows per (task, i): i labels a curve (IMP level) and x runs along it (layer)
            per_i = g.groupby(["key", "i"]).size().max() > 1
            for ax, m in zip(axes[0], methods):
                gm = g[g["method"] == m]
                keys = gm["key"].unique()
                if per_i:
                    for j, lev in enumerate(pick_evenly(gm["i"].unique())):
                        gl = gm[gm["i"] == lev].groupby("x")["y"]
                        ax.plot(gl.median().index, gl.median().values, "o-", ms=3, lw=1.2, color=COLORS[j],
                                label="i = %d" % lev)
                        band(ax, gl.median().index, gl.quantile(0.25).values, gl.quantile(0.75).values, COLORS[j])
                    if all(float(v).is_integer() for v in gm["x"].unique()):
                        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
                    how.append("%s: a line per i (median over %d tasks), band 25th to 75th percentile"
                               % (m, len(keys)))
                elif len(keys) <= MAX_LEGEND:
                    tk = self.tasks[self.tasks["key"].isin(keys)]
                    sets = dict(zip(tk["key"], self.settings(tk, m) if m != "original models" else [{}] * len(tk)))
                    for k, (_, row) in zip(tk["key"], tk.iterrows()):
                        if row["width"] > 0:
                            sets[k] = dict(sets[k], width=row["width"])
                        sets[k] = dict(sets[k], seed=row["seed"])
                    vary = {c for c in set().union(*sets.values())
                            if len({str(sets[k].get(c)) for k in keys}) > 1}
                    for j, k in enumerate(keys):
                        gk = gm[gm["key"] == k].sort_values("i")
                        lab = cbound.short_label({c: v for c, v in sets[k].items() if c in vary}) or m
                        ax.plot(gk["x"], gk["y"], ".-", ms=3, lw=1, color=COLORS[j], label=lab)
                    how.append("%s: one line per task" % m)
                else:
                    for j, w in enumerate(pick_evenly(gm["width"].unique())):
                        gw = gm[gm["width"] == w].groupby("i")
                        x, y = gw["x"].median(), gw["y"]
                        sw = gm[gm["width"] == w]
                        n = "%d models" % sw["stage"].nunique() if name.endswith("_orig") else \
                            "%d tasks" % sw["key"].nunique()
                        ax.plot(x.values, y.median().values, "-", lw=1.2, color=COLORS[j],
                                label="width %d (%s)" % (w, n))
                        band(ax, x.values, y.quantile(0.25).values, y.quantile(0.75).values, COLORS[j])
                    how.append("%s: median over the tasks of each width, band 25th to 75th percentile" % m)
                ax.set_title(m)
                ax.set_xlabel(SERIES_AXES.get(name, ("x", "y"))[0])
                if len(SERIES_AXES.get(name, ())) > 2 and SERIES_AXES[name][2] == "log":
                    ax.set_yscale("log")
                if len(SERIES_AXES.get(name, ())) > 3 and SERIES_AXES[name][3] == "log":
                    xs = gm["x"].unique()
                    if len(xs) <= 12:
                        log_width_axis(ax, xs)   # ticks at the actual values
                    else:
                        ax.set_xscale("log")
                ax.legend(fontsize=6)
            axes[0][0].set_ylabel(SERIES_AXES.get(name, ("x", "y"))[1])
            fname = "fig_series_%s.png" % name.replace("/", "_")
            self.say("## Series `%s`" % name)
            self.say("")
            self.savefig(fig, fname, SERIES_CAPTION.get(name, "Series %s from the series table." % name)
                         + " " + "; ".join(how) + ".")

    def fig_weights(self):
        """004 Figures 1 and 6: weight histograms of the trained models against the fitted Gaussian."""
        models = sorted(glob.glob(os.path.join(self.rundir, "models", "*.h5")))
        if not models:
            self.lack("004 Figures 1/6: no model files under %s/models" % self.rundir)
            return
        by_width = {}
        for p in models:
            try:
                with h5py.File(p, "r") as f:
                    depth = int(f.attrs.get("depth", len(f["layers"])))
                    width = int(f["layers/0/W"].shape[0])
                    if width in by_width:
                        continue
                    by_width[width] = [f["layers/%d/W" % l][:] for l in range(depth)]
            except (OSError, KeyError) as e:
                self.lack("004 Figures 1/6: cannot read %s (%s)" % (p, e))
        if not by_width:
            return
        widths = pick_evenly(by_width, 3)   # numeric order: smallest, middle, largest
        nl = max(len(by_width[w]) for w in widths)
        fig, axes = plt.subplots(len(widths), nl, figsize=(2.4 * nl + 0.3, 1.9 * len(widths) + 0.3),
                                 squeeze=False, constrained_layout=True)
        for r, width in enumerate(widths):
            for l, W in enumerate(by_width[width]):
                ax = axes[r][l]
                w = W.ravel().astype(np.float64)
                sd = w.std()
                ax.hist(w, bins=100, density=True, color=COLORS[0], alpha=0.6, label="weights")
                xs = np.linspace(w.min(), w.max(), 300)
                ax.plot(xs, np.exp(-(xs - w.mean()) ** 2 / (2 * sd * sd)) / (sd * math.sqrt(2 * math.pi)), "-",
                        color=COLORS[3], lw=1, label=r"$\mathcal{N}(\mu, \sigma^2)$ fit")
                ax.set_title("width %d, layer %d" % (width, l), fontsize=8)
                ax.tick_params(labelsize=6)
                if r == len(widths) - 1:
                    ax.set_xlabel("weight value", fontsize=7)
            for l in range(len(by_width[width]), nl):
                axes[r][l].axis("off")
        axes[0][0].legend(fontsize=6)
        self.say("## 004 Figures 1 and 6: weight distributions")
        self.say("")
        self.savefig(fig, "fig_004_fig1_weights.png",
                     "Histograms of trained weights per layer (density) with the Gaussian of the same mean and "
                     "variance: 004's Assumption 3.1; one model per width shown (%s)."
                     % ", ".join(str(w) for w in widths))

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
        with open(os.path.join(self.outdir, "figures.json"), "w") as f:
            json.dump({"dpi": FIG_DPI, "max_legend_entries": MAX_LEGEND, "figures": self.figures}, f, indent=1)


SERIES_AXES = {
    "imp_test_acc": ("sparsity after the IMP level", "test accuracy"),
    "imp_train_acc": ("sparsity after the IMP level", "training accuracy"),
    "imp_test_loss": ("sparsity after the IMP level", "test loss (nats)"),
    "imp_layer_kept": ("layer", "kept fraction of the layer (i = IMP level)"),
    "margin_quantile_orig": ("quantile", r"training margin $f(x)_y - \max_{j \neq y} f(x)_j$"),
    "margin_quantile_comp": ("quantile", r"training margin $\hat f(x)_y - \max_{j \neq y} \hat f(x)_j$"),
    "lr_planted_nuc": (r"samples $n_s$", r"$\Vert \hat W - W^*\Vert_F / \Vert W^*\Vert_F$", "log", "log"),
    "lr_planted_rrr": (r"samples $n_s$", r"$\Vert \hat W - W^*\Vert_F / \Vert W^*\Vert_F$", "log", "log"),
    "lr_planted_ls": (r"samples $n_s$", r"$\Vert \hat W - W^*\Vert_F / \Vert W^*\Vert_F$", "log", "log"),
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
    ap.add_argument("--op-tol", type=float, default=0.01,
                    help="operating point: most compressed task with test accuracy >= original's - OP_TOL (0.01)")
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
    for old in glob.glob(os.path.join(out, "fig_*.png")) + glob.glob(os.path.join(out, "fig_*.pdf")) + \
            glob.glob(os.path.join(out, "table_*.csv")) + glob.glob(os.path.join(out, "figures.json")):
        os.remove(old)  # figures of an earlier report of this file; this one rewrites what applies
    r = Report(a.results, out, a.quiet, a.op_tol)
    r.summary()
    if r.tasks is not None:
        r.fig2_error()
        r.fig4_sparsity()
        r.tables_bounds()
        r.occam()
        r.fig_width_000()
        r.figs_002()
        r.figs_003()
        r.figs_series()
    r.fig_weights()
    r.finish()
    if not a.quiet:
        print("\n".join(r.md))
    print("cbound report: wrote %s/report.md and %d figure(s) (PNG + PDF, figures.json)" % (out, len(r.figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
