/*
 * code — an exact, prefix-free code for compressed MLPs (src/compress/code.c):
 * bit buffers, Elias codes, a static-model arithmetic coder, 1-D quantizers
 * (k-means / uniform levels) and the "weights" model code that any compressed
 * network (pruned, quantized, dense) can be written in.
 *
 * The code length |c(h)| of the decoded network h is what the Occam bound of
 * include/cbound/occam.h pays (prior 2^-|c(h)|; Lotfi et al. 2022, Sec. 3).
 * Every model code starts with the Elias-gamma code of its type (below), so the
 * union of all model codes is itself prefix-free: one prior over all networks
 * every method can produce, whatever the sweep later selects among them.
 */
#ifndef CBOUND_CODE_H
#define CBOUND_CODE_H

#include "cbound/ctx.h"
#include "cbound/err.h"
#include "cbound/features.h"
#include "cbound/mlp.h"

#include <stddef.h>
#include <stdint.h>

/* Model code types (the leading Elias-gamma number; append only). */
enum { CB_CODE_WEIGHTS = 1, /* architecture, nonzero positions, quantized values */
       CB_CODE_SUBSPACE = 2, /* architecture, stream key, d, quantized z (src/compress/subspace.c) */
       CB_CODE_FEATURES = 3  /* a feature map φ, then a model code of type 1 or 2 for the MLP after it */ };

/* ------------------------------------------------------------------ bits */

typedef struct {
    uint8_t *buf;     /* (cap) bytes, bit i at buf[i/8] bit 7 - i%8 (MSB first) */
    size_t cap;
    size_t n_bits;    /* bits written                                            */
    size_t pos;       /* next bit to read                                        */
    int overrun;      /* a read went past n_bits (reads there return 0)          */
} CbBits;

void cb_code_bits_init(CbBits *b);          /* empty writer                       */
void cb_code_bits_free(CbBits *b);
void cb_code_put_bit(CbBits *b, int bit);
void cb_code_put_uint(CbBits *b, uint64_t v, int nbits); /* nbits <= 64, MSB first */
int cb_code_get_bit(CbBits *b);
uint64_t cb_code_get_uint(CbBits *b, int nbits);
/* Elias gamma / delta codes of v >= 1 (Elias 1975): 2 floor(log2 v) + 1 and
 * floor(log2 v) + 2 floor(log2(floor(log2 v) + 1)) + 1 bits. */
void cb_code_put_gamma(CbBits *b, uint64_t v);
uint64_t cb_code_get_gamma(CbBits *b);
void cb_code_put_delta(CbBits *b, uint64_t v);
uint64_t cb_code_get_delta(CbBits *b);
/* Bits of a fixed-width field holding 0..n: ceil(log2(n + 1)). */
int cb_code_width(uint64_t n);

/* ------------------------------------------------------------------ arithmetic coding */

/* Static-model arithmetic coder (Witten, Neal & Cleary 1987, 32-bit integer form):
 * sym (n) in [0, k), freq (k) their counts, sum(freq) <= 2^30, every coded symbol
 * with freq > 0. Writes about -sum log2(freq[s]/total) + 2 bits; n == 0 writes nothing.
 * The decoder needs n and freq (sent before, e.g. by cb_code_put_counts) and leaves
 * b->pos right after the encoder's last bit, so fields may follow. */
void cb_code_ac_encode(CbBits *b, const uint32_t *sym, size_t n, const uint64_t *freq, int k);
CbStatus cb_code_ac_decode(CbBits *b, uint32_t *sym, size_t n, const uint64_t *freq, int k);

/* k counts summing to a known n: each of the first k-1 in cb_code_width(rest) bits. */
void cb_code_put_counts(CbBits *b, const uint64_t *cnt, int k, uint64_t n);
CbStatus cb_code_get_counts(CbBits *b, uint64_t *cnt, int k, uint64_t n);

/* -sum_i log2(freq[sym_i] / n), the ideal code length of the symbols under their
 * empirical frequencies (what cb_code_ac_encode should come within a few bits of). */
double cb_code_ideal_bits(const uint64_t *freq, int k);

/* ------------------------------------------------------------------ quantization */

typedef enum { CB_QUANT_KMEANS = 0, CB_QUANT_UNIFORM } CbQuant;
CbStatus cb_code_quant_parse(const char *s, CbQuant *out);

