/*
 * train — minibatch training of a CbMlp in float32 (PyTorch semantics), evaluation.
 *
 * Forward keeps every layer's post-activation a_l (B, w_{l+1}); a_{-1} = x. With
 * δ_l = ∂L/∂z_l (B, w_{l+1}) the backward pass per layer l = L-1 .. 0 is
 *     dW_l = δ_lᵀ a_{l-1}            (sgemm, (w_{l+1}, w_l))
 *     db_l = Σ_rows δ_l
 *     δ_{l-1} = (δ_l W_l) ⊙ σ'(a_{l-1})   (skipped for l = 0: no input gradient)
 * and, when training, the optimizer updates layer l right after its gradient is
 * formed (W_l is still needed for δ_{l-1}, so the update comes after that product):
 * only one layer's gradient exists at a time, in one reused buffer that stays in
 * cache. cb_train_loss_grad instead returns the whole gradient (n_params).
 * Losses (PyTorch reduction='mean'):
 *     cross-entropy  L = (1/B) Σ_i [logsumexp(z_i) - z_i[y_i]],  ∂L/∂z_i = (softmax(z_i) - e_{y_i}) / B
 *                    with the max-shifted log-sum-exp;
 *     MSE            L = (1/(B k)) Σ_i ||z_i - t_i||²,          ∂L/∂z_i = 2 (z_i - t_i) / (B k)
 *                    (targets t = one-hot labels when the data set has labels only).
 * Optimizers follow torch.optim (1.13): SGD g = ∇ + λp, v = μv + g (dampening 0, v_0 = g),
 * p -= lr v; Adam g = ∇ + λp, m = β1 m + (1-β1) g, v = β2 v + (1-β2) g², p -= lr/(1-β1^t) ·
 * m / (sqrt(v)/sqrt(1-β2^t) + ε). The step schedule uses lr · factor^#{drop epochs ≤ e}
 * in (0-based) epoch e, like MultiStepLR stepped once per epoch.
 * A mask (lottery tickets, 004 §6) is re-applied after every step and zeroes the
 * masked entries' optimizer state as well, so pruned weights never regrow.
 * No allocation happens inside the epoch loop: all buffers live in one Work.
 */
#include "cbound/train.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ workspace */

typedef struct {
    size_t cap;      /* batch capacity (rows)                                      */
    float *acts;     /* Σ_l (cap, w_{l+1}): post-activations, the last one = outputs */
    float **a;       /* (depth) a[l] -> (cap, w_{l+1}) in acts                      */
    float *delta[2]; /* (cap, max width) each: ∂L/∂z ping-pong                      */
    float *xb;       /* (cap, w_0) gathered batch inputs                            */
    int32_t *yb;     /* (cap) gathered labels                                       */
    float *tb;       /* (cap, w_L) gathered targets (MSE)                           */
} Work;

/* with_backward = 0: forward-only buffers (evaluation). */
static void work_alloc(Work *w, const CbMlp *m, size_t cap, int with_backward)
{
    size_t tot = 0, maxw = cb_mlp_max_width(m), wL = m->widths[m->depth];
    for (int l = 0; l < m->depth; ++l) tot += m->widths[l + 1];
    w->cap = cap;
    w->acts = cb_malloc(cap * tot * sizeof *w->acts);
    w->a = cb_malloc((size_t)m->depth * sizeof *w->a);
    size_t off = 0;
    for (int l = 0; l < m->depth; ++l) {
        w->a[l] = w->acts + cap * off;
        off += m->widths[l + 1];
    }
    if (!with_backward) {
        w->delta[0] = w->delta[1] = w->xb = w->tb = NULL;
        w->yb = NULL;
        return;
    }
    w->delta[0] = cb_malloc(cap * maxw * sizeof(float));
    w->delta[1] = cb_malloc(cap * maxw * sizeof(float));
    w->xb = cb_malloc(cap * m->widths[0] * sizeof *w->xb);
    w->yb = cb_malloc(cap * sizeof *w->yb);
    w->tb = cb_malloc(cap * wL * sizeof *w->tb);
}

