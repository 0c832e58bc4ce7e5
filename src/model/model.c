/*
 * model — save and load the HDF5 model file (schema "cbound-model", version 1;
 * layout and content hash documented in include/cbound/model.h).
 *
 * Writing is atomic: everything goes to PATH.tmp.<pid>, which is flushed, fsync'd
 * and renamed over PATH, so "the model file exists" implies "it is complete" (the
 * runner's idempotent training stage relies on that). Serial HDF5 API with the
 * default file access property list: exactly one process writes a model file.
 *
 * Loading trusts nothing: schema name and version, every dataset's presence,
 * float32 type, rank and shape (W_l's d_in must equal W_{l-1}'s d_out), the widths
 * attribute, finiteness of every value (errors name layer and (row, col)) and the
 * content hash (corruption). HDF5's own error printing is switched off; failures
 * become CB_EHDF5 / CB_EFORMAT messages naming the file and object, with the
 * innermost message of HDF5's error stack appended.
 */
#include "cbound/model.h"
#include "cbound/h5.h"
#include "cbound/version.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cb_model_hash hashes the in-memory float bytes, which the format defines as little-endian"
#endif

/* ------------------------------------------------------------------ hash */

static uint64_t hash_shape_params(const CbMlp *m, const float *params)
{
    uint64_t head[CB_MODEL_MAX_DEPTH + 3];
    size_t n = 0;
    head[n++] = (uint64_t)m->depth;
    for (int l = 0; l <= m->depth && l <= CB_MODEL_MAX_DEPTH; ++l) head[n++] = (uint64_t)m->widths[l];
    head[n++] = (uint64_t)m->bias;
    uint64_t h = cb_rng_hash64(head, n * sizeof head[0], CB_RNG_HASH_INIT);
    for (int l = 0; l < m->depth; ++l) {
        size_t wo = m->widths[l + 1], wi = m->widths[l];
        h = cb_rng_hash64(params + m->offset_W[l], wo * wi * sizeof(float), h);
        if (m->bias) h = cb_rng_hash64(params + m->offset_b[l], wo * sizeof(float), h);
    }
    return h;
}

void cb_model_hash(const CbMlp *m, char out[17])
{
    snprintf(out, 17, "%016" PRIx64, hash_shape_params(m, m->params));
}

void cb_model_free(CbModel *m)
{
    if (!m) return;
    cb_mlp_free(m->mlp);
    cb_mlp_free(m->init);
    free(m->train_config);
    free(m->curve);
    m->mlp = m->init = NULL;
    m->train_config = NULL;
    m->curve = NULL;
    m->n_curve = 0;
}

/* ------------------------------------------------------------------ HDF5 helpers */

/* Innermost message of HDF5's error stack (then cleared), for appending to ours. */
static herr_t walk_first(unsigned n, const H5E_error2_t *e, void *buf)
{
    if (n == 0 && e->desc) snprintf(buf, 256, "%s", e->desc);
    return 0;
}

static const char *h5_detail(void)
{
    static _Thread_local char buf[256];
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_first, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf[0] ? buf : "no detail from HDF5";
}

static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* Close handle h (if open) with `close`; a failure becomes the error when none is set yet. */
static void h5_close(herr_t (*close)(hid_t), hid_t h, CbStatus *st, const char *path, const char *obj)
{
    if (h >= 0 && close(h) < 0 && *st == CB_OK) *st = CB_ERR(CB_EHDF5, "%s: HDF5 failed to close '%s' (%s)", path,
                                                           obj, h5_detail());
}

static CbStatus h5_fail(const char *path, const char *what, const char *obj)
{
    return CB_ERR(CB_EHDF5, "%s: HDF5 failed to %s '%s' (%s)", path, what, obj, h5_detail());
}

static CbStatus write_attr(hid_t loc, const char *path, const char *name, hid_t ftype, hid_t mtype,
                           hsize_t n, const void *val)
{
    hid_t space = n ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR);
    hid_t a = space < 0 ? -1 : H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    CbStatus st = a < 0 || H5Awrite(a, mtype, val) < 0 ? h5_fail(path, "write attribute", name) : CB_OK;
    h5_close(H5Aclose, a, &st, path, name);
    h5_close(H5Sclose, space, &st, path, name);
    return st;
}

static CbStatus write_attr_str(hid_t loc, const char *path, const char *name, const char *s)
{
    return cb_h5_attr_str(loc, name, s) < 0 ? h5_fail(path, "write attribute", name) : CB_OK;
}

static CbStatus write_attr_i64(hid_t loc, const char *path, const char *name, int64_t v)
{
    return cb_h5_attr_i64(loc, name, v) < 0 ? h5_fail(path, "write attribute", name) : CB_OK;
}

static CbStatus write_attr_f64(hid_t loc, const char *path, const char *name, double v)
{
    return cb_h5_attr_f64(loc, name, v) < 0 ? h5_fail(path, "write attribute", name) : CB_OK;
}

