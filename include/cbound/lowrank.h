/*
 * lowrank — rank-r compression of a layer, data-agnostic and data-driven
 * (seed paper 003, Zhang & Saab, "Theoretical guarantees for low-rank
 * compression of deep neural networks").
 *
 * A layer W (m, n) maps inputs x ∈ R^n to pre-activations W x. With the layer's
 * training inputs as rows of X (ns, n), the pre-activations are Y = X Wᵀ (ns, m).
 *   svd    Ŵ = Σ_{i<=r} σ_i u_i v_iᵀ, the truncated SVD of W (Eckart–Young in ‖·‖_F)
 *   data   Ŵ = U_r U_rᵀ W, U_r the top-r left singular vectors of W Xᵀ: minimizes
 *          ‖(W − Ŵ) Xᵀ‖_F over rank-r Ŵ (derivation in lowrank.c)
 *   nuclear  Ŵ = argmin (1/2ns)‖Y − X Wᵀ‖_F² + λ‖W‖_* for noisy Y (the convex
 *          recovery program 003 analyses), by accelerated proximal gradient with
 *          singular value thresholding; init / iterate split, loop in the caller.
 * Matrices are row-major doubles. The SVD of W Xᵀ runs through LAPACK (Gram
 * eigendecomposition or direct SVD) or over the ranks of a communicator
 * (distributed Gram + ScaLAPACK pdsyevd, or pdgesvd; src/measure/scalapack.c).
 */
#ifndef CBOUND_LOWRANK_H
#define CBOUND_LOWRANK_H

#include "cbound/err.h"

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CB_LOWRANK_GRAM = 0,   /* eigenvectors of Yᵀ Y (m, m) by dsyevd: O(ns m²), default   */
    CB_LOWRANK_SVD,        /* dgesdd of Y (ns, m): O(ns m²), better conditioned          */
    CB_LOWRANK_SCALAPACK,  /* distributed Gram: X's rows scattered over the communicator,
                              Σ_ranks Y_iᵀY_i reduced, eigenvectors by pdsyevd           */
    CB_LOWRANK_SCALAPACK_SVD /* pdgesvd of W Xᵀ (m, ns) over a BLACS grid of the communicator */
} CbLowrankSolver;

/* Truncated SVD: What (m, n) = best rank-r approximation of W. sv (min(m,n)),
 * may be NULL, receives all singular values of W (descending). r = 0 gives 0;
 * r >= min(m, n) gives W. */
CbStatus cb_lowrank_svd(const double *W, size_t m, size_t n, size_t r, double *What, double *sv);

/* The same over every rank of `comm` with ScaLAPACK's pdgesvd (for wide layers): W is
 * read on rank 0 only; What and sv are returned on every rank. Collective. */
CbStatus cb_lowrank_svd_dist(const double *W, size_t m, size_t n, size_t r, MPI_Comm comm, double *What,
                             double *sv);

/* Data-driven: What (m, n) = U_r U_rᵀ W minimizing ‖(W − Ŵ)Xᵀ‖_F, X (ns, n).
 * sv (min(m, ns)), may be NULL, receives the singular values of W Xᵀ.
 * `comm` is used only by the ScaLAPACK solvers: every rank of comm calls with the same
 * m, n, ns, r; W and X are read on rank 0 only (may be NULL elsewhere); What and
 * sv are returned on every rank. */
CbStatus cb_lowrank_data(const double *W, size_t m, size_t n, const double *X, size_t ns, size_t r,
                         CbLowrankSolver solver, MPI_Comm comm, double *What, double *sv);

/* Minimum-norm least squares W (m, n) = argmin ‖T − X Wᵀ‖_F for targets T (ns, m) and
 * inputs X (ns, n) of any rank (LAPACK dgelsd; singular values <= rcond·σ_max of X
 * count as zero). `rank` (may be NULL) receives X's numerical rank. */
CbStatus cb_lowrank_lstsq(const double *T, size_t m, const double *X, size_t ns, size_t n, double rcond,
                          double *W, size_t *rank);

