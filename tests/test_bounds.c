/*
 * test_bounds — every bound, per-layer and per-task column of src/measure/bounds.c on a tiny
 * network (12 -> 9 -> 60 -> 4, biases, MBP-pruned, one layer discretized; the 60 -> 4
 * layer has Lemma D.1's kappa < 1) recomputed by scripts/bounds_ref.py: an independent
 * numpy/scipy implementation reading the stored model files and data. Also: margins and
 * quantiles by brute force, the authors' lpq_norm, Thm 5.1's counts on a hand-computed
 * case, the recipe's needed margin recomputed here (LAPACK SVD of the same masks),
 * what every row says of itself (scale, vacuous, applies, why_not), and the error paths.
 */
#include "check.h"
#include "cbound/bounds.h"
#include "cbound/discretize.h"
#include "cbound/latala.h"
#include "cbound/margins.h"
#include "cbound/mbp.h"
#include "cbound/measure.h"
#include "cbound/model.h"
#include "cbound/norms.h"

#include <string.h>
#include <unistd.h>

enum { N = 150, D0 = 12, K = 4 };
static const size_t widths[4] = {D0, 9, 60, K};

static void make_data(const CbMlp *f, CbData *tr, float *x, int32_t *y, int wrong_every)
{
    CbStream s = cb_rng_stream(41, 42, CB_RNG_TEST, 7);
    for (size_t i = 0; i < (size_t)N * D0; ++i) x[i] = (float)cb_rng_normal(&s);
    float z[N * K], work[8192];
    (void)work;
    float *wk = malloc(cb_mlp_forward_work_size(f, N) * sizeof *wk);
    cb_mlp_forward(f, x, N, z, wk);
    free(wk);
    for (int i = 0; i < N; ++i) { /* the model's own argmax, every 25th label wrong */
        int best = 0;
        for (int j = 1; j < K; ++j) if (z[i * K + j] > z[i * K + best]) best = j;
        y[i] = wrong_every && i % wrong_every == 0 ? (best + 1) % K : best;
    }
    memset(tr, 0, sizeof *tr);
    tr->n = N; tr->d = D0; tr->n_classes = K; tr->x = x; tr->y = y;
    strcpy(tr->name, "test/train");
}

static void test_margins_basic(const CbMlp *f, const CbData *tr)
{
    CbMargins m;
    CHECK(cb_margins_measure(f, NULL, tr, &m) == CB_OK && m.n == N && m.g == NULL, "margins of f only");
    int sorted = 1;
    for (int i = 1; i < N; ++i) sorted &= m.f[i - 1] <= m.f[i];
    CHECK(sorted && m.f[0] < 0 && m.f[N - 1] > 0, "margins sorted, some negative (wrong labels)");
    double s[5] = {-1.5, 0.25, 0.25, 2.0, 3.0};
    CHECK_CLOSE(cb_margins_quantile(s, 5, 0.5), 0.25, 0, "median");
    CHECK_CLOSE(cb_margins_quantile(s, 5, 0.1), -1.5 + 0.4 * 1.75, 1e-15, "10th percentile, interpolated");
    CHECK_CLOSE(cb_margins_quantile(s, 5, 1.0), 3.0, 0, "max");
    CHECK_CLOSE(cb_margins_loss(s, 5, 0.25), 0.6, 1e-15, "R_gamma counts <= gamma");
    CHECK_CLOSE(cb_margins_loss_strict(s, 5, 0.25), 0.2, 1e-15, "authors' code counts < gamma");
    CHECK(isnan(cb_margins_quantile(s, 0, 0.5)) && isnan(cb_margins_loss(s, 0, 1)), "empty -> NaN");
    cb_margins_free(&m);
    CbData bad = *tr;
    bad.y = NULL;
    CHECK(cb_margins_measure(f, NULL, &bad, &m) == CB_EINVAL, "regression data rejected: %s", cb_err_msg());
    bad = *tr;
    bad.d = 11;
    CHECK(cb_margins_measure(f, NULL, &bad, &m) == CB_EINVAL && strstr(cb_err_msg(), "11 features"),
          "feature mismatch named: %s", cb_err_msg());
}

/* compare one number from the reference with tolerance rtol (absolute 1e-12 near 0) */
static void cmp(const char *what, double c, double ref, double rtol)
{
    int ok = (isnan(c) && isnan(ref)) || (isinf(c) && isinf(ref) && c == ref) ||
             (isfinite(c) && isfinite(ref) && fabs(c - ref) <= rtol * fmax(fabs(c), fabs(ref)) + 1e-12);
    CHECK(ok, "%s: C %.12g vs numpy %.12g", what, c, ref);
}

