/*
 * data_cli — `cbound data`: load a data set the way a sweep would and print a
 * summary (shapes, classes and per-class counts, feature range, source files,
 * load time), so a user can check data.* settings before submitting a job; with
 * --export, the inputs exactly as a model sees them (after scaling and the feature map)
 * go to an HDF5 file, for training in another framework on the same inputs.
 * Only rank 0 loads and prints; other ranks return at once.
 */
#include "cbound/cli.h"
#include "cbound/data.h"
#include "cbound/h5.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    "  --features F        none (default) | conv | conv_abs: random 5x5 filters, ReLU (conv_abs: |.|),\n"
    "                      average pooling (docs/data.md)\n"
    "  --conv-filters N --conv-pool P --conv-gain G   conv features (default 16, 4, 10)\n"
    "  --dim D --classes K --teacher-width H --noise S   gaussian teacher data\n"
    "  --export OUT.h5     also write the inputs as a model sees them (after scaling and the\n"
    "                      feature map): /train/x, /test/x (float32, n x d) and /train/y, /test/y\n"
    "                      (int32 labels) or /train/t, /test/t (float32 targets); the settings are\n"
    "                      attributes. Refuses to overwrite OUT.h5 without --force\n"
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

/* One float32 or int32 dataset NAME of shape (n, d) (d = 0: (n)) under group g. */
static CbStatus write_array(hid_t g, const char *name, hid_t type, hid_t mem, const void *buf, size_t n, size_t d)
{
    hsize_t dims[2] = {n, d};
    hid_t sp = H5Screate_simple(d ? 2 : 1, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(g, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = ds < 0 ? -1 : n ? H5Dwrite(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return w < 0 ? CB_ERR(CB_EIO, "cannot write dataset %s", name) : CB_OK;
}

static CbStatus write_attr(hid_t f, const char *name, const char *text)
{
    return cb_h5_attr_str(f, name, text) < 0 ? CB_ERR(CB_EIO, "cannot write attribute %s", name) : CB_OK;
}

/* The loaded splits as a model sees them, written to a temporary file renamed into place. */
static CbStatus export_data(const char *out, const CbDataSpec *spec, const CbData *train, const CbData *test)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return CB_ERR(CB_EIO, "%s: cannot create", tmp);
    CbStatus st = CB_OK;
    const CbData *parts[2] = {train, test};
    static const char *const names[2] = {"train", "test"};
    for (int k = 0; k < 2 && st == CB_OK; ++k) {
        const CbData *d = parts[k];
        hid_t g = H5Gcreate2(f, names[k], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) st = CB_ERR(CB_EIO, "%s: cannot create group %s", tmp, names[k]);
        if (st == CB_OK) st = write_array(g, "x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, d->x, d->n, d->d);
        if (st == CB_OK && d->y) st = write_array(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, d->y, d->n, 0);
        if (st == CB_OK && d->t) st = write_array(g, "t", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, d->t, d->n, d->n_targets);
        if (g >= 0) H5Gclose(g);
    }
    char v[64];
    snprintf(v, sizeof v, "%llu", (unsigned long long)spec->seed);
    if (st == CB_OK) st = write_attr(f, "kind", spec->kind);
    if (st == CB_OK) st = write_attr(f, "name", train->name);
    if (st == CB_OK) st = write_attr(f, "content", spec->content);
    if (st == CB_OK) st = write_attr(f, "seed", v);
    if (st == CB_OK) st = write_attr(f, "features", cb_features_name(train->phi.kind));
    if (st == CB_OK && train->phi.kind != CB_FEATURES_NONE) {
        snprintf(v, sizeof v, "%zu filters, pool %zu, gain %g", train->phi.filters, train->phi.pool, train->phi.gain);
        st = write_attr(f, "feature_map", v);
    }
    if (st == CB_OK) st = write_attr(f, "scale", cb_data_scale_name(spec->scale));
    if (H5Fclose(f) < 0 && st == CB_OK) st = CB_ERR(CB_EIO, "%s: cannot close", tmp);
    if (st == CB_OK && rename(tmp, out) != 0) st = CB_ERR(CB_EIO, "%s: cannot rename to %s", tmp, out);
    if (st != CB_OK) remove(tmp);
    return st;
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
    const char *export_to = NULL;
    int force = 0;
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
        if (!strcmp(o, "--export")) {
            if (!v) {
                fprintf(stderr, "cbound data: option --export expects a file name\n\n%s", usage_text);
                return 2;
            }
            export_to = v;
        } else if (!strcmp(o, "--kind")) set_str(spec.kind, sizeof spec.kind, o, v);
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
            else if (!strcmp(o, "--force")) force = 1;
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
    if (export_to && !force && access(export_to, F_OK) == 0) {
        fprintf(stderr, "cbound data: error: %s exists (use --force to overwrite)\n", export_to);
        return 1;
    }
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
    int rc = 0;
    if (export_to) {
        if (cb_data_content(&spec) != CB_OK) cb_err_clear(); /* gaussian data: generated, no files to hash */
        if (export_data(export_to, &spec, &train, &test) != CB_OK) {
            cb_err_report("cbound data");
            rc = 1;
        } else {
            printf("exported %zu + %zu samples x %zu features to %s\n", train.n, test.n, train.d, export_to);
        }
    }
    cb_data_free(&train);
    cb_data_free(&test);
    return rc;
}
