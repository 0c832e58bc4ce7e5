/*
 * norms — spectral norm with a certificate, and the entrywise norms the bounds use.
 *
 * ‖A‖₂: symmetric Lanczos on G = AᵀA (Golub & Van Loan, Matrix Computations §10.1),
 * mathematically the Golub–Kahan bidiagonalization of A, with full reorthogonalization
 * (classical Gram–Schmidt applied twice), started from a random unit vector of the
 * task's CB_RNG_NORMS stream. A step costs one fused pass over A (blocks of 8 rows:
 * t = A_blk v, w += A_blkᵀ t while the block is in cache) plus the reorthogonalization.
 * The top eigenpair of the k×k tridiagonal T_k comes from LAPACK's dstevr (that one
 * pair only), whose last eigenvector component gives the residual β_k |e_kᵀ z|.
 * The certificate is described in include/cbound/norms.h. The dense path (small
 * matrices, and the reference for tests) is LAPACKE_dgesdd.
 * Layout: A row-major (m, n); Lanczos vectors are rows of V (k + 1, n).
 */
#include "cbound/norms.h"
#include "cbound/rng.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cb_norms_opts_default(CbNormOpts *o)
{
    memset(o, 0, sizeof *o);
    o->rtol = 1e-9;
    o->max_iter = 0;
    o->small = 64;
    o->kw_eps = 1e-2;
    o->seed = 0;
    o->key = 0x6e6f726d73ULL; /* "norms" */
    o->index = 0;
}

/* ------------------------------------------------------------------ dense reference */

CbStatus cb_norms_singular_values(const double *A, size_t m, size_t n, double *s)
{
    if (m == 0 || n == 0) return CB_ERR(CB_EINVAL, "singular values of an empty %zux%zu matrix", m, n);
    double *a = cb_malloc(m * n * sizeof *a);
    memcpy(a, A, m * n * sizeof *a);
    double dummy = 0;
    /* row-major (m, n) A is column-major (n, m) Aᵀ: same singular values */
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', (lapack_int)n, (lapack_int)m, a,
                                     (lapack_int)n, s, &dummy, 1, &dummy, 1);
    free(a);
    if (info != 0)
        return CB_ERR(CB_ENUMERIC, "LAPACKE_dgesdd on a %zux%zu matrix: info = %d (expected 0)",
                      m, n, (int)info);
    return CB_OK;
}

CbStatus cb_norms_spectral_ref(const double *A, size_t m, size_t n, double *out)
{
    if (m == 0 || n == 0) return CB_ERR(CB_EINVAL, "spectral norm of an empty %zux%zu matrix", m, n);
    for (size_t i = 0; i < m * n; ++i)
        if (!isfinite(A[i]))
            return CB_ERR(CB_ENUMERIC, "spectral norm: entry (%zu, %zu) is %g (expected finite)",
                          i / n, i % n, A[i]);
    size_t k = m < n ? m : n;
    double *s = cb_malloc(k * sizeof *s);
    CbStatus st = cb_norms_singular_values(A, m, n, s);
    *out = st == CB_OK ? s[0] : NAN;
    free(s);
    return st;
}

/* ------------------------------------------------------------------ Lanczos */

/* w -= Q c with c = Qᵀ w, twice (CGS2); Q holds j orthonormal vectors as rows (j, len). */
static void reorth(const double *Q, size_t j, size_t len, double *w, double *c)
{
    if (j == 0) return;
    for (int pass = 0; pass < 2; ++pass) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)j, (int)len, 1.0, Q, (int)len, w, 1, 0.0, c, 1);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)j, (int)len, -1.0, Q, (int)len, c, 1, 1.0, w, 1);
    }
}

/* w = Aᵀ (A v) in one pass over A: for each block of CB_NORMS_ROWS rows (kept in L2
 * cache between the two products) t = A_blk v, w += A_blkᵀ t. */
#define CB_NORMS_ROWS 8
static void gram_apply(const double *A, size_t m, size_t n, const double *v, double *w)
{
    double t[CB_NORMS_ROWS];
    memset(w, 0, n * sizeof *w);
    for (size_t r0 = 0; r0 < m; r0 += CB_NORMS_ROWS) {
        int rows = (int)(m - r0 < CB_NORMS_ROWS ? m - r0 : CB_NORMS_ROWS);
        const double *blk = A + r0 * n;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, rows, (int)n, 1.0, blk, (int)n, v, 1, 0.0, t, 1);
        cblas_dgemv(CblasRowMajor, CblasTrans, rows, (int)n, 1.0, blk, (int)n, t, 1, 1.0, w, 1);
    }
}

