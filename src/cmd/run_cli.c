/*
 * run_cli — `cbound run` (run a sweep under MPI) and `cbound task` (replay one task).
 *
 * `cbound run` on every rank: rank 0 reads the sweep file and broadcasts its text,
 * every rank parses it (so all agree on the expansion), rank 0 checks the data
 * files (reading them whole) and opens the results journal, then all enter the
 * task farm. Every check happens before the output is touched. Exit status:
 * 0 every task ok, 1 error, 2 usage, 3 stopped by a signal (--resume), 4 done
 * with failed tasks (--retry-failed), 5 stopped by an environmental failure
 * (disk full, I/O, memory; --resume once fixed).
 */
#include "cbound/cli.h"
#include "cbound/err.h"
#include "cbound/farm.h"
#include "cbound/method.h"
#include "cbound/results.h"
#include "cbound/sweep.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char RUN_USAGE[] =
    "usage: cbound run [options] SWEEP.yaml [KEY=VALUE ...]   (under mpirun -n N for N ranks)\n"
    "\n"
    "Runs every task of a sweep and writes the results file (default results/<name>.h5)\n"
    "with its journal (<output>.journal) and trained models (<output without .h5>/models/).\n"
    "KEY=VALUE overrides a setting of the file (train.epochs=2, data.n_train=1000), VALUE in\n"
    "YAML: a list or a generator makes it an axis (train.lr=[0.01,0.1], model.depth=[2,3]);\n"
    "the overrides are recorded with the sweep's text in the results file.\n"
    "\n"
    "  --dry-run           validate, print the expanded stages and tasks, exit\n"
    "  --resume            continue an interrupted run from its journal (starts one if none)\n"
    "  --retry-failed      like --resume, and tasks recorded as failed run again\n"
    "  --shard I/N         run slice I of N (0 <= I < N; tasks by key, a model's tasks\n"
    "                      together) into OUTPUT.shard-I-of-N.h5; `cbound merge` joins them\n"
    "  --force             delete an existing results file and journal first (models are kept)\n"
    "  --quiet             no progress lines (batch logs)\n"
    "  --progress S        seconds between progress lines (default 10)\n"
    "  --grace S           after SIGTERM/SIGUSR1/SIGINT: seconds to let running tasks finish (default 60)\n"
    "  --flush-every S     seconds (>= 1) between rewrites of the .h5 from the journal (default 60)\n"
    "  --no-local-worker   rank 0 only manages (default: it also runs tasks in a thread)\n"
    "  --checkpoint-every N  training stages save their full state every N epochs and on a\n"
    "                      stop signal, beside the model (default 1; 0 = never)\n"
    "  --list-methods      list the compression methods and their parameters\n"
    "  --schema            print the sweep settings and the results columns (markdown)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 every task done and ok; 1 error (bad input, nothing run); 2 usage;\n"
    "3 stopped by a signal: run again with --resume to finish; 4 every task done but\n"
    "some failed (rows with status 'failed' and the reason; --retry-failed reruns them);\n"
    "5 stopped by an environmental failure (I/O error, disk full, out of memory): the\n"
    "unfinished tasks stay pending, fix the cause and run again with --resume.\n";

static const char TASK_USAGE[] =
    "usage: cbound task --key KEY SWEEP.yaml [KEY=VALUE ...]   (the run's overrides)\n"
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

/* Command-line overrides KEY=VALUE (every rank has the same argv). */
static char *overrides[256];
static int n_overrides;

