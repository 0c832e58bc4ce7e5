/*
 * Tests for subspace (random-subspace training + the subspace code) and the
 * per-task Occam bound (cb_code_task_bound):
 *   - P z from the sparse rows equals a dense D x d reference matrix built here;
 *     P and P^T are adjoint (<Pz, g> = <z, P^T g> in double); z = 0 gives
 *     theta_0 = PyTorch's kaiming-uniform init; (seed, key) reproduce P exactly;
 *     every row has nnz entries of size 1/sqrt(fan_in nnz).
 *   - encode -> decode rebuilds theta bit for bit with identical predictions;
 *     a cut code is refused; the seed and tag cost exactly Elias-delta(seed + 1)
 *     + 16 bits and the hyperparameters exactly their Elias codes (the union
 *     bound over seed, tag, d and nnz), lengths counted here bit by bit;
 *   - the bfloat16 levels: cb_subspace_level_round against a neighbour search
 *     (the nearest of the two bfloat16 values around x, ties to the even one);
 *     a level that is not a bfloat16 value is refused by the encoder.
 *   - refine (the local search on the symbols): its start and end losses equal
 *     cb_train_eval of theta_0 + P book[sym] rebuilt here, the end is no worse
 *     than the start and, from a random start on a 6-dimensional lattice (729
 *     points, all evaluated here), better than the median point; the network it
 *     leaves is the end point bit for bit; rounds = 0 moves nothing; bad k refused.
 *   - the method on a linear-teacher problem (n 5000, 4 classes): the driver's
 *     bound uses the decoded network's training errors (recounted here from
 *     logits) and is non-vacuous; the same run on random labels must come out
 *     vacuous (the random-label control: a bound that could not fail it would be
 *     worthless).
 *   - the weights code path (measure.code = 16) on a trained network.
 *   - a feature map φ in front of the network: both codes gain exactly the prefix's
 *     Elias / bfloat16 bits (the weights code also φ's seed), decode it back, refuse a
 *     map keyed by another seed than the subspace code's or not fitting the network;
 *     kind none leaves the codes bit for bit as they were.
 */
#include "cbound/code.h"
#include "cbound/occam.h"
#include "cbound/subspace.h"
#include "cbound/train.h"
#include "check.h"

#include <string.h>

extern const CbMethod cb_method_subspace;

static CbMlp *shape(size_t w0, size_t w1, size_t w2)
{
    size_t widths[] = {w0, w1, w2};
    CbMlp *m;
    cb_mlp_alloc(2, widths, CB_ACT_RELU, 1.0, 1, &m);
    return m;
}

/* Linear teacher: x ~ N(0, I_20), y = argmax(T x) over 4 classes; random = labels uniform instead. */
static void make_data(CbData *d, size_t n, uint32_t index, int random_labels)
{
    cb_data_alloc(d, n, 20, 4, 0);
    CbStream t = cb_rng_stream(2385, 7, CB_RNG_TEST, 100), s = cb_rng_stream(2385, 7, CB_RNG_TEST, index);
    double T[4][20];
    for (int c = 0; c < 4; ++c)
        for (int j = 0; j < 20; ++j) T[c][j] = cb_rng_normal(&t);
    for (size_t i = 0; i < n; ++i) {
        double best = -1e300;
        for (int j = 0; j < 20; ++j) d->x[i * 20 + j] = (float)cb_rng_normal(&s);
        for (int c = 0; c < 4; ++c) {
            double v = 0;
            for (int j = 0; j < 20; ++j) v += T[c][j] * d->x[i * 20 + j];
            if (v > best) best = v, d->y[i] = c;
        }
        if (random_labels) d->y[i] = (int32_t)cb_rng_below(&s, 4);
    }
    snprintf(d->name, sizeof d->name, "teacher/%u", index);
}

