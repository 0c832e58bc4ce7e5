/*
 * bench_cli — `cbound bench-train`: training throughput of cb_train on one core.
 *
 * Trains an MLP (default 784-784-784-784-784-10, batch 256, Adam, float32, relu) on
 * synthetic data x ~ N(0, 1), labels uniform in [0, k) drawn from the streams, after
 * one warm-up epoch, and prints one key=value line that scripts/bench.sh parses:
 *   samples_per_s (wall clock) and cpu_samples_per_s (per CPU second of the training
 *   thread: what the rate is when the core is not shared), sgemm_gflops (a 2048³ sgemm,
 *   per CPU second), limit (= sgemm rate / 6 FLOPs per weight per sample, the benchmark's
 *   convention), frac_limit = cpu_samples_per_s / limit, peak RSS and the nominal
 *   memory  params + Adam state (m, v) + activations (batch × Σ widths[1..]).
 * The peak is reported as the growth of the resident set over the process after the
 * data was made and BLAS was warmed up (so MPI, the binary and the data set are not
 * counted), and as the absolute peak.  --data-out FILE writes x (n, d) float32 then
 * y (n) int32, so scripts/bench_train.py can time PyTorch on the very same data.
 */
#include "cbound/cli.h"
#include "cbound/train.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double rss_now_mb(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static double rss_peak_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best of 5 sgemm runs, n × n × n, in GFLOP/s per CPU second of this thread (so a core
 * shared with other processes does not lower it; on a quiet machine CPU and wall time agree). */
static double sgemm_gflops(int n)
{
    float *a = cb_malloc((size_t)n * n * sizeof *a), *b = cb_malloc((size_t)n * n * sizeof *b),
          *c = cb_malloc((size_t)n * n * sizeof *c);
    for (size_t i = 0; i < (size_t)n * n; ++i) a[i] = b[i] = (float)(i % 7) * 0.125f, c[i] = 0;
    double best = 0;
    for (int r = 0; r < 5; ++r) {
        double t = cpu_now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t = cpu_now_s() - t;
        if (2.0 * n * n * (double)n / t / 1e9 > best) best = 2.0 * n * n * (double)n / t / 1e9;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

static int parse_widths(const char *s, size_t *w, int max)
{
    int n = 0;
    char *dup = strdup(s), *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max) {
            n = -1;
            break;
        }
        w[n++] = (size_t)cb_cli_long("--widths", tok, 1, 1000000);
    }
    free(dup);
    return n;
}

static const char usage_text[] =
    "usage: cbound bench-train [options]\n"
    "  Times cb_train (Adam, float32, cross-entropy) on synthetic N(0,1) data, one\n"
    "  warm-up epoch then --epochs timed epochs. Set OPENBLAS_NUM_THREADS=1 for one core.\n"
    "  --widths LIST     layer widths (default 784,784,784,784,784,10)\n"
    "  --batch N         minibatch (default 256)\n"
    "  --samples N       training-set size (default 8192)\n"
    "  --epochs N        timed epochs (default 3)\n"
    "  --act NAME        relu, tanh, softplus, identity (default relu)\n"
    "  --lr X            Adam learning rate (default 1e-3)\n"
    "  --data-out FILE   write x (float32 n×d) then y (int32 n) for scripts/bench_train.py\n"
    "  --no-gemm         skip the 2048³ sgemm rate measurement\n";