static int layer_col(const char *name)
{
#define X(nm, unit, doc) if (!strcmp(name, #nm)) return CB_L_##nm;
    CB_LAYER_COLUMNS(X)
#undef X
    return -1;
}

static int task_col(const char *name)
{
#define X(nm, unit, doc) if (!strcmp(name, #nm)) return CB_T_##nm;
    CB_TASK_COLUMNS(X)
#undef X
    return -1;
}

static void compare_with_numpy(const char *dir, const CbResult *res)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/bounds_ref.py %s", dir);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL, "run %s", cmd);
    if (!p) return;
    char line[1024];
    int n_layer = 0, n_task = 0, n_bound = 0;
    while (fgets(line, sizeof line, p)) {
        char a[64], b[64], c[64];
        double v[4];
        if (sscanf(line, "layer %63s %63s %lf", a, b, v) == 3) {
            int l = atoi(a), col = layer_col(b);
            CHECK(col >= 0, "numpy column %s exists", b);
            if (col < 0) continue;
            char what[160];
            snprintf(what, sizeof what, "layer %d %s", l, b);
            cmp(what, res->layers[l].v[col], v[0], 1e-7);
            ++n_layer;
        } else if (sscanf(line, "task %63s %lf", a, v) == 2) {
            int col = task_col(a);
            CHECK(col >= 0, "numpy task column %s exists", a);
            if (col < 0) continue;
            cmp(a, res->task[col], v[0], 1e-7);
            ++n_task;
        } else if (sscanf(line, "bound %63s %63s %lf %lf %lf %lf", a, b, v, v + 1, v + 2, v + 3) == 6 ||
                   sscanf(line, "bound %63s %63s %lf %lf %63s %lf", a, b, v, v + 1, c, v + 3) == 6) {
            if (strstr(line, " nan ")) v[2] = NAN;
            const CbBoundRow *r = NULL;
            for (int i = 0; i < res->n_bounds; ++i)
                if (!strcmp(res->bounds[i].name, a) && !strcmp(res->bounds[i].variant, b)) r = &res->bounds[i];
            CHECK(r != NULL, "bound %s/%s present in C", a, b);
            if (!r) continue;
            char what[160];
            snprintf(what, sizeof what, "%s/%s ln value", a, b);
            cmp(what, r->value_ln, v[0], 1e-7);
            snprintf(what, sizeof what, "%s/%s gamma", a, b);
            cmp(what, r->gamma, v[1], 1e-7);
            snprintf(what, sizeof what, "%s/%s margin loss", a, b);
            cmp(what, r->margin_loss, v[2], 1e-12);
            snprintf(what, sizeof what, "%s/%s complexity", a, b);
            cmp(what, r->complexity, v[3], 1e-7);
            ++n_bound;
        } else {
            CHECK(0, "unparsed reference line: %s", line);
        }
    }
    int rc = pclose(p);
    CHECK(rc == 0, "bounds_ref.py exit status %d", rc);
    CHECK(n_layer == 3 * 18 && n_task >= 13, "numpy recomputed %d layer values, %d task values", n_layer, n_task);
    CHECK(n_bound == res->n_bounds, "numpy recomputed %d of %d bound rows", n_bound, res->n_bounds);
}


static const CbBoundRow *find_row(const CbResult *res, const char *name, const char *variant)
{
    for (int i = 0; i < res->n_bounds; ++i)
        if (!strcmp(res->bounds[i].name, name) && !strcmp(res->bounds[i].variant, variant)) return &res->bounds[i];
    return NULL;
}

/* What every row says of itself agrees with its numbers. */
static void check_rows_truthful(const CbResult *res, int biased)
{
    int bad_scale = 0, bad_vac = 0, bad_bias = 0, bad_why = 0, complexity = 0;
    for (int i = 0; i < res->n_bounds; ++i) {
        const CbBoundRow *b = &res->bounds[i];
        int err = !strcmp(b->scale, "error");
        complexity += !err;
        if (err ? !((isnan(b->error_bound) && isnan(b->value_ln)) || b->error_bound == exp(b->value_ln))
                : !isnan(b->error_bound) || strcmp(b->scale, "complexity"))
            ++bad_scale;
        if (b->vacuous != !(b->error_bound < 1)) ++bad_vac;
        if (biased != (strstr(b->why_not, "biases") != NULL)) {
            ++bad_bias;
            printf("row %s/%s: why_not '%s'\n", b->name, b->variant, b->why_not);
        }
        if (b->applies != (b->why_not[0] == '\0')) ++bad_why;
    }
    CHECK(res->n_bounds > 10 && complexity == 3 && !bad_scale, "%d rows: error_bound = exp(value_ln) on scale error, NaN on "
          "the %d complexity rows (%d wrong)", res->n_bounds, complexity, bad_scale);
    CHECK(!bad_vac, "vacuous = !(error_bound < 1) on every row (%d wrong)", bad_vac);
    CHECK(!bad_bias, "biases %s on every row's why_not (%d wrong)", biased ? "named" : "absent", bad_bias);
    CHECK(!bad_why, "applies = 1 exactly when why_not is empty (%d wrong)", bad_why);
}

