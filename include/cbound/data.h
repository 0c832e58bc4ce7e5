/*
 * data — real data sets, validated on load, and synthetic Gaussian-teacher data.
 *
 *   kind            source                                        task
 *   fashion-mnist   IDX (.gz or plain), default /usr/share/datasets/fashion-mnist   10 classes
 *   mnist           IDX from a user-given directory               10 classes
 *   cifar10         CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin)    10 classes
 *   csv             CSV (.gz or plain) with a target column (digits.csv.gz from
 *                   python3-sklearn = classification, diabetes = regression)
 *   gaussian        x ~ N(0, I_d), targets from a random teacher MLP drawn from the
 *                   streams (regression or argmax classification)
 *
 * Errors name the file, what was expected and what was found (missing file,
 * wrong magic, truncation, inconsistent counts, labels out of range), with a hint.
 * Features are float32, row-major (n, d); images are flattened row by row
 * (CIFAR-10: channel-major, d = 3 x 32 x 32 as stored in the batch files).
 *
 * Random streams (all keyed by (spec->seed, CB_DATA_RNG_KEY)):
 *   CB_RNG_FEATURES index 0  conv feature map: filters, then biases (features.h)
 *   CB_RNG_SUBSET index 0    csv: permutation choosing the held-out test rows
 *   CB_RNG_SUBSET index 1/2  random n_train / n_test subsets (random_subset = 1)
 *   CB_RNG_DATA_GEN index 0  gaussian: teacher weights
 *   CB_RNG_DATA_GEN index 1/2 gaussian: train / test inputs and noise, sample i
 *                            starting at block i * (d + 1) (so the first n samples
 *                            do not depend on how many are drawn)
 */
#ifndef CBOUND_DATA_H
#define CBOUND_DATA_H

#include "cbound/err.h"
#include "cbound/features.h"

#include <stddef.h>
#include <stdint.h>

/* Task key of every data stream ("data" in ASCII): data depend on the seed only,
 * so all tasks of a sweep that share spec->seed see the same samples. */
#define CB_DATA_RNG_KEY 0x64617461ULL

#define CB_DATA_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* CB_SCALE_AUTO (appended): unit for image kinds, none for csv and gaussian.
 * CB_SCALE_SIGNED (appended): [-1, 1], i.e. 2 unit - 1 (torchvision's ToTensor then
 * Normalize(0.5, 0.5), what the 004 authors' code feeds its MLPs). */
typedef enum { CB_SCALE_NONE = 0, CB_SCALE_UNIT, CB_SCALE_STANDARDIZE, CB_SCALE_AUTO, CB_SCALE_SIGNED } CbScale;

typedef struct {
    char kind[32];        /* "fashion-mnist", "mnist", "cifar10", "csv", "gaussian"        */
    char path[1024];      /* directory (idx, cifar10) or file (csv); "" = default location */
    char test_path[1024]; /* csv only: separate test file; "" = split off test_fraction    */
    double test_fraction; /* csv without test_path: fraction held out (default 0.2)        */
    char target[64];      /* csv: target column name or index ("" = last column), or a     */
                          /* separate target file (*.csv, *.csv.gz, *.txt, or with '/'),   */
                          /* relative to the data file's directory                          */
    int regression;       /* csv/gaussian: 1 = real-valued target (MSE), 0 = class labels   */
    size_t n_train;       /* 0 = all; else the first n (or a random subset, see below)      */
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
    char content[17];     /* hash of the data files' bytes (cb_data_content); "" = not     */
                          /* computed or generated data. Part of every key, paths are not.  */
    /* random feature map φ applied after scaling (include/cbound/features.h), keyed by seed */
    char features[16];    /* "none" (default), "conv" or "conv_abs"                          */
    size_t conv_filters;  /* conv: random 5x5 filters F (default 16)                        */
    size_t conv_pool;     /* conv: average-pooling size p (default 4)                       */
    double conv_gain;     /* conv: output gain, a bfloat16 value (default 10)               */
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
    size_t shape[3];   /* images: (channels, rows, cols) as read; else all 0               */
    CbFeatures phi;    /* the feature map x holds the output of (kind NONE: raw features); */
                       /* the model codes describe it (the classifier is MLP∘φ)             */
} CbData;

/* Defaults: kind fashion-mnist, default path, all samples, scale auto (unit for
 * images), test_fraction 0.2, seed 0, features none (conv: 16 filters, pool 4, gain 10). */
void cb_data_spec_default(CbDataSpec *spec);

/* Load train and test splits. On failure both are left empty and an error is set.
 * With spec->features != "none" both splits hold φ(x) (train->phi says which φ). */
CbStatus cb_data_load(const CbDataSpec *spec, CbData *train, CbData *test);

/* Validate a spec and check that its files exist and start like the format they
 * should be (cheap: headers only). For a sweep's up-front validation. */
CbStatus cb_data_check(const CbDataSpec *spec);

/* spec->content = hex FNV-1a hash of the bytes of every file the kind reads (in a
 * fixed order, with file boundaries), so that keys change when a file's contents do
 * and not when its path does. Gaussian data: "". Errors if a file cannot be read. */
CbStatus cb_data_content(CbDataSpec *spec);

/* Single-format readers (used by cb_data_load and the tests). `max_n` = 0 reads all. */
CbStatus cb_data_read_idx(const char *images_path, const char *labels_path, size_t max_n,
                          CbData *out);
CbStatus cb_data_read_cifar10(const char *const *batch_paths, int n_batches, size_t max_n,
                              CbData *out);
CbStatus cb_data_read_csv(const char *path, const char *target, int regression, CbData *out);

/* Gaussian-teacher samples 0..n-1 of split `index` (1 train, 2 test); see the
 * stream layout above and src/data/data_gauss.c for the teacher. */
CbStatus cb_data_gaussian(const CbDataSpec *spec, uint32_t index, size_t n, CbData *out);

/* Allocate an empty data set: x (n, d), y if n_classes > 0, t if n_targets > 0. */
CbStatus cb_data_alloc(CbData *out, size_t n, size_t d, size_t n_classes, size_t n_targets);
void cb_data_free(CbData *d);

/* "none" / "unit" / "standardize" / "auto" and back (CB_EINVAL naming the choices). */
const char *cb_data_scale_name(CbScale s);
CbStatus cb_data_scale_parse(const char *name, CbScale *out);

/* The feature map a spec asks for, for data of image shape (c, h, w) (NULL: the kind's
 * usual shape, 1x28x28 for (fashion-)mnist, 3x32x32 for cifar10). Checks it; on
 * CB_EINVAL *bad (if bad != NULL) names the setting at fault: "features",
 * "conv_filters", "conv_pool" or "conv_gain". */
CbStatus cb_data_features(const CbDataSpec *spec, const size_t shape[3], CbFeatures *out, const char **bad);

/* Human-readable one-line summary into buf. */
void cb_data_describe(const CbData *d, char *buf, size_t len);

#endif
