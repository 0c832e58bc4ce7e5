/*
 * margins — margin distributions and the data norms of the bounds (see margins.h).
 * The logits come from one double forward pass per model (cb_mlp_logits_d), or from
 * the caller (the task driver computes them once and shares them with measure.c).
 */
#include "cbound/margins.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void margins_of(const double *z, size_t n, size_t k, const int32_t *y, double *out)
{
    for (size_t i = 0; i < n; ++i) {
        const double *r = z + i * k;
        double best = -INFINITY;
        for (size_t j = 0; j < k; ++j)
            if ((int32_t)j != y[i] && r[j] > best) best = r[j];
        out[i] = r[y[i]] - best;
    }
}

static CbStatus check_train(const CbMlp *f, const CbData *train)
{
    if (!train || train->n == 0 || !train->y || train->n_classes < 2)
        return CB_ERR(CB_EINVAL, "margins: need a labelled classification training set with >= 2 "
                      "classes (got %s)", train ? train->name : "none");
    size_t k = f->widths[f->depth], d = f->widths[0];
    if (train->d != d || k < train->n_classes)
        return CB_ERR(CB_EINVAL, "margins: model maps %zu -> %zu but data %s has %zu features and "
                      "%zu classes", d, k, train->name, train->d, train->n_classes);
    return CB_OK;
}

CbStatus cb_margins_from_logits(const double *zf, const double *zg, size_t k, const CbData *train,
                                CbMargins *out)
{
    memset(out, 0, sizeof *out);
    if (!train || train->n == 0 || !train->y || train->n_classes < 2 || k < train->n_classes)
        return CB_ERR(CB_EINVAL, "margins: need a labelled classification training set with >= 2 "
                      "classes and logits of width >= classes (got %s, width %zu)", train ? train->name : "none", k);
    size_t n = train->n, d = train->d;
    out->n = n;
    out->f = cb_malloc(n * sizeof *out->f);
    out->g = zg ? cb_malloc(n * sizeof *out->g) : NULL;
    margins_of(zf, n, k, train->y, out->f);
    if (zg) margins_of(zg, n, k, train->y, out->g);
    double xs = 0;
    for (size_t i = 0; i < n; ++i) {
        const float *x = train->x + i * d;
        double s = 0, e2 = 0, einf = 0;
        for (size_t j = 0; j < d; ++j) s += (double)x[j] * x[j];
        xs += s;
        if (sqrt(s) > out->x_norm_max) out->x_norm_max = sqrt(s);
        if (!zg) continue;
        for (size_t j = 0; j < k; ++j) {
            double e = fabs(zf[i * k + j] - zg[i * k + j]);
            e2 += e * e;
            if (e > einf) einf = e;
        }
        if (sqrt(e2) > out->out_err_l2) out->out_err_l2 = sqrt(e2);
        if (einf > out->out_err_linf) out->out_err_linf = einf;
    }
    out->x_fro = sqrt(xs);
    if (!zg) out->out_err_l2 = out->out_err_linf = NAN;
    qsort(out->f, n, sizeof *out->f, cmp_double);
    if (zg) qsort(out->g, n, sizeof *out->g, cmp_double);
    return CB_OK;
}

CbStatus cb_margins_measure(const CbMlp *f, const CbMlp *g, const CbData *train, CbMargins *out)
{
    memset(out, 0, sizeof *out);
    CB_TRY(check_train(f, train));
    double *zf = cb_mlp_logits_d(f, train->x, train->n), *zg = g ? cb_mlp_logits_d(g, train->x, train->n) : NULL;
    CbStatus st = cb_margins_from_logits(zf, zg, f->widths[f->depth], train, out);
    free(zf);
    free(zg);
    return st;
}

void cb_margins_free(CbMargins *m)
{
    free(m->f);
    free(m->g);
    memset(m, 0, sizeof *m);
}

double cb_margins_quantile(const double *s, size_t n, double q)
{
    if (n == 0) return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo >= n - 1) return s[n - 1];
    double t = pos - (double)lo;
    return s[lo] + t * (s[lo + 1] - s[lo]);
}

/* number of values ≤ gamma (strict = 0) or < gamma (strict = 1), by binary search */
static size_t count_below(const double *s, size_t n, double gamma, int strict)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int below = strict ? s[mid] < gamma : s[mid] <= gamma;
        if (below) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

double cb_margins_loss(const double *s, size_t n, double gamma)
{
    return n ? (double)count_below(s, n, gamma, 0) / (double)n : NAN;
}

double cb_margins_loss_strict(const double *s, size_t n, double gamma)
{
    return n ? (double)count_below(s, n, gamma, 1) / (double)n : NAN;
}