/* Rank 0 reads the file; every rank parses the same text (with the same overrides). */
static CbStatus load_everywhere(const char *path, CbSweep *s)
{
    long len = -1;
    char *text = NULL;
    CbStatus st = CB_OK;
    if (rank0()) {
        st = cb_sweep_load_with(path, overrides, n_overrides, s); /* reads and validates; keep its text */
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
        st = cb_sweep_parse_with(path, text, overrides, n_overrides, s);
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

/* Has any rank been signalled to stop (collective)? Checked between the phases
 * before the farm (parsing, reading the data, opening the results). */
static int stop_anywhere(const char *phase, const char *file)
{
    int mine = cb_farm_stop_requested(), any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any && rank0())
        fprintf(stderr, "cbound: stopped by a signal %s; no task has run and no results file was written\n"
                        "cbound: to continue:  cbound run --resume %s\n", phase, file);
    return any;
}

static void dry_run(const CbSweep *s)
{
    printf("sweep %s (%s): %d tasks, %d training stages, sweep seed %llu\n", s->name, s->file, s->n_tasks,
           s->n_stages, (unsigned long long)s->seed);
    if (s->shard_n > 0)
        printf("shard %d of %d (0-based): the tasks whose stage key (or task key) is %d mod %d; `task` = position in "
               "the whole sweep\n", s->shard_i, s->shard_n, s->shard_i, s->shard_n);
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
        char label[512];
        cb_sweep_task_label(s, t, label, sizeof label);
        printf("  %6d %-16s %-16s %-10s %6zu %6llu %6d %10.3g  %s\n", t->index, t->key_hex,
               t->stage >= 0 ? s->stages[t->stage].key_hex : "-", t->method->name, t->width,
               (unsigned long long)t->seed, rank_of[i], t->cost, label);
        total += t->cost;
    }
    free(rank_of);
    printf("\n%d tasks, %d stages, estimated %.4g GFLOP (training + evaluation; methods' own work not included)\n",
           s->n_tasks, s->n_stages, total);
}

/* The end-of-run summary: one line per (method, grid point, width), seeds pooled,
 * in expansion order; a sweep with more groups than SUMMARY_LINES prints the first
 * ones and says how many more the tasks table holds. Grouping sorts the task
 * indices, so it stays O(n log n) for a sweep of 200,000 grid points. */
