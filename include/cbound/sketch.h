/*
 * sketch — sparse matrix sketching Y = A X Bᵀ and its recovery (004 §5, eq. (1),
 * Theorem 5.1; Dasarathy, Shah, Bhaskar & Nowak 2013), with the phase-transition
 * measurement of the smallest sketch size m that recovers a pruned layer.
 *
 * Ensemble (Dasarathy et al. 2013, the δ-random bipartite ensemble): A ∈ {0,1}^{m×p}
 * is the adjacency matrix of a bipartite graph whose p LEFT nodes (the columns of A,
 * i.e. the coordinates of the signal) each connect to exactly δ distinct RIGHT nodes
 * (rows of A, the measurements) chosen uniformly at random, independently per column.
 * So every COLUMN of A has exactly δ ones (A is δ-left-regular / column-regular);
 * row sums are random (≈ pδ/m). 004's Appendix F.1 (Definition F.1) states it the other
 * way round ("every node in [m] connected to at most δ nodes", i.e. rows with ≤ δ
 * ones); read literally, that leaves most of the p > m columns of A empty and X
 * unidentifiable, so cbound follows Dasarathy et al. and the expander literature.
 *
 * X (p₁ × p₂) = a pruned weight matrix W (d_out × d_in): p₁ = d_out, p₂ = d_in;
 * A is m × p₁ (stream CB_RNG_SKETCH_A), B is m × p₂ (stream CB_RNG_SKETCH_B), both
 * with index = layer * 1024 + trial.
 *
 * Recovery, joint: eq. (1) itself. With row-major vec, vec(Y) = (A ⊗ B) vec(X)
 * (Y_ab = Σ_ij A_ai X_ij B_bj): entry X_ij touches the δ_A·δ_B cells N_A(i) × N_B(j).
 *   CB_SKETCH_JOINT     SSMP on A ⊗ B without forming it (cost per update ∝ the cells
 *                       touched and the entries that read them) — the default.
 *   CB_SKETCH_JOINT_LP  min ‖vec X‖₁ s.t. (A ⊗ B) vec X = vec Y with GLPK on the explicit
 *                       A ⊗ B — the exact reference, small layers only.
 * Recovery, separable: Y = A Z with Z = X Bᵀ (p₁ × m): recover each column of Z from the
 * matching column of Y (min ‖z‖₁ s.t. A z = y), then each row of X from the matching row
 * of Z (min ‖x‖₁ s.t. B x = z). A solution of these is one of eq. (1), but the separable
 * route needs a larger m: Z's columns hold ≈ δ·nnz/m nonzeros. Solvers per vector:
 *   CB_SKETCH_LP    the ℓ1 program as an LP (GLPK dual simplex, warm-started) — exact reference
 *   CB_SKETCH_SSMP  sequential sparse matching pursuit (Berinde & Indyk 2009): greedy
 *                   coordinate updates x_j += median(r over the δ rows of column j),
 *                   largest ℓ1-residual decrease first — fast, expander-specific.
 *   CB_SKETCH_HYBRID  SSMP, falling back to the LP per vector where SSMP stalls.
 */
#ifndef CBOUND_SKETCH_H
#define CBOUND_SKETCH_H

#include "cbound/err.h"
#include "cbound/result.h"

#include <stddef.h>
#include <stdint.h>

/* A sketch matrix from the δ-random bipartite ensemble, stored sparsely both ways. */
typedef struct {
    size_t m, p, delta;
    uint32_t *nbr;      /* (p, delta): rows of the ones of column j, ascending         */
    size_t *row_ptr;    /* (m + 1): CSR of the rows: row i's columns are               */
    uint32_t *row_col;  /* (p * delta)  row_col[row_ptr[i] .. row_ptr[i+1]), ascending  */
} CbSketchMat;

/* Draw A (m × p, δ ones per column) from stream (seed, key, purpose, index).
 * Needs 1 <= delta <= m and p >= 1. */
CbStatus cb_sketch_mat_draw(uint64_t seed, uint64_t key, uint32_t purpose, uint32_t index,
                            size_t m, size_t p, size_t delta, CbSketchMat *A);
void cb_sketch_mat_free(CbSketchMat *A);
void cb_sketch_mat_to_dense(const CbSketchMat *A, double *D); /* D (m, p) row-major */

