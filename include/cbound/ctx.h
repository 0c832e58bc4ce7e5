/*
 * ctx — the contract between the runner and the science (header only; layer: model).
 *
 * A task = (training stage, method, method parameters). The runner expands the
 * sweep into tasks, makes sure the stage's model file exists, and a worker calls
 * the task driver (cb_task_run, src/run/task.c), which reads top to bottom:
 *     data (cached per worker) -> model (load) -> compress (method) ->
 *     measure -> bounds -> CbResult
 * This header holds what every method and measurement consumes — the task
 * context CbTaskCtx, the measurement switches CbMeasureOpts — and the method
 * interface CbMethod. It sits below both the compression methods and the
 * measurements, so the driver sits on top of what it orchestrates.
 * Methods come in two kinds:
 *   compress    gets the original model and a clone to modify in place
 *               (pruning, quantization, low rank, ...)
 *   standalone  needs no trained model (two-layer 002 experiments, `noop`)
 * Every method draws randomness only from streams keyed by (ctx->seed,
 * ctx->key, purpose, index). A method's `version` is hashed into the task key:
 * bump it whenever the method's semantics (scoring, RNG use) change.
 */
#ifndef CBOUND_CTX_H
#define CBOUND_CTX_H

#include "cbound/data.h"
#include "cbound/model.h"
#include "cbound/params.h"
#include "cbound/result.h"

#include <stdint.h>

/* Which measurements/bounds the sweep asked for (all on by default). */
typedef struct {
    int norms;        /* spectral norms of W and Δ per layer                  */
    int latala;       /* Latala-norm bracket variants (a) (b) (c)             */
    int mc_masks;     /* Monte Carlo replicates for Latala (c); 0 = off       */
    int sparsity;     /* j_r / j_c vs Lemma 5.1                                */
    int margins;      /* margins and generalization bounds                     */
    int sketch;       /* sparse-matrix sketch recovery (004 Thm 5.1)           */
    double norm_rtol; /* relative accuracy of spectral norms (1e-9)           */
    int code;         /* >= 2: write every compressed model in the weights code
                       * with this many k-means levels and bound it (code.c); 0 = off */
} CbMeasureOpts;

typedef struct {
    uint64_t seed;              /* sweep seed                                  */
    uint64_t key;               /* task key                                    */
    char key_hex[17];
    const char *method;
    const CbParams *params;
    const CbData *train;        /* NULL for standalone methods                 */
    const CbData *test;
    const CbModel *model;       /* trained model; NULL for standalone methods  */
    const CbTrainConfig *train_config; /* for methods that retrain (IMP)       */
    /* Logits (train->n, outputs) in double of the original model on the training
     * inputs: identical for every task of a stage, so a worker may compute them once
     * per stage and pass them here; NULL = the driver computes them. The driver also
     * sets logits_comp (the compressed model's) for the measurement modules. */
    const double *logits_orig;
    const double *logits_comp;
    const CbMeasureOpts *measure;
    int quiet;
    /* Non-NULL: on success the driver hands the compressed model over here instead of
     * freeing it (the caller frees it with cb_mlp_free), e.g. to save it. */
    CbMlp **comp_out;
} CbTaskCtx;

typedef struct {
    const char *name;
    int version;                      /* semantics version, part of the task key       */
    const char *summary;              /* one line for `cbound run --list-methods`     */
    const char *const *param_names;   /* accepted parameters, NULL-terminated         */
    /* Optional, parallel to param_names: each parameter's default as the sweep would
     * write it (NULL entry = no default). A value equal to its default is left out of
     * the task key, so writing a default explicitly does not change the key. */
    const char *const *param_defaults;
    /* Optional: validate parameter values before any work starts (called by the sweep
     * loader with one parameter at a time, then with each full grid point; missing
     * parameters mean their defaults). Return CB_EINVAL with a message naming the
     * parameter, what was expected and what was found. NULL = accept anything. */
    CbStatus (*check)(const CbParams *p);
    /* compress: `out` is a clone of ctx->model->mlp; modify it in place. May fill
     * per-layer `param` and add series rows. NULL for standalone methods. */
    CbStatus (*compress)(const CbTaskCtx *ctx, CbMlp *out, CbResult *res);
    /* standalone: fill res directly. NULL for compress methods. */
    CbStatus (*standalone)(const CbTaskCtx *ctx, CbResult *res);
} CbMethod;

#endif