#define SUMMARY_LINES 40
static const CbSweep *summary_sweep;
static int summary_cmp(const void *a, const void *b)
{
    const CbTask *x = &summary_sweep->tasks[*(const int *)a], *y = &summary_sweep->tasks[*(const int *)b];
    int c = strcmp(x->method->name, y->method->name);
    if (!c) c = (x->width > y->width) - (x->width < y->width);
    if (!c) c = strcmp(x->params_text, y->params_text);
    if (!c) c = (x->measure > y->measure) - (x->measure < y->measure);
    if (!c) c = (x->index > y->index) - (x->index < y->index);
    return c;
}
static int first_cmp(const void *a, const void *b)
{
    const int *x = a, *y = b; /* (first task, start in the sorted order, count) */
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static void summary(const CbSweep *s, const CbResults *r)
{
    int n = s->n_tasks;
    int *idx = cb_malloc((size_t)(n ? n : 1) * sizeof *idx), *grp = cb_malloc((size_t)(n ? n : 1) * 3 * sizeof *grp);
    for (int i = 0; i < n; ++i) idx[i] = i;
    summary_sweep = s;
    qsort(idx, (size_t)n, sizeof *idx, summary_cmp);
    int n_grp = 0;
    for (int i = 0; i < n;) {
        int j = i + 1;
        const CbTask *t = &s->tasks[idx[i]];
        while (j < n && s->tasks[idx[j]].method == t->method && s->tasks[idx[j]].width == t->width &&
               !strcmp(s->tasks[idx[j]].params_text, t->params_text) && s->tasks[idx[j]].measure == t->measure)
            ++j;
        grp[3 * n_grp] = idx[i], grp[3 * n_grp + 1] = i, grp[3 * n_grp + 2] = j - i;
        ++n_grp;
        i = j;
    }
    qsort(grp, (size_t)n_grp, 3 * sizeof *grp, first_cmp);
    printf("\n%-12s %7s %-28s %5s %6s %9s %9s %9s\n", "method", "width", "params (grid point)", "tasks", "failed",
           "sparsity", "test_acc", "orig_acc");
    for (int g = 0; g < n_grp && g < SUMMARY_LINES; ++g) {
        const CbTask *t = &s->tasks[grp[3 * g]];
        int done = 0, failed = 0, ok = 0;
        double sp = 0, acc = 0, orig = 0;
        for (int k = 0; k < grp[3 * g + 2]; ++k) {
            const CbRecord *rec = r->done[idx[grp[3 * g + 1] + k]];
            if (!rec) continue;
            ++done;
            if (rec->failed) {
                ++failed;
                continue;
            }
            ++ok;
            sp += rec->res.task[CB_T_sparsity];
            acc += rec->res.task[CB_T_test_acc];
            orig += rec->res.task[CB_T_orig_test_acc];
        }
        char label[512];
        cb_sweep_task_label(s, t, label, sizeof label);
        printf("%-12s %7zu %-28s %5d %6d %9.4f %9.4f %9.4f\n", t->method->name, t->width, label, done, failed,
               ok ? sp / ok : NAN,
               ok ? acc / ok : NAN, ok ? orig / ok : NAN);
    }
    if (n_grp > SUMMARY_LINES)
        printf("... %d more (method, grid point, width) lines: every row is in the tasks table\n", n_grp - SUMMARY_LINES);
    printf("(means over the seeds of each line's tasks; tasks = rows recorded)\n");
    free(idx);
    free(grp);
    printf("\n%d/%d tasks done (%d failed) -> %s (written in %.2f s)\n", r->n_done, s->n_tasks, r->n_failed, s->output,
           r->write_s);
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
    int dry = 0, resume = 0, force = 0, retry = 0, shard_i = 0, shard_n = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--dry-run")) dry = 1;
        else if (!strcmp(a, "--resume")) resume = 1;
        else if (!strcmp(a, "--retry-failed")) retry = resume = 1;
        else if (!strcmp(a, "--shard") && i + 1 < argc) {
            char tail;
            if (sscanf(argv[++i], "%d/%d%c", &shard_i, &shard_n, &tail) != 2 || shard_n < 1 || shard_n > 1000000 ||
                shard_i < 0 || shard_i >= shard_n) {
                if (rank0())
                    fprintf(stderr, "cbound run: --shard expects I/N with 0 <= I < N (e.g. 0/3, 1/3, 2/3), got '%s'\n",
                            argv[i]);
                return 2;
            }
        }
        else if (!strcmp(a, "--force")) force = 1;
        else if (!strcmp(a, "--quiet")) fo.quiet = 1;
        else if (!strcmp(a, "--no-local-worker")) fo.local_worker = 0;
        else if (!strcmp(a, "--grace") && i + 1 < argc) fo.grace = cb_cli_double(a, argv[++i], 0, 1e7);
        else if (!strcmp(a, "--flush-every") && i + 1 < argc) fo.flush_every = cb_cli_double(a, argv[++i], 1, 1e7);
        else if (!strcmp(a, "--progress") && i + 1 < argc) fo.progress_every = cb_cli_double(a, argv[++i], 0, 1e7);
        else if (!strcmp(a, "--checkpoint-every") && i + 1 < argc) {
            double v = cb_cli_double(a, argv[++i], 0, 1e6);
            if (v != floor(v)) {
                if (rank0()) fprintf(stderr, "cbound run: --checkpoint-every expects a whole number of epochs, got '%s'\n", argv[i]);
                return 2;
            }
            fo.checkpoint_every = (int)v;
        }
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
        } else if (path && a[0] != '-' && strchr(a, '=') && n_overrides < 256) {
            overrides[n_overrides++] = argv[i];
        } else if (a[0] == '-' || path) {
            const char *near = NULL;
            static const char *const opts[] = {"--resume", "--force", "--retry-failed", "--dry-run", "--quiet", "--grace",
                                               "--flush-every", "--progress", "--checkpoint-every", "--shard", "--schema",
                                               "--list-methods", "--help"};
            for (size_t j = 0; j < sizeof opts / sizeof *opts && a[0] == '-'; ++j)
                if (!strncmp(a, opts[j], strlen(a) > 4 ? strlen(a) - 1 : strlen(a)) ||
                    !strncmp(a, opts[j], strlen(opts[j]) - 1))
                    near = opts[j];
            if (rank0())
                fprintf(stderr, "cbound run: unexpected argument '%s'%s%s%s\n\n%s", a, near ? " (did you mean " : "",
                        near ? near : "", near ? "?)" : "", RUN_USAGE);
            return 2;
        } else path = a;
    }
    if (!path) {
        if (rank0()) fprintf(stderr, "cbound run: expected a sweep file\n\n%s", RUN_USAGE);
        return 2;
    }
    if (resume && force) {
        if (rank0()) fprintf(stderr, "cbound run: --%s and --force contradict each other; pick one\n",
                             retry ? "retry-failed" : "resume");
        return 2;
    }

    CbSweep s;
    CbStatus st = load_everywhere(path, &s);
    if (st != CB_OK) {
        if (rank0()) cb_err_report("cbound");
        return 1;
    }
    if (shard_n > 0) cb_sweep_shard(&s, shard_i, shard_n); /* same on every rank */
    if (stop_anywhere("while reading the sweep file", path)) {
        cb_sweep_free(&s);
        return 3;
    }
    if (rank0()) st = cb_sweep_check_data(&s);
    if (bcast_status(st) != CB_OK) {
        if (rank0()) cb_err_report("cbound");
        cb_sweep_free(&s);
        return 1;
    }
    if (!dry && stop_anywhere("while reading the data files", path)) {
        cb_sweep_free(&s);
        return 3;
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
        st = cb_results_open(&res, &s,
                             retry ? CB_RESULTS_RETRY : resume ? CB_RESULTS_RESUME : force ? CB_RESULTS_FORCE
                                                                                   : CB_RESULTS_NEW,
                             size, hosts);
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
    if (rank0() && res.n_retry)
        fprintf(stderr, "cbound: --retry-failed: %d failed task%s will run again\n", res.n_retry,
                res.n_retry == 1 ? "" : "s");
    int rc = cb_farm_run(&s, &res, &fo, MPI_COMM_WORLD);
    if (rank0()) {
        if (rc == 0) summary(&s, &res);
        if (rc == 0 && res.n_failed > 0) {
            char sh[64] = "";
            if (shard_n) snprintf(sh, sizeof sh, "--shard %d/%d ", shard_i, shard_n);
            fprintf(stderr, "cbound: %d of %d tasks failed (rows with status 'failed' and the reason); exit status 4\n"
                            "cbound: to run them again:  cbound run --retry-failed %s%s\n",
                    res.n_failed, s.n_tasks, sh, s.file);
            rc = 4;
        }
        cb_results_close(&res);
    }
    /* Every rank returns the same status (rank 0's decides mpirun's). */
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    cb_sweep_free(&s);
    return rc;
}

