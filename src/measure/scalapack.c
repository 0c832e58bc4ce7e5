/*
 * scalapack — BLACS grids, block-cyclic scatter/gather and pdgesvd (see
 * include/cbound/scalapack.h for the layout). Reference: the ScaLAPACK Users'
 * Guide (Blackford et al. 1997), §4.3 (block-cyclic distribution) and the
 * pdgesvd documentation (ScaLAPACK 2.2).
 *
 * Index map (0-based) of the block-cyclic distribution with source process
 * (0, 0): global row i lives on process row (i / mb) mod nprow at local row
 * (i / (mb·nprow))·mb + i mod mb; columns likewise with nb, npcol. Scatter and
 * gather pack every process's local column-major array on the root and move it
 * with one MPI_Scatterv / MPI_Gatherv (the root holds the whole matrix anyway).
 * Errors are decided identically on every rank (same arguments, same ScaLAPACK
 * info), so a collective call never leaves one rank waiting.
 */
#include "cbound/scalapack.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ prototypes (no C header exists) */

extern int Csys2blacs_handle(MPI_Comm comm);
extern void Cfree_blacs_system_handle(int handle);
extern void Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
extern void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
extern void Cblacs_gridexit(int ctxt);
extern void Cblacs_exit(int keep_mpi);
extern int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc,
                   const int *nprocs);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
                      const int *irsrc, const int *icsrc, const int *ictxt, const int *lld, int *info);
/* gfortran passes the length of each CHARACTER argument as a trailing size_t. */
extern void pdgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a,
                     const int *ia, const int *ja, const int *desca, double *s, double *u, const int *iu,
                     const int *ju, const int *descu, double *vt, const int *ivt, const int *jvt,
                     const int *descvt, double *work, const int *lwork, int *info, size_t jobu_len,
                     size_t jobvt_len);

extern void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia, const int *ja,
                     const int *desca, double *w, double *z, const int *iz, const int *jz, const int *descz,
                     double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len,
                     size_t uplo_len);

/* ------------------------------------------------------------------ grid */

CbStatus cb_scalapack_grid_init(MPI_Comm comm, int nprow, int npcol, CbBlacsGrid *g)
{
    memset(g, 0, sizeof *g);
    g->ctxt = -1;
    if (comm == MPI_COMM_NULL) return CB_ERR(CB_EINVAL, "BLACS grid: communicator is MPI_COMM_NULL");
    if (MPI_Comm_rank(comm, &g->rank) != MPI_SUCCESS || MPI_Comm_size(comm, &g->size) != MPI_SUCCESS)
        return CB_ERR(CB_EMPI, "BLACS grid: MPI_Comm_rank/size failed");
    if (nprow == 0 && npcol == 0) {
        nprow = 1;
        for (int p = 1; p * p <= g->size; ++p)
            if (g->size % p == 0) nprow = p;
        npcol = g->size / nprow;
    }
    if (nprow < 1 || npcol < 1 || nprow * npcol != g->size) {
        CB_ERR(CB_EINVAL, "BLACS grid %d x %d does not match the communicator's %d ranks", nprow, npcol,
               g->size);
        cb_err_hint("use nprow * npcol = %d, or 0 x 0 for an automatic near-square grid", g->size);
        return CB_EINVAL;
    }
    g->comm = comm;
    g->nprow = nprow;
    g->npcol = npcol;
    g->sys_handle = Csys2blacs_handle(comm);
    g->ctxt = g->sys_handle;
    Cblacs_gridinit(&g->ctxt, "Row", nprow, npcol);
    int pr, pc;
    Cblacs_gridinfo(g->ctxt, &pr, &pc, &g->myrow, &g->mycol);
    /* Learn which comm rank sits at each grid position (do not assume BLACS's order). */
    int mine = g->myrow * npcol + g->mycol;
    int *pos = cb_malloc((size_t)g->size * sizeof *pos);
    if (MPI_Allgather(&mine, 1, MPI_INT, pos, 1, MPI_INT, comm) != MPI_SUCCESS) {
        free(pos);
        cb_scalapack_grid_free(g);
        return CB_ERR(CB_EMPI, "BLACS grid: MPI_Allgather of grid coordinates failed");
    }
    g->coord_rank = cb_malloc((size_t)g->size * sizeof *g->coord_rank);
    for (int r = 0; r < g->size; ++r) g->coord_rank[pos[r]] = r;
    free(pos);
    return CB_OK;
}