/* float32 little-endian dataset of shape (rows, cols), or (rows) when cols == 0. */
static CbStatus write_f32(hid_t loc, const char *path, const char *name, size_t rows, size_t cols,
                          const float *data)
{
    hsize_t dims[2] = {rows, cols};
    hid_t space = H5Screate_simple(cols ? 2 : 1, dims, NULL);
    hid_t d = space < 0 ? -1
                        : H5Dcreate2(loc, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CbStatus st = d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0
                      ? h5_fail(path, "write dataset", name)
                      : CB_OK;
    h5_close(H5Dclose, d, &st, path, name);
    h5_close(H5Sclose, space, &st, path, name);
    return st;
}

/* ------------------------------------------------------------------ save */

static CbStatus write_layers(hid_t f, const char *path, const CbModel *m)
{
    const CbMlp *w = m->mlp, *w0 = m->init ? m->init : m->mlp;
    hid_t layers = H5Gcreate2(f, "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (layers < 0) return h5_fail(path, "create group", "/layers");
    CbStatus st = CB_OK;
    for (int l = 0; l < w->depth && st == CB_OK; ++l) {
        char name[32];
        snprintf(name, sizeof name, "%d", l);
        hid_t g = H5Gcreate2(layers, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) {
            st = h5_fail(path, "create group /layers/", name);
            break;
        }
        size_t wo = w->widths[l + 1], wi = w->widths[l];
        st = write_f32(g, path, "W", wo, wi, w->W[l]);
        if (st == CB_OK) st = write_f32(g, path, "W_init", wo, wi, w0->W[l]);
        if (st == CB_OK && w->bias) st = write_f32(g, path, "b", wo, 0, w->b[l]);
        if (st == CB_OK && w->bias) st = write_f32(g, path, "b_init", wo, 0, w0->b[l]);
        if (H5Gclose(g) < 0 && st == CB_OK) st = h5_fail(path, "close group /layers/", name);
    }
    if (H5Gclose(layers) < 0 && st == CB_OK) st = h5_fail(path, "close group", "/layers");
    return st;
}

static CbStatus write_metrics(hid_t f, const char *path, const CbTrainResult *r)
{
    hid_t g = H5Gcreate2(f, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return h5_fail(path, "create group", "/metrics");
    CbStatus st = write_attr_f64(g, path, "train_loss", r->train_loss);
    if (st == CB_OK) st = write_attr_f64(g, path, "train_acc", r->train_acc);
    if (st == CB_OK) st = write_attr_f64(g, path, "test_loss", r->test_loss);
    if (st == CB_OK) st = write_attr_f64(g, path, "test_acc", r->test_acc);
    if (st == CB_OK) st = write_attr_i64(g, path, "epochs", r->epochs_run);
    if (st == CB_OK) st = write_attr_i64(g, path, "steps", r->steps);
    if (st == CB_OK) st = write_attr_f64(g, path, "seconds", r->seconds);
    if (st == CB_OK) st = write_attr_f64(g, path, "samples_per_s", r->samples_per_s);
    if (H5Gclose(g) < 0 && st == CB_OK) st = h5_fail(path, "close group", "/metrics");
    return st;
}

/* /curve: (epochs, 3) float64, columns train_loss, train_acc, test_acc (the learning
 * curve of CbTrainConfig.curve); attribute `columns` names them, `doc` says what they are. */
static CbStatus write_curve(hid_t f, const char *path, const CbModel *m)
{
    hsize_t dims[2] = {(hsize_t)m->n_curve, 3};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(f, "curve", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (sp >= 0) H5Sclose(sp);
    if (d < 0) return h5_fail(path, "create dataset", "/curve");
    CbStatus st = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, m->curve) < 0
                      ? h5_fail(path, "write dataset", "/curve") : CB_OK;
    if (st == CB_OK) st = write_attr_str(d, path, "columns", "train_loss train_acc test_acc");
    if (st == CB_OK)
        st = write_attr_str(d, path, "doc", "per epoch: mean training loss and accuracy over the epoch's batches, "
                                            "test accuracy after the epoch (NaN: not evaluated)");
    if (H5Dclose(d) < 0 && st == CB_OK) st = h5_fail(path, "close dataset", "/curve");
    return st;
}

static CbStatus write_root(hid_t f, const char *path, const CbModel *m)
{
    const CbMlp *w = m->mlp;
    char hash[17], init_hash[17], created[32];
    cb_model_hash(w, hash);
    cb_model_hash(m->init ? m->init : w, init_hash);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    uint64_t widths[CB_MODEL_MAX_DEPTH + 1];
    for (int l = 0; l <= w->depth; ++l) widths[l] = w->widths[l];

    CbStatus st = write_attr_str(f, path, "schema", CB_MODEL_SCHEMA);
    if (st == CB_OK) st = write_attr_i64(f, path, "schema_version", CB_MODEL_SCHEMA_VERSION);
    char version[128];
    snprintf(version, sizeof version, "%s (git %s)", cb_version_string(), cb_version_git_rev());
    if (st == CB_OK) st = write_attr_str(f, path, "cbound_version", version);
    if (st == CB_OK) st = write_attr_i64(f, path, "depth", w->depth);
    if (st == CB_OK)
        st = write_attr(f, path, "widths", H5T_STD_U64LE, H5T_NATIVE_UINT64, (hsize_t)w->depth + 1, widths);
    if (st == CB_OK) st = write_attr_str(f, path, "activation", cb_mlp_act_name(w->act));
    if (st == CB_OK) st = write_attr_f64(f, path, "beta", w->beta);
    if (st == CB_OK) st = write_attr_i64(f, path, "bias", w->bias);
    if (st == CB_OK) st = write_attr_str(f, path, "content_hash", hash);
    if (st == CB_OK) st = write_attr_str(f, path, "init_hash", init_hash);
    if (st == CB_OK) st = write_attr_i64(f, path, "init_known", m->init != NULL);
    if (st == CB_OK && !m->init) st = write_attr_str(f, path, "init_note", "initial weights unknown: W_init = W");
    if (st == CB_OK) st = write_attr_str(f, path, "dataset", m->dataset);
    if (st == CB_OK) st = write_attr_str(f, path, "train_config", m->train_config ? m->train_config : "");
    if (st == CB_OK) st = write_attr_str(f, path, "created", created);
    return st;
}

/* fsync a file or directory by path (durability of the rename). */
static int fsync_path(const char *p, int flags)
{
    int fd = open(p, flags);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

CbStatus cb_model_save(const char *path, const CbModel *m)
{
    if (!m || !m->mlp) return CB_ERR(CB_EINVAL, "%s: cb_model_save given no network", path);
    const CbMlp *w = m->mlp;
    if (w->depth > CB_MODEL_MAX_DEPTH)
        return CB_ERR(CB_EINVAL, "%s: depth %d exceeds the format's maximum %d", path, w->depth,
                      CB_MODEL_MAX_DEPTH);
    if (m->init) {
        int same = m->init->depth == w->depth && m->init->bias == w->bias;
        for (int l = 0; same && l <= w->depth; ++l) same = m->init->widths[l] == w->widths[l];
        if (!same) return CB_ERR(CB_EINVAL, "%s: initial weights have a different shape than the weights", path);
    }
    h5_quiet();
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return CB_ERR(CB_EINVAL, "model path too long (%zu characters)", strlen(path));
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        CbStatus st = CB_ERR(CB_EIO, "%s: cannot create model file (%s)", tmp, h5_detail());
        cb_err_hint("check that the directory exists and is writable");
        return st;
    }
    CbStatus st = write_root(f, path, m);
    if (st == CB_OK) st = write_layers(f, path, m);
    if (st == CB_OK) st = write_metrics(f, path, &m->metrics);
    if (st == CB_OK && m->n_curve > 0) st = write_curve(f, path, m);
    if (st == CB_OK && H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) st = h5_fail(path, "flush", tmp);
    if (H5Fclose(f) < 0 && st == CB_OK) st = h5_fail(path, "close", tmp);
    if (st == CB_OK && fsync_path(tmp, O_RDONLY) != 0)
        st = CB_ERR(CB_EIO, "%s: fsync failed: %s", tmp, strerror(errno));
    if (st == CB_OK && rename(tmp, path) != 0)
        st = CB_ERR(CB_EIO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    if (st != CB_OK) {
        unlink(tmp);
        return st;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    fsync_path(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY); /* best effort */
    return CB_OK;
}

/* ------------------------------------------------------------------ load helpers */

static int has_attr(hid_t loc, const char *name) { return H5Aexists(loc, name) > 0; }

static CbStatus missing_attr(const char *path, const char *obj, const char *name)
{
    CbStatus st = CB_ERR(CB_EFORMAT, "%s: %s has no attribute '%s' (required by schema %s v%d)", path, obj,
                         name, CB_MODEL_SCHEMA, CB_MODEL_SCHEMA_VERSION);
    cb_err_hint("the file was not written by cbound or was edited; re-save it with `cbound train` or "
                "scripts/torch_interop.py export");
    return st;
}

/* String attribute (fixed or variable length) -> malloc'd C string. */
static CbStatus read_attr_str(hid_t loc, const char *path, const char *obj, const char *name, char **out)
{
    *out = NULL;
    if (!has_attr(loc, name)) return missing_attr(path, obj, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    CbStatus st = CB_OK;
    if (t < 0) {
        st = h5_fail(path, "open attribute", name);
    } else if (H5Tget_class(t) != H5T_STRING) {
        st = CB_ERR(CB_EFORMAT, "%s: attribute '%s' of %s: expected a string", path, name, obj);
    } else if (H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        char *s = NULL;
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0 ||
            H5Aread(a, mt, &s) < 0)
            st = h5_fail(path, "read attribute", name);
        else
            *out = strdup(s ? s : "");
        if (s) H5free_memory(s);
        h5_close(H5Tclose, mt, &st, path, name);
    } else {
        size_t n = H5Tget_size(t);
        hid_t mt = H5Tcopy(H5T_C_S1);
        char *s = cb_calloc(n + 1, 1);
        if (mt < 0 || H5Tset_size(mt, n + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(t)) < 0 || H5Aread(a, mt, s) < 0) {
            st = h5_fail(path, "read attribute", name);
            free(s);
        } else {
            *out = s;
        }
        h5_close(H5Tclose, mt, &st, path, name);
    }
    h5_close(H5Tclose, t, &st, path, name);
    h5_close(H5Aclose, a, &st, path, name);
    return st;
}

/* Numeric scalar or 1-D attribute of class `cls` with exactly n elements (n = 0: scalar). */
static CbStatus read_attr_num(hid_t loc, const char *path, const char *obj, const char *name, H5T_class_t cls,
                              hid_t mtype, size_t n, void *out)
{
    if (!has_attr(loc, name)) return missing_attr(path, obj, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    hid_t s = a < 0 ? -1 : H5Aget_space(a);
    CbStatus st = CB_OK;
    if (t < 0 || s < 0) {
        st = h5_fail(path, "open attribute", name);
    } else {
        hssize_t count = H5Sget_simple_extent_npoints(s);
        H5T_class_t c = H5Tget_class(t);
        if (c != cls)
            st = CB_ERR(CB_EFORMAT, "%s: attribute '%s' of %s: expected %s, found another type", path, name, obj,
                        cls == H5T_INTEGER ? "an integer" : "a floating-point number");
        else if (count != (hssize_t)(n ? n : 1))
            st = CB_ERR(CB_EFORMAT, "%s: attribute '%s' of %s: expected %zu value(s), found %lld", path, name, obj,
                        n ? n : 1, (long long)count);
        else if (H5Aread(a, mtype, out) < 0)
            st = h5_fail(path, "read attribute", name);
    }
    h5_close(H5Sclose, s, &st, path, name);
    h5_close(H5Tclose, t, &st, path, name);
    h5_close(H5Aclose, a, &st, path, name);
    return st;
}

static CbStatus read_attr_i64(hid_t loc, const char *path, const char *obj, const char *name, int64_t *v)
{
    return read_attr_num(loc, path, obj, name, H5T_INTEGER, H5T_NATIVE_INT64, 0, v);
}

static CbStatus read_attr_f64(hid_t loc, const char *path, const char *obj, const char *name, double *v)
{
    return read_attr_num(loc, path, obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, 0, v);
}

/* Open /layers/<l>/<name>; CB_EFORMAT naming the object when it is absent. */
static CbStatus open_dset(hid_t f, const char *path, int l, const char *name, hid_t *d)
{
    char obj[64];
    snprintf(obj, sizeof obj, "layers/%d/%s", l, name);
    char grp[32];
    snprintf(grp, sizeof grp, "layers/%d", l);
    if (H5Lexists(f, "layers", H5P_DEFAULT) <= 0 || H5Lexists(f, grp, H5P_DEFAULT) <= 0 ||
        H5Lexists(f, obj, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        CbStatus st = CB_ERR(CB_EFORMAT, "%s: dataset /%s is missing", path, obj);
        cb_err_hint("the file is truncated or was not written by cbound; re-save the model");
        return st;
    }
    *d = H5Dopen2(f, obj, H5P_DEFAULT);
    return *d < 0 ? h5_fail(path, "open dataset", obj) : CB_OK;
}

/* Rank and dimensions of /layers/<l>/<name>; checks it is float32. */
static CbStatus dset_shape(hid_t f, const char *path, int l, const char *name, int *rank, hsize_t dims[2])
{
    hid_t d;
    CB_TRY(open_dset(f, path, l, name, &d));
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    CbStatus st = CB_OK;
    if (t < 0 || s < 0) {
        st = h5_fail(path, "inspect dataset", name);
    } else if (H5Tget_class(t) != H5T_FLOAT || H5Tget_size(t) != 4) {
        st = CB_ERR(CB_EFORMAT, "%s: /layers/%d/%s: expected float32, found %s of %zu bytes", path, l, name,
                    H5Tget_class(t) == H5T_FLOAT ? "a float" : "a non-float type", H5Tget_size(t));
        cb_err_hint("write parameters as float32 (numpy: .astype('<f4'))");
    } else {
        *rank = H5Sget_simple_extent_ndims(s);
        if (*rank < 1 || *rank > 2)
            st = CB_ERR(CB_EFORMAT, "%s: /layers/%d/%s has rank %d (expected %s)", path, l, name, *rank,
                        name[0] == 'W' ? "2: (d_out, d_in)" : "1: (d_out)");
        else
            H5Sget_simple_extent_dims(s, dims, NULL);
    }
    h5_close(H5Sclose, s, &st, path, name);
    h5_close(H5Tclose, t, &st, path, name);
    h5_close(H5Dclose, d, &st, path, name);
    return st;
}

/* Check shape (rows, cols) — cols = 0 for a vector — then read into buf. */
static CbStatus read_f32(hid_t f, const char *path, int l, const char *name, size_t rows, size_t cols,
                         float *buf)
{
    int rank = 0;
    hsize_t dims[2] = {0, 0};
    CB_TRY(dset_shape(f, path, l, name, &rank, dims));
    int want_rank = cols ? 2 : 1;
    if (rank != want_rank || dims[0] != rows || (cols && dims[1] != cols)) {
        char found[64], want[64];
        if (rank == 2) snprintf(found, sizeof found, "(%llu, %llu)", (unsigned long long)dims[0],
                                (unsigned long long)dims[1]);
        else snprintf(found, sizeof found, "(%llu)", (unsigned long long)dims[0]);
        if (cols) snprintf(want, sizeof want, "(%zu, %zu)", rows, cols);
        else snprintf(want, sizeof want, "(%zu)", rows);
        return CB_ERR(CB_EFORMAT, "%s: /layers/%d/%s has shape %s, expected %s", path, l, name, found, want);
    }
    hid_t d;
    CB_TRY(open_dset(f, path, l, name, &d));
    CbStatus st = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0
                      ? h5_fail(path, "read dataset", name)
                      : CB_OK;
    h5_close(H5Dclose, d, &st, path, name);
    return st;
}

static CbStatus check_finite(const char *path, int l, const char *name, const float *a, size_t rows, size_t cols)
{
    size_t n = rows * (cols ? cols : 1);
    for (size_t i = 0; i < n; ++i)
        if (!isfinite(a[i])) {
            CbStatus st;
            if (cols)
                st = CB_ERR(CB_ENUMERIC, "%s: layer %d: %s[%zu, %zu] is %g (expected a finite number)", path, l,
                            name, i / cols, i % cols, (double)a[i]);
            else
                st = CB_ERR(CB_ENUMERIC, "%s: layer %d: %s[%zu] is %g (expected a finite number)", path, l, name, i,
                            (double)a[i]);
            cb_err_hint("the model diverged while training or the file was corrupted; retrain or re-export it");
            return st;
        }
    return CB_OK;
}

/* ------------------------------------------------------------------ load */

/* Shapes from the W datasets, checked against each other and the attributes. */
static CbStatus read_shapes(hid_t f, const char *path, int depth, size_t *widths)
{
    H5G_info_t gi;
    if (H5Lexists(f, "layers", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return CB_ERR(CB_EFORMAT, "%s: group /layers is missing", path);
    }
    if (H5Gget_info_by_name(f, "layers", &gi, H5P_DEFAULT) < 0) return h5_fail(path, "inspect group", "/layers");
    if (gi.nlinks != (hsize_t)depth)
        return CB_ERR(CB_EFORMAT, "%s: /layers has %llu entries but the depth attribute is %d", path,
                      (unsigned long long)gi.nlinks, depth);
    for (int l = 0; l < depth; ++l) {
        int rank = 0;
        hsize_t dims[2] = {0, 0};
        CB_TRY(dset_shape(f, path, l, "W", &rank, dims));
        if (rank != 2)
            return CB_ERR(CB_EFORMAT, "%s: /layers/%d/W has rank %d (expected 2: (d_out, d_in))", path, l, rank);
        if (dims[0] == 0 || dims[1] == 0)
            return CB_ERR(CB_EFORMAT, "%s: /layers/%d/W has an empty shape (%llu, %llu)", path, l,
                          (unsigned long long)dims[0], (unsigned long long)dims[1]);
        if (l == 0) {
            widths[0] = dims[1];
        } else if (dims[1] != widths[l]) {
            CbStatus st = CB_ERR(CB_EFORMAT,
                                 "%s: /layers/%d/W has shape (%llu, %llu), but /layers/%d/W has d_out = %zu; "
                                 "expected d_in = %zu",
                                 path, l, (unsigned long long)dims[0], (unsigned long long)dims[1], l - 1,
                                 widths[l], widths[l]);
            cb_err_hint("consecutive layers must chain: W_l is (d_out, d_in) with d_in = d_out of W_{l-1}");
            return st;
        }
        widths[l + 1] = dims[0];
    }
    uint64_t attr[CB_MODEL_MAX_DEPTH + 1];
    CB_TRY(read_attr_num(f, path, "/", "widths", H5T_INTEGER, H5T_NATIVE_UINT64, (size_t)depth + 1, attr));
    for (int l = 0; l <= depth; ++l)
        if (attr[l] != widths[l])
            return CB_ERR(CB_EFORMAT, "%s: widths attribute says widths[%d] = %llu, the datasets say %zu", path, l,
                          (unsigned long long)attr[l], widths[l]);
    return CB_OK;
}

static CbStatus read_params(hid_t f, const char *path, CbMlp *w, const char *wname, const char *bname)
{
    for (int l = 0; l < w->depth; ++l) {
        size_t wo = w->widths[l + 1], wi = w->widths[l];
        CB_TRY(read_f32(f, path, l, wname, wo, wi, w->W[l]));
        CB_TRY(check_finite(path, l, wname, w->W[l], wo, wi));
        if (w->bias) {
            CB_TRY(read_f32(f, path, l, bname, wo, 0, w->b[l]));
            CB_TRY(check_finite(path, l, bname, w->b[l], wo, 0));
        } else {
            char obj[64];
            snprintf(obj, sizeof obj, "layers/%d/%s", l, bname);
            if (H5Lexists(f, obj, H5P_DEFAULT) > 0)
                return CB_ERR(CB_EFORMAT, "%s: bias attribute is 0 but /%s exists", path, obj);
        }
    }
    return CB_OK;
}

static CbStatus check_hash(const char *path, hid_t f, const char *attr, const CbMlp *w, const char *what)
{
    char *want = NULL, got[17];
    CB_TRY(read_attr_str(f, path, "/", attr, &want));
    cb_model_hash(w, got);
    CbStatus st = CB_OK;
    if (strcmp(want, got)) {
        st = CB_ERR(CB_EFORMAT, "%s: %s hash mismatch: the file records %s, the stored %s hash to %s", path, what,
                    want, what, got);
        cb_err_hint("the file is corrupted or its parameters were edited without updating %s "
                    "(scripts/torch_interop.py rehash recomputes it)", attr);
    }
    free(want);
    return st;
}

static CbStatus read_metrics(hid_t f, const char *path, CbTrainResult *r)
{
    if (H5Lexists(f, "metrics", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return CB_ERR(CB_EFORMAT, "%s: group /metrics is missing", path);
    }
    hid_t g = H5Gopen2(f, "metrics", H5P_DEFAULT);
    if (g < 0) return h5_fail(path, "open group", "/metrics");
    int64_t epochs = -1, steps = -1;
    CbStatus st = read_attr_f64(g, path, "/metrics", "train_loss", &r->train_loss);
    if (st == CB_OK) st = read_attr_f64(g, path, "/metrics", "train_acc", &r->train_acc);
    if (st == CB_OK) st = read_attr_f64(g, path, "/metrics", "test_loss", &r->test_loss);
    if (st == CB_OK) st = read_attr_f64(g, path, "/metrics", "test_acc", &r->test_acc);
    if (st == CB_OK) st = read_attr_i64(g, path, "/metrics", "epochs", &epochs);
    if (st == CB_OK) st = read_attr_i64(g, path, "/metrics", "steps", &steps);
    if (st == CB_OK) st = read_attr_f64(g, path, "/metrics", "seconds", &r->seconds);
    if (st == CB_OK) st = read_attr_f64(g, path, "/metrics", "samples_per_s", &r->samples_per_s);
    r->epochs_run = (int)epochs;
    r->steps = (long)steps;
    h5_close(H5Gclose, g, &st, path, "/metrics");
    return st;
}

/* Re-raise the last error (from another module) with the file name in front. */
static CbStatus prefix_error(CbStatus st, const char *path)
{
    char msg[1024], hint[512];
    snprintf(msg, sizeof msg, "%s", cb_err_msg());
    snprintf(hint, sizeof hint, "%s", cb_err_hint_msg());
    CB_ERR(st, "%s: %s", path, msg);
    if (hint[0]) cb_err_hint("%s", hint);
    return st;
}

static CbStatus read_model(hid_t f, const char *path, CbModel *m)
{
    char *schema = NULL, *act_name = NULL, *text = NULL;
    int64_t version = 0, depth = 0, bias = 0, init_known = 0;
    double beta = 0;
    CB_TRY(read_attr_str(f, path, "/", "schema", &schema));
    int ok = !strcmp(schema, CB_MODEL_SCHEMA);
    if (!ok) {
        CbStatus st = CB_ERR(CB_EFORMAT, "%s: schema is '%s', expected '%s' (not a cbound model file)", path, schema,
                             CB_MODEL_SCHEMA);
        free(schema);
        return st;
    }
    free(schema);
    CB_TRY(read_attr_i64(f, path, "/", "schema_version", &version));
    if (version != CB_MODEL_SCHEMA_VERSION) {
        CbStatus st = CB_ERR(CB_EFORMAT, "%s: model schema version %lld, this cbound reads version %d", path,
                             (long long)version, CB_MODEL_SCHEMA_VERSION);
        cb_err_hint("%s", version > CB_MODEL_SCHEMA_VERSION ? "the file is newer than this cbound; update cbound"
                                                            : "re-save the model with this cbound");
        return st;
    }
    CB_TRY(read_attr_i64(f, path, "/", "depth", &depth));
    if (depth < 1 || depth > CB_MODEL_MAX_DEPTH)
        return CB_ERR(CB_EFORMAT, "%s: depth attribute is %lld, expected 1 .. %d", path, (long long)depth,
                      CB_MODEL_MAX_DEPTH);
    CB_TRY(read_attr_i64(f, path, "/", "bias", &bias));
    if (bias != 0 && bias != 1) return CB_ERR(CB_EFORMAT, "%s: bias attribute is %lld, expected 0 or 1", path,
                                              (long long)bias);
    CB_TRY(read_attr_f64(f, path, "/", "beta", &beta));
    CB_TRY(read_attr_i64(f, path, "/", "init_known", &init_known));
    CB_TRY(read_attr_str(f, path, "/", "activation", &act_name));
    CbAct act;
    CbStatus st = cb_mlp_act_parse(act_name, &act);
    free(act_name);
    if (st != CB_OK) return prefix_error(CB_EFORMAT, path);

    size_t widths[CB_MODEL_MAX_DEPTH + 1];
    CB_TRY(read_shapes(f, path, (int)depth, widths));
    st = cb_mlp_alloc((int)depth, widths, act, beta, (int)bias, &m->mlp);
    if (st != CB_OK) return prefix_error(CB_EFORMAT, path);
    CB_TRY(read_params(f, path, m->mlp, "W", "b"));
    CB_TRY(check_hash(path, f, "content_hash", m->mlp, "parameters"));
    cb_model_hash(m->mlp, m->content_hash);
    if (init_known) {
        m->init = cb_mlp_clone(m->mlp);
        CB_TRY(read_params(f, path, m->init, "W_init", "b_init"));
        CB_TRY(check_hash(path, f, "init_hash", m->init, "initial parameters"));
    }
    CB_TRY(read_attr_str(f, path, "/", "dataset", &text));
    snprintf(m->dataset, sizeof m->dataset, "%s", text);
    free(text);
    CB_TRY(read_attr_str(f, path, "/", "train_config", &m->train_config));
    return read_metrics(f, path, &m->metrics);
}

CbStatus cb_model_load(const char *path, CbModel *m)
{
    memset(m, 0, sizeof *m);
    h5_quiet();
    struct stat sb;
    if (stat(path, &sb) != 0) {
        CbStatus st = CB_ERR(CB_EIO, "%s: cannot open model file: %s", path, strerror(errno));
        cb_err_hint("train one with `cbound train ... -o %s`", path);
        return st;
    }
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        CbStatus st = CB_ERR(CB_EFORMAT, "%s: not an HDF5 file (no HDF5 signature)", path);
        cb_err_hint("a cbound model file is written by `cbound train` or scripts/torch_interop.py export");
        return st;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        CbStatus st = h5_fail(path, "open", path);
        if (strstr(cb_err_msg(), "lock"))
            cb_err_hint("another process has the file open for writing (h5py 'r+'/'a'?); close it, or on file "
                        "systems without locks set HDF5_USE_FILE_LOCKING=FALSE");
        return st;
    }
    CbStatus st = read_model(f, path, m);
    if (H5Fclose(f) < 0 && st == CB_OK) st = h5_fail(path, "close", path);
    if (st != CB_OK) cb_model_free(m);
    return st;
}

CbStatus cb_model_read_curve(const char *path, double **curve, int *n)
{
    *curve = NULL;
    *n = 0;
    h5_quiet();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return CB_ERR(CB_EIO, "%s: cannot open model file (%s)", path, h5_detail());
    CbStatus st = CB_OK;
    if (H5Lexists(f, "curve", H5P_DEFAULT) > 0) {
        hid_t d = H5Dopen2(f, "curve", H5P_DEFAULT);
        hid_t sp = d < 0 ? -1 : H5Dget_space(d);
        hsize_t dims[2] = {0, 0};
        if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 2 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 ||
            dims[1] != 3 || dims[0] > 100000000) {
            st = CB_ERR(CB_EFORMAT, "%s: /curve: expected a (epochs, 3) float64 dataset", path);
        } else if (dims[0] > 0) {
            *curve = cb_malloc((size_t)dims[0] * 3 * sizeof **curve);
            if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *curve) < 0) {
                free(*curve);
                *curve = NULL;
                st = h5_fail(path, "read dataset", "/curve");
            } else {
                *n = (int)dims[0];
            }
        }
        if (sp >= 0) H5Sclose(sp);
        if (d >= 0) H5Dclose(d);
    }
    H5Fclose(f);
    return st;
}

/* ------------------------------------------------------------------ checksums and checkpoints */

/* CRC-32 and size of a whole file. */
static CbStatus file_crc(const char *path, uint32_t *crc, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return CB_ERR(CB_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char buf[1 << 16];
    uLong c = crc32(0L, Z_NULL, 0);
    uint64_t n = 0;
    for (size_t got; (got = fread(buf, 1, sizeof buf, f)) > 0; n += got) c = crc32(c, buf, (uInt)got);
    int err = ferror(f);
    fclose(f);
    if (err) return CB_ERR(CB_EIO, "%s: read error", path);
    *crc = (uint32_t)c;
    *size = n;
    return CB_OK;
}

/* Write `len` bytes to path atomically (tmp, fsync, rename). */
static CbStatus write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return CB_ERR(CB_EINVAL, "%.200s...: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return CB_ERR(CB_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            CbStatus st = CB_ERR(CB_EIO, "%s: write failed: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return st;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        CbStatus st = CB_ERR(CB_EIO, "%s: fsync failed: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return st;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        CbStatus st = CB_ERR(CB_EIO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        unlink(tmp);
        return st;
    }
    return CB_OK;
}

CbStatus cb_model_sum_write(const char *path)
{
    uint32_t crc;
    uint64_t size;
    CB_TRY(file_crc(path, &crc, &size));
    char sum[4200], line[64];
    snprintf(sum, sizeof sum, "%s.sum", path);
    int n = snprintf(line, sizeof line, "cbound-crc32 %08" PRIx32 " %" PRIu64 "\n", crc, size);
    return write_atomic(sum, line, (size_t)n);
}

CbStatus cb_model_sum_check(const char *path, int *checked)
{
    *checked = 0;
    char sum[4200], line[128] = "";
    snprintf(sum, sizeof sum, "%s.sum", path);
    FILE *f = fopen(sum, "r");
    if (!f) return errno == ENOENT ? CB_OK : CB_ERR(CB_EIO, "%s: cannot open: %s", sum, strerror(errno));
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    unsigned want_crc;
    unsigned long long want_size;
    if (!got || sscanf(line, "cbound-crc32 %8x %llu", &want_crc, &want_size) != 2)
        return CB_ERR(CB_EFORMAT, "%s: expected 'cbound-crc32 <hex> <size>', found '%.60s'", sum, line);
    uint32_t crc;
    uint64_t size;
    CB_TRY(file_crc(path, &crc, &size));
    *checked = 1;
    if (crc != want_crc || size != want_size)
        return CB_ERR(CB_EFORMAT, "%s: checksum mismatch: the file has CRC-32 %08" PRIx32 " and %" PRIu64
                      " bytes, its sidecar says %08x and %llu (the file changed or is damaged)",
                      path, crc, size, want_crc, want_size);
    return CB_OK;
}

#define CKPT_MAGIC "CBCKPT1\n"

CbStatus cb_model_checkpoint_save(const char *path, uint64_t id, const CbTrainState *st)
{
    /* after the state, optionally: u32 n_curve, then (n_curve, 3) float64 curve rows */
    uint32_t nc = st->curve && st->n_curve > 0 ? (uint32_t)st->n_curve : 0;
    size_t n = st->n_params, len = 8 + 8 + 8 + 8 + 8 + 8 + 8 + 8 + 8 + 8 +
                                   n * sizeof(float) * (1 + (st->s1 != NULL) + (st->s2 != NULL)) + 4 +
                                   (nc ? 4 + 3 * sizeof(double) * nc : 0);
    unsigned char *b = cb_malloc(len), *p = b;
#define PUTV(v)                                                                                     \
    do {                                                                                           \
        memcpy(p, &(v), sizeof(v));                                                                \
        p += sizeof(v);                                                                            \
    } while (0)
    memcpy(p, CKPT_MAGIC, 8);
    p += 8;
    int32_t epoch = st->epoch, zero = 0;
    uint64_t next = st->next, correct = st->correct, np = n;
    int64_t step = st->step;
    uint32_t h1 = st->s1 != NULL, h2 = st->s2 != NULL;
    PUTV(id);
    PUTV(epoch);
    PUTV(zero);
    PUTV(next);
    PUTV(step);
    PUTV(st->loss_sum);
    PUTV(correct);
    PUTV(st->last_loss);
    PUTV(np);
    PUTV(h1);
    PUTV(h2);
#undef PUTV
    memcpy(p, st->params, n * sizeof(float));
    p += n * sizeof(float);
    if (h1) memcpy(p, st->s1, n * sizeof(float)), p += n * sizeof(float);
    if (h2) memcpy(p, st->s2, n * sizeof(float)), p += n * sizeof(float);
    if (nc) {
        memcpy(p, &nc, 4);
        memcpy(p + 4, st->curve, 3 * sizeof(double) * nc);
        p += 4 + 3 * sizeof(double) * nc;
    }
    uint32_t crc = (uint32_t)crc32(0L, b, (uInt)(p - b));
    memcpy(p, &crc, 4);
    p += 4;
    CbStatus s = write_atomic(path, b, (size_t)(p - b));
    free(b);
    return s;
}

CbStatus cb_model_checkpoint_load(const char *path, uint64_t id, CbTrainState *st)
{
    memset(st, 0, sizeof *st);
    FILE *f = fopen(path, "rb");
    if (!f) return CB_ERR(CB_EIO, "%s: cannot open: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    const size_t head = 8 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 8 + 4 + 4;
    if (size < (long)(head + 4)) {
        fclose(f);
        return CB_ERR(CB_EFORMAT, "%s: expected a training checkpoint of at least %zu bytes, found %ld", path,
                      head + 4, size);
    }
    unsigned char *b = cb_malloc((size_t)size);
    size_t got = fread(b, 1, (size_t)size, f);
    fclose(f);
    CbStatus s = CB_OK;
    uint32_t crc;
    memcpy(&crc, b + size - 4, 4);
    if (got != (size_t)size || memcmp(b, CKPT_MAGIC, 8))
        s = CB_ERR(CB_EFORMAT, "%s: expected a cbound training checkpoint (CBCKPT1)", path);
    else if ((uint32_t)crc32(0L, b, (uInt)(size - 4)) != crc)
        s = CB_ERR(CB_EFORMAT, "%s: checksum mismatch (the checkpoint is damaged)", path);
    const unsigned char *p = b + 8;
#define GETV(v)                                                                                     \
    do {                                                                                           \
        memcpy(&(v), p, sizeof(v));                                                                \
        p += sizeof(v);                                                                            \
    } while (0)
    uint64_t fid = 0, next = 0, correct = 0, np = 0;
    int32_t epoch = 0, zero;
    int64_t step = 0;
    uint32_t h1 = 0, h2 = 0;
    if (s == CB_OK) {
        GETV(fid);
        GETV(epoch);
        GETV(zero);
        GETV(next);
        GETV(step);
        GETV(st->loss_sum);
        GETV(correct);
        GETV(st->last_loss);
        GETV(np);
        GETV(h1);
        GETV(h2);
        (void)zero;
        if (fid != id)
            s = CB_ERR(CB_EFORMAT, "%s: the checkpoint belongs to another run (id %016" PRIx64 ", expected %016" PRIx64 ")",
                       path, fid, id);
        else if (h1 > 1 || h2 > 1 || np == 0 || head + np * sizeof(float) * (1 + h1 + h2) + 4 > (uint64_t)size)
            s = CB_ERR(CB_EFORMAT, "%s: checkpoint sizes do not add up (%" PRIu64 " parameters, %ld bytes)", path, np,
                       size);
    }
#undef GETV
    if (s == CB_OK) {
        size_t n = (size_t)np;
        st->epoch = epoch;
        st->next = (size_t)next;
        st->step = step;
        st->correct = (size_t)correct;
        st->n_params = n;
        st->params = cb_malloc(n * sizeof(float));
        memcpy(st->params, p, n * sizeof(float));
        p += n * sizeof(float);
        if (h1) {
            st->s1 = cb_malloc(n * sizeof(float));
            memcpy(st->s1, p, n * sizeof(float));
            p += n * sizeof(float);
        }
        if (h2) {
            st->s2 = cb_malloc(n * sizeof(float));
            memcpy(st->s2, p, n * sizeof(float));
            p += n * sizeof(float);
        }
        /* the learning curve's finished epochs (absent in older checkpoints) */
        size_t rest = (size_t)(b + size - 4 - p);
        uint32_t nc = 0;
        if (rest >= 4) memcpy(&nc, p, 4);
        if (rest != 0 && (rest < 4 || rest != 4 + 3 * sizeof(double) * (size_t)nc)) {
            s = CB_ERR(CB_EFORMAT, "%s: checkpoint sizes do not add up (%" PRIu64 " parameters, %ld bytes)", path,
                       np, size);
            cb_train_state_free(st);
        } else if (nc) {
            st->n_curve = (int)nc;
            st->curve = cb_malloc(3 * sizeof(double) * nc);
            memcpy(st->curve, p + 4, 3 * sizeof(double) * nc);
        }
    }
    free(b);
    return s;
}
