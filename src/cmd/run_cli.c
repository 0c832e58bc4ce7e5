/*
 * run_cli — `cbound run` (run a sweep under MPI) and `cbound task` (replay one task).
 *
 * `cbound run` on every rank: rank 0 reads the sweep file and broadcasts its text,
 * every rank parses it (so all agree on the expansion), rank 0 checks the data
 * files and opens the results journal, then all enter the task farm. Every check
 * happens before the output is touched; exit status 0 done, 1 error, 2 usage,
 * 3 stopped by a signal (resume with --resume).
 */
#include "cbound/cli.h"
#include "cbound/err.h"
#include "cbound/farm.h"
#include "cbound/results.h"
#include "cbound/sweep.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char RUN_USAGE[] =
    "usage: cbound run [options] SWEEP.yaml      (under mpirun -n N for N ranks)\n"
    "\n"
    "Runs every task of a sweep and writes the results file (default results/<name>.h5)\n"
    "with its journal (<output>.journal) and trained models (<output without .h5>/models/).\n"
    "\n"
    "  --dry-run           validate, print the expanded stages and tasks, exit\n"
    "  --resume            continue an interrupted run from its journal (starts one if none)\n"
    "  --force             delete an existing results file and journal first (models are kept)\n"
    "  --quiet             no progress lines (batch logs)\n"
    "  --progress S        seconds between progress lines (default 10)\n"
    "  --grace S           after SIGTERM/SIGUSR1/SIGINT: seconds to let running tasks finish (default 60)\n"
    "  --flush-every S     seconds (>= 1) between rewrites of the .h5 from the journal (default 60)\n"
    "  --no-local-worker   rank 0 only manages (default: it also runs tasks in a thread)\n"
    "  --list-methods      list the compression methods and their parameters\n"
    "  --schema            print the sweep settings and the results columns (markdown)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 done (failed tasks are rows with status 'failed'), 1 error, 2 usage,\n"
    "3 stopped by a signal: run again with --resume to finish.\n";

static const char TASK_USAGE[] =
    "usage: cbound task --key KEY SWEEP.yaml\n"
    "\n"
    "Replays one task of a sweep alone, in this process, exactly as a worker runs it\n"
    "(training its stage's model first if the model file is missing), and prints its row:\n"
    "the same values as the task's row in the results file (timings aside).\n"
    "`cbound run --dry-run SWEEP.yaml` lists the keys.\n";

static int rank0(void)
{
    int r;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r == 0;
}

static void list_methods(void)
{
    printf("methods (name, version: summary; parameters = default):\n");
    for (int i = 0; cb_method_at(i); ++i) {
        const CbMethod *m = cb_method_at(i);
        printf("  %-12s v%d  %s\n", m->name, m->version, m->summary ? m->summary : "");
        printf("  %-12s      %s", "", m->standalone ? "standalone (no trained model); " : "");
        printf("parameters:");
        for (int j = 0; m->param_names && m->param_names[j]; ++j) {
            const char *d = m->param_defaults ? m->param_defaults[j] : NULL;
            printf(" %s%s%s", m->param_names[j], d ? "=" : "", d ? d : "");
        }
        printf("\n");
    }
}

