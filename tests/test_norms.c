/*
 * test_norms — certified spectral norm against LAPACK's dgesdd on random matrices of
 * several shapes and spectra, in double and through the float32 stream (float input,
 * and double input whose entries are floats), the AVX2 kernel against the portable
 * loops, scale-free iteration at 1e160 and 1e-165, entrywise norms against brute force
 * / singular values, and every error path of src/measure/norms.c.
 */
#include "check.h"
#include "cbound/norms.h"
#include "cbound/rng.h"

#include <float.h>
#include <lapacke.h>
#include <string.h>

/* Gaussian (m, n) matrix scaled by `scale`, plus `spike` · a rank-one term. */
static double *random_matrix(size_t m, size_t n, double scale, double spike, uint32_t idx)
{
    double *A = malloc(m * n * sizeof *A);
    CbStream s = cb_rng_stream(2385, 77, CB_RNG_TEST, idx);
    for (size_t i = 0; i < m * n; ++i) A[i] = scale * cb_rng_normal(&s);
    if (spike != 0) {
        double *a = malloc(m * sizeof *a), *b = malloc(n * sizeof *b);
        for (size_t i = 0; i < m; ++i) a[i] = cb_rng_normal(&s) / sqrt((double)m);
        for (size_t j = 0; j < n; ++j) b[j] = cb_rng_normal(&s) / sqrt((double)n);
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j) A[i * n + j] += spike * a[i] * b[j];
        free(a);
        free(b);
    }
    return A;
}

/* Options for the Lanczos path: tolerance rtol, start stream index idx, dense SVD only
 * for min(m, n) <= 16. */
static CbNormOpts lanczos_opts(double rtol, uint32_t idx)
{
    CbNormOpts o;
    cb_norms_opts_default(&o);
    o.rtol = rtol;
    o.small = 16;
    o.index = idx;
    return o;
}

static void check_spectral(size_t m, size_t n, double spike, uint32_t idx, double rtol)
{
    double *A = random_matrix(m, n, 0.0371, spike, idx);
    CbNormOpts o = lanczos_opts(rtol, idx);
    CbSpecNorm r;
    double ref = 0;
    CbStatus st = cb_norms_spectral(A, m, n, &o, &r);
    CHECK(st == CB_OK, "spectral %zux%zu spike %.3g: status %d (%s)", m, n, spike, st, cb_err_msg());
    CHECK(cb_norms_spectral_ref(A, m, n, &ref) == CB_OK, "dgesdd %zux%zu", m, n);
    /* certificate: value is a lower bound (up to rounding), and |value − σ_max| is within rtol */
    CHECK(r.value <= ref * (1 + 1e-13), "%zux%zu: Ritz value %.15g <= sigma_max %.15g", m, n, r.value, ref);
    CHECK(fabs(r.value - ref) <= fmax(10 * rtol, 1e-13) * ref,
          "%zux%zu spike %.3g: |lanczos - dgesdd| / dgesdd = %.3g (rtol %.1g, %d steps, err %.3g)", m, n,
          spike, fabs(r.value - ref) / ref, rtol, r.iters, r.err);
    CHECK(r.err <= rtol * r.value, "%zux%zu: residual bound %.3g <= rtol * value", m, n, r.err);
    CHECK(!r.dense && r.iters > 0 && r.miss_prob >= 0 && r.miss_prob <= 1,
          "%zux%zu: Lanczos path (%d steps, miss prob %.3g)", m, n, r.iters, r.miss_prob);
    free(A);
}

/* The float path (cb_norms_spectral_f, and the double API on float-valued entries)
 * against dgesdd on the same values, and against the double kernel and the portable
 * loops: they differ only in the order of double additions. `small` = 2 lets shapes
 * with fewer rows than the kernel's 4-row block (and m, n not multiples of 4) through. */
