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

const char *cb_cli_version_string(void) { return CB_VERSION; }
const char *cb_cli_git_rev(void) { return CB_GIT_REV; }

void cb_cli_lib_versions(CbLibVersions *v)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    char *cut = strchr(mpi, ',');
    if (cut) *cut = '\0';
    snprintf(v->mpi, sizeof v->mpi, "%s", mpi);
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    snprintf(v->hdf5, sizeof v->hdf5, "%u.%u.%u", maj, min, rel);
    snprintf(v->gsl, sizeof v->gsl, "%s", gsl_version);
    snprintf(v->openblas, sizeof v->openblas, "%s", openblas_get_config());
}

int cb_cli_version(int argc, char **argv)
{
    CbLibVersions v;
    cb_cli_lib_versions(&v);
    printf("cbound %s (git %s)\n", CB_VERSION, CB_GIT_REV);
    printf("  MPI:      %s\n", v.mpi);
    printf("  HDF5:     %s\n", v.hdf5);
    printf("  GSL:      %s\n", v.gsl);
    printf("  OpenBLAS: %s\n", v.openblas);
    printf("  RNG:      Random123 Philox4x32-10\n");
    return 0;
}
