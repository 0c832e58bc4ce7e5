/*
 * subspace — the `subspace` method: compressible training for the Occam bound
 * (Lotfi et al. 2022, "PAC-Bayes Compression Bounds So Tight That They Can
 * Explain Generalization", Sec. 4; Li et al. 2018 for the random subspace).
 *
 *   1. theta = theta_0 + P z, z = 0 (include/cbound/subspace.h for theta_0, P).
 *   2. Train z with Adam on minibatches (cosine learning-rate decay, `epochs`):
 *      the gradient in z is P^T (gradient in theta), the network's own backward
 *      pass (cb_train_loss_grad) giving the latter.
 *   3. Quantize z to `levels` levels (k-means or uniform, cb_code_quantize).
 *   4. Quantization-aware fine-tuning (`qat_epochs`): the forward pass uses
 *      z^ = c[nearest level of z]; the gradient in z^ updates z straight through
 *      (Bengio et al. 2013) and the levels c by their summed gradients.
 *   4b. Optionally (`refine` rounds) a local search moves single symbols of z^ to
 *      a neighbouring level while the full training loss drops (cb_subspace_refine).
 *   5. Round the levels to bfloat16, encode (seed, tag, d, nnz, codebook, counts,
 *      arithmetic-coded symbols), decode, and hand back the decoded network; its
 *      code length goes into the code_bits* columns and the task driver bounds it
 *      (cb_code_task_bound).
 * The stage's trained weights are not used, only its architecture: the method
 * trains its own network from theta_0 (the original's metrics stay for
 * comparison). Series: "subspace_loss" (mean training loss per epoch),
 * "subspace_err" (training error before quantization, i = 0, and decoded, i = 1)
 * and, with refine, "subspace_refine" (training loss before, i = 0, and after, i = 1).
 * Streams: theta_0 (seed, tag, CB_RNG_INIT, layer); P (seed, tag,
 * CB_RNG_COMPRESS, CB_SUBSPACE_STREAM), tag = the low 16 bits of the task key (the
 * code carries the tag, not the 64-bit key: include/cbound/subspace.h); minibatch
 * order (seed, key, CB_RNG_DATA_ORDER, epoch).
 */
#include "cbound/subspace.h"
#include "cbound/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ theta_0 and P */

CbStatus cb_subspace_alloc(const CbMlp *m, size_t d, int nnz, uint64_t seed, uint64_t key, CbSubspace **out)
{
    if (d < 1 || nnz < 1 || nnz > 64)
        return CB_ERR(CB_EINVAL, "subspace: expected d >= 1 and 1 <= nnz <= 64, found d %zu, nnz %d", d, nnz);
    CbSubspace *s = cb_calloc(1, sizeof *s);
    s->D = m->n_params;
    s->d = d;
    s->nnz = nnz;
    s->col = cb_malloc(s->D * (size_t)nnz * sizeof *s->col);
    s->val = cb_malloc(s->D * (size_t)nnz * sizeof *s->val);
    CbMlp *init = cb_mlp_clone(m);
    cb_mlp_init(init, CB_INIT_KAIMING_UNIFORM, 1.0, seed, key);
    s->theta0 = cb_malloc(s->D * sizeof *s->theta0);
    memcpy(s->theta0, init->params, s->D * sizeof *s->theta0);
    cb_mlp_free(init);
    CbStream st = cb_rng_stream(seed, key, CB_RNG_COMPRESS, CB_SUBSPACE_STREAM);
    for (int l = 0; l < m->depth; ++l) {
        float v = (float)(1.0 / sqrt((double)m->widths[l] * nnz)); /* s_l / sqrt(nnz) */
        size_t n_w = m->widths[l + 1] * m->widths[l];
        size_t ranges[2][2] = {{m->offset_W[l], n_w}, {m->bias ? m->offset_b[l] : 0, m->bias ? m->widths[l + 1] : 0}};
        for (int r = 0; r < 2; ++r)
            for (size_t i = ranges[r][0]; i < ranges[r][0] + ranges[r][1]; ++i)
                for (int t = 0; t < nnz; ++t) {
                    uint64_t u = cb_rng_below(&st, 2 * (uint64_t)d); /* column and sign in one draw */
                    s->col[i * nnz + t] = (uint32_t)(u >> 1);
                    s->val[i * nnz + t] = (u & 1) ? v : -v;
                }
    }
    *out = s;
    return CB_OK;
}

