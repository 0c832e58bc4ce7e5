/*
 * sweep — a YAML sweep file, validated and expanded into training stages and tasks.
 *
 * Loading reads the file with libyaml into its node tree (which keeps line
 * numbers), checks every key, type and range against one table of settings
 * (`cbound run --schema` prints it), and expands:
 *   stages  one per (width, training seed): a CbTrainSpec; trained once, saved as
 *           DIR/models/<stage key>.h5 (DIR = output path without ".h5")
 *   tasks   one per (stage, method, grid point) — or (training seed, method, grid
 *           point) for standalone methods, which need no trained model
 * in a fixed order (width, seed, method, grid point in the file's order); that
 * order is the row order of the results tables.
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
    char model_path[1100];/* DIR/models/<key_hex>.h5                                */
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
} CbTask;

typedef struct {
    char file[1024];      /* path of the sweep file                                 */
    char *text;           /* its full text (provenance)                             */
    uint64_t text_hash;
    char name[64];
    uint64_t seed;        /* sweep seed                                             */
    char output[1024];    /* results file                                           */
    char dir[1024];       /* output without .h5: models/ and logs live here         */
    CbTrainSpec base;     /* data, model shape (hidden width unset), training       */
    CbMeasureOpts measure;
    char measure_text[256]; /* canonical measure settings (defaults left out)       */
    int n_widths;
    size_t *widths;
    int n_seeds;
    uint64_t *seeds;
    int n_stages;
    CbStage *stages;
    int n_tasks;
    CbTask *tasks;
} CbSweep;

/* Read, validate and expand a sweep file. Errors read
 * "FILE:LINE: key 'a.b': expected ..., found ..." (+ hint). Does not touch any
 * output and does not check data files (cb_sweep_check_data). */
CbStatus cb_sweep_load(const char *path, CbSweep *s);
/* Same from text in memory; `file` names it in messages. */
CbStatus cb_sweep_parse(const char *file, const char *text, CbSweep *s);
/* Data files exist and have the right headers (cb_data_check), error at the
 * line of the data section. */
CbStatus cb_sweep_check_data(const CbSweep *s);
void cb_sweep_free(CbSweep *s);

/* Index of the task with this 16-hex key, or -1. */
int cb_sweep_find_task(const CbSweep *s, const char *key_hex);

/* The settings table as markdown (key, type, default, range, meaning). */
void cb_sweep_print_schema(FILE *f);

#endif
