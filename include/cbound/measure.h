/*
 * measure — what every compression task records, into CbResult.
 *
 * Per layer l (original W = A^l, compressed Ŵ = Â^l, Δ = W - Ŵ):
 *   nnz            nonzeros of Ŵ
 *   kept_fraction  nnz(Ŵ) / nnz(W)
 *   max_nnz_row    max over rows of nonzeros (j_r of 004 Def. 5.1), max_nnz_col (j_c)
 *   fro_W, fro_delta   ||W||_F, ||Δ||_F
 * Per task (all in double, on every sample of the given splits):
 *   orig_/  train_loss, train_acc, test_loss, test_acc of the original / compressed model
 *           (cross-entropy nats and accuracy for labelled data; MSE, accuracy NaN, for
 *           regression — the loss conventions of include/cbound/train.h)
 *   gen_error      compressed model's test error - train error (error = 1 - accuracy;
 *                  regression: test MSE - train MSE)
 *   out_err_max, out_err_mean   max and mean over training inputs x of ||f(x) - f̂(x)||_2
 *                  (f = logits / outputs, no softmax)
 *   out_err_norm   sum_x ||f(x) - f̂(x)||_2^2 / sum_x ||f(x)||_2^2 over training inputs:
 *                  the relative squared output error, our precise reading of the
 *                  normalized error Δ(Φ, Φ̂) that 000 plots against width
 *   nnz, kept_fraction, sparsity   over all weight matrices (biases excluded)
 */
#ifndef CBOUND_MEASURE_H
#define CBOUND_MEASURE_H

#include "cbound/data.h"
#include "cbound/mlp.h"
#include "cbound/result.h"
#include "cbound/ctx.h"

/* Per-layer columns and the task's nnz / kept_fraction / sparsity. res must have
 * been initialized with orig->depth layers. */
void cb_measure_layers(const CbMlp *orig, const CbMlp *comp, CbResult *res);

/* Losses, accuracies, generalization error and output errors. test may be NULL. */
CbStatus cb_measure_task(const CbMlp *orig, const CbMlp *comp, const CbData *train, const CbData *test,
                         CbResult *res);

/* Only the output errors out_err_max, out_err_mean, out_err_norm (two double forward
 * passes over the training inputs) — what the driver (src/run/task.c) adds to its own
 * float evaluation and counts. */
CbStatus cb_measure_output_error(const CbMlp *orig, const CbMlp *comp, const CbData *train, CbResult *res);

/* The same from logits zo, zc (n, k) of the original and compressed model on the
 * training inputs (the driver computes them once per task and shares them). */
void cb_measure_output_error_logits(const double *zo, const double *zc, size_t n, size_t k, CbResult *res);

/* Mean loss and accuracy of logits z (n, k) against data rows [i0, i0+n): the
 * same conventions as cb_train_eval (exposed for the tests). */
void cb_measure_loss_acc(const double *z, size_t n, size_t k, const CbData *d, size_t i0, double *loss_sum,
                         double *correct);

/* How Gaussian the entries of a weight matrix are (004 Assumption 3.1: A_ij ~ N(0, Ψ)
 * i.i.d.): the excess kurtosis m4/m2² − 3 of the n values (population moments; 0 for a
 * normal law, −1.2 uniform, 3 Laplace) and the Kolmogorov–Smirnov distance
 * sup_x |F_n(x) − Φ((x − mean)/sd)| to the normal law with the sample's mean and
 * population variance. NaN for n < 2 or constant values. */
void cb_measure_gaussianity(const double *a, size_t n, double *excess_kurtosis, double *ks);

#endif
