/*
 * code — the exact code of a compressed MLP (include/cbound/code.h).
 *
 * Sections: bit buffer and Elias codes; static-model arithmetic coder; 1-D
 * quantizers; the model header and the weights code; the per-task Occam bound.
 *
 * Arithmetic coder: Witten, Neal & Cleary 1987 ("Arithmetic coding for data
 * compression", CACM 30(6)) with 32-bit low/high held in uint64 and the "bits to
 * follow" underflow rule; frequencies total <= 2^30 so every symbol keeps a
 * non-empty interval. Each renormalization shift accounts for exactly one output
 * bit and the termination writes 2 more, so after n symbols the encoder wrote
 * S + 2 bits (S = shifts) and a decoder that read 32 + S bits steps back 30:
 * fields can follow an arithmetic-coded block in the same stream. Any bits after
 * the block decode correctly because the 2 termination bits pin a point inside
 * the final interval.
 *
 * Weights code layout (after the header of code.h):
 *   per layer l: nnz_l in width(d_out d_in) bits; if 0 < nnz_l < d_out d_in, the
 *                row-major mask of W_l, arithmetic-coded with counts (zeros, nnz_l)
 *   k (gamma), codebook (k float32, ascending), counts (cb_code_put_counts over
 *   N = sum nnz_l + biases), symbols (arithmetic-coded): the nonzero W entries in
 *   layer, row-major order, then every layer's biases.
 */
#include "cbound/code.h"
#include "cbound/occam.h"
#include "cbound/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ bits and Elias codes */

void cb_code_bits_init(CbBits *b) { memset(b, 0, sizeof *b); }