void cb_subspace_free(CbSubspace *s)
{
    if (!s) return;
    free(s->col);
    free(s->val);
    free(s->theta0);
    free(s);
}

void cb_subspace_expand(const CbSubspace *s, const float *z, float *theta)
{
    int k = s->nnz;
    for (size_t i = 0; i < s->D; ++i) {
        float acc = s->theta0[i];
        for (int t = 0; t < k; ++t) acc += s->val[i * k + t] * z[s->col[i * k + t]];
        theta[i] = acc;
    }
}

void cb_subspace_project(const CbSubspace *s, const float *g, float *gz)
{
    int k = s->nnz;
    memset(gz, 0, s->d * sizeof *gz);
    for (size_t i = 0; i < s->D; ++i)
        for (int t = 0; t < k; ++t) gz[s->col[i * k + t]] += s->val[i * k + t] * g[i];
}

/* ------------------------------------------------------------------ the subspace code */

float cb_subspace_level_round(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) return x; /* inf, nan: as they are */
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u; /* to nearest, ties to even */
    memcpy(&x, &u, sizeof u);
    return x;
}

CbStatus cb_subspace_encode(const CbMlp *shape, const CbFeatures *phi, uint64_t seed, uint32_t tag, size_t d,
                            int nnz, const float *codebook, int k, const uint32_t *sym, CbBits *out,
                            CbCodeBits *bits)
{
    memset(bits, 0, sizeof *bits);
    if (phi && phi->kind != CB_FEATURES_NONE) {
        CB_TRY(cb_features_check(phi, NULL));
        if (phi->seed != seed) {
            CbStatus st = CB_ERR(CB_EINVAL, "subspace code: the feature map's seed %llu is not the code's seed %llu "
                                 "(the code keys φ by its own seed and does not write another)",
                                 (unsigned long long)phi->seed, (unsigned long long)seed);
            cb_err_hint("leave data.seed out (it defaults to the sweep seed) when data.features is set");
            return st;
        }
    }
    if (k < 1 || d > (1u << 30) || seed >= (1ull << 62) || tag >> CB_SUBSPACE_TAG_BITS)
        return CB_ERR(CB_EINVAL, "subspace code: expected k >= 1, d <= 2^30, seed < 2^62 and a %d-bit tag, "
                      "found k %d, d %zu, seed %llu, tag %u", CB_SUBSPACE_TAG_BITS, k, d, (unsigned long long)seed, tag);
    for (int j = 0; j < k; ++j)
        if (!isfinite(codebook[j]) || cb_subspace_level_round(codebook[j]) != codebook[j])
            return CB_ERR(CB_EINVAL, "subspace code: level %d (%.9g) is not a finite bfloat16 value "
                          "(hint: cb_subspace_level_round)", j, (double)codebook[j]);
    size_t mark = out->n_bits;
    cb_code_put_features(out, phi); /* nothing without a feature map */
    cb_code_put_header(out, CB_CODE_SUBSPACE, shape);
    bits->arch = (double)(out->n_bits - mark);
    mark = out->n_bits;
    cb_code_put_delta(out, seed + 1);
    cb_code_put_uint(out, tag, CB_SUBSPACE_TAG_BITS);
    bits->key = (double)(out->n_bits - mark);
    mark = out->n_bits;
    cb_code_put_delta(out, d);
    cb_code_put_gamma(out, (uint64_t)nnz);
    bits->hyper = (double)(out->n_bits - mark);
    mark = out->n_bits;
    cb_code_put_gamma(out, (uint64_t)k);
    for (int j = 0; j < k; ++j) { /* the upper half of the float32: bfloat16 */
        uint32_t u;
        memcpy(&u, &codebook[j], sizeof u);
        cb_code_put_uint(out, u >> 16, 16);
    }
    bits->codebook = (double)(out->n_bits - mark);
    cb_code_put_symbols(out, sym, d, k, bits);
    bits->total = bits->arch + bits->key + bits->hyper + bits->codebook + bits->counts + bits->symbols;
    return CB_OK;
}

