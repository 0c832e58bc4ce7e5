/*
 * Tests for greedy (000's randomized greedy pruning/quantization):
 *  - zero-mean perturbations: mean of t over many draws = w within a CI, variance
 *    = formula; stochastic rounding lands on the grid;
 *  - Hessian diagonal (loss second differences in double) vs central differences of
 *    the float gradient code, and Hutchinson vs exact; Fisher vs per-sample gradients
 *    by finite differences;
 *  - greedy order vs brute force: on a linear least-squares layer (loss exactly
 *    quadratic in each weight) 1/2 H_ii Var(t) equals the brute-force expected loss
 *    change, and the chosen set is the brute-force k smallest; on a tanh network with
 *    fine quantization (second-order regime) likewise up to a small tolerance;
 *  - counts, rescaling, projection, error paths.
 */
#include "cbound/greedy.h"
#include "cbound/discretize.h"
#include "cbound/measure.h"
#include "cbound/rng.h"
#include "check.h"
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

/* Synthetic inputs N(0, 1), labels or targets, from stream (seed, 1, CB_RNG_TEST, 0). */
static CbData make_data(size_t n, size_t d, size_t k, int classify, uint64_t seed)
{
    return helper_gauss_data(n, d, k, classify, seed, 1, 0, 1.0);
}

/* Loss of sample s alone in double (the measure module's conventions). */
static double loss1(const CbMlp *m, const double *p, const CbData *D, size_t s)
{
    double z[16], sum = 0, c = 0;
    cb_mlp_forward_d(m, p, D->x + s * D->d, 1, z, NULL);
    cb_measure_loss_acc(z, 1, m->widths[m->depth], D, s, &sum, &c);
    return sum;
}