/* Quantize x (n) to at most `levels` float32 values: codebook (levels) ascending and
 * distinct, *k_out <= levels of them used, sym (n) = index of the nearest level
 * (ties to the lower). kmeans: 1-D Lloyd from quantile starts on the sorted values
 * (exact when x has <= levels distinct values); uniform: levels evenly spaced on
 * [min x, max x]. Empty levels are dropped. */
CbStatus cb_code_quantize(const float *x, size_t n, int levels, CbQuant kind, float *codebook, int *k_out,
                          uint32_t *sym);
/* sym (n) = index of the level of codebook (k, ascending) nearest to x (n). */
void cb_code_assign(const float *x, size_t n, const float *codebook, int k, uint32_t *sym);

/* ------------------------------------------------------------------ model codes */

/* Code length of a model, by part (bits). total = the sum. */
typedef struct {
    double arch, key, hyper, codebook, counts, symbols, positions, total;
    double ideal_symbols; /* -sum log2 p of the symbols under their empirical frequencies */
} CbCodeBits;

/* The symbols sym (n) over k levels, as both model codes write them: their counts
 * (cb_code_put_counts), then the arithmetic code (none for k <= 1: the counts say it
 * all). Fills bits->counts, ->symbols and ->ideal_symbols. The reader is the inverse. */
void cb_code_put_symbols(CbBits *b, const uint32_t *sym, size_t n, int k, CbCodeBits *bits);
CbStatus cb_code_get_symbols(CbBits *b, uint32_t *sym, size_t n, int k);

/* Header shared by every model code: type (gamma), depth (gamma), widths (delta),
 * activation (2 bits), softplus beta (64 bits, softplus only), bias (1 bit). */
void cb_code_put_header(CbBits *b, int type, const CbMlp *m);
/* Reads a header; allocates *out (zero parameters) with the architecture. */
CbStatus cb_code_get_header(CbBits *b, int *type, CbMlp **out);

/* The feature-map prefix of a model code whose classifier is MLP∘φ (kind != none):
 * type 3 (gamma), kind (gamma), input channels (gamma), rows and cols (delta),
 * filters (gamma), pool (gamma), gain (16 bits: the bfloat16 = upper half of its
 * float32). Not its stream seed: the weights code writes it after its header, the
 * subspace code's own seed is φ's (include/cbound/subspace.h). Kind none writes
 * nothing, so a model without φ has exactly the code it had before φ existed. */
void cb_code_put_features(CbBits *b, const CbFeatures *phi);
/* Reads the prefix if the code starts with type 3 (else leaves b->pos and sets kind
 * none); phi->seed = 0 (the caller fills it in). */
CbStatus cb_code_get_features(CbBits *b, CbFeatures *phi);
/* The start of every model code as its decoder reads it: the feature-map prefix, then the
 * header, which must be of type `type` ("WHAT code: expected type T, found U" otherwise).
 * Allocates *out as cb_code_get_header does; on failure *out is NULL. */
CbStatus cb_code_get_start(CbBits *b, int type, const char *what, CbFeatures *phi, CbMlp **out);

/* The weights code: header, per layer the nonzero count and the arithmetic-coded
 * mask of W, then one codebook for the nonzero W entries and all biases, their
 * counts and the arithmetic-coded symbols. Quantizes to `levels` (lossless when the
 * model has at most `levels` distinct values). */
/* phi (NULL = none): the feature map in front of m; its prefix counts in bits->arch
 * and its seed (Elias delta of seed + 1, after the header) in bits->key. The decoder
 * fills *phi_out (may be NULL) with the map it read (kind none if there is none). */
CbStatus cb_code_mlp_encode(const CbMlp *m, const CbFeatures *phi, int levels, CbQuant kind, CbBits *out,
                            CbCodeBits *bits);
CbStatus cb_code_mlp_decode(CbBits *in, CbMlp **out, CbFeatures *phi_out);

/* Per-task code length and Occam bound, called by the task driver after the
 * evaluation. If the method coded the model itself (res code_bits set; `comp` is
 * then its decoded network) the bound uses it; else, when ctx->measure->code =
 * levels >= 2, `comp` is written in the weights code with that many k-means levels
 * and decoded (with the data's feature map ctx->train->phi, which the decoded map
 * must equal). The decoded network's training errors give the bound columns
 * (n_train, train_err_count, code_test_err, delta, occam_bound, occam_bound_kl,
 * vacuous). Nothing happens when neither applies. */
CbStatus cb_code_task_bound(const CbTaskCtx *ctx, const CbMlp *comp, CbResult *res);
/* Copy a CbCodeBits into the task's code_bits* columns. */
void cb_code_bits_record(const CbCodeBits *bits, CbResult *res);

#endif
