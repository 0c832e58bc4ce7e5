/*
 * twolayer — compressing a two-layer ReLU network with N neurons into one with M
 * neurons (seed paper 002, Amani et al., "Sharp asymptotics on the compression of
 * two-layer neural networks").
 *
 *   target      f_W(x) = (1/N) Σ_n a_n σ(<w_n, x>),  w_n ∈ S^{d-1}      (002 eq. 1)
 *   compressed  f_V(x) = (1/M) Σ_m b_m σ(<v_m, x>),  v_m ∈ S^{d-1}      (002 eq. 2)
 *   kernel      g(α) = E[σ(uᵀX) σ(vᵀX)], X ~ N(0, I), α = <u, v>        (002 eq. 4, 9)
 *   loss        L(V,W) = aᵀG_WW a/N² − (2/M) bᵀs + bᵀG_VV b/M²,  s = G_VW a/N   (eq. 6)
 *   optimal b   b* = M G_VV⁺ s (eq. 7);   limit loss (11) replaces s by μ_a/(2π)·1;
 *   limit objective R̃(V) = 1ᵀ G_VV⁺ 1 (eq. 31), ETF value (eq. 32, Lemma 5).
 * Matrices are row-major doubles; a set of K unit vectors in R^d is a (K, d) array.
 * The ETF ascent is split into init / iterate (one Armijo step) so the caller's
 * loop is visible (GSL style); the caller decides when the gradient is small.
 */
#ifndef CBOUND_TWOLAYER_H
#define CBOUND_TWOLAYER_H

#include "cbound/err.h"

#include <stddef.h>
#include <stdint.h>

/* Stream indices under CB_RNG_TWOLAYER: starts use index = start (0, 1, ...);
 * the teacher's weights and coefficients use these (far above any start). */
#define CB_TWOLAYER_STREAM_TEACHER_W 0x40000000u
#define CB_TWOLAYER_STREAM_TEACHER_A 0x40000001u
#define CB_TWOLAYER_STREAM_ROTATION 0x40000002u

/* ------------------------------------------------------------------ kernel g */

/* Closed form (002 eq. 9): g(α) = (√(1−α²) + α(π − arccos α)) / (2π); α is
 * clamped to [−1, 1] (inner products of unit vectors may round past ±1). */
double cb_twolayer_g(double alpha);
/* g'(α) = (π − arccos α) / (2π). */
double cb_twolayer_g_deriv(double alpha);
/* Taylor coefficient of α^n in g (corrected eq. 10, see twolayer.c):
 * n = 0: 1/(2π); n = 1: 1/4; odd n ≥ 3: 0; n = 2k: ((2k−3)!!)² / (2π (2k)!). */
double cb_twolayer_g_coef(int n);
/* Partial sum of the series up to and including α^(2K). */
double cb_twolayer_g_series(double alpha, int K);

/* G (m, n) with G_ij = g(<u_i, v_j>), u (m, d), v (n, d) unit rows. */
void cb_twolayer_gram(const double *u, size_t m, const double *v, size_t n, size_t d, double *G);

/* Moore–Penrose pseudo-inverse of a symmetric (n, n) matrix through LAPACK's
 * dsyevd: eigenvalues with |λ| <= rcond·max|λ| are treated as 0. `rank` (may be
 * NULL) receives the number kept. */
CbStatus cb_twolayer_pinv_sym(const double *A, size_t n, double rcond, double *Ap, size_t *rank);

/* ------------------------------------------------------------------ networks */

typedef struct {
    size_t n, d;  /* neurons, input dimension                       */
    double *w;    /* (n, d) unit rows                               */
    double *a;    /* (n) output coefficients                        */
} CbTwolayerNet;

/* Teacher of 002's assumptions (A-w), (A-a): w_n = g/‖g‖ with g ~ N(0, I_d)
 * from stream (seed, key, CB_RNG_TWOLAYER, CB_TWOLAYER_STREAM_TEACHER_W), a_n ~
 * U[a_lo, a_hi] from ..._TEACHER_A. Neuron n's draws do not depend on N, so the
 * first N' neurons of a size-N teacher are the size-N' teacher (nested). */
CbStatus cb_twolayer_teacher(size_t N, size_t d, double a_lo, double a_hi, uint64_t seed,
                             uint64_t key, CbTwolayerNet *out);
void cb_twolayer_net_free(CbTwolayerNet *net);

/* M unit vectors drawn uniformly on S^{d-1} from stream (seed, key, CB_RNG_TWOLAYER, index). */
void cb_twolayer_random_sphere(size_t M, size_t d, uint64_t seed, uint64_t key, uint32_t index,
                               double *v);

