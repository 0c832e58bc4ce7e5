/*
 * features — the random feature map φ of include/cbound/features.h.
 *
 * Fast path: for a block of B images, im2col builds A (B·oh'·ow', c·25) with
 * A[(i, r, s), (ch, u, v)] = x_i[ch, r + u, s + v] − 0.13, one sgemm gives
 * Z = A Wᵀ (B·oh'·ow', F), and a last loop adds b, applies the ReLU, averages
 * p × p blocks and multiplies by the gain into out (F, oh, ow) per image
 * (oh' = h − 4 = p·oh). Float throughout, like the data; the reference loop
 * (cb_features_apply_ref) sums in double and is what the tests compare with.
 * Invariant: φ depends on the CbFeatures fields only (settings, seed, shape).
 */
#include "cbound/features.h"
#include "cbound/data.h"
#include "cbound/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define K CB_FEATURES_KERNEL
#define BLOCK 16 /* images per im2col block: A is 16·576·25 floats = 0.9 MB for MNIST (64 was slower) */

static const char *const NAMES[CB_FEATURES_N_KINDS] = {"none", "conv", "conv_abs"};

const char *cb_features_name(CbFeaturesKind k)
{
    return (unsigned)k < CB_FEATURES_N_KINDS ? NAMES[k] : "?";
}

CbStatus cb_features_parse(const char *name, CbFeaturesKind *out)
{
    for (int k = CB_FEATURES_NONE; k < CB_FEATURES_N_KINDS; ++k)
        if (!strcmp(name, NAMES[k])) {
            *out = (CbFeaturesKind)k;
            return CB_OK;
        }
    CbStatus st = CB_ERR(CB_EINVAL, "data features: expected none, conv or conv_abs, found '%s'", name);
    cb_err_hint("conv = random 5x5 filters, ReLU, average pooling; conv_abs: |.| instead of the ReLU (docs/data.md)");
    return st;
}

/* x is a finite bfloat16 value: its float32 has 16 zero low bits. */
static int is_bfloat16(double x)
{
    float f = (float)x;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (double)f == x && isfinite(f) && (u & 0xffffu) == 0;
}

CbStatus cb_features_check(const CbFeatures *f, const char **bad)
{
    const char *dummy;
    if (!bad) bad = &dummy;
    *bad = "features";
    if ((unsigned)f->kind >= CB_FEATURES_N_KINDS)
        return CB_ERR(CB_EINVAL, "data features: expected kind none (0), conv (1) or conv_abs (2), found %d",
                      (int)f->kind);
    if (f->kind == CB_FEATURES_NONE) return CB_OK;
    if (f->filters < 1 || f->filters > CB_FEATURES_MAX_FILTERS) {
        *bad = "conv_filters";
        return CB_ERR(CB_EINVAL, "data conv_filters: expected 1..%d random filters, found %zu", CB_FEATURES_MAX_FILTERS,
                      f->filters);
    }
    if (f->pool < 1 || f->pool > CB_FEATURES_MAX_POOL) {
        *bad = "conv_pool";
        return CB_ERR(CB_EINVAL, "data conv_pool: expected a pooling size in 1..%d, found %zu", CB_FEATURES_MAX_POOL,
                      f->pool);
    }
    if (!(f->gain > 0) || !is_bfloat16(f->gain)) {
        *bad = "conv_gain";
        float lo = (float)f->gain, hi; /* the bfloat16 values around the gain, for the hint */
        uint32_t u;
        memcpy(&u, &lo, sizeof u);
        u &= 0xffff0000u;
        memcpy(&lo, &u, sizeof u);
        u += 0x10000u;
        memcpy(&hi, &u, sizeof u);
        CbStatus st = CB_ERR(CB_EINVAL, "data conv_gain: expected a finite bfloat16 value > 0 (8 significant bits, "
                             "the model codes write 16 bits), found %.9g", f->gain);
        if (isfinite(f->gain) && f->gain > 0)
            cb_err_hint("e.g. 10, 12 or 0.125; the bfloat16 values next to %.9g are %.9g and %.9g", f->gain, (double)lo,
                        (double)hi);
        return st;
    }
    if (f->in_c < 1 || f->in_h < K || f->in_w < K) {
        CbStatus st = CB_ERR(CB_EINVAL, "data features conv: expected images of at least %dx%d pixels, found "
                             "%zu channel(s) of %zu x %zu", K, K, f->in_c, f->in_h, f->in_w);
        cb_err_hint("the conv feature map is for image data (fashion-mnist, mnist, cifar10), not csv or gaussian");
        return st;
    }
    if ((f->in_h - K + 1) % f->pool || (f->in_w - K + 1) % f->pool) {
        *bad = "conv_pool";
        CbStatus st = CB_ERR(CB_EINVAL, "data conv_pool: expected a divisor of the convolution's %zu x %zu outputs "
                             "(images %zu x %zu, 5x5 filters), found %zu", f->in_h - K + 1, f->in_w - K + 1, f->in_h,
                             f->in_w, f->pool);
        cb_err_hint("28 x 28 images: conv_pool 1, 2, 3, 4, 6, 8, 12 or 24; 32 x 32: 1, 2, 4, 7, 14 or 28");
        return st;
    }
    return CB_OK;
}

size_t cb_features_dim(const CbFeatures *f)
{
    if (f->kind == CB_FEATURES_NONE) return f->in_c * f->in_h * f->in_w;
    return f->filters * ((f->in_h - K + 1) / f->pool) * ((f->in_w - K + 1) / f->pool);
}

