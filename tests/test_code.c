/*
 * Tests for code (the exact code of compressed MLPs): Elias codes round-trip with
 * their textbook lengths; the arithmetic coder round-trips skewed streams (7
 * symbols, a 1:999 binary stream, an alphabet with unused symbols) with a field
 * written after each block, and its length lies within 0..4 bits above the ideal
 * -sum log2 p (computed here from the counts, not by the coder); the quantizers
 * (lossless on few values, k-means finds separated cluster means, uniform
 * levels evenly spaced); the weights code rebuilds a pruned, quantized network
 * bit for bit with identical predictions, and a general network as exactly its
 * quantization; the parts sum to the stream length; damaged codes are refused.
 */
#include "cbound/code.h"
#include "cbound/rng.h"
#include "check.h"

#include <string.h>

static double ideal_bits(const uint32_t *s, size_t n, int k)
{
    double *c = calloc((size_t)k, sizeof *c), b = 0;
    for (size_t i = 0; i < n; ++i) c[s[i]] += 1;
    for (size_t i = 0; i < n; ++i) b -= log2(c[s[i]] / (double)n);
    free(c);
    return b;
}

/* Encode sym with a 13-bit sentinel after it, decode both; returns bits of the block. */
static double ac_roundtrip(const uint32_t *sym, size_t n, int k, const char *name)
{
    uint64_t *f = calloc((size_t)k, sizeof *f);
    for (size_t i = 0; i < n; ++i) ++f[sym[i]];
    CbBits b;
    cb_code_bits_init(&b);
    cb_code_ac_encode(&b, sym, n, f, k);
    size_t block = b.n_bits;
    cb_code_put_uint(&b, 0x1A5B, 13);
    uint32_t *got = malloc(n * sizeof *got);
    CbStatus st = cb_code_ac_decode(&b, got, n, f, k);
    uint64_t sentinel = cb_code_get_uint(&b, 13);
    CHECK(st == CB_OK && !memcmp(got, sym, n * sizeof *sym) && sentinel == (0x1A5B & 0x1FFF) && !b.overrun,
          "%s: %zu symbols decode exactly and the field after the block reads back", name, n);
    double ideal = ideal_bits(sym, n, k);
    CHECK((double)block >= ideal - 1e-6 && (double)block <= ideal + 4,
          "%s: %zu bits vs ideal -sum log2 p = %.2f (within 0..4 above)", name, block, ideal);
    CHECK_CLOSE(cb_code_ideal_bits(f, k), ideal, 1e-6 * ideal + 1e-9, "cb_code_ideal_bits = -sum log2 p");
    free(got);
    free(f);
    cb_code_bits_free(&b);
    return (double)block;
}