/* Largest eigenvalue of the symmetric tridiagonal (a[0..k), b[0..k-1)) and the last
 * component of its unit eigenvector (LAPACK dstevr, only that eigenpair). Work holds
 * 3k + 2 doubles. */
static int tridiag_top(const double *a, const double *b, int k, double *work, double *theta,
                       double *z_last)
{
    double *d = work, *e = work + k, *z = work + 2 * k + 1, w[1];
    memcpy(d, a, (size_t)k * sizeof *d);
    if (k > 1) memcpy(e, b, (size_t)(k - 1) * sizeof *e);
    e[k - 1] = 0;
    lapack_int found = 0, isuppz[2];
    lapack_int info = LAPACKE_dstevr(LAPACK_COL_MAJOR, 'V', 'I', k, d, e, 0.0, 0.0, k, k, 0.0,
                                     &found, w, z, k, isuppz);
    if (info != 0 || found != 1) return info != 0 ? (int)info : -100;
    *theta = w[0];
    *z_last = z[k - 1];
    return 0;
}

/* Lanczos on G = AᵀA (n×n) — mathematically the Golub–Kahan process, but one fused
 * pass over A per step instead of two. Ritz value θ ≤ λ_max(G) = σ_max²; residual
 * ‖G y − θ y‖ = β_k |e_kᵀ z| = r puts an eigenvalue of G in [θ − r, θ + r], hence a
 * singular value of A in [√(θ − r), √(θ + r)]. */
CbStatus cb_norms_spectral(const double *A, size_t m, size_t n, const CbNormOpts *o, CbSpecNorm *out)
{
    memset(out, 0, sizeof *out);
    out->value = out->err = NAN;
    if (m == 0 || n == 0) return CB_ERR(CB_EINVAL, "spectral norm of an empty %zux%zu matrix", m, n);
    if (!(o->rtol > 0 && o->rtol < 1))
        return CB_ERR(CB_EINVAL, "spectral norm: rtol = %g (expected 0 < rtol < 1)", o->rtol);
    if (!(o->kw_eps > 0 && o->kw_eps < 1))
        return CB_ERR(CB_EINVAL, "spectral norm: kw_eps = %g (expected 0 < kw_eps < 1)", o->kw_eps);
    for (size_t i = 0; i < m * n; ++i)
        if (!isfinite(A[i]))
            return CB_ERR(CB_ENUMERIC, "spectral norm: entry (%zu, %zu) is %g (expected finite)",
                          i / n, i % n, A[i]);
    size_t kmin = m < n ? m : n;
    if (kmin <= o->small) {
        CB_TRY(cb_norms_spectral_ref(A, m, n, &out->value));
        out->err = 2.0 * (double)(m > n ? m : n) * DBL_EPSILON * out->value;
        out->dense = 1;
        return CB_OK;
    }
    double fro = cb_norms_fro(A, m, n);
    if (fro == 0) {
        out->value = out->err = 0;
        return CB_OK;
    }
    /* rank(G) <= min(m, n): the Krylov space is invariant after at most that many steps */
    int kmax = o->max_iter > 0 && (size_t)o->max_iter < kmin ? o->max_iter : (int)kmin;

    size_t cap = 64;
    double *V = cb_malloc((cap + 1) * n * sizeof *V);
    double *alpha = cb_malloc((size_t)kmax * sizeof *alpha), *beta = cb_malloc((size_t)kmax * sizeof *beta);
    double *c = cb_malloc((size_t)(kmax + 1) * sizeof *c);
    double *work = cb_malloc((size_t)(3 * kmax + 2) * sizeof *work);

    /* v_1: uniform on the sphere (normalized Gaussian) from the task's stream, or the caller's. */
    CbStream s = cb_rng_stream(o->seed, o->key, CB_RNG_NORMS, o->index);
    double nv = 0;
    for (size_t i = 0; i < n; ++i) {
        V[i] = o->start ? o->start[i] : cb_rng_normal(&s);
        nv += V[i] * V[i];
    }
    if (!(nv > 0) || !isfinite(nv)) {
        free(V); free(alpha); free(beta); free(c); free(work);
        return CB_ERR(CB_EINVAL, "spectral norm: start vector has norm² %g (expected finite > 0)", nv);
    }
    cblas_dscal((int)n, 1.0 / sqrt(nv), V, 1);

    CbStatus st = CB_OK;
    double theta = 0, resid = INFINITY, g = fro * fro, tiny = 64.0 * DBL_EPSILON * g;
    int k;
    for (k = 1; k <= kmax; ++k) {
        size_t j = (size_t)k - 1;
        if ((size_t)k > cap) {
            cap *= 2;
            V = cb_realloc(V, (cap + 1) * n * sizeof *V);
        }
        double *v = V + j * n, *w = V + (j + 1) * n;
        gram_apply(A, m, n, v, w);
        alpha[j] = cblas_ddot((int)n, v, 1, w, 1);
        if (j == 0 && alpha[0] <= tiny) {
            st = CB_ERR(CB_ENUMERIC, "spectral norm: the start vector lies in the null space "
                        "of a %zux%zu matrix with ‖A‖_F = %g", m, n, fro);
            cb_err_hint("use another start stream (CbNormOpts.index)");
            break;
        }
        reorth(V, j + 1, n, w, c); /* full reorthogonalization also removes α_j v_j, β_{j−1} v_{j−1} */
        beta[j] = cblas_dnrm2((int)n, w, 1);
        double z_last;
        int info = tridiag_top(alpha, beta, k, work, &theta, &z_last);
        if (info != 0) {
            st = CB_ERR(CB_ENUMERIC, "spectral norm: LAPACKE_dstevr at step %d: info = %d", k, info);
            break;
        }
        if (beta[j] <= tiny) { /* invariant Krylov space: T_k's eigenvalues are exact */
            resid = 0;
            break;
        }
        cblas_dscal((int)n, 1.0 / beta[j], w, 1);
        resid = beta[j] * fabs(z_last);
        double sig = sqrt(theta), lo = theta > resid ? sqrt(theta - resid) : 0;
        if (sig - lo <= o->rtol * sig) break;
    }
    if (k > kmax) k = kmax;
    double sig = sqrt(theta > 0 ? theta : 0);
    double err = resid == 0 ? 0 : sig - (theta > resid ? sqrt(theta - resid) : 0);
    if (st == CB_OK && !(err <= o->rtol * sig)) {
        st = CB_ERR(CB_ENUMERIC,
                    "spectral norm of a %zux%zu matrix: %d Lanczos steps reached relative error "
                    "bound %.3g (expected <= rtol %.3g)", m, n, k, err / sig, o->rtol);
        cb_err_hint("raise max_iter or loosen rtol; the estimate %.12g is a lower bound", sig);
    }
    out->value = sig;
    out->err = err;
    out->iters = k;
    double mp = 1.648 * sqrt((double)n) * exp(-sqrt(o->kw_eps) * (2.0 * k - 1.0));
    out->miss_prob = mp < 1 ? mp : 1;
    free(V); free(alpha); free(beta); free(c); free(work);
    return st;
}

