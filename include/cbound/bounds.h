/*
 * bounds — 004's generalization bounds and the baselines, next to the quantities
 * they bound. Every bound is reported as ln(value) in the bounds table (name, variant,
 * scale, value_ln, error_bound, vacuous, applies, why_not, gamma, ...); docs/bounds.md
 * lists every formula, its source and its dropped constants.
 *
 *   name                    variants
 *   sketch_004_thm5.2       predicted_j | predicted_j_printed | measured_j | measured_j_proof |
 *                           measured_j_emp_gamma | measured_sketch | authors_code
 *   counting_004_lemmaE.1   predicted_nnz | measured_nnz
 *   arora2018_thm3.1        as_004_states
 *   bartlett2017            paper | paper_compressed | from_init | authors_code
 *   neyshabur2015           paper | paper_compressed | authors_code
 *   neyshabur2017           paper | paper_compressed | from_init | authors_code
 * Counts follow the math by default: Thm 5.1 (Dasarathy et al. 2013) gives m_l² =
 * max(j_r d_out, j_c d_in) ln² p_l sketch entries (measured_j), and with Lemma 5.1's
 * j <= 3λχ p_l that is 3λχ p_l² ln² p_l (predicted_j); Thm 5.2 as printed has d₁d₂ for
 * p_l² (predicted_j_printed) and its proof (√(j p) ln p)² (measured_j_proof).
 * Every row says what it is worth (CbBoundRow): scale ("error" rows are R̂_γ + √(C/n),
 * "complexity" rows are the authors' code's terms, not bounds on the error),
 * error_bound, vacuous, applies and why_not (γ < 0, biases, a failed recipe, a
 * theorem probability <= 0, ...).
 *
 * Margins used: γ_paper = Lemma D.4's bound with ε_lΓ_l (+ ρ_lJ_l); γ_measured = the
 * same with the measured ‖Δ_l‖₂ in place of ε_lΓ_l (what the authors' code uses);
 * γ_emp = 2 max_{x∈S} ‖f(x) − g(x)‖_∞ (the smallest γ for which f is
 * (γ/2, S)-compressible by g in Arora et al.'s Definition, so R̂₀(g) ≤ R̂_γ(f)).
 * Discretization: when the task discretized (layer column rho), r_l = 2⌈‖Â‖_max/ρ_l⌉ + 1
 * values and ρ_lJ_l enters the margin (Lemma 4.2); otherwise the weights are float32,
 * r_l = 2³² and no ρ term (the compressed model is already one of finitely many).
 */
#ifndef CBOUND_BOUNDS_H
#define CBOUND_BOUNDS_H

#include "cbound/err.h"
#include "cbound/mlp.h"
#include "cbound/result.h"
#include "cbound/ctx.h"

#include <stddef.h>

typedef struct {
    double delta;        /* Lemma C.5 failure probability: ε_l = L / delta (0.1)        */
    double lambda;       /* Lemma 5.1's λ_l (1, the authors' predicted count)            */
    double kw_target;    /* Lemma D.1: t solves 1 − n e^{−t² d₁} = kw_target (0.99)       */
    int mc_reps;         /* Latała variant (c) mask replicates (0 = off)                  */
    double norm_rtol;    /* spectral norms (1e-9)                                         */
    int recipe;          /* run the authors' recipe (best d by bisection)                 */
    double recipe_dmax;  /* bisection interval [0, recipe_dmax] (10, as the authors)     */
    double recipe_xtol;  /* bisection tolerance (1e-3, as the authors)                    */
    int latala;          /* Latała brackets and Lemma 5.1 columns (MBP tasks)             */
    int margins;         /* margins, output-error bounds and the bounds table             */
} CbBoundsOpts;

void cb_bounds_opts_default(CbBoundsOpts *o);