CbStatus cb_subspace_decode(CbBits *in, CbMlp **out, CbFeatures *phi_out)
{
    CbMlp *m;
    CbFeatures phi;
    *out = NULL;
    if (phi_out) memset(phi_out, 0, sizeof *phi_out);
    CB_TRY(cb_code_get_start(in, CB_CODE_SUBSPACE, "subspace", &phi, &m));
    CbStatus st = CB_OK;
    uint64_t seed = cb_code_get_delta(in) - 1, tag = cb_code_get_uint(in, CB_SUBSPACE_TAG_BITS);
    uint64_t d = cb_code_get_delta(in), nnz = cb_code_get_gamma(in), k = cb_code_get_gamma(in);
    if (st == CB_OK && phi.kind != CB_FEATURES_NONE && m->widths[0] != cb_features_dim(&phi))
        st = CB_ERR(CB_EFORMAT, "subspace code: input width %zu is not the feature map's %zu features", m->widths[0],
                    cb_features_dim(&phi));
    if (st == CB_OK && (in->overrun || seed >= (1ull << 62) || d < 1 || d > (1u << 30) || nnz < 1 || nnz > 64 || k < 1 || k > d))
        st = CB_ERR(CB_EFORMAT, "subspace code: unreadable seed %llu, d %llu, nnz %llu or k %llu", (unsigned long long)seed,
                    (unsigned long long)d, (unsigned long long)nnz, (unsigned long long)k);
    if (st != CB_OK) {
        cb_mlp_free(m);
        return st;
    }
    float *book = cb_malloc(k * sizeof *book), *z = cb_malloc(d * sizeof *z);
    for (uint64_t j = 0; j < k; ++j) {
        uint32_t u = (uint32_t)cb_code_get_uint(in, 16) << 16;
        memcpy(&book[j], &u, sizeof u);
    }
    uint32_t *sym = cb_calloc(d, sizeof *sym);
    st = cb_code_get_symbols(in, sym, d, (int)k);
    if (st == CB_OK && in->overrun) st = CB_ERR(CB_EFORMAT, "subspace code: the code ends early");
    CbSubspace *s = NULL;
    if (st == CB_OK) st = cb_subspace_alloc(m, d, (int)nnz, seed, tag, &s);
    if (st == CB_OK) {
        for (uint64_t i = 0; i < d; ++i) z[i] = book[sym[i]];
        cb_subspace_expand(s, z, m->params);
    }
    cb_subspace_free(s);
    free(book);
    free(z);
    free(sym);
    if (st != CB_OK) {
        cb_mlp_free(m);
        return st;
    }
    phi.seed = phi.kind != CB_FEATURES_NONE ? seed : 0; /* φ is keyed by the code's seed */
    if (phi_out) *phi_out = phi;
    *out = m;
    return CB_OK;
}

/* ------------------------------------------------------------------ the method */

typedef struct {
    float *m, *v; /* Adam moments */
    double b1t, b2t;
} Adam;

static void adam_init(Adam *a, size_t n)
{
    a->m = cb_calloc(n, sizeof *a->m);
    a->v = cb_calloc(n, sizeof *a->v);
    a->b1t = a->b2t = 1;
}

static void adam_free(Adam *a)
{
    free(a->m);
    free(a->v);
}

/* PyTorch's Adam (beta 0.9, 0.999, eps 1e-8) on x (n) with gradient g. */
static void adam_step(Adam *a, float *x, const float *g, size_t n, double lr)
{
    a->b1t *= 0.9;
    a->b2t *= 0.999;
    double c1 = 1 - a->b1t, c2 = 1 - a->b2t;
    for (size_t i = 0; i < n; ++i) {
        a->m[i] = 0.9f * a->m[i] + 0.1f * g[i];
        a->v[i] = 0.999f * a->v[i] + 0.001f * g[i] * g[i];
        x[i] -= (float)(lr * (a->m[i] / c1) / (sqrt(a->v[i] / c2) + 1e-8));
    }
}

