/*
 * imp — iterative magnitude pruning with rewinding (lottery tickets, 004 §6);
 * the procedure and its invariants are in include/cbound/imp.h.
 *
 * Rewinding to step k rebuilds θ_k by training from θ_0 with the original
 * configuration (same streams, so the same minibatches) for just enough epochs to
 * pass step k and taking cb_train's snapshot; the level-0 weights stay the given
 * trained model.
 */
#include "cbound/imp.h"
#include "cbound/discretize.h"
#include "cbound/ctx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cb_imp_options_default(CbImpOptions *o)
{
    o->levels = 3;
    o->fraction = 0.2;
    o->rewind = CB_IMP_REWIND_INIT;
    o->rewind_step = 0;
    o->epochs = 0;
    o->scope = CB_PRUNE_GLOBAL;
    o->dense_last = 0;
}

static double weight_sparsity(const CbMlp *m, const unsigned char *mask)
{
    double n = 0, pruned = 0;
    for (int l = 0; l < m->depth; ++l) {
        size_t off = m->offset_W[l], cnt = m->widths[l] * m->widths[l + 1];
        for (size_t i = off; i < off + cnt; ++i) pruned += !mask[i];
        n += (double)cnt;
    }
    return pruned / n;
}

static CbStatus evaluate(const CbMlp *m, CbLoss loss, const CbData *train, const CbData *test, CbImpLevel *lv)
{
    CB_TRY(cb_train_eval(m, loss, train, &lv->train_loss, &lv->train_acc, NULL));
    lv->test_loss = lv->test_acc = NAN;
    if (test) CB_TRY(cb_train_eval(m, loss, test, &lv->test_loss, &lv->test_acc, NULL));
    return CB_OK;
}

/* θ_k: train a copy of init for enough epochs to reach step k and snapshot it. */
static CbStatus rewind_point(const CbMlp *init, const CbTrainConfig *cfg, const CbData *train, long k, float *theta)
{
    if (k == 0) {
        memcpy(theta, init->params, init->n_params * sizeof *theta);
        return CB_OK;
    }
    size_t B = cfg->batch < train->n ? cfg->batch : train->n;
    long spe = (long)((train->n + B - 1) / B);
    if (k > spe * cfg->epochs) {
        CB_ERR(CB_EINVAL, "imp: rewind_step %ld is beyond the original training (%d epochs x %ld steps = %ld)", k,
               cfg->epochs, spe, spe * cfg->epochs);
        cb_err_hint("rewind_step counts optimizer steps from initialization; choose one within the training run");
        return CB_EINVAL;
    }
    CbTrainConfig c = *cfg;
    c.epochs = (int)((k + spe - 1) / spe);
    c.stop_ce = 0;
    c.quiet = 1;
    c.mask = NULL;
    c.snapshot_step = k;
    c.snapshot = theta;
    CbMlp *w = cb_mlp_clone(init);
    CbTrainResult r;
    CbStatus st = cb_train(w, &c, train, NULL, &r); /* snapshot taken at step k < total steps */
    cb_mlp_free(w);
    return st;
}

CbStatus cb_imp_run(CbMlp *m, const CbMlp *init, const CbImpOptions *o, const CbTrainConfig *cfg,
                    const CbData *train, const CbData *test, unsigned char *mask_out, CbImpLevel *levels_out)
{
    if (o->levels < 1 || !(o->fraction > 0 && o->fraction < 1) || o->epochs < 0 || o->rewind_step < 0) {
        CB_ERR(CB_EINVAL, "imp: levels %d (>= 1), fraction %g (in (0, 1)), epochs %d (>= 0), rewind_step %ld (>= 0)",
               o->levels, o->fraction, o->epochs, o->rewind_step);
        cb_err_hint("the lottery-ticket default is fraction 0.2 of the remaining weights per level");
        return CB_EINVAL;
    }
    if (!init || init->n_params != m->n_params) {
        CB_ERR(CB_EINVAL, "imp: the model has no initial weights of the same shape to rewind to");
        cb_err_hint("IMP needs the model file's W_init (models trained by cbound store it)");
        return CB_EINVAL;
    }
    size_t P = m->n_params;
    unsigned char *mask = cb_malloc(P);
    float *theta = cb_malloc(P * sizeof *theta);
    memset(mask, 1, P);
    CbStatus st = rewind_point(init, cfg, train, o->rewind == CB_IMP_REWIND_STEP ? o->rewind_step : 0, theta);
    CbImpLevel lv;
    if (st == CB_OK) st = evaluate(m, cfg->loss, train, test, &lv);
    lv.sparsity = 0;
    for (int k = 0; k < CB_IMP_MAX_LAYERS; ++k) lv.layer_kept[k] = k < m->depth ? 1.0 : NAN;
    if (st == CB_OK && levels_out) levels_out[0] = lv;
    CbTrainConfig c = *cfg;
    c.mask = mask;
    c.snapshot_step = -1;
    c.snapshot = NULL;
    c.quiet = 1;
    if (o->epochs > 0) c.epochs = o->epochs;
    for (int level = 1; level <= o->levels && st == CB_OK; ++level) {
        st = cb_prune_magnitude_mask(m, mask, o->fraction, o->scope, o->dense_last, mask);
        if (st != CB_OK) break;
        memcpy(m->params, theta, P * sizeof *theta);
        CbTrainResult r;
        st = cb_train(m, &c, train, test, &r);
        if (st != CB_OK) break;
        for (size_t i = 0; i < P; ++i)
            if (!mask[i] && m->params[i] != 0.0f) {
                st = CB_ERR(CB_ENUMERIC, "imp level %d: pruned parameter %zu regrew to %g during retraining", level,
                            i, (double)m->params[i]);
                break;
            }
        if (st != CB_OK) break;
        st = evaluate(m, cfg->loss, train, test, &lv);
        lv.sparsity = weight_sparsity(m, mask);
        for (int k = 0; k < m->depth && k < CB_IMP_MAX_LAYERS; ++k) {
            size_t off = m->offset_W[k], cnt = m->widths[k] * m->widths[k + 1], kept = 0;
            for (size_t i = off; i < off + cnt; ++i) kept += mask[i];
            lv.layer_kept[k] = (double)kept / (double)cnt;
        }
        if (levels_out) levels_out[level] = lv;
    }
    if (mask_out) memcpy(mask_out, mask, P);
    free(mask);
    free(theta);
    return st;
}

