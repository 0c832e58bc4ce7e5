/*
 * sketch — sparse matrix sketching Y = A X Bᵀ and its recovery (004 §5.1 eq. (1),
 * §5.3 Theorem 5.1, Appendix F.1; Dasarathy, Shah, Bhaskar & Nowak 2013 "Sketching
 * sparse matrices"; Berinde & Indyk 2009 "Sequential sparse matching pursuit").
 *
 * Ensemble: every column of A (m × p) has exactly δ ones at distinct rows drawn
 * uniformly (Floyd's subset sampling), columns independent — Dasarathy et al.'s
 * δ-random bipartite ensemble, left nodes = columns. 004's Definition F.1 puts the
 * degree bound on the m side instead; see include/cbound/sketch.h for why we depart.
 *
 * Recovery is separable (Y = A Z, Z = X Bᵀ): stage 1 decodes the m columns of Z
 * (length p₁) with A, stage 2 the p₁ rows of X (length p₂) from the rows of Z with B.
 * Each vector problem min ‖x‖₁ s.t. A x = y is solved either as the LP
 *     min Σ (u_j + v_j)  s.t.  A u − A v = y,  u, v >= 0,   x = u − v
 * with GLPK's dual simplex (the costs are positive, so every basis is dual feasible
 * when only y changes: each solve warm-starts from the previous optimal basis), or by
 * SSMP: with residual r = y − A x, column j's best update is t_j = median of r over its
 * δ rows (the exact minimiser of ‖r − t A e_j‖₁), its gain g_j = ‖r_N(j)‖₁ −
 * ‖r_N(j) − t_j‖₁; apply the largest gain, recompute the gains of the columns that
 * share a changed row (a max-tournament tree gives the argmax in O(log p)), stop when
 * ‖r‖₁ <= resid_tol·‖y‖₁ or no update decreases it. Berinde & Indyk's periodic
 * sparsification to k terms is left out: it needs k, which a decoder of a sketch of
 * a pruned layer does not know; without it SSMP is greedy ℓ1 coordinate descent.
 */
#include "cbound/sketch.h"
#include "cbound/rng.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ===================== the δ-random bipartite ensemble ===================== */

CbStatus cb_sketch_mat_draw(uint64_t seed, uint64_t key, uint32_t purpose, uint32_t index,
                            size_t m, size_t p, size_t delta, CbSketchMat *A)
{
    memset(A, 0, sizeof *A);
    if (p == 0 || m == 0 || delta == 0 || delta > m || m > UINT32_MAX || p > UINT32_MAX) {
        CbStatus st = CB_ERR(CB_EINVAL,
                             "sketch matrix: need 1 <= delta <= m and p >= 1, got m = %zu, p = %zu,"
                             " delta = %zu",
                             m, p, delta);
        cb_err_hint("each column of A gets delta distinct rows out of m; lower the sketch delta "
                    "or raise m");
        return st;
    }
    A->m = m;
    A->p = p;
    A->delta = delta;
    A->nbr = cb_malloc(p * delta * sizeof *A->nbr);
    CbStream s = cb_rng_stream(seed, key, purpose, index);
    for (size_t j = 0; j < p; ++j) {
        uint32_t *c = A->nbr + j * delta;
        /* Floyd: a uniform delta-subset of [0, m) from delta draws. */
        size_t n = 0;
        for (size_t t = m - delta; t < m; ++t) {
            uint32_t r = (uint32_t)cb_rng_below(&s, (uint64_t)t + 1);
            int seen = 0;
            for (size_t q = 0; q < n; ++q) seen |= c[q] == r;
            c[n++] = seen ? (uint32_t)t : r;
        }
        for (size_t a = 1; a < delta; ++a) /* insertion sort: delta is small */
            for (size_t b = a; b > 0 && c[b - 1] > c[b]; --b) {
                uint32_t tmp = c[b];
                c[b] = c[b - 1];
                c[b - 1] = tmp;
            }
    }
    /* Row-wise adjacency (transpose), columns ascending by construction. */
    A->row_ptr = cb_calloc(m + 1, sizeof *A->row_ptr);
    A->row_col = cb_malloc(p * delta * sizeof *A->row_col);
    for (size_t e = 0; e < p * delta; ++e) A->row_ptr[A->nbr[e] + 1]++;
    for (size_t i = 0; i < m; ++i) A->row_ptr[i + 1] += A->row_ptr[i];
    size_t *fill = cb_malloc(m * sizeof *fill);
    memcpy(fill, A->row_ptr, m * sizeof *fill);
    for (size_t j = 0; j < p; ++j)
        for (size_t t = 0; t < delta; ++t) A->row_col[fill[A->nbr[j * delta + t]]++] = (uint32_t)j;
    free(fill);
    return CB_OK;
}

