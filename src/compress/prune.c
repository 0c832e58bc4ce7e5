/*
 * prune — deterministic magnitude pruning (layerwise / global threshold, Han et
 * al. 2015; the per-level step of IMP, Frankle & Carbin 2018 as used in 004 §6)
 * and uniformly random pruning (the sparsity-matched baseline).
 *
 * A "group" is a set of parameter ranges ranked together: one eligible layer
 * (layer scope) or all eligible layers (global scope). Within a group the
 * threshold is the k-th smallest alive |w| (quickselect, O(n)); entries below it
 * are pruned, and entries equal to it are pruned in index order until exactly k
 * are gone. Layout and mask conventions: include/cbound/prune.h.
 */
#include "cbound/prune.h"
#include "cbound/discretize.h"
#include "cbound/rng.h"
#include "cbound/ctx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

CbStatus cb_prune_scope_parse(const char *s, CbPruneScope *out)
{
    if (strcmp(s, "layer") == 0) *out = CB_PRUNE_LAYER;
    else if (strcmp(s, "global") == 0) *out = CB_PRUNE_GLOBAL;
    else {
        CB_ERR(CB_EINVAL, "prune scope '%s' (expected layer or global)", s);
        cb_err_hint("scope: layer ranks each layer's weights separately; global ranks all together");
        return CB_EINVAL;
    }
    return CB_OK;
}

float cb_prune_select(float *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        /* median of three as pivot, then Hoare partition */
        size_t mid = lo + (hi - lo) / 2;
        float a = v[lo], b = v[mid], c = v[hi];
        float pivot = (a < b) ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) ++i;
            while (v[j] > pivot) --j;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                ++i;
                if (j == 0) break;
                --j;
            }
        }
        /* now v[lo..j] <= pivot <= v[i..hi], and entries between j and i equal pivot */
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return pivot;
    }
    return v[k];
}

typedef struct {
    size_t off, n;
} Range;

static CbStatus check_fraction(double f)
{
    if (!(f >= 0.0 && f <= 1.0)) {
        CB_ERR(CB_EINVAL, "pruning fraction %g outside [0, 1]", f);
        cb_err_hint("sparsity and fraction are fractions of the weights, e.g. 0.9");
        return CB_EINVAL;
    }
    return CB_OK;
}

static CbStatus check_sparsity(double s)
{
    if (!(s >= 0.0 && s < 1.0)) {
        CB_ERR(CB_EINVAL, "target sparsity %g outside [0, 1)", s);
        cb_err_hint("sparsity is the fraction of weights removed, e.g. 0.9; 1 would remove them all");
        return CB_EINVAL;
    }
    return CB_OK;
}

/* Prune round(fraction * alive) of the group's alive entries by |w| into mask. */
static void magnitude_group(const float *p, const Range *r, int nr, double fraction, unsigned char *mask,
                            float *buf)
{
    size_t na = 0;
    for (int g = 0; g < nr; ++g)
        for (size_t i = r[g].off; i < r[g].off + r[g].n; ++i)
            if (mask[i]) buf[na++] = fabsf(p[i]);
    size_t k = (size_t)llround(fraction * (double)na);
    if (k == 0) return;
    float thr = cb_prune_select(buf, na, k - 1);
    size_t below = 0;
    for (int g = 0; g < nr; ++g)
        for (size_t i = r[g].off; i < r[g].off + r[g].n; ++i) below += mask[i] && fabsf(p[i]) < thr;
    size_t ties = k - below;
    for (int g = 0; g < nr; ++g)
        for (size_t i = r[g].off; i < r[g].off + r[g].n; ++i) {
            if (!mask[i]) continue;
            float a = fabsf(p[i]);
            if (a < thr) mask[i] = 0;
            else if (a == thr && ties > 0) {
                mask[i] = 0;
                --ties;
            }
        }
}

