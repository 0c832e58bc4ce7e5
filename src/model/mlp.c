/*
 * mlp — fully connected networks: allocation, initialization, forward passes.
 *
 * Layout (see include/cbound/mlp.h): one contiguous float buffer
 *     [W_0 (w1, w0)][b_0 (w1)][W_1 (w2, w1)][b_1 (w2)] ...   row-major, biases only when bias=1.
 * A layer maps a row-major batch X (n, w_in) to Y = σ(X Wᵀ + 1 bᵀ) (n, w_out): one
 * sgemm (dgemm for the double path) followed by one fused bias+activation loop. The
 * last layer has no activation (it returns logits / regression outputs).
 *
 * Activations and their derivatives written in terms of the OUTPUT y = σ(z), so the
 * backward pass (src/model/train.c) only has to keep post-activations:
 *   relu      y = max(z, 0)                          σ' = [y > 0]
 *   identity  y = z                                  σ' = 1
 *   tanh      y = tanh z                             σ' = 1 - y²
 *   softplus  y = log(1 + e^{βz}) / β                σ' = sigmoid(βz) = 1 - e^{-βy}
 *             computed stably as (max(βz,0) + log1p(e^{-|βz|})) / β (seed 000's smooth
 *             ReLU; PyTorch's nn.Softplus(beta) returns z itself when βz > 20, which
 *             differs from this by < 2.1e-9/β).
 * Initialization follows PyTorch's nn.Linear.reset_parameters: kaiming_uniform_ with
 * a = sqrt(5) gives W ~ U(±1/sqrt(fan_in)), and b ~ U(±1/sqrt(fan_in)); the Gaussian
 * option draws W ~ N(0, σ²/fan_in), b = 0. Layer l draws from stream
 * (seed, key, CB_RNG_INIT, l): first W row by row, then b.
 */
#include "cbound/mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ alloc / free */

CbStatus cb_mlp_alloc(int depth, const size_t *widths, CbAct act, double beta, int bias,
                      CbMlp **out)
{
    *out = NULL;
    if (depth < 1) return CB_ERR(CB_EINVAL, "mlp: depth must be >= 1, got %d", depth);
    for (int l = 0; l <= depth; ++l)
        if (widths[l] == 0) return CB_ERR(CB_EINVAL, "mlp: width %d (of %d) is 0", l, depth + 1);
    if ((int)act < 0 || act > CB_ACT_SOFTPLUS)
        return CB_ERR(CB_EINVAL, "mlp: unknown activation code %d", (int)act);
    if (act == CB_ACT_SOFTPLUS && !(beta > 0 && isfinite(beta))) {
        cb_err_set(__FILE__, __LINE__, CB_EINVAL,
                   "mlp: softplus needs a finite beta > 0, got %g", beta);
        cb_err_hint("softplus(x) = log(1 + exp(beta x)) / beta; seed 000 uses beta = 10");
        return CB_EINVAL;
    }
    CbMlp *m = cb_calloc(1, sizeof *m);
    m->depth = depth;
    m->act = act;
    m->beta = act == CB_ACT_SOFTPLUS ? beta : (beta > 0 ? beta : 1.0);
    m->bias = bias ? 1 : 0;
    m->widths = cb_malloc((size_t)(depth + 1) * sizeof *m->widths);
    memcpy(m->widths, widths, (size_t)(depth + 1) * sizeof *m->widths);
    m->W = cb_calloc((size_t)depth, sizeof *m->W);
    m->b = cb_calloc((size_t)depth, sizeof *m->b);
    m->offset_W = cb_calloc((size_t)depth, sizeof *m->offset_W);
    m->offset_b = cb_calloc((size_t)depth, sizeof *m->offset_b);
    size_t off = 0;
    for (int l = 0; l < depth; ++l) {
        m->offset_W[l] = off;
        off += widths[l + 1] * widths[l];
        m->offset_b[l] = off;
        if (m->bias) off += widths[l + 1];
    }
    m->n_params = off;
    m->params = cb_calloc(off, sizeof *m->params);
    for (int l = 0; l < depth; ++l) {
        m->W[l] = m->params + m->offset_W[l];
        m->b[l] = m->bias ? m->params + m->offset_b[l] : NULL;
    }
    *out = m;
    return CB_OK;
}