void cb_scalapack_grid_free(CbBlacsGrid *g)
{
    if (g->ctxt >= 0) {
        Cblacs_gridexit(g->ctxt);
        Cfree_blacs_system_handle(g->sys_handle);
    }
    free(g->coord_rank);
    memset(g, 0, sizeof *g);
    g->ctxt = -1;
}

void cb_scalapack_exit(void) { Cblacs_exit(1); }

/* ------------------------------------------------------------------ distributed matrices */

static int local_count(int n, int nb, int iproc, int nprocs)
{
    const int zero = 0;
    return numroc_(&n, &nb, &iproc, &zero, &nprocs);
}

CbStatus cb_scalapack_dist_alloc(const CbBlacsGrid *g, int m, int n, int mb, int nb, CbDistMatrix *A)
{
    memset(A, 0, sizeof *A);
    if (m < 1 || n < 1 || mb < 1 || nb < 1)
        return CB_ERR(CB_EINVAL, "distributed matrix %d x %d with blocks %d x %d: all must be >= 1", m, n, mb, nb);
    A->m = m;
    A->n = n;
    A->mb = mb;
    A->nb = nb;
    A->mloc = local_count(m, mb, g->myrow, g->nprow);
    A->nloc = local_count(n, nb, g->mycol, g->npcol);
    A->lld = A->mloc > 1 ? A->mloc : 1;
    const int zero = 0;
    int info;
    descinit_(A->desc, &m, &n, &mb, &nb, &zero, &zero, &g->ctxt, &A->lld, &info);
    if (info != 0) return CB_ERR(CB_EINVAL, "descinit failed (info %d) for a %d x %d matrix", info, m, n);
    A->a = cb_calloc((size_t)A->lld * (size_t)(A->nloc > 0 ? A->nloc : 1), sizeof *A->a);
    return CB_OK;
}

void cb_scalapack_dist_free(CbDistMatrix *A)
{
    free(A->a);
    memset(A, 0, sizeof *A);
}

/* Global index of local index l in a dimension with block nb over np processes, coordinate p. */
static size_t global_index(int l, int nb, int p, int np)
{
    return ((size_t)(l / nb) * (size_t)np + (size_t)p) * (size_t)nb + (size_t)(l % nb);
}

/* Per-rank element counts and displacements of the packed local arrays. */
static CbStatus layout(const CbBlacsGrid *g, const CbDistMatrix *A, int *counts, int *displs)
{
    long long off = 0;
    for (int pos = 0; pos < g->size; ++pos) {
        int r = g->coord_rank[pos], pr = pos / g->npcol, pc = pos % g->npcol;
        long long c = (long long)local_count(A->m, A->mb, pr, g->nprow) * local_count(A->n, A->nb, pc, g->npcol);
        counts[r] = (int)c;
        displs[r] = (int)off;
        off += c;
        if (off > INT_MAX)
            return CB_ERR(CB_EINVAL, "scatter/gather: %d x %d matrix exceeds MPI's int counts", A->m, A->n);
    }
    return CB_OK;
}

/* Copy between the root's row-major matrix and the packed local arrays.
 * to_packed = 1: a -> buf (scatter); 0: buf -> a (gather). */
static void pack(const CbBlacsGrid *g, const CbDistMatrix *A, const int *displs, double *a, double *buf,
                 int to_packed)
{
    for (int pos = 0; pos < g->size; ++pos) {
        int pr = pos / g->npcol, pc = pos % g->npcol;
        int ml = local_count(A->m, A->mb, pr, g->nprow), nl = local_count(A->n, A->nb, pc, g->npcol);
        double *dst = buf + displs[g->coord_rank[pos]];
        for (int lj = 0; lj < nl; ++lj) {
            size_t j = global_index(lj, A->nb, pc, g->npcol);
            for (int li = 0; li < ml; ++li) {
                size_t i = global_index(li, A->mb, pr, g->nprow);
                double *p = &dst[(size_t)lj * (size_t)ml + (size_t)li]; /* column-major, lld = ml */
                if (to_packed)
                    *p = a[i * (size_t)A->n + j];
                else
                    a[i * (size_t)A->n + j] = *p;
            }
        }
    }
}

