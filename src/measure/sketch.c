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
 * Joint recovery (the default) decodes vec(Y) = (A ⊗ B) vec(X) at once — eq. (1) itself —
 * by SSMP on the implicit A ⊗ B (section "joint decoding") or by GLPK on the explicit one.
 * Separable recovery (Y = A Z, Z = X Bᵀ): stage 1 decodes the m columns of Z
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

static const char *const solver_names[] = {"lp", "ssmp", "ssmp+lp", "joint", "joint-lp"};
#define N_SOLVERS (int)(sizeof solver_names / sizeof *solver_names)

const char *cb_sketch_solver_name(CbSketchSolver s) { return solver_names[s]; }

CbStatus cb_sketch_solver_parse(const char *s, CbSketchSolver *out)
{
    for (int i = 0; i < N_SOLVERS; ++i)
        if (!strcmp(s, solver_names[i])) {
            *out = (CbSketchSolver)i;
            return CB_OK;
        }
    CbStatus st = CB_ERR(CB_EINVAL, "sketch solver: expected 'lp', 'ssmp', 'ssmp+lp', 'joint' or "
                         "'joint-lp', found '%s'",
                         s);
    cb_err_hint("separable (column by column, then row by row): lp = GLPK exact reference (slow), "
                "ssmp = sequential sparse matching pursuit, ssmp+lp = ssmp with the LP where ssmp "
                "does not converge; joint (over vec(X), eq. (1) itself): joint = SSMP on A (x) B, "
                "joint-lp = GLPK on A (x) B (small layers only)");
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
    double deadline;     /* LP: monotonic time to give up at (0 = none)            */
    int timed_out;       /* LP: the last solve hit the deadline                    */
};