void cb_features_filters(const CbFeatures *f, float *W, float *b)
{
    size_t nw = f->filters * f->in_c * K * K;
    double sd = 1.0 / sqrt((double)(f->in_c * K * K));
    CbStream s = cb_rng_stream(f->seed, CB_DATA_RNG_KEY, CB_RNG_FEATURES, 0);
    for (size_t i = 0; i < nw; ++i) W[i] = (float)(sd * cb_rng_normal(&s));
    for (size_t i = 0; i < f->filters; ++i) b[i] = (float)(CB_FEATURES_BIAS_SD * cb_rng_normal(&s));
}

int cb_features_same(const CbFeatures *a, const CbFeatures *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind == CB_FEATURES_NONE) return 1;
    return a->filters == b->filters && a->pool == b->pool && a->gain == b->gain && a->seed == b->seed &&
           a->in_c == b->in_c && a->in_h == b->in_h && a->in_w == b->in_w;
}

/* ------------------------------------------------------------------ fast path */

/* What both paths do first: check f; kind none copies x to out and sets *done. */
static CbStatus identity_or_check(const CbFeatures *f, const float *x, size_t n, float *out, int *done)
{
    CB_TRY(cb_features_check(f, NULL));
    *done = f->kind == CB_FEATURES_NONE;
    if (*done) memcpy(out, x, n * cb_features_dim(f) * sizeof *out);
    return CB_OK;
}

CbStatus cb_features_apply(const CbFeatures *f, const float *x, size_t n, float *out)
{
    int done;
    CB_TRY(identity_or_check(f, x, n, out, &done));
    if (done) return CB_OK;
    size_t c = f->in_c, h = f->in_h, w = f->in_w, F = f->filters, p = f->pool;
    size_t din = c * h * w, dout = cb_features_dim(f);
    size_t ch = h - K + 1, cw = w - K + 1, oh = ch / p, ow = cw / p, pos = ch * cw, ck = c * K * K;
    float *W = cb_malloc(F * ck * sizeof *W), *b = cb_malloc(F * sizeof *b); // W (F, c·25), b (F)
    cb_features_filters(f, W, b);
    float *A = cb_malloc(BLOCK * pos * ck * sizeof *A); // (B·pos, c·25) im2col rows
    float *Z = cb_malloc(BLOCK * pos * F * sizeof *Z);  // (B·pos, F) conv outputs
    const float inv = (float)(1.0 / (double)(p * p)), gain = (float)f->gain, shift = (float)CB_FEATURES_SHIFT;
    const int absolute = f->kind == CB_FEATURES_CONV_ABS; /* |.| instead of the ReLU */
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t nb = n - i0 < BLOCK ? n - i0 : BLOCK;
        for (size_t i = 0; i < nb; ++i) {
            const float *xi = x + (i0 + i) * din; // (c, h, w)
            for (size_t r = 0; r < ch; ++r)
                for (size_t s = 0; s < cw; ++s) {
                    float *a = A + ((i * ch + r) * cw + s) * ck;
                    for (size_t q = 0; q < c; ++q)
                        for (size_t u = 0; u < K; ++u) {
                            const float *row = xi + (q * h + r + u) * w + s;
                            for (size_t v = 0; v < K; ++v) *a++ = row[v] - shift;
                        }
                }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(nb * pos), (int)F, (int)ck, 1.0f, A, (int)ck, W,
                    (int)ck, 0.0f, Z, (int)F);
        for (size_t i = 0; i < nb; ++i) {
            float *o = out + (i0 + i) * dout; // (F, oh, ow)
            memset(o, 0, dout * sizeof *o);
            const float *zi = Z + i * pos * F;
            for (size_t r = 0; r < ch; ++r)
                for (size_t s = 0; s < cw; ++s) {
                    const float *zp = zi + (r * cw + s) * F;
                    size_t cell = (r / p) * ow + s / p;
                    for (size_t j = 0; j < F; ++j) {
                        float v = zp[j] + b[j];
                        if (absolute) o[j * oh * ow + cell] += fabsf(v);
                        else if (v > 0) o[j * oh * ow + cell] += v;
                    }
                }
            for (size_t j = 0; j < dout; ++j) o[j] *= inv * gain;
        }
    }
    free(W);
    free(b);
    free(A);
    free(Z);
    return CB_OK;
}

/* ------------------------------------------------------------------ reference */

CbStatus cb_features_apply_ref(const CbFeatures *f, const float *x, size_t n, float *out)
{
    int done;
    CB_TRY(identity_or_check(f, x, n, out, &done));
    if (done) return CB_OK;
    size_t c = f->in_c, h = f->in_h, w = f->in_w, F = f->filters, p = f->pool;
    size_t din = c * h * w, dout = cb_features_dim(f);
    size_t oh = (h - K + 1) / p, ow = (w - K + 1) / p;
    float *W = cb_malloc(F * c * K * K * sizeof *W), *b = cb_malloc(F * sizeof *b);
    cb_features_filters(f, W, b);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < F; ++j)
            for (size_t P = 0; P < oh; ++P)
                for (size_t Q = 0; Q < ow; ++Q) {
                    double pooled = 0;
                    for (size_t r = P * p; r < (P + 1) * p; ++r)
                        for (size_t s = Q * p; s < (Q + 1) * p; ++s) {
                            double z = b[j];
                            for (size_t q = 0; q < c; ++q)
                                for (size_t u = 0; u < K; ++u)
                                    for (size_t v = 0; v < K; ++v)
                                        z += (double)W[((j * c + q) * K + u) * K + v] *
                                             ((double)x[i * din + (q * h + r + u) * w + s + v] - CB_FEATURES_SHIFT);
                            pooled += f->kind == CB_FEATURES_CONV_ABS ? fabs(z) : z > 0 ? z : 0;
                        }
                    out[i * dout + (j * oh + P) * ow + Q] = (float)(f->gain * pooled / (double)(p * p));
                }
    free(W);
    free(b);
    return CB_OK;
}