/* Which weights did greedy replace? (quantize: on the grid; prune: 0 or w/p) */
static int replaced_q(float before, float after, double alpha)
{
    double q = after / alpha;
    return before != after || fabs(q - round(q)) < 1e-3;
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);

    /* 1. Zero-mean perturbations. */
    {
        enum { N = 200000 };
        double ws[] = {0.0371, -0.0173, 0.2385};
        for (int k = 0; k < 3; ++k) {
            for (int mode = 0; mode < 2; ++mode) {
                double q = mode == 0 ? 0.3 : 0.01, w = ws[k], sum = 0, sum2 = 0;
                int grid = 1;
                CbStream s = cb_rng_stream(3, (uint64_t)k, CB_RNG_TEST, (uint32_t)mode);
                for (int i = 0; i < N; ++i) {
                    double t = cb_greedy_draw((CbGreedyMode)mode, w, q, cb_rng_uniform(&s));
                    sum += t;
                    sum2 += (t - w) * (t - w);
                    if (mode == 1) grid &= fabs(t / q - round(t / q)) < 1e-9 && fabs(t - w) < q;
                    else grid &= t == 0.0 || t == w / q;
                }
                double var = cb_greedy_var((CbGreedyMode)mode, w, q), sd = sqrt(var / N);
                CHECK(fabs(sum / N - w) < 4.5 * sd, "%s w=%g: mean of t %.6g vs w (4.5 sigma %.2g)",
                      mode ? "quantize" : "prune", w, sum / N, 4.5 * sd);
                CHECK_REL(sum2 / N, var, 0.03, "empirical Var(t) vs formula");
                CHECK(grid, "%s draws take only the two allowed values", mode ? "quantize" : "prune");
            }
        }
    }

    /* 2. Curvature estimates on a small tanh network with labels. */
    size_t wt[] = {5, 7, 3};
    CbMlp *m;
    CHECK(cb_mlp_alloc(2, wt, CB_ACT_TANH, 1.0, 1, &m) == CB_OK, "mlp alloc");
    cb_mlp_init(m, CB_INIT_GAUSSIAN, 1.7, 5, 6);
    CbData D = make_data(64, 5, 3, 1, 8);
    size_t P = m->n_params;
    double *h = malloc(P * sizeof *h), *hh = malloc(P * sizeof *hh), *f = malloc(P * sizeof *f);
    {
        CHECK(cb_greedy_hessian_diag(m, CB_LOSS_CROSS_ENTROPY, &D, 64, 0, 1e-4, 1, 2, h) == CB_OK, "exact diag");
        /* independent: central differences of the float gradient, coordinate by coordinate */
        float *gp = malloc(P * sizeof *gp), *gm = malloc(P * sizeof *gm);
        CbMlp *q = cb_mlp_clone(m);
        double worst = 0, scale = 0;
        for (size_t i = 0; i < P; ++i) {
            double e = 1e-2;
            q->params[i] = (float)(m->params[i] + e);
            cb_train_loss_grad(q, CB_LOSS_CROSS_ENTROPY, D.x, D.y, NULL, 64, gp);
            q->params[i] = (float)(m->params[i] - e);
            cb_train_loss_grad(q, CB_LOSS_CROSS_ENTROPY, D.x, D.y, NULL, 64, gm);
            q->params[i] = m->params[i];
            double hg = ((double)gp[i] - gm[i]) / (2 * e);
            worst = fmax(worst, fabs(hg - h[i]));
            scale = fmax(scale, fabs(h[i]));
        }
        CHECK(worst < 2e-3 * scale, "H_ii (loss 2nd differences) vs gradient differences: max diff %.3g (scale %.3g)",
              worst, scale);
        CHECK(cb_greedy_hessian_diag(m, CB_LOSS_CROSS_ENTROPY, &D, 64, 3000, 1e-3, 1, 2, hh) == CB_OK, "hutchinson");
        double num = 0, den = 0;
        for (size_t i = 0; i < P; ++i) {
            num += (hh[i] - h[i]) * (hh[i] - h[i]);
            den += h[i] * h[i];
        }
        CHECK(sqrt(num / den) < 0.15, "Hutchinson (3000 probes) vs exact diagonal: relative L2 error %.3f",
              sqrt(num / den));
        /* Fisher vs per-sample gradients by central differences of the per-sample loss (double) */
        CHECK(cb_greedy_fisher_diag(m, CB_LOSS_CROSS_ENTROPY, &D, 8, f) == CB_OK, "fisher");
        double *pd = malloc(P * sizeof *pd), wf = 0, sf = 0;
        cb_mlp_params_to_double(m, pd);
        for (size_t i = 0; i < P; ++i) {
            double acc = 0, e = 1e-6, w = pd[i];
            for (size_t s = 0; s < 8; ++s) {
                pd[i] = w + e;
                double Lp = loss1(m, pd, &D, s);
                pd[i] = w - e;
                double Lm = loss1(m, pd, &D, s);
                pd[i] = w;
                double g = (Lp - Lm) / (2 * e);
                acc += g * g / 8;
            }
            wf = fmax(wf, fabs(acc - f[i]));
            sf = fmax(sf, f[i]);
        }
        CHECK(wf < 1e-4 * sf, "Fisher diagonal vs finite-difference per-sample gradients: max diff %.3g (scale %.3g)",
              wf, sf);
        free(pd);
        free(gp);
        free(gm);
        cb_mlp_free(q);
    }

    /* 3a. Greedy order, pruning, on a linear least-squares layer (loss exactly quadratic
     * in each weight, so 1/2 H_ii Var(t) IS the expected loss change). */
    {
        size_t wl[] = {6, 2};
        CbMlp *lin;
        CHECK(cb_mlp_alloc(1, wl, CB_ACT_IDENTITY, 1.0, 0, &lin) == CB_OK, "linear alloc");
        cb_mlp_init(lin, CB_INIT_GAUSSIAN, 1.3, 7, 7);
        CbData R = make_data(40, 6, 2, 0, 9);
        double hl[12], ex[12];
        CHECK(cb_greedy_hessian_diag(lin, CB_LOSS_MSE, &R, 40, 0, 1e-3, 1, 1, hl) == CB_OK, "linear H diag");
        double worst = 0;
        for (size_t i = 0; i < 12; ++i) {
            ex[i] = cb_greedy_exact_change(lin, CB_LOSS_MSE, &R, 40, CB_GREEDY_PRUNE, 0.5, i);
            double sc = 0.5 * hl[i] * cb_greedy_var(CB_GREEDY_PRUNE, lin->params[i], 0.5);
            worst = fmax(worst, fabs(sc - ex[i]) / fabs(ex[i]));
        }
        CHECK(worst < 1e-6, "quadratic case: 1/2 H_ii Var(t) = brute-force E[dL] (max rel diff %.2g)", worst);
        for (int sm = 0; sm < 2; ++sm) {
            CbMlp *c = cb_mlp_clone(lin);
            CbGreedyOptions o;
            cb_greedy_options_default(&o);
            o.fraction = 0.4;
            o.probes = 0;
            o.score = sm == 0 ? CB_GREEDY_HESSIAN : CB_GREEDY_EXACT;
            size_t rep;
            CHECK(cb_greedy_compress(c, &o, CB_LOSS_MSE, &R, 1, 2, &rep) == CB_OK && rep == 5, "greedy 40%% of 12 = %zu", rep);
            double max_in = 0, min_out = INFINITY;
            for (size_t i = 0; i < 12; ++i) {
                if (c->params[i] != lin->params[i]) max_in = fmax(max_in, fabs(ex[i]));
                else min_out = fmin(min_out, fabs(ex[i]));
            }
            CHECK(max_in < min_out, "score %s: chosen weights are the brute-force 5 smallest (%.4g < %.4g)",
                  sm ? "exact" : "hessian", max_in, min_out);
            cb_mlp_free(c);
        }
        cb_data_free(&R);
        cb_mlp_free(lin);
    }

    /* 3b. Greedy order, quantization with a fine grid, on the tanh network with
     * cross-entropy (second-order regime): scores track the brute force and the
     * chosen set is the brute-force set up to near-ties (5%). */
    {
        double alpha = 0.003, ex[64], sc[64], wsc = 0, exmax = 0;
        size_t nw = 5 * 7 + 7 * 3, idx[64], k = 0;
        for (int l = 0; l < 2; ++l)
            for (size_t i = 0; i < wt[l] * wt[l + 1]; ++i) idx[k++] = m->offset_W[l] + i;
        for (size_t t = 0; t < nw; ++t) {
            size_t i = idx[t];
            ex[t] = cb_greedy_exact_change(m, CB_LOSS_CROSS_ENTROPY, &D, 64, CB_GREEDY_QUANTIZE, alpha, i);
            sc[t] = 0.5 * h[i] * cb_greedy_var(CB_GREEDY_QUANTIZE, m->params[i], alpha);
            exmax = fmax(exmax, fabs(ex[t]));
        }
        /* relative error, floored at 1% of the largest change (third-order terms) */
        for (size_t t = 0; t < nw; ++t) wsc = fmax(wsc, fabs(sc[t] - ex[t]) / fmax(fabs(ex[t]), 0.01 * exmax));
        CHECK(wsc < 0.05, "fine quantization: 1/2 H_ii Var(t) vs brute force, max rel diff %.3g", wsc);
        CbMlp *c = cb_mlp_clone(m);
        CbGreedyOptions o;
        cb_greedy_options_default(&o);
        o.mode = CB_GREEDY_QUANTIZE;
        o.alpha = alpha;
        o.fraction = 0.5;
        o.probes = 0;
        o.fd_step = 1e-4;
        o.samples = 64;
        size_t rep;
        CHECK(cb_greedy_compress(c, &o, CB_LOSS_CROSS_ENTROPY, &D, 4, 5, &rep) == CB_OK, "greedy quantize");
        double max_in = 0, min_out = INFINITY;
        size_t n_in = 0;
        for (size_t t = 0; t < nw; ++t) {
            size_t i = idx[t];
            if (replaced_q(m->params[i], c->params[i], alpha)) {
                max_in = fmax(max_in, fabs(ex[t]));
                ++n_in;
            } else
                min_out = fmin(min_out, fabs(ex[t]));
        }
        CHECK(n_in == rep && rep == (size_t)llround(0.5 * (double)nw), "replaced %zu of %zu weights", n_in, nw);
        CHECK(max_in <= 1.05 * min_out, "chosen set = brute-force smallest up to near-ties (%.4g vs %.4g)", max_in,
              min_out);
        CHECK(memcmp(c->b[0], m->b[0], 7 * 4) == 0, "biases untouched");
        cb_mlp_free(c);
    }

    /* 4. Pruning counts and values, rounds, Fisher score, projection. */
    {
        CbMlp *c = cb_mlp_clone(m), *c2 = cb_mlp_clone(m);
        CbGreedyOptions o;
        cb_greedy_options_default(&o);
        o.p = 0.25;
        o.fraction = 0.6;
        o.score = CB_GREEDY_FISHER;
        o.samples = 32;
        o.rounds = 3;
        size_t rep;
        CHECK(cb_greedy_compress(c, &o, CB_LOSS_CROSS_ENTROPY, &D, 1, 9, &rep) == CB_OK, "fisher, 3 rounds");
        size_t changed = 0, ok = 1;
        for (int l = 0; l < 2; ++l)
            for (size_t i = 0; i < wt[l] * wt[l + 1]; ++i) {
                float a = m->W[l][i], b = c->W[l][i];
                if (a != b) {
                    ++changed;
                    ok &= b == 0.0f || b == (float)(a / 0.25);
                }
            }
        CHECK(rep == 34 && changed == rep && ok, "60%% of 56 = %zu replaced, each by 0 or w/p", changed);
        /* projection: prune everything with p = 0.1 (norm inflates), then scale back */
        o.p = 0.1;
        o.fraction = 1.0;
        o.rounds = 1;
        o.projection = 0;
        CbMlp *c3 = cb_mlp_clone(m);
        CHECK(cb_greedy_compress(c3, &o, CB_LOSS_CROSS_ENTROPY, &D, 1, 9, &rep) == CB_OK, "no projection");
        o.projection = 1;
        CHECK(cb_greedy_compress(c2, &o, CB_LOSS_CROSS_ENTROPY, &D, 1, 9, &rep) == CB_OK, "projection");
        int same_pattern = 1, ok_norm = 1;
        for (int l = 0; l < 2; ++l) {
            double na, nb, nc;
            cb_disc_spectral_norm(m->W[l], wt[l + 1], wt[l], &na);
            cb_disc_spectral_norm(c2->W[l], wt[l + 1], wt[l], &nb);
            cb_disc_spectral_norm(c3->W[l], wt[l + 1], wt[l], &nc);
            ok_norm &= nb <= na * (1 + 1e-6);
            printf("# layer %d: ||W|| %.4f, pruned %.4f, projected %.4f\n", l, na, nc, nb);
            for (size_t i = 0; i < wt[l] * wt[l + 1]; ++i) same_pattern &= (c2->W[l][i] == 0) == (c3->W[l][i] == 0);
        }
        CHECK(ok_norm && same_pattern, "projection: ||W^||_2 <= ||W||_2 and the sparsity pattern is kept");
        cb_mlp_free(c);
        cb_mlp_free(c2);
        cb_mlp_free(c3);
    }

    /* 5. Error paths. */
    {
        CbMlp *c = cb_mlp_clone(m);
        CbGreedyOptions o;
        cb_greedy_options_default(&o);
        o.p = 0;
        CHECK(cb_greedy_compress(c, &o, CB_LOSS_CROSS_ENTROPY, &D, 1, 1, NULL) == CB_EINVAL, "p 0: %s", cb_err_msg());
        cb_greedy_options_default(&o);
        o.mode = CB_GREEDY_QUANTIZE;
        CHECK(cb_greedy_compress(c, &o, CB_LOSS_CROSS_ENTROPY, &D, 1, 1, NULL) == CB_EINVAL, "no alpha: %s",
              cb_err_msg());
        cb_greedy_options_default(&o);
        o.fraction = 1.5;
        CHECK(cb_greedy_compress(c, &o, CB_LOSS_CROSS_ENTROPY, &D, 1, 1, NULL) == CB_EINVAL, "fraction 1.5: %s",
              cb_err_msg());
        o.fraction = 0.5;
        o.rounds = 0;
        CHECK(cb_greedy_compress(c, &o, CB_LOSS_CROSS_ENTROPY, &D, 1, 1, NULL) == CB_EINVAL, "rounds 0: %s",
              cb_err_msg());
        CHECK(cb_greedy_fisher_diag(c, CB_LOSS_CROSS_ENTROPY, &D, 65, f) == CB_EINVAL, "65 of 64 samples: %s",
              cb_err_msg());
        CHECK(cb_greedy_fisher_diag(c, CB_LOSS_MSE, &D, 8, f) == CB_EINVAL, "MSE on labelled data: %s", cb_err_msg());
        size_t wbig[] = {500, 500};
        CbMlp *big;
        cb_mlp_alloc(1, wbig, CB_ACT_RELU, 1.0, 0, &big);
        CbData B = make_data(4, 500, 500, 1, 3);
        double *hb = malloc(big->n_params * sizeof *hb);
        CHECK(cb_greedy_hessian_diag(big, CB_LOSS_CROSS_ENTROPY, &B, 4, 0, 1e-3, 1, 1, hb) == CB_EINVAL,
              "exact Hessian of 250000 params refused: %s", cb_err_msg());
        CbGreedyOptions ob;
        cb_greedy_options_default(&ob);
        ob.score = CB_GREEDY_EXACT;
        ob.samples = 4;
        CHECK(cb_greedy_compress(big, &ob, CB_LOSS_CROSS_ENTROPY, &B, 1, 1, NULL) == CB_EINVAL,
              "exact score on 250000 params refused: %s", cb_err_msg());
        free(hb);
        cb_data_free(&B);
        cb_mlp_free(big);
        cb_mlp_free(c);
    }

    cb_mlp_free(m);
    cb_data_free(&D);
    free(h);
    free(hh);
    free(f);
    return check_end("greedy");
}
