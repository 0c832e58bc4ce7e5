/*
 * model_cli — `cbound info MODEL.h5`: what a model file holds, and per-layer
 * norms: ‖W‖_F, ‖W‖_2 (largest singular value, LAPACKE_dgesdd on a double copy —
 * exact to rounding, fine for a summary; the certified fast path lives in the
 * measurements module), ‖W − W_init‖_F, max |w|, nonzeros.
 *   --eval           recompute loss and accuracy on the data set named in the
 *                    file's training config (cb_data_load + cb_train_eval)
 *   --forward IN OUT read float32 inputs IN:/x (n, d_in), write the network's
 *                    outputs to OUT:/logits (n, d_out) — used by the PyTorch
 *                    interop test to compare logits.
 */
#include "cbound/cli.h"
#include "cbound/model.h"

#include <getopt.h>
#include <hdf5.h>
#include <lapacke.h>
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ summary */

static double spectral_norm(const float *W, size_t rows, size_t cols)
{
    double *a = cb_malloc(rows * cols * sizeof *a);
    size_t k = rows < cols ? rows : cols;
    double *s = cb_malloc(k * sizeof *s);
    for (size_t i = 0; i < rows * cols; ++i) a[i] = W[i];
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)rows, (lapack_int)cols, a, (lapack_int)cols,
                                     s, NULL, 1, NULL, (lapack_int)cols); /* row-major LAPACKE wants ldvt >= cols even for 'N' */
    double r = info == 0 ? s[0] : NAN;
    free(a);
    free(s);
    return r;
}

void cb_model_print(const CbModel *m, const char *path, FILE *out)
{
    const CbMlp *w = m->mlp;
    char shape[1024];
    size_t n = 0;
    for (int l = 0; l <= w->depth && n < sizeof shape; ++l)
        n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%zu", l ? "-" : "", w->widths[l]);
    size_t n_weights = 0;
    for (int l = 0; l < w->depth; ++l) n_weights += w->widths[l] * w->widths[l + 1];
    fprintf(out, "model      %s\n", path);
    fprintf(out, "network    %s, %s", shape, cb_mlp_act_name(w->act));
    if (w->act == CB_ACT_SOFTPLUS) fprintf(out, " (beta %g)", w->beta);
    fprintf(out, ", %s; %zu parameters (%zu weights, %zu biases)\n", w->bias ? "bias" : "no bias", w->n_params,
            n_weights, w->n_params - n_weights);
    fprintf(out, "data set   %s\n", m->dataset[0] ? m->dataset : "(unknown)");
    const CbTrainResult *r = &m->metrics;
    if (isnan(r->train_loss) && isnan(r->test_loss))
        fprintf(out, "metrics    unknown (the file records none, e.g. a model imported from PyTorch)\n");
    else
        fprintf(out, "metrics    train loss %.5f acc %.4f | test loss %.5f acc %.4f\n", r->train_loss, r->train_acc,
                r->test_loss, r->test_acc);
    if (r->epochs_run >= 0)
        fprintf(out, "training   %d epochs, %ld steps, %.1f s, %.0f samples/s\n", r->epochs_run, r->steps, r->seconds,
                r->samples_per_s);
    fprintf(out, "hash       %s   initial weights: %s\n", m->content_hash,
            m->init ? "stored" : "unknown (distances from init not available)");
    fprintf(out, "\n%5s %13s %10s %11s %11s %11s %11s %10s %9s\n", "layer", "shape", "params", "||W||_F", "||W||_2",
            "||W-W0||_F", "max|w|", "nonzeros", "||b||_2");
    for (int l = 0; l < w->depth; ++l) {
        size_t wo = w->widths[l + 1], wi = w->widths[l], nnz = 0;
        double fro = 0, dfro = 0, mx = 0, bn = 0;
        for (size_t i = 0; i < wo * wi; ++i) {
            double v = w->W[l][i];
            fro += v * v;
            mx = fmax(mx, fabs(v));
            nnz += v != 0;
            if (m->init) {
                double d = v - (double)m->init->W[l][i];
                dfro += d * d;
            }
        }
        for (size_t i = 0; w->bias && i < wo; ++i) bn += (double)w->b[l][i] * w->b[l][i];
        char sh[48], dist[24], bias[24];
        snprintf(sh, sizeof sh, "%zu x %zu", wo, wi);
        if (m->init) snprintf(dist, sizeof dist, "%.6g", sqrt(dfro));
        else snprintf(dist, sizeof dist, "-");
        if (w->bias) snprintf(bias, sizeof bias, "%.4g", sqrt(bn));
        else snprintf(bias, sizeof bias, "-");
        fprintf(out, "%5d %13s %10zu %11.6g %11.6g %11s %11.6g %10zu %9s\n", l, sh, wo * wi + (w->bias ? wo : 0),
                sqrt(fro), spectral_norm(w->W[l], wo, wi), dist, mx, nnz, bias);
    }
    if (m->train_config && m->train_config[0]) {
        fprintf(out, "\ntraining config:\n");
        for (const char *p = m->train_config; *p;) {
            const char *e = strchr(p, '\n');
            int len = e ? (int)(e - p) : (int)strlen(p);
            fprintf(out, "  %.*s\n", len, p);
            p += len + (e ? 1 : 0);
        }
    }
}

