/*
 * lowrank — rank-r compression of a layer, data-agnostic (truncated SVD) and
 * data-driven (pre-activation reconstruction), and nuclear-norm recovery
 * (seed paper 003; see include/cbound/lowrank.h).
 *
 * The data-driven closed form. Let X (ns, n) hold the layer's inputs as rows and
 * P = W Xᵀ (m, ns) the pre-activations. For any Ŵ of rank <= r, ŴXᵀ has rank <= r,
 * so by Eckart–Young ‖(W − Ŵ)Xᵀ‖_F >= ‖P − P_r‖_F with P_r = U_r U_rᵀ P the best
 * rank-r approximation of P (U_r: its top-r left singular vectors). Ŵ = U_r U_rᵀ W
 * has rank <= r and gives ŴXᵀ = U_r U_rᵀ P = P_r, so it attains the bound: it is
 * a minimizer, with error (Σ_{i>r} σ_i(P)²)^½. (When X does not span R^n, adding
 * to Ŵ anything that vanishes on the span of X's rows keeps it optimal; this
 * choice also leaves W's action outside that span projected like the rest.)
 * U_r is computed from Y = X Wᵀ = Pᵀ: the eigenvectors of YᵀY (Gram, O(ns m²) to
 * form, m x m to solve), the right singular vectors of Y (dgesdd), or with
 * ScaLAPACK's pdgesvd of P over a BLACS grid.
 *
 * Nuclear-norm recovery: min_W f(W) + λ‖W‖_*, f(W) = (1/2ns)‖Y − X Wᵀ‖_F²
 *   = ‖Y‖²/(2ns) − tr(B Wᵀ) + ½ tr(W C Wᵀ), C = XᵀX/ns, B = YᵀX/ns, ∇f = W C − B,
 * solved by FISTA (Beck & Teboulle 2009) with the prox = singular value thresholding
 * (Cai, Candès & Shen 2010).
 */
#include "cbound/lowrank.h"
#include "cbound/rng.h"
#include "cbound/scalapack.h"
#include "cbound/ctx.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ helpers */

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* Thin SVD of a (m, n) row-major (destroyed): U (m, k), s (k), VT (k, n); U/VT may be NULL together. */
static CbStatus svd_thin(double *a, size_t m, size_t n, double *s, double *U, double *VT, const char *what)
{
    size_t k = min_sz(m, n);
    lapack_int info;
    if (U)
        info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, a, (lapack_int)n, s, U,
                              (lapack_int)k, VT, (lapack_int)n);
    else
        /* jobz = 'N' references neither U nor VT, but LAPACKE (3.11) checks ldvt >= n. */
        info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)m, (lapack_int)n, a, (lapack_int)n, s, NULL,
                              (lapack_int)m, NULL, (lapack_int)n);
    if (info != 0) {
        CB_ERR(CB_ENUMERIC, "%s: LAPACK dgesdd failed (info %d) on a %zu x %zu matrix", what, (int)info, m, n);
        cb_err_hint("info < 0 means a NaN entry; info > 0 that the SVD did not converge (Inf entries?)");
        return CB_ENUMERIC;
    }
    return CB_OK;
}

static double fro2(const double *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += a[i] * a[i];
    return s;
}

/* What = Ur Urᵀ W with Ur (m, r) the first r columns of U (m, ldu). */
static void project_rows(const double *U, size_t ldu, size_t r, const double *W, size_t m, size_t n, double *What)
{
    if (r == 0) {
        memset(What, 0, m * n * sizeof *What);
        return;
    }
    double *T = cb_malloc(r * n * sizeof *T); /* (r, n) = Urᵀ W */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r, (int)n, (int)m, 1.0, U, (int)ldu, W, (int)n, 0.0,
                T, (int)n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)r, 1.0, U, (int)ldu, T, (int)n, 0.0,
                What, (int)n);
    free(T);
}

/* ------------------------------------------------------------------ truncated SVD */

CbStatus cb_lowrank_svd(const double *W, size_t m, size_t n, size_t r, double *What, double *sv)
{
    if (m == 0 || n == 0) return CB_ERR(CB_EINVAL, "lowrank svd: empty %zu x %zu matrix", m, n);
    size_t k = min_sz(m, n), re = min_sz(r, k);
    double *a = cb_malloc(m * n * sizeof *a), *s = cb_malloc(k * sizeof *s);
    double *U = cb_malloc(m * k * sizeof *U), *VT = cb_malloc(k * n * sizeof *VT);
    memcpy(a, W, m * n * sizeof *a);
    CbStatus st = svd_thin(a, m, n, s, U, VT, "lowrank svd");
    if (st == CB_OK) {
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < re; ++j) U[i * k + j] *= s[j];
        if (re == 0)
            memset(What, 0, m * n * sizeof *What);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)re, 1.0, U, (int)k, VT,
                        (int)n, 0.0, What, (int)n);
        if (sv) memcpy(sv, s, k * sizeof *s);
    }
    free(a);
    free(s);
    free(U);
    free(VT);
    return st;
}

CbStatus cb_lowrank_svd_dist(const double *W, size_t m, size_t n, size_t r, MPI_Comm comm, double *What,
                             double *sv)
{
    if (m == 0 || n == 0) return CB_ERR(CB_EINVAL, "lowrank svd: empty %zu x %zu matrix", m, n);
    if ((double)m * (double)n > 2147483647.0)
        return CB_ERR(CB_EINVAL, "lowrank svd: a %zu x %zu layer exceeds MPI's int counts", m, n);
    size_t k = min_sz(m, n), re = min_sz(r, k);
    CbBlacsGrid g;
    CB_TRY(cb_scalapack_grid_init(comm, 0, 0, &g));
    double *s = cb_malloc(k * sizeof *s), *U = NULL, *VT = NULL;
    if (g.rank == 0) {
        U = cb_malloc(m * k * sizeof *U);
        VT = cb_malloc(k * n * sizeof *VT);
    }
    CbStatus st = cb_scalapack_svd(&g, W, (int)m, (int)n, 0, 64, s, U, VT);
    if (st == CB_OK && g.rank == 0) {
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < re; ++j) U[i * k + j] *= s[j];
        if (re == 0)
            memset(What, 0, m * n * sizeof *What);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)re, 1.0, U, (int)k, VT,
                        (int)n, 0.0, What, (int)n);
    }
    if (st == CB_OK && MPI_Bcast(What, (int)(m * n), MPI_DOUBLE, 0, comm) != MPI_SUCCESS)
        st = CB_ERR(CB_EMPI, "lowrank svd: MPI_Bcast of the compressed layer failed");
    if (st == CB_OK && sv) memcpy(sv, s, k * sizeof *s);
    free(s);
    free(U);
    free(VT);
    cb_scalapack_grid_free(&g);
    return st;
}

