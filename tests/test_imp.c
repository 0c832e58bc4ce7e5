/*
 * Tests for imp (iterative magnitude pruning with rewinding): after every level's
 * training no pruned weight is nonzero; per-level sparsity follows 1 - (1-f)^level
 * (exactly, with the per-level rounding); rewinding to step 0 equals rewinding to
 * init; rewinding to step k uses the weights after k steps (k = one epoch, checked
 * against an independent one-epoch training); dense_last; error paths.
 */
#include "cbound/imp.h"
#include "cbound/rng.h"
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
    CbStream s = cb_rng_stream(51, 52, CB_RNG_TEST, idx), t = cb_rng_stream(51, 52, CB_RNG_TEST, 99);
    double T[30];
    for (int i = 0; i < 30; ++i) T[i] = cb_rng_normal(&t); /* linear teacher, same for both splits */
    for (size_t i = 0; i < n; ++i) {
        double z[3] = {0, 0, 0};
        for (int j = 0; j < 10; ++j) {
            D.x[i * 10 + j] = (float)cb_rng_normal(&s);
            for (int c = 0; c < 3; ++c) z[c] += T[c * 10 + j] * D.x[i * 10 + j];
        }
        D.y[i] = z[0] > z[1] ? (z[0] > z[2] ? 0 : 2) : (z[1] > z[2] ? 1 : 2);
    }
    strcpy(D.name, "teacher");
    return D;
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    CbData tr = make_data(600, 0), te = make_data(200, 1);
    size_t widths[] = {10, 32, 24, 3};
    CbMlp *init, *trained;
    CHECK(cb_mlp_alloc(3, widths, CB_ACT_RELU, 1.0, 1, &init) == CB_OK, "alloc");
    cb_mlp_init(init, CB_INIT_KAIMING_UNIFORM, 1.0, 7, 8);
    CbTrainConfig cfg;
    cb_train_config_default(&cfg);
    cfg.lr = 0.1;
    cfg.batch = 60; /* 10 steps per epoch */
    cfg.epochs = 15;
    cfg.quiet = 1;
    cfg.seed = 7;
    cfg.key = 9;
    trained = cb_mlp_clone(init);
    CbTrainResult r;
    CHECK(cb_train(trained, &cfg, &tr, &te, &r) == CB_OK, "original training (test acc %.3f)", r.test_acc);
    size_t P = init->n_params, nw = 10 * 32 + 32 * 24 + 24 * 3;

    /* 1. levels, sparsity schedule, no regrowth, accuracy recorded */
    {
        CbImpOptions o;
        cb_imp_options_default(&o);
        o.levels = 4; /* epochs 0: retrain as long as the original run */
        CbImpLevel lv[5];
        unsigned char *mask = malloc(P);
        CbMlp *m = cb_mlp_clone(trained);
        CHECK(cb_imp_run(m, init, &o, &cfg, &tr, &te, mask, lv) == CB_OK, "imp 4 levels (%s)", cb_err_msg());
        size_t alive = nw;
        int sched = 1;
        for (int l = 1; l <= 4; ++l) {
            alive -= (size_t)llround(0.2 * (double)alive);
            sched &= fabs(lv[l].sparsity - (1.0 - (double)alive / (double)nw)) < 1e-12 &&
                     fabs(lv[l].sparsity - (1 - pow(0.8, l))) < (double)l / (double)nw;
            printf("# level %d: sparsity %.4f (1 - 0.8^l = %.4f), train acc %.3f, test acc %.3f\n", l, lv[l].sparsity,
                   1 - pow(0.8, l), lv[l].train_acc, lv[l].test_acc);
        }
        CHECK(sched, "per-level sparsity = 1 - (1 - 0.2)^level (with rounding)");
        size_t regrown = 0, moved = 0, biases_masked = 0;
        for (size_t i = 0; i < P; ++i) {
            regrown += !mask[i] && m->params[i] != 0.0f;
            moved += mask[i] && m->params[i] != init->params[i];
        }
        for (int l = 0; l < 3; ++l)
            for (size_t k = 0; k < widths[l + 1]; ++k) biases_masked += !mask[trained->offset_b[l] + k];
        CHECK(regrown == 0 && moved > 0, "after retraining no pruned weight is nonzero (%zu) and %zu weights trained",
              regrown, moved);
        CHECK(biases_masked == 0, "biases never pruned");
        double L, A;
        cb_train_eval(trained, CB_LOSS_CROSS_ENTROPY, &te, &L, &A, NULL);
        CHECK(lv[0].sparsity == 0 && lv[0].test_acc == A && lv[4].test_acc > 0.6, "level 0 = trained model (%.3f); "
              "level 4 acc %.3f", A, lv[4].test_acc);
        free(mask);
        cb_mlp_free(m);
    }

    /* 2. rewind step 0 = rewind init; rewind step 10 (= one epoch) = training one epoch from init */
    {
        CbImpOptions o;
        cb_imp_options_default(&o);
        o.levels = 1;
        o.epochs = 1;
        CbMlp *a = cb_mlp_clone(trained), *b = cb_mlp_clone(trained);
        cb_imp_run(a, init, &o, &cfg, &tr, NULL, NULL, NULL);
        o.rewind = CB_IMP_REWIND_STEP;
        o.rewind_step = 0;
        cb_imp_run(b, init, &o, &cfg, &tr, NULL, NULL, NULL);
        CHECK(memcmp(a->params, b->params, P * 4) == 0, "rewind step 0 = rewind init");
        /* independent θ_10: one epoch of the original configuration from init */
        CbMlp *t10 = cb_mlp_clone(init);
        CbTrainConfig c1 = cfg;
        c1.epochs = 1;
        cb_train(t10, &c1, &tr, NULL, &r);
        /* IMP from θ_10 with rewind init pretending θ_10 is the init = IMP with rewind step 10 */
        CbMlp *c = cb_mlp_clone(trained), *d = cb_mlp_clone(trained);
        o.rewind_step = 10;
        CHECK(cb_imp_run(c, init, &o, &cfg, &tr, NULL, NULL, NULL) == CB_OK, "rewind step 10");
        o.rewind = CB_IMP_REWIND_INIT;
        cb_imp_run(d, t10, &o, &cfg, &tr, NULL, NULL, NULL);
        CHECK(memcmp(c->params, d->params, P * 4) == 0 && memcmp(c->params, a->params, P * 4) != 0,
              "rewind step 10 uses the weights after 10 steps (one epoch)");
        o.rewind = CB_IMP_REWIND_STEP;
        o.rewind_step = 151;
        CHECK(cb_imp_run(c, init, &o, &cfg, &tr, NULL, NULL, NULL) == CB_EINVAL, "rewind beyond training: %s",
              cb_err_msg());
        cb_mlp_free(a);
        cb_mlp_free(b);
        cb_mlp_free(c);
        cb_mlp_free(d);
        cb_mlp_free(t10);
    }

    /* 3. layer scope with dense_last: the last layer keeps every weight; other layers exact per level */
    {
        CbImpOptions o;
        cb_imp_options_default(&o);
        o.levels = 2;
        o.epochs = 1;
        o.scope = CB_PRUNE_LAYER;
        o.dense_last = 1;
        unsigned char *mask = malloc(P);
        CbMlp *m = cb_mlp_clone(trained);
        CHECK(cb_imp_run(m, init, &o, &cfg, &tr, NULL, mask, NULL) == CB_OK, "imp layer scope");
        size_t last = 0, first = 0;
        for (size_t i = 0; i < 24 * 3; ++i) last += mask[trained->offset_W[2] + i];
        for (size_t i = 0; i < 320; ++i) first += mask[trained->offset_W[0] + i];
        size_t a1 = 320 - (size_t)llround(0.2 * 320), a2 = a1 - (size_t)llround(0.2 * (double)a1);
        CHECK(last == 72 && first == a2, "dense last layer (%zu of 72 kept), first layer %zu = %zu", last, first, a2);
        free(mask);
        cb_mlp_free(m);
    }

    /* 4. error paths */
    {
        CbImpOptions o;
        cb_imp_options_default(&o);
        CbMlp *m = cb_mlp_clone(trained);
        o.levels = 0;
        CHECK(cb_imp_run(m, init, &o, &cfg, &tr, NULL, NULL, NULL) == CB_EINVAL, "levels 0: %s", cb_err_msg());
        cb_imp_options_default(&o);
        o.fraction = 1.0;
        CHECK(cb_imp_run(m, init, &o, &cfg, &tr, NULL, NULL, NULL) == CB_EINVAL, "fraction 1: %s", cb_err_msg());
        cb_imp_options_default(&o);
        CHECK(cb_imp_run(m, NULL, &o, &cfg, &tr, NULL, NULL, NULL) == CB_EINVAL, "no init: %s", cb_err_msg());
        cb_mlp_free(m);
    }
    cb_mlp_free(init);
    cb_mlp_free(trained);
    free(tr.x);
    free(tr.y);
    free(te.x);
    free(te.y);
    return check_end("imp");
}