int cb_cli_bench_train(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        fputs(usage_text, stdout);
        return 0;
    }
    size_t widths[33] = {784, 784, 784, 784, 784, 10};
    int depth = 5, epochs = 3, gemm = 1;
    size_t batch = 256, n = 8192;
    double lr = 1e-3;
    CbAct act = CB_ACT_RELU;
    const char *data_out = NULL;
    for (int i = 1; i < argc; ++i) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--no-gemm")) {
            gemm = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "cbound bench-train: option %s needs a value\n%s", o, usage_text);
            return 2;
        }
        ++i;
        if (!strcmp(o, "--widths")) {
            int k = parse_widths(v, widths, 33);
            if (k < 2) {
                fprintf(stderr, "cbound bench-train: --widths needs 2 to 33 comma-separated widths, got '%s'\n", v);
                return 2;
            }
            depth = k - 1;
        } else if (!strcmp(o, "--batch")) batch = (size_t)cb_cli_long(o, v, 1, 1 << 20);
        else if (!strcmp(o, "--samples")) n = (size_t)cb_cli_long(o, v, 1, 1L << 30);
        else if (!strcmp(o, "--epochs")) epochs = (int)cb_cli_long(o, v, 1, 100000);
        else if (!strcmp(o, "--lr")) lr = cb_cli_double(o, v, 1e-12, 1e3);
        else if (!strcmp(o, "--data-out")) data_out = v;
        else if (!strcmp(o, "--act")) {
            if (cb_mlp_act_parse(v, &act) != CB_OK) {
                cb_err_report("cbound bench-train");
                return 2;
            }
        } else {
            fprintf(stderr, "cbound bench-train: unknown option '%s'\n%s", o, usage_text);
            return 2;
        }
    }
    size_t d = widths[0], k = widths[depth];

    /* data: x ~ N(0,1), y uniform, from the streams */
    CbData D;
    memset(&D, 0, sizeof D);
    D.n = n;
    D.d = d;
    D.n_classes = k;
    D.x = cb_malloc(n * d * sizeof *D.x);
    D.y = cb_malloc(n * sizeof *D.y);
    snprintf(D.name, sizeof D.name, "synthetic N(0,1)");
    CbStream s = cb_rng_stream(2026, 1, CB_RNG_DATA_GEN, 1);
    for (size_t i = 0; i < n * d; ++i) D.x[i] = (float)cb_rng_normal(&s);
    for (size_t i = 0; i < n; ++i) D.y[i] = (int32_t)cb_rng_below(&s, k);
    if (data_out) {
        FILE *f = fopen(data_out, "wb");
        if (!f || fwrite(D.x, sizeof *D.x, n * d, f) != n * d || fwrite(D.y, sizeof *D.y, n, f) != n ||
            fclose(f) != 0) {
            fprintf(stderr, "cbound bench-train: cannot write %s\n", data_out);
            return 1;
        }
    }
    {   /* warm BLAS (its buffers) on the training shapes before the memory baseline */
        float *a = cb_calloc(64 * 64, sizeof *a);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 64, 64, 64, 1.0f, a, 64, a, 64, 0.0f, a, 64);
        free(a);
    }
    double rss0 = rss_now_mb();

    CbMlp *m;
    if (cb_mlp_alloc(depth, widths, act, 1.0, 1, &m) != CB_OK) {
        cb_err_report("cbound bench-train");
        return 1;
    }
    cb_mlp_init(m, CB_INIT_KAIMING_UNIFORM, 0, 2026, 1);
    CbTrainConfig c;
    cb_train_config_default(&c);
    c.opt = CB_OPT_ADAM;
    c.lr = lr;
    c.batch = batch;
    c.quiet = 1;
    c.epochs = 1;
    c.seed = 2026;
    CbTrainResult warm, res;
    CbStatus st = cb_train(m, &c, &D, NULL, &warm);
    c.epochs = epochs;
    if (st == CB_OK) st = cb_train(m, &c, &D, NULL, &res);
    if (st != CB_OK) {
        cb_err_report("cbound bench-train");
        return 1;
    }
    double peak = rss_peak_mb();
    double gflops = gemm ? sgemm_gflops(2048) : 0.0; /* after the peak: its 48 MB must not count */
    size_t weights = 0, acts = 0;
    for (int l = 0; l < depth; ++l) {
        weights += widths[l] * widths[l + 1];
        acts += widths[l + 1];
    }
    double nominal = (3.0 * (double)m->n_params + (double)batch * (double)acts) * 4.0 / 1048576.0;
    double limit = gflops * 1e9 / (6.0 * (double)weights);
    printf("bench-train widths=");
    for (int l = 0; l <= depth; ++l) printf("%zu%s", widths[l], l < depth ? "," : "");
    double cpu_rate = (double)n * epochs / res.cpu_seconds;
    printf(" batch=%zu samples=%zu epochs=%d params=%zu samples_per_s=%.1f cpu_samples_per_s=%.1f "
           "sgemm_gflops=%.1f limit=%.1f frac_limit=%.3f peak_rss_mb=%.1f rss_growth_mb=%.1f nominal_mb=%.1f "
           "mem_ratio=%.3f train_loss=%.4f\n",
           batch, n, epochs, m->n_params, res.samples_per_s, cpu_rate, gflops, limit,
           gemm ? cpu_rate / limit : 0.0, peak, peak - rss0, nominal, (peak - rss0) / nominal,
           res.train_loss);
    cb_mlp_free(m);
    free(D.x);
    free(D.y);
    return 0;
}