/* s = G_VW a / N  (M). */
void cb_twolayer_s(const CbTwolayerNet *t, const double *v, size_t M, double *s);
/* aᵀ G_WW a / N² (the constant term of eq. 6; O(N² d)). */
double cb_twolayer_target_energy(const CbTwolayerNet *t);
/* Exact population loss (eq. 6) of compressed network (v (M, d), b (M)).
 * `energy` = cb_twolayer_target_energy(t) (passed in: it is the costly part). */
double cb_twolayer_loss(const CbTwolayerNet *t, double energy, const double *v, const double *b,
                        size_t M);
/* Limit loss (eq. 11): eq. 6 with s replaced by μ_a/(2π)·1. */
double cb_twolayer_limit_loss(double energy, double mu_a, const double *v, const double *b,
                              size_t M, size_t d);
/* Optimal b for fixed V (Lemma 1, eq. 7): b = M G_VV⁺ s; `loss` (may be NULL)
 * receives eq. 8: energy − sᵀ G_VV⁺ s. */
CbStatus cb_twolayer_optimal_b(const CbTwolayerNet *t, double energy, const double *v, size_t M,
                               double rcond, double *b, double *loss);
/* Optimal b of the limit loss (eq. 29): b = (M μ_a / 2π) G_VV⁺ 1. */
CbStatus cb_twolayer_limit_b(double mu_a, const double *v, size_t M, size_t d, double rcond,
                             double *b);

/* ------------------------------------------------------------------ limit objective, ETF */

/* R̃(V) = 1ᵀ G_VV⁺ 1 (eq. 31). When grad != NULL also its Riemannian gradient on
 * the product of spheres, grad (M, d): grad_i = P_i(−2 u_i Σ_{j≠i} u_j g'(<v_i,v_j>) v_j),
 * u = G_VV⁺ 1, P_i = I − v_i v_iᵀ (exact where G_VV is invertible). */
CbStatus cb_twolayer_objective(const double *v, size_t M, size_t d, double rcond, double *R,
                               double *grad);
/* R̃_ETF = M / (g(1) + (M−1) g(−1/(M−1)))  (Lemma 5, eq. 32). */
double cb_twolayer_etf_value(size_t M);
/* Explicit ETF: M unit vectors in R^d with <v_i, v_j> = −1/(M−1) (needs 2 <= M <= d+1).
 * v_i = √(M/(M−1)) (h_1[i], ..., h_{M−1}[i], 0, ...) with h_k the Helmert basis of
 * 1⊥ in R^M; rotated by a random orthogonal matrix from stream index
 * CB_TWOLAYER_STREAM_ROTATION when rotate != 0. */
CbStatus cb_twolayer_etf(size_t M, size_t d, int rotate, uint64_t seed, uint64_t key, double *v);
/* ‖G_VV − G_ETF‖_F (eq. 35) with G_ETF = c1 11ᵀ + c2 I, which every ETF shares. */
double cb_twolayer_dist_etf(const double *v, size_t M, size_t d);

/* Riemannian gradient ascent of R̃ with Armijo backtracking and retraction
 * v_i <- (v_i + η grad_i) / ‖·‖. */
typedef struct {
    size_t M, d;
    double rcond;     /* pseudo-inverse cut-off                                */
    double step;      /* current step size η (grows ×1.5 after an accepted step) */
    int fixed_step;   /* 1: plain Riemannian gradient ascent with constant η, no
                         line search (set after init; default 0 = Armijo)       */
    double R;         /* R̃ at v                                               */
    double grad_norm; /* ‖grad‖_F at v                                         */
    long iter;        /* accepted + rejected iterations so far                  */
    double *v;        /* (M, d) current point                                   */
    double *grad;     /* (M, d) Riemannian gradient at v                        */
    double *trial;    /* (M, d) workspace                                       */
    double *trial_grad;
} CbTwolayerAscent;

/* v0 (M, d) is copied and normalized. */
CbStatus cb_twolayer_ascent_init(CbTwolayerAscent *a, const double *v0, size_t M, size_t d,
                                 double step0, double rcond);
/* One iteration: backtrack from `step` until the Armijo condition
 * R(trial) >= R + 1e-4 η ‖grad‖² holds (up to rounding), then move; with
 * fixed_step, move by the constant step whatever R does. Returns CB_ENUMERIC
 * when no step is found or R̃ is not finite. */
CbStatus cb_twolayer_ascent_iterate(CbTwolayerAscent *a);
void cb_twolayer_ascent_free(CbTwolayerAscent *a);

#endif