static const char *const sub_params[] = {"d", "levels", "quant", "epochs", "qat_epochs", "lr", "batch", "proj_nnz", "refine", NULL};
static const char *const sub_defaults[] = {"1000", "7", "kmeans", "30", "10", "0.01", "512", "4", "0", NULL};

static CbStatus sub_check(const CbParams *p)
{
    double d = cb_params_num(p, "d", 1000), L = cb_params_num(p, "levels", 7), e = cb_params_num(p, "epochs", 30);
    double q = cb_params_num(p, "qat_epochs", 10), lr = cb_params_num(p, "lr", 0.01), b = cb_params_num(p, "batch", 512);
    double s = cb_params_num(p, "proj_nnz", 4);
    if (!(d >= 1 && d <= 1e7 && d == floor(d)))
        return CB_ERR(CB_EINVAL, "d: expected an integer subspace dimension in 1..1e7, found '%s'", cb_params_text(p, "d", ""));
    if (!(L >= 1 && L <= 256 && L == floor(L)))
        return CB_ERR(CB_EINVAL, "levels: expected an integer in 1..256, found '%s'", cb_params_text(p, "levels", ""));
    if (!(e >= 0 && e <= 1e5 && e == floor(e)) || !(q >= 0 && q <= 1e5 && q == floor(q)))
        return CB_ERR(CB_EINVAL, "epochs, qat_epochs: expected integers >= 0, found '%s', '%s'",
                      cb_params_text(p, "epochs", ""), cb_params_text(p, "qat_epochs", ""));
    if (!(lr > 0 && lr < 10)) return CB_ERR(CB_EINVAL, "lr: expected a learning rate in (0, 10), found '%s'", cb_params_text(p, "lr", ""));
    if (!(b >= 1 && b <= 1e6 && b == floor(b)))
        return CB_ERR(CB_EINVAL, "batch: expected an integer in 1..1e6, found '%s'", cb_params_text(p, "batch", ""));
    double rf = cb_params_num(p, "refine", 0);
    if (!(rf >= 0 && rf <= 1e5 && rf == floor(rf)))
        return CB_ERR(CB_EINVAL, "refine: expected an integer number of rounds >= 0, found '%s'", cb_params_text(p, "refine", ""));
    if (!(s >= 1 && s <= 64 && s == floor(s)))
        return CB_ERR(CB_EINVAL, "proj_nnz: expected an integer in 1..64, found '%s'", cb_params_text(p, "proj_nnz", ""));
    CbQuant qk;
    return cb_code_quant_parse(cb_params_text(p, "quant", "kmeans"), &qk);
}

/* Sort the codebook ascending with its Adam moments (the nearest-level search needs order). */
static void sort_levels(float *c, Adam *a, int k)
{
    for (int i = 1; i < k; ++i)
        for (int j = i; j > 0 && c[j] < c[j - 1]; --j) {
            float t = c[j]; c[j] = c[j - 1]; c[j - 1] = t;
            t = a->m[j]; a->m[j] = a->m[j - 1]; a->m[j - 1] = t;
            t = a->v[j]; a->v[j] = a->v[j - 1]; a->v[j - 1] = t;
        }
}

/* ------------------------------------------------------------------ refine: local search on z^ */

static int by_gain(const void *a, const void *b, void *gain)
{
    double x = ((const double *)gain)[*(const size_t *)a], y = ((const double *)gain)[*(const size_t *)b];
    return (x > y) - (x < y);
}

/* Apply the moves idx[0..take) (symbol j to to[j]), keeping z^ = book[sym]; the old symbols go
 * to `to`, so the same call undoes them. */