void cb_sketch_mat_free(CbSketchMat *A)
{
    free(A->nbr);
    free(A->row_ptr);
    free(A->row_col);
    memset(A, 0, sizeof *A);
}

void cb_sketch_mat_to_dense(const CbSketchMat *A, double *D)
{
    memset(D, 0, A->m * A->p * sizeof *D);
    for (size_t j = 0; j < A->p; ++j)
        for (size_t t = 0; t < A->delta; ++t) D[(size_t)A->nbr[j * A->delta + t] * A->p + j] = 1.0;
}

/* ============================== sparse X ================================== */

#define CSR_FROM(NAME, T)                                                                        \
    CbStatus NAME(const T *W, size_t rows, size_t cols, CbSketchCsr *X)                          \
    {                                                                                            \
        memset(X, 0, sizeof *X);                                                                 \
        if (rows == 0 || cols == 0 || cols > UINT32_MAX)                                         \
            return CB_ERR(CB_EINVAL, "sketch: matrix of shape %zu x %zu cannot be sketched",     \
                          rows, cols);                                                           \
        size_t nnz = 0;                                                                          \
        for (size_t k = 0; k < rows * cols; ++k) {                                               \
            if (!isfinite((double)W[k]))                                                         \
                return CB_ERR(CB_ENUMERIC, "sketch: entry (%zu, %zu) of the layer is %g",        \
                              k / cols, k % cols, (double)W[k]);                                 \
            nnz += W[k] != 0;                                                                    \
        }                                                                                        \
        X->rows = rows;                                                                          \
        X->cols = cols;                                                                          \
        X->nnz = nnz;                                                                            \
        X->row_ptr = cb_malloc((rows + 1) * sizeof *X->row_ptr);                                 \
        X->col = cb_malloc(nnz * sizeof *X->col);                                                \
        X->val = cb_malloc(nnz * sizeof *X->val);                                                \
        size_t e = 0;                                                                            \
        for (size_t i = 0; i < rows; ++i) {                                                      \
            X->row_ptr[i] = e;                                                                   \
            for (size_t j = 0; j < cols; ++j)                                                    \
                if (W[i * cols + j] != 0) {                                                      \
                    X->col[e] = (uint32_t)j;                                                     \
                    X->val[e++] = (double)W[i * cols + j];                                       \
                }                                                                                \
        }                                                                                        \
        X->row_ptr[rows] = e;                                                                    \
        return CB_OK;                                                                            \
    }
CSR_FROM(cb_sketch_csr_from_float, float)
CSR_FROM(cb_sketch_csr_from_double, double)
#undef CSR_FROM

void cb_sketch_csr_free(CbSketchCsr *X)
{
    free(X->row_ptr);
    free(X->col);
    free(X->val);
    memset(X, 0, sizeof *X);
}

void cb_sketch_csr_stats(const CbSketchCsr *X, size_t *max_row_nnz, size_t *max_col_nnz,
                         double *max_abs)
{
    size_t *cc = cb_calloc(X->cols, sizeof *cc), mr = 0, mc = 0;
    double ma = 0;
    for (size_t i = 0; i < X->rows; ++i) {
        size_t n = X->row_ptr[i + 1] - X->row_ptr[i];
        if (n > mr) mr = n;
        for (size_t e = X->row_ptr[i]; e < X->row_ptr[i + 1]; ++e) {
            if (++cc[X->col[e]] > mc) mc = cc[X->col[e]];
            if (fabs(X->val[e]) > ma) ma = fabs(X->val[e]);
        }
    }
    free(cc);
    if (max_row_nnz) *max_row_nnz = mr;
    if (max_col_nnz) *max_col_nnz = mc;
    if (max_abs) *max_abs = ma;
}

/* ================================ sketch =================================== */

