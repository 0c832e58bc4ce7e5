/*
 * norms — matrix norms of layer weights and of pruning errors, in double.
 *
 * Spectral norm ‖A‖₂ with a certificate: Lanczos on G = AᵀA (equivalently Golub–Kahan
 * bidiagonalization of A) with full reorthogonalization, started from a random unit
 * vector of stream (seed, key, CB_RNG_NORMS, index). After k steps the top Ritz pair
 * (θ, y) of the tridiagonal T_k has residual r = ‖G y − θ y‖ = β_k |e_kᵀ z|, and
 *   (1) θ ≤ λ_max(G), so value = √θ ≤ ‖A‖₂ is a guaranteed lower bound;
 *   (2) some eigenvalue of G lies in [θ − r, θ + r] (residual bound for symmetric
 *       matrices), so some singular value of A lies within err = √θ − √(θ − r) of
 *       value; the iteration stops when err / value ≤ rtol.
 * That the singular value found is the largest is probabilistic: by Kuczyński &
 * Woźniakowski (1992, Thm 4.2), for a uniformly random start vector
 *     P(θ_k < (1 − ε) λ_max(AᵀA)) ≤ 1.648 √n e^{−√ε (2k − 1)},
 * reported as `miss_prob` for the caller's ε (kw_eps).
 * (The bound holds for the stream's start vector; with a caller's `start` it does not
 * apply and miss_prob is 1.)
 * Small matrices (min(m, n) ≤ small) go to LAPACK's dgesdd (singular values only);
 * cb_norms_spectral_ref always does, and is the reference the tests compare with.
 * Matrices are row-major (m, n), double or float; all arithmetic is in double. A
 * double matrix whose entries are all exactly floats (layer weights, masked weights)
 * is streamed as a float32 copy: same values, half the memory traffic per step.
 */
#ifndef CBOUND_NORMS_H
#define CBOUND_NORMS_H

#include "cbound/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double rtol;      /* stop when residual bound / value <= rtol (default 1e-9)       */
    int max_iter;     /* Lanczos steps cap (0 = min(m, n))                             */
    size_t small;     /* min(m, n) <= small -> dense SVD (default 64)                  */
    double kw_eps;    /* ε of the Kuczyński–Woźniakowski miss probability (1e-2)        */
    uint64_t seed;    /* start vector stream (seed, key, CB_RNG_NORMS, index)          */
    uint64_t key;
    uint32_t index;
    const double *start; /* optional start vector (n), e.g. a warm start; NULL = stream */
    int double_only;  /* 1 = never stream a float32 copy (tests; default 0 = when exact) */
} CbNormOpts;

typedef struct {
    double value;     /* σ̂: largest Ritz singular value, a certified lower bound        */
    double err;       /* some singular value of A lies in [value − err, value + err]    */
    double miss_prob; /* bound on P(σ_max > value / sqrt(1 − kw_eps)); 0 for dense SVD   */
    int iters;        /* Lanczos steps taken (0 for dense SVD)                          */
    int dense;        /* 1 = computed by LAPACK SVD                                     */
    int single;       /* 1 = A was streamed as float32 (exactly its values)             */
} CbSpecNorm;

void cb_norms_opts_default(CbNormOpts *o);

/* Certified ‖A‖₂. CB_EINVAL on empty shape or bad options, CB_ENUMERIC on NaN/Inf
 * entries or when max_iter steps do not reach rtol (out still holds the estimate). */
CbStatus cb_norms_spectral(const double *A, size_t m, size_t n, const CbNormOpts *o,
                           CbSpecNorm *out);
/* The same for a float matrix (e.g. CbMlp.W[l]): streams float32, accumulates in double. */
CbStatus cb_norms_spectral_f(const float *A, size_t m, size_t n, const CbNormOpts *o,
                             CbSpecNorm *out);
/* Use the AVX2+FMA kernels when the CPU has them (mode 1, default), the portable loops
 * (0), or just ask (-1). Returns whether the AVX2 kernels are in use. For tests. */
int cb_norms_simd(int mode);
/* Reference: largest singular value from LAPACKE_dgesdd (jobz 'N'). */
CbStatus cb_norms_spectral_ref(const double *A, size_t m, size_t n, double *out);
/* All min(m, n) singular values, descending (dgesdd), into s. */
CbStatus cb_norms_singular_values(const double *A, size_t m, size_t n, double *s);

double cb_norms_fro(const double *A, size_t m, size_t n);
/* ‖Aᵀ‖_{2,1} = Σ_i ‖row i of A‖₂ (Bartlett et al. 2017: sum over units of the norm
 * of their incoming weights, for A of shape (out, in)). */
double cb_norms_l21_t(const double *A, size_t m, size_t n);
double cb_norms_max(const double *A, size_t m, size_t n);   /* max |A_ij| */

typedef struct {
    double mean;      /* Σ a / N                                                  */
    double var;       /* Σ (a − mean)² / N  (population variance, numpy's var)   */
    double m2;        /* Σ a² / N                                                 */
    double m4;        /* Σ a⁴ / N                                                 */
    double nnz;       /* entries ≠ 0                                              */
    double max_row_nnz, max_col_nnz;
} CbMoments;
void cb_norms_moments(const double *A, size_t m, size_t n, CbMoments *out);

#endif
