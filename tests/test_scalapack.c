/*
 * Tests for scalapack: the block-cyclic scatter/gather (against ScaLAPACK's own
 * INDXL2G index map and a round trip) and pdgesvd against LAPACK's dgesdd on
 * 1x1, 1x2, 2x1 and 2x2 grids, for tall, wide and block-unaligned shapes.
 * cbound-test: ranks 1 2 4
 */
#include "cbound/rng.h"
#include "cbound/scalapack.h"
#include "check.h"
#include "helpers.h"

#include <lapacke.h>
#include <string.h>

extern int indxl2g_(const int *indxloc, const int *nb, const int *iproc, const int *isrcproc,
                    const int *nprocs);

/* A deterministic, high-entropy matrix: every rank can build it. */
static void fill(double *a, int m, int n, uint32_t index)
{
    CbStream s = cb_rng_stream(2385, 61, CB_RNG_TEST, index);
    for (int i = 0; i < m * n; ++i) a[i] = cb_rng_normal(&s);
}

/* Runs every check on one grid; `label` names it. Collective over g's comm. */
static void check_grid(const CbBlacsGrid *g, const char *label)
{
    /* Scatter: each local entry equals the global entry ScaLAPACK's INDXL2G names. */
    const int shapes[][4] = {{13, 7, 3, 2}, {5, 17, 2, 4}, {8, 8, 4, 4}, {1, 9, 2, 2}};
    for (int t = 0; t < 4; ++t) {
        int m = shapes[t][0], n = shapes[t][1], mb = shapes[t][2], nb = shapes[t][3];
        double *a = malloc((size_t)m * n * sizeof *a), *back = malloc((size_t)m * n * sizeof *back);
        fill(a, m, n, (uint32_t)t);
        CbDistMatrix A;
        int ok = cb_scalapack_dist_alloc(g, m, n, mb, nb, &A) == CB_OK;
        ok &= cb_scalapack_scatter(g, a, 0, &A) == CB_OK;
        const int zero = 0;
        for (int lj = 0; lj < A.nloc; ++lj)
            for (int li = 0; li < A.mloc; ++li) {
                int il = li + 1, jl = lj + 1;
                int i = indxl2g_(&il, &mb, &g->myrow, &zero, &g->nprow) - 1;
                int j = indxl2g_(&jl, &nb, &g->mycol, &zero, &g->npcol) - 1;
                ok &= A.a[(size_t)lj * A.lld + li] == a[(size_t)i * n + j];
            }
        int root = g->size - 1; /* gather to the last rank: root need not be 0 */
        memset(back, 0, (size_t)m * n * sizeof *back);
        ok &= cb_scalapack_gather(g, &A, root, back) == CB_OK;
        if (g->rank == root) ok &= memcmp(a, back, (size_t)m * n * sizeof *a) == 0;
        int all;
        MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, g->comm);
        CHECK(all, "%s: %dx%d in %dx%d blocks: local entries match INDXL2G, gather round trip exact", label, m, n,
              mb, nb);
        cb_scalapack_dist_free(&A);
        free(a);
        free(back);
    }

    /* pdgesvd vs dgesdd: singular values, and U, VT up to column signs. */
    const int svd_shapes[][3] = {{37, 23, 8}, {19, 41, 4}, {16, 16, 64}, {50, 3, 5}};
    for (int t = 0; t < 4; ++t) {
        int m = svd_shapes[t][0], n = svd_shapes[t][1], nb = svd_shapes[t][2], k = m < n ? m : n;
        double *a = malloc((size_t)m * n * sizeof *a), *a2 = malloc((size_t)m * n * sizeof *a2);
        double *s = malloc((size_t)k * sizeof *s), *sr = malloc((size_t)k * sizeof *sr);
        double *U = malloc((size_t)m * k * sizeof *U), *VT = malloc((size_t)k * n * sizeof *VT);
        double *Ur = malloc((size_t)m * k * sizeof *Ur), *VTr = malloc((size_t)k * n * sizeof *VTr);
        fill(a, m, n, 10u + (uint32_t)t);
        memcpy(a2, a, (size_t)m * n * sizeof *a);
        LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', m, n, a2, n, sr, Ur, k, VTr, n);
        int root = t % g->size;
        CbStatus st = cb_scalapack_svd(g, a, m, n, root, nb, s, g->rank == root ? U : NULL,
                                       g->rank == root ? VT : NULL);
        double ds = 0, du = 0, dv = 0;
        for (int i = 0; i < k; ++i) ds = fmax(ds, fabs(s[i] - sr[i]) / sr[0]);
        if (g->rank == root)
            for (int c = 0; c < k; ++c) {
                double dot = 0; /* sign of column c */
                for (int i = 0; i < m; ++i) dot += U[i * k + c] * Ur[i * k + c];
                double sg = dot < 0 ? -1 : 1;
                for (int i = 0; i < m; ++i) du = fmax(du, fabs(sg * U[i * k + c] - Ur[i * k + c]));
                for (int j = 0; j < n; ++j) dv = fmax(dv, fabs(sg * VT[c * n + j] - VTr[c * n + j]));
            }
        double loc[3] = {ds, du, dv}, glob[3];
        MPI_Allreduce(loc, glob, 3, MPI_DOUBLE, MPI_MAX, g->comm);
        CHECK(st == CB_OK && glob[0] < 1e-12 && glob[1] < 1e-10 && glob[2] < 1e-10,
              "%s: pdgesvd %dx%d (nb %d, root %d) = dgesdd: s rel %.2g, U %.2g, VT %.2g", label, m, n, nb, root,
              glob[0], glob[1], glob[2]);
        /* Singular values only (jobu = jobvt = 'N'). */
        double *s2 = malloc((size_t)k * sizeof *s2);
        st = cb_scalapack_svd(g, a, m, n, root, nb, s2, NULL, NULL);
        double d2 = 0;
        for (int i = 0; i < k; ++i) d2 = fmax(d2, fabs(s2[i] - sr[i]) / sr[0]);
        CHECK(st == CB_OK && d2 < 1e-12, "%s: pdgesvd values only %dx%d: rel %.2g", label, m, n, d2);
        free(s2);
        free(a);
        free(a2);
        free(s);
        free(sr);
        free(U);
        free(VT);
        free(Ur);
        free(VTr);
    }

    /* pdsyevd vs dsyevd on symmetric matrices: eigenvalues, eigenvectors up to sign. */
    const int eig_shapes[][2] = {{29, 4}, {64, 16}, {30, 30}, {7, 8}, {30, 64}, {2, 64}, {1, 4}};
    for (int t = 0; t < 7; ++t) {
        int n = eig_shapes[t][0], nb = eig_shapes[t][1];
        double *b = malloc((size_t)n * n * sizeof *b), *a = malloc((size_t)n * n * sizeof *a);
        double *ar = malloc((size_t)n * n * sizeof *ar), *w = malloc((size_t)n * sizeof *w);
        double *wr = malloc((size_t)n * sizeof *wr), *Z = malloc((size_t)n * n * sizeof *Z);
        fill(b, n, n, 40u + (uint32_t)t);
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) a[i * n + j] = b[i * n + j] + b[j * n + i] + (i == j ? 0.25 * i : 0);
        memcpy(ar, a, (size_t)n * n * sizeof *a);
        LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, ar, n, wr);
        int root = (t + 1) % g->size;
        CbStatus st = cb_scalapack_syevd(g, a, n, root, nb, w, g->rank == root ? Z : NULL);
        double dw = 0, dz = 0, scale = fmax(fabs(wr[0]), fabs(wr[n - 1]));
        for (int i = 0; i < n; ++i) dw = fmax(dw, fabs(w[i] - wr[i]) / scale);
        if (g->rank == root)
            for (int c = 0; c < n; ++c) {
                double dot = 0;
                for (int i = 0; i < n; ++i) dot += Z[i * n + c] * ar[i * n + c];
                for (int i = 0; i < n; ++i) dz = fmax(dz, fabs((dot < 0 ? -1 : 1) * Z[i * n + c] - ar[i * n + c]));
            }
        double loc[2] = {dw, dz}, glob[2];
        MPI_Allreduce(loc, glob, 2, MPI_DOUBLE, MPI_MAX, g->comm);
        CHECK(st == CB_OK && glob[0] < 1e-13 && glob[1] < 1e-10,
              "%s: pdsyevd %dx%d (nb %d, root %d) = dsyevd: eigenvalues rel %.2g, eigenvectors %.2g", label, n, n, nb,
              root, glob[0], glob[1]);
        free(b);
        free(a);
        free(ar);
        free(w);
        free(wr);
        free(Z);
    }

    /* Error paths (decided identically on every rank). */
    CbDistMatrix A;
    CHECK(cb_scalapack_dist_alloc(g, 0, 3, 2, 2, &A) == CB_EINVAL, "%s: empty matrix rejected: %s", label,
          cb_err_msg());
    double one = 1.0, s1;
    CHECK(cb_scalapack_svd(g, &one, 1, 1, 0, -3, &s1, NULL, NULL) == CB_EINVAL, "%s: negative block rejected",
          label);
    CHECK(cb_scalapack_dist_alloc(g, 4, 4, 2, 2, &A) == CB_OK, "%s: alloc 4x4", label);
    CHECK(cb_scalapack_scatter(g, NULL, g->size, &A) == CB_EINVAL, "%s: scatter root out of range: %s", label,
          cb_err_msg());
    CHECK(cb_scalapack_gather(g, &A, -1, NULL) == CB_EINVAL, "%s: gather root out of range", label);
    cb_scalapack_dist_free(&A);
    CbDistMatrix huge = {.m = 50000, .n = 50000, .mb = 64, .nb = 64};
    CHECK(cb_scalapack_scatter(g, NULL, 0, &huge) == CB_EINVAL && strstr(cb_err_msg(), "int counts"),
          "%s: matrix beyond MPI int counts rejected before any transfer: %s", label, cb_err_msg());
    double *bad = malloc(36 * sizeof *bad);
    fill(bad, 6, 6, 99);
    bad[7] = NAN;
    double sb[6];
    CHECK(cb_scalapack_svd(g, bad, 6, 6, 0, 2, sb, NULL, NULL) == CB_ENUMERIC && strstr(cb_err_msg(), "(1, 1)"),
          "%s: NaN input rejected on every rank: %s", label, cb_err_msg());
    CHECK(cb_scalapack_svd(g, bad, 6, 6, g->size, 2, sb, NULL, NULL) == CB_EINVAL, "%s: svd root out of range",
          label);
    CHECK(cb_scalapack_syevd(g, bad, 6, 0, 2, sb, NULL) == CB_ENUMERIC && strstr(cb_err_msg(), "(1, 1)"),
          "%s: pdsyevd rejects NaN on every rank: %s", label, cb_err_msg());
    CHECK(cb_scalapack_syevd(g, bad, 0, 0, 2, sb, NULL) == CB_EINVAL, "%s: pdsyevd rejects n = 0", label);
    CHECK(cb_scalapack_syevd(g, bad, 6, -1, 2, sb, NULL) == CB_EINVAL, "%s: pdsyevd root out of range", label);
    free(bad);
}