CbStatus cb_sketch_decoder_alloc(const CbSketchMat *A, CbSketchSolver solver,
                                 CbSketchDecoder **out)
{
    CbSketchDecoder *d = cb_calloc(1, sizeof *d);
    d->A = A;
    d->solver = solver;
    size_t m = A->m, p = A->p, dl = A->delta;
    if (solver == CB_SKETCH_JOINT || solver == CB_SKETCH_JOINT_LP) {
        free(d);
        return CB_ERR(CB_EINVAL, "sketch decoder: solver '%s' is a matrix solver (A (x) B), not a "
                      "vector decoder", cb_sketch_solver_name(solver));
    }
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
    if (solver == CB_SKETCH_SSMP || solver == CB_SKETCH_HYBRID) {
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
    d->timed_out = 0;
    if (d->deadline > 0) { /* GLPK's own time limit (ms), what is left of the caller's cap */
        double left = d->deadline - now_s();
        if (left <= 0) {
            d->timed_out = 1, *converged = 0;
            memset(x, 0, A->p * sizeof *x);
            return;
        }
        parm.tm_lim = left > 2e6 ? 2000000000 : (int)(1000 * left) + 1;
    }
    int ret = glp_simplex(d->lp, &parm);
    if (ret != 0 && ret != GLP_ETMLIM) { /* a bad warm basis (singular, ill-conditioned): restart */
        glp_std_basis(d->lp);
        ret = glp_simplex(d->lp, &parm);
    }
    d->timed_out = ret == GLP_ETMLIM;
    *converged = ret == 0 && glp_get_status(d->lp) == GLP_OPT;
    for (size_t j = 0; j < A->p; ++j)
        x[j] = glp_get_col_prim(d->lp, (int)j + 1) - glp_get_col_prim(d->lp, (int)(A->p + j) + 1);
}

/* k-th smallest of buf[0..n) (reordered in place; afterwards buf[0..k) <= buf[k]):
 * quickselect with a three-way partition around the middle element. */
static double select_kth(double *buf, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    for (;;) {
        double pv = buf[lo + (hi - lo) / 2], t;
        size_t lt = lo, i = lo, gt = hi + 1; /* [lo,lt) < pv, [lt,i) = pv, [gt,hi] > pv */
        while (i < gt) {
            if (buf[i] < pv) t = buf[lt], buf[lt++] = buf[i], buf[i++] = t;
            else if (buf[i] > pv) t = buf[--gt], buf[gt] = buf[i], buf[i] = t;
            else ++i;
        }
        if (k < lt) hi = lt - 1;
        else if (k >= gt) lo = gt;
        else return pv;
    }
}

/* Median of n values in buf (reordered in place). Even n: mean of the middle two, which
 * is one minimiser of Σ|buf_i − t|. The value does not depend on the method: insertion
 * sort for small n (the separable δ), quickselect for the joint δ_A·δ_B. */
static double median(double *buf, size_t n)
{
    if (n > 16) {
        double hi = select_kth(buf, n, n / 2);
        if (n % 2) return hi;
        double lo = buf[0]; /* after selecting n/2, buf[0 .. n/2) holds the smaller half */
        for (size_t i = 1; i < n / 2; ++i) lo = buf[i] > lo ? buf[i] : lo;
        return 0.5 * (lo + hi);
    }
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

/* Max-tournament tree over gain[]: tree[1] is the index of the largest gain, ties to the
 * lower index. Leaf j sits at tree[leaves + j]; padding leaves point at index 0. */
static void tree_update(uint32_t *tree, size_t leaves, const double *gain, size_t j)
{
    size_t n = leaves + j;
    tree[n] = (uint32_t)j;
    for (n /= 2; n >= 1; n /= 2) {
        uint32_t a = tree[2 * n], b = tree[2 * n + 1];
        tree[n] = gain[a] >= gain[b] ? a : b;
    }
}

static void tree_build(uint32_t *tree, size_t leaves, const double *gain, size_t p)
{
    for (size_t j = 0; j < leaves; ++j) tree[leaves + j] = j < p ? (uint32_t)j : 0;
    for (size_t n = leaves - 1; n >= 1; --n) {
        uint32_t a = tree[2 * n], b = tree[2 * n + 1];
        tree[n] = gain[a] >= gain[b] ? a : b;
    }
}

/* SSMP with explicit caps on the number of updates and the 1%-progress window. */
static void decode_ssmp_capped(CbSketchDecoder *d, const double *y, double resid_tol, double *x,
                               int *converged, size_t max_updates, size_t window)
{
    const CbSketchMat *A = d->A;
    size_t m = A->m, p = A->p;
    double y1 = 0;
    for (size_t i = 0; i < m; ++i) d->r[i] = y[i], y1 += fabs(y[i]);
    memset(x, 0, p * sizeof *x);
    *converged = 1;
    if (y1 == 0) return;
    /* Padding leaves point at column 0, which is harmless: they carry column 0's gain. */
    for (size_t j = 0; j < p; ++j) ssmp_refresh(d, j);
    tree_build(d->tree, d->leaves, d->gain, p);
    double r1 = y1, stop = resid_tol * y1;
    /* A successful decode needs about as many updates as x has nonzeros (< m); greedy
     * ℓ1 descent that has not converged after 3·m + 64 updates, or that lowered ‖r‖₁ by
     * less than 1% over the last m/4 + 16 updates, is zig-zagging in a valley it cannot
     * leave: stop and report non-convergence. (Caps of 8·m and m showed the same success
     * counts on 40 draws at p = 200 and 784, near the SSMP threshold.) */
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
                tree_update(d->tree, d->leaves, d->gain, c);
            }
    }
    r1 = 0; /* exact residual: the running value drifts by rounding */
    for (size_t i = 0; i < m; ++i) r1 += fabs(d->r[i]);
    *converged = r1 <= stop;
}

static void decode_ssmp(CbSketchDecoder *d, const double *y, double resid_tol, double *x,
                        int *converged)
{
    size_t m = d->A->m;
    decode_ssmp_capped(d, y, resid_tol, x, converged, 3 * m + 64, m / 4 + 16);
}

CbStatus cb_sketch_decode(CbSketchDecoder *d, const double *y, double resid_tol, double *x,
                          int *converged)
{
    if (d->solver != CB_SKETCH_LP) decode_ssmp(d, y, resid_tol, x, converged);
    if (d->solver == CB_SKETCH_LP || (d->solver == CB_SKETCH_HYBRID && !*converged))
        decode_lp(d, y, x, converged);
    return CB_OK;
}

