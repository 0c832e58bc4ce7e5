/*
 * task — the contract between the runner and the science.
 *
 * A task = (training stage, method, method parameters). The runner expands the
 * sweep into tasks, makes sure the stage's model file exists, and calls
 * cb_task_run() on a worker, which reads top to bottom:
 *     data (cached per worker) -> model (load) -> compress (method) ->
 *     measure (src/measure.c) -> bounds (src/bounds.c) -> CbResult
 * Methods come in two kinds:
 *   compress    gets the original model and a clone to modify in place
 *               (pruning, quantization, low rank, ...)
 *   standalone  needs no trained model (two-layer 002 experiments, `noop`)
 * Every method draws randomness only from streams keyed by (ctx->seed,
 * ctx->key, purpose, index). A method's `version` is hashed into the task key:
 * bump it whenever the method's semantics (scoring, RNG use) change.
 */
#ifndef CBOUND_TASK_H
#define CBOUND_TASK_H

#include "cbound/data.h"
#include "cbound/model.h"
#include "cbound/result.h"

#include <stdint.h>

/* Method parameters: name -> value, as written in the sweep (values are kept as
 * text; numbers are also parsed). Sorted by name (canonical). */
typedef struct {
    int n;
    struct {
        char name[32];
        char text[64];
        double num;   /* NaN if the text is not a number */
    } item[16];
} CbParams;

double cb_params_num(const CbParams *p, const char *name, double dflt);
const char *cb_params_text(const CbParams *p, const char *name, const char *dflt);
int cb_params_has(const CbParams *p, const char *name);
/* Set (insert or replace, keeps sorted order); returns CB_EINVAL when full. */
CbStatus cb_params_set(CbParams *p, const char *name, const char *text);

/* Which measurements/bounds the sweep asked for (all on by default). */
typedef struct {
    int norms;        /* spectral norms of W and Δ per layer                  */
    int latala;       /* Latala-norm bracket variants (a) (b) (c)             */
    int mc_masks;     /* Monte Carlo replicates for Latala (c); 0 = off       */
    int sparsity;     /* j_r / j_c vs Lemma 5.1                                */
    int margins;      /* margins and generalization bounds                     */
    int sketch;       /* sparse-matrix sketch recovery (issue 6)               */
    double norm_rtol; /* relative accuracy of spectral norms (1e-9)           */
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

const CbMethod *cb_method_find(const char *name);
const CbMethod *cb_method_at(int i);   /* iterate: NULL past the end */

/* Run one task (the driver). On failure returns the status with the error message set;
 * the runner records it as a failed row. */
CbStatus cb_task_run(const CbTaskCtx *ctx, CbResult *res);

#endif
