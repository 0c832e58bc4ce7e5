/*
 * Tests for mlp: layout of the contiguous parameter buffer, allocation errors,
 * activation names, initialization (Kolmogorov–Smirnov against U(±1/sqrt(fan_in))
 * and N(0, σ²/fan_in), per-layer streams, reproducibility), the float (sgemm) and
 * double (dgemm) forward passes against a naive triple loop written here, softplus
 * at extreme inputs against long-double evaluation, activation derivatives against
 * central differences, double<->float parameter copies and the finiteness check.
 */
#include "cbound/mlp.h"
#include "check.h"

#include <gsl/gsl_cdf.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ helpers */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* KS statistic sqrt(n) D_n of sample v against cdf; returns it (< 1.95 at 0.1%). */
static double ks_stat(const float *v, size_t n, double (*cdf)(double, double), double par)
{
    double *s = cb_malloc(n * sizeof *s), D = 0;
    for (size_t i = 0; i < n; ++i) s[i] = v[i];
    qsort(s, n, sizeof *s, cmp_double);
    for (size_t i = 0; i < n; ++i) {
        double F = cdf(s[i], par);
        D = fmax(D, fmax(fabs(F - (double)i / n), fabs(F - (double)(i + 1) / n)));
    }
    free(s);
    return sqrt((double)n) * D;
}

static double cdf_uniform_sym(double x, double b) { return x <= -b ? 0 : x >= b ? 1 : (x + b) / (2 * b); }
static double cdf_normal(double x, double sd) { return gsl_cdf_gaussian_P(x, sd); }

/* Naive reference forward in long double with the textbook activation formulas. */
static long double act_ref(CbAct a, double beta, long double z)
{
    switch (a) {
    case CB_ACT_RELU: return z > 0 ? z : 0;
    case CB_ACT_TANH: return tanhl(z);
    case CB_ACT_SOFTPLUS: return beta * z > 40 ? z + log1pl(expl(-beta * z)) / beta : log1pl(expl(beta * z)) / beta;
    case CB_ACT_IDENTITY: return z;
    }
    return NAN;
}

static void forward_naive(const CbMlp *m, const float *x, size_t n, double *out)
{
    size_t maxw = cb_mlp_max_width(m);
    long double *a = cb_malloc(maxw * sizeof *a), *b = cb_malloc(maxw * sizeof *b);
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < m->widths[0]; ++j) a[j] = x[i * m->widths[0] + j];
        for (int l = 0; l < m->depth; ++l) {
            size_t wi = m->widths[l], wo = m->widths[l + 1];
            for (size_t r = 0; r < wo; ++r) {
                long double s = m->b[l] ? m->b[l][r] : 0;
                for (size_t c = 0; c < wi; ++c) s += (long double)m->W[l][r * wi + c] * a[c];
                b[r] = l == m->depth - 1 ? s : act_ref(m->act, m->beta, s);
            }
            memcpy(a, b, wo * sizeof *a);
        }
        for (size_t j = 0; j < m->widths[m->depth]; ++j) out[i * m->widths[m->depth] + j] = (double)a[j];
    }
    free(a);
    free(b);
}

/* ------------------------------------------------------------------ tests */

