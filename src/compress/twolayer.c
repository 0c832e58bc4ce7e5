/*
 * twolayer — N→M compression of a two-layer ReLU network (seed paper 002).
 *
 * Implements the kernel g (002 eq. 9 and a corrected eq. 10), the matrices
 * G_WW, G_VV, G_VW (eq. 5), the exact population loss (eq. 6), the optimal b
 * (Lemma 1, eq. 7–8), the limit loss and objective (eq. 11, 29–31), the ETF value
 * (Lemma 5, eq. 32) with an explicit ETF, and Riemannian gradient ascent of
 * R̃(V) = 1ᵀ G_VV⁺ 1 on the product of spheres.
 *
 * Departure from the text: eq. (10) prints the coefficient of α^{2k} as
 * ((2k−3)!!)² / (2π k!). The Hermite coefficients of ReLU are
 * c_n = E[σ(X) He_n(X)] = He_{n−2}(0)/√(2π) for n >= 2 (integrate by parts with
 * He_n φ = (−1)^n φ^{(n)}), so the α^n coefficient c_n²/n! is
 * ((2k−3)!!)² / (2π (2k)!) for n = 2k: (2k)!, not k!. (With k! the series
 * diverges for |α| = 1; the Taylor expansion of eq. 9 gives α²/(4π), matching
 * (2k)!.) tests/test_twolayer.c checks the coefficients by quadrature.
 * Lemma 6 writes the M = 2 objective with g12 = 2g(<v1,v2>), i.e. after scaling
 * G_VV by 2 (g(1) = 1/2); R̃ = 4 / (1 + 2g(α)) in our normalization.
 */
#include "cbound/twolayer.h"
#include "cbound/rng.h"
#include "cbound/ctx.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ------------------------------------------------------------------ kernel g */

double cb_twolayer_g(double alpha)
{
    double x = alpha > 1 ? 1 : alpha < -1 ? -1 : alpha;
    return (sqrt(1 - x * x) + x * (M_PI - acos(x))) / (2 * M_PI);
}

double cb_twolayer_g_deriv(double alpha)
{
    double x = alpha > 1 ? 1 : alpha < -1 ? -1 : alpha;
    return (M_PI - acos(x)) / (2 * M_PI);
}

double cb_twolayer_g_coef(int n)
{
    if (n < 0) return 0;
    if (n == 0) return 1 / (2 * M_PI);
    if (n == 1) return 0.25;
    if (n % 2) return 0;
    /* ((2k−3)!!)² / (2k)!, built as a product to stay finite for large k:
     * ratio of consecutive terms t_{k+1}/t_k = (2k−1)² / ((2k+1)(2k+2)), t_1 = 1/2. */
    int k = n / 2;
    double t = 0.5;
    for (int j = 1; j < k; ++j) t *= (double)(2 * j - 1) * (2 * j - 1) / ((2.0 * j + 1) * (2.0 * j + 2));
    return t / (2 * M_PI);
}

double cb_twolayer_g_series(double alpha, int K)
{
    double sum = 1 / (2 * M_PI) + 0.25 * alpha, a2 = alpha * alpha, p = 1, t = 0.5;
    for (int k = 1; k <= K; ++k) {
        p *= a2;
        sum += t / (2 * M_PI) * p;
        t *= (double)(2 * k - 1) * (2 * k - 1) / ((2.0 * k + 1) * (2.0 * k + 2));
    }
    return sum;
}

void cb_twolayer_gram(const double *u, size_t m, const double *v, size_t n, size_t d, double *G)
{
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)d, 1.0, u, (int)d, v,
                (int)d, 0.0, G, (int)n);
    for (size_t i = 0; i < m * n; ++i) G[i] = cb_twolayer_g(G[i]);
}

