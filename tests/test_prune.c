/*
 * Tests for prune (magnitude layerwise/global, dense_last, random) and discretize
 * (004 §4.2, Lemma 4.2's rho): brute-force sorted references for the magnitude
 * masks, binomial confidence intervals for the uniformity of random pruning, the
 * grid property of rounding, and Lemma 4.2's guarantee ||A - Ã||_2 <= ||A||_2 / L.
 */
#include "cbound/discretize.h"
#include "cbound/mbp.h"
#include "cbound/prune.h"
#include "cbound/rng.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    float a;
    size_t i;
} Entry;

static int cmp_entry(const void *x, const void *y)
{
    const Entry *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

/* Brute-force magnitude mask over the given layers (all pooled): sort (|w|, index). */
static void brute_mask(const CbMlp *m, const int *layers, int nl, double frac, unsigned char *mask)
{
    memset(mask, 1, m->n_params);
    size_t n = 0;
    for (int t = 0; t < nl; ++t) n += m->widths[layers[t]] * m->widths[layers[t] + 1];
    Entry *e = malloc(n * sizeof *e);
    size_t k = 0;
    for (int t = 0; t < nl; ++t) {
        int l = layers[t];
        for (size_t i = 0; i < m->widths[l] * m->widths[l + 1]; ++i)
            e[k++] = (Entry){fabsf(m->W[l][i]), m->offset_W[l] + i};
    }
    qsort(e, n, sizeof *e, cmp_entry);
    size_t kp = (size_t)llround(frac * (double)n);
    for (size_t i = 0; i < kp; ++i) mask[e[i].i] = 0;
    free(e);
}

/* Power iteration on AᵀA (independent of LAPACK), many iterations. */
static double power_norm(const double *A, size_t r, size_t c)
{
    double *v = malloc(c * sizeof *v), *u = malloc(r * sizeof *u), s = 0;
    for (size_t j = 0; j < c; ++j) v[j] = 1.0 + 0.001 * (double)j;
    for (int it = 0; it < 3000; ++it) {
        for (size_t i = 0; i < r; ++i) {
            u[i] = 0;
            for (size_t j = 0; j < c; ++j) u[i] += A[i * c + j] * v[j];
        }
        double nv = 0;
        for (size_t j = 0; j < c; ++j) {
            v[j] = 0;
            for (size_t i = 0; i < r; ++i) v[j] += A[i * c + j] * u[i];
            nv += v[j] * v[j];
        }
        nv = sqrt(nv);
        for (size_t j = 0; j < c; ++j) v[j] /= nv;
        s = sqrt(nv);
    }
    free(v);
    free(u);
    return s;
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);

    /* 1. quickselect equals sorting, with many ties. */
    {
        CbStream s = cb_rng_stream(5, 6, CB_RNG_TEST, 0);
        int ok = 1;
        for (int rep = 0; rep < 200; ++rep) {
            size_t n = 1 + cb_rng_below(&s, 300);
            float *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w);
            int levels = 1 + (int)cb_rng_below(&s, 20);
            for (size_t i = 0; i < n; ++i) v[i] = (float)cb_rng_below(&s, (uint64_t)levels) * 0.37f;
            memcpy(w, v, n * sizeof *v);
            qsort(w, n, sizeof *w, cmp_float);
            size_t k = cb_rng_below(&s, n);
            ok &= cb_prune_select(v, n, k) == w[k];
            free(v);
            free(w);
        }
        CHECK(ok, "quickselect = sort on 200 random arrays with ties");
    }

    size_t widths[] = {37, 53, 41, 7};
    CbMlp *m;
    CHECK(cb_mlp_alloc(3, widths, CB_ACT_RELU, 1.0, 1, &m) == CB_OK, "mlp alloc");
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 1.0, 21, 22);
    /* plant ties: a block of equal magnitudes with both signs in layer 1 */
    for (size_t i = 0; i < 200; ++i) m->W[1][i] = (i % 2 ? 0.0123f : -0.0123f);
    unsigned char *mask = malloc(m->n_params), *ref = malloc(m->n_params);

    /* 2. Layerwise magnitude = brute force per layer; global = brute force pooled. */
    {
        double fr[] = {0.0, 0.137, 0.5, 0.9, 1.0};
        int ok_l = 1, ok_g = 1, ok_d = 1;
        for (int t = 0; t < 5; ++t) {
            CHECK(cb_prune_magnitude_mask(m, NULL, fr[t], CB_PRUNE_LAYER, 0, mask) == CB_OK, "layer mask");
            for (int l = 0; l < 3; ++l) {
                brute_mask(m, &l, 1, fr[t], ref);
                size_t off = m->offset_W[l], n = widths[l] * widths[l + 1];
                ok_l &= memcmp(mask + off, ref + off, n) == 0;
            }
            int all[3] = {0, 1, 2};
            CHECK(cb_prune_magnitude_mask(m, NULL, fr[t], CB_PRUNE_GLOBAL, 0, mask) == CB_OK, "global mask");
            brute_mask(m, all, 3, fr[t], ref);
            ok_g &= memcmp(mask, ref, m->n_params) == 0;
            CHECK(cb_prune_magnitude_mask(m, NULL, fr[t], CB_PRUNE_GLOBAL, 1, mask) == CB_OK, "dense_last mask");
            brute_mask(m, all, 2, fr[t], ref);
            ok_d &= memcmp(mask, ref, m->n_params) == 0;
        }
        CHECK(ok_l, "layerwise magnitude mask = sorted brute force (ties in index order)");
        CHECK(ok_g, "global magnitude mask = sorted brute force over all layers");
        CHECK(ok_d, "dense_last: last layer untouched, others ranked globally");
    }

    /* 3. In-place one-shot pruning: exact count, biases untouched; IMP-style
     * pruning of a fraction of the remaining weights. */
    {
        CbMlp *p = cb_mlp_clone(m);
        CHECK(cb_prune_magnitude(p, 0.8, CB_PRUNE_LAYER, 0) == CB_OK, "magnitude 0.8");
        size_t nz[3] = {0};
        for (int l = 0; l < 3; ++l)
            for (size_t i = 0; i < widths[l] * widths[l + 1]; ++i) nz[l] += p->W[l][i] != 0.0f;
        CHECK(nz[0] == 37 * 53 - (size_t)llround(0.8 * 37 * 53) && nz[2] == 41 * 7 - (size_t)llround(0.8 * 41 * 7),
              "exact per-layer counts (%zu, %zu, %zu)", nz[0], nz[1], nz[2]);
        CHECK(memcmp(p->b[0], m->b[0], 53 * 4) == 0 && memcmp(p->b[2], m->b[2], 7 * 4) == 0, "biases untouched");
        cb_mlp_free(p);
        size_t n = 37 * 53 + 53 * 41 + 41 * 7, alive = n;
        memset(mask, 1, m->n_params);
        int ok = 1;
        for (int level = 1; level <= 6; ++level) {
            CHECK(cb_prune_magnitude_mask(m, mask, 0.2, CB_PRUNE_GLOBAL, 0, mask) == CB_OK, "level %d", level);
            size_t k = 0;
            for (int l = 0; l < 3; ++l)
                for (size_t i = 0; i < widths[l] * widths[l + 1]; ++i) k += mask[m->offset_W[l] + i];
            ok &= k == alive - (size_t)llround(0.2 * (double)alive);
            alive = k;
        }
        CHECK(ok, "iterated 20%% of the remaining: %zu alive of %zu after 6 levels (0.8^6 n = %.1f)", alive, n,
              pow(0.8, 6) * (double)n);
    }

    /* 4. Random pruning: exact counts, reproducible, and uniform (each position's
     * frequency over 2000 independent keys within a 4.5-sigma binomial interval). */
    {
        size_t w2[] = {10, 10};
        CbMlp *q;
        CHECK(cb_mlp_alloc(1, w2, CB_ACT_RELU, 1.0, 0, &q) == CB_OK, "mlp alloc");
        cb_mlp_init(q, CB_INIT_GAUSSIAN, 1.0, 1, 1);
        unsigned char mk[100];
        int freq[100] = {0}, exact = 1;
        enum { R = 2000 };
        for (uint64_t key = 0; key < R; ++key) {
            cb_prune_random_mask(q, NULL, 0.3, 0, 7, key, mk);
            int k = 0;
            for (int i = 0; i < 100; ++i) {
                freq[i] += !mk[i];
                k += !mk[i];
            }
            exact &= k == 30;
        }
        double sd = sqrt(0.3 * 0.7 / R), worst = 0;
        for (int i = 0; i < 100; ++i) worst = fmax(worst, fabs(freq[i] / (double)R - 0.3));
        CHECK(exact, "random pruning removes exactly 30 of 100 every time");
        CHECK(worst < 4.5 * sd, "random pruning uniform: worst position deviation %.4f < %.4f", worst, 4.5 * sd);
        unsigned char a[100], b[100], c[100];
        cb_prune_random_mask(q, NULL, 0.5, 0, 7, 42, a);
        cb_prune_random_mask(q, NULL, 0.5, 0, 7, 42, b);
        cb_prune_random_mask(q, NULL, 0.5, 0, 7, 43, c);
        CHECK(memcmp(a, b, 100) == 0 && memcmp(a, c, 100) != 0, "random mask: same key same, other key other");
        cb_mlp_free(q);
        CbMlp *p = cb_mlp_clone(m);
        CHECK(cb_prune_random(p, 0.6, 1, 1, 2) == CB_OK, "random prune in place");
        CHECK(memcmp(p->W[2], m->W[2], 41 * 7 * 4) == 0, "random prune: dense_last keeps the last layer");
        cb_mlp_free(p);
    }

    /* 5. Error paths. */
    {
        CbPruneScope sc;
        CHECK(cb_prune_scope_parse("global", &sc) == CB_OK && sc == CB_PRUNE_GLOBAL, "scope parse");
        CHECK(cb_prune_scope_parse("row", &sc) == CB_EINVAL, "bad scope: %s", cb_err_msg());
        CHECK(cb_prune_magnitude_mask(m, NULL, 1.5, CB_PRUNE_LAYER, 0, mask) == CB_EINVAL, "fraction 1.5: %s",
              cb_err_msg());
        CHECK(cb_prune_magnitude(m, 1.0, CB_PRUNE_LAYER, 0) == CB_EINVAL, "sparsity 1: %s", cb_err_msg());
        CHECK(cb_prune_random(m, -0.1, 0, 1, 1) == CB_EINVAL, "sparsity -0.1: %s", cb_err_msg());
    }

    /* 6. Discretization: on the grid, within rho/2, zeros stay zero. */
    {
        size_t n = 5000;
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        CbStream s = cb_rng_stream(9, 9, CB_RNG_TEST, 1);
        for (size_t i = 0; i < n; ++i) a[i] = i % 7 == 0 ? 0.0f : (float)(0.05 * cb_rng_normal(&s));
        memcpy(b, a, n * sizeof *a);
        double rho = 0.00731;
        size_t zeroed = cb_disc_round(b, n, rho), expect_zeroed = 0;
        int on_grid = 1, close = 1, zeros = 1;
        for (size_t i = 0; i < n; ++i) {
            double q = b[i] / rho;
            on_grid &= fabs(q - round(q)) < 1e-4;
            close &= fabs((double)b[i] - a[i]) <= rho / 2 + 1e-7;
            zeros &= a[i] != 0.0f || b[i] == 0.0f;
            expect_zeroed += a[i] != 0.0f && fabs(a[i]) < rho / 2;
        }
        CHECK(on_grid && close && zeros, "rounded values on the grid, within rho/2, zeros kept");
        CHECK(zeroed == expect_zeroed, "entries rounded to zero counted (%zu)", zeroed);
        free(a);
        free(b);
    }

    /* 7. Spectral norm (LAPACK) vs power iteration; Lemma 4.2's rho and its guarantee. */
    {
        size_t r = 41, c = 53;
        double *A = malloc(r * c * sizeof *A), nl, np;
        for (size_t i = 0; i < r * c; ++i) A[i] = m->W[1][i];
        CHECK(cb_disc_spectral_norm(m->W[1], r, c, &nl) == CB_OK, "spectral norm");
        np = power_norm(A, r, c);
        CHECK_REL(nl, np, 1e-9, "LAPACK ||W||_2 vs power iteration");
        free(A);
        float bad[6] = {1.0f, 2.0f, NAN, 0.5f, 0.25f, 3.0f};
        CHECK(cb_disc_spectral_norm(bad, 2, 3, &nl) == CB_ENUMERIC, "NaN matrix: %s", cb_err_msg());
        double rho;
        CHECK(cb_disc_rho_lemma42(2.0, 0.1, 4, 100, 0, &rho) == CB_OK, "rho lemma 4.2");
        CHECK_CLOSE(rho, (2.0 / 4 - 0.1) / 100, 1e-15, "rho = (||A||/L - err)/J");
        CHECK(cb_disc_rho_lemma42(2.0, 0.6, 4, 100, 2, &rho) == CB_ENUMERIC, "no rho exists: %s", cb_err_msg());

        CbMlp *p = cb_mlp_clone(m);
        CbMbpOptions o;
        cb_mbp_options_default(&o);
        o.d = 0.05; /* light pruning so Lemma 4.2's slack is positive */
        CHECK(cb_mbp_prune(p, &o, 1, 2, NULL, NULL) == CB_OK, "mbp before discretization");
        double rhos[3];
        CHECK(cb_disc_apply(m, p, NAN, rhos) == CB_OK, "discretize auto (%s)", cb_err_msg());
        int ok = 1;
        for (int l = 0; l < 3; ++l) {
            size_t n = widths[l] * widths[l + 1];
            float *D = malloc(n * sizeof *D);
            for (size_t i = 0; i < n; ++i) D[i] = m->W[l][i] - p->W[l][i];
            double na, nd;
            cb_disc_spectral_norm(m->W[l], widths[l + 1], widths[l], &na);
            cb_disc_spectral_norm(D, widths[l + 1], widths[l], &nd);
            ok &= nd <= na / 3 * (1 + 1e-6) && rhos[l] > 0;
            printf("# layer %d: rho %.3g, ||A - A~||_2 = %.4g <= ||A||_2/L = %.4g\n", l, rhos[l], nd, na / 3);
            free(D);
        }
        CHECK(ok, "auto rho keeps ||A - Ã||_2 <= ||A||_2 / L in every layer");
        CHECK(cb_disc_apply(m, p, -1.0, NULL) == CB_EINVAL, "rho -1: %s", cb_err_msg());
        CbMlp *z = cb_mlp_clone(m);
        cb_prune_magnitude(z, 0.99, CB_PRUNE_LAYER, 0);
        CHECK(cb_disc_apply(m, z, NAN, NULL) == CB_ENUMERIC, "auto rho impossible after 99%% pruning: %s",
              cb_err_msg());
        cb_mlp_free(z);
        cb_mlp_free(p);
    }

    free(mask);
    free(ref);
    cb_mlp_free(m);
    return check_end("prune");
}
