/*
 * sweep — a YAML sweep file, validated and expanded into training stages and tasks.
 *
 * Loading reads the file with libyaml into its node tree (which keeps line
 * numbers), checks every key, type and range against one table of settings
 * (`cbound run --schema` prints it), and expands:
 *   stages  one per (width, training seed): a CbTrainSpec; trained once, saved as
 *           DIR/models/<stage key>.h5 (DIR = output path without ".h5"); or, with
 *           model.file, one per model file (sorted paths): never trained, the file is
 *           the stage's model, its key "<spec text>model.file: <content hash>\n"
 *   tasks   one per (stage, method, grid point, measure combination) — or (training
 *           seed, method, grid point, measure combination) for standalone methods,
 *           which need no trained model
 * in a fixed order (width, seed, method, grid point in the file's order, measure
 * combination); that order is the row order of the results tables.
 *
 * Keys (16 hex digits = cb_rng_hash64 of a canonical text; values at their
 * defaults are left out of every canonical text, so adding an option later
 * keeps old keys):
 *   stage key  "<cb_model_spec_text(spec, 0)>seed: N\n"
 *   task key   "method=NAME;v=VERSION;stage=STAGEKEY;sweep_seed=S;p1=v1;p2=v2;measure.x=y"
 *              (params sorted by name; standalone methods: "stage=-;sweep_seed=S;seed=N;...")
 *              The sweep seed is in every task key: results depend on it, so a
 *              journal from another seed is never mistaken for this run's.
 * Streams: training draws from (training seed, cb_model_spec_key(spec)) — the
 * same model `cbound train --seed N` would make; tasks draw from (sweep seed,
 * task key); synthetic data and random subsets from data.seed (default: the
 * sweep seed).
 */
#ifndef CBOUND_SWEEP_H
#define CBOUND_SWEEP_H

#include "cbound/model.h"
#include "cbound/task.h"

#include <stdint.h>
#include <stdio.h>

typedef struct {
    uint64_t key;
    char key_hex[17];
    CbTrainSpec spec;     /* widths[0], widths[depth] = 0: resolved from the data  */
    size_t width;         /* hidden width                                           */
    uint64_t seed;        /* training seed                                          */
    char model_path[1100];/* DIR/models/<key_hex>.h5, or the model file of a file stage  */
    char file[1024];      /* file stage (model.file): the user's model file; "" = trained */
    char file_hash[17];   /* its content hash when the sweep was loaded                 */
    double cost;          /* estimated training cost (GFLOP)                        */
} CbStage;

typedef struct {
    int index;            /* position in expansion order (= row order)              */
    uint64_t key;
    char key_hex[17];
    int stage;            /* index into stages, -1 for standalone methods           */
    const CbMethod *method;
    CbParams params;      /* as written (defaults included when written)            */
    char params_text[256];/* canonical "a=1;b=x": sorted, defaults left out         */
    size_t width;         /* 0 for standalone methods                               */
    uint64_t seed;        /* training seed                                          */
    double cost;          /* estimated cost (GFLOP), for dispatch order              */
    int save;             /* CB_SAVE_*: keep the compressed model (DIR/compressed/KEY.h5)  */
    int measure;          /* index into the sweep's measures: what this task measures */
} CbTask;

/* A method entry's `save`: the compressed model of each task as a model file
 * DIR/compressed/<task key>.h5 (weights), or its 0/1 sparsity pattern (masks: W = 1
 * where the weight is kept, biases 1). Not part of the task key. */
enum { CB_SAVE_NONE = 0, CB_SAVE_WEIGHTS = 1, CB_SAVE_MASKS = 2 };

/* One combination of the measure settings. Settings under `measure` that are lists
 * or generators make axes of these (first axis slowest); every task of the sweep is
 * run once per combination, and the combination's canonical text is in its key. */
typedef struct {
    CbMeasureOpts opts;
    char text[256];       /* canonical "measure.a=v;measure.b=w", defaults left out: in the task key */
    char full[512];       /* every setting, "measure.norms=1;...": for the results columns            */
} CbMeasureSet;

typedef struct {
    char file[1024];      /* path of the sweep file                                 */
    char *text;           /* its full text (provenance)                             */
    uint64_t text_hash;
    char name[64];
    uint64_t seed;        /* sweep seed                                             */
    char output[1024];    /* results file                                           */
    char dir[1024];       /* output without .h5: models/ and logs live here         */
    CbTrainSpec base;     /* data, model shape (hidden width unset), training       */
    CbMeasureOpts measure;  /* the measure settings as written (axes: their first values) */
    int n_measures;         /* combinations of the measure settings (1 without axes)        */
    CbMeasureSet *measures;
    int n_measure_vary;     /* the measure settings that differ between the combinations,  */
    char measure_vary[16][32]; /* "measure.code", ... in the order of CbMeasureSet.full  */
    int n_widths;
    size_t *widths;
    int n_seeds;
    uint64_t *seeds;
    int n_stages;
    CbStage *stages;
    int n_tasks;
    CbTask *tasks;
    int shard_i, shard_n; /* cb_sweep_shard: this is slice i of n (n = 0: the whole sweep) */
} CbSweep;

/* Read, validate and expand a sweep file. Errors read
 * "FILE:LINE: key 'a.b': expected ..., found ..." (+ hint). Does not touch any
 * output and does not check data files (cb_sweep_check_data). */
CbStatus cb_sweep_load(const char *path, CbSweep *s);
/* Same from text in memory; `file` names it in messages. */
CbStatus cb_sweep_parse(const char *file, const char *text, CbSweep *s);
/* The same with command-line overrides "KEY=VALUE" (VALUE in YAML: a scalar, a list or a
 * generator), applied after the file with the file's validation; they are appended to the
 * sweep's text as comments, so they are recorded in the results file and key the journal. */
CbStatus cb_sweep_parse_with(const char *file, const char *text, char *const *overrides, int n_overrides, CbSweep *s);
CbStatus cb_sweep_load_with(const char *path, char *const *overrides, int n_overrides, CbSweep *s);
/* Data files exist and have the right headers (cb_data_check), error at the
 * line of the data section. */
CbStatus cb_sweep_check_data(const CbSweep *s);
void cb_sweep_free(CbSweep *s);

/* Keep only shard i of n (0 <= i < n): the tasks whose key — the stage key for tasks
 * of a trained model, so each model is trained by one shard only, else the task
 * key — is i mod n, in expansion order (CbTask.index keeps the full sweep's
 * position). The output becomes OUTPUT-without-.h5 + ".shard-I-of-N.h5"; the
 * models directory stays the sweep's. */
CbStatus cb_sweep_shard(CbSweep *s, int i, int n);

/* A task's grid point as people read it: its params text ("(defaults)" when empty),
 * then, when the sweep has several measure combinations, the measure settings that
 * differ between them ("sparsity=0.5 measure.code=4"). */
void cb_sweep_task_label(const CbSweep *s, const CbTask *t, char *buf, size_t len);

/* Index of the task with this 16-hex key, or -1. */
int cb_sweep_find_task(const CbSweep *s, const char *key_hex);

/* The settings table as markdown (key, type, default, range, meaning). */
void cb_sweep_print_schema(FILE *f);

#endif