/* ===================== joint decoding over vec(X) ========================== */
/*
 * Eq. (1) itself, not its separable relaxation: with row-major vec, Y = A X Bᵀ reads
 *     vec(Y) = (A ⊗ B) vec(X),   Y_ab = Σ_ij A_ai X_ij B_bj,
 * so unknown x_(i,j) (index i·p₂ + j) touches the δ_A·δ_B cells N_A(i) × N_B(j) of Y, and
 * cell (a, b) sums the unknowns A⁻¹(a) × B⁻¹(b) (the row lists of A and B). A ⊗ B is
 * itself column-regular with δ_A·δ_B ones per column (rows m₁·m₂, columns p₁·p₂).
 * cb_sketch_mat_kron forms it for the joint LP and for tests; the joint SSMP below never
 * does: it walks N_A × N_B and A⁻¹ × B⁻¹ from A's and B's own lists.
 * A ⊗ B is a weak expander: X_ij and X_ij' (same row) share δ_A·|N_B(j) ∩ N_B(j')| cells,
 * so B-columns sharing more than δ_B/2 rows make both median steps take X_ij + X_ij',
 * after which no single-coordinate move lowers ‖r‖₁ (SSMP stalls; the LP does not).
 * Same-row/column pairs number ~p·j², so the joint SSMP wants δ ≳ 7 (docs/sketching.md).
 */

CbStatus cb_sketch_mat_kron(const CbSketchMat *A, const CbSketchMat *B, CbSketchMat *K)
{
    memset(K, 0, sizeof *K);
    size_t m = A->m * B->m, p = A->p * B->p, dl = A->delta * B->delta;
    if (m > UINT32_MAX || p > UINT32_MAX || p * dl / dl != p || p * dl > ((size_t)1 << 31)) {
        CbStatus st = CB_ERR(CB_EINVAL, "sketch: A (x) B would be %zu x %zu with %zu ones per "
                             "column (limit 2^31 ones)", m, p, dl);
        cb_err_hint("the explicit Kronecker product (joint-lp) is for small layers; use the "
                    "joint solver, which never forms it");
        return st;
    }
    K->m = m, K->p = p, K->delta = dl;
    K->nbr = cb_malloc(p * dl * sizeof *K->nbr);
    size_t m2 = B->m, p2 = B->p, da = A->delta, db = B->delta;
    for (size_t i = 0; i < A->p; ++i)
        for (size_t j = 0; j < p2; ++j) {
            uint32_t *c = K->nbr + (i * p2 + j) * dl; /* a-major: ascending a·m₂ + b */
            for (size_t s = 0; s < da; ++s)
                for (size_t t = 0; t < db; ++t)
                    c[s * db + t] = A->nbr[i * da + s] * (uint32_t)m2 + B->nbr[j * db + t];
        }
    K->row_ptr = cb_malloc((m + 1) * sizeof *K->row_ptr);
    K->row_col = cb_malloc(p * dl * sizeof *K->row_col);
    size_t e = 0; /* row (a, b): columns i·p₂ + j over A⁻¹(a) × B⁻¹(b), ascending */
    for (size_t a = 0; a < A->m; ++a)
        for (size_t b = 0; b < m2; ++b) {
            K->row_ptr[a * m2 + b] = e;
            for (size_t u = A->row_ptr[a]; u < A->row_ptr[a + 1]; ++u)
                for (size_t v = B->row_ptr[b]; v < B->row_ptr[b + 1]; ++v)
                    K->row_col[e++] = A->row_col[u] * (uint32_t)p2 + B->row_col[v];
        }
    K->row_ptr[m] = e;
    return CB_OK;
}

#define JOINT_MAX_UPDATES(M) ((M) + 64)
#define JOINT_WINDOW(M) ((M) / 16 + 16)

struct CbSketchJoint {
    const CbSketchMat *A, *B;
    size_t n;            /* p₁·p₂ unknowns, x index i·p₂ + j                         */
    double *r;           /* (m₁, m₂) residual vec(Y) − (A ⊗ B) x, row-major            */
    double *gain, *step; /* (n) best decrease of ‖r‖₁ and its median update           */
    uint32_t *tree;      /* (2 * leaves) max-tournament tree over gain                */
    size_t leaves;
    uint32_t *mark_a, *mark_b, epoch; /* (p₁), (p₂): dedupe of the rows / columns to refresh */
    uint32_t *list_a, *list_b;        /* (p₁), (p₂): those rows / columns                    */
    double *buf;         /* (δ_A·δ_B) median scratch                                   */
};