void cb_code_bits_free(CbBits *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

void cb_code_put_bit(CbBits *b, int bit)
{
    if (b->n_bits / 8 >= b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        b->buf = cb_realloc(b->buf, cap);
        memset(b->buf + b->cap, 0, cap - b->cap);
        b->cap = cap;
    }
    if (bit) b->buf[b->n_bits / 8] |= (uint8_t)(0x80u >> (b->n_bits % 8));
    ++b->n_bits;
}

void cb_code_put_uint(CbBits *b, uint64_t v, int nbits)
{
    for (int i = nbits - 1; i >= 0; --i) cb_code_put_bit(b, (int)((v >> i) & 1u));
}

int cb_code_get_bit(CbBits *b)
{
    if (b->pos >= b->n_bits) {
        b->overrun = 1;
        ++b->pos;
        return 0;
    }
    int bit = (b->buf[b->pos / 8] >> (7 - b->pos % 8)) & 1;
    ++b->pos;
    return bit;
}

uint64_t cb_code_get_uint(CbBits *b, int nbits)
{
    uint64_t v = 0;
    for (int i = 0; i < nbits; ++i) v = (v << 1) | (uint64_t)cb_code_get_bit(b);
    return v;
}

static int floor_log2(uint64_t v)
{
    int r = -1;
    while (v) {
        v >>= 1;
        ++r;
    }
    return r;
}

int cb_code_width(uint64_t n) { return n ? floor_log2(n) + 1 : 0; }

void cb_code_put_gamma(CbBits *b, uint64_t v)
{
    int L = floor_log2(v);
    for (int i = 0; i < L; ++i) cb_code_put_bit(b, 0);
    cb_code_put_uint(b, v, L + 1);
}

uint64_t cb_code_get_gamma(CbBits *b)
{
    int L = 0;
    while (!cb_code_get_bit(b)) {
        if (b->overrun || ++L > 63) return 0;
    }
    return (1ull << L) | cb_code_get_uint(b, L);
}

void cb_code_put_delta(CbBits *b, uint64_t v)
{
    int L = floor_log2(v);
    cb_code_put_gamma(b, (uint64_t)L + 1);
    cb_code_put_uint(b, v, L); /* v without its leading 1 */
}

uint64_t cb_code_get_delta(CbBits *b)
{
    uint64_t L1 = cb_code_get_gamma(b);
    if (L1 == 0 || L1 > 64) return 0;
    int L = (int)L1 - 1;
    return (L == 64 ? 0 : (1ull << L)) | cb_code_get_uint(b, L);
}

/* ------------------------------------------------------------------ arithmetic coder */

#define AC_TOP 0xFFFFFFFFull
#define AC_HALF 0x80000000ull
#define AC_QTR 0x40000000ull

static void emit(CbBits *b, int bit, uint64_t *pending)
{
    cb_code_put_bit(b, bit);
    for (; *pending; --*pending) cb_code_put_bit(b, !bit);
}

/* cum (k+1): cum[s] = sum of freq[0..s-1] */
static uint64_t cumulative(const uint64_t *freq, int k, uint64_t *cum)
{
    cum[0] = 0;
    for (int s = 0; s < k; ++s) cum[s + 1] = cum[s] + freq[s];
    return cum[k];
}

void cb_code_ac_encode(CbBits *b, const uint32_t *sym, size_t n, const uint64_t *freq, int k)
{
    if (n == 0) return;
    uint64_t *cum = cb_malloc((size_t)(k + 1) * sizeof *cum);
    uint64_t total = cumulative(freq, k, cum);
    uint64_t low = 0, high = AC_TOP, pending = 0;
    for (size_t i = 0; i < n; ++i) {
        uint64_t range = high - low + 1, s = sym[i];
        high = low + range * cum[s + 1] / total - 1;
        low = low + range * cum[s] / total;
        for (;;) {
            if (high < AC_HALF) {
                emit(b, 0, &pending);
            } else if (low >= AC_HALF) {
                emit(b, 1, &pending);
                low -= AC_HALF;
                high -= AC_HALF;
            } else if (low >= AC_QTR && high < AC_HALF + AC_QTR) {
                ++pending;
                low -= AC_QTR;
                high -= AC_QTR;
            } else {
                break;
            }
            low = 2 * low;
            high = 2 * high + 1;
        }
    }
    ++pending; /* termination: two bits that select a point inside [low, high] */
    emit(b, low < AC_QTR ? 0 : 1, &pending);
    free(cum);
}

CbStatus cb_code_ac_decode(CbBits *b, uint32_t *sym, size_t n, const uint64_t *freq, int k)
{
    if (n == 0) return CB_OK;
    uint64_t *cum = cb_malloc((size_t)(k + 1) * sizeof *cum);
    uint64_t total = cumulative(freq, k, cum);
    if (total == 0 || total > AC_QTR) {
        free(cum);
        return CB_ERR(CB_EFORMAT, "arithmetic decoder: symbol counts total %llu, expected 1..2^30",
                      (unsigned long long)total);
    }
    size_t start = b->pos, shifts = 0;
    uint64_t low = 0, high = AC_TOP, value = cb_code_get_uint(b, 32);
    for (size_t i = 0; i < n; ++i) {
        uint64_t range = high - low + 1;
        uint64_t c = ((value - low + 1) * total - 1) / range;
        int lo = 0, hi = k - 1; /* largest s with cum[s] <= c */
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (cum[mid] <= c) lo = mid;
            else hi = mid - 1;
        }
        /* then cum[lo] <= c < cum[lo + 1]: freq[lo] > 0 */
        sym[i] = (uint32_t)lo;
        high = low + range * cum[lo + 1] / total - 1;
        low = low + range * cum[lo] / total;
        for (;;) {
            if (high < AC_HALF) {
            } else if (low >= AC_HALF) {
                low -= AC_HALF;
                high -= AC_HALF;
                value -= AC_HALF;
            } else if (low >= AC_QTR && high < AC_HALF + AC_QTR) {
                low -= AC_QTR;
                high -= AC_QTR;
                value -= AC_QTR;
            } else {
                break;
            }
            low = 2 * low;
            high = 2 * high + 1;
            value = 2 * value + (uint64_t)cb_code_get_bit(b);
            ++shifts;
        }
    }
    free(cum);
    size_t end = start + shifts + 2;
    if (end > b->n_bits) return CB_ERR(CB_EFORMAT, "arithmetic decoder: the code ends %zu bits early", end - b->n_bits);
    b->pos = end;
    b->overrun = 0; /* the look-ahead may pass the end of the stream; that is not an error */
    return CB_OK;
}