static void work_free(Work *w)
{
    free(w->acts);
    free(w->a);
    free(w->delta[0]);
    free(w->delta[1]);
    free(w->xb);
    free(w->yb);
    free(w->tb);
}

/* ------------------------------------------------------------------ optimizer */

typedef struct {
    const CbTrainConfig *c;
    double lr;               /* current learning rate (after schedule)    */
    long t;                  /* steps taken (Adam bias correction)        */
    float *p;                /* (n_params) the parameters being trained   */
    int simd;                /* use the AVX2 loops (cb_mlp_simd)          */
    float *s1, *s2;          /* (n_params) momentum / Adam m, Adam v      */
} Optim;

/* AVX2 versions of the update loops (see the note in src/model/mlp.c: same operations in the
 * same order as the portable loops below, so the results are bit-identical). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CB_HAVE_AVX2_KERNELS 1
#define CB_TARGET_AVX2 __attribute__((target("avx2")))

CB_TARGET_AVX2 static size_t adam_avx2(float *p, const float *g, float *s1, float *s2, size_t i0, size_t i1,
                                       float wd, float b1, float b2, float step, float sqrt_bc2, float eps)
{
    const __m256 vwd = _mm256_set1_ps(wd), vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2),
                 vc1 = _mm256_set1_ps(1.0f - b1), vc2 = _mm256_set1_ps(1.0f - b2), vstep = _mm256_set1_ps(step),
                 vsq = _mm256_set1_ps(sqrt_bc2), veps = _mm256_set1_ps(eps);
    size_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m256 pi = _mm256_loadu_ps(p + i);
        __m256 gi = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(vwd, pi));
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(s1 + i)), _mm256_mul_ps(vc1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(s2 + i)),
                                  _mm256_mul_ps(_mm256_mul_ps(vc2, gi), gi));
        _mm256_storeu_ps(s1 + i, mi);
        _mm256_storeu_ps(s2 + i, vi);
        __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), vsq), veps);
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, _mm256_div_ps(_mm256_mul_ps(vstep, mi), den)));
    }
    return i;
}

CB_TARGET_AVX2 static size_t sgd_avx2(float *p, const float *g, float *s1, size_t i0, size_t i1, float wd,
                                      float mu, float lr)
{
    const __m256 vwd = _mm256_set1_ps(wd), vmu = _mm256_set1_ps(mu), vlr = _mm256_set1_ps(lr);
    size_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m256 pi = _mm256_loadu_ps(p + i);
        __m256 d = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(vwd, pi));
        if (s1) {
            d = _mm256_add_ps(_mm256_mul_ps(vmu, _mm256_loadu_ps(s1 + i)), d);
            _mm256_storeu_ps(s1 + i, d);
        }
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, _mm256_mul_ps(vlr, d)));
    }
    return i;
}

/* gb (w) += Σ_i d[i, :] for d (n, w) row-major */
CB_TARGET_AVX2 static void colsum_avx2(float *gb, const float *d, size_t n, size_t w)
{
    for (size_t i = 0; i < n; ++i) {
        const float *r = d + i * w;
        size_t j = 0;
        for (; j + 8 <= w; j += 8)
            _mm256_storeu_ps(gb + j, _mm256_add_ps(_mm256_loadu_ps(gb + j), _mm256_loadu_ps(r + j)));
        for (; j < w; ++j) gb[j] += r[j];
    }
}
#else
#define CB_HAVE_AVX2_KERNELS 0
#endif