CbStatus cb_sketch_joint_alloc(const CbSketchMat *A, const CbSketchMat *B, CbSketchJoint **out)
{
    *out = NULL;
    size_t n = A->p * B->p;
    if (n / B->p != A->p || n > ((size_t)1 << 31) || A->m * B->m > UINT32_MAX) {
        CbStatus st = CB_ERR(CB_EINVAL, "sketch joint: %zu x %zu unknowns (limit 2^31) or a "
                             "%zu x %zu sketch is too large", A->p, B->p, A->m, B->m);
        cb_err_hint("the joint decoder keeps a gain per entry of X; sketch a smaller layer");
        return st;
    }
    CbSketchJoint *J = cb_calloc(1, sizeof *J);
    J->A = A, J->B = B, J->n = n;
    J->r = cb_malloc(A->m * B->m * sizeof *J->r);
    J->gain = cb_malloc(n * sizeof *J->gain);
    J->step = cb_malloc(n * sizeof *J->step);
    J->leaves = 1;
    while (J->leaves < n) J->leaves *= 2;
    J->tree = cb_malloc(2 * J->leaves * sizeof *J->tree);
    J->mark_a = cb_calloc(A->p, sizeof *J->mark_a);
    J->mark_b = cb_calloc(B->p, sizeof *J->mark_b);
    J->list_a = cb_malloc(A->p * sizeof *J->list_a);
    J->list_b = cb_malloc(B->p * sizeof *J->list_b);
    J->buf = cb_malloc(A->delta * B->delta * sizeof *J->buf);
    *out = J;
    return CB_OK;
}

void cb_sketch_joint_free(CbSketchJoint *J)
{
    if (!J) return;
    free(J->r);
    free(J->gain);
    free(J->step);
    free(J->tree);
    free(J->mark_a);
    free(J->mark_b);
    free(J->list_a);
    free(J->list_b);
    free(J->buf);
    free(J);
}

/* Median update and gain of unknown (i, j) over its cells N_A(i) × N_B(j), visited
 * a-major like the columns of cb_sketch_mat_kron (same sums, bit for bit). When more
 * than half of the cells are 0 the median is 0 and so is the gain: skip the selection. */
static void joint_refresh(CbSketchJoint *J, size_t i, size_t j)
{
    const CbSketchMat *A = J->A, *B = J->B;
    size_t da = A->delta, db = B->delta, m2 = B->m, D = da * db, k = 0, nz = 0;
    const uint32_t *na = A->nbr + i * da, *nb = B->nbr + j * db;
    double before = 0, after = 0;
    for (size_t s = 0; s < da; ++s) {
        const double *rr = J->r + (size_t)na[s] * m2;
        for (size_t t = 0; t < db; ++t) {
            double v = rr[nb[t]];
            J->buf[k++] = v;
            before += fabs(v);
            nz += v != 0;
        }
    }
    size_t x = i * B->p + j;
    if (2 * nz < D) { /* zeros > D/2: median 0, gain 0 */
        J->step[x] = 0, J->gain[x] = 0;
        return;
    }
    double md = median(J->buf, D);
    for (size_t s = 0; s < da; ++s) {
        const double *rr = J->r + (size_t)na[s] * m2;
        for (size_t t = 0; t < db; ++t) after += fabs(rr[nb[t]] - md);
    }
    J->step[x] = md;
    J->gain[x] = before - after;
}

