/*
 * mbp — randomized magnitude-based pruning, Algorithm 1 of 004.
 *
 * Each weight A_ij of layer l is pruned (set to 0) with probability
 *     P(prune | A_ij) = exp(-A_ij^2 / (d Psi_l))
 * and kept unchanged otherwise (the mask is NOT rescaled, as in the authors' code).
 * Psi_l = variance of layer l's weights (or pooled over all layers).
 * Variants: CB_MBP_PAPER never prunes diagonal entries i = j (Remark 4.1);
 * CB_MBP_CODE prunes them too (the authors' released code).
 * The uniform deciding entry (i, j) of layer l is
 *     cb_rng_uniform_at(seed, key, CB_RNG_COMPRESS, l, i * d_in + j),
 * pruned iff u < P(prune | A_ij): the mask does not depend on threads or ranks.
 *
 * Expected kept fraction when A_ij ~ N(0, Psi) (derived in src/compress/mbp.c, checked by
 * quadrature in tests/test_mbp.c):
 *     chi(d) = 1 - sqrt(d / (d + 2)) = (sqrt(d+2) - sqrt(d)) / sqrt(d+2),
 * and its inverse for a target sparsity s: d = 2 s^2 / (1 - s^2).
 */
#ifndef CBOUND_MBP_H
#define CBOUND_MBP_H

#include "cbound/err.h"
#include "cbound/mlp.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { CB_MBP_PAPER = 0, CB_MBP_CODE } CbMbpVariant;
typedef enum { CB_MBP_PSI_LAYER = 0, CB_MBP_PSI_POOLED } CbMbpPsi;
/* How a target sparsity becomes d: through the Gaussian closed form chi(d), or by
 * solving mean(1 - exp(-A^2/(d Psi))) = 1 - s on the actual weights (default). */
typedef enum { CB_MBP_TARGET_EMPIRICAL = 0, CB_MBP_TARGET_GAUSSIAN } CbMbpTarget;

/* chi(d): expected kept fraction under A ~ N(0, Psi), d > 0. */
double cb_mbp_chi(double d);
/* Inverse of chi: the d with chi(d) = 1 - sparsity, sparsity in [0, 1). */
double cb_mbp_d_for_sparsity(double sparsity);

/* Variance of n floats (mean subtracted, divisor n - 1 like torch.var). */
double cb_mbp_variance(const float *a, size_t n);

/* Expected number of kept entries of a (rows, cols) matrix given its values:
 * sum_ij (1 - exp(-A_ij^2/(d Psi))), with the diagonal counted as kept when
 * keep_diagonal. */
double cb_mbp_expected_kept(const float *A, size_t rows, size_t cols, double d, double psi,
                            int keep_diagonal);

/* Prune one (rows, cols) row-major matrix in place with stream (seed, key,
 * CB_RNG_COMPRESS, layer). Returns the number of entries kept (nonzero or not). */
size_t cb_mbp_prune_matrix(float *A, size_t rows, size_t cols, double d, double psi,
                           int keep_diagonal, uint64_t seed, uint64_t key, uint32_t layer);
/* Reference kernel (one cb_rng_uniform_at per entry): the same mask, ~5x slower. */
size_t cb_mbp_prune_matrix_ref(float *A, size_t rows, size_t cols, double d, double psi,
                               int keep_diagonal, uint64_t seed, uint64_t key, uint32_t layer);

typedef struct {
    double d;              /* native parameter (> 0); ignored when sparsity >= 0   */
    double sparsity;       /* target sparsity in [0, 1), or < 0 to use d            */
    CbMbpVariant variant;  /* paper (keep diagonal) or code                          */
    CbMbpPsi psi;          /* layer or pooled variance                               */
    CbMbpTarget target;    /* how sparsity -> d                                      */
} CbMbpOptions;

void cb_mbp_options_default(CbMbpOptions *o); /* d = 1, no target, paper, layer, empirical */

/* Solve sum_l expected_kept_l(d) = (1 - sparsity) * n_weights for d by bisection
 * on log d (the one d shared by all layers, as in 004). psi (depth) per layer. */
CbStatus cb_mbp_solve_d(const CbMlp *m, const double *psi, int keep_diagonal, double sparsity,
                        double *d_out);

/* Prune every weight matrix of m in place (biases untouched). psi_out (depth,
 * optional) receives the Psi used per layer; *d_out the d used. */
CbStatus cb_mbp_prune(CbMlp *m, const CbMbpOptions *o, uint64_t seed, uint64_t key,
                      double *psi_out, double *d_out);

#endif
