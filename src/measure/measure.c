/*
 * measure — per-layer and per-task measurements of a compressed model against the
 * original (definitions in include/cbound/measure.h).
 *
 * The task measurements run one double-precision forward pass of each model per
 * batch (cb_mlp_forward_d) and derive losses, accuracies and output errors from
 * the same logits, so every training input costs two forward passes in total.
 */
#include "cbound/measure.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 512 };

void cb_measure_layers(const CbMlp *orig, const CbMlp *comp, CbResult *res)
{
    double nnz_all = 0, nnz_orig_all = 0;
    size_t maxw = cb_mlp_max_width(comp);
    size_t *col = cb_malloc(maxw * sizeof *col);
    for (int l = 0; l < comp->depth; ++l) {
        size_t r = comp->widths[l + 1], c = comp->widths[l];
        const float *W = orig->W[l], *V = comp->W[l];
        size_t nnz = 0, nnz_o = 0, max_row = 0, max_col = 0;
        double fw = 0, fd = 0;
        memset(col, 0, c * sizeof *col);
        for (size_t i = 0; i < r; ++i) {
            size_t row = 0;
            for (size_t j = 0; j < c; ++j) {
                double w = W[i * c + j], v = V[i * c + j];
                int nz = v != 0.0;
                row += (size_t)nz;
                col[j] += (size_t)nz;
                nnz_o += w != 0.0;
                fw += w * w;
                fd += (w - v) * (w - v);
            }
            nnz += row;
            if (row > max_row) max_row = row;
        }
        for (size_t j = 0; j < c; ++j)
            if (col[j] > max_col) max_col = col[j];
        CbLayerRow *L = &res->layers[l];
        L->layer = l;
        L->d_out = (int32_t)r;
        L->d_in = (int32_t)c;
        L->v[CB_L_nnz] = (double)nnz;
        L->v[CB_L_kept_fraction] = nnz_o ? (double)nnz / (double)nnz_o : NAN;
        L->v[CB_L_max_nnz_row] = (double)max_row;
        L->v[CB_L_max_nnz_col] = (double)max_col;
        L->v[CB_L_fro_W] = sqrt(fw);
        L->v[CB_L_fro_delta] = sqrt(fd);
        nnz_all += (double)nnz;
        nnz_orig_all += (double)nnz_o;
    }
    free(col);
    res->task[CB_T_nnz] = nnz_all;
    res->task[CB_T_kept_fraction] = nnz_orig_all > 0 ? nnz_all / nnz_orig_all : NAN;
    res->task[CB_T_sparsity] = 1.0 - res->task[CB_T_kept_fraction];
}

void cb_measure_loss_acc(const double *z, size_t n, size_t k, const CbData *d, size_t i0, double *loss_sum,
                         double *correct)
{
    for (size_t s = 0; s < n; ++s) {
        const double *zs = z + s * k;
        if (d->y) { /* cross-entropy with a max-shifted log-sum-exp; argmax, first index on ties */
            size_t am = 0;
            for (size_t j = 1; j < k; ++j)
                if (zs[j] > zs[am]) am = j;
            double lse = 0;
            for (size_t j = 0; j < k; ++j) lse += exp(zs[j] - zs[am]);
            int32_t y = d->y[i0 + s];
            *loss_sum += log(lse) + zs[am] - zs[y];
            *correct += (size_t)y == am;
        } else { /* MSE: mean over samples and outputs */
            const float *t = d->t + (i0 + s) * k;
            double e = 0;
            for (size_t j = 0; j < k; ++j) e += (zs[j] - t[j]) * (zs[j] - t[j]);
            *loss_sum += e / (double)k;
        }
    }
}

typedef struct {
    double loss, acc;
} LossAcc;

/* One pass over d: loss/acc of both models; when err != NULL also the output errors. */
/* Output-error sums over samples: max and sum of ||f - f^||_2, sum of ||f - f^||^2, sum of ||f||^2. */
typedef struct {
    double emax, esum, num, den;
} ErrAcc;

static void err_accumulate(const double *zo, const double *zc, size_t n, size_t k, ErrAcc *a)
{
    for (size_t s = 0; s < n; ++s) {
        double e2 = 0, f2 = 0;
        for (size_t j = 0; j < k; ++j) {
            double df = zo[s * k + j] - zc[s * k + j];
            e2 += df * df;
            f2 += zo[s * k + j] * zo[s * k + j];
        }
        double e = sqrt(e2);
        if (e > a->emax) a->emax = e;
        a->esum += e;
        a->num += e2;
        a->den += f2;
    }
}

static void err_finish(const ErrAcc *a, size_t n, double err[3])
{
    err[0] = a->emax;
    err[1] = n ? a->esum / (double)n : NAN;
    err[2] = a->den > 0 ? a->num / a->den : NAN;
}