/* ------------------------------------------------------------------ data-driven */

/* Top left singular vectors of P = W Xᵀ into U (m, ldu = kk), kk = number of
 * vectors returned, and the singular values s (min(m, ns)), on this rank. */
static CbStatus data_basis_local(const double *Y, size_t m, size_t ns, CbLowrankSolver solver, double *U,
                                 size_t *kk, double *s)
{
    size_t k = min_sz(m, ns);
    if (solver == CB_LOWRANK_GRAM) {
        double *Gm = cb_malloc(m * m * sizeof *Gm), *lam = cb_malloc(m * sizeof *lam);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)m, (int)ns, 1.0, Y, (int)m, 0.0, Gm, (int)m);
        lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)m, Gm, (lapack_int)m, lam);
        if (info != 0) {
            free(Gm);
            free(lam);
            CB_ERR(CB_ENUMERIC, "lowrank data: LAPACK dsyevd failed (info %d) on the %zu x %zu Gram matrix",
                   (int)info, m, m);
            cb_err_hint("the layer's weights or inputs contain NaN/Inf");
            return CB_ENUMERIC;
        }
        /* dsyevd sorts ascending: reverse the columns. */
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < m; ++j) U[i * m + j] = Gm[i * m + (m - 1 - j)];
        for (size_t j = 0; j < k; ++j) s[j] = sqrt(fmax(lam[m - 1 - j], 0));
        *kk = m;
        free(Gm);
        free(lam);
        return CB_OK;
    }
    /* SVD of Y (ns, m) = Uy S Vyᵀ: the left singular vectors of P = Yᵀ are Vy. */
    double *a = cb_malloc(ns * m * sizeof *a), *Uy = cb_malloc(ns * k * sizeof *Uy), *VT = cb_malloc(k * m * sizeof *VT);
    memcpy(a, Y, ns * m * sizeof *a);
    CbStatus st = svd_thin(a, ns, m, s, Uy, VT, "lowrank data");
    if (st == CB_OK)
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < k; ++j) U[i * k + j] = VT[j * m + i];
    *kk = k;
    free(a);
    free(Uy);
    free(VT);
    return st;
}

/* Distributed Gram solver: W is broadcast, X's rows are scattered in contiguous
 * blocks, each rank forms G_i = Y_iᵀY_i (Y_i = X_i Wᵀ), the sum G = YᵀY is reduced
 * to rank 0 and eigendecomposed by pdsyevd over an automatic grid of all ranks;
 * rank 0 projects and broadcasts What and s. Cost per rank O(ns m (n + m) / P). */
static CbStatus data_dist_gram(const double *W, size_t m, size_t n, const double *X, size_t ns, size_t r,
                               MPI_Comm comm, double *What, double *s)
{
    int rank, size;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return CB_ERR(CB_EMPI, "lowrank data: MPI_Comm_rank/size failed");
    if ((double)ns * (double)n > 2147483647.0 || (double)m * (double)(m > n ? m : n) > 2147483647.0) {
        CB_ERR(CB_EINVAL, "lowrank data: %zu x %zu inputs or a %zu x %zu layer exceed MPI's int counts", ns, n, m, n);
        cb_err_hint("use fewer samples (at most %.0f for this layer)", 2147483647.0 / (double)n);
        return CB_EINVAL;
    }
    size_t k = min_sz(m, ns);
    int *counts = cb_malloc((size_t)size * sizeof *counts), *displs = cb_malloc((size_t)size * sizeof *displs);
    size_t off = 0;
    for (int i = 0; i < size; ++i) {
        size_t rows = ns / (size_t)size + ((size_t)i < ns % (size_t)size);
        counts[i] = (int)(rows * n);
        displs[i] = (int)off;
        off += rows * n;
    }
    size_t my_rows = (size_t)counts[rank] / n;
    double *Wb = rank == 0 ? (double *)W : cb_malloc(m * n * sizeof *Wb);
    double *Xi = cb_malloc((my_rows ? my_rows : 1) * n * sizeof *Xi), *Yi = cb_malloc((my_rows ? my_rows : 1) * m * sizeof *Yi);
    double *Gi = cb_calloc(m * m, sizeof *Gi), *G = rank == 0 ? cb_malloc(m * m * sizeof *G) : NULL;
    CbStatus st = CB_OK;
    if (MPI_Bcast(Wb, (int)(m * n), MPI_DOUBLE, 0, comm) != MPI_SUCCESS)
        st = CB_ERR(CB_EMPI, "lowrank data: MPI_Bcast of W failed");
    if (st == CB_OK && MPI_Scatterv(X, counts, displs, MPI_DOUBLE, Xi, counts[rank], MPI_DOUBLE, 0, comm) != MPI_SUCCESS)
        st = CB_ERR(CB_EMPI, "lowrank data: MPI_Scatterv of the inputs failed");
    if (st == CB_OK && my_rows > 0) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)my_rows, (int)m, (int)n, 1.0, Xi, (int)n, Wb, (int)n,
                    0.0, Yi, (int)m);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)m, (int)my_rows, 1.0, Yi, (int)m, 0.0, Gi, (int)m);
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < i; ++j) Gi[i * m + j] = Gi[j * m + i];
    }
    if (st == CB_OK && MPI_Reduce(Gi, G, (int)(m * m), MPI_DOUBLE, MPI_SUM, 0, comm) != MPI_SUCCESS)
        st = CB_ERR(CB_EMPI, "lowrank data: MPI_Reduce of the Gram matrix failed");
    free(Xi);
    free(Yi);
    free(Gi);
    free(counts);
    free(displs);
    if (st == CB_OK) {
        CbBlacsGrid g;
        st = cb_scalapack_grid_init(comm, 0, 0, &g);
        double *lam = cb_malloc(m * sizeof *lam), *Z = rank == 0 ? cb_malloc(m * m * sizeof *Z) : NULL;
        if (st == CB_OK) st = cb_scalapack_syevd(&g, G, (int)m, 0, 64, lam, Z);
        if (st == CB_OK) {
            for (size_t j = 0; j < k; ++j) s[j] = sqrt(fmax(lam[m - 1 - j], 0)); /* ascending -> descending */
            if (rank == 0) {
                double *U = cb_malloc(m * m * sizeof *U);
                for (size_t i = 0; i < m; ++i)
                    for (size_t j = 0; j < m; ++j) U[i * m + j] = Z[i * m + (m - 1 - j)];
                project_rows(U, m, min_sz(r, m), W, m, n, What);
                free(U);
            }
            if (MPI_Bcast(What, (int)(m * n), MPI_DOUBLE, 0, comm) != MPI_SUCCESS)
                st = CB_ERR(CB_EMPI, "lowrank data: MPI_Bcast of the compressed layer failed");
        }
        if (g.ctxt >= 0) cb_scalapack_grid_free(&g);
        free(lam);
        free(Z);
    }
    if (rank != 0) free(Wb);
    free(G);
    return st;
}