/* Update params[i0, i1) from the gradient g of that range (g[0] belongs to params[i0]). */
static void optim_update(Optim *o, const float *g_range, size_t i0, size_t i1)
{
    float *p = o->p;
    const float *g = g_range - i0; /* so that g[i] pairs with p[i] */
    const CbTrainConfig *c = o->c;
    const unsigned char *mask = c->mask;
    float wd = (float)c->weight_decay;
    float *s1 = o->s1, *s2 = o->s2;
    if (c->opt == CB_OPT_ADAM) {
        float b1 = (float)c->beta1, b2 = (float)c->beta2, eps = (float)c->eps;
        double bc1 = 1.0 - pow(c->beta1, (double)o->t), bc2 = 1.0 - pow(c->beta2, (double)o->t);
        float step = (float)(o->lr / bc1), sqrt_bc2 = (float)sqrt(bc2);
        size_t i = i0;
#if CB_HAVE_AVX2_KERNELS
        if (o->simd) i = adam_avx2(p, g, s1, s2, i0, i1, wd, b1, b2, step, sqrt_bc2, eps);
#endif
        for (; i < i1; ++i) {
            float gi = g[i] + wd * p[i];
            float mi = b1 * s1[i] + (1.0f - b1) * gi;
            float vi = b2 * s2[i] + (1.0f - b2) * gi * gi;
            s1[i] = mi;
            s2[i] = vi;
            p[i] -= step * mi / (sqrtf(vi) / sqrt_bc2 + eps);
        }
    } else {
        float mu = (float)c->momentum, lr = (float)o->lr;
        size_t i = i0;
#if CB_HAVE_AVX2_KERNELS
        if (o->simd) i = sgd_avx2(p, g, mu != 0.0f ? s1 : NULL, i0, i1, wd, mu, lr);
#endif
        if (mu != 0.0f)
            for (; i < i1; ++i) {
                float v = mu * s1[i] + (g[i] + wd * p[i]);
                s1[i] = v;
                p[i] -= lr * v;
            }
        else
            for (; i < i1; ++i) p[i] -= lr * (g[i] + wd * p[i]);
    }
    if (mask)
        for (size_t i = i0; i < i1; ++i)
            if (!mask[i]) {
                p[i] = 0.0f;
                if (s1) s1[i] = 0.0f;
                if (s2) s2[i] = 0.0f;
            }
}

/* ------------------------------------------------------------------ forward, loss, backward */

static void forward(const CbMlp *m, Work *w, const float *x, size_t n)
{
    const float *in = x;
    for (int l = 0; l < m->depth; ++l) {
        cb_mlp_layer_forward(m, l, in, n, w->a[l]);
        in = w->a[l];
    }
}

/* Loss of outputs z (n, k) and, when d != NULL, ∂L/∂z into d. Counts correct argmax
 * predictions into *correct (classification). Returns the mean loss. */
static double loss_grad(CbLoss loss, const float *z, size_t n, size_t k, const int32_t *y,
                        const float *t, float *d, size_t *correct)
{
    double sum = 0.0;
    size_t ok = 0;
    if (loss == CB_LOSS_CROSS_ENTROPY) {
        float inv_n = 1.0f / (float)n;
        for (size_t i = 0; i < n; ++i) {
            const float *r = z + i * k;
            size_t am = 0;
            for (size_t j = 1; j < k; ++j)
                if (r[j] > r[am]) am = j;
            float mx = r[am];
            double se = 0.0;
            for (size_t j = 0; j < k; ++j) se += exp((double)(r[j] - mx));
            sum += (double)mx + log(se) - (double)r[y[i]];
            ok += am == (size_t)y[i];
            if (d) {
                float *dr = d + i * k;
                float inv_se = (float)(1.0 / se);
                for (size_t j = 0; j < k; ++j) dr[j] = expf(r[j] - mx) * inv_se * inv_n;
                dr[y[i]] -= inv_n;
            }
        }
        if (correct) *correct = ok;
        return sum / (double)n;
    }
    float scale = 2.0f / (float)(n * k);
    for (size_t i = 0; i < n; ++i) {
        const float *r = z + i * k;
        size_t am = 0;
        for (size_t j = 1; j < k; ++j)
            if (r[j] > r[am]) am = j;
        if (y) ok += am == (size_t)y[i];
        for (size_t j = 0; j < k; ++j) {
            float tj = t ? t[i * k + j] : (y && (size_t)y[i] == j ? 1.0f : 0.0f);
            float e = r[j] - tj;
            sum += (double)e * e;
            if (d) d[i * k + j] = scale * e;
        }
    }
    if (correct) *correct = ok;
    return sum / (double)(n * k);
}

