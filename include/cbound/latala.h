/*
 * latala — pruning-error bounds of 004 (Lemma C.1–C.5, 4.1, 4.2, D.1–D.4) built on
 * Latała's bound (Latała 2005, Thm 2; 004 Lemma C.3): for a random matrix X with
 * independent zero-mean entries,
 *     E‖X‖₂ ≤ C [ max_i (Σ_j E X_ij²)^½ + max_j (Σ_i E X_ij²)^½ + (Σ_ij E X_ij⁴)^¼ ].
 * C is a universal constant that nobody has computed; cbound records the bracket
 * with C = 1 and the measured ratio ‖Δ‖₂ / bracket (the bracket is the quantity 004
 * writes as Γ_l / C).
 *
 * Pruning model (004 Algorithm 1): entry (i, j) is pruned (Δ_ij = A_ij, Â_ij = 0) with
 * probability P_ij = exp(−A_ij² / (dΨ)), independently; the paper's variant never
 * prunes i = j (Remark 4.1), the authors' code does. Sign: 004 defines Δ = Â − A in
 * the text of Lemma C.1 but computes with Δ = A when pruned; norms do not care.
 * Three variants of the bracket for the same layer:
 *   (a) Assumption 3.1 (A_ij ~ N(0, Ψ) i.i.d.): closed-form moments of Lemma C.1;
 *   (b) conditional on the actual weights A: Δ_ij = A_ij B_ij, B_ij ~ Bernoulli(P_ij),
 *       is independent but not zero-mean, so E‖Δ‖₂ ≤ ‖E[Δ|A]‖₂ + E‖Δ − E[Δ|A]‖₂ with
 *       ‖A∘P‖₂ computed exactly and Latała's bracket applied to the centred part —
 *       valid without Assumption 3.1;
 *   (c) Monte Carlo over masks: E‖Δ‖₂ estimated from `reps` masks of stream
 *       (seed, key, CB_RNG_MC, replicate).
 * Matrices are row-major (d_out, d_in) double, as the layer weights.
 */
#ifndef CBOUND_LATALA_H
#define CBOUND_LATALA_H

#include "cbound/err.h"
#include "cbound/norms.h"

#include <stddef.h>
#include <stdint.h>

/* 004 Lemma F.3 / C.1 under Assumption 3.1: probability that an entry is KEPT,
 * χ = (√(d+2) − √d)/√(d+2) = 1 − √(d/(d+2)). (004's proof of Lemma 5.1 labels this
 * P(Z = 0), "pruned", but its integral (10) is E exp(−A²/(dΨ)) = √(d/(d+2)), the
 * prune probability; χ is the keep probability — checked by simulation in the tests.) */
double cb_latala_keep_prob(double d);

/* 004 Lemma C.1: E Δ² = (d/(d+2))^{3/2} Ψ and E Δ⁴ = 3 (d/(d+2))^{5/2} Ψ² (E Δ = 0). */
void cb_latala_gauss_moments(double d, double psi, double *m2, double *m4);

/* Latała bracket with C = 1 from entrywise second and fourth moments (m, n). */
double cb_latala_bracket(const double *ex2, const double *ex4, size_t m, size_t n);

/* Variant (a): 004's Γ_l / C = √m2 (√d₁ + √d₂) + (d₁ d₂ m4)^{1/4} (Lemma C.2). */
double cb_latala_gamma(double d, double psi, size_t d1, size_t d2);

/* Algorithm 1 prune probabilities P_ij = exp(−A_ij²/(dΨ)); P_ii = 0 when keep_diag.
 * d = 0 means "prune nothing" (P = 0). */
void cb_latala_prune_prob(const double *A, size_t m, size_t n, double d, double psi, int keep_diag,
                          double *P);

/* Variant (b). */
typedef struct {
    double mean_norm;       /* ‖E[Δ|A]‖₂ = ‖A∘P‖₂ (certified, see norms.h)                */
    double bracket_centred; /* bracket of Δ − E[Δ|A]: E X² = A²P(1−P), E X⁴ = A⁴P(1−P)((1−P)³+P³) */
    double bound;           /* mean_norm + bracket_centred (a bound on E‖Δ‖₂ / C, C ≥ 1)   */
} CbLatalaCond;
CbStatus cb_latala_conditional(const double *A, const double *P, size_t m, size_t n,
                               const CbNormOpts *no, CbLatalaCond *out);

/* The mask of replicate `rep`: pruned[i] = 1 iff u_i < P_i, u_i = cb_rng_uniform_at(seed,
 * key, CB_RNG_MC, rep, i). Writes Δ (entries A where pruned, else 0). */
void cb_latala_mc_delta(const double *A, const double *P, size_t m, size_t n, uint64_t seed,
                        uint64_t key, uint32_t rep, double *delta);

/* Variant (c). */
typedef struct {
    double mean, sd, min, max; /* of ‖Δ_r‖₂ over replicates          */
    double stderr_mean;        /* sd / √reps                          */
    int reps;
} CbLatalaMc;
CbStatus cb_latala_mc(const double *A, const double *P, size_t m, size_t n, uint64_t seed,
                      uint64_t key, int reps, const CbNormOpts *no, CbLatalaMc *out);

/* ---- output-error bounds (004 Lemma C.4/D.2 with L_l = 1 for ReLU) ---------------- */

/* ln of e ‖x‖ Π_l κ_l ‖A_l‖₂ Σ_l pert_l / ‖A_l‖₂  (κ = NULL means κ_l = 1: Lemma 4.1/C.5;
 * pert_l = ε_l Γ_l for Lemma C.5, ε_l Γ_l + ρ_l J_l for Lemma 4.2/D.4, or the measured
 * ‖Δ_l‖₂ for the authors' required margin). −∞ when every pert_l is 0. */
double cb_latala_output_bound_log(int L, const double *spec_A, const double *pert,
                                  const double *kappa, double x_norm);

/* Lemma D.1's t: the root of 1 − n e^{−t² d₁} = target. Closed form √(ln(n/(1−target))/d₁). */
double cb_latala_kw_t(double n_samples, double d1, double target);
/* The same root by bisection on [0, 1] exactly as the authors' code calls
 * scipy.optimize.bisect(xtol = 0.01): returns NaN when [0, 1] does not bracket it. */
double cb_latala_kw_t_bisect(double n_samples, double d1, double target, double xtol);
/* κ_l of Lemma D.1 for a layer with fan-in d₁ = d_in and fan-out d₂ = d_out:
 * t √d₂ when d₂ < d₁ (rank ≤ d₂), capped at 1 (‖Bx‖ ≤ ‖B‖‖x‖ always), else 1. */
double cb_latala_kappa(size_t d_in, size_t d_out, double t);

/* Lemma 4.2's largest admissible discretization step ρ_l = ((1/L)‖A‖₂ − ε_lΓ_l) / J_l
 * (NaN when the numerator is ≤ 0: the condition cannot be met). */
double cb_latala_rho_max(double spec_A, int L, double eps_gamma, double J);

#endif