void cb_code_put_counts(CbBits *b, const uint64_t *cnt, int k, uint64_t n)
{
    uint64_t rest = n;
    for (int s = 0; s + 1 < k; ++s) {
        cb_code_put_uint(b, cnt[s], cb_code_width(rest));
        rest -= cnt[s];
    }
}

CbStatus cb_code_get_counts(CbBits *b, uint64_t *cnt, int k, uint64_t n)
{
    uint64_t rest = n;
    for (int s = 0; s + 1 < k; ++s) {
        cnt[s] = cb_code_get_uint(b, cb_code_width(rest));
        if (cnt[s] > rest) return CB_ERR(CB_EFORMAT, "code: symbol count %llu exceeds the %llu left",
                                         (unsigned long long)cnt[s], (unsigned long long)rest);
        rest -= cnt[s];
    }
    if (k > 0) cnt[k - 1] = rest;
    return CB_OK;
}

double cb_code_ideal_bits(const uint64_t *freq, int k)
{
    double n = 0, bits = 0;
    for (int s = 0; s < k; ++s) n += (double)freq[s];
    for (int s = 0; s < k; ++s)
        if (freq[s]) bits -= (double)freq[s] * log2((double)freq[s] / n);
    return bits;
}

void cb_code_put_symbols(CbBits *b, const uint32_t *sym, size_t n, int k, CbCodeBits *bits)
{
    uint64_t *cnt = cb_calloc((size_t)(k > 0 ? k : 1), sizeof *cnt);
    for (size_t i = 0; i < n; ++i) ++cnt[sym[i]];
    size_t mark = b->n_bits;
    cb_code_put_counts(b, cnt, k, n);
    bits->counts = (double)(b->n_bits - mark);
    mark = b->n_bits;
    if (k > 1) cb_code_ac_encode(b, sym, n, cnt, k); /* one level: the counts say it all */
    bits->symbols = (double)(b->n_bits - mark);
    bits->ideal_symbols = cb_code_ideal_bits(cnt, k);
    free(cnt);
}

CbStatus cb_code_get_symbols(CbBits *b, uint32_t *sym, size_t n, int k)
{
    uint64_t *cnt = cb_calloc((size_t)(k > 0 ? k : 1), sizeof *cnt);
    CbStatus st = cb_code_get_counts(b, cnt, k, n);
    if (st == CB_OK && k > 1) st = cb_code_ac_decode(b, sym, n, cnt, k);
    free(cnt);
    return st;
}

/* ------------------------------------------------------------------ quantization */

CbStatus cb_code_quant_parse(const char *s, CbQuant *out)
{
    if (!strcmp(s, "kmeans")) *out = CB_QUANT_KMEANS;
    else if (!strcmp(s, "uniform")) *out = CB_QUANT_UNIFORM;
    else return CB_ERR(CB_EINVAL, "quantizer: expected kmeans or uniform, found '%s'", s);
    return CB_OK;
}

void cb_code_assign(const float *x, size_t n, const float *codebook, int k, uint32_t *sym)
{
    for (size_t i = 0; i < n; ++i) {
        int lo = 0, hi = k - 1; /* first level whose upper midpoint is >= x */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            double upper = 0.5 * ((double)codebook[mid] + (double)codebook[mid + 1]);
            if ((double)x[i] <= upper) hi = mid;
            else lo = mid + 1;
        }
        sym[i] = (uint32_t)lo;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* first index i of sorted v (n) with v[i] > t */
static size_t upper_index(const double *v, size_t n, double t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] > t) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Lloyd's algorithm on sorted values v (n) with prefix sums: cluster j is the
 * run of v between the midpoints to its neighbours. */