/* pdgesvd solver: P = W Xᵀ (m, ns) is formed on rank 0 of comm, pdgesvd runs over
 * an automatic grid of all ranks, rank 0 projects and broadcasts What and s. */
static CbStatus data_scalapack_svd(const double *W, size_t m, size_t n, const double *X, size_t ns, size_t r,
                                   MPI_Comm comm, double *What, double *s)
{
    size_t k = min_sz(m, ns);
    CbBlacsGrid g;
    CB_TRY(cb_scalapack_grid_init(comm, 0, 0, &g));
    double *P = NULL, *U = NULL;
    if (g.rank == 0) {
        P = cb_malloc(m * ns * sizeof *P);
        U = cb_malloc(m * k * sizeof *U);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)ns, (int)n, 1.0, W, (int)n, X, (int)n, 0.0,
                    P, (int)ns);
    }
    CbStatus st = cb_scalapack_svd(&g, P, (int)m, (int)ns, 0, 64, s, U, NULL);
    if (st == CB_OK && g.rank == 0) project_rows(U, k, min_sz(r, k), W, m, n, What);
    if (st == CB_OK && MPI_Bcast(What, (int)(m * n), MPI_DOUBLE, 0, comm) != MPI_SUCCESS)
        st = CB_ERR(CB_EMPI, "lowrank data: MPI_Bcast of the compressed layer failed");
    free(P);
    free(U);
    cb_scalapack_grid_free(&g);
    return st;
}

CbStatus cb_lowrank_data(const double *W, size_t m, size_t n, const double *X, size_t ns, size_t r,
                         CbLowrankSolver solver, MPI_Comm comm, double *What, double *sv)
{
    if (m == 0 || n == 0 || ns == 0)
        return CB_ERR(CB_EINVAL, "lowrank data: W is %zu x %zu with %zu samples (all must be >= 1)", m, n, ns);
    if (solver != CB_LOWRANK_GRAM && solver != CB_LOWRANK_SVD && solver != CB_LOWRANK_SCALAPACK &&
        solver != CB_LOWRANK_SCALAPACK_SVD)
        return CB_ERR(CB_EINVAL, "lowrank data: unknown solver %d", (int)solver);
    size_t k = min_sz(m, ns);
    double *s = cb_malloc(k * sizeof *s);
    CbStatus st;
    if (solver == CB_LOWRANK_SCALAPACK) {
        st = data_dist_gram(W, m, n, X, ns, r, comm, What, s);
    } else if (solver == CB_LOWRANK_SCALAPACK_SVD) {
        st = data_scalapack_svd(W, m, n, X, ns, r, comm, What, s);
    } else {
        double *Y = cb_malloc(ns * m * sizeof *Y), *U = cb_malloc(m * m * sizeof *U);
        size_t kk = 0;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ns, (int)m, (int)n, 1.0, X, (int)n, W, (int)n, 0.0,
                    Y, (int)m);
        st = data_basis_local(Y, m, ns, solver, U, &kk, s);
        if (st == CB_OK) project_rows(U, kk, min_sz(r, kk), W, m, n, What);
        free(Y);
        free(U);
    }
    if (st == CB_OK && sv) memcpy(sv, s, k * sizeof *s);
    free(s);
    return st;
}

CbStatus cb_lowrank_lstsq(const double *T, size_t m, const double *X, size_t ns, size_t n, double rcond,
                          double *W, size_t *rank)
{
    if (m == 0 || n == 0 || ns == 0)
        return CB_ERR(CB_EINVAL, "least squares: %zu samples, %zu inputs, %zu targets (all must be >= 1)", ns, n, m);
    if (!(rcond >= 0 && rcond < 1)) return CB_ERR(CB_EINVAL, "least squares: rcond must be in [0, 1), got %g", rcond);
    /* dgelsd overwrites B (max(ns, n), m) with the solution Wᵀ in its first n rows. */
    size_t ld = ns > n ? ns : n;
    double *A = cb_malloc(ns * n * sizeof *A), *B = cb_calloc(ld * m, sizeof *B), *sv = cb_malloc(min_sz(ns, n) * sizeof *sv);
    memcpy(A, X, ns * n * sizeof *A);
    memcpy(B, T, ns * m * sizeof *B);
    lapack_int rk = 0;
    lapack_int info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, (lapack_int)ns, (lapack_int)n, (lapack_int)m, A, (lapack_int)n,
                                     B, (lapack_int)m, sv, rcond, &rk);
    CbStatus st = CB_OK;
    if (info != 0) {
        st = CB_ERR(CB_ENUMERIC, "least squares: LAPACK dgelsd failed (info %d) on %zu x %zu inputs", (int)info, ns, n);
        cb_err_hint("info < 0 means a NaN entry; info > 0 that the SVD did not converge (Inf entries?)");
    } else {
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j) W[i * n + j] = B[j * m + i];
        if (rank) *rank = (size_t)rk;
    }
    free(A);
    free(B);
    free(sv);
    return st;
}

