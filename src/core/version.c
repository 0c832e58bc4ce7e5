/*
 * version — the version of cbound, the git revision it was built from and the
 * versions of the libraries it runs on, for `cbound --version`, model files
 * and the results file's provenance. The only place CB_VERSION / CB_GIT_REV
 * are expanded, so a new revision rebuilds one object (Makefile: version.o
 * depends on the revision stamp).
 */
#include "cbound/version.h"

#include <cblas.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

const char *cb_version_string(void) { return CB_VERSION; }
const char *cb_version_git_rev(void) { return CB_GIT_REV; }

void cb_version_libs(CbVersionLibs *v)
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

