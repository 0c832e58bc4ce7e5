/*
 * cli — shared option parsing for the subcommands, and `cbound --version`
 * (the version strings themselves come from src/core/version.c).
 */
#include "cbound/cli.h"
#include "cbound/err.h"
#include "cbound/version.h"

#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long cb_cli_long(const char *opt, const char *val, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = val ? strtol(val, &end, 10) : 0;
    if (!val || errno || *end || end == val || v < lo || v > hi) {
        fprintf(stderr, "cbound: error: option %s expects an integer in [%ld, %ld], got '%s'\n", opt,
                lo, hi, val ? val : "(nothing)");
        exit(2);
    }
    return v;
}

double cb_cli_double(const char *opt, const char *val, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = val ? strtod(val, &end) : 0;
    if (!val || errno || *end || end == val || !(v >= lo && v <= hi)) {
        fprintf(stderr, "cbound: error: option %s expects a number in [%g, %g], got '%s'\n", opt, lo,
                hi, val ? val : "(nothing)");
        exit(2);
    }
    return v;
}

int cb_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

void cb_cli_print0(const char *text)
{
    int rank = 0, init = 0;
    MPI_Initialized(&init);
    if (init) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) fputs(text, stdout);
}

int cb_cli_version(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0("usage: cbound version   (or cbound --version)\n\n"
                      "Prints the versions of cbound (and the git revision it was built from) and of the\n"
                      "libraries it runs on: MPI, HDF5, GSL, OpenBLAS, the random streams.\n");
        return 0;
    }
    CbVersionLibs v;
    cb_version_libs(&v);
    printf("cbound %s (git %s)\n", cb_version_string(), cb_version_git_rev());
    printf("  MPI:      %s\n", v.mpi);
    printf("  HDF5:     %s\n", v.hdf5);
    printf("  GSL:      %s\n", v.gsl);
    printf("  OpenBLAS: %s\n", v.openblas);
    printf("  RNG:      Random123 Philox4x32-10\n");
    return 0;
}