/* ------------------------------------------------------------------ --eval */

static CbStatus eval_model(const CbModel *m, const char *path, const char *data_kind, const char *data_path)
{
    CbTrainSpec s;
    if (data_kind) { /* the data given on the command line (models imported from PyTorch name none) */
        cb_model_spec_default(&s);
        if (strlen(data_kind) >= sizeof s.data.kind) return CB_ERR(CB_EINVAL, "--data.kind: '%s' is too long", data_kind);
        snprintf(s.data.kind, sizeof s.data.kind, "%s", data_kind);
    } else if (!m->train_config || !m->train_config[0]) {
        CbStatus st = CB_ERR(CB_EINVAL, "%s: the file names no training data (empty train_config)", path);
        cb_err_hint("give the data: --data.kind KIND [--data.path PATH] (models imported from PyTorch carry "
                    "no data settings)");
        return st;
    } else {
        CB_TRY(cb_model_spec_parse(m->train_config, path, &s));
    }
    if (data_path) snprintf(s.data.path, sizeof s.data.path, "%s", data_path);
    CbData train = {0}, test = {0};
    CB_TRY(cb_data_load(&s.data, &train, &test));
    double tl = NAN, ta = NAN, sl = NAN, sa = NAN;
    CbStatus st = train.d != m->mlp->widths[0]
                      ? CB_ERR(CB_EINVAL, "%s: data %s has %zu features, the network expects %zu", path, train.name,
                               train.d, m->mlp->widths[0])
                      : cb_train_eval(m->mlp, s.train.loss, &train, &tl, &ta, NULL);
    if (st == CB_OK) st = cb_train_eval(m->mlp, s.train.loss, &test, &sl, &sa, NULL);
    if (st == CB_OK) {
        printf("\nrecomputed on %s (%zu) / %s (%zu):\n", train.name, train.n, test.name, test.n);
        printf("  train loss %.6f acc %.4f   (file: %.6f, %.4f)\n", tl, ta, m->metrics.train_loss,
               m->metrics.train_acc);
        printf("  test  loss %.6f acc %.4f   (file: %.6f, %.4f)\n", sl, sa, m->metrics.test_loss,
               m->metrics.test_acc);
    }
    cb_data_free(&train);
    cb_data_free(&test);
    return st;
}

/* ------------------------------------------------------------------ --forward */