/* needed(d) of the authors' recipe, written out independently of src/measure/bounds.c:
 * e max||x|| prod_l kappa_l ||A_l|| sum_l ||Delta_l|| / ||A_l||, with the recipe's masks
 * (cb_latala_mc_delta on stream replicate 2^30 + l, diagonal pruned, Psi = np.var),
 * kappa_l from the authors' bisected t, and LAPACK's dgesdd for every norm. */
static double needed_ref(const CbTaskCtx *ctx, const CbMlp *f, double d, size_t n, double xmax)
{
    double s = 0, lprod = 0;
    for (int l = 0; l < f->depth; ++l) {
        size_t m = f->widths[l + 1], k = f->widths[l];
        double *A = malloc(m * k * sizeof *A), *P = malloc(m * k * sizeof *P), *D = malloc(m * k * sizeof *D);
        double mean = 0, var = 0, sa, sd;
        for (size_t i = 0; i < m * k; ++i) mean += (A[i] = f->W[l][i]);
        mean /= (double)(m * k);
        for (size_t i = 0; i < m * k; ++i) var += (A[i] - mean) * (A[i] - mean);
        var /= (double)(m * k);
        cb_norms_spectral_ref(A, m, k, &sa);
        double t = cb_latala_kw_t_bisect((double)n, (double)k, 0.99, 0.01);
        if (isnan(t)) t = cb_latala_kw_t((double)n, (double)k, 0.99);
        double kap = m < k ? fmin(t * sqrt((double)m), 1.0) : 1.0;
        lprod += log(sa) + log(kap);
        if (d > 0) {
            for (size_t i = 0; i < m * k; ++i) P[i] = exp(-A[i] * A[i] / (d * var));
            cb_latala_mc_delta(A, P, m, k, ctx->seed, ctx->key, (1u << 30) + (uint32_t)l, D);
            cb_norms_spectral_ref(D, m, k, &sd);
            s += sd / sa;
        }
        free(A); free(P); free(D);
    }
    return exp(1.0) * xmax * s * exp(lprod);
}

