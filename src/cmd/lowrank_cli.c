/*
 * lowrank_cli — `cbound lowrank MODEL.h5`: rank-r compression of every layer of a
 * trained model (seed paper 003; src/compress/lowrank.c), with the SVD of each layer's
 * pre-activation matrix W Xᵀ (d_out x n, n up to the whole training set)
 * distributed over all ranks of the job by ScaLAPACK (src/measure/scalapack.c). This is
 * cbound's distributed path: start it with mpirun/srun on as many ranks as the
 * matrices need. Rank 0 loads the model's training data (named in the model file)
 * and propagates the inputs through the original network; every rank joins each
 * layer's pdgesvd. Rank 0 prints one line per layer and the accuracy of the
 * compressed model, and with --out saves it as a model file.
 */
#include "cbound/cli.h"
#include "cbound/lowrank.h"
#include "cbound/model.h"
#include "cbound/scalapack.h"
#include "cbound/train.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: cbound lowrank MODEL.h5 [--rank R | --rank-fraction F] [options]\n"
    "\n"
    "Replace every layer W by a rank-r matrix (seed paper 003) and report the relative\n"
    "pre-activation error ||(W - W^) X^T||_F / ||W X^T||_F per layer and the accuracy.\n"
    "Run under mpirun: the SVD of W X^T is distributed over all ranks with ScaLAPACK.\n"
    "\n"
    "  --rank R            the same rank for every layer (capped at min(d_out, d_in))\n"
    "  --rank-fraction F   r_l = ceil(F min(d_out, d_in)), F in (0, 1] (default 0.5)\n"
    "  --mode M            data (default: minimize the pre-activation error on training\n"
    "                      inputs) | svd (truncated SVD of W)\n"
    "  --samples N         training inputs used (default 0 = all)\n"
    "  --solver S          scalapack (default with > 1 rank: inputs split over the ranks,\n"
    "                      Gram matrix reduced, eigenvectors by pdsyevd) | pdgesvd (SVD of\n"
    "                      W X^T by ScaLAPACK) | gram | svd (LAPACK on rank 0)\n"
    "  --dense-last        keep the output layer as it is\n"
    "  --data-path P       directory of the data set named in the model file\n"
    "  --out FILE.h5       save the compressed model\n"
    "\n"
    "example: mpirun -n 4 cbound lowrank results/demo/models/KEY.h5 --rank-fraction 0.1 --out lr.h5\n";

/* Usage errors go to stderr, from rank 0 only. */
static void usage_error(const char *msg)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) fprintf(stderr, "%s\n%s", msg, usage_text);
}

/* Every rank learns whether any rank failed (statuses are small positive codes). */
static CbStatus agree(CbStatus st)
{
    int mine = (int)st, worst = 0;
    if (MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return CB_ERR(CB_EMPI, "lowrank: MPI_Allreduce of the status failed");
    return (CbStatus)worst;
}

typedef struct {
    const char *model, *data_path, *out;
    double rank, fraction;
    int data_mode, dense_last;
    long samples;
    CbLowrankSolver solver;
} LowrankCli;

/* Parses argv; returns 0 ok, 2 usage error (message printed on rank 0). */
static int parse(int argc, char **argv, int size, LowrankCli *c)
{
    memset(c, 0, sizeof *c);
    c->rank = NAN;
    c->fraction = 0.5;
    c->data_mode = 1;
    c->solver = size > 1 ? CB_LOWRANK_SCALAPACK : CB_LOWRANK_GRAM;
    int have_rank = 0, have_fraction = 0;
    for (int i = 1; i < argc; ++i) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--rank")) c->rank = (double)cb_cli_long(o, v, 0, 1L << 30), have_rank = 1, ++i;
        else if (!strcmp(o, "--rank-fraction")) c->fraction = cb_cli_double(o, v, 1e-9, 1), have_fraction = 1, ++i;
        else if (!strcmp(o, "--samples")) c->samples = cb_cli_long(o, v, 0, 1L << 40), ++i;
        else if (!strcmp(o, "--data-path") && v) c->data_path = v, ++i;
        else if (!strcmp(o, "--out") && v) c->out = v, ++i;
        else if (!strcmp(o, "--dense-last")) c->dense_last = 1;
        else if (!strcmp(o, "--mode") && v && (!strcmp(v, "data") || !strcmp(v, "svd"))) c->data_mode = !strcmp(v, "data"), ++i;
        else if (!strcmp(o, "--solver") && v && !strcmp(v, "scalapack")) c->solver = CB_LOWRANK_SCALAPACK, ++i;
        else if (!strcmp(o, "--solver") && v && !strcmp(v, "pdgesvd")) c->solver = CB_LOWRANK_SCALAPACK_SVD, ++i;
        else if (!strcmp(o, "--solver") && v && !strcmp(v, "gram")) c->solver = CB_LOWRANK_GRAM, ++i;
        else if (!strcmp(o, "--solver") && v && !strcmp(v, "svd")) c->solver = CB_LOWRANK_SVD, ++i;
        else if (o[0] != '-' && !c->model) c->model = o;
        else {
            char msg[512];
            snprintf(msg, sizeof msg, "cbound lowrank: unknown option or bad value '%s%s%s'\n", o, v ? " " : "",
                     v ? v : "");
            usage_error(msg);
            return 2;
        }
    }
    if (!c->model || (have_rank && have_fraction)) {
        usage_error(!c->model ? "cbound lowrank: no model file given\n"
                              : "cbound lowrank: give --rank or --rank-fraction, not both\n");
        return 2;
    }
    return 0;
}

