/*
 * features — a fixed, data-independent random feature map φ in front of the MLP
 * (src/data/features.c). The classifier a sweep trains, compresses and bounds is
 * then MLP∘φ; φ is drawn from a random stream keyed by settings and a seed only,
 * never from the data, so it costs the Occam bound only its description (the
 * model codes write it: src/compress/code.c, docs/nonvacuous.md).
 *
 * kind conv (random features of a convolution, Jarrett et al. 2009; Saxe et al.
 * 2011 for random filters):
 *     φ(x) = gain · avgpool_p( ReLU( conv_valid(x − 0.13, W) + b ) )
 *   x    (c, h, w) channel-major image (the data's layout), any scale (designed
 *        for unit scale, x in [0, 1]; 0.13 is about MNIST's mean pixel)
 *   W    (F, c, 5, 5), W ~ N(0, 1) / sqrt(25 c);  b (F), b ~ N(0, 0.1²)
 *        both from stream (seed, CB_DATA_RNG_KEY, CB_RNG_FEATURES, 0): the F·25c
 *        entries of W in row-major order, then the F biases (cb_rng_normal each)
 *   conv cross-correlation (as torch.nn.functional.conv2d), stride 1, no padding:
 *        (h − 4) × (w − 4) outputs per filter
 *   pool p × p blocks averaged, stride p: (h − 4) and (w − 4) must be multiples of p
 *   φ(x) (F, (h−4)/p, (w−4)/p) flattened row-major: F·(h−4)(w−4)/p² features
 * kind conv_abs: the same with |·| in place of the ReLU (absolute-value rectification,
 *   Jarrett et al. 2009 Sec. 2.1: both signs of each filter response kept):
 *     φ(x) = gain · avgpool_p( | conv_valid(x − 0.13, W) + b | )
 * The fast path (cb_features_apply) is im2col + sgemm; cb_features_apply_ref is the
 * plain loop in double it is tested against (tests/test_data.c).
 */
#ifndef CBOUND_FEATURES_H
#define CBOUND_FEATURES_H

#include "cbound/err.h"

#include <stddef.h>
#include <stdint.h>

/* Kinds (the numbers are part of the model codes: append only). */
typedef enum {
    CB_FEATURES_NONE = 0,
    CB_FEATURES_CONV = 1,
    CB_FEATURES_CONV_ABS = 2,
    CB_FEATURES_N_KINDS /* how many kinds there are (not a kind) */
} CbFeaturesKind;

#define CB_FEATURES_KERNEL 5      /* conv: filter size (fixed by the kind)          */
#define CB_FEATURES_SHIFT 0.13    /* conv: subtracted from every input value        */
#define CB_FEATURES_BIAS_SD 0.1   /* conv: standard deviation of the biases         */
#define CB_FEATURES_MAX_FILTERS 4096
#define CB_FEATURES_MAX_POOL 64

typedef struct {
    CbFeaturesKind kind; /* CB_FEATURES_NONE: the identity, nothing else is used  */
    size_t filters;      /* F                                                     */
    size_t pool;         /* p                                                     */
    double gain;         /* a finite bfloat16 value > 0 (the codes write 16 bits)  */
    uint64_t seed;       /* stream seed of W and b                                */
    size_t in_c, in_h, in_w; /* input image shape                                 */
} CbFeatures;

/* "none" / "conv" / "conv_abs" and back (CB_EINVAL naming the choices). */
const char *cb_features_name(CbFeaturesKind k);
CbStatus cb_features_parse(const char *name, CbFeaturesKind *out);

/* Validate: kind known; conv: 1 <= F <= 4096, 1 <= p <= 64, gain a finite positive
 * bfloat16 value, an image of at least 5 x 5 whose (h − 4), (w − 4) are multiples
 * of p. On CB_EINVAL *bad names the setting at fault ("conv_filters", "conv_pool",
 * "conv_gain", "features") when bad != NULL. */
CbStatus cb_features_check(const CbFeatures *f, const char **bad);

/* Output features per sample (input features c·h·w for kind none). */
size_t cb_features_dim(const CbFeatures *f);

/* W (F, c·25) row-major and b (F) of a conv map, drawn from its stream. */
void cb_features_filters(const CbFeatures *f, float *W, float *b);

/* out (n, cb_features_dim) = φ(x), x (n, c·h·w). Checks f first. Fast path:
 * im2col of 16 images at a time, one sgemm against W, then bias, ReLU, pooling. */
CbStatus cb_features_apply(const CbFeatures *f, const float *x, size_t n, float *out);
/* The same by the definition's loops, summed in double (the reference). */
CbStatus cb_features_apply_ref(const CbFeatures *f, const float *x, size_t n, float *out);

/* 1 if a and b describe the same map (kind none: all equal). */
int cb_features_same(const CbFeatures *a, const CbFeatures *b);

#endif