static void check_spectral_f(size_t m, size_t n, double spike, uint32_t idx)
{
    double *A = random_matrix(m, n, 0.0371, spike, idx);
    float *F = malloc(m * n * sizeof *F);
    for (size_t i = 0; i < m * n; ++i) {
        F[i] = (float)A[i];
        A[i] = F[i]; /* the same values in double */
    }
    CbNormOpts o;
    cb_norms_opts_default(&o);
    o.small = 2;
    o.index = idx;
    CbSpecNorm rf, rd, rdd, rp;
    double ref = 0;
    CHECK(cb_norms_spectral_ref(A, m, n, &ref) == CB_OK, "dgesdd %zux%zu", m, n);
    CbStatus st = cb_norms_spectral_f(F, m, n, &o, &rf);
    CHECK(st == CB_OK && rf.single == 1 && !rf.dense, "float %zux%zu spike %.3g: status %d (%s), %d steps",
          m, n, spike, st, st == CB_OK ? "" : cb_err_msg(), rf.iters);
    CHECK(rf.value <= ref * (1 + 1e-13) && fabs(rf.value - ref) <= 10 * o.rtol * ref && rf.err <= o.rtol * rf.value,
          "float %zux%zu spike %.3g: %.15g vs dgesdd %.15g (rel %.3g, certified err %.3g)", m, n, spike,
          rf.value, ref, fabs(rf.value - ref) / ref, rf.err);
    CHECK(cb_norms_spectral(A, m, n, &o, &rd) == CB_OK && rd.single == 1,
          "%zux%zu double API on float values streams float32 (single %d)", m, n, rd.single);
    o.double_only = 1;
    CHECK(cb_norms_spectral(A, m, n, &o, &rdd) == CB_OK && rdd.single == 0, "%zux%zu double_only keeps double",
          m, n);
    CHECK(rd.iters == rf.iters && fabs(rd.value - rf.value) <= 1e-14 * ref && fabs(rdd.value - rf.value) <= 1e-12 * ref,
          "%zux%zu: float %.17g, auto %.17g, double %.17g (%d/%d/%d steps)", m, n, rf.value, rd.value, rdd.value,
          rf.iters, rd.iters, rdd.iters);
    o.double_only = 0;
    int had_simd = cb_norms_simd(-1);
    cb_norms_simd(0);
    CHECK(cb_norms_spectral_f(F, m, n, &o, &rp) == CB_OK && fabs(rp.value - rf.value) <= 1e-12 * ref &&
              rp.err <= o.rtol * rp.value,
          "%zux%zu portable loops: %.17g vs %s %.17g", m, n, rp.value, had_simd ? "AVX2" : "portable", rf.value);
    cb_norms_simd(1);
    free(A);
    free(F);
}

/* Scale-free iteration: entries ~1e160 (Σ a² overflows) and ~1e-165 (underflows) give
 * the norm of the unscaled matrix times the scale. */
static void check_scaled(double scale)
{
    size_t m = 140, n = 97;
    double *A = random_matrix(m, n, 1.0, 0, 21), ref = 0;
    CHECK(cb_norms_spectral_ref(A, m, n, &ref) == CB_OK, "dgesdd 140x97");
    for (size_t i = 0; i < m * n; ++i) A[i] *= scale;
    CbNormOpts o;
    cb_norms_opts_default(&o);
    CbSpecNorm r;
    CbStatus st = cb_norms_spectral(A, m, n, &o, &r);
    CHECK(st == CB_OK && r.single == 0 && fabs(r.value / scale - ref) <= 1e-9 * ref,
          "scale %g: %.15g vs %.15g x scale (status %d%s)", scale, r.value / scale, ref, st,
          st == CB_OK ? "" : cb_err_msg());
    free(A);
}