/* Everything the bound formulas read, per layer. */
typedef struct {
    size_t d_in, d_out;
    double spec, spec_comp, spec_delta;   /* ‖A‖₂, ‖Â‖₂, ‖Δ‖₂ (certified)                 */
    double fro, fro_comp;                 /* ‖A‖_F, ‖Â‖_F                                   */
    double l21, l21_comp;                 /* ‖Aᵀ‖_{2,1}, ‖Âᵀ‖_{2,1}                          */
    double fro_init, l21_init;            /* ‖A − A₀‖_F, ‖(A − A₀)ᵀ‖_{2,1} (NaN: no init)     */
    double lpq_authors;                   /* the authors' lpq_norm(A, 1, 2) (= ‖A‖_F)         */
    double nnz, j_r, j_c, max_abs_comp;   /* of Â                                           */
    double rho;                           /* discretization step (NaN = float32)            */
    double eps_gamma;                     /* ε_l Γ_l (NaN when the method is not MBP)       */
    double kappa;                         /* Lemma D.1 κ_l (closed-form t)                  */
    double chi;                           /* χ(d) (NaN when not MBP)                        */
} CbBoundLayer;

typedef struct {
    int L;
    const CbBoundLayer *layer;   /* (L)                                                  */
    double n;                    /* training samples                                     */
    double x_norm_max, x_fro;    /* max ‖x‖₂, (Σ‖x‖₂²)^½                                 */
    size_t d0;                   /* input dimension                                       */
    const double *mf, *mg;       /* sorted training margins of f and g (n)               */
    double out_err_linf;         /* max_x ‖f(x) − g(x)‖_∞                                 */
    double lambda;               /* Lemma 5.1 λ                                           */
    double delta;                /* Lemma C.2/C.5 failure probability (ε_l = L / delta)    */
    int bias;                    /* the network has biases (every theorem here assumes none) */
} CbBoundInputs;

/* ln(2⌈max_abs/ρ⌉ + 1), or 32 ln 2 when ρ is NaN (float32 weights). */
double cb_bounds_ln_r(double max_abs, double rho);
/* The 004 authors' lpq_norm(A, p, q) on a weight (out, in): column-wise 2-norms of |A|^p,
 * raised to q/p, summed, to the 1/q. For p = 1, q = 2 this is ‖A‖_F (not ‖Aᵀ‖_{2,1}). */
double cb_bounds_lpq_authors(const double *A, size_t m, size_t n, double p, double q);

/* Adds every bound row computable from `in` to res and fills the bound task columns. */
void cb_bounds_compute(const CbBoundInputs *in, CbResult *res);

/* The authors' recipe on the original model f: for d in [0, dmax], prune with the
 * code variant (diagonal pruned, Ψ = population variance of the layer), needed(d) =
 * e max‖x‖ Πκ_l‖A_l‖ Σ‖Δ_l‖/‖A_l‖ (κ_l with the authors' bisected t), and bisect
 * γ_min(f) − needed(d) = 0 (scipy.optimize.bisect semantics). All evaluations share one
 * mask stream (common random numbers; the authors draw a fresh unseeded mask each time).
 * Outputs: *d_best, *needed (the required margin at d_best), *count = Σ d₁d₂χ ln² p. */
typedef struct {
    double d_best, needed, count, gamma_min, bound_log, margin_loss;
    int evaluations, bracketed;
    int solved;   /* needed <= gamma_min at d_best (Thm 5.2's condition); 0 also when gamma_min <= 0 */
} CbRecipe;
CbStatus cb_bounds_recipe(const CbTaskCtx *ctx, const CbMlp *f, const double *mf, size_t n,
                          double x_norm_max, const CbBoundsOpts *o, CbRecipe *out);

/* The driver's entry point: norms, Latała variants, margins, output-error bounds,
 * distributed sparsity and every bound for one compressed model. */
CbStatus cb_bounds_run(const CbTaskCtx *ctx, const CbMlp *orig, const CbMlp *comp, CbResult *res);
/* Same with explicit options (tests). */
CbStatus cb_bounds_run_opts(const CbTaskCtx *ctx, const CbMlp *orig, const CbMlp *comp,
                            const CbBoundsOpts *o, CbResult *res);

#endif
