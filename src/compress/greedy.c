/*
 * greedy — randomized greedy pruning / quantization (000, "a post-training
 * randomized version of Optimal Brain Damage"); definitions in include/cbound/greedy.h.
 *
 * Score. 000 ranks by the importance |E[L(Φ_t) - L(Φ)]| of replacing one weight by
 * t. Since E[t] = w the first-order term cancels, and to second order
 *     E[L(Φ_t)] - L(Φ) = 1/2 H_ii E[(t - w)^2] = 1/2 H_ii Var(t),
 * which is what we rank by (absolute value: a Hessian estimate can be negative).
 * For pruning with one p for all weights this is OBD's saliency H_ii w^2 up to the
 * factor (1-p)/(2p). score = exact ranks by the brute-force expectation itself
 * (two loss evaluations per weight; small networks and tests).
 *
 * Curvature. Hessian diagonal by second differences of the loss in double
 * (probes = 0, one coordinate at a time), or Hutchinson's E[z ⊙ Hz] with Hz from
 * central differences of float gradients (probes > 0). Fisher = mean of squared
 * per-sample gradients on the training labels (the empirical Fisher; for
 * cross-entropy it equals the Gauss–Newton matrix only in expectation over labels
 * drawn from the model).
 *
 * Projection. 000's analysis keeps every layer's operator norm bounded by an
 * explicit projection; ours scales Ŵ_l by min(1, proj_c ||W_l||_2 / ||Ŵ_l||_2).
 * That is not the Frobenius-nearest point of the spectral ball (clipping singular
 * values would densify a pruned matrix) but keeps the sparsity pattern and gives
 * the same bound on the layer's output norm.
 */
#include "cbound/greedy.h"
#include "cbound/discretize.h"
#include "cbound/measure.h"
#include "cbound/rng.h"
#include "cbound/ctx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double cb_greedy_draw(CbGreedyMode mode, double w, double q, double u)
{
    if (mode == CB_GREEDY_PRUNE) return u < q ? w / q : 0.0;
    double f = floor(w / q), frac = w / q - f;
    return u < frac ? (f + 1.0) * q : f * q;
}

double cb_greedy_var(CbGreedyMode mode, double w, double q)
{
    if (mode == CB_GREEDY_PRUNE) return w * w * (1.0 - q) / q;
    double frac = w / q - floor(w / q);
    return q * q * frac * (1.0 - frac);
}

void cb_greedy_options_default(CbGreedyOptions *o)
{
    o->mode = CB_GREEDY_PRUNE;
    o->p = 0.5;
    o->alpha = NAN;
    o->score = CB_GREEDY_HESSIAN;
    o->fraction = 0.5;
    o->rounds = 1;
    o->samples = 512;
    o->probes = 16;
    o->fd_step = 1e-3;
    o->projection = 0;
    o->proj_c = 1.0;
}

/* ------------------------------------------------------------------ losses in double */

/* Mean loss on the first n samples of d with parameters p (double, m's layout). */
static double loss_d(const CbMlp *m, const double *p, const CbData *d, size_t n, double *z)
{
    enum { B = 256 };
    size_t k = m->widths[m->depth];
    double sum = 0, correct = 0;
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t nb = n - i0 < B ? n - i0 : B;
        cb_mlp_forward_d(m, p, d->x + i0 * d->d, nb, z, NULL);
        cb_measure_loss_acc(z, nb, k, d, i0, &sum, &correct);
    }
    return sum / (double)n;
}

double cb_greedy_exact_change(const CbMlp *m, CbLoss loss, const CbData *d, size_t n, CbGreedyMode mode,
                              double q, size_t k)
{
    (void)loss; /* the loss follows the data: cross-entropy for labels, MSE for targets (measure.h) */
    double *p = cb_malloc(m->n_params * sizeof *p), *z = cb_malloc(256 * m->widths[m->depth] * sizeof *z);
    cb_mlp_params_to_double(m, p);
    double w = p[k], L0 = loss_d(m, p, d, n, z), lo, hi, plo;
    if (mode == CB_GREEDY_PRUNE) { /* t = w/q w.p. q, else 0 */
        hi = w / q, lo = 0.0, plo = 1.0 - q;
    } else {
        double f = floor(w / q);
        lo = f * q, hi = (f + 1.0) * q, plo = 1.0 - (w / q - f);
    }
    p[k] = lo;
    double Llo = loss_d(m, p, d, n, z);
    p[k] = hi;
    double Lhi = loss_d(m, p, d, n, z);
    free(p);
    free(z);
    return plo * Llo + (1.0 - plo) * Lhi - L0;
}

/* ------------------------------------------------------------------ curvature */

