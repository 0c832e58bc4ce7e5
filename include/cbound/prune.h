/*
 * prune — deterministic magnitude pruning (layerwise or global threshold) and
 * random pruning, the baselines next to 004's randomized MBP.
 *
 * Masks are (n_params) bytes in the CbMlp parameter layout, 1 = keep; bias
 * entries are always 1 (biases are never pruned). "Eligible" weights are those of
 * every layer, or of every layer but the last when dense_last (OpenLTH's option).
 * Magnitude pruning removes the round(fraction * n_alive) alive eligible weights
 * of smallest |w| (per layer, or pooled over layers for the global scope); ties
 * at the threshold go in index order (lower parameter index pruned first), so the
 * count is exact and the result deterministic.
 */
#ifndef CBOUND_PRUNE_H
#define CBOUND_PRUNE_H

#include "cbound/err.h"
#include "cbound/mlp.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { CB_PRUNE_LAYER = 0, CB_PRUNE_GLOBAL } CbPruneScope;

CbStatus cb_prune_scope_parse(const char *s, CbPruneScope *out);

/* Mask of m's weights after pruning `fraction` of the currently alive eligible
 * weights by magnitude. alive: (n_params) current mask or NULL (all alive).
 * mask: (n_params) output (may equal alive). fraction in [0, 1]. */
CbStatus cb_prune_magnitude_mask(const CbMlp *m, const unsigned char *alive, double fraction,
                                 CbPruneScope scope, int dense_last, unsigned char *mask);

/* Random mask: in each eligible layer, round(fraction * n_alive) alive weights
 * chosen uniformly without replacement (partial Fisher–Yates on stream (seed,
 * key, CB_RNG_COMPRESS, layer)). */
CbStatus cb_prune_random_mask(const CbMlp *m, const unsigned char *alive, double fraction,
                              int dense_last, uint64_t seed, uint64_t key, unsigned char *mask);

/* Zero every parameter whose mask byte is 0. */
void cb_prune_apply_mask(CbMlp *m, const unsigned char *mask);

/* One-shot conveniences on a dense model: prune to the target sparsity (of the
 * eligible weights) in place. */
CbStatus cb_prune_magnitude(CbMlp *m, double sparsity, CbPruneScope scope, int dense_last);
CbStatus cb_prune_random(CbMlp *m, double sparsity, int dense_last, uint64_t seed, uint64_t key);

/* k-th smallest (0-based) of v (n), reordering v (quickselect, expected O(n)). */
float cb_prune_select(float *v, size_t n, size_t k);

#endif