CbStatus cb_lowrank_rrr(const double *T, size_t m, const double *X, size_t ns, size_t n, size_t r, double rcond,
                        double *What)
{
    double *Wl = cb_malloc(m * n * sizeof *Wl);
    CbStatus st = cb_lowrank_lstsq(T, m, X, ns, n, rcond, Wl, NULL);
    if (st == CB_OK) st = cb_lowrank_data(Wl, m, n, X, ns, r, CB_LOWRANK_SVD, MPI_COMM_SELF, What, NULL);
    free(Wl);
    return st;
}

double cb_lowrank_preact_err(const double *W, const double *What, size_t m, size_t n, const double *X, size_t ns)
{
    double *D = cb_malloc(m * n * sizeof *D), *E = cb_malloc(ns * m * sizeof *E);
    for (size_t i = 0; i < m * n; ++i) D[i] = W[i] - What[i];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ns, (int)m, (int)n, 1.0, X, (int)n, D, (int)n, 0.0, E,
                (int)m);
    double e = sqrt(fro2(E, ns * m));
    free(D);
    free(E);
    return e;
}

CbStatus cb_lowrank_curves(const double *W, size_t m, size_t n, const double *X, size_t ns, double *data, double *svd)
{
    if (m == 0 || n == 0 || ns == 0)
        return CB_ERR(CB_EINVAL, "lowrank curves: W is %zu x %zu with %zu samples (all must be >= 1)", m, n, ns);
    size_t K = min_sz(m, n), ky = min_sz(m, ns);
    double *a = cb_malloc(m * n * sizeof *a), *s = cb_malloc(K * sizeof *s), *U = cb_malloc(m * K * sizeof *U);
    double *VT = cb_malloc(K * n * sizeof *VT), *Z = cb_malloc(ns * K * sizeof *Z);
    double *Y = cb_malloc(ns * m * sizeof *Y), *sy = cb_malloc(ky * sizeof *sy);
    memcpy(a, W, m * n * sizeof *a);
    CbStatus st = svd_thin(a, m, n, s, U, VT, "lowrank curves");
    if (st == CB_OK) {
        /* Z (ns, K) = X V: column i is X v_i. */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ns, (int)K, (int)n, 1.0, X, (int)n, VT, (int)n, 0.0,
                    Z, (int)K);
        double tail = 0;
        svd[K] = 0;
        for (size_t r = K; r-- > 0;) {
            double c = 0;
            for (size_t i = 0; i < ns; ++i) c += Z[i * K + r] * Z[i * K + r];
            tail += s[r] * s[r] * c;
            svd[r] = sqrt(tail);
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ns, (int)m, (int)n, 1.0, X, (int)n, W, (int)n, 0.0,
                    Y, (int)m);
        st = svd_thin(Y, ns, m, sy, NULL, NULL, "lowrank curves");
    }
    if (st == CB_OK) {
        double tail = 0;
        for (size_t r = K + 1; r-- > 0;) {
            if (r < ky) tail += sy[r] * sy[r];
            data[r] = sqrt(tail); /* error at rank r: singular values r, r+1, ... (0-based) */
        }
    }
    free(a);
    free(s);
    free(U);
    free(VT);
    free(Z);
    free(Y);
    free(sy);
    return st;
}

/* ------------------------------------------------------------------ nuclear norm */

CbStatus cb_lowrank_svt(const double *A, size_t m, size_t n, double tau, double *out, size_t *rank)
{
    if (m == 0 || n == 0) return CB_ERR(CB_EINVAL, "svt: empty %zu x %zu matrix", m, n);
    if (!(tau >= 0)) return CB_ERR(CB_EINVAL, "svt: threshold must be >= 0, got %g", tau);
    size_t k = min_sz(m, n), kept = 0;
    double *a = cb_malloc(m * n * sizeof *a), *s = cb_malloc(k * sizeof *s);
    double *U = cb_malloc(m * k * sizeof *U), *VT = cb_malloc(k * n * sizeof *VT);
    memcpy(a, A, m * n * sizeof *a);
    CbStatus st = svd_thin(a, m, n, s, U, VT, "svt");
    if (st == CB_OK) {
        while (kept < k && s[kept] > tau) ++kept;
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < kept; ++j) U[i * k + j] *= s[j] - tau;
        if (kept == 0)
            memset(out, 0, m * n * sizeof *out);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)kept, 1.0, U, (int)k, VT,
                        (int)n, 0.0, out, (int)n);
        if (rank) *rank = kept;
    }
    free(a);
    free(s);
    free(U);
    free(VT);
    return st;
}