static void init_mask(const CbMlp *m, const unsigned char *alive, unsigned char *mask)
{
    if (alive && alive != mask) memcpy(mask, alive, m->n_params);
    else if (!alive) memset(mask, 1, m->n_params);
    if (m->bias)
        for (int l = 0; l < m->depth; ++l) memset(mask + m->offset_b[l], 1, m->widths[l + 1]);
}

CbStatus cb_prune_magnitude_mask(const CbMlp *m, const unsigned char *alive, double fraction,
                                 CbPruneScope scope, int dense_last, unsigned char *mask)
{
    CB_TRY(check_fraction(fraction));
    int ne = dense_last && m->depth > 1 ? m->depth - 1 : m->depth;
    init_mask(m, alive, mask);
    Range *r = cb_malloc((size_t)ne * sizeof *r);
    size_t total = 0, maxn = 0;
    for (int l = 0; l < ne; ++l) {
        r[l].off = m->offset_W[l];
        r[l].n = m->widths[l] * m->widths[l + 1];
        total += r[l].n;
        if (r[l].n > maxn) maxn = r[l].n;
    }
    float *buf = cb_malloc((scope == CB_PRUNE_GLOBAL ? total : maxn) * sizeof *buf);
    if (scope == CB_PRUNE_GLOBAL) magnitude_group(m->params, r, ne, fraction, mask, buf);
    else
        for (int l = 0; l < ne; ++l) magnitude_group(m->params, r + l, 1, fraction, mask, buf);
    free(buf);
    free(r);
    return CB_OK;
}

CbStatus cb_prune_random_mask(const CbMlp *m, const unsigned char *alive, double fraction,
                              int dense_last, uint64_t seed, uint64_t key, unsigned char *mask)
{
    CB_TRY(check_fraction(fraction));
    int ne = dense_last && m->depth > 1 ? m->depth - 1 : m->depth;
    init_mask(m, alive, mask);
    size_t maxn = 0;
    for (int l = 0; l < ne; ++l)
        if (m->widths[l] * m->widths[l + 1] > maxn) maxn = m->widths[l] * m->widths[l + 1];
    size_t *idx = cb_malloc(maxn * sizeof *idx);
    for (int l = 0; l < ne; ++l) {
        size_t off = m->offset_W[l], n = m->widths[l] * m->widths[l + 1], na = 0;
        for (size_t i = 0; i < n; ++i)
            if (mask[off + i]) idx[na++] = off + i;
        size_t k = (size_t)llround(fraction * (double)na);
        CbStream s = cb_rng_stream(seed, key, CB_RNG_COMPRESS, (uint32_t)l);
        for (size_t t = 0; t < k; ++t) { /* partial Fisher–Yates: idx[0..k) is a uniform k-subset */
            size_t j = t + (size_t)cb_rng_below(&s, na - t);
            size_t tmp = idx[t];
            idx[t] = idx[j];
            idx[j] = tmp;
            mask[idx[t]] = 0;
        }
    }
    free(idx);
    return CB_OK;
}

void cb_prune_apply_mask(CbMlp *m, const unsigned char *mask)
{
    for (size_t i = 0; i < m->n_params; ++i)
        if (!mask[i]) m->params[i] = 0.0f;
}

CbStatus cb_prune_magnitude(CbMlp *m, double sparsity, CbPruneScope scope, int dense_last)
{
    CB_TRY(check_sparsity(sparsity));
    unsigned char *mask = cb_malloc(m->n_params);
    CbStatus st = cb_prune_magnitude_mask(m, NULL, sparsity, scope, dense_last, mask);
    if (st == CB_OK) cb_prune_apply_mask(m, mask);
    free(mask);
    return st;
}

CbStatus cb_prune_random(CbMlp *m, double sparsity, int dense_last, uint64_t seed, uint64_t key)
{
    CB_TRY(check_sparsity(sparsity));
    unsigned char *mask = cb_malloc(m->n_params);
    CbStatus st = cb_prune_random_mask(m, NULL, sparsity, dense_last, seed, key, mask);
    if (st == CB_OK) cb_prune_apply_mask(m, mask);
    free(mask);
    return st;
}