static int kmeans_sorted(const double *v, size_t n, int L, double *c)
{
    double *pre = cb_malloc((n + 1) * sizeof *pre);
    pre[0] = 0;
    for (size_t i = 0; i < n; ++i) pre[i + 1] = pre[i] + v[i];
    for (int j = 0; j < L; ++j) c[j] = v[(size_t)(((double)j + 0.5) * (double)n / L)];
    int k = L;
    for (int it = 0; it < 300; ++it) {
        double moved = 0;
        size_t a = 0;
        int kk = 0;
        for (int j = 0; j < k; ++j) {
            size_t e = j + 1 < k ? upper_index(v, n, 0.5 * (c[j] + c[j + 1])) : n;
            if (e > a) { /* non-empty: new centre = mean of the run */
                double m = (pre[e] - pre[a]) / (double)(e - a);
                moved = fmax(moved, fabs(m - c[j]));
                c[kk++] = m;
            }
            a = e > a ? e : a;
        }
        if (kk < k) moved = INFINITY;
        k = kk;
        if (moved <= 1e-12 * (fabs(v[0]) + fabs(v[n - 1]))) break;
    }
    free(pre);
    return k;
}

CbStatus cb_code_quantize(const float *x, size_t n, int levels, CbQuant kind, float *codebook, int *k_out,
                          uint32_t *sym)
{
    if (levels < 1 || n == 0)
        return CB_ERR(CB_EINVAL, "quantize: expected levels >= 1 and n >= 1, found levels %d, n %zu", levels, n);
    double *v = cb_malloc(n * sizeof *v), *c = cb_malloc((size_t)levels * sizeof *c);
    for (size_t i = 0; i < n; ++i) v[i] = x[i];
    qsort(v, n, sizeof *v, cmp_double);
    int distinct = 1;
    for (size_t i = 1; i < n && distinct <= levels; ++i) distinct += v[i] != v[i - 1];
    int k;
    if (distinct <= levels) { /* lossless: the values themselves */
        k = 0;
        for (size_t i = 0; i < n; ++i)
            if (i == 0 || v[i] != v[i - 1]) c[k++] = v[i];
    } else if (kind == CB_QUANT_UNIFORM) {
        k = levels;
        for (int j = 0; j < k; ++j) c[j] = k == 1 ? 0.5 * (v[0] + v[n - 1]) : v[0] + (v[n - 1] - v[0]) * j / (k - 1);
    } else {
        k = kmeans_sorted(v, n, levels, c);
    }
    /* float32 levels, ascending and distinct */
    int kk = 0;
    for (int j = 0; j < k; ++j) {
        float f = (float)c[j];
        if (kk == 0 || f > codebook[kk - 1]) codebook[kk++] = f;
    }
    free(v);
    free(c);
    cb_code_assign(x, n, codebook, kk, sym);
    /* drop levels nothing maps to (uniform levels in gaps) */
    uint64_t *cnt = cb_calloc((size_t)kk, sizeof *cnt);
    for (size_t i = 0; i < n; ++i) ++cnt[sym[i]];
    int used = 0;
    for (int j = 0; j < kk; ++j)
        if (cnt[j]) codebook[used++] = codebook[j];
    free(cnt);
    if (used < kk) cb_code_assign(x, n, codebook, used, sym);
    *k_out = used;
    return CB_OK;
}

/* ------------------------------------------------------------------ model header */

void cb_code_put_header(CbBits *b, int type, const CbMlp *m)
{
    cb_code_put_gamma(b, (uint64_t)type);
    cb_code_put_gamma(b, (uint64_t)m->depth);
    for (int l = 0; l <= m->depth; ++l) cb_code_put_delta(b, m->widths[l]);
    cb_code_put_uint(b, (uint64_t)m->act, 2);
    if (m->act == CB_ACT_SOFTPLUS) {
        uint64_t u;
        memcpy(&u, &m->beta, sizeof u);
        cb_code_put_uint(b, u, 64);
    }
    cb_code_put_bit(b, m->bias != 0);
}

