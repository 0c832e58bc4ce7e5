/*
 * data_cli — `cbound data`: load a data set the way a sweep would and print a
 * summary (shapes, classes and per-class counts, feature range, source files,
 * load time), so a user can check data.* settings before submitting a job.
 * Only rank 0 loads and prints; other ranks return at once.
 */
#include "cbound/cli.h"
#include "cbound/data.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
    "usage: cbound data [--kind KIND] [options]   (or the sweep's names: --data.kind, --data.n_train, ...)\n"
    "\n"
    "Load a data set, validate it, and print a summary.\n"
    "\n"
    "  --kind K            fashion-mnist (default) | mnist | cifar10 | csv | gaussian\n"
    "  --path P            directory (fashion-mnist, mnist, cifar10) or file (csv);\n"
    "                      fashion-mnist defaults to " CB_DATA_FASHION_MNIST_DIR "\n"
    "  --test-path P       csv: separate test file (else a random split)\n"
    "  --test-fraction F   csv: held-out fraction without --test-path (default 0.2)\n"
    "  --target T          csv: target column (index or header name; default last),\n"
    "                      or a separate target file (relative to the data file)\n"
    "  --regression        csv/gaussian: real-valued target\n"
    "  --n-train N         first N training samples (0 = all)\n"
    "  --n-test N          first N test samples (0 = all)\n"
    "  --random-subset     choose the N samples at random (stream CB_RNG_SUBSET)\n"
    "  --scale S           auto (default: unit for images, none otherwise) | unit | standardize | none\n"
    "  --seed S            stream seed (splits, random subsets, gaussian data, feature map)\n"
    "  --features F        none (default) | conv: random 5x5 filters, ReLU, average pooling (docs/data.md)\n"
    "  --conv-filters N --conv-pool P --conv-gain G   conv features (default 16, 4, 10)\n"
    "  --dim D --classes K --teacher-width H --noise S   gaussian teacher data\n"
    "\n"
    "example: cbound data --kind csv --path /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz\n";

static void summarize(const CbData *d)
{
    double mn = 0, mx = 0, sum = 0;
    for (size_t i = 0; i < d->n * d->d; ++i) {
        double v = d->x[i];
        if (i == 0 || v < mn) mn = v;
        if (i == 0 || v > mx) mx = v;
        sum += v;
    }
    printf("%s: %zu samples x %zu features\n", d->name, d->n, d->d);
    if (d->n_classes) {
        size_t *count = calloc(d->n_classes, sizeof(size_t));
        for (size_t i = 0; count && i < d->n; ++i) count[d->y[i]]++;
        printf("  classes: %zu; per class:", d->n_classes);
        for (size_t c = 0; count && c < d->n_classes; ++c) printf(" %zu:%zu", c, count[c]);
        printf("\n");
        free(count);
    } else {
        double tmn = 0, tmx = 0, ts = 0;
        for (size_t i = 0; i < d->n * d->n_targets; ++i) {
            if (i == 0 || d->t[i] < tmn) tmn = d->t[i];
            if (i == 0 || d->t[i] > tmx) tmx = d->t[i];
            ts += d->t[i];
        }
        printf("  regression targets: %zu; min %.6g max %.6g mean %.6g\n", d->n_targets, tmn, tmx,
               d->n ? ts / (double)(d->n * d->n_targets) : 0.0);
    }
    printf("  features: min %.6g max %.6g mean %.6g\n", mn, mx, d->n ? sum / (double)(d->n * d->d) : 0.0);
    printf("  source: %s\n", d->source);
}

/* Copy an option value into a fixed field, or exit 2 if it does not fit. */
static void set_str(char *dst, size_t len, const char *opt, const char *val)
{
    if (!val || strlen(val) >= len) {
        fprintf(stderr, "cbound data: option %s expects a value of at most %zu characters, got '%s'\n", opt,
                len - 1, val ? val : "(nothing)");
        exit(2);
    }
    memcpy(dst, val, strlen(val) + 1);
}