CbStatus cb_scalapack_scatter(const CbBlacsGrid *g, const double *a, int root, CbDistMatrix *A)
{
    if (root < 0 || root >= g->size) return CB_ERR(CB_EINVAL, "scatter: root %d outside 0..%d", root, g->size - 1);
    int *counts = cb_malloc((size_t)g->size * sizeof *counts), *displs = cb_malloc((size_t)g->size * sizeof *displs);
    CbStatus st = layout(g, A, counts, displs);
    double *buf = NULL;
    if (st == CB_OK && g->rank == root) {
        buf = cb_malloc(((size_t)A->m * (size_t)A->n) * sizeof *buf);
        pack(g, A, displs, (double *)a, buf, 1);
    }
    if (st == CB_OK && MPI_Scatterv(buf, counts, displs, MPI_DOUBLE, A->a, counts[g->rank], MPI_DOUBLE, root,
                                    g->comm) != MPI_SUCCESS)
        st = CB_ERR(CB_EMPI, "scatter: MPI_Scatterv failed");
    free(buf);
    free(counts);
    free(displs);
    return st;
}

CbStatus cb_scalapack_gather(const CbBlacsGrid *g, const CbDistMatrix *A, int root, double *out)
{
    if (root < 0 || root >= g->size) return CB_ERR(CB_EINVAL, "gather: root %d outside 0..%d", root, g->size - 1);
    int *counts = cb_malloc((size_t)g->size * sizeof *counts), *displs = cb_malloc((size_t)g->size * sizeof *displs);
    CbStatus st = layout(g, A, counts, displs);
    double *buf = NULL;
    if (st == CB_OK && g->rank == root) buf = cb_malloc(((size_t)A->m * (size_t)A->n) * sizeof *buf);
    if (st == CB_OK && MPI_Gatherv(A->a, counts[g->rank], MPI_DOUBLE, buf, counts, displs, MPI_DOUBLE, root,
                                   g->comm) != MPI_SUCCESS)
        st = CB_ERR(CB_EMPI, "gather: MPI_Gatherv failed");
    if (st == CB_OK && g->rank == root) pack(g, A, displs, out, buf, 0);
    free(buf);
    free(counts);
    free(displs);
    return st;
}

/* ------------------------------------------------------------------ SVD */

/* Root checks finiteness and broadcasts the verdict, so every rank returns the same status. */
static CbStatus check_finite_on_root(const CbBlacsGrid *g, const double *a, size_t count, int root, const char *what,
                                     int cols)
{
    long long bad = 0;
    if (g->rank == root)
        for (size_t i = 0; i < count && !bad; ++i)
            if (!isfinite(a[i])) bad = (long long)i + 1;
    if (MPI_Bcast(&bad, 1, MPI_LONG_LONG, root, g->comm) != MPI_SUCCESS)
        return CB_ERR(CB_EMPI, "%s: MPI_Bcast failed", what);
    if (bad)
        return CB_ERR(CB_ENUMERIC, "%s: entry (%lld, %lld) of the matrix is not finite", what, (bad - 1) / cols,
                      (bad - 1) % cols);
    return CB_OK;
}


CbStatus cb_scalapack_svd(const CbBlacsGrid *g, const double *a, int m, int n, int root, int nb,
                          double *s, double *U, double *VT)
{
    if (nb == 0) nb = 64;
    if (m < 1 || n < 1 || nb < 1)
        return CB_ERR(CB_EINVAL, "pdgesvd: matrix %d x %d, block %d (all must be >= 1)", m, n, nb);
    /* U and VT are requested on root; every rank must agree on the job. */
    if (root < 0 || root >= g->size) return CB_ERR(CB_EINVAL, "pdgesvd: root %d outside 0..%d", root, g->size - 1);
    CB_TRY(check_finite_on_root(g, a, (size_t)m * (size_t)n, root, "pdgesvd", n));
    int want[2] = {g->rank == root && U != NULL, g->rank == root && VT != NULL};
    if (MPI_Bcast(want, 2, MPI_INT, root, g->comm) != MPI_SUCCESS) return CB_ERR(CB_EMPI, "pdgesvd: MPI_Bcast failed");
    int k = m < n ? m : n;
    CbDistMatrix A, Ud, Vd;
    memset(&Ud, 0, sizeof Ud);
    memset(&Vd, 0, sizeof Vd);
    CB_TRY(cb_scalapack_dist_alloc(g, m, n, nb, nb, &A));
    CbStatus st = cb_scalapack_dist_alloc(g, m, k, nb, nb, &Ud);
    if (st == CB_OK) st = cb_scalapack_dist_alloc(g, k, n, nb, nb, &Vd);
    if (st == CB_OK) st = cb_scalapack_scatter(g, a, root, &A);
    if (st == CB_OK) {
        const char jobu = want[0] ? 'V' : 'N', jobvt = want[1] ? 'V' : 'N';
        const int one = 1;
        int lwork = -1, info = 0;
        double q = 0;
        pdgesvd_(&jobu, &jobvt, &m, &n, A.a, &one, &one, A.desc, s, Ud.a, &one, &one, Ud.desc, Vd.a, &one, &one,
                 Vd.desc, &q, &lwork, &info, 1, 1);
        lwork = (int)q + 1;
        double *work = cb_malloc((size_t)lwork * sizeof *work);
        if (info == 0)
            pdgesvd_(&jobu, &jobvt, &m, &n, A.a, &one, &one, A.desc, s, Ud.a, &one, &one, Ud.desc, Vd.a, &one,
                     &one, Vd.desc, work, &lwork, &info, 1, 1);
        free(work);
        if (info != 0) {
            st = CB_ERR(CB_ENUMERIC, "pdgesvd failed (info %d) on a %d x %d matrix over a %d x %d grid", info, m,
                        n, g->nprow, g->npcol);
            cb_err_hint("info < 0: argument -info was illegal; info > 0: the QR iteration did not converge "
                        "or the matrix has NaN/Inf entries");
        }
    }
    if (st == CB_OK && want[0]) st = cb_scalapack_gather(g, &Ud, root, U);
    if (st == CB_OK && want[1]) st = cb_scalapack_gather(g, &Vd, root, VT);
    cb_scalapack_dist_free(&A);
    cb_scalapack_dist_free(&Ud);
    cb_scalapack_dist_free(&Vd);
    return st;
}

