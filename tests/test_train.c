/*
 * Tests for train: (1) PyTorch parity — logits, loss and every layer's weight and
 * bias gradient against scripts/torch_ref.py (Debian's python3-torch) on the same
 * weights and batch, for relu/tanh/softplus/identity × bias on/off × CE/MSE, and
 * full-batch optimizer trajectories (SGD momentum + weight decay + step drop,
 * Adam + weight decay + mask + snapshot) against torch.optim; (2) central finite
 * differences of an independent double-precision loss (cb_mlp_forward_d + a loss
 * written here) against the float gradients; (3) evaluation (loss, accuracy,
 * margins checked by hand) and every error path of cb_train / cb_train_eval.
 * (4) the AVX2 kernels against the portable loops (bit-identical); (5) training on a
 * Fashion-MNIST subset reaches PyTorch's accuracy with the same init, order and settings.
 */
#include "cbound/train.h"
#include "check.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ helpers */

static void fill_normal(float *a, size_t n, double sd, uint32_t index)
{
    CbStream s = cb_rng_stream(2385, 77, CB_RNG_TEST, index);
    for (size_t i = 0; i < n; ++i) a[i] = (float)(sd * cb_rng_normal(&s));
}

static void write_file(const char *dir, const char *name, const void *p, size_t bytes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes) CB_DIE("cannot write %s", path);
    fclose(f);
}

/* Reads exactly `bytes`; returns 0 when the file is missing or short. */
static int read_file(const char *dir, const char *name, void *p, size_t bytes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(p, 1, bytes, f);
    fclose(f);
    return got == bytes;
}

/* max |a - ref| <= rtol * max |ref| (+ atol); prints both. */
static void compare(const char *what, const float *a, const float *ref, size_t n, double rtol, double atol)
{
    double dmax = 0, rmax = 0;
    int nan = 0;
    for (size_t i = 0; i < n; ++i) {
        double d = fabs((double)a[i] - ref[i]);
        nan |= isnan(a[i]) || isnan(ref[i]);
        if (d > dmax) dmax = d;
        if (fabs(ref[i]) > rmax) rmax = fabs(ref[i]);
    }
    CHECK(!nan && dmax <= rtol * rmax + atol, "%-34s max|diff| %.3g  max|ref| %.3g  rel %.3g (rtol %.0e, atol %.1e)",
          what, dmax, rmax, rmax > 0 ? dmax / rmax : 0.0, rtol, atol);
}

typedef struct {
    const char *name;
    CbAct act;
    double beta;
    int bias;
    CbLoss loss;
    int opt; /* -1 none, else CB_OPT_* */
} Case;

enum { DEPTH = 3, N = 37 };
static const size_t widths[DEPTH + 1] = {13, 29, 17, 5};

static void make_batch(CbMlp *m, float *x, int32_t *y, float *t, uint32_t tag)
{
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 0, 2385, tag);
    /* nudge biases away from PyTorch's small U(±1/sqrt(fan_in)) so they matter */
    fill_normal(x, N * widths[0], 1.3, 10 * tag + 1);
    fill_normal(t, N * widths[DEPTH], 0.9, 10 * tag + 2);
    CbStream s = cb_rng_stream(2385, 77, CB_RNG_TEST, 10 * tag + 3);
    for (int i = 0; i < N; ++i) y[i] = (int32_t)cb_rng_below(&s, widths[DEPTH]);
}

static void write_case(const char *root, int idx, const Case *c, const CbMlp *m, const float *x,
                       const int32_t *y, const float *t, const CbTrainConfig *tc)
{
    char dir[512], js[2048];
    snprintf(dir, sizeof dir, "%s/case%02d", root, idx);
    mkdir(dir, 0700);
    write_file(dir, "x.f32", x, N * widths[0] * sizeof *x);
    if (c->loss == CB_LOSS_CROSS_ENTROPY) write_file(dir, "y.i32", y, N * sizeof *y);
    else write_file(dir, "t.f32", t, N * widths[DEPTH] * sizeof *t);
    write_file(dir, "params.f32", m->params, m->n_params * sizeof(float));
    char opt[1024] = "null";
    if (tc) {
        snprintf(opt, sizeof opt,
                 "{\"kind\": \"%s\", \"lr\": %.17g, \"momentum\": %.17g, \"weight_decay\": %.17g, \"beta1\": %.17g, "
                 "\"beta2\": %.17g, \"eps\": %.17g, \"epochs\": %d, \"drop_epochs\": [%s], \"drop_factor\": %.17g, "
                 "\"snapshot_step\": %ld, \"mask\": %d}",
                 tc->opt == CB_OPT_ADAM ? "adam" : "sgd", tc->lr, tc->momentum, tc->weight_decay, tc->beta1,
                 tc->beta2, tc->eps, tc->epochs, tc->n_drops ? "2" : "", tc->drop_factor, tc->snapshot_step,
                 tc->mask != NULL);
        if (tc->mask) write_file(dir, "mask.u8", tc->mask, m->n_params);
    }
    snprintf(js, sizeof js,
             "{\"widths\": [%zu, %zu, %zu, %zu], \"act\": \"%s\", \"beta\": %.17g, \"bias\": %d, \"loss\": \"%s\", "
             "\"n\": %d, \"opt\": %s}\n",
             widths[0], widths[1], widths[2], widths[3], cb_mlp_act_name(c->act), c->beta, c->bias,
             c->loss == CB_LOSS_CROSS_ENTROPY ? "ce" : "mse", N, opt);
    write_file(dir, "case.json", js, strlen(js));
}

