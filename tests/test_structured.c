/*
 * Tests for structured (neuron) pruning: removed neurons are gone from both adjacent
 * layers; the physically smaller network computes the same function as the masked
 * original on random inputs; the perturbation is zero-mean (Monte Carlo over keys,
 * confidence interval); candidates are the lowest-score neurons (scores recomputed
 * independently); error paths.
 */
#include "cbound/structured.h"
#include "cbound/rng.h"
#include "check.h"
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

/* Inputs only: 1.3 · N(0, 1) from stream (31, 32, CB_RNG_TEST, idx). */
static CbData make_inputs(size_t n, size_t d, uint32_t idx)
{
    return helper_gauss_data(n, d, 0, 0, 31, 32, idx, 1.3);
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    size_t widths[] = {9, 23, 17, 4};
    CbMlp *m;
    CHECK(cb_mlp_alloc(3, widths, CB_ACT_RELU, 1.0, 1, &m) == CB_OK, "mlp alloc");
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 1.0, 3, 4);
    CbData X = make_inputs(200, 9, 0);

    /* 1. Removed neurons gone from both layers; the shrunk network = the masked one. */
    for (int sc = 0; sc < 3; ++sc) {
        CbMlp *c = cb_mlp_clone(m);
        CbStructOptions o;
        cb_structured_options_default(&o);
        o.score = (CbStructScore)sc;
        o.fraction = 0.6;
        o.p = 0.4;
        unsigned char alive[40];
        size_t removed;
        CHECK(cb_structured_prune(c, &o, &X, 5, 6, alive, &removed) == CB_OK, "prune (score %d)", sc);
        int gone = 1;
        size_t dead = 0, base = 0;
        for (int l = 0; l < 2; ++l) {
            size_t w = widths[l + 1];
            for (size_t k = 0; k < w; ++k) {
                if (alive[base + k]) continue;
                ++dead;
                for (size_t j = 0; j < widths[l]; ++j) gone &= c->W[l][k * widths[l] + j] == 0.0f;
                gone &= c->b[l][k] == 0.0f;
                for (size_t i = 0; i < widths[l + 2]; ++i) gone &= c->W[l + 1][i * w + k] == 0.0f;
            }
            base += w;
        }
        CHECK(gone && dead == removed && removed > 0, "%zu removed neurons: row, bias and column zero", removed);
        CbMlp *s;
        CHECK(cb_structured_shrink(c, alive, &s) == CB_OK, "shrink");
        CHECK(s->widths[1] + s->widths[2] == 40 - removed && s->widths[0] == 9 && s->widths[3] == 4,
              "shrunk widths %zu, %zu", s->widths[1], s->widths[2]);
        double *pc = malloc(c->n_params * sizeof *pc), *ps = malloc(s->n_params * sizeof *ps);
        double zc[800], zs[800];
        cb_mlp_params_to_double(c, pc);
        cb_mlp_params_to_double(s, ps);
        cb_mlp_forward_d(c, pc, X.x, 200, zc, NULL);
        cb_mlp_forward_d(s, ps, X.x, 200, zs, NULL);
        double diff = 0, scale = 0;
        for (int i = 0; i < 800; ++i) {
            diff = fmax(diff, fabs(zc[i] - zs[i]));
            scale = fmax(scale, fabs(zc[i]));
        }
        CHECK(diff <= 1e-12 * scale, "smaller network = masked original on 200 random inputs (max diff %.2g)", diff);
        free(pc);
        free(ps);
        cb_mlp_free(s);
        cb_mlp_free(c);
    }

    /* 2. Candidates are the lowest-activation-score neurons: every touched neuron
     * (removed or rescaled) has a score <= every untouched one; scores recomputed here. */
    {
        CbMlp *c = cb_mlp_clone(m);
        CbStructOptions o;
        cb_structured_options_default(&o);
        o.fraction = 0.35;
        o.p = 0.5;
        unsigned char alive[40];
        CHECK(cb_structured_prune(c, &o, &X, 8, 9, alive, NULL) == CB_OK, "prune");
        double *p = malloc(m->n_params * sizeof *p), *a0 = malloc(200 * 23 * sizeof *a0),
               *a1 = malloc(200 * 17 * sizeof *a1), *a2 = malloc(200 * 4 * sizeof *a2), z[800];
        double *acts[3] = {a0, a1, a2};
        cb_mlp_params_to_double(m, p);
        cb_mlp_forward_d(m, p, X.x, 200, z, acts);
        int ok = 1;
        for (int l = 0; l < 2; ++l) {
            size_t w = widths[l + 1], out = widths[l + 2], touched = 0;
            double max_t = 0, min_u = INFINITY;
            for (size_t k = 0; k < w; ++k) {
                double e = 0, col = 0;
                for (size_t s = 0; s < 200; ++s) e += acts[l][s * w + k] * acts[l][s * w + k] / 200;
                for (size_t i = 0; i < out; ++i) col += (double)m->W[l + 1][i * w + k] * m->W[l + 1][i * w + k];
                double score = e * col;
                /* touched = removed, or its outgoing column scaled by 1/p (rows of neurons
                 * removed in the next layer are zero, so look for any scaled entry) */
                int t = !alive[(l ? 23 : 0) + k];
                for (size_t i = 0; i < out; ++i) {
                    float a = m->W[l + 1][i * w + k];
                    t |= a != 0.0f && c->W[l + 1][i * w + k] == (float)(a / 0.5);
                }
                touched += (size_t)t;
                if (t) max_t = fmax(max_t, score);
                else min_u = fmin(min_u, score);
            }
            ok &= touched == (size_t)llround(0.35 * (double)w) && max_t <= min_u;
            printf("# layer %d: touched %zu, max touched score %.4g, min untouched %.4g\n", l, touched, max_t, min_u);
        }
        CHECK(ok, "touched neurons = the round(0.35 w) lowest activation scores, per layer");
        free(p);
        free(a0);
        free(a1);
        free(a2);
        cb_mlp_free(c);
    }

    /* 3. Zero-mean: for a one-hidden-layer net the output is linear in the hidden
     * units, so E over keys of f̂(x) = f(x) exactly; Monte Carlo over 3000 keys. */
    {
        size_t w2[] = {9, 31, 3};
        CbMlp *n2;
        cb_mlp_alloc(2, w2, CB_ACT_RELU, 1.0, 1, &n2);
        cb_mlp_init(n2, CB_INIT_KAIMING_UNIFORM, 1.0, 5, 5);
        enum { R = 3000 };
        double *p = malloc(n2->n_params * sizeof *p), f0[3], f[3], sum[3] = {0}, sum2[3] = {0};
        cb_mlp_params_to_double(n2, p);
        cb_mlp_forward_d(n2, p, X.x, 1, f0, NULL);
        CbStructOptions o;
        cb_structured_options_default(&o);
        o.score = CB_STRUCT_NORM;
        o.fraction = 0.8;
        o.p = 0.3;
        for (uint64_t key = 0; key < R; ++key) {
            CbMlp *c = cb_mlp_clone(n2);
            cb_structured_prune(c, &o, &X, 1, key, NULL, NULL);
            cb_mlp_params_to_double(c, p);
            cb_mlp_forward_d(c, p, X.x, 1, f, NULL);
            for (int j = 0; j < 3; ++j) {
                sum[j] += f[j];
                sum2[j] += f[j] * f[j];
            }
            cb_mlp_free(c);
        }
        int ok = 1;
        for (int j = 0; j < 3; ++j) {
            double mean = sum[j] / R, sd = sqrt((sum2[j] / R - mean * mean) / R);
            ok &= fabs(mean - f0[j]) < 4.5 * sd && sd > 0;
            printf("# output %d: f = %.5f, mean over keys %.5f +- %.5f\n", j, f0[j], mean, sd);
        }
        CHECK(ok, "E[f̂(x)] = f(x) within 4.5 standard errors for all 3 outputs");
        free(p);
        cb_mlp_free(n2);
    }

    /* 4. Error paths. */
    {
        CbStructOptions o;
        cb_structured_options_default(&o);
        o.p = 0;
        CHECK(cb_structured_prune(m, &o, &X, 1, 1, NULL, NULL) == CB_EINVAL, "p 0: %s", cb_err_msg());
        cb_structured_options_default(&o);
        o.fraction = 1.2;
        CHECK(cb_structured_prune(m, &o, &X, 1, 1, NULL, NULL) == CB_EINVAL, "fraction 1.2: %s", cb_err_msg());
        size_t w1[] = {9, 4};
        CbMlp *one;
        cb_mlp_alloc(1, w1, CB_ACT_RELU, 1.0, 1, &one);
        cb_structured_options_default(&o);
        CHECK(cb_structured_prune(one, &o, &X, 1, 1, NULL, NULL) == CB_EINVAL, "depth 1: %s", cb_err_msg());
        cb_mlp_free(one);
        CbData bad = make_inputs(5, 7, 1);
        CHECK(cb_structured_prune(m, &o, &bad, 1, 1, NULL, NULL) == CB_EINVAL, "wrong input dim: %s", cb_err_msg());
        free(bad.x);
        unsigned char none[40];
        memset(none, 1, sizeof none);
        memset(none, 0, 23);
        CbMlp *s;
        CHECK(cb_structured_shrink(m, none, &s) == CB_EINVAL, "all neurons of a layer removed: %s", cb_err_msg());
    }
    free(X.x);
    cb_mlp_free(m);
    return check_end("structured");
}