CbStatus cb_twolayer_pinv_sym(const double *A, size_t n, double rcond, double *Ap, size_t *rank)
{
    if (n == 0) return CB_ERR(CB_EINVAL, "pinv_sym: empty matrix");
    if (!(rcond >= 0 && rcond < 1))
        return CB_ERR(CB_EINVAL, "pinv_sym: rcond must be in [0, 1), got %g", rcond);
    double *Q = cb_malloc(n * n * sizeof *Q), *lam = cb_malloc(n * sizeof *lam);
    memcpy(Q, A, n * n * sizeof *Q);
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, Q, (lapack_int)n, lam);
    if (info != 0) {
        free(Q);
        free(lam);
        CB_ERR(CB_ENUMERIC, "pinv_sym: LAPACK dsyevd failed (info %d) on a %zu x %zu matrix", (int)info, n, n);
        cb_err_hint("the matrix has NaN or Inf entries (info < 0: NaN found; info > 0: no convergence)");
        return CB_ENUMERIC;
    }
    double big = 0; /* NaN input fails in LAPACKE's check, Inf in dsyevd (info > 0) */
    for (size_t i = 0; i < n; ++i) big = fmax(big, fabs(lam[i]));
    /* Ap = Q diag(1/λ) Qᵀ over kept eigenvalues: scale columns of a copy, then one dgemm. */
    double *Qs = cb_malloc(n * n * sizeof *Qs);
    size_t kept = 0;
    for (size_t j = 0; j < n; ++j) {
        int keep = fabs(lam[j]) > rcond * big && lam[j] != 0;
        kept += (size_t)keep;
        double inv = keep ? 1 / lam[j] : 0;
        for (size_t i = 0; i < n; ++i) Qs[i * n + j] = Q[i * n + j] * inv;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)n, 1.0, Qs, (int)n, Q,
                (int)n, 0.0, Ap, (int)n);
    if (rank) *rank = kept;
    free(Q);
    free(Qs);
    free(lam);
    return CB_OK;
}

/* ------------------------------------------------------------------ networks */

static void normalize_rows(double *v, size_t k, size_t d)
{
    for (size_t i = 0; i < k; ++i) {
        double s = cblas_dnrm2((int)d, v + i * d, 1);
        if (s > 0) cblas_dscal((int)d, 1 / s, v + i * d, 1);
    }
}

void cb_twolayer_random_sphere(size_t M, size_t d, uint64_t seed, uint64_t key, uint32_t index,
                               double *v)
{
    CbStream s = cb_rng_stream(seed, key, CB_RNG_TWOLAYER, index);
    for (size_t i = 0; i < M * d; ++i) v[i] = cb_rng_normal(&s);
    normalize_rows(v, M, d);
}

CbStatus cb_twolayer_teacher(size_t N, size_t d, double a_lo, double a_hi, uint64_t seed,
                             uint64_t key, CbTwolayerNet *out)
{
    memset(out, 0, sizeof *out);
    if (N == 0 || d == 0) return CB_ERR(CB_EINVAL, "twolayer teacher: N = %zu, d = %zu (both must be >= 1)", N, d);
    if (!(a_lo <= a_hi) || !isfinite(a_lo) || !isfinite(a_hi))
        return CB_ERR(CB_EINVAL, "twolayer teacher: need finite a_lo <= a_hi, got [%g, %g]", a_lo, a_hi);
    out->n = N;
    out->d = d;
    out->w = cb_malloc(N * d * sizeof *out->w);
    out->a = cb_malloc(N * sizeof *out->a);
    cb_twolayer_random_sphere(N, d, seed, key, CB_TWOLAYER_STREAM_TEACHER_W, out->w);
    CbStream sa = cb_rng_stream(seed, key, CB_RNG_TWOLAYER, CB_TWOLAYER_STREAM_TEACHER_A);
    for (size_t n = 0; n < N; ++n) out->a[n] = a_lo + (a_hi - a_lo) * cb_rng_uniform(&sa);
    return CB_OK;
}

void cb_twolayer_net_free(CbTwolayerNet *net)
{
    free(net->w);
    free(net->a);
    memset(net, 0, sizeof *net);
}

void cb_twolayer_s(const CbTwolayerNet *t, const double *v, size_t M, double *s)
{
    double *G = cb_malloc(M * t->n * sizeof *G);  /* (M, N) = G_VW */
    cb_twolayer_gram(v, M, t->w, t->n, t->d, G);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)M, (int)t->n, 1.0 / (double)t->n, G, (int)t->n,
                t->a, 1, 0.0, s, 1);
    free(G);
}

