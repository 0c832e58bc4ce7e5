/*
 * scalapack — distributed SVD with ScaLAPACK over a BLACS grid of an MPI communicator.
 *
 * cbound keeps matrices row-major on one rank (the root). This module is the only
 * place where ScaLAPACK's layout exists: a global m x n matrix is cut into mb x nb
 * blocks dealt cyclically over an nprow x npcol process grid (first block on
 * process (0, 0)); each process stores its blocks as one COLUMN-MAJOR local array
 * of leading dimension lld = max(1, local rows). The column-major block-cyclic
 * layout begins in cb_scalapack_scatter (root's row-major matrix -> local arrays)
 * and ends in cb_scalapack_gather (local arrays -> root's row-major matrix);
 * everything in between (descriptors, pdgesvd) is ScaLAPACK's.
 *
 * There is no ScaLAPACK C header: scalapack.c declares the Fortran and BLACS
 * prototypes it uses, including the hidden string-length arguments of pdgesvd.
 * A program that uses this module and calls MPI_Finalize itself should call
 * cb_scalapack_exit() first (Cblacs_exit(1): release BLACS, keep MPI running).
 */
#ifndef CBOUND_SCALAPACK_H
#define CBOUND_SCALAPACK_H

#include "cbound/err.h"

#include <mpi.h>
#include <stddef.h>

typedef struct {
    MPI_Comm comm;        /* the communicator the grid spans (not owned)             */
    int rank, size;       /* in comm                                                  */
    int sys_handle;       /* BLACS system handle of comm                              */
    int ctxt;             /* BLACS context                                            */
    int nprow, npcol;     /* grid shape, nprow * npcol == size                        */
    int myrow, mycol;     /* this process's coordinates                               */
    int *coord_rank;      /* (nprow * npcol): comm rank of grid process (r, c) at r*npcol+c */
} CbBlacsGrid;

/* Build a row-major nprow x npcol grid over all ranks of comm (collective).
 * nprow = npcol = 0 picks the most square factorization of the size. */
CbStatus cb_scalapack_grid_init(MPI_Comm comm, int nprow, int npcol, CbBlacsGrid *g);
void cb_scalapack_grid_free(CbBlacsGrid *g);

/* A block-cyclic distributed matrix: this process's part. */
typedef struct {
    int m, n;             /* global shape                                             */
    int mb, nb;           /* block shape                                              */
    int mloc, nloc;       /* local rows / columns (numroc)                            */
    int lld;              /* local leading dimension = max(1, mloc)                   */
    int desc[9];          /* ScaLAPACK array descriptor                               */
    double *a;            /* (lld, nloc) column-major local blocks                    */
} CbDistMatrix;

CbStatus cb_scalapack_dist_alloc(const CbBlacsGrid *g, int m, int n, int mb, int nb, CbDistMatrix *A);
void cb_scalapack_dist_free(CbDistMatrix *A);

/* Row-major (m, n) on rank `root` of the grid's communicator -> distributed A
 * (allocated by cb_scalapack_dist_alloc). `a` is read on root only. Collective. */
CbStatus cb_scalapack_scatter(const CbBlacsGrid *g, const double *a, int root, CbDistMatrix *A);
/* Distributed A -> row-major (m, n) on rank `root` (`out` written on root only). Collective. */
CbStatus cb_scalapack_gather(const CbBlacsGrid *g, const CbDistMatrix *A, int root, double *out);

/* Thin SVD of the row-major (m, n) matrix `a` held on root: a = U diag(s) VT with
 * k = min(m, n). s (k) is returned on every rank; U (m, k) and VT (k, n), row-major,
 * on root only, and only when the pointer is non-NULL (NULL = not computed).
 * nb = block size (square blocks; 0 = 64). Collective over the grid. */
CbStatus cb_scalapack_svd(const CbBlacsGrid *g, const double *a, int m, int n, int root, int nb,
                          double *s, double *U, double *VT);

/* All eigenvalues (ascending) and eigenvectors of the symmetric (n, n) matrix `a`
 * held on root (read there only; both triangles), by pdsyevd. w (n) on every rank;
 * Z (n, n) row-major on root when non-NULL, column j = eigenvector of w[j].
 * nb = block size (0 = 64). Collective over the grid. */
CbStatus cb_scalapack_syevd(const CbBlacsGrid *g, const double *a, int n, int root, int nb, double *w, double *Z);

/* Release BLACS without finalizing MPI (Cblacs_exit(1)). */
void cb_scalapack_exit(void);

#endif