/* Coordinate-wise paths (exact Hessian diagonal, exact score) cost 2 loss
 * evaluations per parameter: refuse networks larger than this. */
enum { EXACT_LIMIT = 20000 };

static CbStatus check_samples(const CbMlp *m, const CbData *d, size_t n, CbLoss loss)
{
    if (d && (d->y ? loss != CB_LOSS_CROSS_ENTROPY : loss != CB_LOSS_MSE)) {
        CB_ERR(CB_EINVAL, "greedy: loss %s with %s data (expected %s)", loss == CB_LOSS_MSE ? "mse" : "cross-entropy",
               d->y ? "labelled" : "regression", d->y ? "cross-entropy" : "mse");
        cb_err_hint("the exact and Hessian scores evaluate the loss in double with the data's own loss");
        return CB_EINVAL;
    }
    if (!d || n == 0 || n > d->n || d->d != m->widths[0]) {
        CB_ERR(CB_EINVAL, "greedy: scores need %zu training samples of dimension %zu; the data has %zu of %zu",
               n, m->widths[0], d ? d->n : 0, d ? d->d : 0);
        cb_err_hint("lower `samples`, or check that the task's data set is the model's");
        return CB_EINVAL;
    }
    return CB_OK;
}

CbStatus cb_greedy_hessian_diag(const CbMlp *m, CbLoss loss, const CbData *d, size_t n, int probes,
                                double step, uint64_t seed, uint64_t key, double *out)
{
    CB_TRY(check_samples(m, d, n, loss));
    size_t P = m->n_params;
    if (probes == 0) {
        if (P > EXACT_LIMIT) {
            CB_ERR(CB_EINVAL, "greedy: exact Hessian diagonal of %zu parameters (limit %d)", P, EXACT_LIMIT);
            cb_err_hint("use probes > 0 (Hutchinson) or score: fisher for networks of this size");
            return CB_EINVAL;
        }
        double *p = cb_malloc(P * sizeof *p), *z = cb_malloc(256 * m->widths[m->depth] * sizeof *z);
        cb_mlp_params_to_double(m, p);
        double L0 = loss_d(m, p, d, n, z);
        for (size_t i = 0; i < P; ++i) {
            double w = p[i];
            p[i] = w + step;
            double Lp = loss_d(m, p, d, n, z);
            p[i] = w - step;
            double Lm = loss_d(m, p, d, n, z);
            p[i] = w;
            out[i] = (Lp - 2 * L0 + Lm) / (step * step);
        }
        free(p);
        free(z);
        return CB_OK;
    }
    CbMlp *q = cb_mlp_clone(m);
    float *gp = cb_malloc(P * sizeof *gp), *gm = cb_malloc(P * sizeof *gm);
    signed char *zr = cb_malloc(P);
    memset(out, 0, P * sizeof *out);
    CbStream s = cb_rng_stream(seed, key, CB_RNG_COMPRESS, 0xffffu);
    for (int r = 0; r < probes; ++r) {
        for (size_t i = 0; i < P; i += 32) {
            uint32_t bits = cb_rng_u32(&s);
            for (size_t b = 0; b < 32 && i + b < P; ++b) zr[i + b] = (bits >> b) & 1 ? 1 : -1;
        }
        for (size_t i = 0; i < P; ++i) q->params[i] = (float)(m->params[i] + step * zr[i]);
        cb_train_loss_grad(q, loss, d->x, d->y, d->t, n, gp);
        for (size_t i = 0; i < P; ++i) q->params[i] = (float)(m->params[i] - step * zr[i]);
        cb_train_loss_grad(q, loss, d->x, d->y, d->t, n, gm);
        for (size_t i = 0; i < P; ++i) out[i] += zr[i] * ((double)gp[i] - gm[i]) / (2 * step) / probes;
    }
    free(zr);
    free(gp);
    free(gm);
    cb_mlp_free(q);
    return CB_OK;
}

CbStatus cb_greedy_fisher_diag(const CbMlp *m, CbLoss loss, const CbData *d, size_t n, double *out)
{
    CB_TRY(check_samples(m, d, n, loss));
    size_t P = m->n_params, k = m->widths[m->depth];
    float *g = cb_malloc(P * sizeof *g);
    memset(out, 0, P * sizeof *out);
    for (size_t s = 0; s < n; ++s) {
        cb_train_loss_grad(m, loss, d->x + s * d->d, d->y ? d->y + s : NULL, d->t ? d->t + s * k : NULL, 1, g);
        for (size_t i = 0; i < P; ++i) out[i] += (double)g[i] * g[i] / (double)n;
    }
    free(g);
    return CB_OK;
}

/* ------------------------------------------------------------------ the greedy loop */

