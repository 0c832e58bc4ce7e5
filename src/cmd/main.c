/*
 * cbound — neural-network compression bounds at scale.
 *
 * One binary, many subcommands: `cbound <command> [options]`. This file only
 * dispatches; each command lives in its module (include/cbound/cli.h).
 */
#include "cbound/cli.h"
#include "cbound/err.h"
#include "cbound/farm.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *exits;   /* exit statuses beyond 0 ok, 1 error, 2 usage; NULL: its help says them */
} Command;

static const Command commands[] = {
    {"version", cb_cli_version, "print versions of cbound and its libraries", NULL},
    {"data", cb_cli_data, "load and validate a data set, print a summary", NULL},
    {"train", cb_cli_train, "train an MLP and save it as a model file", NULL},
    {"info", cb_cli_info, "validate a model file and summarise it (shapes, norms, metrics)", NULL},
    {"bench-train", cb_cli_bench_train, "time MLP training on one core (used by make bench)", NULL},
    {"bench-norms", cb_cli_bench_norms, "time the certified spectral norm vs LAPACK SVD (make bench)", NULL},
    {"run", cb_cli_run, "run a sweep (YAML) under MPI into an HDF5 results file", NULL},
    {"task", cb_cli_task, "replay one task of a sweep and print its row", "1 also when the task fails (its row says why)"},
    {"compress", cb_cli_compress, "compress one model file with one method and print its row (and save it)", NULL},
    {"merge", cb_cli_merge, "join the results of `run --shard I/N` runs into the sweep's results file", NULL},
    {"report", cb_cli_report, "turn a results file into the papers' figures and tables", NULL},
    {"lowrank", cb_cli_lowrank, "003 low-rank compression of a model file; SVDs distributed with ScaLAPACK", NULL},
    {"sketch", cb_cli_sketch, "sketch a pruned layer as A W B^T and recover it (004 §5; LP / SSMP)", NULL},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *f)
{
    fprintf(f, "usage: cbound <command> [options]    (cbound <command> --help for details)\n\n"
               "commands:\n");
    for (int i = 0; i < n_commands; ++i) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --version  same as `cbound version`\n"
               "Every command answers -h/--help; exit status 0 ok, 1 error (message on stderr), 2 usage error.\n");
}

/* After a command's own --help: the exit statuses, in one layout for every command. */
static void exit_help(const Command *cmd)
{
    if (cmd->run == cb_cli_run || cmd->run == cb_cli_merge || cmd->run == cb_cli_compress) return; /* their help lists them */
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank) return;
    printf("\nExit status: 0 ok, 1 error (message on stderr), 2 usage error%s%s.\n", cmd->exits ? "; " : "",
           cmd->exits ? cmd->exits : "");
}

static int wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc; ++i)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *name = !strcmp(argv[1], "--version") ? "version" : argv[1];
    const Command *cmd = NULL;
    for (int i = 0; i < n_commands; ++i)
        if (!strcmp(commands[i].name, name)) cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "cbound: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return 2;
    }
    /* `cbound run` takes SIGTERM/SIGINT/SIGUSR1 as stop requests from the start,
     * MPI start-up included (before, the default action would kill the rank). */
    if (cmd->run == cb_cli_run) cb_farm_install_signals();
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int help = wants_help(argc, argv);
    int rc = cmd->run(argc - 1, argv + 1);
    if (help && rc == 0) exit_help(cmd);
    MPI_Finalize();
    return rc;
}
