/*
 * discretize — rounding to a grid, 004 §4.2 and Lemma 4.2 (proof in Appendix C.5).
 *
 * Note on the text: the proof of Lemma 4.2 ends with "rho_l <= ((1/L)||A^l||_2 -
 * eps_l Gamma_l) / L"; the lemma's statement (and the preceding inequality
 * ||A - Ã|| <= eps Gamma + rho J) give J_l in the denominator, which we use.
 * Lemma 4.2's ||Ã - Â||_2 <= rho J is loose (each entry moves by <= rho/2, so
 * ||Ã - Â||_2 <= ||Ã - Â||_F <= (rho/2) sqrt(J)); we keep the paper's condition so
 * the rho we report is the one its bound uses.
 */
#include "cbound/discretize.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t cb_disc_round(float *a, size_t n, double rho)
{
    size_t zeroed = 0;
    for (size_t i = 0; i < n; ++i) {
        if (a[i] == 0.0f) continue;
        double q = round((double)a[i] / rho);
        a[i] = (float)(q * rho);
        zeroed += q == 0.0;
    }
    return zeroed;
}

CbStatus cb_disc_spectral_norm(const float *a, size_t rows, size_t cols, double *out)
{
    size_t k = rows < cols ? rows : cols;
    double *A = cb_malloc(rows * cols * sizeof *A), *s = cb_malloc(k * sizeof *s);
    for (size_t i = 0; i < rows * cols; ++i) A[i] = a[i];
    /* row-major (rows, cols) = column-major (cols, rows) transpose: same singular values */
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', (lapack_int)cols, (lapack_int)rows, A,
                                     (lapack_int)cols, s, NULL, 1, NULL, 1);
    *out = info == 0 ? s[0] : NAN;
    free(A);
    free(s);
    if (info != 0 || !isfinite(*out)) {
        CB_ERR(CB_ENUMERIC, "spectral norm of a %zu x %zu matrix: LAPACK dgesdd info %d (expected 0)", rows,
               cols, (int)info);
        cb_err_hint("the matrix may contain NaN/Inf");
        return CB_ENUMERIC;
    }
    return CB_OK;
}

CbStatus cb_disc_rho_lemma42(double norm_a, double norm_delta, int n_layers, size_t nnz, int layer,
                             double *rho)
{
    double slack = norm_a / n_layers - norm_delta;
    if (!(slack > 0.0) || nnz == 0) {
        CB_ERR(CB_ENUMERIC,
               "discretize auto, layer %d: ||A||_2/L = %.6g but the pruning error ||A - Â||_2 = %.6g "
               "(nnz %zu); no rho > 0 satisfies 004 Lemma 4.2's condition",
               layer, norm_a / n_layers, norm_delta, nnz);
        cb_err_hint("prune less (smaller d / sparsity), or give rho explicitly");
        return CB_ENUMERIC;
    }
    *rho = slack / (double)nnz;
    return CB_OK;
}

CbStatus cb_disc_apply(const CbMlp *orig, CbMlp *comp, double rho, double *rho_out)
{
    if (!isnan(rho) && !(rho > 0.0 && isfinite(rho))) {
        CB_ERR(CB_EINVAL, "discretize: rho = %g (expected a finite number > 0, or auto)", rho);
        cb_err_hint("rho is the rounding step, e.g. 1e-3; 'auto' picks it from 004 Lemma 4.2");
        return CB_EINVAL;
    }
    for (int l = 0; l < comp->depth; ++l) {
        size_t r = comp->widths[l + 1], c = comp->widths[l], n = r * c;
        double step = rho;
        if (isnan(rho)) {
            float *delta = cb_malloc(n * sizeof *delta);
            size_t nnz = 0;
            for (size_t i = 0; i < n; ++i) {
                delta[i] = orig->W[l][i] - comp->W[l][i];
                nnz += comp->W[l][i] != 0.0f;
            }
            double na, nd;
            CbStatus st = cb_disc_spectral_norm(orig->W[l], r, c, &na);
            if (st == CB_OK) st = cb_disc_spectral_norm(delta, r, c, &nd);
            free(delta);
            CB_TRY(st);
            CB_TRY(cb_disc_rho_lemma42(na, nd, comp->depth, nnz, l, &step));
        }
        cb_disc_round(comp->W[l], n, step);
        if (rho_out) rho_out[l] = step;
    }
    return CB_OK;
}

/* ------------------------------------------------------------------ sweep parameter */

CbStatus cb_disc_param_check(const CbParams *p)
{
    if (!cb_params_has(p, "discretize")) return CB_OK;
    const char *t = cb_params_text(p, "discretize", "off");
    double rho = cb_params_num(p, "discretize", NAN);
    if (strcmp(t, "off") == 0 || strcmp(t, "auto") == 0 || (rho > 0 && isfinite(rho))) return CB_OK;
    CB_ERR(CB_EINVAL, "discretize: expected off, auto or a step rho > 0, found '%s'", t);
    cb_err_hint("discretize: auto picks rho_l from 004 Lemma 4.2; a number is the rounding step");
    return CB_EINVAL;
}

CbStatus cb_disc_after(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    CB_TRY(cb_disc_param_check(ctx->params));
    const char *t = cb_params_text(ctx->params, "discretize", "off");
    if (strcmp(t, "off") == 0) return CB_OK;
    double rho = strcmp(t, "auto") == 0 ? NAN : cb_params_num(ctx->params, "discretize", NAN);
    double *steps = cb_malloc((size_t)out->depth * sizeof *steps);
    CbStatus st = cb_disc_apply(ctx->model->mlp, out, rho, steps);
    if (st == CB_OK)
        for (int l = 0; l < out->depth; ++l) res->layers[l].v[CB_L_rho] = steps[l];
    free(steps);
    return st;
}
