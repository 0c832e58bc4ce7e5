/*
 * data — real data sets, validated on load.
 *
 *   kind            source                                        task
 *   fashion-mnist   IDX (.gz or plain), default /usr/share/datasets/fashion-mnist   10 classes
 *   mnist           IDX from a user-given directory               10 classes
 *   cifar10         CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin)
 *   csv             CSV (.gz or plain) with a target column (digits.csv.gz from
 *                   python3-sklearn = classification, diabetes = regression)
 *   gaussian        x ~ N(0, I_d), targets from a random teacher MLP drawn from the
 *                   streams (regression or argmax classification)
 *
 * Errors name the file, what was expected and what was found (missing file,
 * wrong magic, truncation, inconsistent counts, labels out of range).
 * Features are float32, row-major (n, d); images are flattened row by row.
 */
#ifndef CBOUND_DATA_H
#define CBOUND_DATA_H

#include "cbound/err.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { CB_SCALE_NONE = 0, CB_SCALE_UNIT, CB_SCALE_STANDARDIZE } CbScale;

typedef struct {
    char kind[32];        /* "fashion-mnist", "mnist", "cifar10", "csv", "gaussian"        */
    char path[1024];      /* directory (idx, cifar10) or file (csv); "" = default location */
    char test_path[1024]; /* csv only: separate test file; "" = split off test_fraction    */
    double test_fraction; /* csv without test_path: fraction held out (default 0.2)        */
    char target[64];      /* csv: target column name or index ("" = last column)          */
    int regression;       /* csv/gaussian: 1 = real-valued target (MSE), 0 = class labels   */
    size_t n_train;       /* 0 = all; else the first n (or a random subset, subset_seed)    */
    size_t n_test;        /* 0 = all                                                        */
    int random_subset;    /* 1: choose the n_train subset from stream CB_RNG_SUBSET         */
    CbScale scale;        /* unit = x/255 for images (default for images), standardize =   */
                          /* per-feature mean/std from the training split                   */
    /* gaussian teacher */
    size_t dim;           /* input dimension d                                               */
    size_t n_classes;     /* classification: teacher output width; regression: 1           */
    size_t teacher_width; /* hidden width of the 2-layer ReLU teacher                        */
    double noise;         /* regression target noise std                                     */
    uint64_t seed;        /* stream seed for gaussian data and random subsets               */
} CbDataSpec;

typedef struct {
    size_t n;          /* samples                                                         */
    size_t d;          /* features per sample                                             */
    size_t n_classes;  /* classification: number of classes; regression: 0               */
    size_t n_targets;  /* regression: target width (1); classification: 0                */
    float *x;          /* (n, d) row-major                                                */
    int32_t *y;        /* (n) labels in [0, n_classes) — classification only, else NULL   */
    float *t;          /* (n, n_targets) targets — regression only, else NULL             */
    char name[64];     /* e.g. "fashion-mnist/train"                                      */
    char source[1024]; /* file(s) read                                                    */
} CbData;

/* Defaults: kind fashion-mnist, default path, all samples, unit scaling. */
void cb_data_spec_default(CbDataSpec *spec);

/* Load train and test splits. On failure both are left empty and an error is set. */
CbStatus cb_data_load(const CbDataSpec *spec, CbData *train, CbData *test);

/* Single-format readers (used by cb_data_load and the tests). `max_n` = 0 reads all. */
CbStatus cb_data_read_idx(const char *images_path, const char *labels_path, size_t max_n,
                          CbData *out);
CbStatus cb_data_read_cifar10(const char *const *batch_paths, int n_batches, size_t max_n,
                              CbData *out);
CbStatus cb_data_read_csv(const char *path, const char *target, int regression, CbData *out);

void cb_data_free(CbData *d);

/* Human-readable one-line summary into buf. */
void cb_data_describe(const CbData *d, char *buf, size_t len);

#endif
