/*
 * test_norms — certified spectral norm against LAPACK's dgesdd on random matrices of
 * several shapes and spectra, entrywise norms against brute force / singular values,
 * and every error path of src/norms.c.
 */
#include "check.h"
#include "cbound/norms.h"
#include "cbound/rng.h"

#include <float.h>
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

static void check_spectral(size_t m, size_t n, double spike, uint32_t idx, double rtol)
{
    double *A = random_matrix(m, n, 0.0371, spike, idx);
    CbNormOpts o;
    cb_norms_opts_default(&o);
    o.rtol = rtol;
    o.small = 16;
    o.index = idx;
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

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    test_entrywise();
    test_special();
    check_spectral(300, 200, 0, 1, 1e-9);    /* Marchenko–Pastur edge: small gap */
    check_spectral(150, 400, 0, 2, 1e-9);    /* wide                            */
    check_spectral(333, 333, 0, 3, 1e-9);    /* square                          */
    check_spectral(400, 250, 3.0, 4, 1e-9);  /* trained-like: outlier spike     */
    check_spectral(250, 250, 0, 5, 1e-6);    /* looser tolerance                */
    return check_end("norms");
}