void cb_mlp_free(CbMlp *m)
{
    if (!m) return;
    free(m->params);
    free(m->W);
    free(m->b);
    free(m->offset_W);
    free(m->offset_b);
    free(m->widths);
    free(m);
}

CbMlp *cb_mlp_clone(const CbMlp *m)
{
    CbMlp *c = NULL;
    if (cb_mlp_alloc(m->depth, m->widths, m->act, m->beta, m->bias, &c) != CB_OK)
        CB_DIE("mlp: cloning a valid network failed: %s", cb_err_msg());
    memcpy(c->params, m->params, m->n_params * sizeof *m->params);
    return c;
}

/* ------------------------------------------------------------------ names */

static const char *const act_names[] = {"relu", "identity", "tanh", "softplus"};

const char *cb_mlp_act_name(CbAct a)
{
    return (int)a >= 0 && a <= CB_ACT_SOFTPLUS ? act_names[a] : "unknown";
}

CbStatus cb_mlp_act_parse(const char *s, CbAct *out)
{
    for (int a = 0; a <= CB_ACT_SOFTPLUS; ++a)
        if (s && !strcmp(s, act_names[a])) {
            *out = (CbAct)a;
            return CB_OK;
        }
    if (s && !strcmp(s, "linear")) {
        *out = CB_ACT_IDENTITY;
        return CB_OK;
    }
    cb_err_set(__FILE__, __LINE__, CB_EINVAL, "activation: expected relu, identity, tanh or softplus, found '%s'",
               s ? s : "(null)");
    cb_err_hint("softplus takes its sharpness from a separate beta setting");
    return CB_EINVAL;
}

size_t cb_mlp_max_width(const CbMlp *m)
{
    size_t w = 0;
    for (int l = 0; l <= m->depth; ++l)
        if (m->widths[l] > w) w = m->widths[l];
    return w;
}

/* ------------------------------------------------------------------ init */

void cb_mlp_init(CbMlp *m, CbInit kind, double sigma, uint64_t seed, uint64_t key)
{
    for (int l = 0; l < m->depth; ++l) {
        size_t fan_in = m->widths[l], fan_out = m->widths[l + 1];
        CbStream s = cb_rng_stream(seed, key, CB_RNG_INIT, (uint32_t)l);
        float *W = m->W[l], *b = m->b[l];
        if (kind == CB_INIT_GAUSSIAN) {
            double sd = sigma / sqrt((double)fan_in);
            for (size_t i = 0; i < fan_out * fan_in; ++i) W[i] = (float)(sd * cb_rng_normal(&s));
            if (b) memset(b, 0, fan_out * sizeof *b);
        } else {
            double bound = 1.0 / sqrt((double)fan_in);
            for (size_t i = 0; i < fan_out * fan_in; ++i)
                W[i] = (float)(bound * (2.0 * cb_rng_uniform(&s) - 1.0));
            if (b)
                for (size_t i = 0; i < fan_out; ++i) b[i] = (float)(bound * (2.0 * cb_rng_uniform(&s) - 1.0));
        }
    }
}

/* ------------------------------------------------------------------ vector kernels
 * The build targets baseline x86-64 (SSE2) and -O2, where GCC does not vectorize
 * loops of unknown length; the elementwise work of a training step (bias + ReLU,
 * ReLU backward, optimizer updates in train.c) then costs a third of the time of
 * the sgemm calls. These AVX2 versions are chosen at run time when the CPU has
 * AVX2. The ReLU/identity/tanh-backward ones perform the same IEEE operations in the
 * same order as the portable loops (no FMA contraction), so both paths give
 * bit-identical results, which tests/test_train.c checks by switching with
 * cb_mlp_simd(0); tanh and softplus use libmvec (below). */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CB_HAVE_AVX2_KERNELS 1
#define CB_TARGET_AVX2 __attribute__((target("avx2")))

CB_TARGET_AVX2 static void bias_relu_avx2(float *r, const float *b, size_t w, int relu)
{
    const __m256 zero = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= w; j += 8) {
        __m256 v = _mm256_loadu_ps(r + j);
        if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + j));
        if (relu) v = _mm256_max_ps(v, zero); /* max(v, 0): NaN -> 0 like the scalar v > 0 ? v : 0 */
        _mm256_storeu_ps(r + j, v);
    }
    for (; j < w; ++j) {
        float v = b ? r[j] + b[j] : r[j];
        r[j] = relu ? (v > 0.0f ? v : 0.0f) : v;
    }
}