/* ------------------------------------------------------------------ sweep methods */

/* require_sparsity = 0 for the sweep loader's check, which may pass one parameter at a time */
static CbStatus common_params(const CbParams *p, const char *method, double *sparsity, int *dense_last,
                              int require_sparsity)
{
    *sparsity = cb_params_num(p, "sparsity", NAN);
    if ((require_sparsity || cb_params_has(p, "sparsity")) && !(*sparsity >= 0 && *sparsity < 1)) {
        CB_ERR(CB_EINVAL, "%s: sparsity: expected a number in [0, 1), found '%s'", method,
               cb_params_text(p, "sparsity", "(missing)"));
        cb_err_hint("give the target sparsity, e.g. sparsity: [0.5, 0.9]");
        return CB_EINVAL;
    }
    double dl = cb_params_num(p, "dense_last", 0);
    if (dl != 0 && dl != 1)
        return CB_ERR(CB_EINVAL, "%s: dense_last: expected 0 or 1, found '%s'", method,
                      cb_params_text(p, "dense_last", ""));
    *dense_last = dl == 1;
    return cb_disc_param_check(p);
}

static CbStatus magnitude_check(const CbParams *p)
{
    double s;
    int dl;
    CbPruneScope sc;
    CB_TRY(common_params(p, "magnitude", &s, &dl, 0));
    return cb_prune_scope_parse(cb_params_text(p, "scope", "layer"), &sc);
}

static CbStatus magnitude_compress(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    double s;
    int dl;
    CbPruneScope sc;
    CB_TRY(common_params(ctx->params, "magnitude", &s, &dl, 1));
    CB_TRY(cb_prune_scope_parse(cb_params_text(ctx->params, "scope", "layer"), &sc));
    CB_TRY(cb_prune_magnitude(out, s, sc, dl));
    /* per-layer `param`: the threshold, i.e. the largest |w| pruned in that layer (0 if none) */
    const CbMlp *a = ctx->model->mlp;
    for (int l = 0; l < out->depth; ++l) {
        float thr = 0.0f;
        for (size_t i = 0; i < a->widths[l] * a->widths[l + 1]; ++i)
            if (out->W[l][i] == 0.0f && fabsf(a->W[l][i]) > thr) thr = fabsf(a->W[l][i]);
        res->layers[l].v[CB_L_param] = thr;
    }
    return cb_disc_after(ctx, out, res);
}

static CbStatus random_check(const CbParams *p)
{
    double s;
    int dl;
    return common_params(p, "random", &s, &dl, 0);
}

static CbStatus random_compress(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    double s;
    int dl;
    CB_TRY(common_params(ctx->params, "random", &s, &dl, 1));
    CB_TRY(cb_prune_random(out, s, dl, ctx->seed, ctx->key));
    return cb_disc_after(ctx, out, res);
}

static const char *const magnitude_params[] = {"sparsity", "scope", "dense_last", "discretize", NULL};
static const char *const magnitude_defaults[] = {NULL, "layer", "0", "off", NULL};
static const char *const random_params[] = {"sparsity", "dense_last", "discretize", NULL};
static const char *const random_defaults[] = {NULL, "0", "off", NULL};

const CbMethod cb_method_magnitude = {
    .name = "magnitude",
    .version = 1,
    .summary = "deterministic magnitude pruning to a sparsity (scope layer|global, dense_last 0|1, discretize)",
    .param_names = magnitude_params,
    .param_defaults = magnitude_defaults,
    .check = magnitude_check,
    .compress = magnitude_compress,
    .standalone = NULL,
};

const CbMethod cb_method_random = {
    .name = "random",
    .version = 1,
    .summary = "uniformly random pruning of each layer to a sparsity (dense_last 0|1, discretize)",
    .param_names = random_params,
    .param_defaults = random_defaults,
    .check = random_check,
    .compress = random_compress,
    .standalone = NULL,
};
