/*
 * Tests for mbp (004 Algorithm 1): chi(d) against GSL quadrature, kept fraction on a
 * large Gaussian matrix within a binomial confidence interval, the diagonal rule,
 * mask reproducibility, target sparsity -> d (closed form and empirical), error
 * paths, and the fast kernel against the reference on a 2500 x 2500 layer (the times
 * are printed; their ratio is measured by `make bench`, scripts/bench.sh, not checked
 * here). Under MPI every rank draws the same mask (checked against rank 0's by broadcast).
 * cbound-test: ranks 1 2
 */
#include "cbound/mbp.h"
#include "cbound/rng.h"
#include "check.h"

#include <gsl/gsl_integration.h>
#include <string.h>
#include <time.h>

typedef struct {
    double d, psi;
} KeepArgs;

/* (1 - exp(-a^2/(d psi))) * N(a; 0, psi): the keep probability integrated against the prior */
static double keep_integrand(double a, void *p)
{
    const KeepArgs *k = p;
    return -expm1(-a * a / (k->d * k->psi)) * exp(-a * a / (2 * k->psi)) / sqrt(2 * M_PI * k->psi);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void gaussian_fill(float *a, size_t n, double sd, uint32_t index)
{
    CbStream s = cb_rng_stream(2385, 17, CB_RNG_TEST, index);
    for (size_t i = 0; i < n; ++i) a[i] = (float)(sd * cb_rng_normal(&s));
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);

    /* 1. chi(d) = 1 - sqrt(d/(d+2)) against adaptive quadrature on (-inf, inf) (QAGI). */
    {
        gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
        double ds[] = {0.0137, 0.385, 1.0, 2.385, 9.71, 87.3};
        for (size_t k = 0; k < sizeof ds / sizeof *ds; ++k) {
            KeepArgs args = {ds[k], 0.0371};
            gsl_function f = {keep_integrand, &args};
            double val, err;
            gsl_integration_qagi(&f, 1e-13, 1e-11, 1000, w, &val, &err);
            CHECK_CLOSE(cb_mbp_chi(ds[k]), val, 1e-10, "chi(d) vs quadrature");
            /* the paper's form (sqrt(d+2) - sqrt(d)) / sqrt(d+2) is the same number */
            CHECK_CLOSE(cb_mbp_chi(ds[k]), (sqrt(ds[k] + 2) - sqrt(ds[k])) / sqrt(ds[k] + 2), 1e-14,
                        "chi equals Lemma 5.1's form");
        }
        gsl_integration_workspace_free(w);
        double ss[] = {0.05, 0.5, 0.9, 0.987};
        for (size_t k = 0; k < 4; ++k)
            CHECK_CLOSE(1 - cb_mbp_chi(cb_mbp_d_for_sparsity(ss[k])), ss[k], 1e-12, "chi(d(s)) = 1 - s");
    }

    /* 2. Kept fraction on a 1000 x 1000 Gaussian matrix, code variant (no diagonal rule).
     * Unconditionally each entry is kept independently with probability chi(d) when
     * Psi is the true variance; Psi estimated from 10^6 entries adds a relative error
     * sqrt(2/n) whose effect on chi is |chi'(d)| d sqrt(2/n). The CI is 4 sigma of both. */
    {
        size_t r = 1000, c = 1000, n = r * c;
        float *A = cb_malloc(n * sizeof *A), *B = cb_malloc(n * sizeof *B);
        gaussian_fill(A, n, 0.0423, 1);
        memcpy(B, A, n * sizeof *A);
        double d = 2.385, psi = cb_mbp_variance(A, n);
        double cond_mean = cb_mbp_expected_kept(A, r, c, d, psi, 0);
        size_t kept = cb_mbp_prune_matrix(B, r, c, d, psi, 0, 77, 0xabcdefULL, 3);
        double chi = cb_mbp_chi(d), dchi = 1.0 / (sqrt(d) * pow(d + 2, 1.5));
        double sd = sqrt(chi * (1 - chi) / (double)n + pow(dchi * d, 2) * 2.0 / (double)n);
        double frac = (double)kept / (double)n;
        CHECK(fabs(frac - chi) < 4 * sd, "kept fraction %.6f vs chi(d) %.6f within 4 sigma = %.2g", frac,
              chi, 4 * sd);
        /* conditional on A the count is Poisson-binomial with variance <= n/4 */
        CHECK(fabs((double)kept - cond_mean) < 4 * sqrt(cond_mean * (1 - cond_mean / (double)n)),
              "kept count %zu vs conditional expectation %.1f", kept, cond_mean);
        size_t bad = 0, nz = 0;
        for (size_t i = 0; i < n; ++i) {
            if (B[i] != 0.0f && B[i] != A[i]) ++bad; /* kept entries are not rescaled */
            nz += B[i] != 0.0f;
        }
        CHECK(bad == 0 && nz == kept, "kept entries unchanged (%zu changed), nnz %zu = kept %zu", bad, nz, kept);
        /* pruned weights are the small ones: mean |A| of pruned < mean |A| of kept */
        double sp = 0, sk = 0;
        for (size_t i = 0; i < n; ++i) {
            if (B[i] == 0.0f) sp += fabs(A[i]);
            else sk += fabs(A[i]);
        }
        CHECK(sp / (double)(n - kept) < 0.7 * sk / (double)kept, "pruned weights smaller on average");
        free(A);
        free(B);
    }

    /* 3. Diagonal rule (paper variant) on a non-square matrix; code variant prunes it. */
    {
        size_t r = 300, c = 500, n = r * c;
        float *A = cb_malloc(n * sizeof *A), *B = cb_malloc(n * sizeof *B);
        gaussian_fill(A, n, 0.0917, 2);
        double psi = cb_mbp_variance(A, n);
        memcpy(B, A, n * sizeof *A);
        cb_mbp_prune_matrix(B, r, c, 25.0, psi, 1, 5, 6, 0);
        size_t diag_kept = 0, off_pruned = 0;
        for (size_t i = 0; i < r; ++i)
            for (size_t j = 0; j < c; ++j) {
                if (i == j) diag_kept += B[i * c + j] == A[i * c + j];
                else off_pruned += B[i * c + j] == 0.0f;
            }
        CHECK(diag_kept == r, "paper variant keeps all %zu diagonal entries (%zu kept)", r, diag_kept);
        CHECK(off_pruned > n / 2, "paper variant prunes off-diagonal entries (%zu)", off_pruned);
        memcpy(B, A, n * sizeof *A);
        cb_mbp_prune_matrix(B, r, c, 25.0, psi, 0, 5, 6, 0);
        size_t diag_pruned = 0;
        for (size_t i = 0; i < r; ++i) diag_pruned += B[i * c + i] == 0.0f;
        CHECK(diag_pruned > r / 2, "code variant prunes the diagonal (%zu of %zu)", diag_pruned, r);
        free(A);
        free(B);
    }

    /* 4. Same (seed, key, layer) -> same mask; another key, seed or layer -> another mask. */
    {
        size_t r = 200, c = 300, n = r * c;
        float *A = cb_malloc(n * sizeof *A), *B[5];
        gaussian_fill(A, n, 0.05, 3);
        double psi = cb_mbp_variance(A, n);
        uint64_t seeds[5] = {1, 1, 1, 2, 1}, keys[5] = {99, 99, 100, 99, 99};
        uint32_t layers[5] = {2, 2, 2, 2, 3};
        for (int k = 0; k < 5; ++k) {
            B[k] = cb_malloc(n * sizeof *A);
            memcpy(B[k], A, n * sizeof *A);
            cb_mbp_prune_matrix(B[k], r, c, 1.7, psi, 0, seeds[k], keys[k], layers[k]);
        }
        CHECK(memcmp(B[0], B[1], n * sizeof *A) == 0, "same key -> same mask");
        /* the fast kernel equals the reference kernel (cb_rng_uniform_at per entry), both variants */
        for (int kd = 0; kd < 2; ++kd) {
            float *R = cb_malloc(n * sizeof *A), *F = cb_malloc(n * sizeof *A);
            memcpy(R, A, n * sizeof *A);
            memcpy(F, A, n * sizeof *A);
            size_t kr = cb_mbp_prune_matrix_ref(R, r - 1, c + 1, 1.7, psi, kd, 1, 99, 2);
            size_t kf = cb_mbp_prune_matrix(F, r - 1, c + 1, 1.7, psi, kd, 1, 99, 2);
            CHECK(kr == kf && memcmp(R, F, n * sizeof *A) == 0, "fast mask = reference mask (keep_diagonal %d, kept %zu)",
                  kd, kf);
            free(R);
            free(F);
        }
        for (int k = 2; k < 5; ++k) {
            size_t diff = 0;
            for (size_t i = 0; i < n; ++i) diff += (B[0][i] == 0.0f) != (B[k][i] == 0.0f);
            CHECK(diff > n / 10, "different %s -> different mask (%zu of %zu entries differ)",
                  k == 2 ? "key" : k == 3 ? "seed" : "layer", diff, n);
        }
        for (int k = 0; k < 5; ++k) free(B[k]);
        free(A);
    }

    /* 5. Target sparsity on a whole MLP with non-Gaussian (kaiming-uniform) weights:
     * the empirical solve meets the target; the Gaussian closed form misses it. */
    {
        size_t widths[] = {64, 120, 90, 10};
        CbMlp *m;
        CHECK(cb_mlp_alloc(3, widths, CB_ACT_RELU, 1.0, 1, &m) == CB_OK, "mlp alloc");
        cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 1.0, 11, 12);
        size_t n = 64 * 120 + 120 * 90 + 90 * 10;
        for (int v = 0; v < 2; ++v) {
            CbMlp *p = cb_mlp_clone(m);
            CbMbpOptions o;
            cb_mbp_options_default(&o);
            o.sparsity = 0.8;
            o.variant = v == 0 ? CB_MBP_PAPER : CB_MBP_CODE;
            double d, psi[3];
            CHECK(cb_mbp_prune(p, &o, 3, 4, psi, &d) == CB_OK, "mbp prune to sparsity 0.8");
            size_t nz = 0;
            for (int l = 0; l < 3; ++l)
                for (size_t i = 0; i < widths[l] * widths[l + 1]; ++i) nz += p->W[l][i] != 0.0f;
            double frac = (double)nz / (double)n;
            CHECK(fabs(frac - 0.2) < 4 * sqrt(0.2 * 0.8 / (double)n), "%s variant: kept %.4f vs 0.2 (d %.4f)",
                  v == 0 ? "paper" : "code", frac, d);
            /* biases untouched */
            CHECK(memcmp(p->b[1], m->b[1], 90 * sizeof(float)) == 0, "biases untouched");
            cb_mlp_free(p);
        }
        double psi[3], dg = cb_mbp_d_for_sparsity(0.8);
        for (int l = 0; l < 3; ++l) psi[l] = cb_mbp_variance(m->W[l], widths[l] * widths[l + 1]);
        double kept_g = 0;
        for (int l = 0; l < 3; ++l) kept_g += cb_mbp_expected_kept(m->W[l], widths[l + 1], widths[l], dg, psi[l], 0);
        printf("# uniform weights, Gaussian closed-form d = %.4f -> expected kept %.4f (target 0.2)\n", dg,
               kept_g / (double)n);
        CHECK(fabs(kept_g / (double)n - 0.2) > 0.01, "closed form misses on uniform weights (why empirical is default)");

        /* pooled psi: one value for all layers */
        CbMlp *p = cb_mlp_clone(m);
        CbMbpOptions o;
        cb_mbp_options_default(&o);
        o.psi = CB_MBP_PSI_POOLED;
        o.d = 0.73;
        double ps[3], d;
        CHECK(cb_mbp_prune(p, &o, 3, 4, ps, &d) == CB_OK && ps[0] == ps[1] && ps[1] == ps[2] && d == 0.73,
              "pooled psi shared by all layers (%.4g)", ps[0]);
        cb_mlp_free(p);

        /* error paths */
        p = cb_mlp_clone(m);
        o.psi = CB_MBP_PSI_LAYER;
        o.sparsity = 1.0;
        CHECK(cb_mbp_prune(p, &o, 3, 4, NULL, NULL) == CB_EINVAL, "sparsity 1 rejected: %s", cb_err_msg());
        o.sparsity = -1;
        o.d = -0.5;
        CHECK(cb_mbp_prune(p, &o, 3, 4, NULL, NULL) == CB_EINVAL, "d < 0 rejected: %s", cb_err_msg());
        memset(p->W[2], 0, 900 * sizeof(float));
        o.d = 1;
        CHECK(cb_mbp_prune(p, &o, 3, 4, NULL, NULL) == CB_ENUMERIC, "zero-variance layer: %s", cb_err_msg());
        cb_mlp_free(p);
        o.sparsity = 0.0;
        o.target = CB_MBP_TARGET_GAUSSIAN;
        p = cb_mlp_clone(m);
        CHECK(cb_mbp_prune(p, &o, 3, 4, NULL, &d) == CB_OK && memcmp(p->params, m->params, m->n_params * 4) == 0,
              "sparsity 0 prunes nothing");
        cb_mlp_free(p);
        cb_mlp_free(m);

        size_t w2[] = {20, 20};
        CHECK(cb_mlp_alloc(1, w2, CB_ACT_RELU, 1.0, 0, &m) == CB_OK, "mlp alloc");
        cb_mlp_init(m, CB_INIT_GAUSSIAN, 1.0, 1, 2);
        psi[0] = cb_mbp_variance(m->W[0], 400);
        CHECK(cb_mbp_solve_d(m, psi, 1, 0.97, &d) == CB_EINVAL, "paper variant cannot reach 0.97: %s",
              cb_err_msg());
        CHECK(cb_mbp_solve_d(m, psi, 0, 0.97, &d) == CB_OK, "code variant can (d %.3f)", d);
        for (size_t i = 0; i < 400; i += 2) m->W[0][i] = 0.0f; /* half the weights already zero */
        psi[0] = cb_mbp_variance(m->W[0], 400);
        CHECK(cb_mbp_solve_d(m, psi, 0, 0.3, &d) == CB_ENUMERIC, "already 50%% sparse, target 0.3: %s", cb_err_msg());
        CHECK(cb_mbp_solve_d(m, psi, 0, 0.7, &d) == CB_OK, "already 50%% sparse, target 0.7 (d %.3f)", d);
        cb_mlp_free(m);
    }

    /* 6. One 2500 x 2500 layer: fast kernel = reference kernel. The "# mbp 2500x2500"
     * line is what scripts/bench.sh reads for the speed ratio. */
    {
        size_t r = 2500, n = r * r;
        float *A = cb_malloc(n * sizeof *A);
        gaussian_fill(A, n, 0.02, 4);
        double psi = cb_mbp_variance(A, n);
        float *B = cb_malloc(n * sizeof *A);
        memcpy(B, A, n * sizeof *A);
        double t0 = now_s();
        size_t kept = cb_mbp_prune_matrix(A, r, r, 0.5, psi, 1, 1, 2, 0);
        double t = now_s() - t0;
        t0 = now_s();
        cb_mbp_prune_matrix_ref(B, r, r, 0.5, psi, 1, 1, 2, 0);
        double t_ref = now_s() - t0;
        printf("# mbp 2500x2500: %.1f ms (reference kernel %.1f ms), kept %zu\n", 1e3 * t, 1e3 * t_ref, kept);
        CHECK(memcmp(A, B, n * sizeof *A) == 0, "2500x2500: fast = reference");
        free(B);
        /* the same mask on every rank */
        unsigned char *bits = malloc(n / 8 + 1), *root = malloc(n / 8 + 1);
        memset(bits, 0, n / 8 + 1);
        for (size_t i = 0; i < n; ++i)
            if (A[i] == 0.0f) bits[i / 8] |= (unsigned char)(1u << (i % 8));
        memcpy(root, bits, n / 8 + 1);
        MPI_Bcast(root, (int)(n / 8 + 1), MPI_UNSIGNED_CHAR, 0, MPI_COMM_WORLD);
        CHECK(memcmp(root, bits, n / 8 + 1) == 0, "2500x2500 mask identical to rank 0's");
        free(bits);
        free(root);
        free(A);
    }
    return check_end("mbp");
}