static void test_float_special(void)
{
    CbNormOpts o;
    cb_norms_opts_default(&o);
    o.small = 4;
    CbSpecNorm r;
    size_t m = 90, n = 70;
    double *A = random_matrix(m, n, 2.385, 0, 13), ref;
    float *F = malloc(m * n * sizeof *F);
    for (size_t i = 0; i < m * n; ++i) F[i] = (float)A[i];
    /* a double matrix that is not float-valued stays double */
    CHECK(cb_norms_spectral(A, m, n, &o, &r) == CB_OK && r.single == 0, "non-float entries: double kernel");
    /* small float matrices and double_only go through the double path */
    CHECK(cb_norms_spectral_f(F, 120, 3, &o, &r) == CB_OK && r.dense == 1 && r.single == 0, "float 120x3 -> dense");
    CbNormOpts dd = o;
    dd.double_only = 1;
    CHECK(cb_norms_spectral_f(F, m, n, &dd, &r) == CB_OK && r.single == 0 && !r.dense, "float, double_only");
    for (size_t i = 0; i < m * n; ++i) A[i] = F[i];
    cb_norms_spectral_ref(A, m, n, &ref);
    CHECK(fabs(r.value - ref) <= 1e-9 * ref, "float via double path: %.15g vs %.15g", r.value, ref);
    /* a caller's start vector: no Kuczyński–Woźniakowski bound */
    double *st = malloc(n * sizeof *st);
    for (size_t j = 0; j < n; ++j) st[j] = 1.0 + 0.01 * (double)j;
    CbNormOpts ws = o;
    ws.start = st;
    CHECK(cb_norms_spectral_f(F, m, n, &ws, &r) == CB_OK && r.miss_prob == 1 && fabs(r.value - ref) <= 1e-9 * ref,
          "warm start: %.15g, miss_prob %g (expected 1)", r.value, r.miss_prob);
    free(st);
    /* zero float matrix */
    float *Z = calloc(m * n, sizeof *Z);
    CHECK(cb_norms_spectral_f(Z, m, n, &o, &r) == CB_OK && r.value == 0 && r.err == 0, "float zero matrix -> 0");
    free(Z);
    /* error paths: a non-finite entry is named, in the vector body and in the tail */
    F[1 * n + 7] = NAN;
    CHECK(cb_norms_spectral_f(F, m, n, &o, &r) == CB_ENUMERIC && strstr(cb_err_msg(), "(1, 7)"),
          "float NaN entry named: %s", cb_err_msg());
    F[1 * n + 7] = 0.5f;
    F[m * n - 1] = -INFINITY;
    CHECK(cb_norms_spectral_f(F, m, n, &o, &r) == CB_ENUMERIC && strstr(cb_err_msg(), "(89, 69)"),
          "float -inf in the last entry named: %s", cb_err_msg());
    CHECK(cb_norms_spectral_f(F, 0, n, &o, &r) == CB_EINVAL, "float: empty shape rejected: %s", cb_err_msg());
    CbNormOpts bad = o;
    bad.rtol = 2;
    CHECK(cb_norms_spectral_f(F, m, n, &bad, &r) == CB_EINVAL, "float: rtol 2 rejected: %s", cb_err_msg());
    A[m * n - 1] = INFINITY;
    CHECK(cb_norms_spectral(A, m, n, &o, &r) == CB_ENUMERIC && strstr(cb_err_msg(), "(89, 69)"),
          "double +inf in the last entry named: %s", cb_err_msg());
    A[m * n - 1] = 1e300; /* finite, not a float, Σ a² overflows: fine */
    CHECK(cb_norms_spectral(A, m, n, &o, &r) == CB_OK && r.single == 0 && fabs(r.value - 1e300) <= 1e-9 * 1e300,
          "one entry 1e300 dominates: %.15g", r.value);
    /* the switch */
    CHECK(cb_norms_simd(0) == 0, "cb_norms_simd(0) turns the AVX2 kernels off");
    int on = cb_norms_simd(1);
    printf("note: AVX2+FMA kernels %s on this CPU\n", on ? "in use" : "not available");
    free(A);
    free(F);
}