typedef struct {
    double score;
    size_t idx; /* parameter index */
} Cand;

static int cmp_cand(const void *a, const void *b)
{
    const Cand *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static CbStatus check_options(const CbGreedyOptions *o)
{
    if (!(o->fraction >= 0 && o->fraction <= 1))
        return CB_ERR(CB_EINVAL, "greedy: fraction %g outside [0, 1]", o->fraction);
    if (o->mode == CB_GREEDY_PRUNE && !(o->p > 0 && o->p <= 1))
        return CB_ERR(CB_EINVAL, "greedy: p %g outside (0, 1] (keep probability of a pruned weight)", o->p);
    if (o->mode == CB_GREEDY_QUANTIZE && !(o->alpha > 0 && isfinite(o->alpha))) {
        CB_ERR(CB_EINVAL, "greedy: quantize needs a grid step alpha > 0, found %g", o->alpha);
        cb_err_hint("set alpha, e.g. alpha: 0.01 (in weight units)");
        return CB_EINVAL;
    }
    if (o->rounds < 1 || o->probes < 0 || !(o->fd_step > 0) || !(o->proj_c > 0))
        return CB_ERR(CB_EINVAL, "greedy: rounds %d (>= 1), probes %d (>= 0), fd_step %g, proj_c %g (> 0)",
                      o->rounds, o->probes, o->fd_step, o->proj_c);
    return CB_OK;
}

CbStatus cb_greedy_compress(CbMlp *m, const CbGreedyOptions *o, CbLoss loss, const CbData *train,
                            uint64_t seed, uint64_t key, size_t *replaced)
{
    CB_TRY(check_options(o));
    size_t n = o->samples < train->n ? o->samples : train->n;
    double q = o->mode == CB_GREEDY_PRUNE ? o->p : o->alpha;
    size_t P = m->n_params, nw = 0;
    for (int l = 0; l < m->depth; ++l) nw += m->widths[l] * m->widths[l + 1];
    size_t target = (size_t)llround(o->fraction * (double)nw), done = 0;
    unsigned char *is_done = cb_calloc(P, 1);
    double *h = cb_malloc(P * sizeof *h);
    Cand *c = cb_malloc(nw * sizeof *c);
    CbMlp *orig = o->projection ? cb_mlp_clone(m) : NULL;
    CbStatus st = CB_OK;
    for (int r = 0; r < o->rounds && st == CB_OK; ++r) {
        size_t want = target * (size_t)(r + 1) / (size_t)o->rounds - done;
        if (want == 0) continue;
        if (o->score == CB_GREEDY_HESSIAN)
            st = cb_greedy_hessian_diag(m, loss, train, n, o->probes, o->fd_step, seed, key, h);
        else if (o->score == CB_GREEDY_FISHER) st = cb_greedy_fisher_diag(m, loss, train, n, h);
        else {
            st = check_samples(m, train, n, loss);
            if (st == CB_OK && P > EXACT_LIMIT) {
                st = CB_ERR(CB_EINVAL, "greedy: score exact on %zu parameters (limit %d)", P, EXACT_LIMIT);
                cb_err_hint("score: exact is for small networks; use hessian or fisher");
            }
        }
        if (st != CB_OK) break;
        size_t nc = 0;
        for (int l = 0; l < m->depth; ++l) {
            size_t off = m->offset_W[l], cnt = m->widths[l] * m->widths[l + 1];
            for (size_t i = off; i < off + cnt; ++i) {
                if (is_done[i]) continue;
                double s = o->score == CB_GREEDY_EXACT
                               ? cb_greedy_exact_change(m, loss, train, n, o->mode, q, i)
                               : 0.5 * h[i] * cb_greedy_var(o->mode, m->params[i], q);
                c[nc++] = (Cand){fabs(s), i};
            }
        }
        qsort(c, nc, sizeof *c, cmp_cand);
        for (size_t t = 0; t < want && t < nc; ++t) {
            size_t i = c[t].idx;
            int l = 0;
            while (l + 1 < m->depth && m->offset_W[l + 1] <= i) ++l;
            double u = cb_rng_uniform_at(seed, key, CB_RNG_COMPRESS, (uint32_t)l, i - m->offset_W[l]);
            m->params[i] = (float)cb_greedy_draw(o->mode, m->params[i], q, u);
            is_done[i] = 1;
            ++done;
        }
    }
    for (int l = 0; orig && st == CB_OK && l < m->depth; ++l) {
        double na, nh;
        size_t rr = m->widths[l + 1], cc = m->widths[l];
        st = cb_disc_spectral_norm(orig->W[l], rr, cc, &na);
        if (st == CB_OK) st = cb_disc_spectral_norm(m->W[l], rr, cc, &nh);
        if (st == CB_OK && nh > o->proj_c * na) {
            float s = (float)(o->proj_c * na / nh);
            for (size_t i = 0; i < rr * cc; ++i) m->W[l][i] *= s;
        }
    }
    if (orig) cb_mlp_free(orig);
    free(is_done);
    free(h);
    free(c);
    if (replaced) *replaced = done;
    return st;
}

/* ------------------------------------------------------------------ sweep method `greedy` */

/* strict = 0 for the sweep loader's check, which may pass one parameter at a time
 * (so `mode: quantize` alone does not yet need alpha) */
static CbStatus greedy_options(const CbParams *p, CbGreedyOptions *o, int strict)
{
    cb_greedy_options_default(o);
    const char *mode = cb_params_text(p, "mode", "prune"), *score = cb_params_text(p, "score", "hessian"),
               *proj = cb_params_text(p, "projection", "off");
    if (strcmp(mode, "prune") == 0) o->mode = CB_GREEDY_PRUNE;
    else if (strcmp(mode, "quantize") == 0) o->mode = CB_GREEDY_QUANTIZE;
    else return CB_ERR(CB_EINVAL, "greedy: mode: expected prune or quantize, found '%s'", mode);
    if (strcmp(score, "hessian") == 0) o->score = CB_GREEDY_HESSIAN;
    else if (strcmp(score, "fisher") == 0) o->score = CB_GREEDY_FISHER;
    else if (strcmp(score, "exact") == 0) o->score = CB_GREEDY_EXACT;
    else return CB_ERR(CB_EINVAL, "greedy: score: expected hessian, fisher or exact, found '%s'", score);
    if (strcmp(proj, "off") == 0 || strcmp(proj, "0") == 0) o->projection = 0;
    else if (strcmp(proj, "on") == 0 || strcmp(proj, "1") == 0) o->projection = 1;
    else return CB_ERR(CB_EINVAL, "greedy: projection: expected on or off, found '%s'", proj);
    o->fraction = cb_params_num(p, "fraction", 0.5);
    o->p = cb_params_num(p, "p", 0.5);
    o->alpha = cb_params_num(p, "alpha", strict ? NAN : 1.0);
    o->proj_c = cb_params_num(p, "proj_c", 1.0);
    double samples = cb_params_num(p, "samples", 512), probes = cb_params_num(p, "probes", 16),
           rounds = cb_params_num(p, "rounds", 1);
    if (!(samples >= 1 && samples == floor(samples)) || !(probes >= 0 && probes == floor(probes)) ||
        !(rounds >= 1 && rounds == floor(rounds)))
        return CB_ERR(CB_EINVAL, "greedy: samples (>= 1), probes (>= 0), rounds (>= 1) must be integers; found "
                                 "'%s', '%s', '%s'",
                      cb_params_text(p, "samples", "512"), cb_params_text(p, "probes", "16"),
                      cb_params_text(p, "rounds", "1"));
    o->samples = (size_t)samples;
    o->probes = (int)probes;
    o->rounds = (int)rounds;
    return check_options(o);
}

static CbStatus greedy_check(const CbParams *p)
{
    CbGreedyOptions o;
    CB_TRY(greedy_options(p, &o, 0));
    return cb_disc_param_check(p);
}

static CbStatus greedy_method(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    CbGreedyOptions o;
    CB_TRY(greedy_options(ctx->params, &o, 1));
    size_t rep = 0;
    /* the loss follows the data: cross-entropy for labels, MSE for targets */
    CbLoss loss = ctx->train->y ? CB_LOSS_CROSS_ENTROPY : CB_LOSS_MSE;
    CB_TRY(cb_greedy_compress(out, &o, loss, ctx->train, ctx->seed, ctx->key, &rep));
    res->task[CB_T_compress_level] = (double)rep;
    return cb_disc_after(ctx, out, res);
}

static const char *const greedy_params[] = {"fraction", "mode",   "p",      "alpha",  "score",      "projection",
                                            "proj_c",   "samples", "probes", "rounds", "discretize", NULL};
static const char *const greedy_defaults[] = {"0.5", "prune", "0.5", NULL, "hessian", "off",
                                              "1",   "512",   "16",  "1",  "off",     NULL};

const CbMethod cb_method_greedy = {
    .name = "greedy",
    .version = 1,
    .summary = "000 randomized greedy OBD-like compression: replace `fraction` of weights by zero-mean t "
               "(mode prune p | quantize alpha; score hessian|fisher|exact; projection off|on)",
    .param_names = greedy_params,
    .param_defaults = greedy_defaults,
    .check = greedy_check,
    .compress = greedy_method,
    .standalone = NULL,
};