double cb_twolayer_target_energy(const CbTwolayerNet *t)
{
    /* Blocked over rows so the N x N matrix is never held at once. */
    size_t N = t->n, B = 256;
    double *G = cb_malloc(B * N * sizeof *G), *Ga = cb_malloc(B * sizeof *Ga), sum = 0;
    for (size_t r0 = 0; r0 < N; r0 += B) {
        size_t rb = N - r0 < B ? N - r0 : B;
        cb_twolayer_gram(t->w + r0 * t->d, rb, t->w, N, t->d, G);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)rb, (int)N, 1.0, G, (int)N, t->a, 1, 0.0, Ga, 1);
        sum += cblas_ddot((int)rb, Ga, 1, t->a + r0, 1);
    }
    free(G);
    free(Ga);
    return sum / ((double)N * (double)N);
}

/* bᵀ G_VV b */
static double quad_vv(const double *v, const double *b, size_t M, size_t d)
{
    double *G = cb_malloc(M * M * sizeof *G), *Gb = cb_malloc(M * sizeof *Gb);
    cb_twolayer_gram(v, M, v, M, d, G);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)M, (int)M, 1.0, G, (int)M, b, 1, 0.0, Gb, 1);
    double q = cblas_ddot((int)M, b, 1, Gb, 1);
    free(G);
    free(Gb);
    return q;
}

double cb_twolayer_loss(const CbTwolayerNet *t, double energy, const double *v, const double *b,
                        size_t M)
{
    double *s = cb_malloc(M * sizeof *s);
    cb_twolayer_s(t, v, M, s);
    double Md = (double)M;
    double L = energy - 2 / Md * cblas_ddot((int)M, b, 1, s, 1) + quad_vv(v, b, M, t->d) / (Md * Md);
    free(s);
    return L;
}

double cb_twolayer_limit_loss(double energy, double mu_a, const double *v, const double *b,
                              size_t M, size_t d)
{
    double Md = (double)M, sum_b = 0;
    for (size_t m = 0; m < M; ++m) sum_b += b[m];
    return energy - 2 / Md * mu_a / (2 * M_PI) * sum_b + quad_vv(v, b, M, d) / (Md * Md);
}

/* Gp = G_VV⁺ (M, M) */
static CbStatus gvv_pinv(const double *v, size_t M, size_t d, double rcond, double *Gp)
{
    double *G = cb_malloc(M * M * sizeof *G);
    cb_twolayer_gram(v, M, v, M, d, G);
    CbStatus st = cb_twolayer_pinv_sym(G, M, rcond, Gp, NULL);
    free(G);
    return st;
}

CbStatus cb_twolayer_optimal_b(const CbTwolayerNet *t, double energy, const double *v, size_t M,
                               double rcond, double *b, double *loss)
{
    double *Gp = cb_malloc(M * M * sizeof *Gp), *s = cb_malloc(M * sizeof *s);
    CbStatus st = gvv_pinv(v, M, t->d, rcond, Gp);
    if (st == CB_OK) {
        cb_twolayer_s(t, v, M, s);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)M, (int)M, (double)M, Gp, (int)M, s, 1, 0.0, b, 1);
        /* eq. 8: sᵀ G⁺ s = sᵀ b / M */
        if (loss) *loss = energy - cblas_ddot((int)M, s, 1, b, 1) / (double)M;
    }
    free(Gp);
    free(s);
    return st;
}

CbStatus cb_twolayer_limit_b(double mu_a, const double *v, size_t M, size_t d, double rcond,
                             double *b)
{
    double *Gp = cb_malloc(M * M * sizeof *Gp);
    CbStatus st = gvv_pinv(v, M, d, rcond, Gp);
    if (st == CB_OK)
        for (size_t i = 0; i < M; ++i) {
            double r = 0;
            for (size_t j = 0; j < M; ++j) r += Gp[i * M + j];
            b[i] = (double)M * mu_a / (2 * M_PI) * r;
        }
    free(Gp);
    return st;
}