static void test_entrywise(void)
{
    size_t m = 37, n = 23;
    double *A = random_matrix(m, n, 1.7, 0, 9);
    A[5] = 0; A[40] = 0; A[41] = 0; A[3 * n + 7] = -9.25;
    double *s = malloc(n * sizeof *s);
    CHECK(cb_norms_singular_values(A, m, n, s) == CB_OK, "singular values");
    double ss = 0;
    for (size_t i = 0; i < n; ++i) ss += s[i] * s[i];
    CHECK_REL(cb_norms_fro(A, m, n), sqrt(ss), 1e-12, "Frobenius = sqrt(sum sigma^2)");
    double l21 = 0, mx = 0, s1 = 0, s2 = 0, s4 = 0, nnz = 0, mr = 0, mc = 0;
    for (size_t i = 0; i < m; ++i) {
        double r = 0, cnt = 0;
        for (size_t j = 0; j < n; ++j) {
            double a = A[i * n + j];
            r += a * a; s1 += a; s2 += a * a; s4 += a * a * a * a;
            if (fabs(a) > mx) mx = fabs(a);
            if (a != 0) { ++nnz; ++cnt; }
        }
        l21 += sqrt(r);
        if (cnt > mr) mr = cnt;
    }
    for (size_t j = 0; j < n; ++j) {
        double cnt = 0;
        for (size_t i = 0; i < m; ++i) cnt += A[i * n + j] != 0;
        if (cnt > mc) mc = cnt;
    }
    CHECK_REL(cb_norms_l21_t(A, m, n), l21, 1e-13, "||A^T||_{2,1} = sum of row norms");
    CHECK_CLOSE(cb_norms_max(A, m, n), 9.25, 0, "max |A_ij|");
    CbMoments mo;
    cb_norms_moments(A, m, n, &mo);
    double N = (double)(m * n), mean = s1 / N;
    CHECK_REL(mo.mean, mean, 1e-12, "mean");
    CHECK_REL(mo.var, s2 / N - mean * mean, 1e-10, "population variance");
    CHECK_REL(mo.m2, s2 / N, 1e-13, "second moment");
    CHECK_REL(mo.m4, s4 / N, 1e-13, "fourth moment");
    CHECK(mo.nnz == nnz && mo.nnz == N - 3, "nnz %g (expected %g)", mo.nnz, N - 3);
    CHECK(mo.max_row_nnz == mr && mo.max_col_nnz == mc, "max nnz per row %g/%g, per column %g/%g",
          mo.max_row_nnz, mr, mo.max_col_nnz, mc);
    /* Frobenius without overflow */
    double big[2] = {1e300, 1e300};
    CHECK_REL(cb_norms_fro(big, 1, 2), sqrt(2.0) * 1e300, 1e-15, "Frobenius of huge entries");
    free(A);
    free(s);
}