int main(int argc, char **argv)
{
    int rank, size;
    helper_mpi_begin(&argc, &argv, &rank, &size);

    /* 1x1 grid over MPI_COMM_SELF on every rank. */
    {
        CbBlacsGrid g;
        CHECK(cb_scalapack_grid_init(MPI_COMM_SELF, 1, 1, &g) == CB_OK, "1x1 grid over MPI_COMM_SELF");
        check_grid(&g, "1x1");
        cb_scalapack_grid_free(&g);
    }
    /* 1x2 and 2x1 grids over the first two ranks. */
    if (size >= 2) {
        MPI_Comm pair;
        MPI_Comm_split(MPI_COMM_WORLD, rank < 2 ? 0 : MPI_UNDEFINED, rank, &pair);
        if (pair != MPI_COMM_NULL) {
            CbBlacsGrid g;
            CHECK(cb_scalapack_grid_init(pair, 1, 2, &g) == CB_OK && g.nprow == 1 && g.npcol == 2, "1x2 grid");
            check_grid(&g, "1x2");
            cb_scalapack_grid_free(&g);
            CHECK(cb_scalapack_grid_init(pair, 2, 1, &g) == CB_OK, "2x1 grid");
            check_grid(&g, "2x1");
            cb_scalapack_grid_free(&g);
            MPI_Comm_free(&pair);
        }
    }
    /* 2x2 grid over four ranks (automatic shape). */
    if (size == 4) {
        CbBlacsGrid g;
        CHECK(cb_scalapack_grid_init(MPI_COMM_WORLD, 0, 0, &g) == CB_OK && g.nprow == 2 && g.npcol == 2,
              "automatic grid over 4 ranks is 2x2");
        check_grid(&g, "2x2");
        cb_scalapack_grid_free(&g);
    }
    {
        CbBlacsGrid g;
        CHECK(cb_scalapack_grid_init(MPI_COMM_WORLD, size + 1, 1, &g) == CB_EINVAL &&
                  strstr(cb_err_hint_msg(), "nprow * npcol"),
              "grid shape not matching the communicator rejected with a hint: %s", cb_err_msg());
        CHECK(cb_scalapack_grid_init(MPI_COMM_NULL, 1, 1, &g) == CB_EINVAL, "MPI_COMM_NULL rejected");
    }
    cb_scalapack_exit();
    return check_end("scalapack");
}
