/*
 * The compression methods as sweep methods, end to end through the task driver
 * (cb_task_run): every method runs on a small trained model and fills its columns;
 * every parameter check rejects bad values with a message; parameters required at
 * task time (sparsity, alpha) fail the task when missing.
 */
#include "cbound/result.h"
#include "cbound/method.h"
#include "cbound/rng.h"
#include "cbound/task.h"
#include "cbound/train.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static CbData make_data(size_t n, uint32_t idx)
{
    CbData D;
    memset(&D, 0, sizeof D);
    D.n = n;
    D.d = 10;
    D.n_classes = 3;
    D.x = malloc(n * 10 * sizeof *D.x);
    D.y = malloc(n * sizeof *D.y);
    CbStream s = cb_rng_stream(61, 62, CB_RNG_TEST, idx);
    for (size_t i = 0; i < n; ++i) {
        double z = 0;
        for (int j = 0; j < 10; ++j) {
            D.x[i * 10 + j] = (float)cb_rng_normal(&s);
            z += (j % 3 - 1) * D.x[i * 10 + j];
        }
        D.y[i] = z < -0.5 ? 0 : z < 0.5 ? 1 : 2;
    }
    strcpy(D.name, "synthetic");
    return D;
}

static CbParams params(const char *spec) /* "a=1;b=x" */
{
    CbParams p;
    memset(&p, 0, sizeof p);
    char buf[256];
    strcpy(buf, spec);
    for (char *tok = strtok(buf, ";"); tok; tok = strtok(NULL, ";")) {
        char *eq = strchr(tok, '=');
        *eq = 0;
        cb_params_set(&p, tok, eq + 1);
    }
    return p;
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    CbData tr = make_data(400, 0), te = make_data(200, 1);
    size_t widths[] = {10, 40, 30, 3};
    CbModel model;
    memset(&model, 0, sizeof model);
    cb_mlp_alloc(3, widths, CB_ACT_RELU, 1.0, 1, &model.init);
    cb_mlp_init(model.init, CB_INIT_KAIMING_UNIFORM, 1.0, 1, 2);
    model.mlp = cb_mlp_clone(model.init);
    CbTrainConfig cfg;
    cb_train_config_default(&cfg);
    cfg.lr = 0.1;
    cfg.batch = 40;
    cfg.epochs = 8;
    cfg.quiet = 1;
    CHECK(cb_train(model.mlp, &cfg, &tr, &te, &model.metrics) == CB_OK, "train (test acc %.3f)", model.metrics.test_acc);
    CbMeasureOpts mo;
    memset(&mo, 0, sizeof mo); /* no norms/margins/bounds: this test is about the methods */
    size_t nw = 10 * 40 + 40 * 30 + 30 * 3;

    struct {
        const char *method, *params;
    } ok_cases[] = {
        {"mbp", "d=2.385"},
        {"mbp", "d=2.385;variant=code;psi=pooled"},
        {"mbp", "sparsity=0.7"},
        {"mbp", "sparsity=0.5;target=gaussian;discretize=0.01"},
        {"mbp", "d=0.05;discretize=auto"},
        {"magnitude", "sparsity=0.6;scope=global"},
        {"random", "sparsity=0.3;dense_last=1"},
        {"greedy", "mode=quantize;alpha=0.05;samples=64"},
        {"greedy", "fraction=0.4;score=fisher;samples=32;projection=on"},
        {"structured", "fraction=0.5;score=norm"},
        {"imp", "levels=2;epochs=2"},
    };
    for (size_t c = 0; c < sizeof ok_cases / sizeof *ok_cases; ++c) {
        CbParams p = params(ok_cases[c].params);
        const CbMethod *m = cb_method_find(ok_cases[c].method);
        CHECK(m && m->check(&p) == CB_OK, "%s %s: check passes", ok_cases[c].method, ok_cases[c].params);
        CbTaskCtx ctx = {.seed = 5, .key = 1000 + c, .key_hex = "test", .method = ok_cases[c].method, .params = &p,
                         .train = &tr, .test = &te, .model = &model, .train_config = &cfg, .measure = &mo, .quiet = 1};
        CbResult r;
        CbStatus st = cb_task_run(&ctx, &r);
        double *t = r.task;
        CHECK(st == CB_OK && isfinite(t[CB_T_test_acc]) && isfinite(t[CB_T_out_err_mean]) && isfinite(t[CB_T_sparsity]),
              "%s %s: ok, sparsity %.4f, test acc %.3f, out err %.3g (%s)", ok_cases[c].method, ok_cases[c].params,
              t[CB_T_sparsity], t[CB_T_test_acc], t[CB_T_out_err_mean], st ? cb_err_msg() : "");
        if (st != CB_OK) {
            cb_result_free(&r);
            continue;
        }
        if (c == 0) CHECK(t[CB_T_mbp_d] == 2.385 && r.layers[1].v[CB_L_param] > 0 &&
                              fabs(t[CB_T_kept_fraction] - t[CB_T_mbp_expected_kept]) < 4 * sqrt(0.25 / (double)nw),
                          "mbp: d, psi recorded; kept %.4f vs expected %.4f", t[CB_T_kept_fraction],
                          t[CB_T_mbp_expected_kept]);
        if (c == 2) CHECK(fabs(t[CB_T_sparsity] - 0.7) < 4 * sqrt(0.21 / (double)nw), "mbp sparsity target met: %.4f",
                          t[CB_T_sparsity]);
        if (c == 3) CHECK(r.layers[0].v[CB_L_rho] == 0.01 && r.layers[2].v[CB_L_rho] == 0.01, "discretize 0.01 recorded");
        if (c == 4) CHECK(r.layers[0].v[CB_L_rho] > 0 && isnan(r.layers[0].v[CB_L_param]) == 0, "discretize auto rho %.3g",
                          r.layers[0].v[CB_L_rho]);
        if (c == 5) CHECK(t[CB_T_nnz] == (double)(nw - (size_t)llround(0.6 * (double)nw)), "magnitude global exact count");
        if (c == 6) CHECK(r.layers[2].v[CB_L_kept_fraction] == 1.0 && r.layers[0].v[CB_L_nnz] == 400 - 120,
                          "random: dense last layer, exact count in layer 0");
        if (c == 7) CHECK(t[CB_T_compress_level] == (double)llround(0.5 * (double)nw), "greedy replaced %.0f",
                          t[CB_T_compress_level]);
        if (c == 10) {
            int rows = 0;
            for (int i = 0; i < r.n_series; ++i) rows += strcmp(r.series[i].name, "imp_test_acc") == 0;
            CHECK(rows == 3 && t[CB_T_compress_level] == 2 && fabs(t[CB_T_sparsity] - 0.36) < 0.002,
                  "imp: 3 level rows, sparsity %.4f", t[CB_T_sparsity]);
            int lk = 0, lk_ok = 1;
            for (int i = 0; i < r.n_series; ++i)
                if (strcmp(r.series[i].name, "imp_layer_kept") == 0) {
                    ++lk;
                    int layer = (int)r.series[i].x;
                    if (r.series[i].i == 2) lk_ok &= fabs(r.series[i].y - r.layers[layer].v[CB_L_kept_fraction]) < 1e-12;
                }
            CHECK(lk == 6 && lk_ok, "imp: per-level per-layer kept fractions recorded (last level = layer columns)");
        }
        if (c == 5) {
            int ok = 1;
            for (int l = 0; l < 3; ++l) ok &= r.layers[l].v[CB_L_param] > 0;
            CHECK(ok, "magnitude: per-layer threshold recorded (%.4g, %.4g, %.4g)", r.layers[0].v[CB_L_param],
                  r.layers[1].v[CB_L_param], r.layers[2].v[CB_L_param]);
        }
        cb_result_free(&r);
    }

    /* parameter checks reject bad values */
    struct {
        const char *method, *params;
    } bad[] = {
        {"mbp", "variant=diag"},       {"mbp", "psi=global"},        {"mbp", "target=exact"},
        {"mbp", "d=-1"},               {"mbp", "sparsity=1.2"},      {"mbp", "d=2;sparsity=0.5"},
        {"mbp", "discretize=-0.1"},    {"mbp", "discretize=maybe"},  {"magnitude", "sparsity=1.5"},
        {"magnitude", "dense_last=2"}, {"magnitude", "scope=row"},   {"random", "sparsity=-0.2"},
        {"greedy", "mode=drop"},       {"greedy", "score=taylor"},   {"greedy", "projection=yes"},
        {"greedy", "samples=1.5"},     {"greedy", "p=0"},            {"structured", "score=l1"},
        {"structured", "fraction=2"},  {"imp", "rewind=late"},       {"imp", "levels=0"},
        {"imp", "scope=row"},
    };
    for (size_t c = 0; c < sizeof bad / sizeof *bad; ++c) {
        CbParams p = params(bad[c].params);
        CHECK(cb_method_find(bad[c].method)->check(&p) == CB_EINVAL, "%s %s rejected: %s", bad[c].method,
              bad[c].params, cb_err_msg());
    }

    /* required at task time; impossible discretization fails the task softly */
    struct {
        const char *method, *params;
        CbStatus want;
    } fail[] = {{"magnitude", "scope=global", CB_EINVAL},
                {"random", "dense_last=1", CB_EINVAL},
                {"greedy", "mode=quantize", CB_EINVAL},
                {"mbp", "sparsity=0.95;discretize=auto", CB_ENUMERIC}};
    for (size_t c = 0; c < 4; ++c) {
        CbParams p = params(fail[c].params);
        CbTaskCtx ctx = {.seed = 5, .key = 7, .key_hex = "test", .method = fail[c].method, .params = &p, .train = &tr,
                         .test = &te, .model = &model, .train_config = &cfg, .measure = &mo, .quiet = 1};
        CbResult r;
        CHECK(cb_task_run(&ctx, &r) == fail[c].want, "%s %s fails the task: %s", fail[c].method, fail[c].params,
              cb_err_msg());
        cb_result_free(&r);
    }
    CbModel noinit = model;
    noinit.init = NULL;
    CbParams p = params("levels=1");
    CbTaskCtx ctx = {.seed = 5, .key = 7, .key_hex = "test", .method = "imp", .params = &p, .train = &tr,
                     .test = &te, .model = &noinit, .train_config = &cfg, .measure = &mo, .quiet = 1};
    CbResult r;
    CHECK(cb_task_run(&ctx, &r) == CB_EINVAL, "imp without initial weights: %s", cb_err_msg());
    cb_result_free(&r);

    cb_mlp_free(model.mlp);
    cb_mlp_free(model.init);
    free(tr.x);
    free(tr.y);
    free(te.x);
    free(te.y);
    return check_end("compress_methods");
}