/* Gradient of the loss w.r.t. params, starting from δ in w->delta[0] (n, w_L).
 * o == NULL: the whole gradient goes to grad (n_params, params layout).
 * o != NULL: grad is a buffer of one layer's size (max over l of w_{l+1}(w_l + bias));
 * layer l's gradient [dW_l, db_l] is formed there and applied at once, so a full-size
 * gradient never exists (less memory, and the buffer stays in cache). */
static void backward(const CbMlp *m, Work *w, const float *x, size_t n, float *grad, Optim *o)
{
    int cur = 0;
    for (int l = m->depth - 1; l >= 0; --l) {
        size_t wi = m->widths[l], wo = m->widths[l + 1];
        const float *a_prev = l > 0 ? w->a[l - 1] : x;
        const float *dl = w->delta[cur];
        float *gW = o ? grad : grad + m->offset_W[l];
        /* dW (wo, wi) = δᵀ (wo, n) · a_prev (n, wi) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)wo, (int)wi, (int)n, 1.0f, dl, (int)wo, a_prev,
                    (int)wi, 0.0f, gW, (int)wi);
        if (m->bias) {
            float *gb = gW + wo * wi; /* b_l follows W_l in the layout */
            memset(gb, 0, wo * sizeof *gb);
#if CB_HAVE_AVX2_KERNELS
            if (cb_mlp_simd(-1)) colsum_avx2(gb, dl, n, wo);
            else
#endif
                for (size_t i = 0; i < n; ++i)
                    for (size_t j = 0; j < wo; ++j) gb[j] += dl[i * wo + j];
        }
        if (l > 0) {
            float *dn = w->delta[1 - cur];
            /* δ_{l-1} (n, wi) = δ_l (n, wo) · W_l (wo, wi), then ⊙ σ'(a_{l-1}) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)wi, (int)wo, 1.0f, dl, (int)wo,
                        m->W[l], (int)wi, 0.0f, dn, (int)wi);
            cb_mlp_act_backward(m, a_prev, dn, n * wi);
            cur = 1 - cur;
        }
        if (o) {
            size_t end = l + 1 < m->depth ? m->offset_W[l + 1] : m->n_params;
            optim_update(o, gW, m->offset_W[l], end);
        }
    }
}

static CbStatus check_shapes(const CbMlp *m, CbLoss loss, const CbData *d, const char *what)
{
    size_t k = m->widths[m->depth];
    if (d->d != m->widths[0]) {
        cb_err_set(__FILE__, __LINE__, CB_EINVAL, "%s data '%s': expected %zu features (network input width), found %zu",
                   what, d->name, m->widths[0], d->d);
        cb_err_hint("the first width of the network must equal the data dimension");
        return CB_EINVAL;
    }
    if (loss == CB_LOSS_CROSS_ENTROPY) {
        if (!d->y) {
            cb_err_set(__FILE__, __LINE__, CB_EINVAL,
                       "%s data '%s': cross-entropy needs class labels, found a regression data set", what,
                       d->name);
            cb_err_hint("use loss: mse for regression targets");
            return CB_EINVAL;
        }
        if (d->n_classes != k) {
            cb_err_set(__FILE__, __LINE__, CB_EINVAL, "%s data '%s': expected %zu classes (network output width), found %zu",
                       what, d->name, k, d->n_classes);
            cb_err_hint("the last width of the network must equal the number of classes");
            return CB_EINVAL;
        }
    } else {
        size_t want = d->t ? d->n_targets : d->n_classes;
        if (want != k) {
            cb_err_set(__FILE__, __LINE__, CB_EINVAL,
                       "%s data '%s': MSE expected %zu targets per sample (network output width), found %zu", what,
                       d->name, k, want);
            cb_err_hint("the last width must equal the target width (or the number of classes for one-hot targets)");
            return CB_EINVAL;
        }
    }
    if (d->y && !d->t) /* labels index the outputs (cross-entropy, one-hot MSE, margins) */
        for (size_t i = 0; i < d->n; ++i)
            if (d->y[i] < 0 || (size_t)d->y[i] >= k) {
                cb_err_set(__FILE__, __LINE__, CB_EINVAL, "%s data '%s': label of sample %zu is %d, expected 0 .. %zu",
                           what, d->name, i, (int)d->y[i], k - 1);
                cb_err_hint("labels must index the network's outputs");
                return CB_EINVAL;
            }
    return CB_OK;
}

/* ------------------------------------------------------------------ public: one batch */

double cb_train_loss_grad(const CbMlp *m, CbLoss loss, const float *x, const int32_t *y, const float *t,
                          size_t n, float *grad)
{
    Work w;
    work_alloc(&w, m, n, 1);
    forward(m, &w, x, n);
    double L = loss_grad(loss, w.a[m->depth - 1], n, m->widths[m->depth], y, t, w.delta[0], NULL);
    backward(m, &w, x, n, grad, NULL);
    work_free(&w);
    return L;
}

/* ------------------------------------------------------------------ evaluation */

CbStatus cb_train_eval(const CbMlp *m, CbLoss loss, const CbData *d, double *mean_loss, double *acc,
                       double *margins)
{
    CB_TRY(check_shapes(m, loss, d, "evaluation"));
    if (margins && !d->y) {
        cb_err_set(__FILE__, __LINE__, CB_EINVAL, "evaluation data '%s': margins f(x)[y] - max_{j!=y} f(x)[j] need class labels", d->name);
        cb_err_hint("request margins only for classification data sets");
        return CB_EINVAL;
    }
    size_t k = m->widths[m->depth], cap = d->n < 512 ? (d->n ? d->n : 1) : 512;
    Work w;
    work_alloc(&w, m, cap, 0);
    double sum = 0.0;
    size_t ok = 0;
    for (size_t i0 = 0; i0 < d->n; i0 += cap) {
        size_t nb = d->n - i0 < cap ? d->n - i0 : cap, c = 0;
        forward(m, &w, d->x + i0 * d->d, nb);
        const float *z = w.a[m->depth - 1];
        sum += (double)nb * loss_grad(loss, z, nb, k, d->y ? d->y + i0 : NULL, d->t ? d->t + i0 * k : NULL, NULL, &c);
        ok += c;
        if (margins)
            for (size_t i = 0; i < nb; ++i) {
                const float *r = z + i * k;
                size_t yi = (size_t)d->y[i0 + i];
                double other = -INFINITY;
                for (size_t j = 0; j < k; ++j)
                    if (j != yi && r[j] > other) other = r[j];
                margins[i0 + i] = (double)r[yi] - other;
            }
    }
    work_free(&w);
    if (mean_loss) *mean_loss = d->n ? sum / (double)d->n : 0.0;
    if (acc) *acc = d->y && d->n ? (double)ok / (double)d->n : 0.0;
    return CB_OK;
}

/* ------------------------------------------------------------------ training loop */

void cb_train_config_default(CbTrainConfig *c)
{
    memset(c, 0, sizeof *c);
    c->loss = CB_LOSS_CROSS_ENTROPY;
    c->opt = CB_OPT_SGD;
    c->lr = 0.02;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
    c->epochs = 10;
    c->batch = 256;
    c->drop_factor = 0.1;
    c->snapshot_step = -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static CbStatus check_config(const CbTrainConfig *c)
{
    const char *bad = NULL;
    double val = 0;
    if (!(c->lr > 0 && isfinite(c->lr))) bad = "lr", val = c->lr;
    else if (!(c->momentum >= 0 && c->momentum < 1)) bad = "momentum", val = c->momentum;
    else if (!(c->weight_decay >= 0 && isfinite(c->weight_decay))) bad = "weight_decay", val = c->weight_decay;
    else if (c->opt == CB_OPT_ADAM && !(c->beta1 >= 0 && c->beta1 < 1)) bad = "beta1", val = c->beta1;
    else if (c->opt == CB_OPT_ADAM && !(c->beta2 >= 0 && c->beta2 < 1)) bad = "beta2", val = c->beta2;
    else if (c->opt == CB_OPT_ADAM && !(c->eps > 0)) bad = "eps", val = c->eps;
    else if (c->epochs < 1) bad = "epochs", val = c->epochs;
    else if (c->batch < 1) bad = "batch", val = (double)c->batch;
    else if (c->n_drops < 0 || c->n_drops > 8) bad = "n_drops", val = c->n_drops;
    else if (c->n_drops > 0 && !(c->drop_factor > 0 && c->drop_factor <= 1)) bad = "drop_factor", val = c->drop_factor;
    else if (c->snapshot_step >= 0 && !c->snapshot) bad = "snapshot (NULL with snapshot_step >= 0)", val = (double)c->snapshot_step;
    else if (c->snapshot_step >= 0 && (c->resume || c->checkpoint)) bad = "snapshot_step (with checkpoints)", val = (double)c->snapshot_step;
    else if (c->checkpoint_every < 0) bad = "checkpoint_every", val = c->checkpoint_every;
    if (bad) {
        cb_err_set(__FILE__, __LINE__, CB_EINVAL, "training configuration: invalid %s = %g", bad, val);
        cb_err_hint("lr > 0, 0 <= momentum < 1, weight_decay >= 0, 0 <= beta1, beta2 < 1, eps > 0, epochs >= 1, "
                    "batch >= 1, at most 8 drops with 0 < drop_factor <= 1");
        return CB_EINVAL;
    }
    return CB_OK;
}

void cb_train_state_free(CbTrainState *st)
{
    if (!st) return;
    free(st->params);
    free(st->s1);
    free(st->s2);
    free(st->curve);
    memset(st, 0, sizeof *st);
}

CbStatus cb_train(CbMlp *m, const CbTrainConfig *c, const CbData *train, const CbData *test,
                  CbTrainResult *res)
{
    memset(res, 0, sizeof *res);
    CB_TRY(check_config(c));
    CB_TRY(check_shapes(m, c->loss, train, "training"));
    if (test) CB_TRY(check_shapes(m, c->loss, test, "test"));
    if (train->n == 0) return CB_ERR(CB_EINVAL, "training data '%s' is empty", train->name);

    size_t n = train->n, d = train->d, k = m->widths[m->depth], P = m->n_params;
    size_t B = c->batch < n ? c->batch : n;
    long max_steps = (long)c->epochs * (long)((n + B - 1) / B);
    if (c->snapshot_step > max_steps) {
        cb_err_set(__FILE__, __LINE__, CB_EINVAL,
                   "training configuration: snapshot_step %ld is beyond the last step (%d epochs x %zu batches = %ld)",
                   c->snapshot_step, c->epochs, (n + B - 1) / B, max_steps);
        cb_err_hint("rewinding needs a step inside the run: 0 = the initial weights, 1 = after the first step");
        return CB_EINVAL;
    }
    Work w;
    work_alloc(&w, m, B, 1);
    size_t layer_max = 0;
    for (int l = 0; l < m->depth; ++l)
        if (m->widths[l + 1] * (m->widths[l] + (size_t)m->bias) > layer_max)
            layer_max = m->widths[l + 1] * (m->widths[l] + (size_t)m->bias);
    float *grad = cb_malloc(layer_max * sizeof *grad); /* one layer's gradient at a time */
    size_t *perm = cb_malloc(n * sizeof *perm);
    int need_s1 = c->opt == CB_OPT_ADAM || c->momentum != 0.0;
    Optim o = {.c = c, .lr = c->lr, .t = 0, .p = m->params, .simd = cb_mlp_simd(-1),
               .s1 = need_s1 ? cb_calloc(P, sizeof(float)) : NULL,
               .s2 = c->opt == CB_OPT_ADAM ? cb_calloc(P, sizeof(float)) : NULL};
    if (c->mask)
        for (size_t i = 0; i < P; ++i)
            if (!c->mask[i]) m->params[i] = 0.0f;
    if (c->snapshot_step == 0) memcpy(c->snapshot, m->params, P * sizeof *m->params);

    CbStatus st = CB_OK;
    double t_train = 0.0, t0 = now_s();
    long step = 0;
    int epoch = 0, e0 = 0;
    size_t first = 0;
    double cs_last = NAN;
    const CbTrainState *rs = c->resume;
    if (rs) { /* continue a checkpointed run exactly where it stopped */
        if (rs->n_params != P || !rs->params || (!rs->s1) != (!o.s1) || (!rs->s2) != (!o.s2) || rs->epoch < 0 ||
            rs->epoch > c->epochs || rs->next > n || rs->step < 0 || rs->step > max_steps) {
            st = cb_err_set(__FILE__, __LINE__, CB_EFORMAT,
                            "training checkpoint does not fit this run (%zu parameters, epoch %d, next %zu; "
                            "expected %zu parameters, epoch <= %d, next <= %zu)", rs->n_params, rs->epoch, rs->next, P,
                            c->epochs, n);
            goto done;
        }
        memcpy(m->params, rs->params, P * sizeof *m->params);
        if (o.s1) memcpy(o.s1, rs->s1, P * sizeof *o.s1);
        if (o.s2) memcpy(o.s2, rs->s2, P * sizeof *o.s2);
        step = o.t = rs->step;
        e0 = rs->epoch;
        first = rs->next;
        cs_last = rs->last_loss;
        if (c->curve && rs->curve)
            memcpy(c->curve, rs->curve, 3 * sizeof *c->curve * (size_t)(rs->n_curve < e0 ? rs->n_curve : e0));
    }
    CbTrainState cs = {.n_params = P, .params = m->params, .s1 = o.s1, .s2 = o.s2, .last_loss = cs_last,
                       .curve = c->curve};
    for (epoch = e0; epoch < c->epochs; ++epoch) {
        double te = now_s(), ce = cpu_s();
        o.lr = c->lr;
        for (int i = 0; i < c->n_drops; ++i)
            if (c->drop_epochs[i] <= epoch) o.lr *= c->drop_factor;
        for (size_t i = 0; i < n; ++i) perm[i] = i;
        CbStream s = cb_rng_stream(c->seed, c->key, CB_RNG_DATA_ORDER, (uint32_t)epoch);
        cb_rng_shuffle(&s, perm, n);

        int resumed = rs && epoch == e0;
        double loss_sum = resumed ? rs->loss_sum : 0.0;
        size_t correct = resumed ? rs->correct : 0;
        for (size_t i0 = resumed ? first : 0; i0 < n; i0 += B) {
            size_t nb = n - i0 < B ? n - i0 : B, ok = 0;
            for (size_t i = 0; i < nb; ++i) {
                size_t r = perm[i0 + i];
                memcpy(w.xb + i * d, train->x + r * d, d * sizeof *w.xb);
                if (train->y) w.yb[i] = train->y[r];
                if (train->t) memcpy(w.tb + i * k, train->t + r * k, k * sizeof *w.tb);
            }
            forward(m, &w, w.xb, nb);
            double L = loss_grad(c->loss, w.a[m->depth - 1], nb, k, train->y ? w.yb : NULL,
                                 train->t ? w.tb : NULL, w.delta[0], &ok);
            if (!isfinite(L)) {
                st = cb_err_set(__FILE__, __LINE__, CB_ENUMERIC,
                                "training diverged: loss is %g at epoch %d, step %ld (batch %zu of the epoch, lr %g)", L,
                                epoch + 1, step + 1, i0 / B + 1, o.lr);
                cb_err_hint("lower the learning rate (or add a learning-rate drop); check the data for NaN/Inf");
                goto done;
            }
            loss_sum += L * (double)nb;
            correct += ok;
            ++o.t;
            backward(m, &w, w.xb, nb, grad, &o);
            ++step;
            if (c->snapshot_step == step) memcpy(c->snapshot, m->params, P * sizeof *m->params);
            if (c->should_stop && c->should_stop() && (i0 + nb < n || epoch + 1 < c->epochs)) {
                /* stopped from outside: save the exact state, the next run continues it */
                cs.epoch = epoch, cs.next = i0 + nb, cs.step = step, cs.loss_sum = loss_sum, cs.correct = correct;
                cs.n_curve = c->curve ? epoch : 0;
                if (c->checkpoint) {
                    st = c->checkpoint(c->hook_arg, &cs);
                    if (st != CB_OK) goto done;
                }
                st = cb_err_set(__FILE__, __LINE__, CB_ESTOP, "training stopped at epoch %d, step %ld%s", epoch + 1,
                                step, c->checkpoint ? " (checkpoint saved)" : "");
                goto done;
            }
        }
        double ep_time = now_s() - te;
        t_train += ep_time;
        res->cpu_seconds += cpu_s() - ce;
        double ep_loss = loss_sum / (double)n, ep_acc = train->y ? (double)correct / (double)n : 0.0;
        /* the test set: for the printed line, and for the curve when it costs at most
         * ~20% of the epoch (forward only, <= 0.6 n samples) */
        int cheap = c->curve && test && train->y && (double)test->n <= 0.6 * (double)n;
        double tl = NAN, ta = NAN;
        if (test && (!c->quiet || cheap)) {
            st = cb_train_eval(m, c->loss, test, &tl, &ta, NULL);
            if (st != CB_OK) goto done;
        }
        if (c->curve) {
            c->curve[3 * epoch] = ep_loss;
            c->curve[3 * epoch + 1] = train->y ? ep_acc : NAN;
            c->curve[3 * epoch + 2] = cheap ? ta : NAN;
        }
        if (!c->quiet) {
            char tbuf[64] = "";
            if (test) snprintf(tbuf, sizeof tbuf, "  test loss %.4f  test acc %.4f", tl, ta);
            printf("epoch %3d  lr %.3g  loss %.5f  train acc %.4f%s  %.0f samples/s  %.1f s\n", epoch + 1, o.lr,
                   ep_loss, ep_acc, tbuf, (double)n / ep_time, now_s() - t0);
            fflush(stdout);
        }
        if (c->progress) c->progress(c->hook_arg, epoch + 1, c->epochs, ep_loss);
        cs.last_loss = ep_loss;
        if (c->stop_ce > 0 && ep_loss < c->stop_ce) {
            ++epoch;
            break;
        }
        if (c->checkpoint && c->checkpoint_every > 0 && (epoch + 1) % c->checkpoint_every == 0 &&
            epoch + 1 < c->epochs) {
            cs.epoch = epoch + 1, cs.next = 0, cs.step = step, cs.loss_sum = 0, cs.correct = 0;
            cs.n_curve = c->curve ? epoch + 1 : 0;
            st = c->checkpoint(c->hook_arg, &cs);
            if (st != CB_OK) goto done;
        }
    }
    res->epochs_run = epoch;
    res->steps = step;
    res->samples_per_s = t_train > 0 ? (double)n * epoch / t_train : 0.0;
done:
    work_free(&w);
    free(grad);
    free(perm);
    free(o.s1);
    free(o.s2);
    if (st != CB_OK) return st;
    CB_TRY(cb_mlp_check_finite(m, "trained network")); /* a last step can overflow without a NaN loss */
    /* final metrics on the full sets, after the training buffers are gone (lower peak memory) */
    CB_TRY(cb_train_eval(m, c->loss, train, &res->train_loss, &res->train_acc, NULL));
    if (test) CB_TRY(cb_train_eval(m, c->loss, test, &res->test_loss, &res->test_acc, NULL));
    res->seconds = now_s() - t0;
    return CB_OK;
}