CbStatus cb_lowrank_prox_init(CbLowrankProx *p, const double *X, const double *Y, size_t ns, size_t n, size_t m,
                              double lambda)
{
    memset(p, 0, sizeof *p);
    if (ns == 0 || n == 0 || m == 0)
        return CB_ERR(CB_EINVAL, "nuclear-norm recovery: %zu samples, W %zu x %zu (all must be >= 1)", ns, m, n);
    if (!(lambda >= 0) || !isfinite(lambda))
        return CB_ERR(CB_EINVAL, "nuclear-norm recovery: lambda must be finite and >= 0, got %g", lambda);
    p->m = m;
    p->n = n;
    p->lambda = lambda;
    p->C = cb_malloc(n * n * sizeof *p->C);
    p->B = cb_malloc(m * n * sizeof *p->B);
    double inv = 1 / (double)ns;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)ns, inv, X, (int)n, 0.0, p->C, (int)n);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < i; ++j) p->C[i * n + j] = p->C[j * n + i];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)ns, inv, Y, (int)m, X, (int)n, 0.0, p->B,
                (int)n);
    p->yy = fro2(Y, ns * m) * inv / 2;
    /* Lipschitz constant of ∇f: the largest eigenvalue of C. */
    double *c = cb_malloc(n * n * sizeof *c), *lam = cb_malloc(n * sizeof *lam);
    memcpy(c, p->C, n * n * sizeof *c);
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)n, c, (lapack_int)n, lam);
    double L = info == 0 ? lam[n - 1] : NAN;
    free(c);
    free(lam);
    if (!(L > 0) || !isfinite(L) || !isfinite(p->yy)) {
        cb_lowrank_prox_free(p);
        CB_ERR(CB_ENUMERIC, "nuclear-norm recovery: largest eigenvalue of XᵀX/ns is %g (info %d)", L, (int)info);
        cb_err_hint("the inputs are all zero or contain NaN/Inf");
        return CB_ENUMERIC;
    }
    p->step = 1 / L;
    p->W = cb_calloc(m * n, sizeof *p->W);
    p->W_prev = cb_calloc(m * n, sizeof *p->W_prev);
    p->Z = cb_calloc(m * n, sizeof *p->Z);
    p->G = cb_malloc(m * n * sizeof *p->G);
    p->t = 1;
    return CB_OK;
}

CbStatus cb_lowrank_prox_iterate(CbLowrankProx *p)
{
    size_t m = p->m, n = p->n, mn = m * n;
    /* G = Z − step (Z C − B) */
    memcpy(p->G, p->Z, mn * sizeof *p->G);
    cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)m, (int)n, -p->step, p->C, (int)n, p->Z, (int)n, 1.0,
                p->G, (int)n);
    cblas_daxpy((int)mn, p->step, p->B, 1, p->G, 1);
    double *tmp = p->W_prev;
    p->W_prev = p->W;
    p->W = tmp;
    CB_TRY(cb_lowrank_svt(p->G, m, n, p->step * p->lambda, p->W, &p->rank));
    double t1 = (1 + sqrt(1 + 4 * p->t * p->t)) / 2, beta = (p->t - 1) / t1;
    for (size_t i = 0; i < mn; ++i) p->Z[i] = p->W[i] + beta * (p->W[i] - p->W_prev[i]);
    p->t = t1;
    ++p->iter;
    return CB_OK;
}

double cb_lowrank_prox_objective(const CbLowrankProx *p)
{
    size_t m = p->m, n = p->n, k = min_sz(m, n);
    double *WC = cb_malloc(m * n * sizeof *WC), *a = cb_malloc(m * n * sizeof *a), *s = cb_malloc(k * sizeof *s);
    cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)m, (int)n, 1.0, p->C, (int)n, p->W, (int)n, 0.0, WC,
                (int)n);
    double f = p->yy - cblas_ddot((int)(m * n), p->B, 1, p->W, 1) + 0.5 * cblas_ddot((int)(m * n), WC, 1, p->W, 1);
    memcpy(a, p->W, m * n * sizeof *a);
    double nuc = 0;
    if (svd_thin(a, m, n, s, NULL, NULL, "nuclear norm") == CB_OK)
        for (size_t i = 0; i < k; ++i) nuc += s[i];
    else
        nuc = NAN;
    free(WC);
    free(a);
    free(s);
    return f + p->lambda * nuc;
}

void cb_lowrank_prox_free(CbLowrankProx *p)
{
    free(p->C);
    free(p->B);
    free(p->W);
    free(p->W_prev);
    free(p->Z);
    free(p->G);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------ planted recovery */

static double rel_err(const double *a, const double *ref, size_t n)
{
    double d = 0, r = 0;
    for (size_t i = 0; i < n; ++i) {
        d += (a[i] - ref[i]) * (a[i] - ref[i]);
        r += ref[i] * ref[i];
    }
    return sqrt(d / r);
}

CbStatus cb_lowrank_planted(const CbLowrankPlanted *cfg, size_t ns, uint64_t seed, uint64_t key, uint32_t trial,
                            double err[3])
{
    size_t m = cfg->m, n = cfg->n, r = cfg->r;
    if (m == 0 || n == 0 || r == 0 || r > min_sz(m, n))
        return CB_ERR(CB_EINVAL, "planted low rank: need 1 <= r <= min(m, n), got m = %zu, n = %zu, r = %zu", m, n, r);
    if (ns == 0) return CB_ERR(CB_EINVAL, "planted low rank: 0 samples");
    if (!(cfg->noise >= 0) || !(cfg->lambda >= 0) || cfg->iters < 1)
        return CB_ERR(CB_EINVAL, "planted low rank: need noise >= 0, lambda >= 0, iters >= 1 (got %g, %g, %ld)",
                      cfg->noise, cfg->lambda, cfg->iters);
    double *A = cb_malloc(m * r * sizeof *A), *Bf = cb_malloc(n * r * sizeof *Bf), *Ws = cb_malloc(m * n * sizeof *Ws);
    double *X = cb_malloc(ns * n * sizeof *X), *Y = cb_malloc(ns * m * sizeof *Y), *E = cb_malloc(m * sizeof *E);
    CbStream s0 = cb_rng_stream(seed, key, CB_RNG_LOWRANK, 0);
    for (size_t i = 0; i < m * r; ++i) A[i] = cb_rng_normal(&s0);
    for (size_t i = 0; i < n * r; ++i) Bf[i] = cb_rng_normal(&s0);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)r, 1 / sqrt((double)r), A, (int)r, Bf,
                (int)r, 0.0, Ws, (int)n);
    CbStream s1 = cb_rng_stream(seed, key, CB_RNG_LOWRANK, 1 + trial);
    for (size_t i = 0; i < ns; ++i) { /* row by row: a prefix of the sample does not depend on ns */
        for (size_t j = 0; j < n; ++j) X[i * n + j] = cb_rng_normal(&s1);
        for (size_t j = 0; j < m; ++j) E[j] = cb_rng_normal(&s1);
        for (size_t j = 0; j < m; ++j) Y[i * m + j] = cfg->noise * E[j] + cblas_ddot((int)n, X + i * n, 1, Ws + j * n, 1);
    }
    /* λ = c · max(noise, 1e-3) · (√m + √n)/√ns: twice the typical ‖XᵀE‖_op/ns for
     * Gaussian X and E when c = 2 (the usual choice for nuclear-norm estimators). */
    double lambda = cfg->lambda * fmax(cfg->noise, 1e-3) * (sqrt((double)m) + sqrt((double)n)) / sqrt((double)ns);
    CbLowrankProx p;
    CbStatus st = cb_lowrank_prox_init(&p, X, Y, ns, n, m, lambda);
    for (long it = 0; st == CB_OK && it < cfg->iters; ++it) st = cb_lowrank_prox_iterate(&p);
    if (st == CB_OK) err[0] = rel_err(p.W, Ws, m * n);
    cb_lowrank_prox_free(&p);
    err[1] = err[2] = NAN;
    if (st == CB_OK && ns >= n) {
        double *Wl = cb_malloc(m * n * sizeof *Wl), *Wr = cb_malloc(m * n * sizeof *Wr);
        st = cb_lowrank_lstsq(Y, m, X, ns, n, 1e-12, Wl, NULL);
        if (st == CB_OK) {
            err[2] = rel_err(Wl, Ws, m * n);
            st = cb_lowrank_data(Wl, m, n, X, ns, r, CB_LOWRANK_SVD, MPI_COMM_SELF, Wr, NULL);
        }
        if (st == CB_OK) err[1] = rel_err(Wr, Ws, m * n);
        free(Wl);
        free(Wr);
    }
    free(A);
    free(Bf);
    free(Ws);
    free(X);
    free(Y);
    free(E);
    return st;
}