static CbMlp *random_mlp(int bias, uint32_t index)
{
    size_t widths[] = {20, 30, 5};
    CbMlp *m;
    cb_mlp_alloc(2, widths, CB_ACT_RELU, 1.0, bias, &m);
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 1.0, 2385, index);
    return m;
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);

    /* 1. Elias gamma and delta. */
    {
        uint64_t vs[] = {1, 2, 3, 7, 8, 255, 1000003, (1ull << 40) + 17, UINT64_MAX};
        CbBits b;
        cb_code_bits_init(&b);
        int len_ok = 1;
        for (int i = 0; i < 9; ++i) {
            size_t a = b.n_bits;
            cb_code_put_gamma(&b, vs[i]);
            int L = 63 - __builtin_clzll(vs[i]);
            len_ok &= b.n_bits - a == (size_t)(2 * L + 1);
            a = b.n_bits;
            cb_code_put_delta(&b, vs[i]);
            int LL = 63 - __builtin_clzll((uint64_t)L + 1);
            len_ok &= b.n_bits - a == (size_t)(L + 2 * LL + 1);
        }
        int ok = 1;
        for (int i = 0; i < 9; ++i) {
            ok &= cb_code_get_gamma(&b) == vs[i];
            ok &= cb_code_get_delta(&b) == vs[i];
        }
        CHECK(ok && !b.overrun && b.pos == b.n_bits, "Elias gamma/delta round-trip 1 .. 2^64-1");
        CHECK(len_ok, "Elias lengths 2L+1 (gamma) and L+2 floor(log2(L+1))+1 (delta)");
        CHECK(cb_code_width(0) == 0 && cb_code_width(1) == 1 && cb_code_width(255) == 8 && cb_code_width(256) == 9,
              "fixed width ceil(log2(n+1))");
        cb_code_bits_free(&b);
    }
    /* 2. Arithmetic coder on known streams. */
    {
        CbStream s = cb_rng_stream(2385, 1, CB_RNG_TEST, 1);
        size_t n = 20000;
        uint32_t *sym = malloc(n * sizeof *sym);
        double p7[] = {0.41, 0.23, 0.17, 0.1, 0.05, 0.03, 0.01};
        for (size_t i = 0; i < n; ++i) {
            double u = cb_rng_uniform(&s), c = 0;
            int j = 0;
            while (j < 6 && u > (c += p7[j])) ++j;
            sym[i] = (uint32_t)j;
        }
        ac_roundtrip(sym, n, 7, "7 symbols, p 0.41..0.01");
        for (size_t i = 0; i < n; ++i) sym[i] = sym[i] == 6 ? 8u : sym[i]; /* symbols 6, 7 unused */
        ac_roundtrip(sym, n, 9, "9-symbol alphabet, 2 unused");
        free(sym);
        n = 100000;
        sym = malloc(n * sizeof *sym);
        for (size_t i = 0; i < n; ++i) sym[i] = cb_rng_uniform(&s) < 0.001;
        ac_roundtrip(sym, n, 2, "binary, p(1) = 0.001");
        for (size_t i = 0; i < n; ++i) sym[i] = 0;
        double b1 = ac_roundtrip(sym, n, 1, "one symbol");
        CHECK(b1 <= 2, "a certain stream costs only the 2 termination bits (%.0f)", b1);
        free(sym);
    }
    /* 3. Quantizers. */
    {
        float x[3000];
        CbStream s = cb_rng_stream(2385, 2, CB_RNG_TEST, 1);
        float vals[] = {-0.37f, 0.0f, 0.2385f, 1.5f};
        for (int i = 0; i < 3000; ++i) x[i] = vals[cb_rng_below(&s, 4)];
        float book[8];
        uint32_t sym[3000];
        int k;
        cb_code_quantize(x, 3000, 8, CB_QUANT_KMEANS, book, &k, sym);
        int ok = k == 4;
        for (int i = 0; i < 3000; ++i) ok &= book[sym[i]] == x[i];
        CHECK(ok, "4 distinct values, 8 levels: lossless (k = %d)", k);
        double mu[] = {-2.0, 0.3, 4.1}, sum[3] = {0}, cnt[3] = {0};
        for (int i = 0; i < 3000; ++i) {
            int c = i % 3;
            x[i] = (float)(mu[c] + 0.1 * cb_rng_normal(&s));
            sum[c] += x[i];
            cnt[c] += 1;
        }
        cb_code_quantize(x, 3000, 3, CB_QUANT_KMEANS, book, &k, sym);
        double err = 0;
        for (int c = 0; c < 3; ++c) err = fmax(err, fabs(book[c] - sum[c] / cnt[c]));
        CHECK(k == 3 && err < 1e-5, "k-means on 3 separated clusters returns their means (max err %.2g)", err);
        int nearest = 1;
        for (int i = 0; i < 3000; ++i)
            for (int j = 0; j < k; ++j) nearest &= fabsf(x[i] - book[sym[i]]) <= fabsf(x[i] - book[j]);
        CHECK(nearest, "every value maps to its nearest level");
        cb_code_quantize(x, 3000, 5, CB_QUANT_UNIFORM, book, &k, sym);
        double lo = 1e9, hi = -1e9;
        for (int i = 0; i < 3000; ++i) lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
        CHECK(fabs(book[0] - lo) < 1e-6 && fabs(book[k - 1] - hi) < 1e-6 && k >= 3,
              "uniform levels span [min, max] (%d used)", k);
        CHECK(cb_code_quantize(x, 3000, 0, CB_QUANT_KMEANS, book, &k, sym) == CB_EINVAL, "levels 0 refused");
        CbQuant q;
        CHECK(cb_code_quant_parse("uniform", &q) == CB_OK && q == CB_QUANT_UNIFORM &&
                  cb_code_quant_parse("median", &q) == CB_EINVAL,
              "quantizer names parse; unknown refused");
    }
    /* 4. Weights code: a pruned network on 6 levels decodes bit for bit. */
    {
        CbMlp *m = random_mlp(1, 1);
        CbStream s = cb_rng_stream(2385, 3, CB_RNG_TEST, 1);
        float lv[] = {-0.2f, -0.07f, 0.031f, 0.11f, 0.19f, 0.2385f};
        for (size_t i = 0; i < m->n_params; ++i) m->params[i] = lv[cb_rng_below(&s, 6)];
        for (int l = 0; l < 2; ++l)
            for (size_t i = 0; i < m->widths[l + 1] * m->widths[l]; ++i)
                if (cb_rng_uniform(&s) < 0.7) m->W[l][i] = 0.0f;
        CbBits b;
        CbCodeBits bits;
        cb_code_bits_init(&b);
        CHECK(cb_code_mlp_encode(m, NULL, 8, CB_QUANT_KMEANS, &b, &bits) == CB_OK, "encode a 70%%-pruned 20-30-5 network");
        CbMlp *d = NULL;
        CHECK(cb_code_mlp_decode(&b, &d, NULL) == CB_OK && b.pos == b.n_bits, "decode reads exactly the code (%zu bits)",
              b.n_bits);
        CHECK(d && d->n_params == m->n_params && !memcmp(d->params, m->params, m->n_params * sizeof(float)),
              "decoded parameters are bit-identical");
        float xin[7 * 20], o1[7 * 5], o2[7 * 5];
        for (int i = 0; i < 140; ++i) xin[i] = (float)cb_rng_normal(&s);
        float *w1 = malloc(cb_mlp_forward_work_size(m, 7) * sizeof(float));
        cb_mlp_forward(m, xin, 7, o1, w1);
        cb_mlp_forward(d, xin, 7, o2, w1);
        CHECK(!memcmp(o1, o2, sizeof o1), "identical predictions (logits bit for bit)");
        free(w1);
        CHECK_CLOSE(bits.total, (double)b.n_bits, 0, "code_bits parts sum to the stream length");
        CHECK(bits.symbols <= bits.ideal_symbols + 4 && bits.positions > 0 && bits.codebook == 5 + 6 * 32,
              "symbols within 4 bits of ideal (%.0f vs %.1f); positions %.0f bits; codebook gamma(7) + 6 x 32",
              bits.symbols, bits.ideal_symbols, bits.positions);
        /* damaged: cut the stream, and a stream of another type */
        CbBits cut = b;
        cut.n_bits = b.n_bits / 2;
        cut.pos = 0;
        CbMlp *bad = NULL;
        CHECK(cb_code_mlp_decode(&cut, &bad, NULL) == CB_EFORMAT && !bad, "a cut code is refused (%s)", cb_err_msg());
        CbBits other;
        cb_code_bits_init(&other);
        cb_code_put_header(&other, CB_CODE_SUBSPACE, m);
        CHECK(cb_code_mlp_decode(&other, &bad, NULL) == CB_EFORMAT && !bad, "a subspace code is not a weights code");
        cb_code_bits_free(&other);
        cb_mlp_free(d);
        cb_code_bits_free(&b);
        cb_mlp_free(m);
    }
    /* 5. A general network decodes to exactly its quantization; softplus header. */
    {
        CbMlp *m = random_mlp(1, 2);
        m->act = CB_ACT_SOFTPLUS;
        m->beta = 2.385;
        CbBits b;
        CbCodeBits bits;
        cb_code_bits_init(&b);
        cb_code_mlp_encode(m, NULL, 16, CB_QUANT_KMEANS, &b, &bits);
        CbMlp *d = NULL;
        cb_code_mlp_decode(&b, &d, NULL);
        float book[16];
        uint32_t *sym = malloc(m->n_params * sizeof *sym);
        int k;
        cb_code_quantize(m->params, m->n_params, 16, CB_QUANT_KMEANS, book, &k, sym);
        int ok = d != NULL && d->act == CB_ACT_SOFTPLUS && d->beta == 2.385 && d->bias == 1;
        for (size_t i = 0; ok && i < m->n_params; ++i) ok &= d->params[i] == book[sym[i]];
        CHECK(ok, "dense network, 16 levels: decoded = its k-means quantization; softplus beta kept");
        CHECK(bits.positions == 10 + 8 && k == 16, "dense layers cost only their nonzero counts (%.0f bits)",
              bits.positions);
        free(sym);
        cb_mlp_free(d);
        cb_code_bits_free(&b);
        cb_mlp_free(m);
    }
    return check_end("code");
}