CbStatus cb_sketch_apply(const CbSketchMat *A, const CbSketchMat *B, const CbSketchCsr *X,
                         double *Y)
{
    if (A->p != X->rows || B->p != X->cols)
        return CB_ERR(CB_EINVAL, "sketch: A is %zu x %zu and B is %zu x %zu, X is %zu x %zu "
                      "(expected A.p = X.rows, B.p = X.cols)",
                      A->m, A->p, B->m, B->p, X->rows, X->cols);
    size_t mb = B->m, da = A->delta, db = B->delta;
    memset(Y, 0, A->m * mb * sizeof *Y);
    /* Y[a][b] += X_kl for every a in N_A(k), b in N_B(l): nnz(X)·δ_A·δ_B updates. */
    for (size_t k = 0; k < X->rows; ++k) {
        const uint32_t *na = A->nbr + k * da;
        for (size_t e = X->row_ptr[k]; e < X->row_ptr[k + 1]; ++e) {
            const uint32_t *nb = B->nbr + (size_t)X->col[e] * db;
            double v = X->val[e];
            for (size_t s = 0; s < da; ++s) {
                double *y = Y + (size_t)na[s] * mb;
                for (size_t t = 0; t < db; ++t) y[nb[t]] += v;
            }
        }
    }
    return CB_OK;
}

void cb_sketch_apply_ref(const CbSketchMat *A, const CbSketchMat *B, const double *X, double *Y)
{
    size_t m1 = A->m, m2 = B->m, p1 = A->p, p2 = B->p;
    double *Ad = cb_malloc(m1 * p1 * sizeof *Ad), *Bd = cb_malloc(m2 * p2 * sizeof *Bd);
    double *T = cb_calloc(m1 * p2, sizeof *T); /* (m1, p2) = A X */
    cb_sketch_mat_to_dense(A, Ad);
    cb_sketch_mat_to_dense(B, Bd);
    for (size_t i = 0; i < m1; ++i)
        for (size_t k = 0; k < p1; ++k)
            for (size_t l = 0; l < p2; ++l) T[i * p2 + l] += Ad[i * p1 + k] * X[k * p2 + l];
    for (size_t i = 0; i < m1; ++i)
        for (size_t j = 0; j < m2; ++j) {
            double s = 0;
            for (size_t l = 0; l < p2; ++l) s += T[i * p2 + l] * Bd[j * p2 + l];
            Y[i * m2 + j] = s;
        }
    free(Ad);
    free(Bd);
    free(T);
}

/* =============================== decoders ================================== */

static const char *const solver_names[] = {"lp", "ssmp", "ssmp+lp"};

const char *cb_sketch_solver_name(CbSketchSolver s) { return solver_names[s]; }

CbStatus cb_sketch_solver_parse(const char *s, CbSketchSolver *out)
{
    for (int i = 0; i < 3; ++i)
        if (!strcmp(s, solver_names[i])) {
            *out = (CbSketchSolver)i;
            return CB_OK;
        }
    CbStatus st = CB_ERR(CB_EINVAL, "sketch solver: expected 'lp', 'ssmp' or 'ssmp+lp', found '%s'",
                         s);
    cb_err_hint("lp = GLPK exact reference (slow), ssmp = sequential sparse matching pursuit, "
                "ssmp+lp = ssmp with the LP for the vectors ssmp does not converge on");
    return st;
}

struct CbSketchDecoder {
    const CbSketchMat *A;
    CbSketchSolver solver;
    glp_prob *lp;        /* LP: rows = measurements, cols = (u, v)               */
    double *r;           /* (m) SSMP residual                                      */
    double *gain, *step; /* (p) SSMP: best decrease of ‖r‖₁ and its update t_j     */
    uint32_t *tree;      /* (2 * leaves) max-tournament tree over gain             */
    size_t leaves;
    uint32_t *stamp;     /* (p) dedupe of columns to refresh                       */
    uint32_t epoch;
    double *buf;         /* (delta) median scratch                                 */
};