/* ------------------------------------------------------------------ sweep method `lowrank` */

/* Every layer l of the trained MLP is replaced by a rank-r_l matrix, W_l and Ŵ_l
 * both seen on the ORIGINAL network's inputs to layer l (the first `samples`
 * training inputs propagated by cb_mlp_forward_d); biases are kept. Records per
 * layer lr_rank and preact_rel_err, and (curves = 1) the rank curves of both
 * methods as series lr_data_L<l> / lr_svd_L<l> (x = r, y = relative
 * pre-activation error). mode data_seq fits each layer to the original
 * pre-activations X_l W_lᵀ from the COMPRESSED network's inputs X̂_l (layers before l
 * already replaced): reduced-rank regression, cb_lowrank_rrr; preact_rel_err is
 * still measured on the original inputs, so the modes share one definition.
 * dense_last = 1 leaves the output layer dense (recorded
 * with its full rank). The sweep method runs one task per rank, so it uses
 * LAPACK (solver gram|svd); the ScaLAPACK solver is for callers that own a
 * communicator (cb_lowrank_data with CB_LOWRANK_SCALAPACK). */

enum { MODE_SVD = 0, MODE_DATA, MODE_DATA_SEQ };

typedef struct {
    double rank, fraction;  /* exactly one is set (the other NaN)  */
    int mode;               /* MODE_SVD, MODE_DATA, MODE_DATA_SEQ  */
    CbLowrankSolver solver;
    size_t samples;
    int curves;
    int dense_last;         /* 1 = leave the output layer as it is  */
} LowrankOpts;

static CbStatus lowrank_options(const CbParams *p, LowrankOpts *o)
{
    /* rank_fraction defaults to 0.5 when neither is given (the sweep loader checks
     * one parameter at a time, so "neither" must be valid). */
    int has_r = cb_params_has(p, "rank"), has_f = cb_params_has(p, "rank_fraction");
    o->rank = has_r ? cb_params_num(p, "rank", NAN) : NAN;
    o->fraction = has_r ? NAN : cb_params_num(p, "rank_fraction", 0.5);
    if (has_r && has_f) {
        CB_ERR(CB_EINVAL, "lowrank: both rank and rank_fraction given (expected one of them)");
        cb_err_hint("rank: the same rank r for every layer (capped at min(d_out, d_in)); rank_fraction: "
                    "r_l = ceil(f min(d_out, d_in))");
        return CB_EINVAL;
    }
    if (has_r && !(o->rank >= 0 && o->rank == floor(o->rank) && o->rank <= 1e7))
        return CB_ERR(CB_EINVAL, "lowrank: rank: expected an integer >= 0, found '%s'", cb_params_text(p, "rank", ""));
    if (!has_r && !(o->fraction > 0 && o->fraction <= 1))
        return CB_ERR(CB_EINVAL, "lowrank: rank_fraction: expected a number in (0, 1], found '%s'",
                      cb_params_text(p, "rank_fraction", ""));
    const char *mode = cb_params_text(p, "mode", "data"), *solver = cb_params_text(p, "solver", "gram");
    if (!strcmp(mode, "data")) o->mode = MODE_DATA;
    else if (!strcmp(mode, "svd")) o->mode = MODE_SVD;
    else if (!strcmp(mode, "data_seq")) o->mode = MODE_DATA_SEQ;
    else return CB_ERR(CB_EINVAL, "lowrank: mode: expected data, data_seq or svd, found '%s'", mode);
    if (!strcmp(solver, "gram")) o->solver = CB_LOWRANK_GRAM;
    else if (!strcmp(solver, "svd")) o->solver = CB_LOWRANK_SVD;
    else return CB_ERR(CB_EINVAL, "lowrank: solver: expected gram or svd, found '%s'", solver);
    double ns = cb_params_num(p, "samples", 10000), cv = cb_params_num(p, "curves", 1);
    if (!(ns >= 0 && ns == floor(ns) && ns <= 1e8))
        return CB_ERR(CB_EINVAL, "lowrank: samples: expected an integer >= 0 (0 = all), found '%s'",
                      cb_params_text(p, "samples", ""));
    if (!(cv == 0 || cv == 1))
        return CB_ERR(CB_EINVAL, "lowrank: curves: expected 0 or 1, found '%s'", cb_params_text(p, "curves", ""));
    double dl = cb_params_num(p, "dense_last", 0);
    if (!(dl == 0 || dl == 1))
        return CB_ERR(CB_EINVAL, "lowrank: dense_last: expected 0 or 1, found '%s'",
                      cb_params_text(p, "dense_last", ""));
    o->dense_last = (int)dl;
    o->samples = (size_t)ns;
    o->curves = (int)cv;
    return CB_OK;
}