int cb_cli_data(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(usage_text);
        return 0;
    }
    CbDataSpec spec;
    cb_data_spec_default(&spec);
    for (int i = 1; i < argc; ++i) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        /* the sweep's names work too: --data.n_train = --n-train, --data.n_classes = --classes */
        char alias[64];
        if (!strncmp(o, "--data.", 7) && strlen(o) < sizeof alias) {
            if (!strcmp(o, "--data.n_classes")) snprintf(alias, sizeof alias, "--classes");
            else {
                snprintf(alias, sizeof alias, "--%s", o + 7);
                for (char *c = alias + 2; *c; ++c)
                    if (*c == '_') *c = '-';
            }
            o = alias;
        }
        if (!strcmp(o, "--kind")) set_str(spec.kind, sizeof spec.kind, o, v);
        else if (!strcmp(o, "--path")) set_str(spec.path, sizeof spec.path, o, v);
        else if (!strcmp(o, "--test-path")) set_str(spec.test_path, sizeof spec.test_path, o, v);
        else if (!strcmp(o, "--target")) set_str(spec.target, sizeof spec.target, o, v);
        else if (!strcmp(o, "--test-fraction")) spec.test_fraction = cb_cli_double(o, v, 0, 1);
        else if (!strcmp(o, "--n-train")) spec.n_train = (size_t)cb_cli_long(o, v, 0, 1L << 40);
        else if (!strcmp(o, "--n-test")) spec.n_test = (size_t)cb_cli_long(o, v, 0, 1L << 40);
        else if (!strcmp(o, "--seed")) spec.seed = (uint64_t)cb_cli_long(o, v, 0, 0x7fffffffffffffffL);
        else if (!strcmp(o, "--dim")) spec.dim = (size_t)cb_cli_long(o, v, 1, 1L << 30);
        else if (!strcmp(o, "--classes")) spec.n_classes = (size_t)cb_cli_long(o, v, 1, 1L << 30);
        else if (!strcmp(o, "--teacher-width")) spec.teacher_width = (size_t)cb_cli_long(o, v, 1, 1L << 30);
        else if (!strcmp(o, "--noise")) spec.noise = cb_cli_double(o, v, 0, 1e300);
        else if (!strcmp(o, "--features")) set_str(spec.features, sizeof spec.features, o, v);
        else if (!strcmp(o, "--conv-filters")) spec.conv_filters = (size_t)cb_cli_long(o, v, 0, 1L << 20);
        else if (!strcmp(o, "--conv-pool")) spec.conv_pool = (size_t)cb_cli_long(o, v, 0, 1L << 20);
        else if (!strcmp(o, "--conv-gain")) spec.conv_gain = cb_cli_double(o, v, 0, 1e300);
        else if (!strcmp(o, "--scale")) {
            if (!v || cb_data_scale_parse(v, &spec.scale) != CB_OK) {
                fprintf(stderr, "cbound data: option --scale expects auto, unit, standardize or none, got '%s'\n",
                        v ? v : "(nothing)");
                return 2;
            }
        } else {
            takes = 0;
            if (!strcmp(o, "--regression")) spec.regression = 1;
            else if (!strcmp(o, "--random-subset")) spec.random_subset = 1;
            else {
                fprintf(stderr, "cbound data: unknown option '%s'\n\n%s", o, usage_text);
                return 2;
            }
        }
        i += takes;
    }

    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) return 0;
    CbData train, test;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cb_data_load(&spec, &train, &test) != CB_OK) {
        cb_err_report("cbound data");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    CbScale eff = spec.scale;
    if (eff == CB_SCALE_AUTO)
        eff = strcmp(spec.kind, "csv") && strcmp(spec.kind, "gaussian") ? CB_SCALE_UNIT : CB_SCALE_NONE;
    printf("data: kind %s, scale %s%s%s, seed %llu%s\n", spec.kind, cb_data_scale_name(spec.scale),
           spec.scale == CB_SCALE_AUTO ? " -> " : "", spec.scale == CB_SCALE_AUTO ? cb_data_scale_name(eff) : "",
           (unsigned long long)spec.seed, spec.random_subset ? ", random subsets" : "");
    if (train.phi.kind != CB_FEATURES_NONE)
        printf("features: %s, %zu filters, pool %zu, gain %g, seed %llu: %zu x %zu x %zu -> %zu features\n",
               cb_features_name(train.phi.kind), train.phi.filters, train.phi.pool, train.phi.gain,
               (unsigned long long)train.phi.seed, train.phi.in_c, train.phi.in_h, train.phi.in_w, train.d);
    summarize(&train);
    summarize(&test);
    printf("load time: %.3f s\n", secs);
    cb_data_free(&train);
    cb_data_free(&test);
    return 0;
}
