/*
 * cli — shared option parsing for the subcommands, and `cbound --version`.
 */
#include "cbound/cli.h"
#include "cbound/err.h"

#include <cblas.h>
#include <errno.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>
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
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    char *nl = strchr(mpi, ',');
    if (nl) *nl = '\0';
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    printf("cbound %s (git %s)\n", CB_VERSION, CB_GIT_REV);
    printf("  MPI:      %s\n", mpi);
    printf("  HDF5:     %u.%u.%u\n", maj, min, rel);
    printf("  GSL:      %s\n", gsl_version);
    printf("  OpenBLAS: %s\n", openblas_get_config());
    printf("  RNG:      Random123 Philox4x32-10\n");
    return 0;
}
