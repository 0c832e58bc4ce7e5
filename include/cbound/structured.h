/*
 * structured — neuron pruning of MLPs (000's structured extension), with the
 * zero-mean principle of its randomized greedy compression.
 *
 * Hidden neuron k of hidden layer l (output k of W[l], l = 0 .. depth-2) is a row
 * W[l][k, :], a bias b[l][k] and a column W[l+1][:, k]. In every hidden layer the
 * round(fraction * width) neurons of smallest score are candidates; each is kept
 * with probability p, its outgoing column scaled by 1/p (so the next layer's
 * pre-activation is unchanged in expectation), and otherwise removed: row, bias
 * and column zeroed. Uniforms for neuron k of hidden layer l (width w):
 *   cb_rng_uniform_at(seed, key, CB_RNG_COMPRESS, 0x10000 + l, w + k)  keep or remove
 *   cb_rng_uniform_at(seed, key, CB_RNG_COMPRESS, 0x10000 + l, k)      random score
 * Scores (smaller = removed first):
 *   activation  E_x[a_k(x)^2] ||W[l+1][:, k]||^2 (1-p)/p on training inputs: the
 *               expected squared change of the next pre-activation (default)
 *   norm        ||W[l][k, :]||_2 ||W[l+1][:, k]||_2 (data-free)
 *   random      uniform (ties broken by the neuron's own uniform)
 */
#ifndef CBOUND_STRUCTURED_H
#define CBOUND_STRUCTURED_H

#include "cbound/data.h"
#include "cbound/mlp.h"

typedef enum { CB_STRUCT_ACTIVATION = 0, CB_STRUCT_NORM, CB_STRUCT_RANDOM } CbStructScore;

typedef struct {
    double fraction;     /* fraction of each hidden layer's neurons made candidates (0.5) */
    double p;            /* keep probability of a candidate, (0, 1] (0.5)                 */
    CbStructScore score; /* activation (default), norm, random                            */
    size_t samples;      /* training inputs for the activation score (512)                */
} CbStructOptions;

void cb_structured_options_default(CbStructOptions *o);

/* Neuron scores of hidden layer l (widths[l+1] values). */
CbStatus cb_structured_scores(const CbMlp *m, int l, const CbStructOptions *o, const CbData *train,
                              uint64_t seed, uint64_t key, double *score);

/* Prune m in place. alive (optional): (sum of hidden widths) bytes, 1 = neuron kept,
 * hidden layer after hidden layer. *removed = neurons removed. */
CbStatus cb_structured_prune(CbMlp *m, const CbStructOptions *o, const CbData *train, uint64_t seed,
                             uint64_t key, unsigned char *alive, size_t *removed);

/* The smaller network without the dead neurons (alive as above). */
CbStatus cb_structured_shrink(const CbMlp *m, const unsigned char *alive, CbMlp **out);

#endif
