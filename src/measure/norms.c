/*
 * norms — spectral norm with a certificate, and the entrywise norms the bounds use.
 *
 * ‖A‖₂: symmetric Lanczos on G = AᵀA (Golub & Van Loan, Matrix Computations §10.1),
 * mathematically the Golub–Kahan bidiagonalization of A, with full reorthogonalization
 * (classical Gram–Schmidt applied twice), started from a random unit vector of the
 * task's CB_RNG_NORMS stream, on G = AᵀA/‖A‖_F² (scale-free). A step costs one fused
 * pass over A (gram_avx2: A v and Aᵀ(A v) in one sweep) plus the reorthogonalization;
 * the pass is memory-bound, so float matrices — and double matrices whose entries are
 * all floats, detected in the first scan — are streamed as float32 (4 bytes an entry,
 * widened exactly to double; every sum is double).
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
#include <stdint.h>
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

/* ------------------------------------------------------------------ w = Aᵀ A v */

/* A as the Lanczos loop sees it: exactly one of ad (double) or af (float) is set. */
typedef struct {
    const double *ad; /* (m, n) row-major, or NULL */
    const float *af;  /* (m, n) row-major, or NULL */
    size_t m, n;
} Gram;

static int simd_on = 1;

/* Portable w = Aᵀ(A v)·h: row by row, t = a_i·v then w += (h t) a_i (the row is still
 * in cache). */