static void test_layout_and_errors(void)
{
    size_t w[4] = {7, 5, 3, 2};
    CbMlp *m = NULL;
    CHECK(cb_mlp_alloc(3, w, CB_ACT_RELU, 0, 1, &m) == CB_OK, "alloc 7-5-3-2 with bias");
    CHECK(m->n_params == 7 * 5 + 5 + 5 * 3 + 3 + 3 * 2 + 2, "n_params = %zu", m->n_params);
    CHECK(m->offset_W[1] == 40 && m->offset_b[1] == 55 && m->offset_W[2] == 58 && m->offset_b[2] == 64,
          "offsets W/b follow [W0][b0][W1][b1]...");
    CHECK(m->W[2] == m->params + 58 && m->b[0] == m->params + 35, "pointers into the contiguous buffer");
    CHECK(cb_mlp_max_width(m) == 7, "max width");
    size_t zeros = 0;
    for (size_t i = 0; i < m->n_params; ++i) zeros += m->params[i] == 0.0f;
    CHECK(zeros == m->n_params, "alloc zeroes the parameters");
    cb_mlp_free(m);
    CHECK(cb_mlp_alloc(3, w, CB_ACT_TANH, 0, 0, &m) == CB_OK && m->n_params == 35 + 15 + 6 && !m->b[1] &&
              m->offset_W[2] == 50,
          "alloc without bias: weights only, b[l] == NULL");
    cb_mlp_free(m);
    cb_mlp_free(NULL);

    CHECK(cb_mlp_alloc(0, w, CB_ACT_RELU, 0, 1, &m) == CB_EINVAL && !m && strstr(cb_err_msg(), "depth"),
          "depth 0 rejected: %s", cb_err_msg());
    size_t wz[3] = {4, 0, 2};
    CHECK(cb_mlp_alloc(2, wz, CB_ACT_RELU, 0, 1, &m) == CB_EINVAL && strstr(cb_err_msg(), "width 1"),
          "zero width rejected: %s", cb_err_msg());
    CHECK(cb_mlp_alloc(2, w, CB_ACT_SOFTPLUS, 0, 1, &m) == CB_EINVAL && strstr(cb_err_msg(), "beta") &&
              cb_err_hint_msg()[0],
          "softplus beta 0 rejected: %s", cb_err_msg());
    CHECK(cb_mlp_alloc(2, w, CB_ACT_SOFTPLUS, NAN, 1, &m) == CB_EINVAL, "softplus beta NaN rejected");
    CHECK(cb_mlp_alloc(2, w, (CbAct)17, 1, 1, &m) == CB_EINVAL && strstr(cb_err_msg(), "activation"),
          "unknown activation code rejected: %s", cb_err_msg());

    const CbAct all[4] = {CB_ACT_RELU, CB_ACT_IDENTITY, CB_ACT_TANH, CB_ACT_SOFTPLUS};
    int rt = 1;
    for (int a = 0; a < 4; ++a) {
        CbAct back;
        rt &= cb_mlp_act_parse(cb_mlp_act_name(all[a]), &back) == CB_OK && back == all[a];
    }
    CHECK(rt, "activation names round-trip");
    CbAct got;
    CHECK(cb_mlp_act_parse("linear", &got) == CB_OK && got == CB_ACT_IDENTITY, "'linear' means identity");
    CHECK(cb_mlp_act_parse("sigmoid", &got) == CB_EINVAL && strstr(cb_err_msg(), "found 'sigmoid'"),
          "unknown activation name rejected: %s", cb_err_msg());
    CHECK(!strcmp(cb_mlp_act_name((CbAct)9), "unknown"), "name of a bad code");
}

static void test_init(void)
{
    size_t w[4] = {300, 200, 150, 10};
    CbMlp *m, *m2, *m3;
    cb_mlp_alloc(3, w, CB_ACT_RELU, 0, 1, &m);
    cb_mlp_alloc(3, w, CB_ACT_RELU, 0, 1, &m2);
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 0, 2026, 11);
    cb_mlp_init(m2, CB_INIT_KAIMING_UNIFORM, 0, 2026, 11);
    CHECK(!memcmp(m->params, m2->params, m->n_params * sizeof(float)), "init reproducible for (seed, key)");
    for (int l = 0; l < 3; ++l) {
        double bound = 1 / sqrt((double)w[l]), mx = 0;
        size_t nw = w[l] * w[l + 1];
        for (size_t i = 0; i < nw; ++i) mx = fmax(mx, fabs(m->W[l][i]));
        double ks = ks_stat(m->W[l], nw, cdf_uniform_sym, bound);
        CHECK(mx <= bound && mx > 0.99 * bound && ks < 1.95,
              "kaiming-uniform layer %d: max|W| %.5f <= 1/sqrt(%zu) = %.5f, KS sqrt(n)D = %.3f < 1.95", l, mx, w[l],
              bound, ks);
        double bmx = 0;
        for (size_t i = 0; i < w[l + 1]; ++i) bmx = fmax(bmx, fabs(m->b[l][i]));
        CHECK(bmx <= bound && bmx > 0.5 * bound, "kaiming-uniform layer %d bias in U(±%.4f): max %.4f", l, bound, bmx);
    }
    /* per-layer streams: layer 0 does not depend on the other layers' shapes */
    size_t w3[3] = {300, 200, 77};
    cb_mlp_alloc(2, w3, CB_ACT_RELU, 0, 1, &m3);
    cb_mlp_init(m3, CB_INIT_KAIMING_UNIFORM, 0, 2026, 11);
    CHECK(!memcmp(m3->W[0], m->W[0], 300 * 200 * sizeof(float)) && !memcmp(m3->b[0], m->b[0], 200 * sizeof(float)),
          "layer 0 draws from its own stream (seed, key, CB_RNG_INIT, 0)");
    cb_mlp_init(m2, CB_INIT_KAIMING_UNIFORM, 0, 2026, 12);
    size_t same = 0;
    for (size_t i = 0; i < m->n_params; ++i) same += m->params[i] == m2->params[i];
    CHECK(same < 20, "a different key gives different weights (%zu coincidences)", same);

    cb_mlp_init(m, CB_INIT_GAUSSIAN, 1.7, 2026, 11);
    for (int l = 0; l < 3; ++l) {
        double sd = 1.7 / sqrt((double)w[l]), ks = ks_stat(m->W[l], w[l] * w[l + 1], cdf_normal, sd);
        size_t nz = 0;
        for (size_t i = 0; i < w[l + 1]; ++i) nz += m->b[l][i] != 0.0f;
        CHECK(ks < 1.95 && nz == 0, "gaussian layer %d: KS vs N(0, 1.7²/%zu) sqrt(n)D = %.3f, biases zero", l, w[l],
              ks);
    }
    CbMlp *c = cb_mlp_clone(m);
    CHECK(c != m && c->params != m->params && !memcmp(c->params, m->params, m->n_params * sizeof(float)) &&
              c->W[1] == c->params + c->offset_W[1] && c->depth == 3 && c->act == m->act,
          "clone copies values into its own buffer");
    c->params[0] += 1;
    CHECK(c->params[0] != m->params[0], "clone is independent");
    cb_mlp_free(c);
    cb_mlp_free(m);
    cb_mlp_free(m2);
    cb_mlp_free(m3);
}