/* A sparse matrix (CSR) for X. */
typedef struct {
    size_t rows, cols, nnz;
    size_t *row_ptr;    /* (rows + 1) */
    uint32_t *col;      /* (nnz) ascending within a row */
    double *val;        /* (nnz) */
} CbSketchCsr;

/* The nonzeros of W (rows × cols, row-major float). */
CbStatus cb_sketch_csr_from_float(const float *W, size_t rows, size_t cols, CbSketchCsr *X);
CbStatus cb_sketch_csr_from_double(const double *W, size_t rows, size_t cols, CbSketchCsr *X);
void cb_sketch_csr_free(CbSketchCsr *X);
/* Largest number of nonzeros in a row / in a column, and max |X_ij|. */
void cb_sketch_csr_stats(const CbSketchCsr *X, size_t *max_row_nnz, size_t *max_col_nnz,
                         double *max_abs);

/* Y (A.m, B.m) = A X Bᵀ in O(nnz(X)·δ_A·δ_B + m²). */
CbStatus cb_sketch_apply(const CbSketchMat *A, const CbSketchMat *B, const CbSketchCsr *X,
                         double *Y);
/* Dense reference: Y = A X Bᵀ by triple loops over dense A, X (rows × cols), B (tests). */
void cb_sketch_apply_ref(const CbSketchMat *A, const CbSketchMat *B, const double *X, double *Y);

/* Separable lp, ssmp, and ssmp+lp (SSMP first, the LP for each vector SSMP does not
 * converge on); joint (SSMP over vec X) and joint-lp (GLPK over vec X). */
typedef enum {
    CB_SKETCH_LP = 0,
    CB_SKETCH_SSMP = 1,
    CB_SKETCH_HYBRID = 2,
    CB_SKETCH_JOINT = 3,
    CB_SKETCH_JOINT_LP = 4
} CbSketchSolver;
const char *cb_sketch_solver_name(CbSketchSolver s);
CbStatus cb_sketch_solver_parse(const char *s, CbSketchSolver *out);

/* One-vector decoder for y = A x (workspace built once per A); solvers lp, ssmp, ssmp+lp. */
typedef struct CbSketchDecoder CbSketchDecoder;
CbStatus cb_sketch_decoder_alloc(const CbSketchMat *A, CbSketchSolver solver,
                                 CbSketchDecoder **out);
void cb_sketch_decoder_free(CbSketchDecoder *d);
/* Recover x (A.p) from y (A.m). Returns CB_OK whether or not it succeeded; *converged
 * says whether the solver reached A x = y (LP: optimal status; SSMP: ‖y − Ax‖₁ <=
 * resid_tol·‖y‖₁). Not converging is a measurement, not an error. */
CbStatus cb_sketch_decode(CbSketchDecoder *d, const double *y, double resid_tol, double *x,
                          int *converged);

/* A ⊗ B explicitly (m₁m₂ × p₁p₂, δ_Aδ_B ones per column; column i·p₂ + j, row a·m₂ + b):
 * for the joint LP and tests. Refuses more than 2^31 ones. */
CbStatus cb_sketch_mat_kron(const CbSketchMat *A, const CbSketchMat *B, CbSketchMat *K);

/* Joint SSMP decoder for vec(Y) = (A ⊗ B) vec(X), never forming A ⊗ B. Memory: ~20 bytes
 * per entry of X plus the m₁ × m₂ residual. */
typedef struct CbSketchJoint CbSketchJoint;
CbStatus cb_sketch_joint_alloc(const CbSketchMat *A, const CbSketchMat *B, CbSketchJoint **out);
void cb_sketch_joint_free(CbSketchJoint *J);
/* X̂ (A.p × B.p, row-major) from Y (A.m × B.m, row-major); *converged as cb_sketch_decode. */
CbStatus cb_sketch_joint_decode(CbSketchJoint *J, const double *Y, double resid_tol,
                                double *Xhat, int *converged);

/* Reference kernel (tests): the same SSMP run as the vector decoder on the explicit
 * A ⊗ B (cb_sketch_mat_kron) with the joint decoder's caps — identical steps. */
CbStatus cb_sketch_joint_decode_ref(const CbSketchMat *A, const CbSketchMat *B, const double *Y,
                                    double resid_tol, double *Xhat, int *converged);