/* Reduced-rank regression: Ŵ (m, n) of rank <= r minimizing ‖T − X Ŵᵀ‖_F. With P the
 * projector on X's column space, ‖T − XŴᵀ‖² = ‖T − PT‖² + ‖(W_ls − Ŵ)Xᵀ‖², PT = X W_lsᵀ,
 * so Ŵ = the data-driven closed form applied to W_ls = cb_lowrank_lstsq(T, X). With
 * T = X Wᵀ and X of full column rank this is cb_lowrank_data(W, X). */
CbStatus cb_lowrank_rrr(const double *T, size_t m, const double *X, size_t ns, size_t n, size_t r, double rcond,
                        double *What);

/* ‖(W − Ŵ) Xᵀ‖_F for X (ns, n): the pre-activation error of replacing W by Ŵ. */
double cb_lowrank_preact_err(const double *W, const double *What, size_t m, size_t n,
                             const double *X, size_t ns);

/* Pre-activation error of both methods at every rank r = 0..K, K = min(m, n),
 * from one SVD of W and one of W Xᵀ:
 *   data[r] = (Σ_{i>r} σ_i(WXᵀ)²)^½
 *   svd[r]  = ‖(W − W_r) Xᵀ‖_F = (Σ_{i>r} σ_i(W)² ‖X v_i‖²)^½  (the cross terms vanish
 *             because the u_i are orthonormal).
 * Both arrays have K + 1 entries. */
CbStatus cb_lowrank_curves(const double *W, size_t m, size_t n, const double *X, size_t ns,
                           double *data, double *svd);

/* Singular value thresholding, the prox of τ‖·‖_*: out = U max(Σ − τ, 0) Vᵀ.
 * `rank` (may be NULL) receives the number of singular values above τ. */
CbStatus cb_lowrank_svt(const double *A, size_t m, size_t n, double tau, double *out, size_t *rank);

/* Nuclear-norm regularized recovery by FISTA (Beck & Teboulle 2009) with step 1/L,
 * L = λ_max(XᵀX/ns). */
typedef struct {
    size_t m, n;
    double lambda, step;
    double *C;      /* (n, n) XᵀX / ns                              */
    double *B;      /* (m, n) YᵀX / ns                              */
    double yy;      /* ‖Y‖_F² / (2 ns)                              */
    double *W;      /* (m, n) current iterate                        */
    double *W_prev; /* (m, n)                                        */
    double *Z;      /* (m, n) extrapolated point                     */
    double *G;      /* (m, n) workspace                              */
    double t;       /* FISTA momentum parameter                      */
    size_t rank;    /* rank of W                                     */
    long iter;
} CbLowrankProx;

/* X (ns, n) inputs, Y (ns, m) observed pre-activations; W starts at 0. */
CbStatus cb_lowrank_prox_init(CbLowrankProx *p, const double *X, const double *Y, size_t ns,
                              size_t n, size_t m, double lambda);
CbStatus cb_lowrank_prox_iterate(CbLowrankProx *p);
/* (1/2ns)‖Y − X Wᵀ‖_F² + λ‖W‖_* at the current W. */
double cb_lowrank_prox_objective(const CbLowrankProx *p);
void cb_lowrank_prox_free(CbLowrankProx *p);

/* Planted recovery (003's setting): W* = A Bᵀ/√r with A (m, r), B (n, r) standard
 * Gaussian (stream (seed, key, CB_RNG_LOWRANK, 0)), X (ns, n) standard Gaussian and
 * noise E (ns, m) iid N(0, noise²) (stream index 1 + trial; row i of X and E
 * does not depend on ns, so larger ns extends the same sample). Y = X W*ᵀ + E.
 * Relative errors ‖Ŵ − W*‖_F / ‖W*‖_F of three estimators:
 *   err[0] nuclear norm, `iters` FISTA iterations with λ = lambda · max(noise, 1e-3)
 *          · (√m + √n)/√ns (lambda = 2: twice the noise level ‖XᵀE‖_op/ns)
 *   err[1] rank-r data-driven (reduced-rank regression: the data closed form
 *          applied to the least-squares W; NaN when ns < n)
 *   err[2] least squares (NaN when ns < n). */
typedef struct {
    size_t m, n, r;
    double noise, lambda;
    long iters;
} CbLowrankPlanted;

CbStatus cb_lowrank_planted(const CbLowrankPlanted *cfg, size_t ns, uint64_t seed, uint64_t key,
                            uint32_t trial, double err[3]);

#endif