static size_t count_errors(const CbMlp *m, const CbData *d)
{
    float *out = malloc(d->n * 4 * sizeof *out), *w = malloc(cb_mlp_forward_work_size(m, d->n) * sizeof *w);
    cb_mlp_forward(m, d->x, d->n, out, w);
    size_t err = 0;
    for (size_t i = 0; i < d->n; ++i) {
        int a = 0;
        for (int c = 1; c < 4; ++c)
            if (out[i * 4 + c] > out[i * 4 + a]) a = c;
        err += a != d->y[i];
    }
    free(out);
    free(w);
    return err;
}

/* Runs the subspace method + the driver's bound on the given training labels. */
static void run_method(const CbData *train, const CbData *test, CbResult *res, CbMlp **decoded, CbStatus *st_out)
{
    CbMlp *m = shape(20, 64, 4);
    CbParams p = {0};
    cb_params_set(&p, "d", "200");
    cb_params_set(&p, "levels", "5");
    cb_params_set(&p, "epochs", "30");
    cb_params_set(&p, "qat_epochs", "6");
    cb_params_set(&p, "lr", "0.05");
    cb_params_set(&p, "batch", "128");
    CbTrainConfig tc;
    cb_train_config_default(&tc);
    CbMeasureOpts mo = {0};
    CbTaskCtx ctx = {.seed = 2385, .key = 0x5ab5ace, .method = "subspace", .params = &p, .train = train, .test = test,
                     .train_config = &tc, .measure = &mo, .quiet = 1};
    cb_result_init(res, m->depth);
    CbStatus st = cb_method_subspace.compress(&ctx, m, res);
    if (st == CB_OK) st = cb_code_task_bound(&ctx, m, res);
    *st_out = st;
    *decoded = m;
}