CbStatus cb_sketch_decoder_alloc(const CbSketchMat *A, CbSketchSolver solver,
                                 CbSketchDecoder **out)
{
    CbSketchDecoder *d = cb_calloc(1, sizeof *d);
    d->A = A;
    d->solver = solver;
    size_t m = A->m, p = A->p, dl = A->delta;
    if (solver != CB_SKETCH_SSMP) {
        if (2 * p * dl > (size_t)INT32_MAX - 1 || 2 * p > (size_t)INT32_MAX) {
            free(d);
            return CB_ERR(CB_EINVAL, "sketch LP: %zu columns x delta %zu is too large for GLPK", p,
                          dl);
        }
        glp_prob *lp = glp_create_prob();
        glp_set_obj_dir(lp, GLP_MIN);
        glp_add_rows(lp, (int)m);
        glp_add_cols(lp, (int)(2 * p));
        for (size_t j = 1; j <= 2 * p; ++j) {
            glp_set_col_bnds(lp, (int)j, GLP_LO, 0.0, 0.0);
            glp_set_obj_coef(lp, (int)j, 1.0);
        }
        size_t ne = 2 * p * dl;
        int *ia = cb_malloc((ne + 1) * sizeof *ia), *ja = cb_malloc((ne + 1) * sizeof *ja);
        double *ar = cb_malloc((ne + 1) * sizeof *ar);
        size_t e = 1;
        for (size_t j = 0; j < p; ++j)
            for (size_t t = 0; t < dl; ++t) {
                int row = (int)A->nbr[j * dl + t] + 1;
                ia[e] = row, ja[e] = (int)j + 1, ar[e++] = 1.0;          /* u_j */
                ia[e] = row, ja[e] = (int)(p + j) + 1, ar[e++] = -1.0;   /* v_j */
            }
        glp_load_matrix(lp, (int)ne, ia, ja, ar);
        free(ia);
        free(ja);
        free(ar);
        d->lp = lp;
    }
    if (solver != CB_SKETCH_LP) {
        d->r = cb_malloc(m * sizeof *d->r);
        d->gain = cb_malloc(p * sizeof *d->gain);
        d->step = cb_malloc(p * sizeof *d->step);
        d->leaves = 1;
        while (d->leaves < p) d->leaves *= 2;
        d->tree = cb_malloc(2 * d->leaves * sizeof *d->tree);
        d->stamp = cb_calloc(p, sizeof *d->stamp);
        d->buf = cb_malloc(dl * sizeof *d->buf);
    }
    *out = d;
    return CB_OK;
}

void cb_sketch_decoder_free(CbSketchDecoder *d)
{
    if (!d) return;
    if (d->lp) glp_delete_prob(d->lp);
    free(d->r);
    free(d->gain);
    free(d->step);
    free(d->tree);
    free(d->stamp);
    free(d->buf);
    free(d);
}

static void decode_lp(CbSketchDecoder *d, const double *y, double *x, int *converged)
{
    const CbSketchMat *A = d->A;
    for (size_t i = 0; i < A->m; ++i) glp_set_row_bnds(d->lp, (int)i + 1, GLP_FX, y[i], y[i]);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.meth = GLP_DUALP;
    int ret = glp_simplex(d->lp, &parm);
    if (ret != 0) { /* a bad warm basis (singular or ill-conditioned): restart from scratch */
        glp_std_basis(d->lp);
        ret = glp_simplex(d->lp, &parm);
    }
    *converged = ret == 0 && glp_get_status(d->lp) == GLP_OPT;
    for (size_t j = 0; j < A->p; ++j)
        x[j] = glp_get_col_prim(d->lp, (int)j + 1) - glp_get_col_prim(d->lp, (int)(A->p + j) + 1);
}

/* Median of n values in buf (sorted in place; n small). Even n: mean of the middle two,
 * which is one minimiser of Σ|buf_i − t|. */
static double median(double *buf, size_t n)
{
    for (size_t a = 1; a < n; ++a)
        for (size_t b = a; b > 0 && buf[b - 1] > buf[b]; --b) {
            double t = buf[b];
            buf[b] = buf[b - 1];
            buf[b - 1] = t;
        }
    return n % 2 ? buf[n / 2] : 0.5 * (buf[n / 2 - 1] + buf[n / 2]);
}

static void ssmp_refresh(CbSketchDecoder *d, size_t j)
{
    const CbSketchMat *A = d->A;
    const uint32_t *nb = A->nbr + j * A->delta;
    double before = 0, after = 0;
    for (size_t t = 0; t < A->delta; ++t) d->buf[t] = d->r[nb[t]], before += fabs(d->r[nb[t]]);
    double s = median(d->buf, A->delta);
    for (size_t t = 0; t < A->delta; ++t) after += fabs(d->r[nb[t]] - s);
    d->step[j] = s;
    d->gain[j] = before - after;
}

static void tree_update(CbSketchDecoder *d, size_t j)
{
    size_t n = d->leaves + j;
    d->tree[n] = (uint32_t)j;
    for (n /= 2; n >= 1; n /= 2) {
        uint32_t a = d->tree[2 * n], b = d->tree[2 * n + 1];
        d->tree[n] = d->gain[a] >= d->gain[b] ? a : b;
    }
}

