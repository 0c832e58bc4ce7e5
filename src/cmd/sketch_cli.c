/*
 * sketch_cli — `cbound sketch`: sketch Y = A W Bᵀ of one pruned layer and recover W
 * from it (src/measure/sketch.c), printing sizes, times, success and error; with --phase, the
 * phase-transition search for the smallest m instead.
 *
 * The layer comes from a model file (MODEL.h5 --layer L; magnitude-pruned to keep the
 * largest --density fraction of |W| when --density < 1) or is a random p1 x p2 matrix
 * (--random P1xP2: Bernoulli(density) support, N(0, 1) values, stream CB_RNG_DATA_GEN
 * index 0). Output: one `key=value ...` line per solver, which scripts/bench.sh parses.
 */
#include "cbound/cli.h"
#include "cbound/model.h"
#include "cbound/rng.h"
#include "cbound/sketch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void) /* this process's CPU seconds: the machine may be shared */
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char usage_text[] =
    "usage: cbound sketch (MODEL.h5 --layer L | --random P1xP2) [options]\n"
    "Sketches one (pruned) layer W as Y = A W B^T with A, B from the delta-random bipartite\n"
    "ensemble (delta ones per column) and recovers W from Y (004 eq. (1)): jointly over\n"
    "vec(W) with A (x) B, or separably (columns of Z = W B^T, then rows of W).\n\n"
    "  --layer L        layer of the model file (0-based, default 0)\n"
    "  --random P1xP2   a random P1 x P2 sparse matrix instead of a model layer\n"
    "  --density D      keep the largest-|w| fraction D of the layer (random: P(nonzero));\n"
    "                   default 0.05\n"
    "  --m M            sketch size (default: Theorem 5.1's m, capped at max(P1, P2))\n"
    "  --solver S       joint, joint-lp (joint: over vec W), lp, ssmp, ssmp+lp (separable),\n"
    "                   or all (default all)\n"
    "  --time-limit T   seconds an LP recovery (lp, ssmp+lp, joint-lp) may take; past it the\n"
    "                   line says 'not finished in T s' (default 0 = no limit)\n"
    "  --delta-a D      ones per column of A (default ceil(ln p))\n"
    "  --delta-b D      ones per column of B (default ceil(ln p))\n"
    "  --phase          search the smallest m recovering W in >= 95% of --trials draws\n"
    "  --trials T       draws per m in --phase (default 20)\n"
    "  --seed S         sweep seed of the streams (default 1)\n"
    "  -h, --help       this text\n";

static int cmp_desc(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a < b) - (a > b);
}

/* Keep the largest `density` fraction of |W| (ties at the threshold kept). */
static void prune_top(float *W, size_t n, double density)
{
    if (density >= 1) return;
    size_t keep = (size_t)llround(density * (double)n);
    float *a = cb_malloc(n * sizeof *a);
    for (size_t i = 0; i < n; ++i) a[i] = fabsf(W[i]);
    qsort(a, n, sizeof *a, cmp_desc);
    float thr = keep ? a[keep - 1] : INFINITY;
    free(a);
    for (size_t i = 0; i < n; ++i)
        if (!(fabsf(W[i]) >= thr) || W[i] == 0) W[i] = 0;
}

