/*
 * version — cbound's version, git revision and library versions (src/core/version.c).
 */
#ifndef CBOUND_VERSION_H
#define CBOUND_VERSION_H

/* "0.1.0" and the git revision the binary was built from ("abc1234-dirty"). */
const char *cb_version_string(void);
const char *cb_version_git_rev(void);
/* Library versions (MPI library, HDF5, GSL, OpenBLAS build config). */
typedef struct {
    char mpi[256], hdf5[32], gsl[32], openblas[256];
} CbVersionLibs;
void cb_version_libs(CbVersionLibs *v);

#endif
