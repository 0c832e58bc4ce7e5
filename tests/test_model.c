/*
 * Tests for model: save/load round trip (bit-identical parameters), atomic write,
 * every validation error of cb_model_load triggered on purpose by corrupting a
 * valid file with the HDF5 API (schema, version, missing objects, shapes, types,
 * NaN/Inf at a known (layer, row, col), hash mismatch, non-HDF5 and missing
 * files), the content hash against an independent byte-by-byte FNV-1a, and the
 * training-stage spec text (round trip, key rules, parse errors).
 */
#include "cbound/model.h"
#include "check.h"
#include "helpers.h"

#include <dirent.h>
#include <hdf5.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static CbMlp *make_mlp(int depth, const size_t *widths, CbAct act, double beta, int bias, uint64_t seed)
{
    CbMlp *m = NULL;
    if (cb_mlp_alloc(depth, widths, act, beta, bias, &m) != CB_OK) CB_DIE("alloc: %s", cb_err_msg());
    cb_mlp_init(m, CB_INIT_GAUSSIAN, 2.385, seed, 77);
    if (bias) /* gaussian init leaves b = 0: give the biases high-entropy values too */
        for (int l = 0; l < depth; ++l)
            for (size_t i = 0; i < widths[l + 1]; ++i) m->b[l][i] = (float)(0.173 * (double)i - 0.61 * l + 0.0917);
    return m;
}

static void make_model(CbModel *m, int with_init)
{
    static const size_t widths[] = {7, 5, 4, 3};
    memset(m, 0, sizeof *m);
    m->mlp = make_mlp(3, widths, CB_ACT_SOFTPLUS, 2.5, 1, 11);
    m->init = with_init ? make_mlp(3, widths, CB_ACT_SOFTPLUS, 2.5, 1, 12) : NULL;
    snprintf(m->dataset, sizeof m->dataset, "gaussian: train 100 x 7, test 50");
    m->train_config = strdup("data: \"gaussian\"\nlr: 0.0123\n");
    m->metrics = (CbTrainResult){.train_loss = 0.4321, .train_acc = 0.875, .test_loss = 0.6543, .test_acc = 0.79,
                                 .epochs_run = 13, .steps = 1234, .seconds = 2.5, .samples_per_s = 4096.5};
}

static int count_tmp_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    if (!a || !b) CB_DIE("copy %s -> %s failed", from, to);
    char buf[65536];
    for (size_t n; (n = fread(buf, 1, sizeof buf, a)) > 0;) fwrite(buf, 1, n, b);
    fclose(a);
    fclose(b);
}

/* ------------------------------------------------------------------ corruptions */

typedef void (*Corrupt)(hid_t f);

static void set_i64_attr(hid_t loc, const char *name, int64_t v)
{
    H5Adelete(loc, name);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    H5Sclose(s);
}

static void set_str_attr(hid_t loc, const char *name, const char *v)
{
    H5Adelete(loc, name);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, v);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
}

/* Overwrite element (row, col) of a 2-D float dataset (or [row] of a vector when col < 0). */
static void poke(hid_t f, const char *obj, hsize_t row, long col, float v)
{
    hid_t d = H5Dopen2(f, obj, H5P_DEFAULT);
    hid_t s = H5Dget_space(d);
    hsize_t start[2] = {row, col < 0 ? 0 : (hsize_t)col}, one[2] = {1, 1};
    H5Sselect_hyperslab(s, H5S_SELECT_SET, start, NULL, one, NULL);
    hid_t ms = H5Screate_simple(col < 0 ? 1 : 2, one, NULL);
    if (col < 0) {
        hsize_t st1[1] = {row}, one1[1] = {1};
        H5Sselect_hyperslab(s, H5S_SELECT_SET, st1, NULL, one1, NULL);
    }
    H5Dwrite(d, H5T_NATIVE_FLOAT, ms, s, H5P_DEFAULT, &v);
    H5Sclose(ms);
    H5Sclose(s);
    H5Dclose(d);
}

