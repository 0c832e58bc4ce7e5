/*
 * structured — neuron pruning with survivors rescaled (000, structured pruning of
 * MLPs); definitions in include/cbound/structured.h.
 *
 * Why 1/p on the outgoing column: with t_k = a_k / p w.p. p and 0 otherwise,
 * E[t_k] = a_k, so E[z_{l+1}] = W[l+1] E[t] + b = z_{l+1} for every input: the
 * perturbation of the next pre-activation is zero-mean, as for 000's weights.
 * Its variance is a_k^2 (1-p)/p ||W[l+1][:, k]||^2, the activation score.
 */
#include "cbound/structured.h"
#include "cbound/discretize.h"
#include "cbound/rng.h"
#include "cbound/ctx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cb_structured_options_default(CbStructOptions *o)
{
    o->fraction = 0.5;
    o->p = 0.5;
    o->score = CB_STRUCT_ACTIVATION;
    o->samples = 512;
}

static double neuron_u(uint64_t seed, uint64_t key, int l, size_t k)
{
    return cb_rng_uniform_at(seed, key, CB_RNG_COMPRESS, 0x10000u + (uint32_t)l, k);
}

CbStatus cb_structured_scores(const CbMlp *m, int l, const CbStructOptions *o, const CbData *train,
                              uint64_t seed, uint64_t key, double *score)
{
    size_t w = m->widths[l + 1], in = m->widths[l], out = m->widths[l + 2];
    const float *Wn = m->W[l + 1];
    for (size_t k = 0; k < w; ++k) {
        double col = 0, row = 0;
        for (size_t i = 0; i < out; ++i) col += (double)Wn[i * w + k] * Wn[i * w + k];
        for (size_t j = 0; j < in; ++j) row += (double)m->W[l][k * in + j] * m->W[l][k * in + j];
        score[k] = o->score == CB_STRUCT_NORM ? sqrt(row * col) : o->score == CB_STRUCT_RANDOM ? neuron_u(seed, key, l, k) : col;
    }
    if (o->score != CB_STRUCT_ACTIVATION) return CB_OK;
    size_t n = o->samples < train->n ? o->samples : train->n;
    if (n == 0 || train->d != m->widths[0]) {
        CB_ERR(CB_EINVAL, "structured: activation score needs training inputs of dimension %zu (found %zu of %zu)",
               m->widths[0], train->n, train->d);
        cb_err_hint("use score: norm for a data-free score");
        return CB_EINVAL;
    }
    double *p = cb_malloc(m->n_params * sizeof *p), **acts = cb_malloc((size_t)m->depth * sizeof *acts);
    for (int t = 0; t < m->depth; ++t) acts[t] = cb_malloc(n * m->widths[t + 1] * sizeof **acts);
    double *z = cb_malloc(n * m->widths[m->depth] * sizeof *z);
    cb_mlp_params_to_double(m, p);
    cb_mlp_forward_d(m, p, train->x, n, z, acts);
    for (size_t k = 0; k < w; ++k) {
        double e = 0;
        for (size_t s = 0; s < n; ++s) e += acts[l][s * w + k] * acts[l][s * w + k];
        score[k] *= e / (double)n * (1.0 - o->p) / o->p;
    }
    for (int t = 0; t < m->depth; ++t) free(acts[t]);
    free(acts);
    free(z);
    free(p);
    return CB_OK;
}

typedef struct {
    double s;
    size_t k;
} Item;