/* Rank 0: training data named by the model file, and the original network's
 * input to every layer: in[0] = x, in[l] = σ(...) of layer l − 1 (n rows). */
static CbStatus load_inputs(const LowrankCli *c, const CbModel *m, CbTrainSpec *spec, CbData *train, CbData *test,
                            size_t *ns, double ***in)
{
    CB_TRY(cb_model_spec_parse(m->train_config ? m->train_config : "", c->model, spec));
    if (c->data_path) snprintf(spec->data.path, sizeof spec->data.path, "%s", c->data_path);
    CB_TRY(cb_data_load(&spec->data, train, test));
    const CbMlp *a = m->mlp;
    if (train->d != a->widths[0])
        return CB_ERR(CB_EINVAL, "%s: data %s has %zu features, the network expects %zu", c->model, train->name,
                      train->d, a->widths[0]);
    *ns = c->samples == 0 || (size_t)c->samples > train->n ? train->n : (size_t)c->samples;
    double *p = cb_malloc(a->n_params * sizeof *p), **acts = cb_malloc((size_t)(a->depth + 1) * sizeof *acts);
    cb_mlp_params_to_double(a, p);
    acts[0] = cb_malloc(*ns * a->widths[0] * sizeof *acts[0]);
    for (size_t i = 0; i < *ns * a->widths[0]; ++i) acts[0][i] = train->x[i];
    for (int l = 0; l < a->depth; ++l) acts[l + 1] = cb_malloc(*ns * a->widths[l + 1] * sizeof *acts[l + 1]);
    double *out = cb_malloc(*ns * a->widths[a->depth] * sizeof *out);
    cb_mlp_forward_d(a, p, train->x, *ns, out, acts + 1);
    free(out);
    free(p);
    *in = acts;
    return CB_OK;
}