/* ------------------------------------------------------------------ sweep method `imp` */

static CbStatus imp_options(const CbParams *p, CbImpOptions *o)
{
    cb_imp_options_default(o);
    double lv = cb_params_num(p, "levels", 3), ep = cb_params_num(p, "epochs", 0),
           rs = cb_params_num(p, "rewind_step", 0), dl = cb_params_num(p, "dense_last", 0);
    o->fraction = cb_params_num(p, "fraction", 0.2);
    if (!(lv >= 1 && lv <= 100 && lv == floor(lv)) || !(ep >= 0 && ep == floor(ep)) ||
        !(rs >= 0 && rs == floor(rs)) || !(o->fraction > 0 && o->fraction < 1) || !(dl == 0 || dl == 1))
        return CB_ERR(CB_EINVAL,
                      "imp: levels '%s' (integer 1..100), fraction '%s' (in (0, 1)), epochs '%s' (integer >= 0), "
                      "rewind_step '%s' (integer >= 0), dense_last '%s' (0 or 1)",
                      cb_params_text(p, "levels", "3"), cb_params_text(p, "fraction", "0.2"),
                      cb_params_text(p, "epochs", "0"), cb_params_text(p, "rewind_step", "0"),
                      cb_params_text(p, "dense_last", "0"));
    o->levels = (int)lv;
    o->epochs = (int)ep;
    o->rewind_step = (long)rs;
    o->dense_last = dl == 1;
    const char *rw = cb_params_text(p, "rewind", "init");
    if (strcmp(rw, "init") == 0) o->rewind = CB_IMP_REWIND_INIT;
    else if (strcmp(rw, "step") == 0) o->rewind = CB_IMP_REWIND_STEP;
    else return CB_ERR(CB_EINVAL, "imp: rewind: expected init or step, found '%s'", rw);
    return cb_prune_scope_parse(cb_params_text(p, "scope", "global"), &o->scope);
}

static CbStatus imp_check(const CbParams *p)
{
    CbImpOptions o;
    CB_TRY(imp_options(p, &o));
    return cb_disc_param_check(p);
}

static CbStatus imp_method(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    CbImpOptions o;
    CB_TRY(imp_options(ctx->params, &o));
    if (!ctx->train_config) return CB_ERR(CB_EINVAL, "imp: the task has no training configuration to retrain with");
    CbImpLevel *lv = cb_malloc((size_t)(o.levels + 1) * sizeof *lv);
    CbStatus st = cb_imp_run(out, ctx->model->init, &o, ctx->train_config, ctx->train, ctx->test, NULL, lv);
    if (st == CB_OK) {
        for (int l = 1; l <= o.levels; ++l) /* what was pruned at each level, per layer */
            for (int k = 0; k < out->depth; ++k)
                if (k < CB_IMP_MAX_LAYERS) cb_result_add_series(res, "imp_layer_kept", l, k, lv[l].layer_kept[k]);
        for (int l = 0; l <= o.levels; ++l) {
            cb_result_add_series(res, "imp_test_acc", l, lv[l].sparsity, lv[l].test_acc);
            cb_result_add_series(res, "imp_train_acc", l, lv[l].sparsity, lv[l].train_acc);
            cb_result_add_series(res, "imp_test_loss", l, lv[l].sparsity, lv[l].test_loss);
        }
        res->task[CB_T_compress_level] = o.levels;
        st = cb_disc_after(ctx, out, res);
    }
    free(lv);
    return st;
}

static const char *const imp_params[] = {"levels", "fraction", "rewind", "rewind_step", "epochs",
                                         "scope",  "dense_last", "discretize", NULL};
static const char *const imp_defaults[] = {"3", "0.2", "init", "0", "0", "global", "0", "off", NULL};

const CbMethod cb_method_imp = {
    .name = "imp",
    .version = 1,
    .summary = "iterative magnitude pruning with rewinding (lottery tickets, 004 Sec. 6): levels, fraction per "
               "level, rewind init|step (rewind_step), epochs per level, scope, dense_last, discretize",
    .param_names = imp_params,
    .param_defaults = imp_defaults,
    .check = imp_check,
    .compress = imp_method,
    .standalone = NULL,
};
