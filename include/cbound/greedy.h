/*
 * greedy — the randomized greedy OBD-like compression of 000 (pruning and
 * quantization with zero-mean perturbations), post-training.
 *
 * Weights are replaced by random variables t with E[t] = w:
 *   prune     t = w / p with probability p, else 0        Var t = w^2 (1 - p) / p
 *   quantize  t = alpha floor(w/alpha) + alpha B, B ~ Bernoulli(frac(w/alpha))
 *             (unbiased stochastic rounding to the grid alpha Z)   Var t = alpha^2 f (1 - f)
 * The importance of weight i is the second-order expected loss increase
 *   score_i = 1/2 H_ii Var(t_i)      (the first-order term vanishes since E[t] = w),
 * H_ii from the Hessian diagonal (finite differences of gradients, exact per
 * coordinate or Hutchinson probes) or the empirical Fisher diagonal. Weights are
 * replaced in increasing score order until `fraction` of all weights is replaced
 * (in `rounds` rounds, rescoring the partly compressed network between rounds).
 * The uniform deciding weight (i, j) of layer l is
 *   cb_rng_uniform_at(seed, key, CB_RNG_COMPRESS, l, i * d_in + j).
 * The loss must be the data's own: cross-entropy for labels, MSE for targets.
 * Optional projection (000's theory; off by default as in its simulations): after
 * replacement each layer is scaled so that ||Ŵ||_2 <= proj_c ||W||_2, bounding the
 * layer's output norm ||Ŵ x|| <= proj_c ||W||_2 ||x||.
 */
#ifndef CBOUND_GREEDY_H
#define CBOUND_GREEDY_H

#include "cbound/data.h"
#include "cbound/mlp.h"
#include "cbound/train.h"

typedef enum { CB_GREEDY_PRUNE = 0, CB_GREEDY_QUANTIZE } CbGreedyMode;
typedef enum { CB_GREEDY_HESSIAN = 0, CB_GREEDY_FISHER, CB_GREEDY_EXACT } CbGreedyScore;

/* The zero-mean replacement of w given its uniform u in (0, 1); q = p (prune) or
 * alpha (quantize). */
double cb_greedy_draw(CbGreedyMode mode, double w, double q, double u);
/* Var(t) of that replacement. */
double cb_greedy_var(CbGreedyMode mode, double w, double q);

typedef struct {
    CbGreedyMode mode;
    double p;            /* prune: keep probability (0, 1]        (0.5)            */
    double alpha;        /* quantize: grid step > 0                                 */
    CbGreedyScore score; /* hessian (default), fisher, exact (small nets only)      */
    double fraction;     /* fraction of all weights replaced, [0, 1]   (0.5)       */
    int rounds;          /* scoring rounds (1)                                      */
    size_t samples;      /* training samples used for the scores (512)              */
    int probes;          /* Hessian: Hutchinson probes; 0 = exact per coordinate (16) */
    double fd_step;      /* finite-difference step for the Hessian (1e-3)           */
    int projection;      /* 0 off (default), 1 on                                    */
    double proj_c;       /* projection radius as a multiple of ||W_l||_2 (1)         */
} CbGreedyOptions;

void cb_greedy_options_default(CbGreedyOptions *o);

/* Diagonal of the Hessian of the mean loss over the first n samples of d, for
 * every parameter (n_params), by central differences of gradients: probes = 0
 * perturbs one coordinate at a time (2 n_params gradients; small nets only),
 * probes > 0 uses Hutchinson's estimator E[z ⊙ H z] with Rademacher z drawn from
 * stream (seed, key, CB_RNG_COMPRESS, 0xffff). */
CbStatus cb_greedy_hessian_diag(const CbMlp *m, CbLoss loss, const CbData *d, size_t n, int probes,
                                double step, uint64_t seed, uint64_t key, double *out);
/* Empirical Fisher diagonal: mean over the first n samples of (per-sample grad)^2. */
CbStatus cb_greedy_fisher_diag(const CbMlp *m, CbLoss loss, const CbData *d, size_t n, double *out);
/* Exact expected loss change of replacing weight k alone (brute force: the two
 * outcomes of t, weighted): E[L(w with w_k <- t)] - L(w), on the first n samples. */
double cb_greedy_exact_change(const CbMlp *m, CbLoss loss, const CbData *d, size_t n, CbGreedyMode mode,
                              double q, size_t k);

/* Compress m in place. *replaced receives the number of weights replaced. */
CbStatus cb_greedy_compress(CbMlp *m, const CbGreedyOptions *o, CbLoss loss, const CbData *train,
                            uint64_t seed, uint64_t key, size_t *replaced);

#endif