int cb_cli_sketch(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        fputs(usage_text, stdout);
        return 0;
    }
    const char *model_path = NULL, *solver_arg = "all";
    size_t p1 = 0, p2 = 0, m = 0, delta_a = 0, delta_b = 0;
    int layer = 0, phase = 0, trials = 20;
    double density = 0.05, time_limit = 0;
    uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        const char *o = argv[i];
        if (!strcmp(o, "--phase")) { phase = 1; continue; }
        if (o[0] != '-') {
            model_path = o;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "cbound sketch: option %s needs a value (or is unknown)\n%s", o, usage_text);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(o, "--layer")) layer = (int)cb_cli_long(o, v, 0, CB_MODEL_MAX_DEPTH - 1);
        else if (!strcmp(o, "--random")) {
            unsigned long a, b;
            char tail;
            if (sscanf(v, "%lux%lu%c", &a, &b, &tail) != 2 || a == 0 || b == 0 || a > 100000 || b > 100000) {
                fprintf(stderr, "cbound sketch: --random expects P1xP2 (e.g. 784x784), got '%s'\n", v);
                return 2;
            }
            p1 = a, p2 = b;
        } else if (!strcmp(o, "--density")) density = cb_cli_double(o, v, 0, 1);
        else if (!strcmp(o, "--m")) m = (size_t)cb_cli_long(o, v, 1, 1000000);
        else if (!strcmp(o, "--solver")) solver_arg = v;
        else if (!strcmp(o, "--time-limit")) time_limit = cb_cli_double(o, v, 0, 1e7);
        else if (!strcmp(o, "--delta-a")) delta_a = (size_t)cb_cli_long(o, v, 1, 1000);
        else if (!strcmp(o, "--delta-b")) delta_b = (size_t)cb_cli_long(o, v, 1, 1000);
        else if (!strcmp(o, "--trials")) trials = (int)cb_cli_long(o, v, 1, 1024);
        else if (!strcmp(o, "--seed")) seed = (uint64_t)cb_cli_long(o, v, 0, 1L << 62);
        else {
            fprintf(stderr, "cbound sketch: unknown option %s\n%s", o, usage_text);
            return 2;
        }
    }
    int n_solvers = 5;
    CbSketchSolver solvers[5] = {CB_SKETCH_JOINT, CB_SKETCH_JOINT_LP, CB_SKETCH_LP, CB_SKETCH_SSMP,
                                 CB_SKETCH_HYBRID};
    if (strcmp(solver_arg, "all")) {
        if (cb_sketch_solver_parse(solver_arg, &solvers[0]) != CB_OK) {
            cb_err_report("cbound sketch");
            return 2;
        }
        n_solvers = 1;
    }
    if (!model_path == !p1) {
        fprintf(stderr, "cbound sketch: give either a model file or --random P1xP2\n%s", usage_text);
        return 2;
    }

    /* The layer. */
    float *W;
    if (model_path) {
        CbModel model;
        if (cb_model_load(model_path, &model) != CB_OK) {
            cb_err_report("cbound sketch");
            return 1;
        }
        if (layer >= model.mlp->depth) {
            fprintf(stderr, "cbound sketch: %s has %d layers (0..%d), --layer %d asked\n", model_path,
                    model.mlp->depth, model.mlp->depth - 1, layer);
            cb_model_free(&model);
            return 2;
        }
        p1 = model.mlp->widths[layer + 1];
        p2 = model.mlp->widths[layer];
        W = cb_malloc(p1 * p2 * sizeof *W);
        memcpy(W, model.mlp->W[layer], p1 * p2 * sizeof *W);
        cb_model_free(&model);
        prune_top(W, p1 * p2, density);
    } else {
        W = cb_calloc(p1 * p2, sizeof *W);
        CbStream s = cb_rng_stream(seed, 0, CB_RNG_DATA_GEN, 0);
        for (size_t k = 0; k < p1 * p2; ++k) {
            double u = cb_rng_uniform(&s), g = cb_rng_normal(&s);
            if (u < density) W[k] = (float)g;
        }
    }
    CbSketchCsr X;
    CbStatus st = cb_sketch_csr_from_float(W, p1, p2, &X);
    free(W);
    if (st != CB_OK) {
        cb_err_report("cbound sketch");
        return 1;
    }
    size_t rmax, cmax;
    cb_sketch_csr_stats(&X, &rmax, &cmax, NULL);
    double m_theory = cb_sketch_m_theory(p1, p2, rmax, cmax);
    size_t pmax = p1 > p2 ? p1 : p2;
    if (!m) m = m_theory < (double)pmax ? (size_t)ceil(m_theory) : pmax;
    CbSketchParams prm;
    cb_sketch_params_default(&prm);
    prm.delta_a = delta_a;
    prm.delta_b = delta_b;
    prm.trials = trials;
    prm.time_limit = time_limit;
    printf("layer: %zu x %zu, nnz %zu (density %.4f), max nnz per row %zu, per column %zu, "
           "m_theory %.1f\n",
           p1, p2, X.nnz, (double)X.nnz / ((double)p1 * (double)p2), rmax, cmax, m_theory);
    int rc = 0;
    double *Xhat = cb_malloc(p1 * p2 * sizeof *Xhat);
    for (int k = 0; k < n_solvers; ++k) {
        prm.solver = solvers[k];
        if (phase) {
            CbSketchPhase ph;
            st = cb_sketch_phase(seed, 0, layer, &X, &prm, &ph);
            if (st == CB_OK)
                printf("phase solver=%s p1=%zu p2=%zu nnz=%zu delta_a=%zu delta_b=%zu m_theory=%.1f "
                       "m_measured=%zu const=%.3f rate=%.2f err=%.3g recover_s=%.4f total_s=%.2f "
                       "trials_run=%d\n",
                       cb_sketch_solver_name(prm.solver), p1, p2, X.nnz, ph.delta_a, ph.delta_b,
                       ph.m_theory, ph.m_measured, ph.m_measured / ph.m_theory, ph.success_rate,
                       ph.err_rel, ph.recover_s, ph.total_s, ph.n_trials_run);
        } else {
            CbSketchReport r;
            prm.fail_fast = 0; /* time the whole recovery */
            double c0 = cpu_now();
            st = cb_sketch_trial(seed, 0, (uint32_t)layer * 1024u, &X, m, &prm, Xhat, &r);
            double cpu = cpu_now() - c0;
            if (st == CB_OK && r.timed_out)
                printf("sketch solver=%s p1=%zu p2=%zu nnz=%zu m=%zu sketch_s=%.4f recover_s=%.3f "
                       "cpu_s=%.3f success=0 not finished in %g s\n",
                       cb_sketch_solver_name(prm.solver), p1, p2, X.nnz, m, r.sketch_s, r.recover_s,
                       cpu, time_limit);
            else if (st == CB_OK)
                printf("sketch solver=%s p1=%zu p2=%zu nnz=%zu m=%zu sketch_s=%.4f recover_s=%.3f "
                       "cpu_s=%.3f success=%d err=%.3g unconverged=%zu\n",
                       cb_sketch_solver_name(prm.solver), p1, p2, X.nnz, m, r.sketch_s, r.recover_s,
                       cpu, r.success, r.err_rel, r.unconverged);
        }
        if (st != CB_OK) { /* e.g. joint-lp on a large layer: say so, go on with the others */
            printf("%s solver=%s p1=%zu p2=%zu nnz=%zu not run: %s\n", phase ? "phase" : "sketch",
                   cb_sketch_solver_name(prm.solver), p1, p2, X.nnz, cb_err_msg());
            cb_err_report("cbound sketch");
            rc = 1;
        }
        fflush(stdout);
    }
    free(Xhat);
    cb_sketch_csr_free(&X);
    return rc;
}