/* ------------------------------------------------------------------ limit objective, ETF */

CbStatus cb_twolayer_objective(const double *v, size_t M, size_t d, double rcond, double *R,
                               double *grad)
{
    if (M == 0 || d == 0) return CB_ERR(CB_EINVAL, "twolayer objective: M = %zu, d = %zu", M, d);
    double *Gp = cb_malloc(M * M * sizeof *Gp), *u = cb_malloc(M * sizeof *u);
    CbStatus st = gvv_pinv(v, M, d, rcond, Gp);
    if (st != CB_OK) {
        free(Gp);
        free(u);
        return st;
    }
    for (size_t i = 0; i < M; ++i) {
        u[i] = 0;
        for (size_t j = 0; j < M; ++j) u[i] += Gp[i * M + j];
    }
    double r = 0;
    for (size_t i = 0; i < M; ++i) r += u[i];
    *R = r;
    if (grad) {
        /* dR = −uᵀ dG u with dG_ij = g'(α_ij) dα_ij (i ≠ j; the diagonal g(1) is
         * constant on the sphere), so ∂R/∂v_i = −2 u_i Σ_{j≠i} u_j g'(α_ij) v_j. */
        double *A = cb_malloc(M * M * sizeof *A);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)M, (int)d, 1.0, v, (int)d, v,
                    (int)d, 0.0, A, (int)M);
        for (size_t i = 0; i < M; ++i)
            for (size_t j = 0; j < M; ++j)
                A[i * M + j] = i == j ? 0 : -2 * u[i] * u[j] * cb_twolayer_g_deriv(A[i * M + j]);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)d, (int)M, 1.0, A, (int)M, v,
                    (int)d, 0.0, grad, (int)d);
        for (size_t i = 0; i < M; ++i) { /* tangent projection P_i = I − v_i v_iᵀ */
            double c = cblas_ddot((int)d, grad + i * d, 1, v + i * d, 1);
            cblas_daxpy((int)d, -c, v + i * d, 1, grad + i * d, 1);
        }
        free(A);
    }
    free(Gp);
    free(u);
    if (!isfinite(*R)) return CB_ERR(CB_ENUMERIC, "twolayer objective: R = %g is not finite", *R);
    return CB_OK;
}

double cb_twolayer_etf_value(size_t M)
{
    double Md = (double)M;
    if (M == 1) return 1 / cb_twolayer_g(1);
    return Md / (cb_twolayer_g(1) + (Md - 1) * cb_twolayer_g(-1 / (Md - 1)));
}

/* Random orthogonal Q (d, d): QR of a Gaussian matrix with R's diagonal made
 * positive (Haar distributed, Mezzadri 2007). */
static CbStatus random_orthogonal(size_t d, uint64_t seed, uint64_t key, double *Q)
{
    CbStream s = cb_rng_stream(seed, key, CB_RNG_TWOLAYER, CB_TWOLAYER_STREAM_ROTATION);
    for (size_t i = 0; i < d * d; ++i) Q[i] = cb_rng_normal(&s);
    double *tau = cb_malloc(d * sizeof *tau), *diag = cb_malloc(d * sizeof *diag);
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, Q, (lapack_int)d, tau);
    for (size_t i = 0; i < d; ++i) diag[i] = Q[i * d + i];
    if (info == 0) info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, (lapack_int)d, Q,
                                         (lapack_int)d, tau);
    for (size_t j = 0; j < d; ++j)
        if (diag[j] < 0)
            for (size_t i = 0; i < d; ++i) Q[i * d + j] = -Q[i * d + j];
    free(tau);
    free(diag);
    if (info != 0) return CB_ERR(CB_ENUMERIC, "random rotation: LAPACK QR failed (info %d)", (int)info);
    return CB_OK;
}