CbStatus cb_sketch_joint_decode(CbSketchJoint *J, const double *Y, double resid_tol,
                                double *Xhat, int *converged)
{
    const CbSketchMat *A = J->A, *B = J->B;
    size_t M = A->m * B->m, p1 = A->p, p2 = B->p, da = A->delta, db = B->delta;
    double y1 = 0;
    for (size_t c = 0; c < M; ++c) J->r[c] = Y[c], y1 += fabs(Y[c]);
    memset(Xhat, 0, J->n * sizeof *Xhat);
    *converged = 1;
    if (y1 == 0) return CB_OK;
    for (size_t i = 0; i < p1; ++i)
        for (size_t j = 0; j < p2; ++j) joint_refresh(J, i, j);
    tree_build(J->tree, J->leaves, J->gain, J->n);
    double r1 = y1, stop = resid_tol * y1;
    /* Stopping rules as in decode_ssmp, scaled to the work here: a successful decode
     * takes ~1.5·nnz(X) updates (measured: 12,178 for nnz 8,140 at 400², m = 400), and
     * an update costs ~δ⁴p₁p₂/(m₁m₂) refreshes, so a draw that is failing must be
     * abandoned sooner: at most M + 64 updates, and ‖r‖₁ must fall by 1% every
     * M/16 + 16. tests/test_sketch.c checks these steps bit for bit against
     * cb_sketch_joint_decode_ref (the vector SSMP on the explicit A ⊗ B). */
    size_t max_updates = JOINT_MAX_UPDATES(M), window = JOINT_WINDOW(M);
    double r1_mark = r1;
    for (size_t it = 0; it < max_updates && r1 > stop; ++it) {
        if (it % window == window - 1) {
            if (r1 > 0.99 * r1_mark) break;
            r1_mark = r1;
        }
        size_t x = J->tree[1];
        if (!(J->gain[x] > 1e-15 * y1)) break; /* no entry lowers the residual */
        double s = J->step[x];
        size_t i = x / p2, j = x % p2;
        Xhat[x] += s;
        r1 -= J->gain[x];
        /* The cells N_A(i) × N_B(j) change; the unknowns that read them are
         * (∪_a A⁻¹(a)) × (∪_b B⁻¹(b)) over a ∈ N_A(i), b ∈ N_B(j) — a product set, so
         * it is deduplicated per side. */
        const uint32_t *na = A->nbr + i * da, *nb = B->nbr + j * db;
        for (size_t u = 0; u < da; ++u)
            for (size_t v = 0; v < db; ++v) J->r[(size_t)na[u] * B->m + nb[v]] -= s;
        if (++J->epoch == 0) {
            memset(J->mark_a, 0, p1 * sizeof *J->mark_a);
            memset(J->mark_b, 0, p2 * sizeof *J->mark_b);
            J->epoch = 1;
        }
        size_t ka = 0, kb = 0;
        for (size_t u = 0; u < da; ++u)
            for (size_t e = A->row_ptr[na[u]]; e < A->row_ptr[na[u] + 1]; ++e)
                if (J->mark_a[A->row_col[e]] != J->epoch)
                    J->mark_a[A->row_col[e]] = J->epoch, J->list_a[ka++] = A->row_col[e];
        for (size_t v = 0; v < db; ++v)
            for (size_t e = B->row_ptr[nb[v]]; e < B->row_ptr[nb[v] + 1]; ++e)
                if (J->mark_b[B->row_col[e]] != J->epoch)
                    J->mark_b[B->row_col[e]] = J->epoch, J->list_b[kb++] = B->row_col[e];
        for (size_t u = 0; u < ka; ++u)
            for (size_t v = 0; v < kb; ++v) {
                size_t y = (size_t)J->list_a[u] * p2 + J->list_b[v];
                double g = J->gain[y];
                joint_refresh(J, J->list_a[u], J->list_b[v]);
                /* The tree compares gains only: an unchanged gain (mostly 0 -> 0) leaves
                 * it valid. y = x changes (its gain was the maximum). */
                if (J->gain[y] != g || y == x) tree_update(J->tree, J->leaves, J->gain, y);
            }
    }
    r1 = 0; /* exact residual: the running value drifts by rounding */
    for (size_t c = 0; c < M; ++c) r1 += fabs(J->r[c]);
    *converged = r1 <= stop;
    return CB_OK;
}