/* Rank 0 reads the file; every rank parses the same text. */
static CbStatus load_everywhere(const char *path, CbSweep *s)
{
    long len = -1;
    char *text = NULL;
    CbStatus st = CB_OK;
    if (rank0()) {
        st = cb_sweep_load(path, s); /* reads and validates; keep its text */
        if (st == CB_OK) {
            len = (long)strlen(s->text);
            text = s->text;
        }
    }
    MPI_Bcast(&len, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    if (len < 0) return rank0() ? st : CB_EINVAL;
    if (!rank0()) {
        text = cb_malloc((size_t)len + 1);
    }
    MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (!rank0()) {
        st = cb_sweep_parse(path, text, s);
        free(text);
    }
    return st;
}

static int bcast_status(CbStatus st)
{
    int v = (int)st;
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v;
}

static void dry_run(const CbSweep *s)
{
    printf("sweep %s (%s): %d tasks, %d training stages, sweep seed %llu\n", s->name, s->file, s->n_tasks,
           s->n_stages, (unsigned long long)s->seed);
    printf("output %s (journal %s.journal, models %s/models/)\n\n", s->output, s->output, s->dir);
    double total = 0;
    printf("stages (model shape x training seed; trained once, reused by later runs):\n");
    printf("  %-16s %8s %8s %12s  %s\n", "stage", "width", "seed", "cost GFLOP", "model file");
    for (int k = 0; k < s->n_stages; ++k) {
        const CbStage *st = &s->stages[k];
        printf("  %-16s %8zu %8llu %12.4g  %s%s\n", st->key_hex, st->width, (unsigned long long)st->seed, st->cost,
               st->model_path, access(st->model_path, R_OK) == 0 ? " (exists)" : "");
        total += st->cost;
    }
    /* dispatch rank = position in cost order (largest first) */
    int *rank_of = cb_calloc((size_t)s->n_tasks + 1, sizeof *rank_of);
    for (int i = 0; i < s->n_tasks; ++i) {
        int r = 0;
        for (int j = 0; j < s->n_tasks && s->n_tasks <= 20000; ++j)
            r += s->tasks[j].cost > s->tasks[i].cost || (s->tasks[j].cost == s->tasks[i].cost && j < i);
        rank_of[i] = r;
    }
    printf("\ntasks (expansion order = row order; 'order' = dispatch order, costliest first):\n");
    printf("  %6s %-16s %-16s %-10s %6s %6s %6s %10s  %s\n", "task", "key", "stage", "method", "width", "seed", "order",
           "GFLOP", "params");
    for (int i = 0; i < s->n_tasks; ++i) {
        const CbTask *t = &s->tasks[i];
        printf("  %6d %-16s %-16s %-10s %6zu %6llu %6d %10.3g  %s\n", i, t->key_hex,
               t->stage >= 0 ? s->stages[t->stage].key_hex : "-", t->method->name, t->width,
               (unsigned long long)t->seed, rank_of[i], t->cost, t->params_text[0] ? t->params_text : "(defaults)");
        total += t->cost;
    }
    free(rank_of);
    printf("\n%d tasks, %d stages, estimated %.4g GFLOP (training + evaluation; methods' own work not included)\n",
           s->n_tasks, s->n_stages, total);
}

/* Per (method, width): rows, failures, means of a few columns. */
static void summary(const CbSweep *s, const CbResults *r)
{
    printf("\n%-12s %7s %6s %7s %10s %10s %10s\n", "method", "width", "tasks", "failed", "sparsity", "test_acc",
           "orig_acc");
    int *seen = cb_calloc((size_t)s->n_tasks + 1, sizeof *seen);
    for (int i = 0; i < s->n_tasks; ++i) {
        if (seen[i]) continue;
        const CbTask *t = &s->tasks[i];
        int n = 0, failed = 0, ok = 0;
        double sp = 0, acc = 0, orig = 0;
        for (int j = i; j < s->n_tasks; ++j) {
            const CbTask *u = &s->tasks[j];
            if (u->method != t->method || u->width != t->width) continue;
            seen[j] = 1;
            const CbRecord *rec = r->done[j];
            if (!rec) continue;
            ++n;
            if (rec->failed) {
                ++failed;
                continue;
            }
            ++ok;
            sp += rec->res.task[CB_T_sparsity];
            acc += rec->res.task[CB_T_test_acc];
            orig += rec->res.task[CB_T_orig_test_acc];
        }
        printf("%-12s %7zu %6d %7d %10.4f %10.4f %10.4f\n", t->method->name, t->width, n, failed,
               ok ? sp / ok : NAN, ok ? acc / ok : NAN, ok ? orig / ok : NAN);
    }
    free(seen);
    printf("\n%d/%d tasks done (%d failed) -> %s\n", r->n_done, s->n_tasks, r->n_failed, s->output);
}

int cb_cli_run(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(RUN_USAGE);
        return 0;
    }
    /* Flag-only handlers from the start: a signal during validation stops the run
     * before any task starts instead of killing the process. */
    cb_farm_install_signals();
    CbFarmOpts fo;
    cb_farm_opts_default(&fo);
    int dry = 0, resume = 0, force = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--dry-run")) dry = 1;
        else if (!strcmp(a, "--resume")) resume = 1;
        else if (!strcmp(a, "--force")) force = 1;
        else if (!strcmp(a, "--quiet")) fo.quiet = 1;
        else if (!strcmp(a, "--no-local-worker")) fo.local_worker = 0;
        else if (!strcmp(a, "--grace") && i + 1 < argc) fo.grace = cb_cli_double(a, argv[++i], 0, 1e7);
        else if (!strcmp(a, "--flush-every") && i + 1 < argc) fo.flush_every = cb_cli_double(a, argv[++i], 1, 1e7);
        else if (!strcmp(a, "--progress") && i + 1 < argc) fo.progress_every = cb_cli_double(a, argv[++i], 0, 1e7);
        else if (!strcmp(a, "--list-methods")) {
            if (rank0()) list_methods();
            return 0;
        } else if (!strcmp(a, "--schema")) {
            if (rank0()) {
                printf("### Sweep settings\n\n");
                cb_sweep_print_schema(stdout);
                printf("\n### Results tables\n\n");
                cb_results_print_schema(stdout);
            }
            return 0;
        } else if (a[0] == '-' || path) {
            if (rank0()) fprintf(stderr, "cbound run: unexpected argument '%s'\n\n%s", a, RUN_USAGE);
            return 2;
        } else path = a;
    }
    if (!path) {
        if (rank0()) fprintf(stderr, "cbound run: expected a sweep file\n\n%s", RUN_USAGE);
        return 2;
    }
    if (resume && force) {
        if (rank0()) fprintf(stderr, "cbound run: --resume and --force contradict each other; pick one\n");
        return 2;
    }

    CbSweep s;
    CbStatus st = load_everywhere(path, &s);
    if (st != CB_OK) {
        if (rank0()) cb_err_report("cbound");
        return 1;
    }
    if (rank0()) st = cb_sweep_check_data(&s);
    if (bcast_status(st) != CB_OK) {
        if (rank0()) cb_err_report("cbound");
        cb_sweep_free(&s);
        return 1;
    }
    if (dry) {
        if (rank0()) dry_run(&s);
        cb_sweep_free(&s);
        return 0;
    }

    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char hosts[4096];
    cb_farm_hosts(MPI_COMM_WORLD, hosts, sizeof hosts);
    CbResults res;
    memset(&res, 0, sizeof res);
    if (rank0())
        st = cb_results_open(&res, &s, resume ? CB_RESULTS_RESUME : force ? CB_RESULTS_FORCE : CB_RESULTS_NEW, size,
                             hosts);
    if (bcast_status(st) != CB_OK) {
        if (rank0()) {
            cb_err_report("cbound");
            if (res.done) cb_results_close(&res);
        }
        cb_sweep_free(&s);
        return 1;
    }
    if (rank0() && res.sweep_changed)
        fprintf(stderr, "cbound: note: %s changed since the journal was started; finished tasks are reused by "
                        "their keys (%d of %d match)\n", s.file, res.n_reloaded, s.n_tasks);
    if (rank0() && res.n_foreign)
        fprintf(stderr, "cbound: note: the journal holds %d finished tasks that are not in this sweep (kept in the "
                        "journal, left out of the tables)\n", res.n_foreign);
    int rc = cb_farm_run(&s, &res, &fo, MPI_COMM_WORLD);
    if (rank0()) {
        if (rc == 0) summary(&s, &res);
        cb_results_close(&res);
    }
    cb_sweep_free(&s);
    return rc;
}