static void test_forward(void)
{
    size_t w[4] = {23, 41, 19, 6};
    enum { n = 53 };
    float x[n * 23];
    CbStream s = cb_rng_stream(3, 4, CB_RNG_TEST, 0);
    for (int i = 0; i < n * 23; ++i) x[i] = (float)(1.4 * cb_rng_normal(&s));
    const CbAct acts[4] = {CB_ACT_RELU, CB_ACT_IDENTITY, CB_ACT_TANH, CB_ACT_SOFTPLUS};
    for (int a = 0; a < 4; ++a)
        for (int bias = 0; bias <= 1; ++bias) {
            CbMlp *m;
            cb_mlp_alloc(3, w, acts[a], 2.7, bias, &m);
            cb_mlp_init(m, CB_INIT_GAUSSIAN, 1.9, 1, (uint64_t)(a * 2 + bias));
            if (bias)
                for (int l = 0; l < 3; ++l)
                    for (size_t i = 0; i < w[l + 1]; ++i) m->b[l][i] = (float)(0.4 * cb_rng_normal(&s));
            float out[n * 6], *work = cb_malloc(cb_mlp_forward_work_size(m, n) * sizeof *work);
            double ref[n * 6], outd[n * 6], *p = cb_malloc(m->n_params * sizeof *p);
            double *acts_d[3];
            for (int l = 0; l < 3; ++l) acts_d[l] = cb_malloc(n * w[l + 1] * sizeof(double));
            cb_mlp_forward(m, x, n, out, work);
            forward_naive(m, x, n, ref);
            cb_mlp_params_to_double(m, p);
            cb_mlp_forward_d(m, p, x, n, outd, NULL);
            double ef = 0, ed = 0, scale = 0;
            for (int i = 0; i < n * 6; ++i) {
                ef = fmax(ef, fabs(out[i] - ref[i]));
                ed = fmax(ed, fabs(outd[i] - ref[i]));
                scale = fmax(scale, fabs(ref[i]));
            }
            CHECK(ef <= 2e-6 * scale && ed <= 1e-13 * scale,
                  "forward %s bias=%d vs naive long-double loop: float %.2g, double %.2g (max|out| %.3g)",
                  cb_mlp_act_name(acts[a]), bias, ef, ed, scale);
            double outd2[n * 6];
            cb_mlp_forward_d(m, p, x, n, outd2, acts_d);
            CHECK(!memcmp(outd, outd2, sizeof outd) && !memcmp(acts_d[2], outd, sizeof outd),
                  "forward_d keeps per-layer activations (%s)", cb_mlp_act_name(acts[a]));
            /* the double path uses p, not m's floats */
            for (size_t i = 0; i < m->n_params; ++i) p[i] *= 0.5;
            cb_mlp_forward_d(m, p, x, n, outd2, NULL);
            CHECK(fabs(outd2[7] - outd[7]) > 1e-6, "forward_d reads the double parameters it is given");
            free(work);
            free(p);
            for (int l = 0; l < 3; ++l) free(acts_d[l]);
            cb_mlp_free(m);
        }
    /* n = 0 is a no-op */
    CbMlp *m;
    cb_mlp_alloc(3, w, CB_ACT_RELU, 0, 1, &m);
    float sentinel = 2.385f;
    cb_mlp_forward(m, x, 0, &sentinel, NULL);
    CHECK(sentinel == 2.385f, "forward with n = 0 writes nothing");
    cb_mlp_free(m);
}