static void gram_portable(const Gram *g, double h, const double *v, double *w)
{
    size_t m = g->m, n = g->n;
    memset(w, 0, n * sizeof *w);
    for (size_t i = 0; i < m; ++i) {
        double t = 0;
        if (g->af) {
            const float *a = g->af + i * n;
            for (size_t j = 0; j < n; ++j) t += (double)a[j] * v[j];
            t *= h;
            for (size_t j = 0; j < n; ++j) w[j] += t * (double)a[j];
        } else {
            const double *a = g->ad + i * n;
            for (size_t j = 0; j < n; ++j) t += a[j] * v[j];
            t *= h;
            for (size_t j = 0; j < n; ++j) w[j] += t * a[j];
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CB_HAVE_AVX2_KERNELS 1
#define CB_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CB_INLINE_AVX2 __attribute__((always_inline, target("avx2,fma"))) static inline

/* A step is memory-bound (one read of A: 50 MB per step for a 2500² double matrix), so
 * the kernel streams A once: rows come in blocks of R = 4, and one sweep over the
 * columns computes the dot products t = A_b v of block b while it adds A_{b−1}ᵀ t_{b−1}
 * of the previous block (read again from L1/L2) into w. Float entries are widened to
 * double on load (_mm256_cvtps_pd, exact); all sums are double. */
enum { GRAM_R = 4 };

CB_INLINE_AVX2 __m256d load4(const Gram *g, int single, size_t k)
{
    return single ? _mm256_cvtps_pd(_mm_loadu_ps(g->af + k)) : _mm256_loadu_pd(g->ad + k);
}

CB_INLINE_AVX2 double entry(const Gram *g, int single, size_t k)
{
    return single ? (double)g->af[k] : g->ad[k];
}

CB_INLINE_AVX2 double hsum(__m256d s)
{
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

/* w += Σ_r t[r] · row (i0 + r), r < GRAM_R (the last block's update) */
CB_INLINE_AVX2 void axpy_block(const Gram *g, int single, size_t i0, const double *t, double *w)
{
    size_t n = g->n, j = 0;
    __m256d c[GRAM_R];
    for (int r = 0; r < GRAM_R; ++r) c[r] = _mm256_set1_pd(t[r]);
    for (; j + 4 <= n; j += 4) {
        __m256d y = _mm256_loadu_pd(w + j);
#pragma GCC unroll 4
        for (int r = 0; r < GRAM_R; ++r) y = _mm256_fmadd_pd(load4(g, single, (i0 + r) * n + j), c[r], y);
        _mm256_storeu_pd(w + j, y);
    }
    for (; j < n; ++j)
        for (int r = 0; r < GRAM_R; ++r) w[j] += t[r] * entry(g, single, (i0 + r) * n + j);
}

CB_INLINE_AVX2 void gram_avx2(const Gram *g, int single, double h, const double *v, double *w)
{
    size_t m = g->m, n = g->n, nb = m / GRAM_R;
    double tp[GRAM_R] = {0}; /* dot products of the previous block */
    memset(w, 0, n * sizeof *w);
    for (size_t b = 0; b < nb; ++b) {
        size_t i0 = b * GRAM_R, ip = i0 - GRAM_R; /* ip: previous block (b > 0) */
        __m256d s[GRAM_R], c[GRAM_R];
        for (int r = 0; r < GRAM_R; ++r) {
            s[r] = _mm256_setzero_pd();
            c[r] = _mm256_set1_pd(tp[r]);
        }
        size_t j = 0;
        if (b == 0) {
            for (; j + 4 <= n; j += 4) {
                __m256d x = _mm256_loadu_pd(v + j);
#pragma GCC unroll 4
                for (int r = 0; r < GRAM_R; ++r) s[r] = _mm256_fmadd_pd(load4(g, single, (i0 + r) * n + j), x, s[r]);
            }
        } else {
            for (; j + 4 <= n; j += 4) {
                __m256d x = _mm256_loadu_pd(v + j), y = _mm256_loadu_pd(w + j);
#pragma GCC unroll 4
                for (int r = 0; r < GRAM_R; ++r) {
                    s[r] = _mm256_fmadd_pd(load4(g, single, (i0 + r) * n + j), x, s[r]);
                    y = _mm256_fmadd_pd(load4(g, single, (ip + r) * n + j), c[r], y);
                }
                _mm256_storeu_pd(w + j, y);
            }
        }
        for (int r = 0; r < GRAM_R; ++r) { /* column tail (n mod 4), then hand t over */
            double t = hsum(s[r]);
            for (size_t k = j; k < n; ++k) {
                t += entry(g, single, (i0 + r) * n + k) * v[k];
                if (b > 0) w[k] += tp[r] * entry(g, single, (ip + r) * n + k);
            }
            tp[r] = h * t;
        }
    }
    if (nb > 0) axpy_block(g, single, (nb - 1) * GRAM_R, tp, w);
    for (size_t i = nb * GRAM_R; i < m; ++i) { /* row tail (m mod 4) */
        double t = 0;
        for (size_t k = 0; k < n; ++k) t += entry(g, single, i * n + k) * v[k];
        t *= h;
        for (size_t k = 0; k < n; ++k) w[k] += t * entry(g, single, i * n + k);
    }
}

CB_TARGET_AVX2 static void gram_avx2_f(const Gram *g, double h, const double *v, double *w)
{
    gram_avx2(g, 1, h, v, w);
}
CB_TARGET_AVX2 static void gram_avx2_d(const Gram *g, double h, const double *v, double *w)
{
    gram_avx2(g, 0, h, v, w);
}
#else
#define CB_HAVE_AVX2_KERNELS 0
#endif

int cb_norms_simd(int mode)
{
    if (mode >= 0) simd_on = mode ? 1 : 0;
#if CB_HAVE_AVX2_KERNELS
    return simd_on && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* w = (Aᵀ A / f²) v with h = 1/f applied twice (to t = A v and to w), so that neither
 * overflows nor underflows when ‖A‖_F = f is huge or tiny. */
static void gram_apply(const Gram *g, int simd, double h, const double *v, double *w)
{
#if CB_HAVE_AVX2_KERNELS
    if (simd) {
        if (g->af) gram_avx2_f(g, h, v, w);
        else gram_avx2_d(g, h, v, w);
    } else
#endif
    {
        gram_portable(g, h, v, w);
    }
    cblas_dscal((int)g->n, h, w, 1);
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

static CbStatus check_opts(size_t m, size_t n, const CbNormOpts *o)
{
    if (m == 0 || n == 0) return CB_ERR(CB_EINVAL, "spectral norm of an empty %zux%zu matrix", m, n);
    if (!(o->rtol > 0 && o->rtol < 1))
        return CB_ERR(CB_EINVAL, "spectral norm: rtol = %g (expected 0 < rtol < 1)", o->rtol);
    if (!(o->kw_eps > 0 && o->kw_eps < 1))
        return CB_ERR(CB_EINVAL, "spectral norm: kw_eps = %g (expected 0 < kw_eps < 1)", o->kw_eps);
    return CB_OK;
}

/* Lanczos on G = AᵀA / f² (n×n, f = ‖A‖_F > 0, so ‖G‖ ≤ 1 whatever the scale of A) —
 * mathematically the Golub–Kahan process, but one fused pass over A per step instead of
 * two. Ritz value θ ≤ λ_max(G) = (σ_max / f)²; residual ‖G y − θ y‖ = β_k |e_kᵀ z| = r
 * puts an eigenvalue of G in [θ − r, θ + r], hence a singular value of A in
 * [f √(θ − r), f √(θ + r)]. */
static CbStatus lanczos(const Gram *g, double fro, const CbNormOpts *o, CbSpecNorm *out)
{
    size_t m = g->m, n = g->n;
    int simd = cb_norms_simd(-1);
    /* rank(G) <= m, so the Krylov space K_k(G, v) (range part + the start's null-space
     * part) has dimension <= min(n, m + 1): invariant after that many steps */
    size_t kdim = m + 1 < n ? m + 1 : n;
    int kmax = o->max_iter > 0 && (size_t)o->max_iter < kdim ? o->max_iter : (int)kdim;

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
    double theta = 0, resid = INFINITY, tiny = 64.0 * DBL_EPSILON, h = 1.0 / fro;
    int k;
    for (k = 1; k <= kmax; ++k) {
        size_t j = (size_t)k - 1;
        if ((size_t)k > cap) {
            cap *= 2;
            V = cb_realloc(V, (cap + 1) * n * sizeof *V);
        }
        double *v = V + j * n, *w = V + (j + 1) * n;
        gram_apply(g, simd, h, v, w);
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
    sig *= fro; /* back to the units of A */
    err *= fro;
    if (st == CB_OK && !(err <= o->rtol * sig)) {
        st = CB_ERR(CB_ENUMERIC,
                    "spectral norm of a %zux%zu matrix: %d Lanczos steps reached relative error "
                    "bound %.3g (expected <= rtol %.3g)", m, n, k, err / sig, o->rtol);
        cb_err_hint("raise max_iter or loosen rtol; the estimate %.12g is a lower bound", sig);
    }
    out->value = sig;
    out->err = err;
    out->iters = k;
    out->single = g->af != NULL;
    /* Kuczyński–Woźniakowski 1992 Thm 4.2: only for the random start of the stream */
    double mp = 1.648 * sqrt((double)n) * exp(-sqrt(o->kw_eps) * (2.0 * k - 1.0));
    out->miss_prob = o->start ? 1 : mp < 1 ? mp : 1;
    free(V); free(alpha); free(beta); free(c); free(work);
    return st;
}

/* ------------------------------------------------------------------ entry points */

/* One pass over A before the iteration: Σ a² (for ‖A‖_F), whether all entries are
 * finite, and — for a double A — whether each is exactly a float, writing the float
 * copy Af as it goes (kept only if so). AVX2 versions below; same results up to the
 * order of the additions in Σ a², which only sets the null-space threshold. */
typedef struct {
    double ssq;
    int finite, exact;
} Scan;

static void scan_d_portable(const double *A, size_t N, float *Af, Scan *sc)
{
    double s = 0;
    int finite = 1, exact = 1;
    for (size_t i = 0; i < N; ++i) {
        double a = A[i];
        finite &= isfinite(a) != 0;
        s += a * a;
        Af[i] = fabs(a) <= FLT_MAX ? (float)a : 0.0f; /* out of range: not exact anyway */
        exact &= fabs(a) <= FLT_MAX && (double)Af[i] == a;
    }
    sc->ssq = s;
    sc->finite = finite;
    sc->exact = exact;
}

static void scan_f_portable(const float *A, size_t N, Scan *sc)
{
    double s = 0;
    int finite = 1;
    for (size_t i = 0; i < N; ++i) {
        finite &= isfinite(A[i]) != 0;
        s += (double)A[i] * A[i];
    }
    sc->ssq = s;
    sc->finite = finite;
    sc->exact = 1;
}

#if CB_HAVE_AVX2_KERNELS
CB_TARGET_AVX2 static void scan_d_avx2(const double *A, size_t N, float *Af, Scan *sc)
{
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL)),
                  big = _mm256_set1_pd(DBL_MAX);
    __m256d s = _mm256_setzero_pd(), ok = _mm256_cmp_pd(s, s, _CMP_EQ_OQ), ex = ok;
    size_t i = 0;
    for (; i + 4 <= N; i += 4) {
        __m256d x = _mm256_loadu_pd(A + i);
        __m128 f = _mm256_cvtpd_ps(x); /* huge -> ±inf, then not equal to x */
        _mm_storeu_ps(Af + i, f);
        ex = _mm256_and_pd(ex, _mm256_cmp_pd(_mm256_cvtps_pd(f), x, _CMP_EQ_OQ));
        ok = _mm256_and_pd(ok, _mm256_cmp_pd(_mm256_and_pd(x, absmask), big, _CMP_LE_OQ));
        s = _mm256_fmadd_pd(x, x, s);
    }
    Scan tail;
    scan_d_portable(A + i, N - i, Af + i, &tail);
    sc->ssq = hsum(s) + tail.ssq;
    sc->finite = _mm256_movemask_pd(ok) == 0xf && tail.finite;
    sc->exact = _mm256_movemask_pd(ex) == 0xf && tail.exact;
}

CB_TARGET_AVX2 static void scan_f_avx2(const float *A, size_t N, Scan *sc)
{
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), big = _mm256_set1_ps(FLT_MAX);
    __m256 ok = _mm256_cmp_ps(big, big, _CMP_EQ_OQ);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    size_t i = 0;
    for (; i + 8 <= N; i += 8) {
        __m256 x = _mm256_loadu_ps(A + i);
        ok = _mm256_and_ps(ok, _mm256_cmp_ps(_mm256_and_ps(x, absmask), big, _CMP_LE_OQ));
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
        s0 = _mm256_fmadd_pd(lo, lo, s0);
        s1 = _mm256_fmadd_pd(hi, hi, s1);
    }
    Scan tail;
    scan_f_portable(A + i, N - i, &tail);
    sc->ssq = hsum(_mm256_add_pd(s0, s1)) + tail.ssq;
    sc->finite = _mm256_movemask_ps(ok) == 0xff && tail.finite;
    sc->exact = 1;
}
#endif

static void scan_d(const double *A, size_t N, float *Af, Scan *sc)
{
#if CB_HAVE_AVX2_KERNELS
    if (cb_norms_simd(-1)) {
        scan_d_avx2(A, N, Af, sc);
        return;
    }
#endif
    scan_d_portable(A, N, Af, sc);
}

static void scan_f(const float *A, size_t N, Scan *sc)
{
#if CB_HAVE_AVX2_KERNELS
    if (cb_norms_simd(-1)) {
        scan_f_avx2(A, N, sc);
        return;
    }
#endif
    scan_f_portable(A, N, sc);
}

static CbStatus not_finite(double a, size_t i, size_t n)
{
    return CB_ERR(CB_ENUMERIC, "spectral norm: entry (%zu, %zu) is %g (expected finite)", i / n, i % n, a);
}

CbStatus cb_norms_spectral(const double *A, size_t m, size_t n, const CbNormOpts *o, CbSpecNorm *out)
{
    memset(out, 0, sizeof *out);
    out->value = out->err = NAN;
    CB_TRY(check_opts(m, n, o));
    size_t N = m * n;
    if ((m < n ? m : n) <= o->small) { /* dgesdd; the reference checks the entries */
        CB_TRY(cb_norms_spectral_ref(A, m, n, &out->value));
        out->err = 2.0 * (double)(m > n ? m : n) * DBL_EPSILON * out->value;
        out->dense = 1;
        return CB_OK;
    }
    float *Af = cb_malloc(N * sizeof *Af);
    Scan sc;
    scan_d(A, N, Af, &sc);
    if (!sc.finite) {
        free(Af);
        size_t i = 0;
        while (isfinite(A[i])) ++i;
        return not_finite(A[i], i, n);
    }
    /* ‖A‖_F from Σ a² unless that overflowed or underflowed; then the scaled sum */
    double fro = sc.ssq >= DBL_MIN && sc.ssq <= DBL_MAX ? sqrt(sc.ssq) : cb_norms_fro(A, m, n);
    CbStatus st = CB_OK;
    if (fro == 0) {
        out->value = out->err = 0;
    } else {
        /* every entry a float: stream the float copy, the same values in half the bytes */
        Gram g = sc.exact && !o->double_only ? (Gram){NULL, Af, m, n} : (Gram){A, NULL, m, n};
        st = lanczos(&g, fro, o, out);
    }
    free(Af);
    return st;
}

CbStatus cb_norms_spectral_f(const float *A, size_t m, size_t n, const CbNormOpts *o, CbSpecNorm *out)
{
    memset(out, 0, sizeof *out);
    out->value = out->err = NAN;
    CB_TRY(check_opts(m, n, o));
    size_t N = m * n;
    if ((m < n ? m : n) <= o->small || o->double_only) { /* through the double path */
        double *Ad = cb_malloc(N * sizeof *Ad);
        for (size_t i = 0; i < N; ++i) Ad[i] = A[i];
        CbStatus st = cb_norms_spectral(Ad, m, n, o, out);
        free(Ad);
        return st;
    }
    Scan sc;
    scan_f(A, N, &sc);
    if (!sc.finite) {
        size_t i = 0;
        while (isfinite(A[i])) ++i;
        return not_finite(A[i], i, n);
    }
    if (sc.ssq == 0) { /* a float squared neither overflows nor underflows a double */
        out->value = out->err = 0;
        return CB_OK;
    }
    Gram g = {NULL, A, m, n};
    return lanczos(&g, sqrt(sc.ssq), o, out);
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