/* Thm 5.1's counts on a hand-computed case (cb_bounds_compute on given inputs). */
static void test_counts_by_hand(void)
{
    /* layer 0: W is 6 x 10, j_r = 3, j_c = 2, nnz 17; layer 1: W is 4 x 6, j_r = 2, j_c = 3, nnz 7;
     * float32 weights (rho NaN: ln r = 32 ln 2), MBP with chi = 0.25, lambda = 1.
     * measured_j:  max(3*6, 2*10) ln^2 10 + max(2*4, 3*6) ln^2 6   (times 32 ln 2)
     *            = 20 ln^2 10 + 18 ln^2 6
     * measured_j_proof (j p ln^2 p): 3*10 ln^2 10 + 3*6 ln^2 6
     * predicted_j (3 lambda chi p^2 ln^2 p): 0.75 (100 ln^2 10 + 36 ln^2 6)
     * predicted_j_printed (3 lambda chi d1 d2 ln^2 p): 0.75 (60 ln^2 10 + 24 ln^2 6) */
    CbBoundLayer ly[2] = {{.d_in = 10, .d_out = 6, .spec = 2.385, .spec_comp = 2.2, .spec_delta = 0.31, .fro = 3.1,
                           .fro_comp = 2.9, .l21 = 5.5, .l21_comp = 5.1, .fro_init = NAN, .l21_init = NAN, .lpq_authors = 3.1,
                           .nnz = 17, .j_r = 3, .j_c = 2, .max_abs_comp = 0.9, .rho = NAN, .eps_gamma = 0.05, .kappa = 1, .chi = 0.25},
                          {.d_in = 6, .d_out = 4, .spec = 1.7, .spec_comp = 1.6, .spec_delta = 0.2, .fro = 2.2, .fro_comp = 2.0,
                           .l21 = 3.3, .l21_comp = 3.0, .fro_init = NAN, .l21_init = NAN, .lpq_authors = 2.2, .nnz = 7, .j_r = 2,
                           .j_c = 3, .max_abs_comp = 0.8, .rho = NAN, .eps_gamma = 0.04, .kappa = 0.7, .chi = 0.25}};
    double mf[5] = {0.4, 1.1, 2.0, 2.5, 3.9}, mg[5] = {0.3, 1.0, 2.1, 2.4, 3.8};
    CbBoundInputs in = {.L = 2, .layer = ly, .n = 5, .x_norm_max = 3.3, .x_fro = 6.0, .d0 = 10, .mf = mf, .mg = mg,
                        .out_err_linf = 0.05, .lambda = 1, .delta = 0.1, .bias = 0};
    CbResult res;
    cb_result_init(&res, 2);
    cb_bounds_compute(&in, &res);
    double l10 = log(10) * log(10), l6 = log(6) * log(6), lr = 32 * M_LN2;
    const CbBoundRow *b;
    b = find_row(&res, "sketch_004_thm5.2", "measured_j");
    CHECK(b && fabs(b->complexity - (20 * l10 + 18 * l6) * lr) < 1e-9, "measured_j = max(j_r d_out, j_c d_in) ln^2 p: %.10g",
          b ? b->complexity : NAN);
    b = find_row(&res, "sketch_004_thm5.2", "measured_j_proof");
    CHECK(b && fabs(b->complexity - (30 * l10 + 18 * l6) * lr) < 1e-9, "measured_j_proof = j p ln^2 p");
    b = find_row(&res, "sketch_004_thm5.2", "predicted_j");
    CHECK(b && fabs(b->complexity - 0.75 * (100 * l10 + 36 * l6) * lr) < 1e-9, "predicted_j = 3 lambda chi p^2 ln^2 p");
    b = find_row(&res, "sketch_004_thm5.2", "predicted_j_printed");
    CHECK(b && fabs(b->complexity - 0.75 * (60 * l10 + 24 * l6) * lr) < 1e-9, "predicted_j_printed = 3 lambda chi d1 d2 ln^2 p");
    CHECK(b && !b->applies && strstr(b->why_not, "probability"), "lambda = 1: Thm 5.2's probability <= 0 named: %s",
          b ? b->why_not : "");
    b = find_row(&res, "sketch_004_thm5.2", "measured_j");
    CHECK(b && b->applies && b->vacuous && b->error_bound >= 1 && res.task[CB_T_model_bias] != 1,
          "bias-free, huge count on n = 5: applies, vacuous (bound %.3g)", b ? b->error_bound : NAN);
    /* a bound below 1: a tiny count on many samples is not vacuous */
    CbResult r2;
    cb_result_init(&r2, 0);
    CbBoundRow *t = cb_result_add_bound(&r2, "x", "y", "error", log(0.25), 1, 0, 1);
    CHECK(!t->vacuous && t->error_bound == 0.25 && t->applies, "0.25: not vacuous, applies");
    t = cb_result_add_bound(&r2, "x", "z", "error", 0.0, 1, 0, 1);
    CHECK(t->vacuous, "a bound of exactly 1 is vacuous");
    cb_result_bound_why(t, "gamma = %g < 0", -0.5);
    cb_result_bound_why(t, "network has biases");
    CHECK(!t->applies && !strcmp(t->why_not, "gamma = -0.5 < 0; network has biases"), "reasons joined: %s", t->why_not);
    /* a negative 5th-percentile margin: the baseline row is kept, +inf, with the reason */
    double neg[5] = {-0.4, 1.1, 2.0, 2.5, 3.9};
    in.mf = neg;
    in.bias = 1;
    CbResult r3;
    cb_result_init(&r3, 2);
    cb_bounds_compute(&in, &r3);
    b = find_row(&r3, "bartlett2017", "paper");
    CHECK(b && isinf(b->value_ln) && !b->applies && strstr(b->why_not, "<= 0") && strstr(b->why_not, "biases"),
          "gamma <= 0 baseline kept as +inf with its reasons: %s", b ? b->why_not : "(no row)");
    cb_result_free(&res);
    cb_result_free(&r2);
    cb_result_free(&r3);
}