static void test_activations(void)
{
    /* softplus at extreme and ordinary inputs, and σ' from the output vs central differences */
    size_t w[3] = {1, 1, 1};
    const double betas[3] = {0.37, 1.0, 25.0};
    for (int bi = 0; bi < 3; ++bi) {
        CbMlp *m;
        cb_mlp_alloc(2, w, CB_ACT_SOFTPLUS, betas[bi], 0, &m);
        const float zs[9] = {-1000.0f, -80.0f, -3.3f, -1e-3f, 0.0f, 2e-4f, 0.77f, 55.0f, 1e4f};
        float y[9];
        memcpy(y, zs, sizeof y);
        cb_mlp_bias_act(m, 0, y, 9);
        double worst = 0;
        for (int i = 0; i < 9; ++i) {
            long double r = act_ref(CB_ACT_SOFTPLUS, betas[bi], zs[i]);
            /* below float's normal range (1.2e-38) only the absolute error can be small */
            double err = fabsl(r) > 1e-37L ? fabs((double)((y[i] - r) / r)) : fabs((double)(y[i] - r)) * 1e30;
            worst = fmax(worst, isfinite(y[i]) ? err : 1.0);
        }
        CHECK(worst < 3e-6, "softplus beta=%g stable from -1000 to 1e4: worst rel err %.2g", betas[bi], worst);
        cb_mlp_free(m);
    }
    const CbAct acts[4] = {CB_ACT_RELU, CB_ACT_IDENTITY, CB_ACT_TANH, CB_ACT_SOFTPLUS};
    for (int a = 0; a < 4; ++a) {
        CbMlp *m;
        cb_mlp_alloc(2, w, acts[a], 1.8, 0, &m);
        enum { K = 41 };
        float z[K], y[K], dy[K];
        double worst = 0;
        for (int i = 0; i < K; ++i) z[i] = -5.05f + 0.25f * (float)i; /* avoids the kink at 0 */
        memcpy(y, z, sizeof y);
        cb_mlp_bias_act(m, 0, y, K);
        for (int i = 0; i < K; ++i) dy[i] = 1.0f;
        cb_mlp_act_backward(m, y, dy, K);
        for (int i = 0; i < K; ++i) {
            double h = 1e-4, fd = (double)(act_ref(acts[a], 1.8, z[i] + h) - act_ref(acts[a], 1.8, z[i] - h)) / (2 * h);
            worst = fmax(worst, fabs(dy[i] - fd));
        }
        CHECK(worst < 2e-6, "%s: sigma'(z) from the output matches central differences (worst %.2g)",
              cb_mlp_act_name(acts[a]), worst);
        cb_mlp_free(m);
    }
}

static void test_convert_and_finite(void)
{
    size_t w[3] = {4, 6, 3};
    CbMlp *m;
    cb_mlp_alloc(2, w, CB_ACT_TANH, 0, 1, &m);
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 0, 5, 6);
    double *p = cb_malloc(m->n_params * sizeof *p);
    cb_mlp_params_to_double(m, p);
    CbMlp *c = cb_mlp_clone(m);
    memset(c->params, 0, c->n_params * sizeof(float));
    cb_mlp_params_from_double(c, p);
    CHECK(!memcmp(c->params, m->params, m->n_params * sizeof(float)) && p[3] == (double)m->params[3],
          "float -> double -> float round trip is exact");
    CHECK(cb_mlp_check_finite(m, "net.h5") == CB_OK, "finite network passes");
    m->W[1][2 * 6 + 5] = NAN;
    CHECK(cb_mlp_check_finite(m, "net.h5") == CB_ENUMERIC && strstr(cb_err_msg(), "net.h5: layer 1 weight [2, 5]") &&
              cb_err_hint_msg()[0],
          "NaN weight named: %s", cb_err_msg());
    m->W[1][2 * 6 + 5] = 0.5f;
    m->b[0][4] = INFINITY;
    CHECK(cb_mlp_check_finite(m, NULL) == CB_ENUMERIC && strstr(cb_err_msg(), "layer 0 bias [4] is inf"),
          "Inf bias named: %s", cb_err_msg());
    free(p);
    cb_mlp_free(m);
    cb_mlp_free(c);
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    test_layout_and_errors();
    test_init();
    test_forward();
    test_activations();
    test_convert_and_finite();
    return check_end("mlp");
}