static CbStatus forward_file(const CbMlp *w, const char *in, const char *out)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(in, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return CB_ERR(CB_EIO, "%s: cannot open as HDF5", in);
    hid_t d = H5Lexists(f, "x", H5P_DEFAULT) > 0 ? H5Dopen2(f, "x", H5P_DEFAULT) : -1;
    hid_t s = d < 0 ? -1 : H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    CbStatus st = CB_OK;
    if (s < 0 || H5Sget_simple_extent_ndims(s) != 2 || H5Sget_simple_extent_dims(s, dims, NULL) < 0 ||
        dims[1] != w->widths[0])
        st = CB_ERR(CB_EFORMAT, "%s: expected a dataset /x of shape (n, %zu)", in, w->widths[0]);
    size_t n = (size_t)dims[0], k = w->widths[w->depth];
    float *x = st == CB_OK ? cb_malloc(n * w->widths[0] * sizeof *x) : NULL;
    if (st == CB_OK && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0)
        st = CB_ERR(CB_EHDF5, "%s: cannot read /x", in);
    if (s >= 0) H5Sclose(s);
    if (d >= 0) H5Dclose(d);
    H5Fclose(f);
    if (st != CB_OK) {
        free(x);
        return st;
    }
    float *y = cb_malloc((n ? n : 1) * k * sizeof *y);
    float *work = cb_malloc(cb_mlp_forward_work_size(w, n ? n : 1) * sizeof *work);
    cb_mlp_forward(w, x, n, y, work);
    hsize_t od[2] = {n, k};
    hid_t g = H5Fcreate(out, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t os = g < 0 ? -1 : H5Screate_simple(2, od, NULL);
    hid_t od_ = os < 0 ? -1 : H5Dcreate2(g, "logits", H5T_IEEE_F32LE, os, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (od_ < 0 || H5Dwrite(od_, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) < 0)
        st = CB_ERR(CB_EIO, "%s: cannot write /logits", out);
    if (od_ >= 0) H5Dclose(od_);
    if (os >= 0) H5Sclose(os);
    if (g >= 0 && H5Fclose(g) < 0 && st == CB_OK) st = CB_ERR(CB_EIO, "%s: cannot close", out);
    free(x);
    free(y);
    free(work);
    return st;
}

/* ------------------------------------------------------------------ command */

static const char USAGE[] =
    "usage: cbound info MODEL.h5 [--eval [--data.kind KIND] [--data.path PATH]] [--forward IN.h5 OUT.h5]\n"
    "\n"
    "Validates a model file (schema, shapes, finiteness, content hash) and prints its\n"
    "shapes, parameter counts, per-layer norms, data set, metrics and training config.\n"
    "  --eval            recompute train/test loss and accuracy on the file's data set\n"
    "  --data.kind KIND  with --eval: evaluate on this data set (needed for models imported from\n"
    "                    PyTorch, which record none); default: the file's training data\n"
    "  --data.path PATH  with --eval: read the data from PATH instead of the recorded path\n"
    "  --forward IN OUT  write the outputs for inputs IN:/x (n, d_in) to OUT:/logits\n";

int cb_cli_info(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(USAGE);
        return 0;
    }
    enum { O_EVAL = 1, O_DATA_PATH, O_FORWARD, O_DATA_KIND };
    static const struct option opts[] = {{"eval", no_argument, NULL, O_EVAL},
                                         {"data-path", required_argument, NULL, O_DATA_PATH},
                                         {"data.path", required_argument, NULL, O_DATA_PATH},
                                         {"data.kind", required_argument, NULL, O_DATA_KIND},
                                         {"forward", required_argument, NULL, O_FORWARD},
                                         {NULL, 0, NULL, 0}};
    int eval = 0;
    const char *data_path = NULL, *data_kind = NULL, *fwd_in = NULL, *fwd_out = NULL;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == O_EVAL) eval = 1;
        else if (c == O_DATA_PATH) data_path = optarg;
        else if (c == O_DATA_KIND) data_kind = optarg;
        else if (c == O_FORWARD) {
            fwd_in = optarg;
            if (optind >= argc) {
                fprintf(stderr, "cbound info: --forward needs two files: IN.h5 OUT.h5\n");
                return 2;
            }
            fwd_out = argv[optind++];
        } else {
            fprintf(stderr, "cbound info: unknown or incomplete option '%s'\n\n%s", argv[optind - 1], USAGE);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "cbound info: expected exactly one model file\n\n%s", USAGE);
        return 2;
    }
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) return 0; /* a summary is serial work: rank 0 does it */
    const char *path = argv[optind];
    CbModel m;
    CbStatus st = cb_model_load(path, &m);
    if (st == CB_OK) {
        cb_model_print(&m, path, stdout);
        if (eval) st = eval_model(&m, path, data_kind, data_path);
        if (st == CB_OK && fwd_in) st = forward_file(m.mlp, fwd_in, fwd_out);
        cb_model_free(&m);
    }
    if (st != CB_OK) {
        cb_err_report("cbound info");
        return 1;
    }
    return 0;
}