CB_TARGET_AVX2 static void relu_backward_avx2(const float *y, float *dy, size_t count)
{
    const __m256 zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 keep = _mm256_cmp_ps(_mm256_loadu_ps(y + i), zero, _CMP_GT_OQ);
        _mm256_storeu_ps(dy + i, _mm256_and_ps(keep, _mm256_loadu_ps(dy + i)));
    }
    for (; i < count; ++i) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* tanh backward dy *= 1 - y² is plain arithmetic (bit-identical to the scalar loop). */
CB_TARGET_AVX2 static void tanh_backward_avx2(const float *y, float *dy, size_t count)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(y + i);
        _mm256_storeu_ps(dy + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), _mm256_sub_ps(one, _mm256_mul_ps(v, v))));
    }
    for (; i < count; ++i) dy[i] *= 1.0f - y[i] * y[i];
}

/* tanh and softplus need exp/log1p/tanh on 8 floats at a time: glibc's vector math
 * library (libmvec, glibc >= 2.35, linked through -lm) has them, accurate to within
 * 4 ulp. These results are not bit-identical to the scalar libm calls (within 4 ulp
 * of them; test_mlp and test_train compare both with tolerances). */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define CB_HAVE_LIBMVEC 1
CB_TARGET_AVX2 __m256 _ZGVdN8v_expf(__m256 x);
CB_TARGET_AVX2 __m256 _ZGVdN8v_expm1f(__m256 x);
CB_TARGET_AVX2 __m256 _ZGVdN8v_log1pf(__m256 x);
CB_TARGET_AVX2 __m256 _ZGVdN8v_tanhf(__m256 x);

CB_TARGET_AVX2 static void bias_tanh_avx2(float *r, const float *b, size_t w)
{
    size_t j = 0;
    for (; j + 8 <= w; j += 8) {
        __m256 v = _mm256_loadu_ps(r + j);
        if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + j));
        _mm256_storeu_ps(r + j, _ZGVdN8v_tanhf(v));
    }
    for (; j < w; ++j) r[j] = tanhf(b ? r[j] + b[j] : r[j]);
}

/* softplus(v) = (max(βv, 0) + log1p(e^{-|βv|})) / β, as in the scalar loop */
CB_TARGET_AVX2 static void bias_softplus_avx2(float *r, const float *b, size_t w, float beta, float inv_beta)
{
    const __m256 vb = _mm256_set1_ps(beta), vinv = _mm256_set1_ps(inv_beta), zero = _mm256_setzero_ps(),
                 sign = _mm256_set1_ps(-0.0f);
    size_t j = 0;
    for (; j + 8 <= w; j += 8) {
        __m256 v = _mm256_loadu_ps(r + j);
        if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + j));
        __m256 z = _mm256_mul_ps(vb, v);
        __m256 e = _ZGVdN8v_expf(_mm256_or_ps(z, sign)); /* e^{-|z|} */
        _mm256_storeu_ps(r + j, _mm256_mul_ps(_mm256_add_ps(_mm256_max_ps(z, zero), _ZGVdN8v_log1pf(e)), vinv));
    }
    for (; j < w; ++j) {
        float z = beta * (b ? r[j] + b[j] : r[j]);
        r[j] = (fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z)))) * inv_beta;
    }
}

/* softplus backward: dy *= 1 - e^{-βy} = -expm1(-βy) */
CB_TARGET_AVX2 static void softplus_backward_avx2(const float *y, float *dy, size_t count, float beta)
{
    const __m256 vnb = _mm256_set1_ps(-beta), sign = _mm256_set1_ps(-0.0f);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 d = _mm256_xor_ps(_ZGVdN8v_expm1f(_mm256_mul_ps(vnb, _mm256_loadu_ps(y + i))), sign);
        _mm256_storeu_ps(dy + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), d));
    }
    for (; i < count; ++i) dy[i] *= -expm1f(-beta * y[i]);
}
#else
#define CB_HAVE_LIBMVEC 0
#endif
#else
#define CB_HAVE_AVX2_KERNELS 0
#define CB_HAVE_LIBMVEC 0
#endif

static int simd_on = 1;