/* Assumption 3.1 statistics: Gaussian, uniform and Laplace samples, and a brute-force KS. */
static void test_gaussianity(void)
{
    enum { M = 20000 };
    double *a = malloc(M * sizeof *a), k, ks;
    CbStream s = cb_rng_stream(7, 8, CB_RNG_TEST, 1);
    for (int i = 0; i < M; ++i) a[i] = 0.3 + 1.7 * cb_rng_normal(&s);
    cb_measure_gaussianity(a, M, &k, &ks);
    CHECK(fabs(k) < 0.15 && ks < 0.015, "Gaussian: excess kurtosis %.3f ~ 0, KS %.4f ~ 0", k, ks);
    for (int i = 0; i < M; ++i) a[i] = cb_rng_uniform_at(7, 9, CB_RNG_TEST, 0, (uint64_t)i);
    cb_measure_gaussianity(a, M, &k, &ks);
    /* uniform on [0,1] vs N(1/2, 1/12): sup |x - Phi((x - 1/2) sqrt 12)| = 0.0577 (at x = 0.5 -/+ 0.35) */
    CHECK(fabs(k + 1.2) < 0.05 && fabs(ks - 0.0577) < 0.01, "uniform: kurtosis %.3f ~ -1.2, KS %.4f ~ 0.058", k, ks);
    double small[5] = {-1.0, 0.5, 0.25, 2.0, -0.3}, bf = 0;
    cb_measure_gaussianity(small, 5, &k, &ks);
    /* brute force: scan x on a fine grid for sup |F_5(x) - Phi((x - mean)/sd)| */
    double mean = 0.29, var = 0;
    for (int i = 0; i < 5; ++i) var += (small[i] - mean) * (small[i] - mean) / 5;
    for (double x = -4; x < 4; x += 1e-5) {
        int c = 0;
        for (int i = 0; i < 5; ++i) c += small[i] <= x;
        double d = fabs(c / 5.0 - 0.5 * erfc(-(x - mean) / sqrt(2 * var)));
        if (d > bf) bf = d;
    }
    CHECK(fabs(ks - bf) < 1e-4, "KS %.6f equals the brute-force supremum %.6f", ks, bf);
    free(a);
}