static void swap_moves(const size_t *idx, size_t take, uint32_t *sym, uint32_t *to, const float *book, float *zq)
{
    for (size_t i = 0; i < take; ++i) {
        size_t j = idx[i];
        uint32_t t = sym[j];
        sym[j] = to[j];
        to[j] = t;
        zq[j] = book[sym[j]];
    }
}

CbStatus cb_subspace_refine(CbMlp *net, const CbSubspace *s, const CbData *tr, CbLoss loss, const float *book, int k,
                            uint32_t *sym, int rounds, double *loss_before, double *loss_after)
{
    size_t d = s->d, D = s->D, m = d / 50 + 1;
    if (rounds < 0 || k < 1 || k > 256 || net->n_params != D)
        return CB_ERR(CB_EINVAL, "subspace refine: expected rounds >= 0, 1 <= k <= 256 and a network of %zu parameters, "
                      "found %d, %d, %zu", D, rounds, k, net->n_params);
    float *zq = cb_malloc(d * sizeof *zq), *grad = cb_malloc(D * sizeof *grad), *gz = cb_malloc(d * sizeof *gz);
    double *gain = cb_malloc(d * sizeof *gain);
    size_t *idx = cb_malloc(d * sizeof *idx);
    uint32_t *to = cb_malloc(d * sizeof *to);
    uint8_t *tabu = cb_calloc(d, 1); /* a single move that was undone, until the next kept one */
    for (size_t j = 0; j < d; ++j) zq[j] = book[sym[j]];
    cb_subspace_expand(s, zq, net->params);
    double cur = cb_train_loss_grad(net, loss, tr->x, tr->y, tr->t, tr->n, grad);
    *loss_before = cur;
    cb_subspace_project(s, grad, gz);
    for (int r = 0; r < rounds; ++r) {
        size_t nc = 0;
        for (size_t j = 0; j < d; ++j) { /* the best neighbouring level of z^_j to first order */
            double best = 0;
            uint32_t bt = sym[j];
            for (int t = (int)sym[j] - 1; t <= (int)sym[j] + 1; t += 2)
                if (t >= 0 && t < k) {
                    double g = (double)gz[j] * ((double)book[t] - (double)book[sym[j]]);
                    if (g < best) best = g, bt = (uint32_t)t;
                }
            if (bt != sym[j] && !tabu[j]) {
                gain[j] = best;
                to[j] = bt;
                idx[nc++] = j;
            }
        }
        if (nc == 0) break;
        qsort_r(idx, nc, sizeof *idx, by_gain, gain);
        size_t take = m < nc ? m : nc;
        swap_moves(idx, take, sym, to, book, zq);
        cb_subspace_expand(s, zq, net->params);
        double next;
        CbStatus st = cb_train_eval(net, loss, tr, &next, NULL, NULL); /* forward only; the gradient if kept */
        if (st != CB_OK) next = INFINITY;
        if (next < cur) {
            cur = next;
            cb_train_loss_grad(net, loss, tr->x, tr->y, tr->t, tr->n, grad);
            cb_subspace_project(s, grad, gz);
            m += m / 2 + 1;
            memset(tabu, 0, d);
        } else {
            swap_moves(idx, take, sym, to, book, zq); /* undo */
            if (take == 1) tabu[idx[0]] = 1;
            m = take > 1 ? take / 2 : 1;
        }
    }
    for (size_t j = 0; j < d; ++j) zq[j] = book[sym[j]];
    cb_subspace_expand(s, zq, net->params); /* net at the final symbols */
    *loss_after = cur;
    free(zq);
    free(grad);
    free(gz);
    free(gain);
    free(idx);
    free(to);
    free(tabu);
    return CB_OK;
}

/* Series "subspace_err": training error at z (i = 0: before quantization, 1: the decoded network). */
static CbStatus record_error(CbMlp *net, const CbSubspace *s, const float *z, const CbData *tr, CbResult *res, int i)
{
    double acc;
    cb_subspace_expand(s, z, net->params);
    CB_TRY(cb_train_eval(net, CB_LOSS_CROSS_ENTROPY, tr, NULL, &acc, NULL));
    cb_result_add_series(res, "subspace_err", i, i, 1 - acc);
    return CB_OK;
}