/* ------------------------------------------------------------------ symmetric eigenproblem */

CbStatus cb_scalapack_syevd(const CbBlacsGrid *g, const double *a, int n, int root, int nb, double *w, double *Z)
{
    if (nb == 0) nb = 64;
    if (n < 1 || nb < 1) return CB_ERR(CB_EINVAL, "pdsyevd: matrix %d x %d, block %d (all must be >= 1)", n, n, nb);
    if (root < 0 || root >= g->size) return CB_ERR(CB_EINVAL, "pdsyevd: root %d outside 0..%d", root, g->size - 1);
    CB_TRY(check_finite_on_root(g, a, (size_t)n * (size_t)n, root, "pdsyevd", n));
    /* ScaLAPACK 2.2.1's pdsyevd returns wrong eigenvectors (right eigenvalues) when one
     * block covers the whole matrix (seen for 30x30 with nb = 30, 7x7 with nb = 8;
     * tests/test_scalapack.c keeps those cases): use at least two blocks per process
     * row/column. */
    int np = g->nprow > g->npcol ? g->nprow : g->npcol, cap = n / (2 * np) > 0 ? n / (2 * np) : 1;
    if (nb > cap) nb = cap;
    int want = g->rank == root && Z != NULL;
    if (MPI_Bcast(&want, 1, MPI_INT, root, g->comm) != MPI_SUCCESS) return CB_ERR(CB_EMPI, "pdsyevd: MPI_Bcast failed");
    CbDistMatrix A, Zd;
    memset(&Zd, 0, sizeof Zd);
    CB_TRY(cb_scalapack_dist_alloc(g, n, n, nb, nb, &A));
    /* A symmetric row-major matrix reads the same column-major: scatter as is. */
    CbStatus st = cb_scalapack_dist_alloc(g, n, n, nb, nb, &Zd);
    if (st == CB_OK) st = cb_scalapack_scatter(g, a, root, &A);
    if (st == CB_OK) {
        const int one = 1;
        int lwork = -1, liwork = -1, info = 0, iq = 0;
        double q = 0;
        pdsyevd_("V", "U", &n, A.a, &one, &one, A.desc, w, Zd.a, &one, &one, Zd.desc, &q, &lwork, &iq, &liwork, &info,
                 1, 1);
        lwork = (int)q + 1;
        liwork = iq > 1 ? iq : 1;
        double *work = cb_malloc((size_t)lwork * sizeof *work);
        int *iwork = cb_malloc((size_t)liwork * sizeof *iwork);
        if (info == 0)
            pdsyevd_("V", "U", &n, A.a, &one, &one, A.desc, w, Zd.a, &one, &one, Zd.desc, work, &lwork, iwork,
                     &liwork, &info, 1, 1);
        free(work);
        free(iwork);
        if (info != 0) {
            st = CB_ERR(CB_ENUMERIC, "pdsyevd failed (info %d) on a %d x %d matrix over a %d x %d grid", info, n, n,
                        g->nprow, g->npcol);
            cb_err_hint("info < 0: argument -info was illegal; info > 0: the divide and conquer did not converge");
        }
    }
    if (st == CB_OK && want) st = cb_scalapack_gather(g, &Zd, root, Z);
    cb_scalapack_dist_free(&A);
    cb_scalapack_dist_free(&Zd);
    return st;
}
