/*
 * discretize — 004 §4.2: round every nonzero weight of layer l to the nearest
 * multiple of rho_l, so the set of compressed models is finite (Lemma 4.2).
 *
 * rho_l is given, or "auto": the largest value allowed by Lemma 4.2's condition
 *     rho_l <= ((1/L) ||A^l||_2 - eps_l Gamma_l) / J_l,
 * with eps_l Gamma_l (the paper's high-probability bound on ||A^l - Â^l||_2)
 * replaced by the measured ||A^l - Â^l||_2 of this task, the quantity it bounds;
 * J_l = nonzeros of Â^l. The condition then guarantees, by the triangle
 * inequality and Lemma 4.2's ||Ã - Â||_2 <= rho J, that ||A - Ã||_2 <= ||A||_2 / L.
 * Values are stored as float: a multiple of rho is exact only to float rounding.
 */
#ifndef CBOUND_DISCRETIZE_H
#define CBOUND_DISCRETIZE_H

#include "cbound/err.h"
#include "cbound/mlp.h"
#include "cbound/ctx.h"

#include <stddef.h>

/* Round each nonzero of a (n) to rho * round(a / rho) (halves away from zero).
 * Returns how many nonzeros became zero. rho > 0. */
size_t cb_disc_round(float *a, size_t n, double rho);

/* Largest singular value of a (rows, cols) row-major float matrix (LAPACK dgesdd,
 * singular values only, in double). */
CbStatus cb_disc_spectral_norm(const float *a, size_t rows, size_t cols, double *out);

/* Lemma 4.2's rho: ((1/L) norm_a - norm_delta) / nnz; CB_ENUMERIC when the
 * pruning error alone already exceeds ||A||_2 / L (no rho > 0 satisfies it). */
CbStatus cb_disc_rho_lemma42(double norm_a, double norm_delta, int n_layers, size_t nnz, int layer,
                             double *rho);

/* Discretize every weight matrix of comp in place (biases untouched). rho > 0:
 * the same step for all layers; rho NaN: auto per layer from Lemma 4.2, using orig
 * (the uncompressed model) for A. rho_out (depth, optional) receives the steps. */
CbStatus cb_disc_apply(const CbMlp *orig, CbMlp *comp, double rho, double *rho_out);

/* The composable sweep parameter `discretize` (absent/"off", a step rho > 0, or
 * "auto") that every pruning method accepts: check validates it; after applies it
 * to the compressed model `out` (original = ctx->model->mlp) and fills the layer
 * column rho. */
CbStatus cb_disc_param_check(const CbParams *p);
CbStatus cb_disc_after(const CbTaskCtx *ctx, CbMlp *out, CbResult *res);

#endif