CbStatus cb_code_get_header(CbBits *b, int *type, CbMlp **out)
{
    *out = NULL;
    *type = (int)cb_code_get_gamma(b);
    uint64_t depth = cb_code_get_gamma(b);
    if (b->overrun || depth < 1 || depth > 64)
        return CB_ERR(CB_EFORMAT, "model code: expected a depth in 1..64, found %llu%s", (unsigned long long)depth,
                      b->overrun ? " (the code ends early)" : "");
    size_t widths[65];
    for (uint64_t l = 0; l <= depth; ++l) {
        widths[l] = (size_t)cb_code_get_delta(b);
        if (widths[l] == 0 || widths[l] > ((size_t)1 << 24))
            return CB_ERR(CB_EFORMAT, "model code: width %llu of 1..2^24 unreadable", (unsigned long long)l);
    }
    CbAct act = (CbAct)cb_code_get_uint(b, 2);
    double beta = 1.0;
    if (act == CB_ACT_SOFTPLUS) {
        uint64_t u = cb_code_get_uint(b, 64);
        memcpy(&beta, &u, sizeof beta);
    }
    int bias = cb_code_get_bit(b);
    if (b->overrun) return CB_ERR(CB_EFORMAT, "model code: the header ends early");
    return cb_mlp_alloc((int)depth, widths, act, beta, bias, out);
}

/* ------------------------------------------------------------------ feature-map prefix */

void cb_code_put_features(CbBits *b, const CbFeatures *phi)
{
    if (!phi || phi->kind == CB_FEATURES_NONE) return;
    cb_code_put_gamma(b, CB_CODE_FEATURES);
    cb_code_put_gamma(b, (uint64_t)phi->kind);
    cb_code_put_gamma(b, phi->in_c);
    cb_code_put_delta(b, phi->in_h);
    cb_code_put_delta(b, phi->in_w);
    cb_code_put_gamma(b, phi->filters);
    cb_code_put_gamma(b, phi->pool);
    float g = (float)phi->gain; /* a bfloat16 value (cb_features_check): the upper half is all of it */
    uint32_t u;
    memcpy(&u, &g, sizeof u);
    cb_code_put_uint(b, u >> 16, 16);
}

CbStatus cb_code_get_features(CbBits *b, CbFeatures *phi)
{
    memset(phi, 0, sizeof *phi);
    size_t start = b->pos;
    if (cb_code_get_gamma(b) != CB_CODE_FEATURES) { /* no prefix: a model code starts here */
        b->pos = start;
        b->overrun = 0;
        return CB_OK;
    }
    phi->kind = (CbFeaturesKind)cb_code_get_gamma(b);
    phi->in_c = (size_t)cb_code_get_gamma(b);
    phi->in_h = (size_t)cb_code_get_delta(b);
    phi->in_w = (size_t)cb_code_get_delta(b);
    phi->filters = (size_t)cb_code_get_gamma(b);
    phi->pool = (size_t)cb_code_get_gamma(b);
    uint32_t u = (uint32_t)cb_code_get_uint(b, 16) << 16;
    float g;
    memcpy(&g, &u, sizeof g);
    phi->gain = g;
    if (b->overrun) return CB_ERR(CB_EFORMAT, "model code: the feature map ends early");
    if (phi->kind == CB_FEATURES_NONE || phi->in_c > 4096 || phi->in_h > 65536 || phi->in_w > 65536 ||
        cb_features_check(phi, NULL) != CB_OK) {
        cb_err_clear();
        return CB_ERR(CB_EFORMAT, "model code: unreadable feature map (kind %d, %zu x %zu x %zu, %zu filters, pool %zu)",
                      (int)phi->kind, phi->in_c, phi->in_h, phi->in_w, phi->filters, phi->pool);
    }
    return CB_OK;
}