/* m's parameters = θ₀ + P z of stream (seed, key), z_j = book[sym_j]: what a decoder must rebuild. */
static void expand_symbols(CbMlp *m, size_t d, int nnz, uint64_t seed, uint64_t key, const float *book,
                           const uint32_t *sym)
{
    CbSubspace *s;
    cb_subspace_alloc(m, d, nnz, seed, key, &s);
    float *z = malloc(d * sizeof *z);
    for (size_t j = 0; j < d; ++j) z[j] = book[sym[j]];
    cb_subspace_expand(s, z, m->params);
    free(z);
    cb_subspace_free(s);
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);

    /* 1. The projection against a dense reference; adjointness; theta_0; reproducibility. */
    {
        CbMlp *m = shape(13, 9, 3);
        CbSubspace *s, *s2;
        size_t d = 17;
        cb_subspace_alloc(m, d, 3, 2385, 42, &s);
        cb_subspace_alloc(m, d, 3, 2385, 42, &s2);
        size_t D = s->D;
        double *P = calloc(D * d, sizeof *P); /* dense (D, d) */
        int rows_ok = 1;
        for (size_t i = 0; i < D; ++i) {
            int l = i < m->offset_W[1] ? 0 : 1;
            for (int t = 0; t < 3; ++t) {
                P[i * d + s->col[i * 3 + t]] += s->val[i * 3 + t];
                rows_ok &= fabs(fabs(s->val[i * 3 + t]) - 1 / sqrt(3.0 * m->widths[l])) < 1e-7 && s->col[i * 3 + t] < d;
            }
        }
        CHECK(rows_ok, "every row of P: 3 entries of size 1/sqrt(fan_in * 3) in columns < d");
        float z[17], g[200], theta[200], gz[17];
        CbStream r = cb_rng_stream(2385, 8, CB_RNG_TEST, 1);
        for (size_t j = 0; j < d; ++j) z[j] = (float)cb_rng_normal(&r);
        for (size_t i = 0; i < D; ++i) g[i] = (float)cb_rng_normal(&r);
        cb_subspace_expand(s, z, theta);
        double worst = 0, lhs = 0, rhs = 0;
        for (size_t i = 0; i < D; ++i) {
            double v = s->theta0[i];
            for (size_t j = 0; j < d; ++j) v += P[i * d + j] * z[j];
            worst = fmax(worst, fabs(v - theta[i]));
            lhs += (theta[i] - s->theta0[i]) * (double)g[i];
        }
        CHECK(worst < 1e-5, "theta_0 + P z vs the dense D x d reference: max |diff| %.2g", worst);
        cb_subspace_project(s, g, gz);
        for (size_t j = 0; j < d; ++j) rhs += (double)z[j] * gz[j];
        CHECK_REL(lhs, rhs, 1e-5, "<P z, g> = <z, P^T g>");
        CbMlp *init = cb_mlp_clone(m);
        cb_mlp_init(init, CB_INIT_KAIMING_UNIFORM, 1.0, 2385, 42);
        memset(z, 0, sizeof z);
        cb_subspace_expand(s, z, theta);
        CHECK(!memcmp(theta, init->params, D * sizeof(float)), "z = 0 gives theta_0 = cb_mlp_init(seed, key)");
        CHECK(!memcmp(s->col, s2->col, D * 3 * sizeof *s->col) && !memcmp(s->val, s2->val, D * 3 * sizeof *s->val),
              "(seed, key) reproduce P exactly");
        CbSubspace *bad;
        CHECK(cb_subspace_alloc(m, 0, 3, 1, 1, &bad) == CB_EINVAL, "d = 0 refused");
        cb_mlp_free(init);
        free(P);
        cb_subspace_free(s);
        cb_subspace_free(s2);
        cb_mlp_free(m);
    }
    /* 2. The subspace code round-trip. */
    {
        CbMlp *m = shape(20, 64, 4);
        size_t d = 60;
        float book[] = {-0.609375f, -0.23828125f, 0.0f, 0.36914062f}; /* bfloat16 values (8 significant bits) */
        uint32_t sym[60];
        CbStream r = cb_rng_stream(2385, 9, CB_RNG_TEST, 1);
        for (size_t j = 0; j < d; ++j) sym[j] = (uint32_t)cb_rng_below(&r, 4);
        CbBits b;
        CbCodeBits bits;
        cb_code_bits_init(&b);
        cb_subspace_encode(m, NULL, 2385, 77, d, 2, book, 4, sym, &b, &bits);
        CbMlp *dec = NULL;
        CHECK(cb_subspace_decode(&b, &dec, NULL) == CB_OK && b.pos == b.n_bits, "decode reads exactly the %zu bits", b.n_bits);
        expand_symbols(m, d, 2, 2385, 77, book, sym);
        CHECK(dec && !memcmp(dec->params, m->params, m->n_params * sizeof(float)), "decoded theta is bit-identical");
        CbData x;
        make_data(&x, 50, 3, 0);
        float o1[200], o2[200], *w = malloc(cb_mlp_forward_work_size(m, 50) * sizeof *w);
        cb_mlp_forward(m, x.x, 50, o1, w);
        cb_mlp_forward(dec, x.x, 50, o2, w);
        CHECK(!memcmp(o1, o2, sizeof o1), "identical predictions (logits bit for bit)");
        /* Elias delta of N: L = bits of N; L - 1 + 2 * (bits of L - 1) + 1 = floor(log2 N) + 2 floor(log2 L) + 1 */
        int nbits_n = 0, nbits_l = 0;
        for (unsigned long v = 2386; v; v >>= 1) ++nbits_n;
        for (unsigned long v = (unsigned long)nbits_n; v; v >>= 1) ++nbits_l;
        double want_key = (nbits_n - 1) + 2 * (nbits_l - 1) + 1 + 16; /* 11 + 6 + 1 + 16 = 34 */
        CHECK(bits.key == want_key && want_key == 34 && bits.hyper == 10 + 3,
              "seed and tag delta(2386) + 16 = %.0f bits (%.0f); hyperparameters delta(60) + gamma(2) = 13 bits (%.0f)",
              want_key, bits.key, bits.hyper);
        CHECK(bits.codebook == 5 + 4 * 16, "codebook gamma(4) (5 bits) + 4 bfloat16 levels = 69 bits (%.0f)", bits.codebook);
        CHECK_CLOSE(bits.total, (double)b.n_bits, 0, "parts sum to the stream length");
        CbBits cut = b;
        cut.n_bits -= 5;
        cut.pos = 0;
        CbMlp *bad = NULL;
        CHECK(cb_subspace_decode(&cut, &bad, NULL) == CB_EFORMAT && !bad, "a cut code is refused (%s)", cb_err_msg());
        /* each decoder refuses the other's code by its type */
        b.pos = 0;
        CHECK(cb_code_mlp_decode(&b, &bad, NULL) == CB_EFORMAT && !bad &&
                  strstr(cb_err_msg(), "weights code: expected type 1, found 2"),
              "the weights decoder refuses a subspace code (%s)", cb_err_msg());
        CbBits bw;
        CbCodeBits bwb;
        cb_code_bits_init(&bw);
        CHECK(cb_code_mlp_encode(m, NULL, 4, CB_QUANT_KMEANS, &bw, &bwb) == CB_OK &&
                  cb_subspace_decode(&bw, &bad, NULL) == CB_EFORMAT && !bad &&
                  strstr(cb_err_msg(), "subspace code: expected type 2, found 1"),
              "the subspace decoder refuses a weights code (%s)", cb_err_msg());
        cb_code_bits_free(&bw);
        CbBits b2;
        cb_code_bits_init(&b2);
        float off[] = {-0.61f, 0.37f}; /* not bfloat16 values */
        uint32_t s2[60] = {0};
        s2[1] = 1;
        CHECK(cb_subspace_encode(m, NULL, 2385, 77, d, 2, off, 2, s2, &b2, &bits) == CB_EINVAL,
              "a level that is not a bfloat16 value is refused (%s)", cb_err_msg());
        CHECK(cb_subspace_encode(m, NULL, 2385, 1u << 16, d, 2, book, 4, sym, &b2, &bits) == CB_EINVAL,
              "a tag wider than 16 bits is refused");
        cb_code_bits_free(&b2);
        free(w);
        cb_data_free(&x);
        cb_mlp_free(dec);
        cb_mlp_free(m);
        cb_code_bits_free(&b);
    }
    /* 2c. A feature map in front of the network (data.features: conv): the subspace code
     * and the weights code gain exactly the prefix type 3 + kind + shape + filters + pool
     * + bfloat16 gain (and the weights code φ's seed), lengths counted here by the Elias
     * formulas; without φ (NULL or kind none) the codes are bit for bit the old ones. */
    {
        CbMlp *m = shape(576, 20, 10); /* 16 filters x 6 x 6 after 4x4 pooling of 24 x 24 */
        size_t d = 40;
        float book[] = {-0.23828125f, 0.0f, 0.36914062f};
        uint32_t sym[40];
        CbStream r = cb_rng_stream(2385, 11, CB_RNG_TEST, 1);
        for (size_t j = 0; j < d; ++j) sym[j] = (uint32_t)cb_rng_below(&r, 3);
        CbFeatures phi = {.kind = CB_FEATURES_CONV, .filters = 16, .pool = 4, .gain = 10, .seed = 2385,
                          .in_c = 1, .in_h = 28, .in_w = 28}, none = {0}, got;
        CbBits b0, b1, bn;
        CbCodeBits k0, k1, kn;
        cb_code_bits_init(&b0);
        cb_code_bits_init(&b1);
        cb_code_bits_init(&bn);
        cb_subspace_encode(m, NULL, 2385, 77, d, 1, book, 3, sym, &b0, &k0);
        cb_subspace_encode(m, &none, 2385, 77, d, 1, book, 3, sym, &bn, &kn);
        CHECK(cb_subspace_encode(m, &phi, 2385, 77, d, 1, book, 3, sym, &b1, &k1) == CB_OK, "encode with a conv map");
        /* gamma(v): 2 floor(log2 v) + 1; delta(v): floor(log2 v) + 2 floor(log2(floor(log2 v) + 1)) + 1 */
        int g3 = 3, g1 = 1, d28 = 4 + 2 * 2 + 1, g16 = 9, g4 = 5;
        double want = g3 + g1 + g1 + 2 * d28 + g16 + g4 + 16; /* = 53 */
        CHECK(bn.n_bits == b0.n_bits && !memcmp(bn.buf, b0.buf, (b0.n_bits + 7) / 8) && kn.arch == k0.arch,
              "kind none writes nothing: the code is bit for bit the code without a map (%zu bits)", b0.n_bits);
        CHECK(want == 53 && k1.arch - k0.arch == want && k1.total - k0.total == want && k1.key == k0.key &&
              b1.n_bits == b0.n_bits + 53,
              "the map costs exactly gamma(3) + gamma(1) + gamma(1) + 2 delta(28) + gamma(16) + gamma(4) + 16 = %.0f "
              "bits of code_bits_arch (%.0f), no key bits (its seed is the code's)", want, k1.arch - k0.arch);
        CbMlp *dec = NULL;
        CHECK(cb_subspace_decode(&b1, &dec, &got) == CB_OK && b1.pos == b1.n_bits && cb_features_same(&got, &phi) &&
              got.seed == 2385, "decode reads the map back (seed = the code's seed) and exactly the %zu bits", b1.n_bits);
        expand_symbols(m, d, 1, 2385, 77, book, sym);
        CHECK(dec && !memcmp(dec->params, m->params, m->n_params * sizeof(float)), "decoded theta behind the map is bit-identical");
        cb_mlp_free(dec);
        dec = NULL;
        CHECK(cb_subspace_decode(&b0, &dec, &got) == CB_OK && got.kind == CB_FEATURES_NONE,
              "a code without the prefix decodes to kind none");
        cb_mlp_free(dec);
        dec = NULL;
        { /* conv_abs: kind 2 in gamma(2) = 3 bits, 2 more than conv's gamma(1); decoded as conv_abs */
            CbFeatures ab = phi;
            ab.kind = CB_FEATURES_CONV_ABS;
            CbBits ba;
            CbCodeBits ka;
            cb_code_bits_init(&ba);
            CHECK(cb_subspace_encode(m, &ab, 2385, 77, d, 1, book, 3, sym, &ba, &ka) == CB_OK &&
                      ka.arch - k0.arch == want + 2 && ba.n_bits == b0.n_bits + 55 &&
                      cb_subspace_decode(&ba, &dec, &got) == CB_OK && got.kind == CB_FEATURES_CONV_ABS &&
                      cb_features_same(&got, &ab) && !cb_features_same(&got, &phi) && ba.pos == ba.n_bits,
                  "conv_abs map: %.0f bits (gamma(2) for its kind), decoded back as conv_abs, not as conv",
                  ka.arch - k0.arch);
            cb_mlp_free(dec);
            dec = NULL;
            cb_code_bits_free(&ba);
        }
        CbBits b2;
        cb_code_bits_init(&b2);
        CbFeatures other = phi;
        other.seed = 7;
        CHECK(cb_subspace_encode(m, &other, 2385, 77, d, 1, book, 3, sym, &b2, &k1) == CB_EINVAL,
              "a map keyed by another seed than the code's is refused (%s)", cb_err_msg());
        other = phi;
        other.pool = 5;
        CHECK(cb_subspace_encode(m, &other, 2385, 77, d, 1, book, 3, sym, &b2, &k1) == CB_EINVAL,
              "a map whose pool does not divide 24 is refused");
        CbMlp *wrong = shape(784, 20, 10); /* input width not the map's 576 features */
        cb_code_bits_free(&b2);
        cb_code_bits_init(&b2);
        cb_subspace_encode(wrong, &phi, 2385, 77, d, 1, book, 3, sym, &b2, &k1);
        CHECK(cb_subspace_decode(&b2, &dec, NULL) == CB_EFORMAT && !dec, "a map of 576 features before a 784-wide "
              "network is refused by the decoder (%s)", cb_err_msg());
        /* the weights code: the same prefix, plus phi's seed delta(2386) = 18 key bits */
        CbBits w0, w1;
        CbCodeBits q0, q1;
        cb_code_bits_init(&w0);
        cb_code_bits_init(&w1);
        cb_code_mlp_encode(m, NULL, 8, CB_QUANT_KMEANS, &w0, &q0);
        CHECK(cb_code_mlp_encode(m, &phi, 8, CB_QUANT_KMEANS, &w1, &q1) == CB_OK &&
              q1.arch - q0.arch == want && q1.key - q0.key == 18 && q1.total - q0.total == want + 18 &&
              w1.n_bits == w0.n_bits + 53 + 18,
              "weights code: + %.0f arch bits and delta(2386) = 18 key bits for the map's seed (%.0f, %.0f)", want,
              q1.arch - q0.arch, q1.key - q0.key);
        other = phi;
        other.seed = 123456;
        CbMlp *wd = NULL;
        cb_code_bits_free(&w1);
        cb_code_bits_init(&w1);
        cb_code_mlp_encode(m, &other, 8, CB_QUANT_KMEANS, &w1, &q1);
        CHECK(cb_code_mlp_decode(&w1, &wd, &got) == CB_OK && w1.pos == w1.n_bits && cb_features_same(&got, &other),
              "weights code: the map and its seed (123456) read back");
        CHECK(wd && wd->widths[0] == 576 && wd->widths[1] == 20, "weights code: the network behind the map is 576-20-10");
        cb_mlp_free(wd);
        cb_code_bits_free(&w0);
        cb_code_bits_free(&w1);
        cb_code_bits_free(&b0);
        cb_code_bits_free(&b1);
        cb_code_bits_free(&bn);
        cb_code_bits_free(&b2);
        cb_mlp_free(wrong);
        cb_mlp_free(m);
    }
    /* 2b. bfloat16 rounding against a neighbour search: the two bfloat16 values around x
     * are x's float32 bits with the low half cleared (toward zero) and that plus one unit
     * of the upper half (away from zero); the nearest wins, ties go to the even one. */
    {
        CbStream r = cb_rng_stream(2385, 10, CB_RNG_TEST, 1);
        int ok = 1, ties_ok = 1;
        double worst = 0;
        for (int i = 0; i < 20000; ++i) {
            float x = (float)(cb_rng_normal(&r) * exp(8 * cb_rng_normal(&r)));
            if (i < 8) { /* exact ties: the low half 0x8000 */
                uint32_t u = 0x3f2a8000u + ((uint32_t)i << 16);
                memcpy(&x, &u, sizeof u);
            }
            uint32_t u, lo_u, hi_u, ru;
            memcpy(&u, &x, sizeof u);
            lo_u = u & 0xffff0000u;
            hi_u = lo_u + 0x10000u;
            float lo, hi, rx = cb_subspace_level_round(x);
            memcpy(&lo, &lo_u, sizeof lo);
            memcpy(&hi, &hi_u, sizeof hi);
            memcpy(&ru, &rx, sizeof ru);
            double dl = fabs((double)x - lo), dh = fabs((double)x - hi);
            float want = dl < dh ? lo : dh < dl ? hi : ((lo_u >> 16) & 1u) ? hi : lo;
            ok &= rx == want && (ru & 0xffffu) == 0;
            if (i < 8) ties_ok &= dl == dh && ((ru >> 16) & 1u) == 0;
            if (x != 0) worst = fmax(worst, fabs((double)rx - x) / fabs((double)x));
        }
        CHECK(ok, "bfloat16 rounding = the nearest of the two neighbours, 20,000 values over 10^-7..10^7");
        CHECK(ties_ok, "ties (low half 0x8000) go to the even bfloat16 value");
        CHECK(worst <= 1.0 / 256, "relative rounding error <= 2^-8 (%.3g)", worst);
    }
    /* 2c. refine against losses recomputed here and an exhaustive search of a small lattice. */
    {
        CbMlp *m = shape(20, 16, 4), *ref = shape(20, 16, 4);
        CbData x;
        make_data(&x, 400, 3, 0);
        size_t d = 6;
        CbSubspace *s;
        cb_subspace_alloc(m, d, 2, 2385, 91, &s);
        float book[3] = {-2.5f, 0.0f, 2.375f}, z[6];
        uint32_t sym[6], sym0[6];
        CbStream r = cb_rng_stream(2385, 11, CB_RNG_TEST, 1);
        for (size_t j = 0; j < d; ++j) sym[j] = sym0[j] = (uint32_t)cb_rng_below(&r, 3);
        double l0, l1, e0, e1;
        CHECK(cb_subspace_refine(m, s, &x, CB_LOSS_CROSS_ENTROPY, book, 3, sym, 0, &l0, &l1) == CB_OK &&
                  !memcmp(sym, sym0, sizeof sym) && l0 == l1, "rounds = 0 moves nothing");
        CHECK(cb_subspace_refine(m, s, &x, CB_LOSS_CROSS_ENTROPY, book, 0, sym, 5, &l0, &l1) == CB_EINVAL,
              "k = 0 refused (%s)", cb_err_msg());
        CHECK(cb_subspace_refine(m, s, &x, CB_LOSS_CROSS_ENTROPY, book, 3, sym, 50, &l0, &l1) == CB_OK, "refine runs");
        for (size_t j = 0; j < d; ++j) z[j] = book[sym0[j]];
        cb_subspace_expand(s, z, ref->params);
        cb_train_eval(ref, CB_LOSS_CROSS_ENTROPY, &x, &e0, NULL, NULL);
        int in_range = 1;
        for (size_t j = 0; j < d; ++j) in_range &= sym[j] < 3, z[j] = book[sym[j] < 3 ? sym[j] : 0];
        cb_subspace_expand(s, z, ref->params);
        cb_train_eval(ref, CB_LOSS_CROSS_ENTROPY, &x, &e1, NULL, NULL);
        CHECK(fabs(l0 - e0) <= 1e-5 * e0, "start loss %.6f = cb_train_eval at the start symbols (%.6f)", l0, e0);
        CHECK(fabs(l1 - e1) <= 1e-5 * e1, "end loss %.6f = cb_train_eval at the end symbols (%.6f)", l1, e1);
        CHECK(in_range && !memcmp(m->params, ref->params, m->n_params * sizeof(float)),
              "the network left behind is theta_0 + P book[sym] at the end symbols, bit for bit");
        double all[729];
        for (int c = 0; c < 729; ++c) { /* every point of the lattice */
            for (int j = 0, v = c; j < 6; ++j, v /= 3) z[j] = book[v % 3];
            cb_subspace_expand(s, z, ref->params);
            cb_train_eval(ref, CB_LOSS_CROSS_ENTROPY, &x, &all[c], NULL, NULL);
        }
        int below = 0;
        double best = all[0];
        for (int c = 0; c < 729; ++c) below += all[c] < e1, best = fmin(best, all[c]);
        CHECK(e1 <= e0 && below < 729 / 2, "end loss %.4f <= start %.4f and below the median point: %d of 729 points "
              "lower (lattice minimum %.4f)", e1, e0, below, best);
        cb_subspace_free(s);
        cb_data_free(&x);
        cb_mlp_free(m);
        cb_mlp_free(ref);
    }
    /* 3. The method, the driver's bound, and the random-label control. */
    {
        CbData train, test, rtrain, rtest;
        make_data(&train, 5000, 1, 0);
        make_data(&test, 1000, 2, 0);
        make_data(&rtrain, 5000, 1, 1);
        make_data(&rtest, 1000, 2, 1);
        CbResult res, rres;
        CbMlp *m, *rm;
        CbStatus st, rst;
        run_method(&train, &test, &res, &m, &st);
        CHECK(st == CB_OK, "subspace method + bound on teacher labels (%s)", st ? cb_err_msg() : "ok");
        double *t = res.task;
        size_t k = count_errors(m, &train);
        CHECK(t[CB_T_train_err_count] == (double)k && t[CB_T_n_train] == 5000,
              "training errors of the decoded network, recounted from its logits: %zu", k);
        CHECK_CLOSE(t[CB_T_occam_bound], cb_occam_bound(k, 5000, t[CB_T_code_bits], 0.05), 0, "bound = Bin^-1(k, n, delta 2^-bits)");
        double parts = t[CB_T_code_bits_arch] + t[CB_T_code_bits_key] + t[CB_T_code_bits_hyper] + t[CB_T_code_bits_codebook] +
                       t[CB_T_code_bits_counts] + t[CB_T_code_bits_symbols] + t[CB_T_code_bits_positions];
        CHECK_CLOSE(parts, t[CB_T_code_bits], 0, "code_bits = sum of its parts");
        CHECK(t[CB_T_vacuous] == 0 && t[CB_T_occam_bound] < 0.5 && t[CB_T_occam_bound_kl] >= t[CB_T_occam_bound],
              "teacher labels: non-vacuous bound %.3f (kl form %.3f; train error %.3f, test error %.3f, %.0f bits)",
              t[CB_T_occam_bound], t[CB_T_occam_bound_kl], k / 5000.0, t[CB_T_code_test_err], t[CB_T_code_bits]);
        run_method(&rtrain, &rtest, &rres, &rm, &rst);
        CHECK(rst == CB_OK && rres.task[CB_T_vacuous] == 1 && rres.task[CB_T_occam_bound] >= 0.75,
              "random labels: vacuous bound %.3f (train error %.3f)", rres.task[CB_T_occam_bound],
              rres.task[CB_T_train_err_count] / 5000);

        /* 4. The weights code on a trained (here: the subspace-trained) network. */
        CbTrainConfig tc;
        cb_train_config_default(&tc);
        CbMeasureOpts mo = {.code = 16};
        CbTaskCtx ctx = {.seed = 1, .key = 2, .train = &train, .test = &test, .train_config = &tc, .measure = &mo};
        CbResult wres;
        cb_result_init(&wres, 2);
        CHECK(cb_code_task_bound(&ctx, m, &wres) == CB_OK && wres.task[CB_T_code_bits] > 0 &&
                  wres.task[CB_T_code_bits_key] == 0 && wres.task[CB_T_code_bits_positions] > 0 &&
                  wres.task[CB_T_occam_bound] > 0 && wres.task[CB_T_occam_bound] <= 1,
              "measure.code = 16: weights code of the 20-64-4 network, %.0f bits, bound %.3f",
              wres.task[CB_T_code_bits], wres.task[CB_T_occam_bound]);
        CHECK(wres.task[CB_T_code_bits] > t[CB_T_code_bits],
              "coding all %zu weights costs more than coding the d = 200 subspace coordinates", m->n_params);
        mo.code = 0;
        cb_result_init(&wres, 2);
        CHECK(cb_code_task_bound(&ctx, m, &wres) == CB_OK && isnan(wres.task[CB_T_code_bits]) &&
                  isnan(wres.task[CB_T_occam_bound]),
              "measure.code = 0 and no code from the method: no bound columns");
        cb_result_free(&wres);
        cb_result_free(&res);
        cb_result_free(&rres);
        cb_mlp_free(m);
        cb_mlp_free(rm);
        cb_data_free(&train);
        cb_data_free(&test);
        cb_data_free(&rtrain);
        cb_data_free(&rtest);
    }
    return check_end("subspace");
}