CbStatus cb_twolayer_etf(size_t M, size_t d, int rotate, uint64_t seed, uint64_t key, double *v)
{
    if (M < 2 || M > d + 1) {
        CB_ERR(CB_EINVAL, "ETF of M = %zu vectors in R^%zu: needs 2 <= M <= d + 1", M, d);
        cb_err_hint("an ETF of M vectors spans M - 1 dimensions; raise d to at least %zu",
                    M > 1 ? M - 1 : 1);
        return CB_EINVAL;
    }
    memset(v, 0, M * d * sizeof *v);
    double scale = sqrt((double)M / (double)(M - 1));
    /* Helmert basis of 1⊥: h_k = (1, ..., 1, −k, 0, ...)/√(k(k+1)) with k ones, k = 1..M−1.
     * Coordinates of e_i − 1/M in that basis are h_k[i]; ‖e_i − 1/M‖² = (M−1)/M. */
    for (size_t k = 1; k < M; ++k) {
        double nk = 1 / sqrt((double)k * (double)(k + 1));
        for (size_t i = 0; i < M; ++i) {
            double h = i < k ? nk : i == k ? -(double)k * nk : 0;
            v[i * d + (k - 1)] = scale * h;
        }
    }
    if (!rotate) return CB_OK;
    double *Q = cb_malloc(d * d * sizeof *Q), *out = cb_malloc(M * d * sizeof *out);
    CbStatus st = random_orthogonal(d, seed, key, Q);
    if (st == CB_OK) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)d, (int)d, 1.0, v, (int)d, Q,
                    (int)d, 0.0, out, (int)d);
        memcpy(v, out, M * d * sizeof *v);
    }
    free(Q);
    free(out);
    return st;
}

double cb_twolayer_dist_etf(const double *v, size_t M, size_t d)
{
    double c1 = M > 1 ? cb_twolayer_g(-1 / ((double)M - 1)) : 0, c2 = cb_twolayer_g(1) - c1;
    double *G = cb_malloc(M * M * sizeof *G), s = 0;
    cb_twolayer_gram(v, M, v, M, d, G);
    for (size_t i = 0; i < M; ++i)
        for (size_t j = 0; j < M; ++j) {
            double e = G[i * M + j] - c1 - (i == j ? c2 : 0);
            s += e * e;
        }
    free(G);
    return sqrt(s);
}

/* ------------------------------------------------------------------ Riemannian ascent */

CbStatus cb_twolayer_ascent_init(CbTwolayerAscent *a, const double *v0, size_t M, size_t d,
                                 double step0, double rcond)
{
    memset(a, 0, sizeof *a);
    if (M == 0 || d == 0) return CB_ERR(CB_EINVAL, "ascent: M = %zu, d = %zu (both must be >= 1)", M, d);
    if (!(step0 > 0)) return CB_ERR(CB_EINVAL, "ascent: initial step must be > 0, got %g", step0);
    a->M = M;
    a->d = d;
    a->rcond = rcond;
    a->step = step0;
    a->v = cb_malloc(M * d * sizeof *a->v);
    a->grad = cb_malloc(M * d * sizeof *a->grad);
    a->trial = cb_malloc(M * d * sizeof *a->trial);
    a->trial_grad = cb_malloc(M * d * sizeof *a->trial_grad);
    memcpy(a->v, v0, M * d * sizeof *a->v);
    normalize_rows(a->v, M, d);
    CbStatus st = cb_twolayer_objective(a->v, M, d, rcond, &a->R, a->grad);
    if (st != CB_OK) {
        cb_twolayer_ascent_free(a);
        return st;
    }
    a->grad_norm = cblas_dnrm2((int)(M * d), a->grad, 1);
    return CB_OK;
}