CbStatus cb_code_get_start(CbBits *b, int type, const char *what, CbFeatures *phi, CbMlp **out)
{
    int found;
    CB_TRY(cb_code_get_features(b, phi));
    CB_TRY(cb_code_get_header(b, &found, out));
    if (found == type) return CB_OK;
    cb_mlp_free(*out);
    *out = NULL;
    return CB_ERR(CB_EFORMAT, "%s code: expected type %d, found %d", what, type, found);
}

/* ------------------------------------------------------------------ weights code */

CbStatus cb_code_mlp_encode(const CbMlp *m, const CbFeatures *phi, int levels, CbQuant kind, CbBits *out,
                            CbCodeBits *bits)
{
    memset(bits, 0, sizeof *bits);
    int has_phi = phi && phi->kind != CB_FEATURES_NONE;
    if (has_phi) CB_TRY(cb_features_check(phi, NULL));
    if (has_phi && phi->seed >= (1ull << 62))
        return CB_ERR(CB_EINVAL, "weights code: expected a feature-map seed < 2^62, found %llu", (unsigned long long)phi->seed);
    size_t mark = out->n_bits;
    cb_code_put_features(out, phi);
    cb_code_put_header(out, CB_CODE_WEIGHTS, m);
    bits->arch = (double)(out->n_bits - mark);
    if (has_phi) { /* the key of φ's stream: nothing else in this code implies it */
        mark = out->n_bits;
        cb_code_put_delta(out, phi->seed + 1);
        bits->key = (double)(out->n_bits - mark);
    }

    /* positions: per-layer nonzero count and mask */
    mark = out->n_bits;
    size_t n_vals = 0;
    for (int l = 0; l < m->depth; ++l) {
        size_t D = m->widths[l + 1] * m->widths[l], nnz = 0;
        for (size_t i = 0; i < D; ++i) nnz += m->W[l][i] != 0.0f;
        cb_code_put_uint(out, nnz, cb_code_width(D));
        if (nnz > 0 && nnz < D) {
            uint32_t *mask = cb_malloc(D * sizeof *mask);
            for (size_t i = 0; i < D; ++i) mask[i] = m->W[l][i] != 0.0f;
            uint64_t f[2] = {D - nnz, nnz};
            cb_code_ac_encode(out, mask, D, f, 2);
            free(mask);
        }
        n_vals += nnz + (m->bias ? m->widths[l + 1] : 0);
    }
    bits->positions = (double)(out->n_bits - mark);
    if (n_vals > AC_QTR) return CB_ERR(CB_EINVAL, "weights code: %zu values, at most 2^30", n_vals);

    /* values: nonzero W entries, then biases */
    float *vals = cb_malloc((n_vals ? n_vals : 1) * sizeof *vals);
    size_t t = 0;
    for (int l = 0; l < m->depth; ++l) {
        size_t D = m->widths[l + 1] * m->widths[l];
        for (size_t i = 0; i < D; ++i)
            if (m->W[l][i] != 0.0f) vals[t++] = m->W[l][i];
    }
    for (int l = 0; l < m->depth && m->bias; ++l)
        for (size_t i = 0; i < m->widths[l + 1]; ++i) vals[t++] = m->b[l][i];
    float *book = cb_malloc((size_t)(levels > 0 ? levels : 1) * sizeof *book);
    uint32_t *sym = cb_malloc((n_vals ? n_vals : 1) * sizeof *sym);
    int k = 0;
    CbStatus st = n_vals ? cb_code_quantize(vals, n_vals, levels, kind, book, &k, sym) : CB_OK;
    if (st == CB_OK) {
        mark = out->n_bits;
        cb_code_put_gamma(out, (uint64_t)k + 1); /* k = 0 when there are no values */
        for (int j = 0; j < k; ++j) {
            uint32_t u;
            memcpy(&u, &book[j], sizeof u);
            cb_code_put_uint(out, u, 32);
        }
        bits->codebook = (double)(out->n_bits - mark);
        cb_code_put_symbols(out, sym, n_vals, k, bits);
    }
    bits->total = bits->arch + bits->key + bits->hyper + bits->codebook + bits->counts + bits->symbols + bits->positions;
    free(vals);
    free(book);
    free(sym);
    return st;
}