static CbStatus lowrank_check(const CbParams *p)
{
    LowrankOpts o;
    return lowrank_options(p, &o);
}

static CbStatus lowrank_compress(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    LowrankOpts o;
    CB_TRY(lowrank_options(ctx->params, &o));
    const CbMlp *a = ctx->model->mlp;
    const CbData *tr = ctx->train;
    size_t ns = o.samples == 0 || o.samples > tr->n ? tr->n : o.samples;
    if (ns == 0 || tr->d != a->widths[0])
        return CB_ERR(CB_EINVAL, "lowrank: training data has %zu samples of width %zu; the model expects width %zu",
                      tr->n, tr->d, a->widths[0]);
    /* Inputs of every layer on the original network: acts[l] feeds layer l + 1. */
    double *p = cb_malloc(a->n_params * sizeof *p), **acts = cb_malloc((size_t)a->depth * sizeof *acts);
    cb_mlp_params_to_double(a, p);
    for (int l = 0; l < a->depth; ++l) acts[l] = cb_malloc(ns * a->widths[l + 1] * sizeof *acts[l]);
    double *outbuf = cb_malloc(ns * a->widths[a->depth] * sizeof *outbuf);
    cb_mlp_forward_d(a, p, tr->x, ns, outbuf, acts);
    double *x0 = cb_malloc(ns * a->widths[0] * sizeof *x0);
    for (size_t i = 0; i < ns * a->widths[0]; ++i) x0[i] = tr->x[i];
    /* data_seq: the compressed network so far (p_hat) and its inputs to every layer. */
    double *p_hat = NULL, **acts_hat = NULL;
    if (o.mode == MODE_DATA_SEQ) {
        p_hat = cb_malloc(a->n_params * sizeof *p_hat);
        memcpy(p_hat, p, a->n_params * sizeof *p_hat);
        acts_hat = cb_malloc((size_t)a->depth * sizeof *acts_hat);
        for (int l = 0; l < a->depth; ++l) acts_hat[l] = cb_malloc(ns * a->widths[l + 1] * sizeof *acts_hat[l]);
    }
    CbStatus st = CB_OK;
    double fact = 0, dense = 0;
    for (int l = 0; l < a->depth && st == CB_OK; ++l) {
        size_t m = a->widths[l + 1], n = a->widths[l], K = min_sz(m, n);
        const double *W = p + a->offset_W[l], *X = l == 0 ? x0 : acts[l - 1];
        size_t r = isnan(o.rank) ? (size_t)ceil(o.fraction * (double)K) : (size_t)o.rank;
        int keep = o.dense_last && l == a->depth - 1;
        if (r > K || keep) r = K;
        double *What = cb_malloc(m * n * sizeof *What);
        if (keep) {
            memcpy(What, W, m * n * sizeof *What);
        } else if (o.mode == MODE_DATA_SEQ) {
            /* Fit the original pre-activations X Wᵀ from the compressed network's inputs X̂. */
            if (l > 0) cb_mlp_forward_d(a, p_hat, tr->x, ns, outbuf, acts_hat);
            const double *Xh = l == 0 ? x0 : acts_hat[l - 1];
            double *T = cb_malloc(ns * m * sizeof *T);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ns, (int)m, (int)n, 1.0, X, (int)n, W, (int)n,
                        0.0, T, (int)m);
            st = cb_lowrank_rrr(T, m, Xh, ns, n, r, 1e-12, What);
            memcpy(p_hat + a->offset_W[l], What, m * n * sizeof *What);
            free(T);
        } else {
            st = o.mode == MODE_DATA ? cb_lowrank_data(W, m, n, X, ns, r, o.solver, MPI_COMM_SELF, What, NULL)
                                     : cb_lowrank_svd(W, m, n, r, What, NULL);
        }
        if (st == CB_OK) {
            double base = 0, *Y = cb_malloc(ns * m * sizeof *Y);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ns, (int)m, (int)n, 1.0, X, (int)n, W, (int)n,
                        0.0, Y, (int)m);
            base = sqrt(fro2(Y, ns * m));
            free(Y);
            res->layers[l].v[CB_L_lr_rank] = (double)r;
            res->layers[l].v[CB_L_param] = (double)r;
            res->layers[l].v[CB_L_preact_rel_err] = cb_lowrank_preact_err(W, What, m, n, X, ns) / base;
            if (!keep)
                for (size_t i = 0; i < m * n; ++i) out->W[l][i] = (float)What[i];
            fact += keep ? (double)(m * n) : (double)(r * (m + n)); /* a kept layer stays dense */
            dense += (double)(m * n);
            if (o.curves) {
                double *cd = cb_malloc((K + 1) * sizeof *cd), *cs = cb_malloc((K + 1) * sizeof *cs);
                st = cb_lowrank_curves(W, m, n, X, ns, cd, cs);
                char nd[32], nv[32];
                snprintf(nd, sizeof nd, "lr_data_L%d", l);
                snprintf(nv, sizeof nv, "lr_svd_L%d", l);
                for (size_t k = 0; st == CB_OK && k <= K; ++k) {
                    cb_result_add_series(res, nd, (int64_t)k, (double)k, base > 0 ? cd[k] / base : 0);
                    cb_result_add_series(res, nv, (int64_t)k, (double)k, base > 0 ? cs[k] / base : 0);
                }
                free(cd);
                free(cs);
            }
        }
        free(What);
    }
    if (st == CB_OK) res->task[CB_T_lowrank_param_fraction] = fact / dense;
    for (int l = 0; l < a->depth; ++l) free(acts[l]);
    free(acts);
    if (acts_hat)
        for (int l = 0; l < a->depth; ++l) free(acts_hat[l]);
    free(acts_hat);
    free(p_hat);
    free(p);
    free(outbuf);
    free(x0);
    return st;
}

