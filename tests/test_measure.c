/*
 * Tests for measure: per-layer columns against direct counts on a small pruned
 * network; per-task losses/accuracies against cb_train_eval (the float training
 * code), output errors against a float forward pass computed here, identities
 * (same model -> zero error), regression conventions, error paths.
 */
#include "cbound/measure.h"
#include "cbound/prune.h"
#include "cbound/rng.h"
#include "check.h"
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

static CbData make_data(size_t n, size_t d, size_t k, int classify, uint32_t idx)
{
    return helper_gauss_data(n, d, k, classify, 41, 42, idx, 1.0);
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    size_t widths[] = {12, 30, 20, 5};
    CbMlp *m;
    CHECK(cb_mlp_alloc(3, widths, CB_ACT_RELU, 1.0, 1, &m) == CB_OK, "alloc");
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 1.0, 1, 2);
    CbMlp *c = cb_mlp_clone(m);
    cb_prune_random(c, 0.7, 0, 3, 4);
    CbData tr = make_data(700, 12, 5, 1, 0), te = make_data(300, 12, 5, 1, 1);

    /* 1. per-layer columns */
    {
        CbResult r;
        cb_result_init(&r, 3);
        cb_measure_layers(m, c, &r);
        int ok = 1;
        double nnz_all = 0;
        for (int l = 0; l < 3; ++l) {
            size_t R = widths[l + 1], C = widths[l], nnz = 0, mr = 0, mc = 0;
            double fw = 0, fd = 0;
            for (size_t i = 0; i < R; ++i) {
                size_t k = 0;
                for (size_t j = 0; j < C; ++j) k += c->W[l][i * C + j] != 0;
                mr = k > mr ? k : mr;
                nnz += k;
            }
            for (size_t j = 0; j < C; ++j) {
                size_t k = 0;
                for (size_t i = 0; i < R; ++i) k += c->W[l][i * C + j] != 0;
                mc = k > mc ? k : mc;
            }
            for (size_t i = 0; i < R * C; ++i) {
                fw += (double)m->W[l][i] * m->W[l][i];
                fd += ((double)m->W[l][i] - c->W[l][i]) * ((double)m->W[l][i] - c->W[l][i]);
            }
            const double *v = r.layers[l].v;
            ok &= v[CB_L_nnz] == (double)nnz && v[CB_L_max_nnz_row] == (double)mr && v[CB_L_max_nnz_col] == (double)mc &&
                  fabs(v[CB_L_fro_W] - sqrt(fw)) < 1e-12 && fabs(v[CB_L_fro_delta] - sqrt(fd)) < 1e-12 &&
                  fabs(v[CB_L_kept_fraction] - (double)nnz / (double)(R * C)) < 1e-15 && r.layers[l].d_out == (int)R;
            nnz_all += (double)nnz;
        }
        CHECK(ok, "per-layer nnz, j_r, j_c, ||W||_F, ||Δ||_F, kept fraction = direct counts");
        CHECK(r.task[CB_T_nnz] == nnz_all && fabs(r.task[CB_T_sparsity] - 0.7) < 0.002, "task nnz %.0f, sparsity %.4f",
              nnz_all, r.task[CB_T_sparsity]);
        cb_result_free(&r);
    }

    /* 2. per-task measurements vs cb_train_eval and a float forward pass */
    {
        CbResult r;
        cb_result_init(&r, 3);
        CHECK(cb_measure_task(m, c, &tr, &te, &r) == CB_OK, "measure task");
        double L, A;
        cb_train_eval(c, CB_LOSS_CROSS_ENTROPY, &tr, &L, &A, NULL);
        CHECK_REL(r.task[CB_T_train_loss], L, 1e-5, "train loss vs cb_train_eval");
        CHECK_CLOSE(r.task[CB_T_train_acc], A, 1e-12, "train acc vs cb_train_eval");
        cb_train_eval(m, CB_LOSS_CROSS_ENTROPY, &te, &L, &A, NULL);
        CHECK_REL(r.task[CB_T_orig_test_loss], L, 1e-5, "orig test loss vs cb_train_eval");
        CHECK_CLOSE(r.task[CB_T_gen_error], r.task[CB_T_train_acc] - r.task[CB_T_test_acc], 1e-15,
                    "gen error = test error - train error");
        float *fo = malloc(700 * 5 * sizeof *fo), *fc = malloc(700 * 5 * sizeof *fc),
              *w = malloc(cb_mlp_forward_work_size(m, 700) * sizeof *w);
        cb_mlp_forward(m, tr.x, 700, fo, w);
        cb_mlp_forward(c, tr.x, 700, fc, w);
        double emax = 0, esum = 0, num = 0, den = 0;
        for (size_t s = 0; s < 700; ++s) {
            double e2 = 0, f2 = 0;
            for (int j = 0; j < 5; ++j) {
                e2 += pow(fo[s * 5 + j] - fc[s * 5 + j], 2);
                f2 += pow(fo[s * 5 + j], 2);
            }
            emax = fmax(emax, sqrt(e2));
            esum += sqrt(e2);
            num += e2;
            den += f2;
        }
        CHECK_REL(r.task[CB_T_out_err_max], emax, 1e-5, "out_err_max vs float forward");
        CHECK_REL(r.task[CB_T_out_err_mean], esum / 700, 1e-5, "out_err_mean vs float forward");
        CHECK_REL(r.task[CB_T_out_err_norm], num / den, 1e-5, "out_err_norm = sum||Δf||^2 / sum||f||^2");
        CbResult r2;
        cb_result_init(&r2, 3);
        CHECK(cb_measure_output_error(m, c, &tr, &r2) == CB_OK && r2.task[CB_T_out_err_max] == r.task[CB_T_out_err_max] &&
                  isnan(r2.task[CB_T_train_loss]),
              "output-error-only entry point fills only out_err_*");
        cb_result_free(&r2);
        free(fo);
        free(fc);
        free(w);
        CbResult z;
        cb_result_init(&z, 3);
        cb_measure_task(m, m, &tr, NULL, &z);
        CHECK(z.task[CB_T_out_err_max] == 0 && z.task[CB_T_train_loss] == z.task[CB_T_orig_train_loss] &&
                  isnan(z.task[CB_T_test_loss]),
              "same model: zero output error, equal losses; no test split -> NaN");
        cb_result_free(&z);
        cb_result_free(&r);
    }

    /* 3. regression conventions: MSE, accuracy NaN, gen error in MSE */
    {
        CbData rt = make_data(100, 12, 5, 0, 2), re = make_data(50, 12, 5, 0, 3);
        CbResult r;
        cb_result_init(&r, 3);
        CHECK(cb_measure_task(m, c, &rt, &re, &r) == CB_OK, "regression measure");
        double L, A;
        cb_train_eval(c, CB_LOSS_MSE, &rt, &L, &A, NULL);
        CHECK_REL(r.task[CB_T_train_loss], L, 1e-5, "MSE vs cb_train_eval");
        CHECK(isnan(r.task[CB_T_train_acc]) &&
                  fabs(r.task[CB_T_gen_error] - (r.task[CB_T_test_loss] - r.task[CB_T_train_loss])) < 1e-15,
              "regression: accuracy NaN, gen error = test MSE - train MSE");
        cb_result_free(&r);
        free(rt.x);
        free(rt.t);
        free(re.x);
        free(re.t);
    }

    /* 4. error paths */
    {
        CbData bad = make_data(10, 11, 5, 1, 4), badk = make_data(10, 12, 4, 1, 5);
        CbResult r;
        cb_result_init(&r, 3);
        CHECK(cb_measure_task(m, c, &bad, NULL, &r) == CB_EINVAL, "wrong input dim: %s", cb_err_msg());
        CHECK(cb_measure_output_error(m, c, &badk, &r) == CB_EINVAL, "wrong class count: %s", cb_err_msg());
        cb_result_free(&r);
        free(bad.x);
        free(bad.y);
        free(badk.x);
        free(badk.y);
    }
    free(tr.x);
    free(tr.y);
    free(te.x);
    free(te.y);
    cb_mlp_free(c);
    cb_mlp_free(m);
    return check_end("measure");
}