static CbStatus sub_compress(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    const CbParams *p = ctx->params;
    size_t d = (size_t)cb_params_num(p, "d", 1000), batch = (size_t)cb_params_num(p, "batch", 512);
    int levels = (int)cb_params_num(p, "levels", 7), epochs = (int)cb_params_num(p, "epochs", 30);
    int qat = (int)cb_params_num(p, "qat_epochs", 10), nnz = (int)cb_params_num(p, "proj_nnz", 4);
    int refine = (int)cb_params_num(p, "refine", 0);
    double lr = cb_params_num(p, "lr", 0.01);
    CbQuant quant;
    CB_TRY(cb_code_quant_parse(cb_params_text(p, "quant", "kmeans"), &quant));
    const CbData *tr = ctx->train;
    CbLoss loss = ctx->train_config->loss;
    if (!tr->y || loss != CB_LOSS_CROSS_ENTROPY)
        return CB_ERR(CB_EINVAL, "subspace: needs classification data (cross-entropy); '%s' has none", tr->name);

    CbSubspace *s;
    uint32_t tag = (uint32_t)(ctx->key & ((1u << CB_SUBSPACE_TAG_BITS) - 1));
    CB_TRY(cb_subspace_alloc(out, d, nnz, ctx->seed, tag, &s));
    size_t n = tr->n, w0 = tr->d, D = s->D;
    if (batch > n) batch = n;
    float *z = cb_calloc(d, sizeof *z), *zq = cb_malloc(d * sizeof *zq), *gz = cb_malloc(d * sizeof *gz);
    float *grad = cb_malloc(D * sizeof *grad), *xb = cb_malloc(batch * w0 * sizeof *xb);
    int32_t *yb = cb_malloc(batch * sizeof *yb);
    size_t *perm = cb_malloc(n * sizeof *perm);
    uint32_t *sym = cb_malloc(d * sizeof *sym);
    float book[256], gc[256];
    int k = 0;
    Adam az, ac;
    adam_init(&az, d);
    adam_init(&ac, 256);
    CbStatus st = CB_OK;
    size_t steps_per_epoch = (n + batch - 1) / batch;
    for (int ep = 0; ep < epochs + qat && st == CB_OK; ++ep) {
        int in_qat = ep >= epochs;
        if (ep == epochs) { /* 3. quantize, then fine-tune with the levels in the loop */
            st = record_error(out, s, z, tr, res, 0); /* the price of quantization, for the series */
            if (st == CB_OK) st = cb_code_quantize(z, d, levels, quant, book, &k, sym);
            if (st != CB_OK) break;
        }
        CbStream os = cb_rng_stream(ctx->seed, ctx->key, CB_RNG_DATA_ORDER, (uint32_t)ep);
        for (size_t i = 0; i < n; ++i) perm[i] = i;
        cb_rng_shuffle(&os, perm, n);
        double sum_loss = 0;
        for (size_t b0 = 0; b0 < n; b0 += batch) {
            size_t nb = n - b0 < batch ? n - b0 : batch;
            for (size_t i = 0; i < nb; ++i) {
                memcpy(xb + i * w0, tr->x + perm[b0 + i] * w0, w0 * sizeof *xb);
                yb[i] = tr->y[perm[b0 + i]];
            }
            const float *zf = z;
            if (in_qat) { /* forward at the quantized point z^ */
                cb_code_assign(z, d, book, k, sym);
                for (size_t j = 0; j < d; ++j) zq[j] = book[sym[j]];
                zf = zq;
            }
            cb_subspace_expand(s, zf, out->params);
            sum_loss += (double)nb * cb_train_loss_grad(out, loss, xb, yb, NULL, nb, grad);
            cb_subspace_project(s, grad, gz);
            /* cosine decay within each phase */
            double t = in_qat ? (double)(ep - epochs) / qat : (double)ep / epochs;
            t += (double)(b0 / batch) / (double)steps_per_epoch / (in_qat ? qat : epochs);
            double lr_t = lr * 0.5 * (1 + cos(M_PI * t));
            adam_step(&az, z, gz, d, lr_t); /* straight through in the QAT phase */
            if (in_qat) {
                memset(gc, 0, sizeof gc);
                for (size_t j = 0; j < d; ++j) gc[sym[j]] += gz[j];
                adam_step(&ac, book, gc, (size_t)k, 0.1 * lr_t);
                sort_levels(book, &ac, k);
            }
        }
        if (!isfinite(sum_loss)) st = CB_ERR(CB_ENUMERIC, "subspace: the training loss is not finite at epoch %d", ep);
        if (st == CB_OK) cb_result_add_series(res, "subspace_loss", ep, ep + 1, sum_loss / (double)n);
        if (!ctx->quiet && st == CB_OK)
            printf("subspace d %zu epoch %d%s: train loss %.4f\n", d, ep + 1, in_qat ? " (QAT)" : "", sum_loss / n);
    }
    /* 5. final symbols (drop unused levels), encode, decode, compare */
    CbBits code;
    cb_code_bits_init(&code);
    CbCodeBits bits;
    CbMlp *dec = NULL;
    if (st == CB_OK && k == 0) st = cb_code_quantize(z, d, levels, quant, book, &k, sym); /* qat_epochs = 0 */
    if (st == CB_OK) {
        for (int j = 0; j < k; ++j) book[j] = cb_subspace_level_round(book[j]);
        cb_code_assign(z, d, book, k, sym);
        uint64_t used[256] = {0};
        for (size_t j = 0; j < d; ++j) used[sym[j]] = 1;
        int kk = 0;
        for (int j = 0; j < k; ++j)
            if (used[j]) book[kk++] = book[j];
        k = kk;
        cb_code_assign(z, d, book, k, sym);
        if (refine > 0) { /* 4b. local search on the symbols */
            double l0, l1;
            st = cb_subspace_refine(out, s, tr, loss, book, k, sym, refine, &l0, &l1);
            if (st == CB_OK) {
                cb_result_add_series(res, "subspace_refine", 0, 0, l0);
                cb_result_add_series(res, "subspace_refine", 1, 1, l1);
            }
            if (st == CB_OK && !ctx->quiet) printf("subspace d %zu refine: training loss %.4f -> %.4f\n", d, l0, l1);
        }
        for (size_t j = 0; j < d; ++j) zq[j] = book[sym[j]];
        cb_subspace_expand(s, zq, out->params);
        if (st == CB_OK) st = cb_subspace_encode(out, &tr->phi, ctx->seed, tag, d, nnz, book, k, sym, &code, &bits);
    }
    CbFeatures phi;
    if (st == CB_OK) st = cb_subspace_decode(&code, &dec, &phi);
    if (st == CB_OK && (code.pos != code.n_bits || memcmp(dec->params, out->params, D * sizeof(float)) ||
                        !cb_features_same(&phi, &tr->phi)))
        st = CB_ERR(CB_ENUMERIC, "subspace: the decoded network or feature map differs from the encoded one "
                    "(read %zu of %zu bits)", code.pos, code.n_bits);
    if (st == CB_OK) st = record_error(out, s, zq, tr, res, 1);
    if (st == CB_OK) {
        cb_code_bits_record(&bits, res);
        for (int l = 0; l < out->depth; ++l) res->layers[l].v[CB_L_param] = (double)d;
    }
    cb_mlp_free(dec);
    cb_code_bits_free(&code);
    adam_free(&az);
    adam_free(&ac);
    cb_subspace_free(s);
    free(z);
    free(zq);
    free(gz);
    free(grad);
    free(xb);
    free(yb);
    free(perm);
    free(sym);
    return st;
}

const CbMethod cb_method_subspace = {
    .name = "subspace",
    .version = 1,
    .summary = "train theta_0 + P z in a random d-dim subspace, quantize z to `levels` (+ QAT), arithmetic-code it (Lotfi et al. 2022)",
    .param_names = sub_params,
    .param_defaults = sub_defaults,
    .check = sub_check,
    .compress = sub_compress,
    .standalone = NULL,
};
