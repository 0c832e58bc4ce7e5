/*
 * task — cb_task_run, the life of one task, top to bottom:
 *     model (the stage's trained model, given) -> compress (the method, on a
 *     clone) -> check -> evaluate -> count -> measure -> bounds -> record
 * The caller (src/run/farm.c, or `cbound task`) supplies the data and the loaded
 * model in the context and turns a failing status into a "failed" row with
 * cb_err_msg() as the reason; nothing here exits or prints.
 * Original-model metrics are measured here on the task's data, so every task of a
 * stage reports the same values, for trained models and model files alike.
 */
#include "cbound/task.h"
#include "cbound/err.h"
#include "cbound/bounds.h"
#include "cbound/code.h"
#include "cbound/measure.h"
#include "cbound/method.h"
#include "cbound/sketch.h"
#include "cbound/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

CbStatus cb_task_run(const CbTaskCtx *ctx, CbResult *res)
{
    const CbMethod *m = cb_method_find(ctx->method);
    if (!m) return CB_ERR(CB_EINVAL, "task %s: unknown method '%s'", ctx->key_hex, ctx->method);

    /* Standalone methods (no trained model): the method fills the row itself. */
    if (m->standalone) {
        cb_result_init(res, 0);
        double t0 = mono_now();
        CbStatus st = m->standalone(ctx, res);
        res->task[CB_T_compress_s] = mono_now() - t0;
        return st;
    }
    if (!ctx->model || !ctx->train || !ctx->test || !ctx->train_config)
        return CB_ERR(CB_EINVAL, "task %s: method %s needs a trained model and data", ctx->key_hex, m->name);

    /* 1. The original model and its metrics, measured here on the task's data (a model
     *    file brought by a researcher carries no metrics for this data). */
    const CbMlp *orig = ctx->model->mlp;
    cb_result_init(res, orig->depth);
    CbLoss loss = ctx->train_config->loss;
    CbStatus st = cb_train_eval(orig, loss, ctx->train, &res->task[CB_T_orig_train_loss],
                                &res->task[CB_T_orig_train_acc], NULL);
    if (st == CB_OK)
        st = cb_train_eval(orig, loss, ctx->test, &res->task[CB_T_orig_test_loss], &res->task[CB_T_orig_test_acc], NULL);
    if (st != CB_OK) return st;

    /* 2. Compress a clone in place. */
    CbMlp *comp = cb_mlp_clone(orig);
    double t0 = mono_now();
    st = m->compress(ctx, comp, res);
    res->task[CB_T_compress_s] = mono_now() - t0;
    if (st == CB_OK) st = cb_mlp_check_finite(comp, "the compressed model");

    /* 3. Evaluate the compressed model on the same data. */
    double t1 = mono_now();
    if (st == CB_OK)
        st = cb_train_eval(comp, loss, ctx->train, &res->task[CB_T_train_loss], &res->task[CB_T_train_acc], NULL);
    if (st == CB_OK)
        st = cb_train_eval(comp, loss, ctx->test, &res->task[CB_T_test_loss], &res->task[CB_T_test_acc], NULL);
    if (st == CB_OK && !(isfinite(res->task[CB_T_train_loss]) && isfinite(res->task[CB_T_test_loss])))
        st = CB_ERR(CB_ENUMERIC, "task %s: the compressed model's loss is not finite (train %g, test %g)",
                    ctx->key_hex, res->task[CB_T_train_loss], res->task[CB_T_test_loss]);
    if (st == CB_OK && loss == CB_LOSS_CROSS_ENTROPY)
        res->task[CB_T_gen_error] = (1 - res->task[CB_T_test_acc]) - (1 - res->task[CB_T_train_acc]);

    /* 4. Count what the compression kept. */
    if (st == CB_OK) cb_measure_layers(orig, comp, res); /* nnz, j_r/j_c, ||W||_F, ||Delta||_F */

    /* 5. Measure (norms, Latala brackets, j_r/j_c, margins, sketches,
     *    according to ctx->measure) and 6. bounds — the measurement modules'
     *    calls go here, filling res->layers, res->task and res->bounds. */
    /*    One double forward pass of each model over the training inputs, shared by
     *    the output errors and the margins (the original's logits may come cached
     *    from the worker: they are the same for every task of the stage). */
    CbTaskCtx mctx = *ctx;
    double *z_orig = NULL, *z_comp = NULL;
    if (st == CB_OK) {
        if (!mctx.logits_orig) mctx.logits_orig = z_orig = cb_mlp_logits_d(orig, ctx->train->x, ctx->train->n);
        mctx.logits_comp = z_comp = cb_mlp_logits_d(comp, ctx->train->x, ctx->train->n);
        cb_measure_output_error_logits(mctx.logits_orig, z_comp, ctx->train->n, orig->widths[orig->depth], res);
    }
    if (st == CB_OK && ctx->measure && ctx->measure->sketch) /* sketch_* columns, before bounds */
        for (int l = 0; st == CB_OK && l < comp->depth; ++l)
            st = cb_sketch_measure_layer(ctx->seed, ctx->key, l, comp->W[l], comp->widths[l + 1],
                                         comp->widths[l], &res->layers[l], NULL);
    if (st == CB_OK && (!ctx->measure || ctx->measure->norms || ctx->measure->margins))
        st = cb_bounds_run(&mctx, orig, comp, res); /* norms, Latala, j_r/j_c, margins, bounds */
    /* 7. The code length of the decoded model and its Occam bound (Langford 2005 Thm 4.1;
     *    Lotfi et al. 2022): the method's own code (subspace), or with measure.code = N
     *    the weights code at N levels; fills code_bits*, train_err_count, occam_bound*. */
    if (st == CB_OK) st = cb_code_task_bound(ctx, comp, res);

    res->task[CB_T_measure_s] = mono_now() - t1;
    if (st == CB_OK && ctx->comp_out) {
        *ctx->comp_out = comp;
        comp = NULL;
    }
    free(z_orig);
    free(z_comp);
    cb_mlp_free(comp);
    return st;
}
