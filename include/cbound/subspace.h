/*
 * subspace — training in a random subspace, quantization-aware fine-tuning and
 * the subspace code (src/compress/subspace.c; Li et al. 2018 "Measuring the
 * intrinsic dimension of objective landscapes"; Lotfi et al. 2022 Sec. 4).
 *
 * theta = theta_0 + P z with z in R^d: theta_0 is PyTorch's kaiming-uniform
 * initialization from stream (seed, tag, CB_RNG_INIT, layer) and P (D x d) a
 * sparse random projection from stream (seed, tag, CB_RNG_COMPRESS,
 * CB_SUBSPACE_STREAM): row i has `nnz` entries +-s_l / sqrt(nnz) in uniformly
 * drawn columns, s_l = 1/sqrt(fan_in) of the parameter's layer. The method's tag
 * is the low CB_SUBSPACE_TAG_BITS bits of the task key, so theta_0 and P cost
 * only Elias-delta(seed + 1) + 16 bits (about 34 for seed 2385; two tasks share a
 * draw with probability 2^-16, which is harmless), and theta = theta_0 + P z is
 * O(nnz D).
 */
#ifndef CBOUND_SUBSPACE_H
#define CBOUND_SUBSPACE_H

#include "cbound/code.h"
#include "cbound/data.h"
#include "cbound/train.h"
#include "cbound/ctx.h"
#include "cbound/mlp.h"

#define CB_SUBSPACE_STREAM 0x53554250u /* index of the projection's CB_RNG_COMPRESS stream ("SUBP") */
#define CB_SUBSPACE_TAG_BITS 16         /* bits of the task key that key theta_0 and P          */

typedef struct {
    size_t D;       /* parameters of the network                  */
    size_t d;       /* subspace dimension                         */
    int nnz;        /* entries per row of P                       */
    uint32_t *col;  /* (D, nnz) column of each entry              */
    float *val;     /* (D, nnz) its value +-s_l / sqrt(nnz)       */
    float *theta0;  /* (D) initialization, layout of CbMlp params */
} CbSubspace;

/* Build theta_0 and P for network shape m from (seed, key); the method passes key = tag. */
CbStatus cb_subspace_alloc(const CbMlp *m, size_t d, int nnz, uint64_t seed, uint64_t key, CbSubspace **out);
void cb_subspace_free(CbSubspace *s);
/* theta (D) = theta_0 + P z (float, fixed order: the decoder repeats it bit for bit). */
void cb_subspace_expand(const CbSubspace *s, const float *z, float *theta);
/* gz (d) = P^T g (g: (D) gradient in theta). */
void cb_subspace_project(const CbSubspace *s, const float *g, float *gz);

/* The subspace code: header (type CB_CODE_SUBSPACE), seed (Elias delta of seed + 1,
 * seed < 2^62), tag (CB_SUBSPACE_TAG_BITS bits), d (delta), nnz (gamma), k (gamma),
 * codebook (k bfloat16: the upper 16 bits of each float32 level), counts,
 * arithmetic-coded symbols of z. encode takes z's symbols and a codebook of bfloat16
 * values (others are refused); decode rebuilds the network with theta_0 and P of
 * (seed, tag). phi (NULL = none): the feature map in front of the network; its prefix
 * (cb_code_put_features) comes first and counts in bits->arch. Its stream seed is not
 * written: in a subspace code φ is keyed by the code's own seed (the sweep seed, which
 * is also data.seed's default), so encode refuses a φ with another seed and decode
 * sets phi_out->seed = seed (phi_out may be NULL; kind none when the code has no φ). */
CbStatus cb_subspace_encode(const CbMlp *shape, const CbFeatures *phi, uint64_t seed, uint32_t tag, size_t d,
                            int nnz, const float *codebook, int k, const uint32_t *sym, CbBits *out,
                            CbCodeBits *bits);
CbStatus cb_subspace_decode(CbBits *in, CbMlp **out, CbFeatures *phi_out);
/* refine: a local search over the symbols sym (d) of z^ = book[sym] after quantization.
 * Each round takes the gradient g = P^T grad L(theta_0 + P z^) of the training loss (full
 * batch) and, per coordinate, the neighbouring level with the most negative first-order
 * change g_j (c' - c_j); it applies the m best such moves together and keeps them if the
 * training loss (cb_train_eval) drops (m grows by half), else undoes them (m halves; an
 * undone single move is skipped until the next kept one). `rounds` rounds at most; the
 * loss never rises; book stays. net holds theta_0 + P z^ at the final symbols. The
 * search needs no bits: it only chooses which point of the lattice the code writes. */
CbStatus cb_subspace_refine(CbMlp *net, const CbSubspace *s, const CbData *tr, CbLoss loss, const float *book, int k,
                            uint32_t *sym, int rounds, double *loss_before, double *loss_after);
/* x rounded to the nearest bfloat16 (ties to even), as a float; inf and nan unchanged. */
float cb_subspace_level_round(float x);

#endif