static void pass(const CbMlp *orig, const double *po, const CbMlp *comp, const double *pc, const CbData *d,
                 LossAcc *lo, LossAcc *lc, double err[3])
{
    size_t k = orig->widths[orig->depth];
    double *zo = cb_malloc(BATCH * k * sizeof *zo), *zc = cb_malloc(BATCH * k * sizeof *zc);
    double so = 0, co = 0, sc = 0, cc = 0;
    ErrAcc ea = {0};
    for (size_t i0 = 0; i0 < d->n; i0 += BATCH) {
        size_t n = d->n - i0 < BATCH ? d->n - i0 : BATCH;
        const float *x = d->x + i0 * d->d;
        cb_mlp_forward_d(orig, po, x, n, zo, NULL);
        cb_mlp_forward_d(comp, pc, x, n, zc, NULL);
        cb_measure_loss_acc(zo, n, k, d, i0, &so, &co);
        cb_measure_loss_acc(zc, n, k, d, i0, &sc, &cc);
        if (err) err_accumulate(zo, zc, n, k, &ea);
    }
    double nn = (double)d->n;
    lo->loss = so / nn;
    lc->loss = sc / nn;
    lo->acc = d->y ? co / nn : NAN;
    lc->acc = d->y ? cc / nn : NAN;
    if (err) err_finish(&ea, d->n, err);
    free(zo);
    free(zc);
}

static CbStatus check_data(const CbMlp *orig, const CbData *train)
{
    if (!train || train->n == 0 || train->d != orig->widths[0]) {
        CB_ERR(CB_EINVAL, "measure: training data has %zu samples of dimension %zu; the model expects %zu",
               train ? train->n : 0, train ? train->d : 0, orig->widths[0]);
        cb_err_hint("the task's data set must be the one the model was trained on");
        return CB_EINVAL;
    }
    size_t k = orig->widths[orig->depth];
    if ((train->y && train->n_classes != k) || (!train->y && train->n_targets != k)) {
        CB_ERR(CB_EINVAL, "measure: data %s has %zu %s but the model has %zu outputs", train->name,
               train->y ? train->n_classes : train->n_targets, train->y ? "classes" : "targets", k);
        cb_err_hint("the task's data set must be the one the model was trained on");
        return CB_EINVAL;
    }
    return CB_OK;
}

void cb_measure_output_error_logits(const double *zo, const double *zc, size_t n, size_t k, CbResult *res)
{
    ErrAcc ea = {0};
    double err[3];
    err_accumulate(zo, zc, n, k, &ea);
    err_finish(&ea, n, err);
    res->task[CB_T_out_err_max] = err[0];
    res->task[CB_T_out_err_mean] = err[1];
    res->task[CB_T_out_err_norm] = err[2];
}

CbStatus cb_measure_output_error(const CbMlp *orig, const CbMlp *comp, const CbData *train, CbResult *res)
{
    CB_TRY(check_data(orig, train));
    double *zo = cb_mlp_logits_d(orig, train->x, train->n), *zc = cb_mlp_logits_d(comp, train->x, train->n);
    cb_measure_output_error_logits(zo, zc, train->n, orig->widths[orig->depth], res);
    free(zo);
    free(zc);
    return CB_OK;
}

CbStatus cb_measure_task(const CbMlp *orig, const CbMlp *comp, const CbData *train, const CbData *test,
                         CbResult *res)
{
    CB_TRY(check_data(orig, train));
    double *po = cb_malloc(orig->n_params * sizeof *po), *pc = cb_malloc(comp->n_params * sizeof *pc);
    cb_mlp_params_to_double(orig, po);
    cb_mlp_params_to_double(comp, pc);
    LossAcc o, c;
    double err[3];
    pass(orig, po, comp, pc, train, &o, &c, err);
    res->task[CB_T_orig_train_loss] = o.loss;
    res->task[CB_T_orig_train_acc] = o.acc;
    res->task[CB_T_train_loss] = c.loss;
    res->task[CB_T_train_acc] = c.acc;
    res->task[CB_T_out_err_max] = err[0];
    res->task[CB_T_out_err_mean] = err[1];
    res->task[CB_T_out_err_norm] = err[2];
    if (test && test->n > 0) {
        pass(orig, po, comp, pc, test, &o, &c, NULL);
        res->task[CB_T_orig_test_loss] = o.loss;
        res->task[CB_T_orig_test_acc] = o.acc;
        res->task[CB_T_test_loss] = c.loss;
        res->task[CB_T_test_acc] = c.acc;
        res->task[CB_T_gen_error] =
            train->y ? (1.0 - res->task[CB_T_test_acc]) - (1.0 - res->task[CB_T_train_acc])
                     : res->task[CB_T_test_loss] - res->task[CB_T_train_loss];
    }
    free(po);
    free(pc);
    return CB_OK;
}

/* ------------------------------------------------------------------ Assumption 3.1 */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void cb_measure_gaussianity(const double *a, size_t n, double *excess_kurtosis, double *ks)
{
    *excess_kurtosis = *ks = NAN;
    if (n < 2) return;
    double mean = 0, m2 = 0, m4 = 0;
    for (size_t i = 0; i < n; ++i) mean += a[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; ++i) {
        double d = a[i] - mean, d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
    }
    m2 /= (double)n;
    m4 /= (double)n;
    if (!(m2 > 0)) return;
    *excess_kurtosis = m4 / (m2 * m2) - 3.0;
    double sd = sqrt(m2), *s = cb_malloc(n * sizeof *s), d = 0;
    memcpy(s, a, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    /* the empirical CDF jumps at each order statistic: compare both sides of the jump */
    for (size_t i = 0; i < n; ++i) {
        double F = gsl_cdf_gaussian_P(s[i] - mean, sd);
        double lo = F - (double)i / (double)n, hi = (double)(i + 1) / (double)n - F;
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    free(s);
    *ks = d;
}