CbStatus cb_twolayer_ascent_iterate(CbTwolayerAscent *a)
{
    size_t n = a->M * a->d;
    double g2 = a->grad_norm * a->grad_norm;
    ++a->iter;
    if (g2 == 0) return CB_OK;  /* stationary: nothing to do */
    /* Rounding floor: near the optimum R changes by less than its last bits, and
     * a strict Armijo test would shrink the step forever. */
    double slack = 16 * 2.220446049250313e-16 * fabs(a->R);
    for (int tries = 0; tries < 60; ++tries) {
        double eta = a->step, Rt;
        memcpy(a->trial, a->v, n * sizeof *a->trial);
        cblas_daxpy((int)n, eta, a->grad, 1, a->trial, 1);
        normalize_rows(a->trial, a->M, a->d);
        CbStatus st = cb_twolayer_objective(a->trial, a->M, a->d, a->rcond, &Rt, a->trial_grad);
        if (a->fixed_step && st != CB_OK) return st;
        if (st == CB_OK && (a->fixed_step || Rt >= a->R + 1e-4 * eta * g2 - slack)) {
            double *tmp = a->v;
            a->v = a->trial;
            a->trial = tmp;
            tmp = a->grad;
            a->grad = a->trial_grad;
            a->trial_grad = tmp;
            a->R = Rt;
            a->grad_norm = cblas_dnrm2((int)n, a->grad, 1);
            if (!a->fixed_step) a->step = eta * 1.5;
            return CB_OK;
        }
        a->step = eta / 2;
    }
    return CB_ERR(CB_ENUMERIC, "ascent: no ascent step found after 60 halvings (R = %.15g, |grad| = %.3g)",
                  a->R, a->grad_norm);
}