CbStatus cb_sketch_joint_decode_ref(const CbSketchMat *A, const CbSketchMat *B, const double *Y,
                                    double resid_tol, double *Xhat, int *converged)
{
    CbSketchMat K;
    CB_TRY(cb_sketch_mat_kron(A, B, &K));
    CbSketchDecoder *d;
    CbStatus st = cb_sketch_decoder_alloc(&K, CB_SKETCH_SSMP, &d);
    if (st == CB_OK) {
        decode_ssmp_capped(d, Y, resid_tol, Xhat, converged, JOINT_MAX_UPDATES(K.m),
                           JOINT_WINDOW(K.m));
        cb_sketch_decoder_free(d);
    }
    cb_sketch_mat_free(&K);
    return st;
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

/* Joint recovery: the joint SSMP on the implicit A ⊗ B, or GLPK on the explicit one
 * (vec(Y) and vec(X̂) are Y and X̂ themselves: row-major). */
static CbStatus recover_joint(const CbSketchMat *A, const CbSketchMat *B, const double *Y,
                              const CbSketchParams *prm, double t0, double *Xhat,
                              CbSketchReport *rep)
{
    int ok = 0;
    if (prm->solver == CB_SKETCH_JOINT) {
        CbSketchJoint *J;
        CB_TRY(cb_sketch_joint_alloc(A, B, &J));
        cb_sketch_joint_decode(J, Y, prm->resid_tol, Xhat, &ok);
        cb_sketch_joint_free(J);
    } else {
        /* GLPK keeps ~50 bytes per constraint-matrix element; the LP has 2·p₁p₂·δ_Aδ_B of
         * them (u and v). Past 2^24 ones in A ⊗ B (~1.7 GB) refuse rather than swap. */
        size_t ones = A->p * B->p * A->delta * B->delta;
        if (ones > ((size_t)1 << 24)) {
            CbStatus st = CB_ERR(CB_EINVAL, "sketch joint-lp: A (x) B has %zu ones (%zu x %zu "
                                 "unknowns, delta %zu x %zu); the limit is 2^24 (GLPK ~1.7 GB)",
                                 ones, A->p, B->p, A->delta, B->delta);
            cb_err_hint("joint-lp is the exact reference for small layers; use the joint solver "
                        "or lower --delta-a/--delta-b");
            return st;
        }
        CbSketchMat K;
        CB_TRY(cb_sketch_mat_kron(A, B, &K));
        CbSketchDecoder *d;
        CbStatus st = cb_sketch_decoder_alloc(&K, CB_SKETCH_LP, &d);
        if (st != CB_OK) {
            cb_sketch_mat_free(&K);
            return st;
        }
        d->deadline = prm->time_limit > 0 ? t0 + prm->time_limit : 0;
        cb_sketch_decode(d, Y, prm->resid_tol, Xhat, &ok);
        rep->timed_out = d->timed_out;
        cb_sketch_decoder_free(d);
        cb_sketch_mat_free(&K);
    }
    rep->unconverged = !ok;
    if (rep->timed_out) /* X̂ is unfinished: verification must not pass */
        for (size_t e = 0; e < A->p * B->p; ++e) Xhat[e] = NAN;
    rep->recover_s = now_s() - t0;
    return CB_OK;
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
    rep->timed_out = 0;
    if (prm->solver == CB_SKETCH_JOINT || prm->solver == CB_SKETCH_JOINT_LP)
        return recover_joint(A, B, Y, prm, t0, Xhat, rep);
    CbSketchDecoder *da = NULL, *db = NULL;
    CbStatus st = cb_sketch_decoder_alloc(A, prm->solver, &da);
    if (st == CB_OK) st = cb_sketch_decoder_alloc(B, prm->solver, &db);
    if (st != CB_OK) {
        cb_sketch_decoder_free(da);
        return st;
    }
    double deadline = prm->time_limit > 0 ? t0 + prm->time_limit : 0; /* the LP's cap */
    da->deadline = db->deadline = deadline;
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
    int ok, late = 0;
    /* Stage 1: column k of Y = A · (column k of Z). */
    for (size_t k = 0; k < m2 && !late && !(prm->fail_fast && bad + wrong); ++k) {
        for (size_t i = 0; i < m1; ++i) y[i] = Y[i * m2 + k];
        cb_sketch_decode(da, y, prm->resid_tol, z, &ok);
        bad += !ok;
        late = da->timed_out; /* decode_lp checks the deadline */
        for (size_t i = 0; i < p1; ++i) {
            Z[i * m2 + k] = z[i];
            if (Zt && !(fabs(z[i] - Zt[i * m2 + k]) <= prm->tol * zmax)) wrong = 1;
        }
    }
    /* Stage 2: row i of Z = B · (row i of X). */
    for (size_t i = 0; i < p1 && !late && !(prm->fail_fast && bad + wrong); ++i) {
        double *xr = Xhat + i * p2;
        cb_sketch_decode(db, Z + i * m2, prm->resid_tol, xr, &ok);
        bad += !ok;
        late = db->timed_out;
        if (Zt) { /* compare row i with the truth's row i */
            size_t e = truth->row_ptr[i], end = truth->row_ptr[i + 1];
            for (size_t j = 0; j < p2; ++j) {
                double tv = e < end && truth->col[e] == j ? truth->val[e++] : 0;
                if (!(fabs(xr[j] - tv) <= prm->tol * xmax)) wrong = 1;
            }
        }
    }
    rep->timed_out = late;
    if (late || (prm->fail_fast && bad + wrong)) /* X̂ is incomplete: verification must not pass */
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
    /* δ = O(log p) (Theorem 5.1); ⌈ln p⌉, at least 2. Measured alternatives: docs/sketching.md. */
    double l = ceil(log((double)(p > 1 ? p : 2)));
    return l < 2 ? 2 : (size_t)l;
}

void cb_sketch_params_default(CbSketchParams *prm)
{
    memset(prm, 0, sizeof *prm);
    prm->solver = CB_SKETCH_JOINT;
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
    rep->success = !rep->timed_out && rep->err_rel <= prm->tol;
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