static const char *const lowrank_params[] = {"rank", "rank_fraction", "mode", "solver", "samples", "curves",
                                             "dense_last", NULL};
static const char *const lowrank_defaults[] = {NULL, "0.5", "data", "gram", "10000", "1", "0", NULL};

const CbMethod cb_method_lowrank = {
    .name = "lowrank",
    .version = 1,
    .summary = "003: rank-r layers by truncated SVD (mode svd) or pre-activation reconstruction on training "
               "inputs (mode data; data_seq: from the compressed network's inputs); rank or rank_fraction, "
               "solver gram|svd, samples, curves, dense_last",
    .param_names = lowrank_params,
    .param_defaults = lowrank_defaults,
    .check = lowrank_check,
    .compress = lowrank_compress,
    .standalone = NULL,
};

/* ------------------------------------------------------------------ sweep method `lowrank_planted` */

/* 003's recovery experiment: series lr_planted_{nuc,rrr,ls} (x = samples ns on a
 * geometric grid ns_min..ns_max, y = relative error ‖Ŵ − W*‖_F/‖W*‖_F averaged
 * over `trials` independent samples). */

typedef struct {
    CbLowrankPlanted cfg;
    size_t ns_min, ns_max, points, trials;
} PlantedOpts;

static CbStatus planted_options(const CbParams *p, PlantedOpts *o)
{
    const struct { const char *name; double dflt, lo, hi; } ints[] = {
        {"m", 64, 1, 1e5}, {"n", 96, 1, 1e5}, {"r", 4, 1, 1e5}, {"iters", 300, 1, 1e7},
        {"ns_min", 16, 1, 1e8}, {"ns_max", 4096, 1, 1e8}, {"points", 9, 1, 1000}, {"trials", 1, 1, 1000}};
    double v[8];
    for (int i = 0; i < 8; ++i) {
        v[i] = cb_params_num(p, ints[i].name, ints[i].dflt);
        if (!(v[i] >= ints[i].lo && v[i] <= ints[i].hi && v[i] == floor(v[i])))
            return CB_ERR(CB_EINVAL, "lowrank_planted: %s: expected an integer in [%g, %g], found '%s'", ints[i].name,
                          ints[i].lo, ints[i].hi, cb_params_text(p, ints[i].name, ""));
    }
    o->cfg.m = (size_t)v[0];
    o->cfg.n = (size_t)v[1];
    o->cfg.r = (size_t)v[2];
    o->cfg.iters = (long)v[3];
    o->ns_min = (size_t)v[4];
    o->ns_max = (size_t)v[5];
    o->points = (size_t)v[6];
    o->trials = (size_t)v[7];
    o->cfg.noise = cb_params_num(p, "noise", 0.1);
    o->cfg.lambda = cb_params_num(p, "lambda", 2.0);
    if (o->cfg.r > min_sz(o->cfg.m, o->cfg.n))
        return CB_ERR(CB_EINVAL, "lowrank_planted: r = %zu exceeds min(m, n) = %zu", o->cfg.r, min_sz(o->cfg.m, o->cfg.n));
    if (o->ns_min > o->ns_max)
        return CB_ERR(CB_EINVAL, "lowrank_planted: ns_min = %zu > ns_max = %zu", o->ns_min, o->ns_max);
    if (!(o->cfg.noise >= 0 && isfinite(o->cfg.noise)) || !(o->cfg.lambda >= 0 && isfinite(o->cfg.lambda)))
        return CB_ERR(CB_EINVAL, "lowrank_planted: noise and lambda: expected numbers >= 0, found '%s', '%s'",
                      cb_params_text(p, "noise", "0.1"), cb_params_text(p, "lambda", "2"));
    return CB_OK;
}

static CbStatus planted_check(const CbParams *p)
{
    PlantedOpts o;
    return planted_options(p, &o);
}

static CbStatus planted_run(const CbTaskCtx *ctx, CbResult *res)
{
    PlantedOpts o;
    CB_TRY(planted_options(ctx->params, &o));
    const char *names[3] = {"lr_planted_nuc", "lr_planted_rrr", "lr_planted_ls"};
    size_t prev = 0;
    int64_t idx = 0;
    for (size_t k = 0; k < o.points; ++k) {
        double ratio = o.points > 1 ? (double)k / (double)(o.points - 1) : 0;
        size_t ns = (size_t)llround((double)o.ns_min * pow((double)o.ns_max / (double)o.ns_min, ratio));
        if (ns == prev) continue; /* the geometric grid rounds to repeats at small ns */
        prev = ns;
        double sum[3] = {0, 0, 0};
        for (size_t t = 0; t < o.trials; ++t) {
            double e[3];
            CB_TRY(cb_lowrank_planted(&o.cfg, ns, ctx->seed, ctx->key, (uint32_t)t, e));
            for (int j = 0; j < 3; ++j) sum[j] += e[j];
        }
        for (int j = 0; j < 3; ++j) cb_result_add_series(res, names[j], idx, (double)ns, sum[j] / (double)o.trials);
        ++idx;
    }
    return CB_OK;
}

static const char *const planted_params[] = {"m", "n", "r", "noise", "lambda", "iters", "ns_min", "ns_max",
                                             "points", "trials", NULL};
static const char *const planted_defaults[] = {"64", "96", "4", "0.1", "2", "300", "16", "4096", "9", "1", NULL};

const CbMethod cb_method_lowrank_planted = {
    .name = "lowrank_planted",
    .version = 1,
    .summary = "003: recover a planted rank-r layer from noisy pre-activations vs samples (nuclear norm, "
               "rank-r data-driven, least squares)",
    .param_names = planted_params,
    .param_defaults = planted_defaults,
    .check = planted_check,
    .compress = NULL,
    .standalone = planted_run,
};