static void decode_ssmp(CbSketchDecoder *d, const double *y, double resid_tol, double *x,
                        int *converged)
{
    const CbSketchMat *A = d->A;
    size_t m = A->m, p = A->p;
    double y1 = 0;
    for (size_t i = 0; i < m; ++i) d->r[i] = y[i], y1 += fabs(y[i]);
    memset(x, 0, p * sizeof *x);
    *converged = 1;
    if (y1 == 0) return;
    /* Padding leaves point at column 0 with gain compared by value: give them index 0,
     * which is harmless because a real column 0 has the same gain. */
    for (size_t j = 0; j < p; ++j) ssmp_refresh(d, j), d->tree[d->leaves + j] = (uint32_t)j;
    for (size_t j = p; j < d->leaves; ++j) d->tree[d->leaves + j] = 0;
    for (size_t n = d->leaves - 1; n >= 1; --n) {
        uint32_t a = d->tree[2 * n], b = d->tree[2 * n + 1];
        d->tree[n] = d->gain[a] >= d->gain[b] ? a : b;
    }
    double r1 = y1, stop = resid_tol * y1;
    /* A successful decode needs about as many updates as x has nonzeros (< m); greedy
     * ℓ1 descent that has not converged after 3·m + 64 updates, or that lowered ‖r‖₁ by
     * less than 1% over the last m/4 + 16 updates, is zig-zagging in a valley it cannot
     * leave: stop and report non-convergence. (Caps of 8·m and m showed the same success
     * counts on 40 draws at p = 200 and 784, near the SSMP threshold.) */
    size_t max_updates = 3 * m + 64, window = m / 4 + 16;
    double r1_mark = r1;
    for (size_t it = 0; it < max_updates && r1 > stop; ++it) {
        if (it % window == window - 1) {
            if (r1 > 0.99 * r1_mark) break;
            r1_mark = r1;
        }
        size_t j = d->tree[1];
        if (!(d->gain[j] > 1e-15 * y1)) break; /* no coordinate lowers the residual */
        double s = d->step[j];
        x[j] += s;
        r1 -= d->gain[j];
        const uint32_t *nb = A->nbr + j * A->delta;
        if (++d->epoch == 0) memset(d->stamp, 0, p * sizeof *d->stamp), d->epoch = 1;
        for (size_t t = 0; t < A->delta; ++t) d->r[nb[t]] -= s;
        for (size_t t = 0; t < A->delta; ++t)
            for (size_t e = A->row_ptr[nb[t]]; e < A->row_ptr[nb[t] + 1]; ++e) {
                uint32_t c = A->row_col[e];
                if (d->stamp[c] == d->epoch) continue;
                d->stamp[c] = d->epoch;
                ssmp_refresh(d, c);
                tree_update(d, c);
            }
    }
    r1 = 0; /* exact residual: the running value drifts by rounding */
    for (size_t i = 0; i < m; ++i) r1 += fabs(d->r[i]);
    *converged = r1 <= stop;
}

CbStatus cb_sketch_decode(CbSketchDecoder *d, const double *y, double resid_tol, double *x,
                          int *converged)
{
    if (d->solver != CB_SKETCH_LP) decode_ssmp(d, y, resid_tol, x, converged);
    if (d->solver == CB_SKETCH_LP || (d->solver == CB_SKETCH_HYBRID && !*converged))
        decode_lp(d, y, x, converged);
    return CB_OK;
}

/* ========================== matrix recovery ================================ */

/* Z = X Bᵀ (p₁ × m₂), the truth of stage 1, computed sparsely. */
static void z_true(const CbSketchCsr *X, const CbSketchMat *B, double *Z)
{
    size_t m2 = B->m, db = B->delta;
    memset(Z, 0, X->rows * m2 * sizeof *Z);
    for (size_t k = 0; k < X->rows; ++k)
        for (size_t e = X->row_ptr[k]; e < X->row_ptr[k + 1]; ++e)
            for (size_t t = 0; t < db; ++t) Z[k * m2 + B->nbr[(size_t)X->col[e] * db + t]] += X->val[e];
}