/* Independent double-precision loss for the finite-difference check. */
static double loss_d(const CbMlp *m, const double *p, CbLoss loss, const float *x, const int32_t *y,
                     const float *t, size_t n)
{
    size_t k = m->widths[m->depth];
    double *z = cb_malloc(n * k * sizeof *z), L = 0;
    cb_mlp_forward_d(m, p, x, n, z, NULL);
    for (size_t i = 0; i < n; ++i) {
        if (loss == CB_LOSS_CROSS_ENTROPY) {
            double mx = z[i * k], s = 0;
            for (size_t j = 1; j < k; ++j) mx = fmax(mx, z[i * k + j]);
            for (size_t j = 0; j < k; ++j) s += exp(z[i * k + j] - mx);
            L += mx + log(s) - z[i * k + (size_t)y[i]];
        } else {
            for (size_t j = 0; j < k; ++j) L += (z[i * k + j] - t[i * k + j]) * (z[i * k + j] - t[i * k + j]);
        }
    }
    free(z);
    return loss == CB_LOSS_CROSS_ENTROPY ? L / (double)n : L / (double)(n * k);
}

static CbData make_data(float *x, int32_t *y, float *t, size_t n, size_t d, size_t k)
{
    CbData D;
    memset(&D, 0, sizeof D);
    D.n = n;
    D.d = d;
    D.x = x;
    D.y = y;
    D.t = t;
    D.n_classes = y ? k : 0;
    D.n_targets = t ? k : 0;
    snprintf(D.name, sizeof D.name, "test-batch");
    return D;
}

/* ------------------------------------------------------------------ (1) PyTorch parity */

