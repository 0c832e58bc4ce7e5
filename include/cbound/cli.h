/*
 * cli — the subcommands of the `cbound` binary. Each returns the process exit
 * status (0 ok, 1 error, 2 usage). MPI is initialized before they are called
 * (MPI_THREAD_FUNNELED) and finalized after; argv[0] is the subcommand name.
 * Every subcommand accepts --help.
 */
#ifndef CBOUND_CLI_H
#define CBOUND_CLI_H

int cb_cli_version(int argc, char **argv);   /* src/cli.c        */
int cb_cli_data(int argc, char **argv);      /* src/data_cli.c   */
int cb_cli_train(int argc, char **argv);     /* src/train_cli.c  */
int cb_cli_info(int argc, char **argv);      /* src/model_cli.c  */
int cb_cli_run(int argc, char **argv);       /* src/run_cli.c    */
int cb_cli_task(int argc, char **argv);      /* src/run_cli.c    */
int cb_cli_bench_train(int argc, char **argv); /* src/bench_cli.c  */
int cb_cli_bench_norms(int argc, char **argv); /* src/norms_cli.c  */
int cb_cli_report(int argc, char **argv);    /* src/report_cli.c */
int cb_cli_lowrank(int argc, char **argv);   /* src/lowrank_cli.c */
int cb_cli_sketch(int argc, char **argv);    /* src/sketch_cli.c  */

/* "0.1.0" and the git revision the binary was built from ("abc1234-dirty"): the
 * only place CB_VERSION / CB_GIT_REV are expanded, so a new revision rebuilds one
 * object (Makefile: cli.o depends on the revision stamp). */
const char *cb_cli_version_string(void);
const char *cb_cli_git_rev(void);
/* Library versions (MPI library, HDF5, GSL, OpenBLAS build config) for
 * `cbound --version` and the results file's provenance. */
typedef struct {
    char mpi[256], hdf5[32], gsl[32], openblas[256];
} CbLibVersions;
void cb_cli_lib_versions(CbLibVersions *v);

/* Shared option helpers: parse a number or die with "option --x expects ...". */
long cb_cli_long(const char *opt, const char *val, long lo, long hi);
double cb_cli_double(const char *opt, const char *val, double lo, double hi);
/* True when argv contains -h or --help. */
int cb_cli_wants_help(int argc, char **argv);
/* Prints `text` to stdout on rank 0 only. */
void cb_cli_print0(const char *text);

#endif
