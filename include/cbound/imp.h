/*
 * imp — iterative magnitude pruning with rewinding (lottery tickets; Frankle &
 * Carbin 2018, Frankle et al. 2020; the pruning 004 §6 / Theorem 6.1 bounds).
 *
 * Level 0 is the trained model. At each level 1 .. levels:
 *   1. prune `fraction` of the remaining eligible weights by |w| of the current
 *      trained weights (global or layerwise; optionally keeping the last layer dense)
 *   2. rewind every parameter to θ_r (θ_0 = the initial weights, or θ_k = the
 *      weights after k optimizer steps of the original training run, rebuilt by
 *      retraining from θ_0 with the same streams) and apply the mask
 *   3. retrain with the mask re-applied after every optimizer step (cb_train), so
 *      pruned weights never regrow; checked after every level.
 * After level l the eligible sparsity is 1 - prod (1 - round-off of fraction) ≈
 * 1 - (1 - fraction)^l. Every level's sparsity and accuracy is recorded.
 */
#ifndef CBOUND_IMP_H
#define CBOUND_IMP_H

#include "cbound/data.h"
#include "cbound/mlp.h"
#include "cbound/prune.h"
#include "cbound/train.h"

typedef enum { CB_IMP_REWIND_INIT = 0, CB_IMP_REWIND_STEP } CbImpRewind;

typedef struct {
    int levels;          /* pruning levels (3)                                       */
    double fraction;     /* fraction of the remaining weights pruned per level (0.2) */
    CbImpRewind rewind;  /* init (default) or step                                   */
    long rewind_step;    /* k for rewind = step (0)                                  */
    int epochs;          /* retraining epochs per level; 0 = the training config's   */
    CbPruneScope scope;  /* global (default, as OpenLTH) or layer                    */
    int dense_last;      /* 1 = never prune the last layer (0)                      */
} CbImpOptions;

enum { CB_IMP_MAX_LAYERS = 32 };

typedef struct {
    double sparsity;    /* pruned fraction of all weight-matrix entries              */
    double train_loss, train_acc, test_loss, test_acc;
    double layer_kept[CB_IMP_MAX_LAYERS]; /* kept fraction of each layer's weights (first 32 layers) */
} CbImpLevel;

void cb_imp_options_default(CbImpOptions *o);

/* m: in, the trained model (level 0); out, the last level's ticket. init: θ_0 (same
 * shape). cfg: the training configuration of the original run (its seed/key give
 * the data order). mask (optional, n_params): the final mask. levels_out
 * (optional, levels + 1 entries): level 0 .. levels. */
CbStatus cb_imp_run(CbMlp *m, const CbMlp *init, const CbImpOptions *o, const CbTrainConfig *cfg,
                    const CbData *train, const CbData *test, unsigned char *mask, CbImpLevel *levels_out);

#endif