CbStatus cb_sketch_recover(const CbSketchMat *A, const CbSketchMat *B, const double *Y,
                           const CbSketchParams *prm, const CbSketchCsr *truth, double *Xhat,
                           CbSketchReport *rep)
{
    double t0 = now_s();
    size_t m1 = A->m, m2 = B->m, p1 = A->p, p2 = B->p;
    if (truth && (truth->rows != p1 || truth->cols != p2))
        return CB_ERR(CB_EINVAL, "sketch recover: truth is %zu x %zu, A and B sketch %zu x %zu",
                      truth->rows, truth->cols, p1, p2);
    CbSketchDecoder *da = NULL, *db = NULL;
    CbStatus st = cb_sketch_decoder_alloc(A, prm->solver, &da);
    if (st == CB_OK) st = cb_sketch_decoder_alloc(B, prm->solver, &db);
    if (st != CB_OK) {
        cb_sketch_decoder_free(da);
        return st;
    }
    double *Z = cb_malloc(p1 * m2 * sizeof *Z); /* (p1, m2) = X Bᵀ */
    double *y = cb_malloc((m1 > m2 ? m1 : m2) * sizeof *y);
    double *z = cb_malloc(p1 * sizeof *z);
    double *Zt = NULL, zmax = 0, xmax = 0;
    if (truth && prm->fail_fast) {
        Zt = cb_malloc(p1 * m2 * sizeof *Zt);
        z_true(truth, B, Zt);
        for (size_t e = 0; e < p1 * m2; ++e) zmax = fmax(zmax, fabs(Zt[e]));
        cb_sketch_csr_stats(truth, NULL, NULL, &xmax);
    }
    size_t bad = 0, wrong = 0;
    int ok;
    /* Stage 1: column k of Y = A · (column k of Z). */
    for (size_t k = 0; k < m2 && !(prm->fail_fast && bad + wrong); ++k) {
        for (size_t i = 0; i < m1; ++i) y[i] = Y[i * m2 + k];
        cb_sketch_decode(da, y, prm->resid_tol, z, &ok);
        bad += !ok;
        for (size_t i = 0; i < p1; ++i) {
            Z[i * m2 + k] = z[i];
            if (Zt && !(fabs(z[i] - Zt[i * m2 + k]) <= prm->tol * zmax)) wrong = 1;
        }
    }
    /* Stage 2: row i of Z = B · (row i of X). */
    for (size_t i = 0; i < p1 && !(prm->fail_fast && bad + wrong); ++i) {
        double *xr = Xhat + i * p2;
        cb_sketch_decode(db, Z + i * m2, prm->resid_tol, xr, &ok);
        bad += !ok;
        if (Zt) { /* compare row i with the truth's row i */
            size_t e = truth->row_ptr[i], end = truth->row_ptr[i + 1];
            for (size_t j = 0; j < p2; ++j) {
                double tv = e < end && truth->col[e] == j ? truth->val[e++] : 0;
                if (!(fabs(xr[j] - tv) <= prm->tol * xmax)) wrong = 1;
            }
        }
    }
    if (prm->fail_fast && bad + wrong) /* X̂ is incomplete: verification must not pass */
        for (size_t e = 0; e < p1 * p2; ++e) Xhat[e] = NAN;
    free(Zt);
    free(Z);
    free(y);
    free(z);
    cb_sketch_decoder_free(da);
    cb_sketch_decoder_free(db);
    rep->unconverged = bad;
    rep->recover_s = now_s() - t0;
    return CB_OK;
}

/* ====================== trials and the phase transition ===================== */

size_t cb_sketch_default_delta(size_t p)
{
    /* δ = O(log p) (Theorem 5.1); ⌈ln p⌉, at least 2. Measured alternatives: README. */
    double l = ceil(log((double)(p > 1 ? p : 2)));
    return l < 2 ? 2 : (size_t)l;
}

void cb_sketch_params_default(CbSketchParams *prm)
{
    memset(prm, 0, sizeof *prm);
    prm->solver = CB_SKETCH_HYBRID;
    prm->tol = 1e-6;
    prm->resid_tol = 1e-10;
    prm->trials = 20;
    prm->target = 0.95;
    prm->fail_fast = 1;
}