static void write_case(const char *dir, const CbModel *model, CbMlp *g, const float *x, const int32_t *y,
                       double dused, const double *psi, const CbBoundsOpts *o, double recipe_d, double recipe_needed)
{
    char path[256];
    snprintf(path, sizeof path, "%s/orig.h5", dir);
    CHECK(cb_model_save(path, model) == CB_OK, "save orig: %s", cb_err_msg());
    CbModel cm = {.mlp = g};
    strcpy(cm.dataset, "test");
    snprintf(path, sizeof path, "%s/comp.h5", dir);
    CHECK(cb_model_save(path, &cm) == CB_OK, "save comp: %s", cb_err_msg());
    snprintf(path, sizeof path, "%s/x.f32", dir);
    FILE *fp = fopen(path, "wb");
    fwrite(x, sizeof *x, (size_t)N * D0, fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/y.i32", dir);
    fp = fopen(path, "wb");
    fwrite(y, sizeof *y, N, fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/meta.txt", dir);
    fp = fopen(path, "w");
    fprintf(fp, "d0 %d\nmbp_d %.17g\npsi %.17g %.17g %.17g\nrho nan 0.05 nan\nkeep_diag 1\n", D0, dused,
            psi[0], psi[1], psi[2]);
    fprintf(fp, "delta %.17g\nlambda %.17g\nkw_target %.17g\n", o->delta, o->lambda, o->kw_target);
    fprintf(fp, "recipe_d %.17g\nrecipe_needed %.17g\n", recipe_d, recipe_needed);
    fclose(fp);
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    CbMlp *f, *init;
    cb_mlp_alloc(3, widths, CB_ACT_RELU, 1.0, 1, &f);
    cb_mlp_init(f, CB_INIT_KAIMING_UNIFORM, 1.0, 41, 42);
    init = cb_mlp_clone(f);
    cb_mlp_init(init, CB_INIT_KAIMING_UNIFORM, 1.0, 41, 43);
    for (size_t i = 0; i < f->n_params; ++i) f->params[i] *= 2.385f; /* "trained": larger than init */
    float *x = malloc((size_t)N * D0 * sizeof *x);
    int32_t *y = malloc(N * sizeof *y);
    CbData tr;
    make_data(f, &tr, x, y, 25);
    test_margins_basic(f, &tr);
    test_counts_by_hand();
    test_gaussianity();

    /* authors' lpq_norm(A, 1, 2) is the Frobenius norm */
    double A[6] = {1.5, -2, 0.25, 3, 0, -1};
    CHECK_REL(cb_bounds_lpq_authors(A, 2, 3, 1, 2), cb_norms_fro(A, 2, 3), 1e-15, "lpq_norm(A,1,2) = ||A||_F");
    CHECK_REL(cb_bounds_lpq_authors(A, 2, 3, 2, 1),
              pow(pow(1.5, 4) + 81, 0.25) + 2.0 + pow(pow(0.25, 4) + 1, 0.25), 1e-15,
              "lpq_norm(A,2,1) = sum over columns of (sum_i A_ij^4)^(1/4)");
    CHECK_CLOSE(cb_bounds_ln_r(1.0, NAN), 32 * M_LN2, 1e-15, "float32: r = 2^32");
    CHECK_CLOSE(cb_bounds_ln_r(1.0, 0.3), log(9.0), 1e-15, "r = 2 ceil(max/rho) + 1");

    /* compress: MBP paper variant d = 2.385, then layer 1 rounded to multiples of 0.05 */
    CbMlp *g = cb_mlp_clone(f);
    CbMbpOptions mo;
    cb_mbp_options_default(&mo);
    mo.d = 2.385;
    double psi[3], dused;
    CHECK(cb_mbp_prune(g, &mo, 41, 42, psi, &dused) == CB_OK, "mbp prune");
    cb_disc_round(g->W[1], widths[1] * widths[2], 0.05);
    CbResult res;
    cb_result_init(&res, 3);
    res.task[CB_T_mbp_d] = dused;
    for (int l = 0; l < 3; ++l) res.layers[l].v[CB_L_param] = psi[l];
    res.layers[1].v[CB_L_rho] = 0.05;

    CbModel model = {.mlp = f, .init = init};
    strcpy(model.dataset, "test");
    CbParams params = {0};
    cb_params_set(&params, "variant", "paper");
    CbMeasureOpts meas = {.norms = 1, .latala = 1, .mc_masks = 6, .margins = 1, .norm_rtol = 1e-9};
    CbTaskCtx ctx = {.seed = 41, .key = 42, .method = "mbp", .params = &params, .train = &tr,
                     .model = &model, .measure = &meas};
    CHECK(cb_bounds_run(&ctx, f, g, &res) == CB_OK, "cb_bounds_run: %s", cb_err_msg());
    for (int l = 0; l < 3; ++l) {
        double ref;
        double *w = malloc(widths[l] * widths[l + 1] * sizeof *w);
        for (size_t i = 0; i < widths[l] * widths[l + 1]; ++i) w[i] = f->W[l][i];
        cb_norms_spectral_ref(w, widths[l + 1], widths[l], &ref);
        free(w);
        CHECK_REL(res.layers[l].v[CB_L_spec_W], ref, 1e-12, "spec_W vs dgesdd");
        CHECK(res.layers[l].v[CB_L_latala_c_sd] >= 0 && res.layers[l].v[CB_L_latala_c_mc] > 0,
              "layer %d Monte Carlo (c): %.4g +- %.2g", l, res.layers[l].v[CB_L_latala_c_mc],
              res.layers[l].v[CB_L_latala_c_sd]);
    }
    CHECK(res.layers[2].v[CB_L_kappa] < 1 && res.layers[2].v[CB_L_kappa] > 0.5 && res.layers[1].v[CB_L_kappa] == 1,
          "fixture has kappa < 1 on the 60 -> 4 layer (%.4f)", res.layers[2].v[CB_L_kappa]);
    CHECK(res.task[CB_T_gamma_min] < 0 && res.task[CB_T_recipe_solved] == 0 && isnan(res.task[CB_T_recipe_d]),
          "min margin %.4g < 0: recipe not solved, recipe_d NaN", res.task[CB_T_gamma_min]);
    check_rows_truthful(&res, 1);
    {
        const CbBoundRow *ac = find_row(&res, "sketch_004_thm5.2", "authors_code");
        CHECK(ac && !ac->applies && strstr(ac->why_not, "min training margin"), "gamma_min <= 0 named: %s",
              ac ? ac->why_not : "(no row)");
    }
    /* The driver's path: logits computed once and shared (ctx.logits_orig/_comp) must
     * give exactly the rows of the path that runs its own forward passes. */
    {
        CbResult res2;
        cb_result_init(&res2, 3);
        res2.task[CB_T_mbp_d] = dused;
        for (int l = 0; l < 3; ++l) res2.layers[l].v[CB_L_param] = psi[l];
        res2.layers[1].v[CB_L_rho] = 0.05;
        CbTaskCtx c2 = ctx;
        double *zf = cb_mlp_logits_d(f, tr.x, tr.n), *zg = cb_mlp_logits_d(g, tr.x, tr.n);
        c2.logits_orig = zf;
        c2.logits_comp = zg;
        CHECK(cb_bounds_run(&c2, f, g, &res2) == CB_OK, "cb_bounds_run with shared logits: %s", cb_err_msg());
        int same = res2.n_bounds == res.n_bounds && res2.n_series == res.n_series;
        for (int i = 0; same && i < CB_T_COUNT; ++i)
            same = (isnan(res.task[i]) && isnan(res2.task[i])) || res.task[i] == res2.task[i];
        for (int i = 0; same && i < res.n_bounds; ++i)
            same = !strcmp(res.bounds[i].name, res2.bounds[i].name) &&
                   (res.bounds[i].value_ln == res2.bounds[i].value_ln ||
                    (isnan(res.bounds[i].value_ln) && isnan(res2.bounds[i].value_ln)));
        CHECK(same, "shared logits give identical task columns and bounds (%d bounds)", res2.n_bounds);
        free(zf);
        free(zg);
        cb_result_free(&res2);
    }
    int n_quant = 0;
    for (int i = 0; i < res.n_series; ++i) n_quant += !strcmp(res.series[i].name, "margin_quantile_orig");
    CHECK(n_quant == 101 && res.series[0].y == res.task[CB_T_gamma_min], "101 margin quantiles stored");

    /* the recipe, checked against needed(d) recomputed here: the same masks (the recipe's
     * stream, replicate 2^30 + layer), LAPACK's SVD for the norms, the formula written out */
    CbBoundsOpts o;
    cb_bounds_opts_default(&o);
    CbMargins mg;
    cb_margins_measure(f, NULL, &tr, &mg);
    double target = needed_ref(&ctx, f, 2.385, N, mg.x_norm_max) * (1 + 1e-9);
    double *pos = malloc(N * sizeof *pos); /* margins whose minimum is needed(2.385): solvable */
    for (int i = 0; i < N; ++i) pos[i] = target * (1.0 + (double)i / N); /* sorted, minimum = target */
    CbRecipe r;
    CHECK(cb_bounds_recipe(&ctx, f, pos, N, mg.x_norm_max, &o, &r) == CB_OK && r.bracketed, "recipe on a solvable case");
    double n_at = needed_ref(&ctx, f, r.d_best, N, mg.x_norm_max);
    CHECK_REL(r.needed, n_at, 1e-8, "recipe's needed margin at its d equals the recomputation");
    CHECK(r.solved == (n_at <= pos[0]), "solved flag %d agrees with needed %.6g vs min margin %.6g", r.solved, n_at, pos[0]);
    CHECK(needed_ref(&ctx, f, r.d_best - 2 * o.recipe_xtol, N, mg.x_norm_max) <= pos[0] &&
              needed_ref(&ctx, f, r.d_best + 2 * o.recipe_xtol, N, mg.x_norm_max) > pos[0] &&
              fabs(r.d_best - 2.385) < 0.5,
          "the root lies within the tolerance of the returned d = %.5f (needed crosses %.5g there; target d 2.385)",
          r.d_best, pos[0]);
    /* unsolvable: a minimum margin below needed(xtol / 4) — the bisection ends at its floor */
    double floor_need = needed_ref(&ctx, f, o.recipe_xtol / 4, N, mg.x_norm_max);
    for (int i = 0; i < N; ++i) pos[i] = 0.5 * floor_need * (1.0 + (double)i / N);
    CHECK(cb_bounds_recipe(&ctx, f, pos, N, mg.x_norm_max, &o, &r) == CB_OK && !r.solved && r.d_best < 2 * o.recipe_xtol &&
              r.needed > pos[0],
          "unsolvable recipe: d %.2g at the floor, needed %.4g > min margin %.4g, solved 0", r.d_best, r.needed, pos[0]);
    CHECK(cb_bounds_recipe(&ctx, f, mg.f, N, mg.x_norm_max, &o, &r) == CB_OK && r.d_best == 0 && r.needed == 0 && !r.solved,
          "recipe with a negative min margin: d = 0 as the authors' code, not solved");
    free(pos);
    double recipe_d_ret = r.d_best, recipe_need_ref = needed_ref(&ctx, f, r.d_best, N, mg.x_norm_max);
    cb_margins_free(&mg);

    /* write the stored weights and data for the numpy recomputation */
    char dir[] = "/tmp/cb_bounds_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "temp dir");
    char path[256];
    write_case(dir, &model, g, x, y, dused, psi, &o, recipe_d_ret, recipe_need_ref);
    compare_with_numpy(dir, &res);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    CHECK(system(path) == 0, "cleanup");

    /* error paths */
    CbResult bad;
    cb_result_init(&bad, 2);
    CHECK(cb_bounds_run(&ctx, f, g, &bad) == CB_EINVAL, "result rows != depth: %s", cb_err_msg());
    cb_result_free(&bad);
    cb_result_init(&bad, 3);
    CbBoundsOpts ob = o;
    ob.delta = 1.5;
    CHECK(cb_bounds_run_opts(&ctx, f, g, &ob, &bad) == CB_EINVAL, "delta 1.5 rejected: %s", cb_err_msg());
    CbMlp *h;
    size_t w2[4] = {D0, 8, 7, K};
    cb_mlp_alloc(3, w2, CB_ACT_RELU, 1.0, 1, &h);
    CHECK(cb_bounds_run(&ctx, f, h, &bad) == CB_EINVAL && strstr(cb_err_msg(), "width 1"),
          "shape mismatch named: %s", cb_err_msg());
    cb_mlp_free(h);
    cb_result_free(&bad);

    /* the sweep's switches: latala off -> no Latała columns; margins off -> no bounds */
    cb_result_init(&bad, 3);
    bad.task[CB_T_mbp_d] = dused;
    CbMeasureOpts m2 = meas;
    m2.latala = 0;
    m2.margins = 0;
    ctx.measure = &m2;
    CHECK(cb_bounds_run(&ctx, f, g, &bad) == CB_OK && isnan(bad.layers[0].v[CB_L_latala_a]) &&
              bad.n_bounds == 0 && isnan(bad.task[CB_T_gamma_min]) && isfinite(bad.layers[0].v[CB_L_spec_W]),
          "measure.latala/margins off: norms only");
    ctx.measure = &meas;
    cb_result_free(&bad);

    /* again with every label right: positive margins, the recipe bisects, authors_code finite */
    cb_result_free(&res);
    make_data(f, &tr, x, y, 0);
    cb_result_init(&res, 3);
    res.task[CB_T_mbp_d] = dused;
    for (int l = 0; l < 3; ++l) res.layers[l].v[CB_L_param] = psi[l];
    res.layers[1].v[CB_L_rho] = 0.05;
    CHECK(cb_bounds_run(&ctx, f, g, &res) == CB_OK && res.task[CB_T_gamma_min] > 0, "all labels right: min margin %.4g",
          res.task[CB_T_gamma_min]);
    cb_margins_measure(f, NULL, &tr, &mg);
    CHECK(cb_bounds_recipe(&ctx, f, mg.f, N, mg.x_norm_max, &o, &r) == CB_OK, "recipe on the real margins");
    recipe_d_ret = r.d_best;
    recipe_need_ref = needed_ref(&ctx, f, r.d_best, N, mg.x_norm_max);
    CHECK(res.task[CB_T_recipe_solved] == (recipe_need_ref <= mg.f[0]) &&
              (res.task[CB_T_recipe_solved] ? res.task[CB_T_recipe_d] == r.d_best : isnan(res.task[CB_T_recipe_d])),
          "recipe_solved %g agrees with needed %.4g vs min margin %.4g; recipe_d %g", res.task[CB_T_recipe_solved],
          recipe_need_ref, mg.f[0], res.task[CB_T_recipe_d]);
    {
        const CbBoundRow *ac = find_row(&res, "sketch_004_thm5.2", "authors_code");
        CHECK(ac && (res.task[CB_T_recipe_solved] == 1 || strstr(ac->why_not, "recipe unsolved")),
              "an unsolved recipe is named on its row: %s", ac ? ac->why_not : "(no row)");
    }
    cb_margins_free(&mg);
    check_rows_truthful(&res, 1);
    char dir2[] = "/tmp/cb_bounds_XXXXXX";
    CHECK(mkdtemp(dir2) != NULL, "temp dir");
    write_case(dir2, &model, g, x, y, dused, psi, &o, recipe_d_ret, recipe_need_ref);
    compare_with_numpy(dir2, &res);
    snprintf(path, sizeof path, "rm -rf %s", dir2);
    CHECK(system(path) == 0, "cleanup");

    cb_result_free(&res);
    cb_mlp_free(f); cb_mlp_free(g); cb_mlp_free(init);
    free(x); free(y);
    return check_end("bounds");
}