static void test_torch_parity(void)
{
    static const Case cases[] = {
        {"relu bias ce", CB_ACT_RELU, 1, 1, CB_LOSS_CROSS_ENTROPY, -1},
        {"relu nobias ce", CB_ACT_RELU, 1, 0, CB_LOSS_CROSS_ENTROPY, -1},
        {"relu bias mse", CB_ACT_RELU, 1, 1, CB_LOSS_MSE, -1},
        {"relu nobias mse", CB_ACT_RELU, 1, 0, CB_LOSS_MSE, -1},
        {"tanh bias ce", CB_ACT_TANH, 1, 1, CB_LOSS_CROSS_ENTROPY, -1},
        {"tanh nobias ce", CB_ACT_TANH, 1, 0, CB_LOSS_CROSS_ENTROPY, -1},
        {"tanh bias mse", CB_ACT_TANH, 1, 1, CB_LOSS_MSE, -1},
        {"tanh nobias mse", CB_ACT_TANH, 1, 0, CB_LOSS_MSE, -1},
        {"softplus(3.7) bias ce", CB_ACT_SOFTPLUS, 3.7, 1, CB_LOSS_CROSS_ENTROPY, -1},
        {"softplus(3.7) nobias ce", CB_ACT_SOFTPLUS, 3.7, 0, CB_LOSS_CROSS_ENTROPY, -1},
        {"softplus(0.45) bias mse", CB_ACT_SOFTPLUS, 0.45, 1, CB_LOSS_MSE, -1},
        {"softplus(0.45) nobias mse", CB_ACT_SOFTPLUS, 0.45, 0, CB_LOSS_MSE, -1},
        {"identity bias ce", CB_ACT_IDENTITY, 1, 1, CB_LOSS_CROSS_ENTROPY, -1},
        {"identity nobias ce", CB_ACT_IDENTITY, 1, 0, CB_LOSS_CROSS_ENTROPY, -1},
        {"identity bias mse", CB_ACT_IDENTITY, 1, 1, CB_LOSS_MSE, -1},
        {"identity nobias mse", CB_ACT_IDENTITY, 1, 0, CB_LOSS_MSE, -1},
        {"sgd momentum wd drop, relu ce", CB_ACT_RELU, 1, 1, CB_LOSS_CROSS_ENTROPY, CB_OPT_SGD},
        {"adam wd mask snapshot, tanh mse", CB_ACT_TANH, 1, 1, CB_LOSS_MSE, CB_OPT_ADAM},
        {"adam wd, softplus ce", CB_ACT_SOFTPLUS, 2.2, 0, CB_LOSS_CROSS_ENTROPY, CB_OPT_ADAM},
    };
    enum { NC = sizeof cases / sizeof cases[0] };
    char root[] = "/tmp/cbound-torchref-XXXXXX";
    if (!mkdtemp(root)) CB_DIE("mkdtemp failed");
    CbMlp *nets[NC];
    CbTrainConfig tcs[NC];
    unsigned char *masks[NC] = {0};
    float *snaps[NC] = {0};
    float x[N * 13], t[N * 5];
    int32_t y[N];
    for (int c = 0; c < NC; ++c) {
        CHECK(cb_mlp_alloc(DEPTH, widths, cases[c].act, cases[c].beta, cases[c].bias, &nets[c]) == CB_OK,
              "alloc %s", cases[c].name);
        make_batch(nets[c], x, y, t, (uint32_t)c);
        CbTrainConfig *tc = NULL;
        if (cases[c].opt >= 0) {
            tc = &tcs[c];
            cb_train_config_default(tc);
            tc->loss = cases[c].loss;
            tc->opt = (CbOpt)cases[c].opt;
            tc->epochs = 3;
            tc->batch = N;
            tc->quiet = 1;
            tc->seed = 5;
            if (tc->opt == CB_OPT_SGD) {
                tc->lr = 0.173;
                tc->momentum = 0.9;
                tc->weight_decay = 0.0125;
                tc->n_drops = 1;
                tc->drop_epochs[0] = 2; /* 0-based epoch 2 = the third step */
                tc->drop_factor = 0.35;
            } else {
                tc->lr = 0.0137;
                tc->weight_decay = 0.021;
                tc->beta1 = 0.85;
                tc->beta2 = 0.99;
                tc->eps = 1e-7;
            }
            if (c == 17) {
                masks[c] = cb_malloc(nets[c]->n_params);
                for (size_t i = 0; i < nets[c]->n_params; ++i)
                    masks[c][i] = cb_rng_uniform_at(1, 2, CB_RNG_TEST, 3, i) > 0.3;
                tc->mask = masks[c];
                snaps[c] = cb_malloc(nets[c]->n_params * sizeof(float));
                tc->snapshot = snaps[c];
                tc->snapshot_step = 2;
            }
        }
        write_case(root, c, &cases[c], nets[c], x, y, t, tc);
    }
    char cmd[1024];
    const char *src = getenv("CBOUND_SRC") ? getenv("CBOUND_SRC") : ".";
    snprintf(cmd, sizeof cmd, "OPENBLAS_NUM_THREADS=1 /usr/bin/python3 %s/scripts/torch_ref.py %s", src, root);
    int rc = system(cmd);
    CHECK(rc == 0, "scripts/torch_ref.py ran (exit %d)", rc);

    for (int c = 0; c < NC; ++c) {
        CbMlp *m = nets[c];
        char dir[512];
        snprintf(dir, sizeof dir, "%s/case%02d", root, c);
        size_t k = widths[DEPTH], P = m->n_params;
        make_batch(m, x, y, t, (uint32_t)c);
        float *logits = cb_malloc(N * k * sizeof(float)), *rlogits = cb_malloc(N * k * sizeof(float));
        float *grad = cb_malloc(P * sizeof(float)), *rgrad = cb_malloc(P * sizeof(float));
        float *work = cb_malloc(cb_mlp_forward_work_size(m, N) * sizeof(float));
        double rloss = NAN;
        int have = read_file(dir, "logits.f32", rlogits, N * k * sizeof(float)) &&
                   read_file(dir, "grad.f32", rgrad, P * sizeof(float)) && read_file(dir, "loss.f64", &rloss, 8);
        CHECK(have, "%s: torch reference present", cases[c].name);
        if (have) {
            char what[128];
            cb_mlp_forward(m, x, N, logits, work);
            const int32_t *yy = cases[c].loss == CB_LOSS_CROSS_ENTROPY ? y : NULL;
            const float *tt = cases[c].loss == CB_LOSS_MSE ? t : NULL;
            double L = cb_train_loss_grad(m, cases[c].loss, x, yy, tt, N, grad);
            snprintf(what, sizeof what, "%s: logits", cases[c].name);
            compare(what, logits, rlogits, N * k, 1e-5, 0);
            snprintf(what, sizeof what, "%s: loss", cases[c].name);
            CHECK_REL(L, rloss, 1e-5, what);
            for (int l = 0; l < DEPTH; ++l) {
                snprintf(what, sizeof what, "%s: dL/dW[%d]", cases[c].name, l);
                compare(what, grad + m->offset_W[l], rgrad + m->offset_W[l], widths[l] * widths[l + 1], 1e-5, 0);
                if (m->bias) {
                    snprintf(what, sizeof what, "%s: dL/db[%d]", cases[c].name, l);
                    compare(what, grad + m->offset_b[l], rgrad + m->offset_b[l], widths[l + 1], 1e-5, 0);
                }
            }
            if (cases[c].opt >= 0) {
                CbData D = make_data(x, (int32_t *)(uintptr_t)yy, (float *)(uintptr_t)tt, N, widths[0], k);
                CbTrainResult res;
                CbStatus st = cb_train(m, &tcs[c], &D, NULL, &res);
                CHECK(st == CB_OK && res.steps == 3 && res.epochs_run == 3, "%s: 3 full-batch steps (%s)",
                      cases[c].name, cb_err_msg());
                float *ref = cb_malloc(P * sizeof(float));
                /* Adam divides by sqrt(v): a gradient near float noise level can turn a rounding
                 * difference into a visible step, so its tolerance is absolute, 2e-3 lr (a wrong
                 * formula changes parameters by ~lr); SGD's is relative to the weights. */
                double rtol = tcs[c].opt == CB_OPT_ADAM ? 0 : 2e-5, atol = tcs[c].opt == CB_OPT_ADAM ? 2e-3 * tcs[c].lr : 0;
                if (read_file(dir, "final.f32", ref, P * sizeof(float))) {
                    snprintf(what, sizeof what, "%s: params after 3 steps", cases[c].name);
                    compare(what, m->params, ref, P, rtol, atol);
                } else CHECK(0, "%s: final.f32 missing", cases[c].name);
                if (snaps[c]) {
                    int ok = read_file(dir, "snap.f32", ref, P * sizeof(float));
                    snprintf(what, sizeof what, "%s: snapshot after step 2", cases[c].name);
                    if (ok) compare(what, snaps[c], ref, P, rtol, atol);
                    else CHECK(0, "%s: snap.f32 missing", cases[c].name);
                    size_t regrown = 0;
                    for (size_t i = 0; i < P; ++i) regrown += !masks[c][i] && m->params[i] != 0.0f;
                    CHECK(regrown == 0, "%s: masked weights stay zero (%zu regrew)", cases[c].name, regrown);
                }
                free(ref);
            }
        }
        free(logits);
        free(rlogits);
        free(grad);
        free(rgrad);
        free(work);
        free(masks[c]);
        free(snaps[c]);
        cb_mlp_free(m);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", root);
}

/* ------------------------------------------------------------------ (2) finite differences */

static void test_finite_differences(void)
{
    static const size_t w[4] = {6, 9, 7, 4};
    const CbAct acts[4] = {CB_ACT_RELU, CB_ACT_TANH, CB_ACT_SOFTPLUS, CB_ACT_IDENTITY};
    enum { n = 11 };
    float x[n * 6], t[n * 4];
    int32_t y[n];
    fill_normal(x, n * 6, 1.1, 500);
    fill_normal(t, n * 4, 0.7, 501);
    CbStream s = cb_rng_stream(2385, 77, CB_RNG_TEST, 502);
    for (int i = 0; i < n; ++i) y[i] = (int32_t)cb_rng_below(&s, 4);
    for (int a = 0; a < 4; ++a)
        for (int bias = 0; bias <= 1; ++bias)
            for (int lo = 0; lo <= 1; ++lo) {
                CbLoss loss = lo ? CB_LOSS_MSE : CB_LOSS_CROSS_ENTROPY;
                CbMlp *m;
                cb_mlp_alloc(3, w, acts[a], 1.9, bias, &m);
                cb_mlp_init(m, CB_INIT_GAUSSIAN, 1.6, 31, (uint64_t)(a * 4 + bias * 2 + lo));
                if (bias) fill_normal(m->params + m->offset_b[0], w[1], 0.3, 503); /* nonzero biases */
                size_t P = m->n_params;
                float *g = cb_malloc(P * sizeof *g);
                double *p = cb_malloc(P * sizeof *p);
                cb_train_loss_grad(m, loss, x, lo ? NULL : y, lo ? t : NULL, n, g);
                cb_mlp_params_to_double(m, p);
                double worst = 0, gmax = 0;
                const double h = 1e-6;
                for (size_t i = 0; i < P; ++i) {
                    double p0 = p[i];
                    p[i] = p0 + h;
                    double up = loss_d(m, p, loss, x, lo ? NULL : y, lo ? t : NULL, n);
                    p[i] = p0 - h;
                    double dn = loss_d(m, p, loss, x, lo ? NULL : y, lo ? t : NULL, n);
                    p[i] = p0;
                    double fd = (up - dn) / (2 * h);
                    worst = fmax(worst, fabs(fd - g[i]));
                    gmax = fmax(gmax, fabs(fd));
                }
                CHECK(worst <= 1e-4 * gmax + 1e-7,
                      "finite differences (double, h=1e-6) vs float gradient: %s bias=%d %s: max|diff| %.3g, max|grad| %.3g",
                      cb_mlp_act_name(acts[a]), bias, lo ? "mse" : "ce", worst, gmax);
                free(g);
                free(p);
                cb_mlp_free(m);
            }
}

/* ------------------------------------------------------------------ (3) eval, errors */

static void test_eval_and_errors(void)
{
    static const size_t w[3] = {3, 5, 4};
    CbMlp *m;
    cb_mlp_alloc(2, w, CB_ACT_RELU, 0, 1, &m);
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 0, 8, 9);
    enum { n = 1500 }; /* > one eval batch of 1024 */
    float *x = cb_malloc(n * 3 * sizeof *x), *z = cb_malloc(n * 4 * sizeof *z);
    float *work = cb_malloc(cb_mlp_forward_work_size(m, n) * sizeof *work);
    int32_t *y = cb_malloc(n * sizeof *y);
    fill_normal(x, n * 3, 2.0, 600);
    CbStream s = cb_rng_stream(2385, 77, CB_RNG_TEST, 601);
    for (int i = 0; i < n; ++i) y[i] = (int32_t)cb_rng_below(&s, 4);
    CbData D = make_data(x, y, NULL, n, 3, 4);
    double loss, acc, *marg = cb_malloc(n * sizeof *marg);
    CHECK(cb_train_eval(m, CB_LOSS_CROSS_ENTROPY, &D, &loss, &acc, marg) == CB_OK, "eval ok");
    cb_mlp_forward(m, x, n, z, work);
    double L = 0, worst = 0;
    int ok = 0;
    for (int i = 0; i < n; ++i) {
        const float *r = z + 4 * i;
        double other = -1e30, se = 0;
        int am = 0;
        for (int j = 0; j < 4; ++j) {
            if (j != y[i]) other = fmax(other, r[j]);
            if (r[j] > r[am]) am = j;
            se += exp((double)r[j]);
        }
        L += log(se) - r[y[i]];
        ok += am == y[i];
        worst = fmax(worst, fabs(marg[i] - (r[y[i]] - other)));
        if ((marg[i] > 0) != (am == y[i])) worst = 1;
    }
    CHECK_REL(loss, L / n, 1e-6, "eval cross-entropy = direct sum");
    CHECK_CLOSE(acc, (double)ok / n, 1e-12, "eval accuracy = direct count");
    CHECK(worst < 1e-6, "margins f(x)[y] - max_{j!=y} f(x)[j] match, sign = correctness (worst %.3g)", worst);

    /* error paths */
    CbData Dr = make_data(x, NULL, z, n, 3, 4); /* regression view (targets: any (n, 4) floats) */
    CHECK(cb_train_eval(m, CB_LOSS_CROSS_ENTROPY, &Dr, &loss, &acc, NULL) == CB_EINVAL &&
              strstr(cb_err_msg(), "needs class labels"),
          "CE on regression data rejected: %s", cb_err_msg());
    CHECK(cb_train_eval(m, CB_LOSS_MSE, &Dr, &loss, &acc, marg) == CB_EINVAL && strstr(cb_err_msg(), "margins"),
          "margins without labels rejected: %s", cb_err_msg());
    CbData Dd = make_data(x, y, NULL, n, 2, 4);
    CHECK(cb_train_eval(m, CB_LOSS_CROSS_ENTROPY, &Dd, &loss, &acc, NULL) == CB_EINVAL &&
              strstr(cb_err_msg(), "expected 3 features"),
          "wrong input width rejected: %s", cb_err_msg());
    CbData Dk = make_data(x, y, NULL, n, 3, 7);
    CHECK(cb_train_eval(m, CB_LOSS_CROSS_ENTROPY, &Dk, &loss, &acc, NULL) == CB_EINVAL &&
              strstr(cb_err_msg(), "expected 4 classes"),
          "wrong class count rejected: %s", cb_err_msg());
    CHECK(cb_train_eval(m, CB_LOSS_MSE, &Dk, &loss, &acc, NULL) == CB_EINVAL && strstr(cb_err_msg(), "MSE expected 4"),
          "wrong MSE target width rejected: %s", cb_err_msg());
    /* MSE against one-hot labels is allowed and equals the direct formula */
    CHECK(cb_train_eval(m, CB_LOSS_MSE, &D, &loss, &acc, NULL) == CB_OK, "MSE on labels (one-hot) accepted");
    {
        double S = 0;
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < 4; ++j) S += pow(z[4 * i + j] - (j == y[i]), 2);
        CHECK_REL(loss, S / (4.0 * n), 1e-6, "MSE with one-hot targets");
    }

    CbTrainConfig c;
    CbTrainResult res;
    static const char *const bad[] = {"lr", "momentum", "epochs", "batch", "beta2", "drop_factor", "snapshot"};
    for (int b = 0; b < (int)(sizeof bad / sizeof bad[0]); ++b) {
        cb_train_config_default(&c);
        c.quiet = 1;
        switch (b) {
        case 0: c.lr = -0.5; break;
        case 1: c.momentum = 1.0; break;
        case 2: c.epochs = 0; break;
        case 3: c.batch = 0; break;
        case 4: c.opt = CB_OPT_ADAM; c.beta2 = 1.0; break;
        case 5: c.n_drops = 1; c.drop_factor = 0; break;
        case 6: c.snapshot_step = 3; break;
        }
        CHECK(cb_train(m, &c, &D, NULL, &res) == CB_EINVAL && strstr(cb_err_msg(), bad[b]) &&
                  cb_err_hint_msg()[0],
              "bad config %s rejected: %s", bad[b], cb_err_msg());
    }
    cb_train_config_default(&c);
    c.quiet = 1;
    CHECK(cb_train(m, &c, &Dk, NULL, &res) == CB_EINVAL && strstr(cb_err_msg(), "training data"),
          "train: shape mismatch rejected: %s", cb_err_msg());
    CHECK(cb_train(m, &c, &D, &Dd, &res) == CB_EINVAL && strstr(cb_err_msg(), "test data"),
          "train: test-set mismatch rejected: %s", cb_err_msg());
    cb_train_config_default(&c);
    c.quiet = 1;
    c.epochs = 2;
    c.batch = 1000; /* 1500 samples: 2 batches per epoch, 4 steps */
    float snap[64];
    c.snapshot = snap;
    c.snapshot_step = 5;
    CHECK(cb_train(m, &c, &D, NULL, &res) == CB_EINVAL && strstr(cb_err_msg(), "beyond the last step (2 epochs x 2 batches = 4)"),
          "snapshot step beyond the run rejected: %s", cb_err_msg());
    cb_train_config_default(&c);
    c.quiet = 1;
    y[777] = 4;
    CHECK(cb_train(m, &c, &D, NULL, &res) == CB_EINVAL && strstr(cb_err_msg(), "sample 777 is 4"),
          "train: label out of range rejected: %s", cb_err_msg());
    y[777] = -1;
    CHECK(cb_train_eval(m, CB_LOSS_CROSS_ENTROPY, &D, &loss, &acc, NULL) == CB_EINVAL &&
              strstr(cb_err_msg(), "sample 777 is -1"),
          "eval: negative label rejected: %s", cb_err_msg());
    y[777] = 2;
    CbData D0 = make_data(x, y, NULL, 0, 3, 4);
    CHECK(cb_train(m, &c, &D0, NULL, &res) == CB_EINVAL && strstr(cb_err_msg(), "empty"),
          "train: empty data rejected: %s", cb_err_msg());

    /* divergence: an absurd learning rate on MSE with huge targets -> CB_ENUMERIC naming epoch and step */
    {
        float *tb = cb_malloc(n * 4 * sizeof *tb);
        fill_normal(tb, n * 4, 1e18, 602);
        CbData Dt = make_data(x, NULL, tb, n, 3, 4);
        cb_train_config_default(&c);
        c.quiet = 1;
        c.loss = CB_LOSS_MSE;
        c.lr = 1e10;
        c.epochs = 3;
        CbStatus st = cb_train(m, &c, &Dt, NULL, &res);
        CHECK(st == CB_ENUMERIC && strstr(cb_err_msg(), "epoch") && strstr(cb_err_msg(), "step"),
              "divergence reported: %s", cb_err_msg());
        /* one full-batch step whose loss is finite but whose update overflows the weights */
        fill_normal(tb, n * 4, 1e5, 603);
        cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 0, 8, 9);
        c.lr = 1e38;
        c.epochs = 1;
        c.batch = n;
        st = cb_train(m, &c, &Dt, NULL, &res);
        CHECK(st == CB_ENUMERIC && res.steps == 1 && strstr(cb_err_msg(), "trained network: layer"),
              "overflow in the last step reported: %s", cb_err_msg());
        free(tb);
    }

    /* a short training run on separable data learns it; stop rule fires; partial last batch kept */
    {
        cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 0, 8, 9);
        for (int i = 0; i < n; ++i) { /* label = argmax of the first 3 features, plus a 4th class */
            int am = 0;
            for (int j = 1; j < 3; ++j)
                if (x[3 * i + j] > x[3 * i + am]) am = j;
            y[i] = x[3 * i + am] > 2.5f ? 3 : am;
        }
        cb_train_config_default(&c);
        c.quiet = 1;
        c.opt = CB_OPT_ADAM;
        c.lr = 0.01;
        c.batch = 64; /* 1500 = 23 * 64 + 28 */
        c.epochs = 200;
        c.stop_ce = 0.2;
        CbStatus st = cb_train(m, &c, &D, NULL, &res);
        CHECK(st == CB_OK && res.epochs_run < 200 && res.steps == 24L * res.epochs_run,
              "stop rule: stopped after %d epochs, %ld steps (24 per epoch incl. the partial batch)", res.epochs_run,
              res.steps);
        CHECK(res.train_acc > 0.9, "separable data learned: train acc %.4f, loss %.4f", res.train_acc, res.train_loss);
    }
    free(x);
    free(z);
    free(work);
    free(y);
    free(marg);
    cb_mlp_free(m);
}