int cb_cli_lowrank(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(usage_text);
        return 0;
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    LowrankCli c;
    if (parse(argc, argv, size, &c)) return 2;

    /* 1. Model on every rank (shapes), data and layer inputs on rank 0. */
    CbModel model = {0};
    CbTrainSpec spec;
    CbData train = {0}, test = {0};
    double **in = NULL;
    size_t ns = 0;
    CbStatus st = agree(cb_model_load(c.model, &model));
    if (st == CB_OK) st = agree(rank == 0 ? load_inputs(&c, &model, &spec, &train, &test, &ns, &in) : CB_OK);
    if (st == CB_OK && MPI_Bcast(&ns, sizeof ns, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        st = CB_ERR(CB_EMPI, "lowrank: MPI_Bcast failed");
    const CbMlp *a = model.mlp;
    CbMlp *comp = st == CB_OK ? cb_mlp_clone(a) : NULL;
    if (st == CB_OK && rank == 0)
        printf("cbound lowrank: %s, %zu training inputs, mode %s, solver %s on %d rank%s\n\n%5s %13s %6s %14s %9s\n",
               c.model, ns, c.data_mode ? "data" : "svd",
               c.solver == CB_LOWRANK_SCALAPACK       ? "scalapack (distributed Gram, pdsyevd)"
               : c.solver == CB_LOWRANK_SCALAPACK_SVD ? "pdgesvd"
               : c.solver == CB_LOWRANK_GRAM          ? "gram"
                                                      : "svd",
               size,
               size > 1 ? "s" : "", "layer", "shape", "rank", "preact_rel_err", "svd_s");

    /* 2. One layer at a time. */
    for (int l = 0; st == CB_OK && l < a->depth; ++l) {
        size_t m = a->widths[l + 1], n = a->widths[l], K = m < n ? m : n;
        size_t r = isnan(c.rank) ? (size_t)ceil(c.fraction * (double)K) : (size_t)c.rank;
        int keep = c.dense_last && l == a->depth - 1;
        if (r > K || keep) r = K;
        double *W = cb_malloc(m * n * sizeof *W), *What = cb_malloc(m * n * sizeof *What);
        for (size_t i = 0; i < m * n; ++i) W[i] = a->W[l][i];
        double t0 = MPI_Wtime();
        CbStatus ls = CB_OK;
        if (keep)
            memcpy(What, W, m * n * sizeof *W);
        else if (c.data_mode && (c.solver == CB_LOWRANK_SCALAPACK || c.solver == CB_LOWRANK_SCALAPACK_SVD))
            ls = cb_lowrank_data(W, m, n, rank == 0 ? in[l] : NULL, ns, r, c.solver, MPI_COMM_WORLD, What, NULL);
        else if (c.solver == CB_LOWRANK_SCALAPACK || c.solver == CB_LOWRANK_SCALAPACK_SVD)
            ls = cb_lowrank_svd_dist(W, m, n, r, MPI_COMM_WORLD, What, NULL); /* mode svd, wide layers */
        else if (rank == 0)
            ls = c.data_mode ? cb_lowrank_data(W, m, n, in[l], ns, r, c.solver, MPI_COMM_SELF, What, NULL)
                             : cb_lowrank_svd(W, m, n, r, What, NULL);
        double secs = MPI_Wtime() - t0;
        st = agree(ls);
        if (st == CB_OK && rank == 0) {
            double z = 0, *zero = cb_calloc(m * n, sizeof *zero);
            z = cb_lowrank_preact_err(W, zero, m, n, in[l], ns);
            double e = cb_lowrank_preact_err(W, What, m, n, in[l], ns);
            free(zero);
            char shape[48];
            snprintf(shape, sizeof shape, "%zu x %zu", m, n);
            printf("%5d %13s %6zu %14.6g %9.3f%s\n", l, shape, r, z > 0 ? e / z : 0, secs, keep ? "  (kept)" : "");
            for (size_t i = 0; i < m * n; ++i) comp->W[l][i] = (float)What[i];
        }
        free(W);
        free(What);
    }

    /* 3. Accuracy of the compressed model and the optional model file (rank 0). */
    CbStatus fs = CB_OK;
    if (st == CB_OK && rank == 0) {
        double tl, ta, sl, sa;
        fs = cb_train_eval(comp, spec.train.loss, &train, &tl, &ta, NULL);
        if (fs == CB_OK) fs = cb_train_eval(comp, spec.train.loss, &test, &sl, &sa, NULL);
        if (fs == CB_OK)
            printf("\ncompressed: train loss %.5f acc %.4f | test loss %.5f acc %.4f\n"
                   "original:   train loss %.5f acc %.4f | test loss %.5f acc %.4f (from the model file)\n",
                   tl, ta, sl, sa, model.metrics.train_loss, model.metrics.train_acc, model.metrics.test_loss,
                   model.metrics.test_acc);
        if (fs == CB_OK && c.out) {
            CbModel o = model;
            o.mlp = comp;
            o.init = NULL;
            o.metrics.train_loss = tl;
            o.metrics.train_acc = ta;
            o.metrics.test_loss = sl;
            o.metrics.test_acc = sa;
            fs = cb_model_save(c.out, &o);
            if (fs == CB_OK) printf("saved %s\n", c.out);
        }
    }
    if (st == CB_OK) st = agree(fs);
    if (st != CB_OK && rank == 0) cb_err_report("cbound lowrank");
    if (in)
        for (int l = 0; l <= a->depth; ++l) free(in[l]);
    if (c.solver == CB_LOWRANK_SCALAPACK || c.solver == CB_LOWRANK_SCALAPACK_SVD)
        cb_scalapack_exit(); /* BLACS off before main's MPI_Finalize */
    free(in);
    if (comp) cb_mlp_free(comp);
    cb_data_free(&train);
    cb_data_free(&test);
    cb_model_free(&model);
    return st == CB_OK ? 0 : 1;
}
