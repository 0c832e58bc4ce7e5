/*
 * cbound — neural-network compression bounds at scale.
 *
 * One binary, many subcommands: `cbound <command> [options]`. This file only
 * dispatches; each command lives in its module (include/cbound/cli.h).
 */
#include "cbound/cli.h"
#include "cbound/err.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Command;

static const Command commands[] = {
    {"version", cb_cli_version, "print versions of cbound and its libraries"},
    {"data", cb_cli_data, "load and validate a data set, print a summary"},
    {"train", cb_cli_train, "train an MLP and save it as a model file"},
    {"info", cb_cli_info, "validate a model file and summarise it (shapes, norms, metrics)"},
    {"bench-train", cb_cli_bench_train, "time MLP training on one core (used by make bench)"},
    {"bench-norms", cb_cli_bench_norms, "time the certified spectral norm vs LAPACK SVD (make bench)"},
    {"run", cb_cli_run, "run a sweep (YAML) under MPI into an HDF5 results file"},
    {"task", cb_cli_task, "replay one task of a sweep and print its row"},
    {"report", cb_cli_report, "turn a results file into the papers' figures and tables"},
    {"lowrank", cb_cli_lowrank, "003 low-rank compression of a model file; SVDs distributed with ScaLAPACK"},
    {"sketch", cb_cli_sketch, "sketch a pruned layer as A W B^T and recover it (004 §5; LP / SSMP)"},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *f)
{
    fprintf(f, "usage: cbound <command> [options]    (cbound <command> --help for details)\n\n"
               "commands:\n");
    for (int i = 0; i < n_commands; ++i) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --version  same as `cbound version`\n");
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
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rc = cmd->run(argc - 1, argv + 1);
    MPI_Finalize();
    return rc;
}