double cb_sketch_m_theory(size_t rows, size_t cols, size_t max_row_nnz, size_t max_col_nnz)
{
    /* 004 Thm 5.1 / Def. 5.1: j_c (per-row max) pairs with d₁ = rows, j_r (per-column
     * max) with d₂ = columns. Stage 1 decodes columns of Z = X Bᵀ, which sum ≈ δ·cols/m
     * columns of X, so they are ≈ j_r·δ·d₂/m sparse and need m ≳ √(j_r d₂ δ log p) —
     * consistent with this pairing. ln = natural log; the constant is left at 1. */
    double p = (double)(rows > cols ? rows : cols);
    double a = (double)max_row_nnz * (double)rows, b = (double)max_col_nnz * (double)cols;
    return sqrt(a > b ? a : b) * log(p);
}

static double max_abs_diff(const CbSketchCsr *X, const double *Xhat)
{
    /* Compare against the dense truth without forming it: off-support entries of X̂
     * must be 0, on-support entries equal X. */
    double err = 0;
    for (size_t i = 0; i < X->rows; ++i) {
        const double *xr = Xhat + i * X->cols;
        size_t e = X->row_ptr[i], end = X->row_ptr[i + 1];
        for (size_t j = 0; j < X->cols; ++j) {
            double truth = 0;
            if (e < end && X->col[e] == j) truth = X->val[e++];
            double dlt = fabs(xr[j] - truth);
            if (!(dlt <= err)) err = dlt; /* NaN propagates as failure */
        }
    }
    return err;
}

static void resolve_delta(const CbSketchParams *prm, const CbSketchCsr *X, size_t *da, size_t *db)
{
    size_t p = X->rows > X->cols ? X->rows : X->cols;
    *da = prm->delta_a ? prm->delta_a : cb_sketch_default_delta(p);
    *db = prm->delta_b ? prm->delta_b : cb_sketch_default_delta(p);
}

CbStatus cb_sketch_trial(uint64_t seed, uint64_t key, uint32_t index, const CbSketchCsr *X,
                         size_t m, const CbSketchParams *prm, double *Xhat, CbSketchReport *rep)
{
    memset(rep, 0, sizeof *rep);
    size_t da, db;
    resolve_delta(prm, X, &da, &db);
    CbSketchMat A, B;
    CB_TRY(cb_sketch_mat_draw(seed, key, CB_RNG_SKETCH_A, index, m, X->rows, da, &A));
    CbStatus st = cb_sketch_mat_draw(seed, key, CB_RNG_SKETCH_B, index, m, X->cols, db, &B);
    if (st != CB_OK) {
        cb_sketch_mat_free(&A);
        return st;
    }
    double *Y = cb_malloc(m * m * sizeof *Y);
    double t0 = now_s();
    st = cb_sketch_apply(&A, &B, X, Y);
    rep->sketch_s = now_s() - t0;
    if (st == CB_OK) st = cb_sketch_recover(&A, &B, Y, prm, X, Xhat, rep);
    free(Y);
    cb_sketch_mat_free(&A);
    cb_sketch_mat_free(&B);
    if (st != CB_OK) return st;
    double xmax;
    cb_sketch_csr_stats(X, NULL, NULL, &xmax);
    double err = max_abs_diff(X, Xhat);
    rep->err_rel = xmax > 0 ? err / xmax : err;
    rep->success = rep->err_rel <= prm->tol;
    return CB_OK;
}

/* Success count at m over prm->trials draws; stops early once the target is out of
 * reach (failures > trials − need). *err = max err_rel over the trials run. */
static CbStatus run_m(uint64_t seed, uint64_t key, int layer, const CbSketchCsr *X, size_t m,
                      const CbSketchParams *prm, int need, double *Xhat, int *succ, int *ran,
                      double *err, double *secs)
{
    *succ = *ran = 0;
    *err = 0;
    *secs = 0;
    for (int t = 0; t < prm->trials; ++t) {
        CbSketchReport rep;
        CB_TRY(cb_sketch_trial(seed, key, (uint32_t)layer * 1024u + (uint32_t)t, X, m, prm, Xhat,
                               &rep));
        ++*ran;
        *succ += rep.success;
        if (!(rep.err_rel <= *err)) *err = rep.err_rel;
        *secs += rep.sketch_s + rep.recover_s;
        if (*ran - *succ > prm->trials - need) break;
    }
    return CB_OK;
}