/* ------------------------------------------------------------------ (5) Fashion-MNIST vs PyTorch */

static double json_num(const char *js, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(js, pat);
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* Same data subset, same initial weights, same minibatch order (cbound's shuffle
 * from (seed, key, CB_RNG_DATA_ORDER, epoch), exported), same SGD settings: cbound and
 * torch.optim.SGD must end at the same accuracy. */
static void test_fashion_mnist_vs_torch(void)
{
    CbDataSpec spec;
    CbData tr, te;
    cb_data_spec_default(&spec);
    spec.n_train = 6000;
    spec.n_test = 2000;
    CbStatus st = cb_data_load(&spec, &tr, &te);
    CHECK(st == CB_OK, "Fashion-MNIST subset loaded (%s)", st == CB_OK ? tr.source : cb_err_msg());
    if (st != CB_OK) return;
    static const size_t w[3] = {784, 200, 10};
    CbMlp *m;
    cb_mlp_alloc(2, w, CB_ACT_RELU, 0, 1, &m);
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 0, 11, 12);
    CbTrainConfig c;
    cb_train_config_default(&c);
    c.opt = CB_OPT_SGD;
    c.lr = 0.05;
    c.momentum = 0.9;
    c.weight_decay = 1e-4;
    c.batch = 64;
    c.epochs = 4;
    c.seed = 11;
    c.key = 12;

    char root[] = "/tmp/cbound-fmnist-XXXXXX", dir[600], js[1024];
    if (!mkdtemp(root)) CB_DIE("mkdtemp failed");
    snprintf(dir, sizeof dir, "%s/run", root);
    mkdir(dir, 0700);
    write_file(dir, "params.f32", m->params, m->n_params * sizeof(float));
    write_file(dir, "xtr.f32", tr.x, tr.n * tr.d * sizeof(float));
    write_file(dir, "ytr.i32", tr.y, tr.n * sizeof(int32_t));
    write_file(dir, "xte.f32", te.x, te.n * te.d * sizeof(float));
    write_file(dir, "yte.i32", te.y, te.n * sizeof(int32_t));
    int64_t *perm64 = cb_malloc((size_t)c.epochs * tr.n * sizeof *perm64);
    size_t *perm = cb_malloc(tr.n * sizeof *perm);
    for (int e = 0; e < c.epochs; ++e) { /* the order cb_train uses (train.h) */
        for (size_t i = 0; i < tr.n; ++i) perm[i] = i;
        CbStream s = cb_rng_stream(c.seed, c.key, CB_RNG_DATA_ORDER, (uint32_t)e);
        cb_rng_shuffle(&s, perm, tr.n);
        for (size_t i = 0; i < tr.n; ++i) perm64[(size_t)e * tr.n + i] = (int64_t)perm[i];
    }
    write_file(dir, "perm.i64", perm64, (size_t)c.epochs * tr.n * sizeof *perm64);
    snprintf(js, sizeof js,
             "{\"widths\": [784, 200, 10], \"act\": \"relu\", \"beta\": 1, \"bias\": 1, \"loss\": \"ce\", \"n\": 0, "
             "\"run\": {\"n_train\": %zu, \"n_test\": %zu, \"epochs\": %d, \"batch\": %zu, \"lr\": %.17g, "
             "\"momentum\": %.17g, \"weight_decay\": %.17g}}\n",
             tr.n, te.n, c.epochs, c.batch, c.lr, c.momentum, c.weight_decay);
    write_file(dir, "case.json", js, strlen(js));

    CbTrainResult res;
    st = cb_train(m, &c, &tr, &te, &res);
    CHECK(st == CB_OK && res.epochs_run == 4 && res.steps == 4 * 94, "cbound trained 4 epochs (%ld steps): %s",
          res.steps, st == CB_OK ? "ok" : cb_err_msg());

    char cmd[1024];
    const char *src = getenv("CBOUND_SRC") ? getenv("CBOUND_SRC") : ".";
    snprintf(cmd, sizeof cmd, "OPENBLAS_NUM_THREADS=1 /usr/bin/python3 %s/scripts/torch_ref.py %s", src, root);
    CHECK(system(cmd) == 0, "torch_ref.py trained the same run");
    char out[1024] = "";
    FILE *f = fopen(strcat(strcpy(cmd, dir), "/run.json"), "r");
    if (f) {
        size_t got = fread(out, 1, sizeof out - 1, f);
        out[got] = '\0';
        fclose(f);
    }
    double t_acc = json_num(out, "test_acc"), t_loss = json_num(out, "train_loss"), tr_acc = json_num(out, "train_acc");
    printf("fashion-mnist 6000/2000, 784-200-10 relu, SGD lr 0.05 momentum 0.9 wd 1e-4, batch 64, 4 epochs:\n"
           "  cbound  train loss %.4f  train acc %.4f  test acc %.4f\n"
           "  torch   train loss %.4f  train acc %.4f  test acc %.4f\n",
           res.train_loss, res.train_acc, res.test_acc, t_loss, tr_acc, t_acc);
    CHECK(res.test_acc > 0.78, "cbound learns Fashion-MNIST: test acc %.4f > 0.78", res.test_acc);
    CHECK(fabs(res.test_acc - t_acc) <= 0.01, "test accuracy matches PyTorch: %.4f vs %.4f (tol 0.01)", res.test_acc,
          t_acc);
    CHECK(fabs(res.train_loss - t_loss) <= 0.02 * t_loss, "train loss matches PyTorch: %.5f vs %.5f (2%%)",
          res.train_loss, t_loss);
    float *ref = cb_malloc(m->n_params * sizeof *ref);
    if (read_file(dir, "final.f32", ref, m->n_params * sizeof *ref)) {
        double d2 = 0, r2 = 0;
        for (size_t i = 0; i < m->n_params; ++i) {
            d2 += ((double)m->params[i] - ref[i]) * ((double)m->params[i] - ref[i]);
            r2 += (double)ref[i] * ref[i];
        }
        CHECK(sqrt(d2 / r2) < 1e-3, "final weights match PyTorch's after 376 steps: relative L2 diff %.3g",
              sqrt(d2 / r2));
    } else CHECK(0, "final.f32 missing");
    free(ref);
    free(perm);
    free(perm64);
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", root);
    cb_mlp_free(m);
    cb_data_free(&tr);
    cb_data_free(&te);
}

