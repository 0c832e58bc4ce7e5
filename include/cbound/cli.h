/*
 * cli — the subcommands of the `cbound` binary. Each returns the process exit
 * status (0 ok, 1 error, 2 usage). MPI is initialized before they are called
 * (MPI_THREAD_FUNNELED) and finalized after; argv[0] is the subcommand name.
 * Every subcommand accepts --help.
 */
#ifndef CBOUND_CLI_H
#define CBOUND_CLI_H

int cb_cli_version(int argc, char **argv);   /* src/cmd/cli.c        */
int cb_cli_data(int argc, char **argv);      /* src/cmd/data_cli.c   */
int cb_cli_train(int argc, char **argv);     /* src/cmd/train_cli.c  */
int cb_cli_info(int argc, char **argv);      /* src/cmd/model_cli.c  */
int cb_cli_run(int argc, char **argv);       /* src/cmd/run_cli.c    */
int cb_cli_task(int argc, char **argv);      /* src/cmd/run_cli.c    */
int cb_cli_compress(int argc, char **argv);  /* src/cmd/run_cli.c */
int cb_cli_merge(int argc, char **argv);     /* src/cmd/run_cli.c    */
int cb_cli_bench_train(int argc, char **argv); /* src/cmd/bench_cli.c  */
int cb_cli_bench_norms(int argc, char **argv); /* src/cmd/norms_cli.c  */
int cb_cli_report(int argc, char **argv);    /* src/cmd/report_cli.c */
int cb_cli_lowrank(int argc, char **argv);   /* src/cmd/lowrank_cli.c */
int cb_cli_sketch(int argc, char **argv);    /* src/cmd/sketch_cli.c  */

/* Shared option helpers: parse a number or die with "option --x expects ...". */
long cb_cli_long(const char *opt, const char *val, long lo, long hi);
double cb_cli_double(const char *opt, const char *val, double lo, double hi);
/* True when argv contains -h or --help. */
int cb_cli_wants_help(int argc, char **argv);
/* Prints `text` to stdout on rank 0 only. */
void cb_cli_print0(const char *text);

#endif