static void test_special(void)
{
    CbNormOpts o;
    cb_norms_opts_default(&o);
    o.small = 4;
    CbSpecNorm r;
    /* dense path for small matrices */
    double *A = random_matrix(120, 3, 1.0, 0, 11), ref;
    CHECK(cb_norms_spectral(A, 120, 3, &o, &r) == CB_OK && r.dense == 1, "3 columns -> dense SVD");
    cb_norms_spectral_ref(A, 120, 3, &ref);
    CHECK_CLOSE(r.value, ref, 0, "dense path equals reference");
    free(A);
    /* zero matrix */
    double *Z = calloc(50 * 60, sizeof *Z);
    CHECK(cb_norms_spectral(Z, 50, 60, &o, &r) == CB_OK && r.value == 0, "zero matrix -> 0");
    /* rank 3 matrix: invariant subspace after 3 steps */
    double *R = calloc(90 * 70, sizeof *R);
    CbStream s = cb_rng_stream(1, 2, CB_RNG_TEST, 3);
    for (int t = 0; t < 3; ++t) {
        double a[90], b[70];
        for (int i = 0; i < 90; ++i) a[i] = cb_rng_normal(&s);
        for (int j = 0; j < 70; ++j) b[j] = cb_rng_normal(&s);
        for (int i = 0; i < 90; ++i)
            for (int j = 0; j < 70; ++j) R[i * 70 + j] += (t + 1.5) * a[i] * b[j];
    }
    CHECK(cb_norms_spectral(R, 90, 70, &o, &r) == CB_OK, "rank-3 matrix: %s", cb_err_msg());
    cb_norms_spectral_ref(R, 90, 70, &ref);
    CHECK(r.iters <= 4 && fabs(r.value - ref) <= 1e-12 * ref, "rank 3: %d steps, %.15g vs %.15g",
          r.iters, r.value, ref);

    /* error paths */
    CHECK(cb_norms_spectral(R, 0, 70, &o, &r) == CB_EINVAL, "empty shape rejected: %s", cb_err_msg());
    CHECK(cb_norms_spectral_ref(R, 90, 0, &ref) == CB_EINVAL, "empty shape rejected by reference");
    CHECK(cb_norms_singular_values(R, 0, 1, &ref) == CB_EINVAL, "empty shape rejected by dgesdd path");
    CbNormOpts bad = o;
    bad.rtol = 0;
    CHECK(cb_norms_spectral(R, 90, 70, &bad, &r) == CB_EINVAL, "rtol 0 rejected: %s", cb_err_msg());
    bad = o;
    bad.kw_eps = 1.5;
    CHECK(cb_norms_spectral(R, 90, 70, &bad, &r) == CB_EINVAL, "kw_eps 1.5 rejected");
    R[77] = NAN;
    CHECK(cb_norms_spectral(R, 90, 70, &o, &r) == CB_ENUMERIC && strstr(cb_err_msg(), "(1, 7)"),
          "NaN entry named: %s", cb_err_msg());
    CHECK(cb_norms_spectral_ref(R, 90, 70, &ref) == CB_ENUMERIC, "NaN entry rejected by reference");
    {
        double *sv = malloc(70 * sizeof *sv);
        CHECK(cb_norms_singular_values(R, 90, 70, sv) == CB_ENUMERIC && strstr(cb_err_msg(), "info"),
              "dgesdd failure (NaN input) reported: %s", cb_err_msg());
        free(sv);
    }
    double *G = random_matrix(200, 180, 1.0, 0, 12);
    bad = o;
    bad.max_iter = 3;
    CHECK(cb_norms_spectral(G, 200, 180, &bad, &r) == CB_ENUMERIC && r.iters == 3 && r.value > 0 &&
              strstr(cb_err_hint_msg(), "lower bound"),
          "3 steps do not reach 1e-9: %s", cb_err_msg());
    /* a start vector in the null space: only column 5 is nonzero, start = e_0 */
    double *N1 = calloc(70 * 66, sizeof *N1), *e0 = calloc(66, sizeof *e0);
    for (int i = 0; i < 70; ++i) N1[i * 66 + 5] = 1.0;
    CHECK(cb_norms_spectral(N1, 70, 66, &o, &r) == CB_OK && fabs(r.value - sqrt(70.0)) < 1e-12,
          "single nonzero column: %.15g (expected sqrt(70))", r.value);
    CbNormOpts nz = o;
    nz.start = e0;
    CHECK(cb_norms_spectral(N1, 70, 66, &nz, &r) == CB_EINVAL, "zero start vector rejected: %s",
          cb_err_msg());
    e0[0] = 2.5;
    CHECK(cb_norms_spectral(N1, 70, 66, &nz, &r) == CB_ENUMERIC && strstr(cb_err_msg(), "null space"),
          "start vector in the null space detected: %s", cb_err_msg());
    e0[5] = 0.25; /* warm start with a component along the answer */
    CHECK(cb_norms_spectral(N1, 70, 66, &nz, &r) == CB_OK && fabs(r.value - sqrt(70.0)) < 1e-12,
          "warm start: %.15g", r.value);
    free(e0);
    free(Z); free(R); free(G); free(N1);
}

/* σ_max by LAPACK's dgesvd, called here directly (cbound's own reference uses dgesdd). */
static double sigma_max_dgesvd(const double *A, size_t m, size_t n)
{
    size_t k = m < n ? m : n;
    double *c = malloc(m * n * sizeof *c), *s = malloc(k * sizeof *s), *sup = malloc(k * sizeof *sup);
    memcpy(c, A, m * n * sizeof *c);
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)m, (lapack_int)n, c, (lapack_int)n,
                                     s, NULL, 1, NULL, 1, sup);
    double r = info == 0 ? s[0] : NAN;
    free(c); free(s); free(sup);
    return r;
}

/* The certificate itself: σ_max ∈ [value, value + err], σ_max from dgesvd. Rounding
 * slack 64 ε σ_max on both ends (the Lanczos value is a Ritz value computed in floating
 * point). At rtol 1e-9 the Ritz value is usually correct to rounding, so σ_max − value
 * is far below err and an under-reported err would go unseen; the loose tolerances
 * (1e-2 … 1e-5) stop while σ_max − value is still a visible fraction of err. The line
 * prints that fraction (gap / err). `rank` > 0 builds a rank-`rank` matrix instead. */