static void replace_dset(hid_t f, const char *obj, hid_t ftype, int rank, hsize_t d0, hsize_t d1)
{
    H5Ldelete(f, obj, H5P_DEFAULT);
    hsize_t dims[2] = {d0, d1};
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, obj, ftype, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double *zeros = calloc(d0 * (d1 ? d1 : 1), sizeof *zeros);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros);
    free(zeros);
    H5Dclose(d);
    H5Sclose(s);
}

static void c_version(hid_t f) { set_i64_attr(f, "schema_version", 2); }
static void c_version_float(hid_t f)
{
    H5Adelete(f, "schema_version");
    double v = 1.0;
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "schema_version", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
    H5Sclose(s);
}
static void c_scalar_w(hid_t f)
{
    H5Ldelete(f, "layers/0/W", H5P_DEFAULT);
    float v = 2.385f;
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(f, "layers/0/W", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    H5Dclose(d);
    H5Sclose(s);
}
static void c_w_group(hid_t f)
{
    H5Ldelete(f, "layers/1/W", H5P_DEFAULT);
    H5Gclose(H5Gcreate2(f, "layers/1/W", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
}
static void c_schema(hid_t f) { set_str_attr(f, "schema", "keras-model"); }
static void c_no_schema(hid_t f) { H5Adelete(f, "schema"); }
static void c_missing_b(hid_t f) { H5Ldelete(f, "layers/1/b", H5P_DEFAULT); }
static void c_missing_winit(hid_t f) { H5Ldelete(f, "layers/2/W_init", H5P_DEFAULT); }
static void c_missing_layers(hid_t f) { H5Ldelete(f, "layers", H5P_DEFAULT); }
static void c_chain(hid_t f) { replace_dset(f, "layers/1/W", H5T_IEEE_F32LE, 2, 4, 6); }
static void c_bias_shape(hid_t f) { replace_dset(f, "layers/0/b", H5T_IEEE_F32LE, 1, 6, 0); }
static void c_rank(hid_t f) { replace_dset(f, "layers/0/b", H5T_IEEE_F32LE, 2, 5, 1); }
static void c_vector_w(hid_t f) { replace_dset(f, "layers/1/W", H5T_IEEE_F32LE, 1, 20, 0); }
static void c_empty_w(hid_t f) { replace_dset(f, "layers/2/W", H5T_IEEE_F32LE, 2, 0, 4); }
static void c_f64(hid_t f) { replace_dset(f, "layers/2/W", H5T_IEEE_F64LE, 2, 3, 4); }
static void c_nan(hid_t f) { poke(f, "layers/1/W", 2, 3, NAN); }
static void c_inf_binit(hid_t f) { poke(f, "layers/2/b_init", 1, -1, -INFINITY); }
static void c_value(hid_t f) { poke(f, "layers/0/W", 4, 6, 0.5f); }
static void c_init_value(hid_t f) { poke(f, "layers/0/W_init", 0, 0, 0.25f); }
static void c_depth(hid_t f) { set_i64_attr(f, "depth", 2); }
static void c_depth0(hid_t f) { set_i64_attr(f, "depth", 0); }
static void c_bias_attr(hid_t f) { set_i64_attr(f, "bias", 0); }
static void c_bias_2(hid_t f) { set_i64_attr(f, "bias", 2); }
static void c_act(hid_t f) { set_str_attr(f, "activation", "gelu"); }
static void c_act_type(hid_t f) { set_i64_attr(f, "activation", 3); }
static void c_no_act(hid_t f) { H5Adelete(f, "activation"); }
static void c_no_metrics(hid_t f) { H5Ldelete(f, "metrics", H5P_DEFAULT); }
static void c_metric(hid_t f)
{
    hid_t g = H5Gopen2(f, "metrics", H5P_DEFAULT);
    H5Adelete(g, "test_acc");
    H5Gclose(g);
}
static void c_widths(hid_t f)
{
    H5Adelete(f, "widths");
    uint64_t w[4] = {7, 5, 4, 9};
    hsize_t n = 4;
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(f, "widths", H5T_STD_U64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_UINT64, w);
    H5Aclose(a);
    H5Sclose(s);
}
static void c_widths_len(hid_t f)
{
    H5Adelete(f, "widths");
    uint64_t w[3] = {7, 5, 4};
    hsize_t n = 3;
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(f, "widths", H5T_STD_U64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_UINT64, w);
    H5Aclose(a);
    H5Sclose(s);
}

/* Corrupt a copy of `good`, load it, expect status `want` and every substring in `msgs`. */
static void expect_load_error(const char *good, const char *label, Corrupt c, CbStatus want, const char *msg1,
                              const char *msg2)
{
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad-%s.h5", dir, label);
    copy_file(good, bad);
    hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    c(f);
    H5Fclose(f);
    CbModel m;
    CbStatus st = cb_model_load(bad, &m);
    const char *msg = cb_err_msg();
    CHECK(st == want && strstr(msg, bad) && strstr(msg, msg1) && (!msg2 || strstr(msg, msg2)) && !m.mlp &&
              !m.init && !m.train_config,
          "load rejects %s: status '%s' (want '%s'): %s", label, cb_err_name(st), cb_err_name(want), msg);
    unlink(bad);
}

/* ------------------------------------------------------------------ independent hash */

/* FNV-1a byte by byte + splitmix64 finalizer, exactly as model.h documents, in one
 * pass per chunk written out here (not calling cb_rng_hash64). */
static uint64_t fnv_chunk(const unsigned char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static void ref_hash(const CbMlp *m, char out[17])
{
    unsigned char head[8 * (CB_MODEL_MAX_DEPTH + 3)];
    size_t n = 0;
    uint64_t vals[CB_MODEL_MAX_DEPTH + 3];
    int nv = 0;
    vals[nv++] = (uint64_t)m->depth;
    for (int l = 0; l <= m->depth; ++l) vals[nv++] = m->widths[l];
    vals[nv++] = (uint64_t)m->bias;
    for (int i = 0; i < nv; ++i)
        for (int k = 0; k < 8; ++k) head[n++] = (unsigned char)(vals[i] >> (8 * k));
    uint64_t h = fnv_chunk(head, n, 0xcbf29ce484222325ULL);
    for (int l = 0; l < m->depth; ++l) {
        h = fnv_chunk((const unsigned char *)m->W[l], m->widths[l] * m->widths[l + 1] * 4, h);
        if (m->bias) h = fnv_chunk((const unsigned char *)m->b[l], m->widths[l + 1] * 4, h);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    helper_tmpdir(dir, sizeof dir, "model");
    char good[128];
    snprintf(good, sizeof good, "%s/good.h5", dir);

    /* Round trip: bit-identical parameters and initial parameters, metadata kept. */
    {
        CbModel a, b;
        make_model(&a, 1);
        CbStatus st = cb_model_save(good, &a);
        CHECK(st == CB_OK, "save %s: %s", good, cb_err_msg());
        CHECK(count_tmp_files() == 0, "no PATH.tmp.<pid> left after a successful save");
        st = cb_model_load(good, &b);
        CHECK(st == CB_OK, "load %s: %s", good, cb_err_msg());
        if (st == CB_OK) {
            CHECK(b.mlp->n_params == a.mlp->n_params &&
                      !memcmp(b.mlp->params, a.mlp->params, a.mlp->n_params * sizeof(float)),
                  "parameters bit-identical after round trip (%zu floats)", a.mlp->n_params);
            CHECK(b.init && !memcmp(b.init->params, a.init->params, a.init->n_params * sizeof(float)),
                  "initial parameters bit-identical after round trip");
            CHECK(b.mlp->depth == 3 && b.mlp->widths[0] == 7 && b.mlp->widths[3] == 3 && b.mlp->bias == 1 &&
                      b.mlp->act == CB_ACT_SOFTPLUS && b.mlp->beta == 2.5,
                  "shape, activation softplus, beta 2.5, bias kept");
            CHECK(!strcmp(b.dataset, a.dataset) && !strcmp(b.train_config, a.train_config),
                  "dataset and train_config kept");
            CHECK(!memcmp(&b.metrics, &a.metrics, sizeof a.metrics), "metrics kept exactly");
            char h[17];
            cb_model_hash(a.mlp, h);
            CHECK(!strcmp(b.content_hash, h), "loaded content_hash = hash of the saved network (%s)", h);
        }
        cb_model_free(&b);
        cb_model_free(&a);
    }

    /* Content hash: equals the independent byte-by-byte computation; one flipped bit changes it. */
    {
        CbModel a;
        make_model(&a, 0);
        char h1[17], h2[17], ref[17];
        cb_model_hash(a.mlp, h1);
        ref_hash(a.mlp, ref);
        CHECK(!strcmp(h1, ref), "content hash %s = independent FNV-1a/splitmix64 computation %s", h1, ref);
        uint32_t bits;
        memcpy(&bits, &a.mlp->W[2][5], 4);
        bits ^= 1u;
        memcpy(&a.mlp->W[2][5], &bits, 4);
        cb_model_hash(a.mlp, h2);
        CHECK(strcmp(h1, h2) != 0, "flipping the lowest bit of W_2[1,1] changes the hash (%s -> %s)", h1, h2);

        /* No initial weights: the file says so and load returns init = NULL. */
        char p[128];
        snprintf(p, sizeof p, "%s/noinit.h5", dir);
        CbModel b;
        CbStatus st = cb_model_save(p, &a);
        st = st == CB_OK ? cb_model_load(p, &b) : st;
        CHECK(st == CB_OK && b.init == NULL, "model without initial weights loads with init = NULL (%s)",
              cb_err_msg());
        if (st == CB_OK) cb_model_free(&b);
        cb_model_free(&a);
    }

    /* No-bias identity network round trip, and overwrite of an existing file by save. */
    {
        static const size_t w[] = {3, 2};
        CbModel a = {0}, b;
        a.mlp = make_mlp(1, w, CB_ACT_IDENTITY, 1.0, 0, 5);
        char p[128];
        snprintf(p, sizeof p, "%s/nobias.h5", dir);
        CbStatus st = cb_model_save(p, &a);
        st = st == CB_OK ? cb_model_save(p, &a) : st;
        st = st == CB_OK ? cb_model_load(p, &b) : st;
        CHECK(st == CB_OK && !b.mlp->bias && b.mlp->b[0] == NULL &&
                  !memcmp(b.mlp->params, a.mlp->params, 6 * sizeof(float)) && b.train_config &&
                  !b.train_config[0],
              "bias-free depth-1 model round trip (%s)", cb_err_msg());
        if (st == CB_OK) cb_model_free(&b);
        cb_model_free(&a);
    }

    /* Every validation error. */
    expect_load_error(good, "version", c_version, CB_EFORMAT, "schema version 2", "reads version 1");
    expect_load_error(good, "version-float", c_version_float, CB_EFORMAT,
                      "attribute 'schema_version' of /: expected an integer", NULL);
    expect_load_error(good, "scalar-W", c_scalar_w, CB_EFORMAT, "/layers/0/W has rank 0", NULL);
    expect_load_error(good, "vector-W", c_vector_w, CB_EFORMAT, "/layers/1/W has rank 1 (expected 2", NULL);
    expect_load_error(good, "empty-W", c_empty_w, CB_EFORMAT, "/layers/2/W has an empty shape (0, 4)", NULL);
    expect_load_error(good, "W-group", c_w_group, CB_EHDF5, "HDF5 failed to open dataset 'layers/1/W'", NULL);
    expect_load_error(good, "schema", c_schema, CB_EFORMAT, "'keras-model'", "expected 'cbound-model'");
    expect_load_error(good, "no-schema", c_no_schema, CB_EFORMAT, "no attribute 'schema'", NULL);
    expect_load_error(good, "missing-b", c_missing_b, CB_EFORMAT, "/layers/1/b is missing", NULL);
    expect_load_error(good, "missing-winit", c_missing_winit, CB_EFORMAT, "/layers/2/W_init is missing", NULL);
    expect_load_error(good, "missing-layers", c_missing_layers, CB_EFORMAT, "group /layers is missing", NULL);
    expect_load_error(good, "chain", c_chain, CB_EFORMAT, "/layers/1/W has shape (4, 6)", "expected d_in = 5");
    expect_load_error(good, "bias-shape", c_bias_shape, CB_EFORMAT, "/layers/0/b has shape (6), expected (5)",
                      NULL);
    expect_load_error(good, "rank", c_rank, CB_EFORMAT, "/layers/0/b has shape (5, 1), expected (5)", NULL);
    expect_load_error(good, "float64", c_f64, CB_EFORMAT, "/layers/2/W: expected float32", "8 bytes");
    expect_load_error(good, "nan", c_nan, CB_ENUMERIC, "layer 1: W[2, 3] is nan", NULL);
    expect_load_error(good, "inf", c_inf_binit, CB_ENUMERIC, "layer 2: b_init[1] is -inf", NULL);
    expect_load_error(good, "hash", c_value, CB_EFORMAT, "parameters hash mismatch", NULL);
    expect_load_error(good, "init-hash", c_init_value, CB_EFORMAT, "initial parameters hash mismatch", NULL);
    expect_load_error(good, "depth", c_depth, CB_EFORMAT, "/layers has 3 entries but the depth attribute is 2",
                      NULL);
    expect_load_error(good, "depth0", c_depth0, CB_EFORMAT, "depth attribute is 0", NULL);
    expect_load_error(good, "bias-attr", c_bias_attr, CB_EFORMAT, "bias attribute is 0 but /layers/0/b exists",
                      NULL);
    expect_load_error(good, "bias-2", c_bias_2, CB_EFORMAT, "bias attribute is 2", NULL);
    expect_load_error(good, "activation", c_act, CB_EFORMAT, "'gelu'", NULL);
    expect_load_error(good, "activation-type", c_act_type, CB_EFORMAT, "attribute 'activation' of /: expected a string", NULL);
    expect_load_error(good, "no-activation", c_no_act, CB_EFORMAT, "no attribute 'activation'", NULL);
    expect_load_error(good, "no-metrics", c_no_metrics, CB_EFORMAT, "group /metrics is missing", NULL);
    expect_load_error(good, "metric", c_metric, CB_EFORMAT, "/metrics has no attribute 'test_acc'", NULL);
    expect_load_error(good, "widths", c_widths, CB_EFORMAT, "widths[3] = 9, the datasets say 3", NULL);
    expect_load_error(good, "widths-len", c_widths_len, CB_EFORMAT, "attribute 'widths' of /: expected 4 value(s), found 3", NULL);

    /* Not an HDF5 file; a missing file. */
    {
        char p[128];
        snprintf(p, sizeof p, "%s/text.h5", dir);
        FILE *f = fopen(p, "w");
        fputs("this is not HDF5\n", f);
        fclose(f);
        CbModel m;
        CbStatus st = cb_model_load(p, &m);
        CHECK(st == CB_EFORMAT && strstr(cb_err_msg(), p) && strstr(cb_err_msg(), "not an HDF5 file"),
              "non-HDF5 file rejected: %s", cb_err_msg());
        snprintf(p, sizeof p, "%s/absent.h5", dir);
        st = cb_model_load(p, &m);
        CHECK(st == CB_EIO && strstr(cb_err_msg(), p) && strstr(cb_err_msg(), "No such file") &&
                  strstr(cb_err_hint_msg(), "cbound train"),
              "missing file: %s (hint: %s)", cb_err_msg(), cb_err_hint_msg());
        /* An HDF5 file that is not a model (no attributes at all). */
        snprintf(p, sizeof p, "%s/empty.h5", dir);
        hid_t h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        H5Fclose(h);
        st = cb_model_load(p, &m);
        CHECK(st == CB_EFORMAT && strstr(cb_err_msg(), "no attribute 'schema'"), "empty HDF5 file: %s",
              cb_err_msg());
    }

    /* Save errors: unwritable directory (nothing left behind), init of another shape. */
    {
        CbModel a;
        make_model(&a, 1);
        char p[128];
        snprintf(p, sizeof p, "%s/no/such/dir/m.h5", dir);
        CbStatus st = cb_model_save(p, &a);
        CHECK(st == CB_EIO && strstr(cb_err_msg(), "cannot create model file"), "save into a missing directory: %s",
              cb_err_msg());
        static const size_t w2[] = {7, 5, 4, 2};
        cb_mlp_free(a.init);
        a.init = make_mlp(3, w2, CB_ACT_SOFTPLUS, 2.5, 1, 1);
        snprintf(p, sizeof p, "%s/shape.h5", dir);
        st = cb_model_save(p, &a);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "different shape") && access(p, F_OK) != 0,
              "save refuses initial weights of another shape: %s", cb_err_msg());
        /* The final rename fails when PATH is a directory: error, and the temp file is removed. */
        snprintf(p, sizeof p, "%s/adir.h5", dir);
        mkdir(p, 0700);
        cb_mlp_free(a.init);
        a.init = NULL;
        st = cb_model_save(p, &a);
        CHECK(st == CB_EIO && strstr(cb_err_msg(), "cannot rename") && count_tmp_files() == 0,
              "save onto a directory fails at the rename and leaves no temp file: %s", cb_err_msg());
        rmdir(p);
        char longp[5000];
        memset(longp, 'a', sizeof longp - 1);
        longp[sizeof longp - 1] = '\0';
        st = cb_model_save(longp, &a);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "model path too long"), "save refuses a 4999-character path");
        {
            size_t w1[CB_MODEL_MAX_DEPTH + 2];
            for (int l = 0; l < CB_MODEL_MAX_DEPTH + 2; ++l) w1[l] = 2;
            CbModel deep = {0};
            deep.mlp = make_mlp(CB_MODEL_MAX_DEPTH + 1, w1, CB_ACT_RELU, 1.0, 0, 3);
            snprintf(p, sizeof p, "%s/deep.h5", dir);
            st = cb_model_save(p, &deep);
            CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "depth 65 exceeds the format's maximum 64"),
                  "save refuses depth 65: %s", cb_err_msg());
            cb_model_free(&deep);
        }
        CbModel none = {0};
        st = cb_model_save(p, &none);
        CHECK(st == CB_EINVAL, "save refuses a model without network: %s", cb_err_msg());
        CHECK(count_tmp_files() == 0, "no PATH.tmp.<pid> left after failed saves");
        cb_model_free(&a);
    }

    /* Spec text: full round trip, canonical-key rules, parse errors. */
    {
        CbTrainSpec s, t;
        cb_model_spec_default(&s);
        char *canon = cb_model_spec_text(&s, 0);
        CHECK(canon[0] == '\0', "canonical text of the default spec is empty ('%s')", canon);
        free(canon);
        uint64_t k0 = cb_model_spec_key(&s);
        snprintf(s.data.kind, sizeof s.data.kind, "gaussian");
        snprintf(s.data.path, sizeof s.data.path, "/data/with \"quotes\" and \\ back");
        s.data.n_train = 1234;
        s.depth = 3;
        s.widths[0] = 20; s.widths[1] = 17; s.widths[2] = 9; s.widths[3] = 4;
        s.act = CB_ACT_SOFTPLUS;
        s.beta = 2.385;
        s.init = CB_INIT_GAUSSIAN;
        s.sigma = 1.4142;
        s.train.opt = CB_OPT_ADAM;
        s.train.lr = 0.00123;
        s.train.n_drops = 2;
        s.train.drop_epochs[0] = 30;
        s.train.drop_epochs[1] = 60;
        s.train.seed = 987654321987ULL;
        char *full = cb_model_spec_text(&s, 1);
        CbStatus st = cb_model_spec_parse(full, "full", &t);
        char *again = st == CB_OK ? cb_model_spec_text(&t, 1) : strdup("");
        CHECK(st == CB_OK && !strcmp(full, again), "full text -> spec -> full text is the identity (%s)",
              cb_err_msg());
        CHECK(t.depth == 3 && t.widths[2] == 9 && t.beta == 2.385 && t.train.seed == 987654321987ULL &&
                  !strcmp(t.data.path, s.data.path) && t.train.drop_epochs[1] == 60 && t.train.opt == CB_OPT_ADAM,
              "parsed fields equal the original");
        free(again);
        uint64_t k1 = cb_model_spec_key(&s);
        CHECK(k1 != k0, "non-default settings change the key");
        s.train.seed = 5;
        snprintf(s.data.path, sizeof s.data.path, "/elsewhere");
        s.train.quiet = 1;
        CHECK(cb_model_spec_key(&s) == k1, "seed, data path and quiet do not change the key");
        s.train.lr = 0.00124;
        CHECK(cb_model_spec_key(&s) != k1, "learning rate changes the key");
        char *canon2 = cb_model_spec_text(&s, 0);
        CHECK(!strstr(canon2, "seed: ") && !strstr(canon2, "data_path") && strstr(canon2, "lr: 0.00124\n") &&
                  !strstr(canon2, "momentum"),
              "canonical text omits unkeyed and default fields, keeps lr");
        CbTrainSpec u;
        st = cb_model_spec_parse(canon2, "canon", &u);
        CHECK(st == CB_OK && cb_model_spec_key(&u) == cb_model_spec_key(&s),
              "canonical text parses back to a spec with the same key");
        free(canon2);
        free(full);

        st = cb_model_spec_parse("lr: 0.1\nlearning_rate: 0.2\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "cfg:2: unknown training setting 'learning_rate'"),
              "unknown key: %s", cb_err_msg());
        st = cb_model_spec_parse("epochs: ten\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "cfg:1: epochs: expected a non-negative integer, found 'ten'"),
              "bad integer: %s", cb_err_msg());
        st = cb_model_spec_parse("widths: [784]\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "widths: expected a list"), "one width: %s", cb_err_msg());
        st = cb_model_spec_parse("opt: rmsprop\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "expected sgd or adam"), "bad optimizer: %s", cb_err_msg());
        st = cb_model_spec_parse("just text\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "expected 'key: value'"), "malformed line: %s",
              cb_err_msg());
        st = cb_model_spec_parse("data: gaussian\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "expected a quoted string"), "unquoted string: %s",
              cb_err_msg());
        st = cb_model_spec_parse("lr: fast\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "lr: expected a number"), "bad number: %s", cb_err_msg());
        st = cb_model_spec_parse("activation: gelu\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "expected relu"), "bad activation: %s", cb_err_msg());
        st = cb_model_spec_parse("scale: huge\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "expected none, unit"), "bad scale: %s", cb_err_msg());
        char longline[4000];
        memset(longline, 'x', sizeof longline - 1);
        longline[sizeof longline - 1] = '\0';
        st = cb_model_spec_parse(longline, "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "cfg:1: line too long"), "overlong line: %s", cb_err_msg());
        st = cb_model_spec_parse("data_target: \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n",
                                 "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "data_target: expected a shorter string"),
              "string longer than its field: %s", cb_err_msg());
        st = cb_model_spec_parse("drops: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n", "cfg", &t);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "at most 8 epochs"), "too many drops: %s", cb_err_msg());
    }

    /* Training stage on Gaussian-teacher data: same settings + seed -> same bytes;
     * another seed -> other bytes; resolve checks widths against the data. */
    {
        CbTrainSpec s;
        cb_model_spec_default(&s);
        snprintf(s.data.kind, sizeof s.data.kind, "gaussian");
        s.data.dim = 12;
        s.data.teacher_width = 8;
        s.data.n_classes = 3;
        s.data.n_train = 200;
        s.data.n_test = 100;
        s.data.seed = 4;
        s.depth = 2;
        s.widths[0] = 0;
        s.widths[1] = 9;
        s.widths[2] = 0;
        s.train.epochs = 3;
        s.train.batch = 32;
        s.train.lr = 0.05;
        s.train.quiet = 1;
        s.train.seed = 7;
        CbData tr = {0}, te = {0};
        CbStatus st = cb_data_load(&s.data, &tr, &te);
        CHECK(st == CB_OK, "gaussian data load: %s", cb_err_msg());
        CbTrainSpec bad = s;
        bad.widths[0] = 13;
        st = cb_model_spec_resolve(&bad, &tr);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "input width 13 does not match") &&
                  strstr(cb_err_msg(), "12 features"),
              "resolve rejects a wrong input width: %s", cb_err_msg());
        bad = s;
        bad.widths[2] = 4;
        st = cb_model_spec_resolve(&bad, &tr);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "output width 4") && strstr(cb_err_msg(), "3 classes"),
              "resolve rejects a wrong output width: %s", cb_err_msg());
        bad = s;
        bad.widths[1] = 0;
        st = cb_model_spec_resolve(&bad, &tr);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "hidden width 1 is 0"), "resolve rejects width 0: %s",
              cb_err_msg());
        bad = s;
        bad.depth = 0;
        st = cb_model_spec_resolve(&bad, &tr);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "depth must be"), "resolve rejects depth 0: %s", cb_err_msg());
        CbModel a, b, c;
        st = cb_model_train(&s, &tr, &te, &a);
        CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "not resolved"), "cb_model_train wants a resolved spec: %s",
              cb_err_msg());
        st = cb_model_spec_resolve(&s, &tr);
        CHECK(st == CB_OK && s.widths[0] == 12 && s.widths[2] == 3, "resolve fills widths 12-9-3 from the data");
        st = cb_model_train(&s, &tr, &te, &a);
        CbStatus st2 = cb_model_train(&s, &tr, &te, &b);
        s.train.seed = 8;
        CbStatus st3 = cb_model_train(&s, &tr, &te, &c);
        CHECK(st == CB_OK && st2 == CB_OK && st3 == CB_OK, "three trainings succeed (%s)", cb_err_msg());
        if (st == CB_OK && st2 == CB_OK && st3 == CB_OK) {
            CHECK(!memcmp(a.mlp->params, b.mlp->params, a.mlp->n_params * sizeof(float)) &&
                      !strcmp(a.content_hash, b.content_hash),
                  "same settings and seed -> bit-identical model (%s)", a.content_hash);
            CHECK(strcmp(a.content_hash, c.content_hash) != 0, "another seed -> another model (%s vs %s)",
                  a.content_hash, c.content_hash);
            CHECK(memcmp(a.mlp->params, a.init->params, a.mlp->n_params * sizeof(float)) != 0 &&
                      a.metrics.epochs_run == 3 && a.metrics.train_acc > 0.34,
                  "training moved the weights away from init; 3 epochs, train acc %.3f", a.metrics.train_acc);
            CbTrainSpec back;
            st = cb_model_spec_parse(a.train_config, "train_config", &back);
            CHECK(st == CB_OK && back.train.seed == 7 && back.widths[1] == 9 && back.data.dim == 12 &&
                      !strcmp(back.data.kind, "gaussian"),
                  "the stored train_config parses back to the settings (%s)", cb_err_msg());
            char p[128];
            snprintf(p, sizeof p, "%s/trained.h5", dir);
            CbModel d;
            st = cb_model_save(p, &a);
            st = st == CB_OK ? cb_model_load(p, &d) : st;
            CHECK(st == CB_OK && !strcmp(d.content_hash, a.content_hash) && d.metrics.test_acc == a.metrics.test_acc,
                  "trained model round trip (%s)", cb_err_msg());
            if (st == CB_OK) cb_model_free(&d);
            unlink(p);
        }
        cb_model_free(&a);
        cb_model_free(&b);
        cb_model_free(&c);
        cb_data_free(&tr);
        cb_data_free(&te);
    }

    /* Clean up the temp dir (only files this test made). */
    {
        char p[128];
        const char *names[] = {"good.h5", "noinit.h5", "nobias.h5", "text.h5", "empty.h5"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
            snprintf(p, sizeof p, "%s/%s", dir, names[i]);
            unlink(p);
        }
        CHECK(rmdir(dir) == 0, "temp dir %s empty at the end (nothing left behind)", dir);
    }
    return check_end("model");
}