/* ------------------------------------------------------------------ entrywise */

double cb_norms_fro(const double *A, size_t m, size_t n)
{
    /* scaled sum of squares (no overflow for any finite entries) */
    double scale = 0, ssq = 1;
    for (size_t i = 0; i < m * n; ++i) {
        double a = fabs(A[i]);
        if (a == 0) continue;
        if (scale < a) {
            ssq = 1 + ssq * (scale / a) * (scale / a);
            scale = a;
        } else {
            ssq += (a / scale) * (a / scale);
        }
    }
    return scale * sqrt(ssq);
}

double cb_norms_l21_t(const double *A, size_t m, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < m; ++i) s += cblas_dnrm2((int)n, A + i * n, 1);
    return s;
}

double cb_norms_max(const double *A, size_t m, size_t n)
{
    double mx = 0;
    for (size_t i = 0; i < m * n; ++i)
        if (fabs(A[i]) > mx) mx = fabs(A[i]);
    return mx;
}

void cb_norms_moments(const double *A, size_t m, size_t n, CbMoments *out)
{
    double N = (double)(m * n), s1 = 0, s2 = 0, s4 = 0, nnz = 0, mr = 0;
    size_t *col = cb_calloc(n ? n : 1, sizeof *col);
    for (size_t i = 0; i < m; ++i) {
        double row = 0;
        for (size_t j = 0; j < n; ++j) {
            double a = A[i * n + j], a2 = a * a;
            s1 += a;
            s2 += a2;
            s4 += a2 * a2;
            if (a != 0) { ++row; ++col[j]; }
        }
        nnz += row;
        if (row > mr) mr = row;
    }
    size_t mc = 0;
    for (size_t j = 0; j < n; ++j) if (col[j] > mc) mc = col[j];
    free(col);
    out->mean = s1 / N;
    double ss = 0; /* two-pass variance, as numpy computes it */
    for (size_t i = 0; i < m * n; ++i) ss += (A[i] - out->mean) * (A[i] - out->mean);
    out->var = ss / N;
    out->m2 = s2 / N;
    out->m4 = s4 / N;
    out->nnz = nnz;
    out->max_row_nnz = mr;
    out->max_col_nnz = (double)mc;
}
