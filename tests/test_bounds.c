/*
 * test_bounds — every bound, per-layer and per-task column of src/bounds.c on a tiny
 * network (12 -> 9 -> 7 -> 4, biases, MBP-pruned, one layer discretized) recomputed
 * by scripts/bounds_ref.py: an independent numpy implementation reading the stored
 * model files and data. Also: margins and quantiles by brute force, the authors'
 * lpq_norm, the recipe's bisection, and the error paths.
 */
#include "check.h"
#include "cbound/bounds.h"
#include "cbound/discretize.h"
#include "cbound/latala.h"
#include "cbound/margins.h"
#include "cbound/mbp.h"
#include "cbound/model.h"
#include "cbound/norms.h"

#include <string.h>
#include <unistd.h>

enum { N = 150, D0 = 12, K = 4 };
static const size_t widths[4] = {D0, 9, 7, K};

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
            cmp(what, r->log_value, v[0], 1e-7);
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
    CHECK(n_layer == 3 * 16 && n_task >= 13, "numpy recomputed %d layer values, %d task values", n_layer, n_task);
    CHECK(n_bound == res->n_bounds, "numpy recomputed %d of %d bound rows", n_bound, res->n_bounds);
}

static void write_case(const char *dir, const CbModel *model, CbMlp *g, const float *x, const int32_t *y,
                       double dused, const double *psi, const CbBoundsOpts *o, const CbResult *res)
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
    fprintf(fp, "recipe_d %.17g\nrecipe_needed %.17g\n", res->task[CB_T_recipe_d], res->task[CB_T_recipe_needed_margin]);
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
    CHECK(res.task[CB_T_recipe_d] >= 0 && res.task[CB_T_recipe_d] <= 10 && isfinite(res.task[CB_T_recipe_bound_log]),
          "recipe: d = %.4f, needed margin %.4g, bound ln %.4f", res.task[CB_T_recipe_d],
          res.task[CB_T_recipe_needed_margin], res.task[CB_T_recipe_bound_log]);
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
                   (res.bounds[i].log_value == res2.bounds[i].log_value ||
                    (isnan(res.bounds[i].log_value) && isnan(res2.bounds[i].log_value)));
        CHECK(same, "shared logits give identical task columns and bounds (%d bounds)", res2.n_bounds);
        free(zf);
        free(zg);
        cb_result_free(&res2);
    }
    int n_quant = 0;
    for (int i = 0; i < res.n_series; ++i) n_quant += !strcmp(res.series[i].name, "margin_quantile_orig");
    CHECK(n_quant == 101 && res.series[0].y == res.task[CB_T_gamma_min], "101 margin quantiles stored");

    /* the recipe's bisection stops where the needed margin crosses the min margin */
    CbBoundsOpts o;
    cb_bounds_opts_default(&o);
    CbMargins mg;
    cb_margins_measure(f, NULL, &tr, &mg);
    /* shift the data so every margin is positive: use only the correctly labelled rows */
    double *pos = malloc(N * sizeof *pos);
    int np = 0;
    for (int i = 0; i < N; ++i) if (mg.f[i] > 0) pos[np++] = mg.f[i];
    CbRecipe r;
    CHECK(cb_bounds_recipe(&ctx, f, pos, (size_t)np, mg.x_norm_max, &o, &r) == CB_OK, "recipe on positive margins");
    CHECK(r.bracketed ? fabs(r.needed - pos[0]) < 0.25 * pos[0] || r.d_best < 0.01 : r.d_best == 10,
          "recipe: d %.5f, needed %.5g vs min margin %.5g after %d evaluations (bracketed %d)", r.d_best,
          r.needed, pos[0], r.evaluations, r.bracketed);
    CHECK(cb_bounds_recipe(&ctx, f, mg.f, N, mg.x_norm_max, &o, &r) == CB_OK && r.d_best == 0 && r.needed == 0,
          "recipe with a negative min margin: d = 0 as the authors' code");
    free(pos);
    cb_margins_free(&mg);

    /* write the stored weights and data for the numpy recomputation */
    char dir[] = "/tmp/cb_bounds_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "temp dir");
    char path[256];
    write_case(dir, &model, g, x, y, dused, psi, &o, &res);
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
    CHECK(cb_bounds_run(&ctx, f, g, &res) == CB_OK && res.task[CB_T_gamma_min] > 0 && res.task[CB_T_recipe_d] > 0,
          "all labels right: min margin %.4g, recipe d %.5f", res.task[CB_T_gamma_min], res.task[CB_T_recipe_d]);
    char dir2[] = "/tmp/cb_bounds_XXXXXX";
    CHECK(mkdtemp(dir2) != NULL, "temp dir");
    write_case(dir2, &model, g, x, y, dused, psi, &o, &res);
    compare_with_numpy(dir2, &res);
    snprintf(path, sizeof path, "rm -rf %s", dir2);
    CHECK(system(path) == 0, "cleanup");

    cb_result_free(&res);
    cb_mlp_free(f); cb_mlp_free(g); cb_mlp_free(init);
    free(x); free(y);
    return check_end("bounds");
}
