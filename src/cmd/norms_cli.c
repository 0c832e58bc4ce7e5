/*
 * norms_cli — `cbound bench-norms`: the certified spectral norm (src/measure/norms.c) against
 * LAPACK's full SVD on one core, for `make bench`.
 *
 * Makes an n × n matrix from the streams — "gaussian" (entries N(0, 1/n): the hard
 * case, the top singular values cluster at the Marchenko–Pastur edge) or "spiked"
 * (gaussian + 3 u vᵀ: an outlier singular value, as trained weights have) — rounded
 * to float32 values by default (--dtype float: layer weights are float32), times
 * cb_norms_spectral_f (float) or cb_norms_spectral (double; --double-kernel keeps a
 * float-valued matrix on the double kernel) as the best of --repeat, and with --lapack
 * dgesdd (singular values only), and prints one key=value line that scripts/bench.sh
 * parses. --data-out FILE writes the matrix (n × n float64, row-major: exactly the
 * values measured) so numpy can time norm(A, 2) on it.
 */
#include "cbound/cli.h"
#include "cbound/norms.h"
#include "cbound/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char usage_text[] =
    "usage: cbound bench-norms [options]\n"
    "Times the certified spectral norm (Lanczos on AᵀA) on an n x n matrix.\n\n"
    "  --n N            matrix size (default 2500)\n"
    "  --kind K         gaussian (default) or spiked\n"
    "  --dtype T        float (default: float32 values, cb_norms_spectral_f) or double\n"
    "  --double-kernel  stream float64 even when the values are floats (for comparison)\n"
    "  --rtol R         relative accuracy (default 1e-9)\n"
    "  --repeat R       timed runs, best reported (default 3)\n"
    "  --lapack         also time LAPACK dgesdd (singular values only)\n"
    "  --data-out FILE  write the matrix as float64 (n, n) row-major\n"
    "  -h, --help       this text\n";

int cb_cli_bench_norms(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        fputs(usage_text, stdout);
        return 0;
    }
    size_t n = 2500;
    int repeat = 3, lapack = 0, spiked = 0, single = 1, double_kernel = 0;
    double rtol = 1e-9;
    const char *out = NULL;
    for (int i = 1; i < argc; ++i) {
        const char *o = argv[i];
        if (!strcmp(o, "--lapack")) { lapack = 1; continue; }
        if (!strcmp(o, "--double-kernel")) { double_kernel = 1; continue; }
        if (i + 1 >= argc) {
            fprintf(stderr, "cbound bench-norms: option %s needs a value (or is unknown)\n%s", o, usage_text);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(o, "--n")) n = (size_t)cb_cli_long(o, v, 65, 20000);
        else if (!strcmp(o, "--rtol")) rtol = cb_cli_double(o, v, 1e-15, 0.5);
        else if (!strcmp(o, "--repeat")) repeat = (int)cb_cli_long(o, v, 1, 100);
        else if (!strcmp(o, "--data-out")) out = v;
        else if (!strcmp(o, "--dtype")) {
            if (!strcmp(v, "double")) single = 0;
            else if (strcmp(v, "float")) {
                fprintf(stderr, "cbound bench-norms: --dtype expects float or double, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--kind")) {
            if (!strcmp(v, "spiked")) spiked = 1;
            else if (strcmp(v, "gaussian")) {
                fprintf(stderr, "cbound bench-norms: --kind expects gaussian or spiked, got '%s'\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "cbound bench-norms: unknown option %s\n%s", o, usage_text);
            return 2;
        }
    }
    double *A = cb_malloc(n * n * sizeof *A);
    CbStream s = cb_rng_stream(2500, 1, CB_RNG_TEST, 0);
    for (size_t i = 0; i < n * n; ++i) A[i] = cb_rng_normal(&s) / sqrt((double)n);
    if (spiked) {
        double *u = cb_malloc(n * sizeof *u), *v = cb_malloc(n * sizeof *v);
        for (size_t i = 0; i < n; ++i) u[i] = cb_rng_normal(&s) / sqrt((double)n);
        for (size_t i = 0; i < n; ++i) v[i] = cb_rng_normal(&s) / sqrt((double)n);
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < n; ++j) A[i * n + j] += 3.0 * u[i] * v[j];
        free(u);
        free(v);
    }
    float *F = NULL;
    if (single) { /* float32 weights: A holds exactly their values */
        F = cb_malloc(n * n * sizeof *F);
        for (size_t i = 0; i < n * n; ++i) A[i] = F[i] = (float)A[i];
    }
    if (out) {
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(A, sizeof *A, n * n, f) != n * n || fclose(f) != 0) {
            fprintf(stderr, "cbound bench-norms: cannot write %s\n", out);
            free(A);
            free(F);
            return 1;
        }
    }
    CbNormOpts o;
    cb_norms_opts_default(&o);
    o.rtol = rtol;
    o.double_only = double_kernel;
    CbSpecNorm r = {0};
    double best = INFINITY;
    for (int k = 0; k < repeat; ++k) {
        double t = now_s();
        CbStatus st = F ? cb_norms_spectral_f(F, n, n, &o, &r) : cb_norms_spectral(A, n, n, &o, &r);
        if (st != CB_OK) {
            cb_err_report("cbound bench-norms");
            free(A);
            free(F);
            return 1;
        }
        t = now_s() - t;
        if (t < best) best = t;
    }
    printf("n=%zu kind=%s dtype=%s kernel=%s%s rtol=%.3g value=%.17g err=%.3g iters=%d miss_prob=%.3g "
           "seconds=%.4f", n, spiked ? "spiked" : "gaussian", F ? "float" : "double",
           r.single ? "float32" : "float64", cb_norms_simd(-1) ? "-avx2" : "-portable", rtol, r.value, r.err,
           r.iters, r.miss_prob, best);
    if (lapack) {
        double ref, t = now_s();
        if (cb_norms_spectral_ref(A, n, n, &ref) != CB_OK) {
            cb_err_report("cbound bench-norms");
            free(A);
            free(F);
            return 1;
        }
        printf(" dgesdd_seconds=%.4f dgesdd_value=%.17g", now_s() - t, ref);
    }
    printf("\n");
    free(A);
    free(F);
    return 0;
}