void cb_twolayer_ascent_free(CbTwolayerAscent *a)
{
    free(a->v);
    free(a->grad);
    free(a->trial);
    free(a->trial_grad);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------------ sweep method `twolayer` */

/* Reproduces 002 Figures 2–4 and Theorem 1 for one (N, M, d):
 *   series etf_R_min / etf_R_max      R̃ along the iterations, min / max over starts (Fig. 2, 4)
 *          etf_dist_min / etf_dist_max ‖G_VV − G_ETF‖_F along the iterations (Fig. 3, eq. 35)
 *          thm1_gap_N                 |L − L̃| at b̃* (eq. 29) for the nested teachers N' = 16, 32, ..., N
 *          thm1_serr_N                max_i |s_i − μ_a/(2π)| (eq. 20) for the same N'
 *   columns etf_* and thm1_* / twolayer_* (include/cbound/result.h). */

typedef struct {
    size_t N, M, d, starts, every;
    long iters;
    double step, a_lo, a_hi, rcond;
    int line_search;  /* 1: Armijo backtracking (default); 0: constant step, like plain GD */
} TwolayerOpts;

static CbStatus twolayer_options(const CbParams *p, TwolayerOpts *o)
{
    double N = cb_params_num(p, "N", 1024), M = cb_params_num(p, "M", 10), d = cb_params_num(p, "d", 32);
    double starts = cb_params_num(p, "starts", 10), iters = cb_params_num(p, "iters", 1000);
    double every = cb_params_num(p, "every", 10);
    o->step = cb_params_num(p, "step", 1.0);
    o->a_lo = cb_params_num(p, "a_lo", 0.5);
    o->a_hi = cb_params_num(p, "a_hi", 1.5);
    o->rcond = cb_params_num(p, "rcond", 1e-13);
    const struct { const char *name; double v, lo, hi; } ints[] = {
        {"N", N, 1, 1e6}, {"M", M, 2, 4096}, {"d", d, 1, 1e5}, {"starts", starts, 1, 1e4},
        {"iters", iters, 0, 1e8}, {"every", every, 1, 1e8}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; ++i)
        if (!(ints[i].v >= ints[i].lo && ints[i].v <= ints[i].hi && ints[i].v == floor(ints[i].v)))
            return CB_ERR(CB_EINVAL, "twolayer: %s: expected an integer in [%g, %g], found '%s'", ints[i].name,
                          ints[i].lo, ints[i].hi, cb_params_text(p, ints[i].name, ""));
    if (!(o->step > 0 && isfinite(o->step)))
        return CB_ERR(CB_EINVAL, "twolayer: step: expected a number > 0, found '%s'", cb_params_text(p, "step", ""));
    if (!(o->a_lo <= o->a_hi) || !isfinite(o->a_lo) || !isfinite(o->a_hi) || o->a_lo + o->a_hi == 0) {
        CB_ERR(CB_EINVAL, "twolayer: a_lo, a_hi: expected finite a_lo <= a_hi with mean != 0, found %s, %s",
               cb_params_text(p, "a_lo", "0.5"), cb_params_text(p, "a_hi", "1.5"));
        cb_err_hint("002 assumes (A-a): bounded a_n with mean mu_a != 0");
        return CB_EINVAL;
    }
    if (!(o->rcond >= 0 && o->rcond < 1))
        return CB_ERR(CB_EINVAL, "twolayer: rcond: expected a number in [0, 1), found '%s'",
                      cb_params_text(p, "rcond", ""));
    double ls = cb_params_num(p, "line_search", 1);
    if (!(ls == 0 || ls == 1))
        return CB_ERR(CB_EINVAL, "twolayer: line_search: expected 0 or 1, found '%s'",
                      cb_params_text(p, "line_search", ""));
    o->line_search = (int)ls;
    o->N = (size_t)N;
    o->M = (size_t)M;
    o->d = (size_t)d;
    o->starts = (size_t)starts;
    o->iters = (long)iters;
    o->every = (size_t)every;
    return CB_OK;
}

static CbStatus twolayer_check(const CbParams *p)
{
    TwolayerOpts o;
    return twolayer_options(p, &o);
}

/* Theorem 1 quantities for the first Np neurons of teacher t at V with b = b̃*. */
static void thm1_point(const CbTwolayerNet *t, size_t Np, double mu_a, const double *v, const double *b, size_t M,
                       double *gap, double *serr)
{
    CbTwolayerNet sub = {Np, t->d, t->w, t->a}; /* nested: a prefix of the teacher */
    double *s = cb_malloc(M * sizeof *s), c = mu_a / (2 * M_PI), dot = 0;
    cb_twolayer_s(&sub, v, M, s);
    *serr = 0;
    for (size_t i = 0; i < M; ++i) {
        *serr = fmax(*serr, fabs(s[i] - c));
        dot += b[i] * (s[i] - c);
    }
    *gap = fabs(2 / (double)M * dot); /* L − L̃ = −(2/M) bᵀ(s − μ_a/(2π) 1): eq. 6 minus eq. 11 */
    free(s);
}

static CbStatus twolayer_run(const CbTaskCtx *ctx, CbResult *res)
{
    TwolayerOpts o;
    CB_TRY(twolayer_options(ctx->params, &o));
    size_t M = o.M, d = o.d, n_rec = (size_t)o.iters / o.every + 1;
    double R_etf = cb_twolayer_etf_value(M);
    double *v0 = cb_malloc(M * d * sizeof *v0), *best_v = cb_malloc(M * d * sizeof *best_v);
    double *Rrec = cb_malloc(o.starts * n_rec * sizeof *Rrec), *Drec = cb_malloc(o.starts * n_rec * sizeof *Drec);
    double best = -INFINITY, worst = INFINITY, worst_dist = 0;
    CbStatus st = CB_OK;
    /* 1. Riemannian ascent of R̃ from each start (stream index = start). */
    for (size_t s = 0; s < o.starts && st == CB_OK; ++s) {
        cb_twolayer_random_sphere(M, d, ctx->seed, ctx->key, (uint32_t)s, v0);
        CbTwolayerAscent a;
        st = cb_twolayer_ascent_init(&a, v0, M, d, o.step, o.rcond);
        a.fixed_step = !o.line_search;
        for (long it = 0; st == CB_OK && it <= o.iters; ++it) {
            if ((size_t)it % o.every == 0) {
                Rrec[s * n_rec + (size_t)it / o.every] = a.R;
                Drec[s * n_rec + (size_t)it / o.every] = cb_twolayer_dist_etf(a.v, M, d);
            }
            if (it < o.iters) st = cb_twolayer_ascent_iterate(&a);
        }
        if (st == CB_OK) {
            if (a.R > best) {
                best = a.R;
                memcpy(best_v, a.v, M * d * sizeof *best_v);
            }
            worst = fmin(worst, a.R);
            worst_dist = fmax(worst_dist, cb_twolayer_dist_etf(a.v, M, d));
        }
        cb_twolayer_ascent_free(&a);
    }
    /* 2. Series and columns for Figures 2–4. */
    if (st == CB_OK) {
        for (size_t k = 0; k < n_rec; ++k) {
            double rmin = INFINITY, rmax = -INFINITY, dmin = INFINITY, dmax = 0;
            for (size_t s = 0; s < o.starts; ++s) {
                rmin = fmin(rmin, Rrec[s * n_rec + k]);
                rmax = fmax(rmax, Rrec[s * n_rec + k]);
                dmin = fmin(dmin, Drec[s * n_rec + k]);
                dmax = fmax(dmax, Drec[s * n_rec + k]);
            }
            double x = (double)(k * o.every);
            cb_result_add_series(res, "etf_R_min", (int64_t)k, x, rmin);
            cb_result_add_series(res, "etf_R_max", (int64_t)k, x, rmax);
            cb_result_add_series(res, "etf_dist_min", (int64_t)k, x, dmin);
            cb_result_add_series(res, "etf_dist_max", (int64_t)k, x, dmax);
        }
        res->task[CB_T_etf_R_gd] = best;
        res->task[CB_T_etf_R_etf] = R_etf;
        res->task[CB_T_etf_R_rel_gap] = fabs(R_etf - worst) / R_etf;
        res->task[CB_T_etf_R_spread] = best - worst;
        res->task[CB_T_etf_dist] = worst_dist;
    }
    /* 3. Theorem 1 at the best GD solution, teacher from this task's streams. */
    CbTwolayerNet t = {0};
    double *b = cb_malloc(M * sizeof *b), mu_a = (o.a_lo + o.a_hi) / 2;
    if (st == CB_OK) st = cb_twolayer_teacher(o.N, d, o.a_lo, o.a_hi, ctx->seed, ctx->key, &t);
    if (st == CB_OK) st = cb_twolayer_limit_b(mu_a, best_v, M, d, o.rcond, b);
    if (st == CB_OK) {
        int64_t i = 0;
        for (size_t Np = 16; ; Np *= 2) {
            if (Np > o.N) Np = o.N;
            double gap, serr;
            thm1_point(&t, Np, mu_a, best_v, b, M, &gap, &serr);
            cb_result_add_series(res, "thm1_gap_N", i, (double)Np, gap);
            cb_result_add_series(res, "thm1_serr_N", i++, (double)Np, serr);
            if (Np == o.N) {
                res->task[CB_T_thm1_gap] = gap;
                res->task[CB_T_thm1_s_err] = serr;
                break;
            }
        }
        double energy = cb_twolayer_target_energy(&t), L8, *bs = cb_malloc(M * sizeof *bs), R;
        st = cb_twolayer_optimal_b(&t, energy, best_v, M, o.rcond, bs, &L8);
        if (st == CB_OK) st = cb_twolayer_objective(best_v, M, d, o.rcond, &R, NULL);
        if (st == CB_OK) {
            res->task[CB_T_twolayer_loss] = L8;
            res->task[CB_T_twolayer_limit_loss] = energy - mu_a * mu_a / (4 * M_PI * M_PI) * R; /* eq. 30 */
        }
        free(bs);
    }
    cb_twolayer_net_free(&t);
    free(b);
    free(v0);
    free(best_v);
    free(Rrec);
    free(Drec);
    return st;
}

static const char *const twolayer_params[] = {"N", "M", "d", "starts", "iters", "every", "step",
                                              "a_lo", "a_hi", "rcond", "line_search", NULL};
static const char *const twolayer_defaults[] = {"1024", "10", "32", "10", "1000", "10", "1",
                                                "0.5", "1.5", "1e-13", "1", NULL};

const CbMethod cb_method_twolayer = {
    .name = "twolayer",
    .version = 1,
    .summary = "002: compress N ReLU neurons into M; GD on the limit objective vs the ETF (N, M, d, starts, "
               "iters, every, step, line_search 1|0, a_lo, a_hi, rcond)",
    .param_names = twolayer_params,
    .param_defaults = twolayer_defaults,
    .check = twolayer_check,
    .compress = NULL,
    .standalone = twolayer_run,
};
