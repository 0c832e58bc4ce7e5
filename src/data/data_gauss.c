/*
 * data_gauss — synthetic Gaussian-teacher data (for the two-layer theory of 002
 * and for fast tests).
 *
 *   x ~ N(0, I_d)
 *   teacher f(x) = W2 relu(W1 x),  W1 (h, d) entries N(0, 1/d),  W2 (k, h) entries N(0, 2/h)
 * so each pre-activation w·x has variance |w|^2 ~ 1 and E relu(z)^2 = 1/2 gives
 * outputs of order one. No biases. k = n_classes (classification, y = argmax_j f_j,
 * ties to the lowest j) or 1 (regression, t = f(x) + noise * z, z ~ N(0, 1)).
 * The teacher sees x as stored (float32 rounded), so targets are a function of
 * the stored inputs.
 *
 * Stream layout (part of the results' semantics; CB_DATA_RNG_KEY, spec->seed):
 *   (CB_RNG_DATA_GEN, 0): W1 row-major, then W2 row-major, one cb_rng_normal each.
 *   (CB_RNG_DATA_GEN, split 1 train / 2 test): sample i starts at Philox block
 *     i * (d + 1): x_i1..x_id, then z_i (cb_rng_normal uses exactly one 4-word
 *     block), so sample i does not depend on how many samples are drawn.
 */
#include "cbound/data.h"
#include "cbound/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The stream of split `index` positioned at Philox block `block` (counter words
 * 0 and 1 are the block number, see include/cbound/rng.h). */
static CbStream stream_at(uint64_t seed, uint32_t index, uint64_t block)
{
    CbStream s = cb_rng_stream(seed, CB_DATA_RNG_KEY, CB_RNG_DATA_GEN, index);
    s.ctr[0] = (uint32_t)block;
    s.ctr[1] = (uint32_t)(block >> 32);
    return s;
}

CbStatus cb_data_gaussian(const CbDataSpec *spec, uint32_t index, size_t n, CbData *out)
{
    memset(out, 0, sizeof *out);
    size_t d = spec->dim, h = spec->teacher_width;
    size_t k = spec->regression ? 1 : spec->n_classes;
    if (index == 0 || d == 0 || h == 0 || k == 0 || (!spec->regression && k < 2))
        return CB_ERR(CB_EINVAL,
                      "gaussian data: expected split index 1 or 2, dim, teacher_width > 0 and "
                      "n_classes >= 2 (classification); found index %u, dim %zu, width %zu, classes %zu",
                      index, d, h, spec->n_classes);
    CB_TRY(cb_data_alloc(out, n, d, spec->regression ? 0 : k, spec->regression ? 1 : 0));

    double *w1 = cb_malloc(h * d * sizeof(double)); // (h, d)
    double *w2 = cb_malloc(k * h * sizeof(double)); // (k, h)
    CbStream ts = cb_rng_stream(spec->seed, CB_DATA_RNG_KEY, CB_RNG_DATA_GEN, 0);
    for (size_t i = 0; i < h * d; ++i) w1[i] = cb_rng_normal(&ts) / sqrt((double)d);
    for (size_t i = 0; i < k * h; ++i) w2[i] = cb_rng_normal(&ts) * sqrt(2.0 / (double)h);

    enum { B = 256 };
    double *xb = cb_malloc(B * d * sizeof(double)); // (B, d)
    double *hb = cb_malloc(B * h * sizeof(double)); // (B, h)
    double *fb = cb_malloc(B * k * sizeof(double)); // (B, k)
    double z[B];
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t nb = n - i0 < B ? n - i0 : B;
        for (size_t b = 0; b < nb; ++b) {
            size_t i = i0 + b;
            CbStream s = stream_at(spec->seed, index, (uint64_t)i * (d + 1));
            for (size_t j = 0; j < d; ++j) {
                out->x[i * d + j] = (float)cb_rng_normal(&s);
                xb[b * d + j] = out->x[i * d + j];
            }
            z[b] = cb_rng_normal(&s);
        }
        /* hb = relu(xb W1^T), fb = hb W2^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)h, (int)d, 1.0, xb, (int)d, w1,
                    (int)d, 0.0, hb, (int)h);
        for (size_t i = 0; i < nb * h; ++i) hb[i] = hb[i] > 0 ? hb[i] : 0;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)k, (int)h, 1.0, hb, (int)h, w2,
                    (int)h, 0.0, fb, (int)k);
        for (size_t b = 0; b < nb; ++b) {
            if (spec->regression) {
                out->t[i0 + b] = (float)(fb[b] + spec->noise * z[b]);
            } else {
                size_t best = 0;
                for (size_t j = 1; j < k; ++j)
                    if (fb[b * k + j] > fb[b * k + best]) best = j;
                out->y[i0 + b] = (int32_t)best;
            }
        }
    }
    free(w1);
    free(w2);
    free(xb);
    free(hb);
    free(fb);
    snprintf(out->source, sizeof out->source,
             "gaussian teacher d=%zu width=%zu outputs=%zu noise=%g seed=%llu split=%u", d, h, k, spec->noise,
             (unsigned long long)spec->seed, index);
    return CB_OK;
}