int cb_mlp_simd(int mode)
{
    if (mode >= 0) simd_on = mode ? 1 : 0;
#if CB_HAVE_AVX2_KERNELS
    return simd_on && __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------ activations */

void cb_mlp_bias_act(const CbMlp *m, int l, float *y, size_t n)
{
    size_t w = m->widths[l + 1];
    const float *b = m->b[l];
    CbAct act = l == m->depth - 1 ? CB_ACT_IDENTITY : m->act;
    float beta = (float)m->beta, inv_beta = 1.0f / beta;
#if CB_HAVE_AVX2_KERNELS
    if (cb_mlp_simd(-1)) {
        if (act == CB_ACT_RELU || act == CB_ACT_IDENTITY) {
            for (size_t i = 0; i < n; ++i) bias_relu_avx2(y + i * w, b, w, act == CB_ACT_RELU);
            return;
        }
#if CB_HAVE_LIBMVEC
        if (act == CB_ACT_TANH) {
            for (size_t i = 0; i < n; ++i) bias_tanh_avx2(y + i * w, b, w);
            return;
        }
        for (size_t i = 0; i < n; ++i) bias_softplus_avx2(y + i * w, b, w, beta, inv_beta);
        return;
#endif
    }
#endif
    for (size_t i = 0; i < n; ++i) {
        float *r = y + i * w;
        if (b)
            for (size_t j = 0; j < w; ++j) r[j] += b[j];
        switch (act) {
        case CB_ACT_RELU:
            for (size_t j = 0; j < w; ++j) r[j] = r[j] > 0.0f ? r[j] : 0.0f;
            break;
        case CB_ACT_TANH:
            for (size_t j = 0; j < w; ++j) r[j] = tanhf(r[j]);
            break;
        case CB_ACT_SOFTPLUS:
            for (size_t j = 0; j < w; ++j) {
                float z = beta * r[j];
                r[j] = (fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z)))) * inv_beta;
            }
            break;
        case CB_ACT_IDENTITY: break;
        }
    }
}

void cb_mlp_act_backward(const CbMlp *m, const float *y, float *dy, size_t count)
{
    float beta = (float)m->beta;
    switch (m->act) {
    case CB_ACT_RELU:
#if CB_HAVE_AVX2_KERNELS
        if (cb_mlp_simd(-1)) {
            relu_backward_avx2(y, dy, count);
            break;
        }
#endif
        for (size_t i = 0; i < count; ++i) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case CB_ACT_TANH:
#if CB_HAVE_AVX2_KERNELS
        if (cb_mlp_simd(-1)) {
            tanh_backward_avx2(y, dy, count);
            break;
        }
#endif
        for (size_t i = 0; i < count; ++i) dy[i] *= 1.0f - y[i] * y[i];
        break;
    case CB_ACT_SOFTPLUS:
#if CB_HAVE_LIBMVEC
        if (cb_mlp_simd(-1)) {
            softplus_backward_avx2(y, dy, count, beta);
            break;
        }
#endif
        for (size_t i = 0; i < count; ++i) dy[i] *= -expm1f(-beta * y[i]);
        break;
    case CB_ACT_IDENTITY: break;
    }
}

static void bias_act_d(const CbMlp *m, int l, const double *b, double *y, size_t n)
{
    size_t w = m->widths[l + 1];
    CbAct act = l == m->depth - 1 ? CB_ACT_IDENTITY : m->act;
    double beta = m->beta;
    for (size_t i = 0; i < n; ++i) {
        double *r = y + i * w;
        if (b)
            for (size_t j = 0; j < w; ++j) r[j] += b[j];
        switch (act) {
        case CB_ACT_RELU:
            for (size_t j = 0; j < w; ++j) r[j] = r[j] > 0.0 ? r[j] : 0.0;
            break;
        case CB_ACT_TANH:
            for (size_t j = 0; j < w; ++j) r[j] = tanh(r[j]);
            break;
        case CB_ACT_SOFTPLUS:
            for (size_t j = 0; j < w; ++j) {
                double z = beta * r[j];
                r[j] = (fmax(z, 0.0) + log1p(exp(-fabs(z)))) / beta;
            }
            break;
        case CB_ACT_IDENTITY: break;
        }
    }
}

/* ------------------------------------------------------------------ forward */

void cb_mlp_layer_forward(const CbMlp *m, int l, const float *x, size_t n, float *y)
{
    size_t wi = m->widths[l], wo = m->widths[l + 1];
    /* y (n, wo) = x (n, wi) · W[l]ᵀ, W[l] (wo, wi) row-major */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)wo, (int)wi, 1.0f, x, (int)wi,
                m->W[l], (int)wi, 0.0f, y, (int)wo);
    cb_mlp_bias_act(m, l, y, n);
}