static int cmp_item(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

CbStatus cb_structured_prune(CbMlp *m, const CbStructOptions *o, const CbData *train, uint64_t seed,
                             uint64_t key, unsigned char *alive, size_t *removed)
{
    if (m->depth < 2) {
        CB_ERR(CB_EINVAL, "structured: the network has %d layer(s) and no hidden neurons", m->depth);
        cb_err_hint("structured pruning needs depth >= 2");
        return CB_EINVAL;
    }
    if (!(o->fraction >= 0 && o->fraction <= 1) || !(o->p > 0 && o->p <= 1))
        return CB_ERR(CB_EINVAL, "structured: fraction %g (expected [0, 1]) and p %g (expected (0, 1])",
                      o->fraction, o->p);
    /* all scores on the original network first, so the candidates do not depend on draws */
    int nh = m->depth - 1;
    double **sc = cb_calloc((size_t)nh, sizeof *sc);
    CbStatus st = CB_OK;
    for (int l = 0; l < nh && st == CB_OK; ++l) {
        sc[l] = cb_malloc(m->widths[l + 1] * sizeof **sc);
        st = cb_structured_scores(m, l, o, train, seed, key, sc[l]);
    }
    size_t gone = 0, base = 0;
    for (int l = 0; l < nh && st == CB_OK; ++l) {
        size_t w = m->widths[l + 1], in = m->widths[l], out = m->widths[l + 2];
        Item *it = cb_malloc(w * sizeof *it);
        for (size_t k = 0; k < w; ++k) it[k] = (Item){sc[l][k], k};
        qsort(it, w, sizeof *it, cmp_item);
        if (alive) memset(alive + base, 1, w);
        size_t cand = (size_t)llround(o->fraction * (double)w);
        for (size_t t = 0; t < cand; ++t) {
            size_t k = it[t].k;
            if (neuron_u(seed, key, l, k + w) < o->p) { /* survivor: rescale the outgoing column */
                for (size_t i = 0; i < out; ++i) m->W[l + 1][i * w + k] = (float)(m->W[l + 1][i * w + k] / o->p);
            } else {
                memset(m->W[l] + k * in, 0, in * sizeof(float));
                if (m->bias) m->b[l][k] = 0.0f;
                for (size_t i = 0; i < out; ++i) m->W[l + 1][i * w + k] = 0.0f;
                if (alive) alive[base + k] = 0;
                ++gone;
            }
        }
        free(it);
        base += w;
    }
    for (int l = 0; l < nh; ++l) free(sc[l]);
    free(sc);
    CB_TRY(st);
    if (removed) *removed = gone;
    return CB_OK;
}

CbStatus cb_structured_shrink(const CbMlp *m, const unsigned char *alive, CbMlp **out)
{
    size_t *w = cb_malloc((size_t)(m->depth + 1) * sizeof *w), base = 0;
    size_t **keep = cb_calloc((size_t)m->depth + 1, sizeof *keep); /* keep[t]: kept indices of width t */
    for (int t = 0; t <= m->depth; ++t) {
        keep[t] = cb_malloc(m->widths[t] * sizeof **keep);
        size_t c = 0;
        for (size_t k = 0; k < m->widths[t]; ++k)
            if (t == 0 || t == m->depth || alive[base + k]) keep[t][c++] = k;
        if (t > 0 && t < m->depth) base += m->widths[t];
        w[t] = c;
    }
    CbStatus st = CB_OK;
    for (int t = 1; t < m->depth; ++t)
        if (w[t] == 0) {
            st = CB_ERR(CB_EINVAL, "structured: every neuron of hidden layer %d was removed", t - 1);
            cb_err_hint("lower fraction or raise p");
        }
    if (st == CB_OK) st = cb_mlp_alloc(m->depth, w, m->act, m->beta, m->bias, out);
    for (int l = 0; st == CB_OK && l < m->depth; ++l)
        for (size_t i = 0; i < w[l + 1]; ++i) {
            size_t si = keep[l + 1][i];
            for (size_t j = 0; j < w[l]; ++j) (*out)->W[l][i * w[l] + j] = m->W[l][si * m->widths[l] + keep[l][j]];
            if (m->bias) (*out)->b[l][i] = m->b[l][si];
        }
    for (int t = 0; t <= m->depth; ++t) free(keep[t]);
    free(keep);
    free(w);
    return st;
}

/* ------------------------------------------------------------------ sweep method `structured` */

static CbStatus structured_options(const CbParams *p, CbStructOptions *o)
{
    cb_structured_options_default(o);
    const char *s = cb_params_text(p, "score", "activation");
    if (strcmp(s, "activation") == 0) o->score = CB_STRUCT_ACTIVATION;
    else if (strcmp(s, "norm") == 0) o->score = CB_STRUCT_NORM;
    else if (strcmp(s, "random") == 0) o->score = CB_STRUCT_RANDOM;
    else return CB_ERR(CB_EINVAL, "structured: score: expected activation, norm or random, found '%s'", s);
    o->fraction = cb_params_num(p, "fraction", 0.5);
    o->p = cb_params_num(p, "p", 0.5);
    double n = cb_params_num(p, "samples", 512);
    if (!(o->fraction >= 0 && o->fraction <= 1) || !(o->p > 0 && o->p <= 1) || !(n >= 1 && n == floor(n)))
        return CB_ERR(CB_EINVAL, "structured: fraction '%s' (expected [0, 1]), p '%s' (expected (0, 1]), samples "
                                 "'%s' (expected an integer >= 1)",
                      cb_params_text(p, "fraction", "0.5"), cb_params_text(p, "p", "0.5"),
                      cb_params_text(p, "samples", "512"));
    o->samples = (size_t)n;
    return CB_OK;
}

static CbStatus structured_check(const CbParams *p)
{
    CbStructOptions o;
    CB_TRY(structured_options(p, &o));
    return cb_disc_param_check(p);
}

static CbStatus structured_method(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    CbStructOptions o;
    CB_TRY(structured_options(ctx->params, &o));
    size_t removed = 0;
    CB_TRY(cb_structured_prune(out, &o, ctx->train, ctx->seed, ctx->key, NULL, &removed));
    res->task[CB_T_compress_level] = (double)removed;
    return cb_disc_after(ctx, out, res);
}

static const char *const structured_params[] = {"fraction", "p", "score", "samples", "discretize", NULL};
static const char *const structured_defaults[] = {"0.5", "0.5", "activation", "512", "off", NULL};

const CbMethod cb_method_structured = {
    .name = "structured",
    .version = 1,
    .summary = "000 structured pruning: lowest-score hidden neurons removed w.p. 1-p, survivors' outgoing "
               "weights x 1/p (fraction, p, score activation|norm|random, discretize)",
    .param_names = structured_params,
    .param_defaults = structured_defaults,
    .check = structured_check,
    .compress = structured_method,
    .standalone = NULL,
};