CbStatus cb_code_mlp_decode(CbBits *in, CbMlp **out, CbFeatures *phi_out)
{
    CbMlp *m;
    CbFeatures phi;
    *out = NULL;
    if (phi_out) memset(phi_out, 0, sizeof *phi_out);
    CB_TRY(cb_code_get_start(in, CB_CODE_WEIGHTS, "weights", &phi, &m));
    if (phi.kind != CB_FEATURES_NONE) {
        uint64_t s1 = cb_code_get_delta(in);
        if (in->overrun || s1 == 0 || s1 > (1ull << 62) || m->widths[0] != cb_features_dim(&phi)) {
            CbStatus st = CB_ERR(CB_EFORMAT, "weights code: unreadable feature-map seed, or input width %zu "
                                 "is not the map's %zu features", m->widths[0], cb_features_dim(&phi));
            cb_mlp_free(m);
            return st;
        }
        phi.seed = s1 - 1;
    }
    if (phi_out) *phi_out = phi;
    CbStatus st = CB_OK;
    size_t n_vals = 0;
    unsigned char **mask = cb_calloc((size_t)m->depth, sizeof *mask);
    for (int l = 0; l < m->depth && st == CB_OK; ++l) {
        size_t D = m->widths[l + 1] * m->widths[l];
        uint64_t nnz = cb_code_get_uint(in, cb_code_width(D));
        if (nnz > D) {
            st = CB_ERR(CB_EFORMAT, "weights code: layer %d has %llu nonzeros of %zu", l, (unsigned long long)nnz, D);
            break;
        }
        mask[l] = cb_malloc(D);
        if (nnz > 0 && nnz < D) {
            uint32_t *s = cb_malloc(D * sizeof *s);
            uint64_t f[2] = {D - nnz, nnz};
            st = cb_code_ac_decode(in, s, D, f, 2);
            for (size_t i = 0; i < D; ++i) mask[l][i] = (unsigned char)s[i];
            free(s);
        } else {
            memset(mask[l], nnz == D, D);
        }
        n_vals += nnz + (m->bias ? m->widths[l + 1] : 0);
    }
    uint64_t k1 = st == CB_OK ? cb_code_get_gamma(in) : 0;
    if (st == CB_OK && (k1 == 0 || k1 - 1 > AC_QTR || (k1 == 1) != (n_vals == 0)))
        st = CB_ERR(CB_EFORMAT, "weights code: codebook size %llu does not fit %zu values", (unsigned long long)k1 - 1, n_vals);
    int k = (int)(st == CB_OK ? k1 - 1 : 0);
    float *book = cb_malloc((size_t)(k ? k : 1) * sizeof *book);
    for (int j = 0; j < k; ++j) {
        uint32_t u = (uint32_t)cb_code_get_uint(in, 32);
        memcpy(&book[j], &u, sizeof u);
    }
    uint32_t *sym = cb_calloc(n_vals ? n_vals : 1, sizeof *sym);
    if (st == CB_OK) st = cb_code_get_symbols(in, sym, n_vals, k);
    if (st == CB_OK && in->overrun) st = CB_ERR(CB_EFORMAT, "weights code: the code ends early");
    if (st == CB_OK) {
        size_t t = 0;
        for (int l = 0; l < m->depth; ++l)
            for (size_t i = 0; i < m->widths[l + 1] * m->widths[l]; ++i)
                m->W[l][i] = mask[l][i] ? book[sym[t++]] : 0.0f;
        for (int l = 0; l < m->depth && m->bias; ++l)
            for (size_t i = 0; i < m->widths[l + 1]; ++i) m->b[l][i] = book[sym[t++]];
    }
    for (int l = 0; l < m->depth; ++l) free(mask[l]);
    free(mask);
    free(book);
    free(sym);
    if (st != CB_OK) {
        cb_mlp_free(m);
        return st;
    }
    *out = m;
    return CB_OK;
}