size_t cb_mlp_forward_work_size(const CbMlp *m, size_t n) { return 2 * n * cb_mlp_max_width(m); }

void cb_mlp_forward(const CbMlp *m, const float *x, size_t n, float *out, float *work)
{
    if (n == 0) return;
    size_t half = n * cb_mlp_max_width(m);
    const float *in = x;
    for (int l = 0; l < m->depth; ++l) {
        float *y = l == m->depth - 1 ? out : work + (size_t)(l % 2) * half;
        cb_mlp_layer_forward(m, l, in, n, y);
        in = y;
    }
}

void cb_mlp_forward_d(const CbMlp *m, const double *p, const float *x, size_t n, double *out,
                      double **acts)
{
    if (n == 0) return;
    size_t w0 = m->widths[0], maxw = cb_mlp_max_width(m);
    double *xd = cb_malloc(n * w0 * sizeof *xd);
    for (size_t i = 0; i < n * w0; ++i) xd[i] = x[i];
    double *tmp = acts ? NULL : cb_malloc(2 * n * maxw * sizeof *tmp);
    const double *in = xd;
    for (int l = 0; l < m->depth; ++l) {
        size_t wi = m->widths[l], wo = m->widths[l + 1];
        double *y = acts ? acts[l] : (l == m->depth - 1 ? out : tmp + (size_t)(l % 2) * n * maxw);
        const double *W = p + m->offset_W[l], *b = m->bias ? p + m->offset_b[l] : NULL;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)wo, (int)wi, 1.0, in, (int)wi, W,
                    (int)wi, 0.0, y, (int)wo);
        bias_act_d(m, l, b, y, n);
        in = y;
    }
    if (acts) memcpy(out, acts[m->depth - 1], n * m->widths[m->depth] * sizeof *out);
    free(xd);
    free(tmp);
}

/* ------------------------------------------------------------------ conversions, checks */

void cb_mlp_params_to_double(const CbMlp *m, double *p)
{
    for (size_t i = 0; i < m->n_params; ++i) p[i] = m->params[i];
}

void cb_mlp_params_from_double(CbMlp *m, const double *p)
{
    for (size_t i = 0; i < m->n_params; ++i) m->params[i] = (float)p[i];
}

CbStatus cb_mlp_check_finite(const CbMlp *m, const char *what)
{
    for (int l = 0; l < m->depth; ++l) {
        size_t wi = m->widths[l], wo = m->widths[l + 1];
        for (size_t i = 0; i < wo * wi; ++i)
            if (!isfinite(m->W[l][i])) {
                cb_err_set(__FILE__, __LINE__, CB_ENUMERIC,
                           "%s: layer %d weight [%zu, %zu] is %g (expected a finite number)",
                           what ? what : "mlp", l, i / wi, i % wi, (double)m->W[l][i]);
                cb_err_hint("the network diverged or the file is corrupt; lower the learning rate or re-export it");
                return CB_ENUMERIC;
            }
        if (m->b[l])
            for (size_t i = 0; i < wo; ++i)
                if (!isfinite(m->b[l][i])) {
                    cb_err_set(__FILE__, __LINE__, CB_ENUMERIC,
                               "%s: layer %d bias [%zu] is %g (expected a finite number)", what ? what : "mlp",
                               l, i, (double)m->b[l][i]);
                    cb_err_hint("the network diverged or the file is corrupt; lower the learning rate or re-export it");
                    return CB_ENUMERIC;
                }
    }
    return CB_OK;
}

double *cb_mlp_logits_d(const CbMlp *m, const float *x, size_t n)
{
    enum { BATCH = 512 };
    size_t k = m->widths[m->depth], d = m->widths[0];
    double *p = cb_malloc(m->n_params * sizeof *p);
    double *z = cb_malloc((n ? n : 1) * k * sizeof *z);
    cb_mlp_params_to_double(m, p);
    for (size_t i0 = 0; i0 < n; i0 += BATCH) {
        size_t b = n - i0 < BATCH ? n - i0 : BATCH;
        cb_mlp_forward_d(m, p, x + i0 * d, b, z + i0 * k, NULL);
    }
    free(p);
    return z;
}