/* ------------------------------------------------------------------ (4) vector kernels = reference loops */

static void test_simd_matches_reference(void)
{
    static const size_t w[4] = {37, 45, 20, 7}; /* widths not multiples of 8: vector tails */
    enum { n = 300 };
    float *x = cb_malloc(n * 37 * sizeof *x);
    int32_t y[n];
    fill_normal(x, n * 37, 1.0, 700);
    CbStream s = cb_rng_stream(2385, 77, CB_RNG_TEST, 701);
    for (int i = 0; i < n; ++i) y[i] = (int32_t)cb_rng_below(&s, 7);
    CbData D = make_data(x, y, NULL, n, 37, 7);
    int have = cb_mlp_simd(-1);
    for (int opt = 0; opt < 3; ++opt) {
        CbMlp *a, *b;
        cb_mlp_alloc(3, w, CB_ACT_RELU, 0, 1, &a);
        cb_mlp_init(a, CB_INIT_KAIMING_UNIFORM, 0, 4, 5);
        b = cb_mlp_clone(a);
        CbTrainConfig c;
        CbTrainResult r1, r2;
        cb_train_config_default(&c);
        c.quiet = 1;
        c.batch = 64;
        c.epochs = 3;
        c.opt = opt == 2 ? CB_OPT_ADAM : CB_OPT_SGD;
        c.momentum = opt == 1 ? 0.9 : 0.0;
        c.weight_decay = 0.003;
        c.lr = opt == 2 ? 0.003 : 0.05;
        cb_mlp_simd(1);
        CbStatus s1 = cb_train(a, &c, &D, NULL, &r1);
        cb_mlp_simd(0);
        CbStatus s2 = cb_train(b, &c, &D, NULL, &r2);
        cb_mlp_simd(1);
        CHECK(s1 == CB_OK && s2 == CB_OK && !memcmp(a->params, b->params, a->n_params * sizeof(float)),
              "%s: vector kernels (%s) bit-identical to the portable loops after 15 steps",
              opt == 2 ? "adam" : opt ? "sgd+momentum" : "sgd", have ? "AVX2 active" : "not available here");
        cb_mlp_free(a);
        cb_mlp_free(b);
    }
    /* tanh and softplus use libmvec in the vector path: within a few ulp of libm */
    const CbAct smooth[2] = {CB_ACT_TANH, CB_ACT_SOFTPLUS};
    for (int a = 0; a < 2; ++a) {
        CbMlp *m1, *m2;
        cb_mlp_alloc(3, w, smooth[a], 2.3, 1, &m1);
        cb_mlp_init(m1, CB_INIT_KAIMING_UNIFORM, 0, 4, 6);
        m2 = cb_mlp_clone(m1);
        float *o1 = cb_malloc(n * 7 * sizeof *o1), *o2 = cb_malloc(n * 7 * sizeof *o2);
        float *work = cb_malloc(cb_mlp_forward_work_size(m1, n) * sizeof *work);
        float *g1 = cb_malloc(m1->n_params * sizeof *g1), *g2 = cb_malloc(m1->n_params * sizeof *g2);
        cb_mlp_simd(1);
        cb_mlp_forward(m1, x, n, o1, work);
        cb_train_loss_grad(m1, CB_LOSS_CROSS_ENTROPY, x, y, NULL, n, g1);
        cb_mlp_simd(0);
        cb_mlp_forward(m1, x, n, o2, work);
        cb_train_loss_grad(m1, CB_LOSS_CROSS_ENTROPY, x, y, NULL, n, g2);
        char what[96];
        snprintf(what, sizeof what, "%s: vector vs portable outputs", cb_mlp_act_name(smooth[a]));
        compare(what, o1, o2, n * 7, 1e-6, 0);
        snprintf(what, sizeof what, "%s: vector vs portable gradient", cb_mlp_act_name(smooth[a]));
        compare(what, g1, g2, m1->n_params, 1e-5, 0);
        CbTrainConfig c;
        CbTrainResult r1, r2;
        cb_train_config_default(&c);
        c.quiet = 1;
        c.batch = 64;
        c.epochs = 2;
        c.momentum = 0.9;
        c.lr = 0.05;
        cb_mlp_simd(1);
        cb_train(m1, &c, &D, NULL, &r1);
        cb_mlp_simd(0);
        cb_train(m2, &c, &D, NULL, &r2);
        cb_mlp_simd(1);
        snprintf(what, sizeof what, "%s: vector vs portable, 10 SGD steps", cb_mlp_act_name(smooth[a]));
        compare(what, m1->params, m2->params, m1->n_params, 1e-5, 0);
        free(o1);
        free(o2);
        free(work);
        free(g1);
        free(g2);
        cb_mlp_free(m1);
        cb_mlp_free(m2);
    }
    free(x);
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    test_torch_parity();
    test_finite_differences();
    test_eval_and_errors();
    test_simd_matches_reference();
    test_fashion_mnist_vs_torch();
    return check_end("train");
}