/* Parameters of a trial and of the phase-transition search. */
typedef struct {
    size_t delta_a, delta_b; /* ones per column of A, B; 0 = cb_sketch_default_delta     */
    CbSketchSolver solver;   /* (CB_SKETCH_JOINT)                                            */
    double tol;              /* success: max|X̂ − X| <= tol · max|X|   (1e-6)              */
    double resid_tol;        /* decoder stop: relative ℓ1 residual      (1e-10)            */
    int trials;              /* independent (A, B) draws per m          (20)               */
    double target;           /* success fraction required               (0.95)             */
    size_t m_max;            /* largest m tried; 0 = max(p₁, p₂)                           */
    int fail_fast;           /* stop a recovery at its first failed vector (1), see below    */
    double time_limit;       /* seconds one LP recovery may take (lp, ssmp+lp, joint-lp);
                                0 = no limit (0)                                              */
} CbSketchParams;

/* The outcome of one matrix recovery. */
typedef struct {
    int success;          /* err_rel <= tol (set by cb_sketch_trial; recover leaves it 0) */
    double err_rel;       /* max |X̂ − X| / max |X|                                       */
    size_t unconverged;   /* vectors whose decoder did not converge (stage 1 + stage 2;
                             joint: 0 or 1)                                                 */
    int timed_out;        /* the LP hit prm->time_limit: X̂ is NaN, success 0              */
    double sketch_s, recover_s;
} CbSketchReport;

/* Recovery of a whole matrix: X̂ (A.p × B.p, row-major) from Y (A.m × B.m) with
 * prm->solver. truth (optional, NULL = none) is the X that was sketched: with
 * prm->fail_fast, recovery stops at the first vector that did not converge or (given the
 * truth) differs from Z = X Bᵀ or X by more than tol·max, and fills X̂ with NaN — the
 * phase-transition search only needs to know that the draw failed. */
CbStatus cb_sketch_recover(const CbSketchMat *A, const CbSketchMat *B, const double *Y,
                           const CbSketchParams *prm, const CbSketchCsr *truth, double *Xhat,
                           CbSketchReport *rep);

void cb_sketch_params_default(CbSketchParams *prm);
size_t cb_sketch_default_delta(size_t p);

/* 004 Theorem 5.1 with constant 1: m = √(max(j_c·d₁, j_r·d₂))·ln p, p = max(d₁, d₂),
 * where d₁ = rows of X, d₂ = columns, j_c = max nonzeros in a row and j_r = max
 * nonzeros in a column (004 Definition 5.1's labels). */
double cb_sketch_m_theory(size_t rows, size_t cols, size_t max_row_nnz, size_t max_col_nnz);

/* One trial: draw A, B (index), sketch X, recover, verify. Xhat: (rows × cols) workspace. */
CbStatus cb_sketch_trial(uint64_t seed, uint64_t key, uint32_t index, const CbSketchCsr *X,
                         size_t m, const CbSketchParams *prm, double *Xhat, CbSketchReport *rep);

/* Phase transition: smallest m with success fraction >= target over `trials` draws,
 * by bisection over m in [max(δ_A, δ_B), m_max] (success assumed monotone in m). Trial t
 * at every m uses stream index layer * 1024 + t, so draws are independent across
 * trials and coupled across m. */
typedef struct {
    double m_theory;       /* cb_sketch_m_theory                                          */
    size_t m_measured;     /* 0 = target not reached at m_max                              */
    double success_rate;   /* at m_measured (at m_max when not reached)                    */
    double err_rel;        /* max over the trials at m_measured                            */
    double recover_s;      /* mean seconds of one sketch + recovery at m_measured          */
    double total_s;        /* whole search                                                 */
    size_t delta_a, delta_b;
    int n_trials_run;
} CbSketchPhase;
CbStatus cb_sketch_phase(uint64_t seed, uint64_t key, int layer, const CbSketchCsr *X,
                         const CbSketchParams *prm, CbSketchPhase *out);

/* The task driver's entry point (measure.sketch): phase transition on one pruned layer
 * W (d_out × d_in, row-major), results into the sketch_* columns of `row`. prm NULL =
 * defaults. An all-zero layer is recorded as m = 0 (nothing to sketch). */
CbStatus cb_sketch_measure_layer(uint64_t seed, uint64_t key, int layer, const float *W_pruned,
                                 size_t d_out, size_t d_in, CbLayerRow *row,
                                 const CbSketchParams *prm);

#endif