int cb_cli_task(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(TASK_USAGE);
        return 0;
    }
    const char *key = NULL, *path = NULL;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
        else if (argv[i][0] == '-' || path) {
            if (rank0()) fprintf(stderr, "cbound task: unexpected argument '%s'\n\n%s", argv[i], TASK_USAGE);
            return 2;
        } else path = argv[i];
    }
    if (!key || !path) {
        if (rank0()) fprintf(stderr, "cbound task: expected --key KEY and a sweep file\n\n%s", TASK_USAGE);
        return 2;
    }
    if (!rank0()) return 0; /* one process replays */
    CbSweep s;
    if (cb_sweep_load(path, &s) != CB_OK || cb_sweep_check_data(&s) != CB_OK) {
        cb_err_report("cbound");
        return 1;
    }
    int i = cb_sweep_find_task(&s, key);
    if (i < 0) {
        CB_ERR(CB_EINVAL, "%s: no task has key '%s' (%d tasks)", path, key, s.n_tasks);
        cb_err_hint("`cbound run --dry-run %s` lists the keys", path);
        cb_err_report("cbound");
        cb_sweep_free(&s);
        return 1;
    }
    CbRecord rec;
    CbStatus st = cb_farm_replay(&s, i, &rec);
    if (st != CB_OK) {
        cb_err_report("cbound");
        cb_sweep_free(&s);
        return 1;
    }
    const CbTask *t = &s.tasks[i];
    printf("task %d\nkey %s\nstage %s\nmethod %s\nparams %s\nwidth %zu\nseed %llu\nstatus %s\nreason %s\n", i,
           t->key_hex, t->stage >= 0 ? s.stages[t->stage].key_hex : "", t->method->name, t->params_text, t->width,
           (unsigned long long)t->seed, rec.failed ? "failed" : "ok", rec.reason);
    static const char *const names[] = {
#define X(name, unit, doc) #name,
        CB_TASK_COLUMNS(X)
#undef X
    };
    for (int c = 0; c < CB_T_COUNT; ++c) printf("%s %.17g\n", names[c], rec.res.task[c]);
    static const char *const lnames[] = {
#define X(name, unit, doc) #name,
        CB_LAYER_COLUMNS(X)
#undef X
    };
    for (int l = 0; l < rec.res.n_layers; ++l) {
        const CbLayerRow *L = &rec.res.layers[l];
        printf("layer %d d_out %d d_in %d", L->layer, L->d_out, L->d_in);
        for (int c = 0; c < CB_L_COUNT; ++c) printf(" %s %.17g", lnames[c], L->v[c]);
        printf("\n");
    }
    for (int b = 0; b < rec.res.n_bounds; ++b)
        printf("bound %s %s log_value %.17g gamma %.17g margin_loss %.17g complexity %.17g\n", rec.res.bounds[b].name,
               rec.res.bounds[b].variant, rec.res.bounds[b].log_value, rec.res.bounds[b].gamma,
               rec.res.bounds[b].margin_loss, rec.res.bounds[b].complexity);
    for (int k = 0; k < rec.res.n_series; ++k)
        printf("series %s %lld %.17g %.17g\n", rec.res.series[k].name, (long long)rec.res.series[k].i,
               rec.res.series[k].x, rec.res.series[k].y);
    int rc = rec.failed ? 1 : 0;
    cb_record_free(&rec);
    cb_sweep_free(&s);
    return rc;
}