CbStatus cb_sketch_phase(uint64_t seed, uint64_t key, int layer, const CbSketchCsr *X,
                         const CbSketchParams *prm, CbSketchPhase *out)
{
    memset(out, 0, sizeof *out);
    if (prm->trials < 1 || prm->trials > 1024 || !(prm->target > 0 && prm->target <= 1) ||
        layer < 0 || layer >= (1 << 22)) {
        CbStatus st = CB_ERR(CB_EINVAL,
                             "sketch phase transition: trials %d (expected 1..1024), target %g "
                             "(expected (0, 1]), layer %d",
                             prm->trials, prm->target, layer);
        cb_err_hint("set sketch trials between 1 and 1024 and the success target in (0, 1]");
        return st;
    }
    double t0 = now_s();
    size_t rmax, cmax;
    cb_sketch_csr_stats(X, &rmax, &cmax, NULL);
    out->m_theory = cb_sketch_m_theory(X->rows, X->cols, rmax, cmax);
    resolve_delta(prm, X, &out->delta_a, &out->delta_b);
    size_t lo = out->delta_a > out->delta_b ? out->delta_a : out->delta_b; /* smallest legal m */
    size_t hi = prm->m_max ? prm->m_max : (X->rows > X->cols ? X->rows : X->cols);
    if (hi < lo) hi = lo;
    int need = (int)ceil(prm->target * prm->trials - 1e-9);
    double *Xhat = cb_malloc(X->rows * X->cols * sizeof *Xhat);
    int succ, ran;
    double err, secs;
    CbStatus st = run_m(seed, key, layer, X, hi, prm, need, Xhat, &succ, &ran, &err, &secs);
    out->n_trials_run += ran;
    if (st == CB_OK && succ < need) { /* not reached: report the rate at m_max */
        out->success_rate = (double)succ / ran;
        out->err_rel = err;
        out->recover_s = secs / ran;
    } else if (st == CB_OK) {
        double best_rate = (double)succ / ran, best_err = err, best_s = secs / ran;
        /* Invariant: hi succeeds; lo − 1 is below the legal range or fails. */
        size_t good = hi;
        hi = hi - 1;
        while (st == CB_OK && lo <= hi) {
            size_t mid = lo + (hi - lo) / 2;
            st = run_m(seed, key, layer, X, mid, prm, need, Xhat, &succ, &ran, &err, &secs);
            out->n_trials_run += ran;
            if (st != CB_OK) break;
            if (succ >= need) {
                good = mid, best_rate = (double)succ / ran, best_err = err, best_s = secs / ran;
                if (mid == lo) break;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        out->m_measured = good;
        out->success_rate = best_rate;
        out->err_rel = best_err;
        out->recover_s = best_s;
    }
    free(Xhat);
    out->total_s = now_s() - t0;
    return st;
}

CbStatus cb_sketch_measure_layer(uint64_t seed, uint64_t key, int layer, const float *W_pruned,
                                 size_t d_out, size_t d_in, CbLayerRow *row,
                                 const CbSketchParams *prm)
{
    CbSketchParams dflt;
    if (!prm) cb_sketch_params_default(&dflt), prm = &dflt;
    CbSketchCsr X;
    CB_TRY(cb_sketch_csr_from_float(W_pruned, d_out, d_in, &X));
    double *v = row->v;
    if (X.nnz == 0) { /* nothing to sketch: the zero matrix is its own (empty) sketch */
        v[CB_L_sketch_m_theory] = 0;
        v[CB_L_sketch_m_measured] = 0;
        v[CB_L_sketch_params] = 0;
        v[CB_L_sketch_success_rate] = 1;
        v[CB_L_sketch_recovery_err] = 0;
        v[CB_L_sketch_time_s] = 0;
        cb_sketch_csr_free(&X);
        return CB_OK;
    }
    CbSketchPhase ph;
    CbStatus st = cb_sketch_phase(seed, key, layer, &X, prm, &ph);
    cb_sketch_csr_free(&X);
    if (st != CB_OK) return st;
    double mm = ph.m_measured ? (double)ph.m_measured : NAN;
    v[CB_L_sketch_m_theory] = ph.m_theory;
    v[CB_L_sketch_m_measured] = mm;
    v[CB_L_sketch_m_const] = ph.m_theory > 0 ? mm / ph.m_theory : NAN;
    v[CB_L_sketch_params] = mm * mm;
    v[CB_L_sketch_success_rate] = ph.success_rate;
    v[CB_L_sketch_recovery_err] = ph.err_rel;
    v[CB_L_sketch_delta] = (double)ph.delta_a; /* = delta_b unless set apart */
    v[CB_L_sketch_recover_s] = ph.recover_s;
    v[CB_L_sketch_time_s] = ph.total_s;
    return CB_OK;
}