/* ------------------------------------------------------------------ per-task bound */

void cb_code_bits_record(const CbCodeBits *bits, CbResult *res)
{
    res->task[CB_T_code_bits] = bits->total;
    res->task[CB_T_code_bits_arch] = bits->arch;
    res->task[CB_T_code_bits_key] = bits->key;
    res->task[CB_T_code_bits_hyper] = bits->hyper;
    res->task[CB_T_code_bits_codebook] = bits->codebook;
    res->task[CB_T_code_bits_counts] = bits->counts;
    res->task[CB_T_code_bits_symbols] = bits->symbols;
    res->task[CB_T_code_bits_positions] = bits->positions;
    res->task[CB_T_code_ideal_symbols] = bits->ideal_symbols;
}

CbStatus cb_code_task_bound(const CbTaskCtx *ctx, const CbMlp *comp, CbResult *res)
{
    const CbMlp *dec = comp; /* the network the bound is about */
    CbMlp *owned = NULL;
    if (isnan(res->task[CB_T_code_bits])) {
        if (!ctx->measure || ctx->measure->code < 2) return CB_OK; /* not asked for */
        CbBits b;
        CbCodeBits bits;
        cb_code_bits_init(&b);
        CbFeatures phi;
        CbStatus st = cb_code_mlp_encode(comp, &ctx->train->phi, ctx->measure->code, CB_QUANT_KMEANS, &b, &bits);
        if (st == CB_OK) st = cb_code_mlp_decode(&b, &owned, &phi);
        if (st == CB_OK && (b.pos != b.n_bits || (double)b.n_bits != bits.total))
            st = CB_ERR(CB_ENUMERIC, "weights code: decoder read %zu of %zu bits (parts sum to %.0f)", b.pos, b.n_bits,
                        bits.total);
        if (st == CB_OK && !cb_features_same(&phi, &ctx->train->phi))
            st = CB_ERR(CB_ENUMERIC, "weights code: the decoded feature map is not the data's");
        cb_code_bits_free(&b);
        if (st != CB_OK) {
            cb_mlp_free(owned);
            return st;
        }
        cb_code_bits_record(&bits, res);
        dec = owned;
    }
    if (!ctx->train->y) {
        cb_mlp_free(owned);
        return CB_OK; /* the Occam bound is about classification error */
    }
    /* training errors k and test error of the decoded network */
    double acc_train, acc_test;
    CbLoss loss = ctx->train_config ? ctx->train_config->loss : CB_LOSS_CROSS_ENTROPY;
    CbStatus st = cb_train_eval(dec, loss, ctx->train, NULL, &acc_train, NULL);
    if (st == CB_OK) st = cb_train_eval(dec, loss, ctx->test, NULL, &acc_test, NULL);
    cb_mlp_free(owned);
    CB_TRY(st);
    uint64_t n = ctx->train->n, k = (uint64_t)llround((1 - acc_train) * (double)n);
    double bits = res->task[CB_T_code_bits], delta = CB_OCCAM_DELTA;
    size_t K = comp->widths[comp->depth];
    res->task[CB_T_n_train] = (double)n;
    res->task[CB_T_train_err_count] = (double)k;
    res->task[CB_T_code_test_err] = 1 - acc_test;
    res->task[CB_T_delta] = delta;
    res->task[CB_T_occam_bound] = cb_occam_bound(k, n, bits, delta);
    res->task[CB_T_occam_bound_kl] = cb_occam_bound_kl(k, n, bits, delta);
    res->task[CB_T_vacuous] = res->task[CB_T_occam_bound] >= 1.0 - 1.0 / (double)(K > 1 ? K : 2);
    return CB_OK;
}
