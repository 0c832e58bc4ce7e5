/*
 * method — the registry of sweep methods (CbMethod, include/cbound/task.h).
 *
 * To add a method: define `const CbMethod cb_method_<name> = {...};` in your
 * module, declare it in the extern block below and append its address to
 * METHODS. The order of METHODS is only the order of `cbound run --list-methods`.
 *
 * This file also holds `noop`, the runner's own method: it leaves the model
 * unchanged, so a noop task measures everything around a compression (loading
 * the model, evaluating it, recording the row) and nothing else. It exists for
 * the manager-overhead benchmark and the runner's tests; its parameters let a
 * test give tasks a cost (spin_ms: busy-wait that long) or make them fail on
 * purpose the ways real methods fail (fail: error = a method error, nan = a NaN
 * in the compressed weights that the driver must catch, abort = the process
 * dies, as a segfault in a method would).
 */
#include "cbound/method.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ noop */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static CbStatus noop_check(const CbParams *p)
{
    double ms = cb_params_num(p, "spin_ms", 0);
    if (!(ms >= 0 && ms <= 3.6e6))
        return CB_ERR(CB_EINVAL, "spin_ms: expected milliseconds in [0, 3600000], found '%s'",
                      cb_params_text(p, "spin_ms", ""));
    const char *fail = cb_params_text(p, "fail", "none");
    if (strcmp(fail, "none") && strcmp(fail, "error") && strcmp(fail, "nan") && strcmp(fail, "abort"))
        return CB_ERR(CB_EINVAL, "fail: expected none, error, nan or abort, found '%s'", fail);
    return CB_OK;
}

static CbStatus noop_compress(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    double ms = cb_params_num(ctx->params, "spin_ms", 0);
    /* Busy-wait, not sleep: a task with a cost occupies its core like real work. */
    if (ms > 0)
        for (double end = wall_now() + 1e-3 * ms; wall_now() < end;) {
        }
    const char *fail = cb_params_text(ctx->params, "fail", "none");
    if (!strcmp(fail, "error")) return CB_ERR(CB_ENUMERIC, "noop: failing on purpose (fail = error)");
    if (!strcmp(fail, "nan")) out->W[0][0] = NAN;
    if (!strcmp(fail, "abort")) abort();
    for (int l = 0; l < out->depth; ++l) res->layers[l].v[CB_L_param] = 0.0;
    return CB_OK;
}

static const char *const noop_params[] = {"i", "spin_ms", "fail", NULL};
static const char *const noop_defaults[] = {NULL, "0", "none", NULL};

const CbMethod cb_method_noop = {
    .name = "noop",
    .version = 1,
    .summary = "leaves the model unchanged (runner benchmark/tests; i: any label, spin_ms, fail)",
    .param_names = noop_params,
    .param_defaults = noop_defaults,
    .check = noop_check,
    .compress = noop_compress,
    .standalone = NULL,
};

/* ------------------------------------------------------------------ registry */

/* extern const CbMethod cb_method_<name>;   one line per method, defined in its module */
extern const CbMethod cb_method_mbp;       /* src/compress/mbp.c   */
extern const CbMethod cb_method_magnitude; /* src/compress/prune.c */
extern const CbMethod cb_method_random;    /* src/compress/prune.c */
extern const CbMethod cb_method_greedy;    /* src/compress/greedy.c */
extern const CbMethod cb_method_structured; /* src/compress/structured.c */
extern const CbMethod cb_method_imp;       /* src/compress/imp.c */
extern const CbMethod cb_method_twolayer;  /* src/compress/twolayer.c */
extern const CbMethod cb_method_lowrank;   /* src/compress/lowrank.c */
extern const CbMethod cb_method_lowrank_planted; /* src/compress/lowrank.c */
extern const CbMethod cb_method_subspace;  /* src/compress/subspace.c */

static const CbMethod *const METHODS[] = {
    &cb_method_noop,
    &cb_method_mbp,
    &cb_method_magnitude,
    &cb_method_random,
    &cb_method_greedy,
    &cb_method_structured,
    &cb_method_imp,
    &cb_method_twolayer,
    &cb_method_lowrank,
    &cb_method_lowrank_planted,
    &cb_method_subspace,
    /* append: &cb_method_<name>, */
};
static const int N_METHODS = (int)(sizeof METHODS / sizeof METHODS[0]);

const CbMethod *cb_method_at(int i) { return i >= 0 && i < N_METHODS ? METHODS[i] : NULL; }

const CbMethod *cb_method_find(const char *name)
{
    for (int i = 0; i < N_METHODS; ++i)
        if (!strcmp(METHODS[i]->name, name)) return METHODS[i];
    return NULL;
}