/* ------------------------------------------------------------------ merge */

static const char MERGE_USAGE[] =
    "usage: cbound merge [--force] [--partial] SWEEP.yaml SHARD.h5...\n"
    "\n"
    "Joins the results of `cbound run --shard I/N SWEEP.yaml` runs into the sweep's results\n"
    "file (its `output:`, default results/<name>.h5) and journal, as if one run had made them:\n"
    "the same rows in the same order, bit for bit (timing columns aside). Reads each shard's\n"
    "journal (SHARD.h5.journal); every one must come from this sweep file, unchanged, and the\n"
    "shards must be 0..N-1 of one N. A later `cbound run --resume SWEEP.yaml` continues the\n"
    "merged file like any other.\n"
    "\n"
    "  --force     replace an existing results file and journal\n"
    "  --partial   write the merged file even when tasks or shards are missing (exit 4)\n"
    "\n"
    "Exit status: 0 merged, every task ok; 4 merged, some tasks failed (or missing, with\n"
    "--partial); 1 error (another sweep, a shard missing, unreadable files); 2 usage.\n";

int cb_cli_merge(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(MERGE_USAGE);
        return 0;
    }
    int force = 0, partial = 0, n_in = 0;
    const char *path = NULL, **in = cb_calloc((size_t)argc + 1, sizeof *in);
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--force")) force = 1;
        else if (!strcmp(argv[i], "--partial")) partial = 1;
        else if (argv[i][0] == '-') {
            if (rank0()) fprintf(stderr, "cbound merge: unexpected argument '%s'\n\n%s", argv[i], MERGE_USAGE);
            free(in);
            return 2;
        } else if (!path) path = argv[i];
        else in[n_in++] = argv[i];
    }
    if (!path || n_in == 0) {
        if (rank0()) fprintf(stderr, "cbound merge: expected a sweep file and shard files\n\n%s", MERGE_USAGE);
        free(in);
        return 2;
    }
    if (!rank0()) {
        free(in);
        return 0;
    }
    CbSweep s;
    if (cb_sweep_load(path, &s) != CB_OK) {
        cb_err_report("cbound");
        free(in);
        return 1;
    }
    CbResults res;
    memset(&res, 0, sizeof res);
    int rc = 0, shard_n = -1;
    char *seen = NULL;
    for (int j = 0; j < n_in; ++j) /* never merge into one of the inputs */
        if (!strcmp(in[j], s.output)) {
            CB_ERR(CB_EINVAL, "%s is the sweep's own output: the merged file would replace a shard", in[j]);
            rc = 1;
        }
    if (rc == 0 && cb_results_open(&res, &s, force ? CB_RESULTS_FORCE : CB_RESULTS_NEW, 1, "merge") != CB_OK) rc = 1;
    for (int j = 0; j < n_in && rc == 0; ++j) {
        char journal[1200], shard[64];
        size_t l = strlen(in[j]);
        snprintf(journal, sizeof journal, "%s%s", in[j], l > 8 && !strcmp(in[j] + l - 8, ".journal") ? "" : ".journal");
        int added, si, sn;
        if (cb_results_import(&res, journal, shard, sizeof shard, &added) != CB_OK) {
            rc = 1;
            break;
        }
        if (sscanf(shard, "%d/%d", &si, &sn) != 2) {
            CB_ERR(CB_EINVAL, "%s: not a shard (its last session ran the whole sweep, not --shard I/N)", journal);
            rc = 1;
            break;
        }
        if (shard_n < 0) {
            shard_n = sn;
            seen = cb_calloc((size_t)sn, 1);
        }
        if (sn != shard_n || si < 0 || si >= sn || seen[si]) {
            CB_ERR(CB_EINVAL, "%s: shard %s does not fit the others (%s of %d)", journal, shard,
                   sn != shard_n ? "N differs" : "a repeat", shard_n);
            rc = 1;
            break;
        }
        seen[si] = 1;
        printf("cbound: %s: shard %s, %d tasks\n", in[j], shard, added);
    }
    int missing_shards = 0;
    for (int k = 0; rc == 0 && k < shard_n; ++k) missing_shards += !seen[k];
    if (rc == 0 && (missing_shards || res.n_done < s.n_tasks) && !partial) {
        CB_ERR(CB_EINVAL, "%d of %d tasks are missing (%d of %d shards not given)", s.n_tasks - res.n_done,
               s.n_tasks, missing_shards, shard_n);
        cb_err_hint("finish every shard (`cbound run --resume --shard I/N %s`) and pass them all, or merge what "
                    "there is with --partial", path);
        rc = 1;
    }
    if (rc == 0 && cb_results_write(&res) != CB_OK) rc = 1;
    if (rc != 0) {
        cb_err_report("cbound");
        if (res.done) { /* nothing half-made is left behind */
            char j2[1200];
            snprintf(j2, sizeof j2, "%s", res.journal_path);
            cb_results_close(&res);
            if (j2[0]) unlink(j2);
        }
    } else {
        summary(&s, &res);
        if (res.n_failed > 0 || res.n_done < s.n_tasks) rc = 4;
        cb_results_close(&res);
    }
    free(seen);
    free(in);
    cb_sweep_free(&s);
    return rc;
}