static void check_certificate(size_t m, size_t n, double spike, size_t rank, double rtol, uint32_t idx)
{
    double *A;
    if (rank == 0) {
        A = random_matrix(m, n, 0.0371, spike, idx);
    } else {
        A = calloc(m * n, sizeof *A);
        CbStream s = cb_rng_stream(2385, 78, CB_RNG_TEST, idx);
        double *a = malloc(m * sizeof *a), *b = malloc(n * sizeof *b);
        for (size_t t = 0; t < rank; ++t) {
            for (size_t i = 0; i < m; ++i) a[i] = cb_rng_normal(&s);
            for (size_t j = 0; j < n; ++j) b[j] = cb_rng_normal(&s);
            for (size_t i = 0; i < m; ++i)
                for (size_t j = 0; j < n; ++j) A[i * n + j] += a[i] * b[j];
        }
        free(a); free(b);
    }
    double sig = sigma_max_dgesvd(A, m, n), slack = 64 * DBL_EPSILON * sig;
    CbNormOpts o = lanczos_opts(rtol, idx);
    CbSpecNorm r;
    CbStatus st = cb_norms_spectral(A, m, n, &o, &r);
    double gap = sig - r.value;
    CHECK(st == CB_OK && !r.dense && r.value <= sig + slack && sig <= r.value + r.err + slack,
          "%zux%zu %s rtol %.0e: sigma_max %.15g in [value, value + err] = [%.15g, %.15g] (gap / err %.3g, %d steps)",
          m, n, rank ? "low rank" : spike != 0 ? "spiked" : "Gaussian", rtol, sig, r.value, r.value + r.err,
          r.err > 0 ? gap / r.err : 0.0, r.iters);
    free(A);
}

static void test_certificate(void)
{
    const double rtols[] = {1e-2, 1e-3, 1e-5, 1e-9};
    for (int t = 0; t < 4; ++t) {
        uint32_t i = 40 + 8 * (uint32_t)t;
        check_certificate(300, 200, 0, 0, rtols[t], i);       /* Gaussian, tall           */
        check_certificate(120, 350, 0, 0, rtols[t], i + 1);   /* Gaussian, wide           */
        check_certificate(260, 260, 0, 0, rtols[t], i + 2);   /* Gaussian, square         */
        check_certificate(400, 250, 3.0, 0, rtols[t], i + 3); /* spiked, tall             */
        check_certificate(180, 330, 1.2, 0, rtols[t], i + 4); /* weakly spiked, wide      */
        check_certificate(210, 170, 0, 5, rtols[t], i + 5);   /* rank 5 of 170            */
        check_certificate(90, 240, 0, 2, rtols[t], i + 6);    /* rank 2, wide             */
    }
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    test_entrywise();
    test_special();
    test_certificate();
    check_spectral(300, 200, 0, 1, 1e-9);    /* Marchenko–Pastur edge: small gap */
    check_spectral(150, 400, 0, 2, 1e-9);    /* wide                            */
    check_spectral(333, 333, 0, 3, 1e-9);    /* square                          */
    check_spectral(400, 250, 3.0, 4, 1e-9);  /* trained-like: outlier spike     */
    check_spectral(250, 250, 0, 5, 1e-6);    /* looser tolerance                */
    check_spectral_f(300, 200, 0, 6);        /* float: tall Gaussian            */
    check_spectral_f(150, 400, 0, 7);        /* wide                            */
    check_spectral_f(257, 131, 0, 8);        /* m mod 4 = 1, n mod 4 = 3        */
    check_spectral_f(400, 250, 3.0, 9);      /* trained-like: outlier spike     */
    check_spectral_f(3, 50, 0, 10);          /* fewer rows than one block       */
    check_spectral_f(6, 70, 1.5, 14);        /* one block and a row tail        */
    check_spectral_f(70, 3, 0, 15);          /* fewer columns than one vector   */
    test_float_special();
    check_scaled(1e160);
    check_scaled(1e-165);
    return check_end("norms");
}