/* A task's row as `key value` lines (the same for `cbound task` and `cbound compress`). */
static void print_record(const CbSweep *s, int i, const CbRecord *rec)
{
    const CbTask *t = &s->tasks[i];
    printf("task %d\nkey %s\nstage %s\nmethod %s\nparams %s\nwidth %zu\nseed %llu\nstatus %s\nreason %s\n", i,
           t->key_hex, t->stage >= 0 ? s->stages[t->stage].key_hex : "", t->method->name, t->params_text, t->width,
           (unsigned long long)t->seed, rec->failed ? "failed" : "ok", rec->reason);
    static const char *const names[] = {
#define X(name, unit, doc) #name,
        CB_TASK_COLUMNS(X)
#undef X
    };
    for (int c = 0; c < CB_T_COUNT; ++c) printf("%s %.17g\n", names[c], rec->res.task[c]);
    static const char *const lnames[] = {
#define X(name, unit, doc) #name,
        CB_LAYER_COLUMNS(X)
#undef X
    };
    for (int l = 0; l < rec->res.n_layers; ++l) {
        const CbLayerRow *L = &rec->res.layers[l];
        printf("layer %d d_out %d d_in %d", L->layer, L->d_out, L->d_in);
        for (int c = 0; c < CB_L_COUNT; ++c) printf(" %s %.17g", lnames[c], L->v[c]);
        printf("\n");
    }
    for (int b = 0; b < rec->res.n_bounds; ++b) {
        const CbBoundRow *B = &rec->res.bounds[b];
        printf("bound %s %s scale %s value_ln %.17g error_bound %.17g gamma %.17g margin_loss %.17g complexity %.17g "
               "n %.17g applies %d vacuous %d gamma_rule \"%s\" why_not \"%s\"\n",
               B->name, B->variant, B->scale, B->value_ln, B->error_bound, B->gamma, B->margin_loss, B->complexity,
               B->n, (int)B->applies, (int)B->vacuous, B->gamma_rule, B->why_not);
    }
    for (int k = 0; k < rec->res.n_series; ++k)
        printf("series %s %lld %.17g %.17g\n", rec->res.series[k].name, (long long)rec->res.series[k].i,
               rec->res.series[k].x, rec->res.series[k].y);
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
        else if (path && argv[i][0] != '-' && strchr(argv[i], '=') && n_overrides < 256) overrides[n_overrides++] = argv[i];
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
    if (cb_sweep_load_with(path, overrides, n_overrides, &s) != CB_OK || cb_sweep_check_data(&s) != CB_OK) {
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
    print_record(&s, i, &rec);
    int rc = rec.failed ? 1 : 0;
    cb_record_free(&rec);
    cb_sweep_free(&s);
    return rc;
}

/* ------------------------------------------------------------------ cbound compress */

static const char COMPRESS_USAGE[] =
    "usage: cbound compress MODEL.h5 --method NAME [--param NAME=VALUE ...] --data.kind KIND\n"
    "                       [--data.KEY VALUE ...] [--train.KEY VALUE ...] [--measure.KEY VALUE ...]\n"
    "                       [--seed S] [-o OUT.h5]\n"
    "\n"
    "Compresses one model file with one method and prints the row a sweep task gives: the\n"
    "task of the sweep `seed: S`, `model: {file: MODEL.h5}`, the data/train/measure settings\n"
    "given (the sweep's key names, same validation and messages) and `methods: [{name: NAME,\n"
    "grid: {NAME: VALUE}}]` — so the row equals that sweep's row (timings aside). With -o the\n"
    "compressed model is written as a model file (loadable by `cbound info` and\n"
    "scripts/torch_interop.py import).\n"
    "  --seed S        sweep seed (default 1): keys the method's random streams\n"
    "  --param N=V     a method parameter (repeat for several)\n"
    "  -o OUT.h5       write the compressed model (refuses to overwrite without --force)\n"
    "Exit status: 0 ok, 1 the task failed or an error, 2 usage.\n";

static int compress_usage(const char *what, const char *arg)
{
    if (rank0()) fprintf(stderr, "cbound compress: %s%s%s\n\n%s", what, arg ? " " : "", arg ? arg : "", COMPRESS_USAGE);
    return 2;
}

int cb_cli_compress(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(COMPRESS_USAGE);
        return 0;
    }
    const char *model = NULL, *method = NULL, *out = NULL, *seed = "1";
    int force = 0, n_ov = 0, has_data = 0;
    size_t cap = 1 << 16;
    char *grid = cb_calloc(1, cap);
    /* --data.KEY V etc. become the overrides "data.KEY=V" of `cbound run`: the value is YAML
     * (a number stays a number), checked with the sweep file's messages */
    char **ov = cb_calloc((size_t)argc, sizeof *ov);
    static const char *const names[3] = {"data", "train", "measure"};
    int rc = 0;
    for (int i = 1; i < argc && !rc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--force")) { force = 1; continue; }
        if (a[0] != '-') {
            if (model) rc = compress_usage("unexpected argument (one model file):", a);
            model = a;
            continue;
        }
        if (i + 1 >= argc) { rc = compress_usage("this option needs a value:", a); break; }
        const char *v = argv[++i];
        if (!strcmp(a, "--method")) method = v;
        else if (!strcmp(a, "--seed")) seed = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) out = v;
        else if (!strcmp(a, "--param")) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) { rc = compress_usage("--param expects NAME=VALUE, found", v); break; }
            snprintf(grid + strlen(grid), cap - strlen(grid), "%s%.*s: \"%s\"", grid[0] ? ", " : "", (int)(eq - v), v, eq + 1);
        } else {
            int k = -1;
            for (int j = 0; j < 3; ++j)
                if (!strncmp(a + 2, names[j], strlen(names[j])) && a[2 + strlen(names[j])] == '.') k = j;
            if (k < 0 || strncmp(a, "--", 2)) { rc = compress_usage("unknown option", a); break; }
            size_t len = strlen(a + 2) + strlen(v) + 2;
            ov[n_ov] = cb_malloc(len);
            snprintf(ov[n_ov++], len, "%s=%s", a + 2, v);
            has_data |= k == 0;
        }
    }
    if (!rc && (!model || !method)) rc = compress_usage("expected a model file and --method NAME", NULL);
    if (!rc && !has_data) rc = compress_usage("expected --data.kind KIND (and the data settings of the sweep)", NULL);
    if (!rc && out && !force && access(out, F_OK) == 0) {
        if (rank0()) fprintf(stderr, "cbound compress: error: %s exists (use --force to overwrite)\n", out);
        rc = 1;
    }
    if (rc || !rank0()) {
        for (int k = 0; k < n_ov; ++k) free(ov[k]);
        free(ov);
        free(grid);
        return rc;
    }
    /* The one-task sweep this command is (method parameters quoted: the grid parses them). */
    char *text = cb_malloc(4 * cap);
    snprintf(text, 4 * cap, "name: compress\nseed: %s\noutput: compress.h5\nmodel:\n  file: \"%s\"\n"
             "methods:\n  - name: %s\n    grid: {%s}\n", seed, model, method, grid);
    free(grid);
    CbSweep s;
    CbStatus st = cb_sweep_parse_with("(cbound compress)", text, ov, n_ov, &s);
    free(text);
    for (int k = 0; k < n_ov; ++k) free(ov[k]);
    free(ov);
    if (st == CB_OK && s.n_tasks != 1) {
        st = CB_ERR(CB_EINVAL, "the settings given make %d tasks; cbound compress runs one (give single values, "
                    "not lists)", s.n_tasks);
        cb_sweep_free(&s);
    }
    if (st == CB_OK && (st = cb_sweep_check_data(&s)) != CB_OK) cb_sweep_free(&s);
    if (st != CB_OK) {
        cb_err_report("cbound compress");
        return 1;
    }
    CbRecord rec;
    CbMlp *comp = NULL;
    st = cb_farm_replay_keep(&s, 0, &rec, out ? &comp : NULL);
    if (st != CB_OK) {
        cb_err_report("cbound compress");
        cb_sweep_free(&s);
        return 1;
    }
    print_record(&s, 0, &rec);
    rc = rec.failed ? 1 : 0;
    if (!rc && comp) {
        CbModel m = {.mlp = comp};
        snprintf(m.dataset, sizeof m.dataset, "compressed by `cbound compress` (%s %.120s) from %.40s",
                 s.tasks[0].method->name, s.tasks[0].params_text, model);
        m.metrics.train_loss = rec.res.task[CB_T_train_loss];
        m.metrics.train_acc = rec.res.task[CB_T_train_acc];
        m.metrics.test_loss = rec.res.task[CB_T_test_loss];
        m.metrics.test_acc = rec.res.task[CB_T_test_acc];
        if (cb_model_save(out, &m) != CB_OK) {
            cb_err_report("cbound compress");
            rc = 1;
        } else {
            fprintf(stderr, "cbound compress: wrote %s\n", out);
        }
    }
    cb_mlp_free(comp);
    cb_record_free(&rec);
    cb_sweep_free(&s);
    return rc;
}
