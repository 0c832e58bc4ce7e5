/*
 * Tests for lowrank (003): truncated SVD against Eckart–Young; the data-driven
 * closed form against (a) alternating least squares on the factorization P Qᵀ,
 * (b) random rank-r candidates, (c) the Eckart–Young bound, with all three
 * solvers (Gram, SVD, ScaLAPACK at 1, 2, 4 ranks) agreeing; the rank curves
 * against direct evaluation; singular value thresholding against a matrix
 * built from known singular vectors; FISTA against the closed-form solution for
 * an orthogonal design and the prox fixed-point condition; the planted
 * recovery's regimes; every error path.
 * cbound-test: ranks 1 2 4
 */
#include "cbound/lowrank.h"
#include "cbound/mlp.h"
#include "cbound/model.h"
#include "cbound/task.h"
#include "cbound/rng.h"
#include "cbound/scalapack.h"
#include "check.h"
#include "helpers.h"

#include <lapacke.h>
#include <string.h>

static void gauss(double *a, size_t n, uint32_t index)
{
    CbStream s = cb_rng_stream(2385, 303, CB_RNG_TEST, index);
    for (size_t i = 0; i < n; ++i) a[i] = cb_rng_normal(&s);
}

static double maxdiff(const double *a, const double *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; ++i) d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

static double fro(const double *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += a[i] * a[i];
    return sqrt(s);
}

/* numerical rank: singular values above 1e-10 · largest */
static size_t num_rank(const double *a, size_t m, size_t n)
{
    size_t k = m < n ? m : n, r = 0;
    double *c = malloc(m * n * sizeof *c), *s = malloc(k * sizeof *s);
    memcpy(c, a, m * n * sizeof *c);
    LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (int)m, (int)n, c, (int)n, s, NULL, (int)m, NULL, (int)n);
    for (size_t i = 0; i < k; ++i) r += s[i] > 1e-10 * s[0];
    free(c);
    free(s);
    return r;
}

/* Solve the small SPD system A x = b (n x n) for several right-hand sides in place (rows of B (nr, n)). */
static void spd_solve_rows(double *A, size_t n, double *B, size_t nr)
{
    LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (int)n, (int)nr, A, (int)n, B, (int)nr);
}

int main(int argc, char **argv)
{
    int rank, size;
    helper_mpi_begin(&argc, &argv, &rank, &size);

    enum { m = 9, n = 14, ns = 23, r = 3 };
    double W[m * n], X[ns * n], What[m * n], Wsvd[m * n];
    gauss(W, m * n, 1);
    gauss(X, ns * n, 2);
    /* Correlated inputs (so data-driven and SVD differ): scale input coordinate j by 1.6^-j. */
    for (size_t i = 0; i < ns; ++i)
        for (size_t j = 0; j < n; ++j) X[i * n + j] *= pow(1.6, -(double)j);

    /* Truncated SVD: rank r and Eckart–Young error. */
    {
        double sv[m];
        CHECK(cb_lowrank_svd(W, m, n, r, Wsvd, sv) == CB_OK, "truncated SVD");
        double d[m * n], tail = 0;
        for (size_t i = 0; i < m * n; ++i) d[i] = W[i] - Wsvd[i];
        for (size_t i = r; i < m; ++i) tail += sv[i] * sv[i];
        CHECK(num_rank(Wsvd, m, n) == r && fabs(fro(d, m * n) - sqrt(tail)) < 1e-12,
              "SVD: rank %zu, ||W - W_r||_F = (sum of tail sigma^2)^1/2 (%.12g)", num_rank(Wsvd, m, n), sqrt(tail));
        double W0[m * n], Wfull[m * n];
        cb_lowrank_svd(W, m, n, 0, W0, NULL);
        cb_lowrank_svd(W, m, n, 50, Wfull, NULL);
        CHECK(fro(W0, m * n) == 0 && maxdiff(Wfull, W, m * n) < 1e-13, "SVD: r = 0 gives 0, r >= min(m,n) gives W");
        double Wd[m * n], svd_d[m];
        CbStatus st = cb_lowrank_svd_dist(rank == 0 ? W : NULL, m, n, r, MPI_COMM_WORLD, Wd, svd_d);
        CHECK(st == CB_OK && maxdiff(Wd, Wsvd, m * n) < 1e-12 && maxdiff(svd_d, sv, m) < 1e-12,
              "truncated SVD by pdgesvd on %d rank(s) = LAPACK (%.3g)", size, maxdiff(Wd, Wsvd, m * n));
        CHECK(cb_lowrank_svd_dist(W, 0, n, r, MPI_COMM_WORLD, Wd, NULL) == CB_EINVAL, "distributed SVD rejects an empty matrix");
        CHECK(cb_lowrank_svd_dist(W, (size_t)1 << 20, (size_t)1 << 12, r, MPI_COMM_WORLD, Wd, NULL) == CB_EINVAL,
              "distributed SVD rejects a layer beyond MPI's int counts: %s", cb_err_msg());
    }

    /* Data-driven closed form. */
    double sv_data[m];
    {
        CHECK(cb_lowrank_data(W, m, n, X, ns, r, CB_LOWRANK_SVD, MPI_COMM_SELF, What, sv_data) == CB_OK,
              "data-driven (SVD solver)");
        double e = cb_lowrank_preact_err(W, What, m, n, X, ns), tail = 0;
        for (size_t i = r; i < m; ++i) tail += sv_data[i] * sv_data[i];
        CHECK(num_rank(What, m, n) == r && fabs(e - sqrt(tail)) < 1e-12 * sqrt(tail) + 1e-14,
              "data: rank %zu and error %.12g attains the Eckart-Young bound %.12g of W X^T", num_rank(What, m, n), e,
              sqrt(tail));
        double e_svd = cb_lowrank_preact_err(W, Wsvd, m, n, X, ns);
        CHECK(e < e_svd * 0.95, "data-driven pre-activation error %.6g < truncated SVD's %.6g on correlated inputs", e,
              e_svd);

        double Wg[m * n];
        cb_lowrank_data(W, m, n, X, ns, r, CB_LOWRANK_GRAM, MPI_COMM_SELF, Wg, NULL);
        CHECK(maxdiff(Wg, What, m * n) < 1e-9, "Gram solver = SVD solver (max diff %.3g)", maxdiff(Wg, What, m * n));

        /* No rank-r candidate does better: 100 random P Qᵀ with Gaussian factors, and 100
         * near-optimal ones (I + εE₁) Ŵ (I + εE₂), which keep rank <= r. */
        CbStream s = cb_rng_stream(5, 6, CB_RNG_TEST, 7);
        int beaten = 0;
        double P[m * r], Q[n * r], C[m * n], E1[m * m], E2[n * n], T[m * n];
        for (int t = 0; t < 200; ++t) {
            if (t < 100) {
                for (size_t i = 0; i < m * r; ++i) P[i] = cb_rng_normal(&s);
                for (size_t i = 0; i < n * r; ++i) Q[i] = cb_rng_normal(&s);
                for (size_t i = 0; i < m; ++i)
                    for (size_t j = 0; j < n; ++j) {
                        double v = 0;
                        for (size_t k = 0; k < r; ++k) v += P[i * r + k] * Q[j * r + k];
                        C[i * n + j] = v;
                    }
            } else {
                for (size_t i = 0; i < m * m; ++i) E1[i] = (i % (m + 1) == 0) + 1e-3 * cb_rng_normal(&s);
                for (size_t i = 0; i < n * n; ++i) E2[i] = (i % (n + 1) == 0) + 1e-3 * cb_rng_normal(&s);
                for (size_t i = 0; i < m; ++i)
                    for (size_t j = 0; j < n; ++j) {
                        double v = 0;
                        for (size_t k = 0; k < m; ++k) v += E1[i * m + k] * What[k * n + j];
                        T[i * n + j] = v;
                    }
                for (size_t i = 0; i < m; ++i)
                    for (size_t j = 0; j < n; ++j) {
                        double v = 0;
                        for (size_t k = 0; k < n; ++k) v += T[i * n + k] * E2[k * n + j];
                        C[i * n + j] = v;
                    }
            }
            beaten += cb_lowrank_preact_err(W, C, m, n, X, ns) < e;
        }
        CHECK(beaten == 0, "200 random rank-%d candidates never beat the closed form", r);

        /* Alternating least squares on Ŵ = P Qᵀ minimizing ||(W − P Qᵀ) Xᵀ||_F: an
         * independent optimizer; it must converge to the same error, never below. */
        double Yt[m * ns]; /* W Xᵀ (m, ns) */
        for (size_t i = 0; i < m; ++i)
            for (size_t k = 0; k < ns; ++k) {
                double v = 0;
                for (size_t j = 0; j < n; ++j) v += W[i * n + j] * X[k * n + j];
                Yt[i * ns + k] = v;
            }
        for (size_t i = 0; i < n * r; ++i) Q[i] = cb_rng_normal(&s);
        double Cx[ns * r], G[r * r], R[m * r], best = INFINITY;
        for (int it = 0; it < 400; ++it) {
            /* P-step: P = Yt (X Q) ((X Q)ᵀ(X Q))⁻¹ */
            for (size_t k = 0; k < ns; ++k)
                for (size_t c = 0; c < r; ++c) {
                    double v = 0;
                    for (size_t j = 0; j < n; ++j) v += X[k * n + j] * Q[j * r + c];
                    Cx[k * r + c] = v;
                }
            for (size_t a = 0; a < r; ++a)
                for (size_t b = 0; b < r; ++b) {
                    double v = 0;
                    for (size_t k = 0; k < ns; ++k) v += Cx[k * r + a] * Cx[k * r + b];
                    G[a * r + b] = v;
                }
            for (size_t i = 0; i < m; ++i)
                for (size_t c = 0; c < r; ++c) {
                    double v = 0;
                    for (size_t k = 0; k < ns; ++k) v += Yt[i * ns + k] * Cx[k * r + c];
                    R[i * r + c] = v;
                }
            /* P Gᵀ = R  <=>  G Pᵀ = Rᵀ: solve for each row of P (G symmetric) */
            double Pt[r * m];
            for (size_t i = 0; i < m; ++i)
                for (size_t c = 0; c < r; ++c) Pt[c * m + i] = R[i * r + c];
            spd_solve_rows(G, r, Pt, m);
            for (size_t i = 0; i < m; ++i)
                for (size_t c = 0; c < r; ++c) P[i * r + c] = Pt[c * m + i];
            /* Q-step: min ||Yt − P Qᵀ Xᵀ||: orthonormalize P's columns away by the normal
             * equations (PᵀP) Qᵀ (XᵀX) = Pᵀ Yt X, solved as two SPD systems. */
            double PtP[r * r], PY[r * n], XtX[n * n];
            for (size_t a = 0; a < r; ++a)
                for (size_t b = 0; b < r; ++b) {
                    double v = 0;
                    for (size_t i = 0; i < m; ++i) v += P[i * r + a] * P[i * r + b];
                    PtP[a * r + b] = v;
                }
            for (size_t a = 0; a < r; ++a)
                for (size_t j = 0; j < n; ++j) {
                    double v = 0;
                    for (size_t i = 0; i < m; ++i)
                        for (size_t k = 0; k < ns; ++k) v += P[i * r + a] * Yt[i * ns + k] * X[k * n + j];
                    PY[a * n + j] = v;
                }
            for (size_t a = 0; a < n; ++a)
                for (size_t b = 0; b < n; ++b) {
                    double v = 0;
                    for (size_t k = 0; k < ns; ++k) v += X[k * n + a] * X[k * n + b];
                    XtX[a * n + b] = v;
                }
            /* Z = PtP⁻¹ PY (r, n), then Qᵀ = Z XtX⁻¹, i.e. XtX Q = Zᵀ. */
            double Zt[n * r];
            spd_solve_rows(PtP, r, PY, n); /* PY <- PtP⁻¹ PY  (r, n) */
            for (size_t j = 0; j < n; ++j)
                for (size_t a = 0; a < r; ++a) Zt[j * r + a] = PY[a * n + j];
            spd_solve_rows(XtX, n, Zt, r);
            memcpy(Q, Zt, sizeof Q);
            for (size_t i = 0; i < m; ++i)
                for (size_t j = 0; j < n; ++j) {
                    double v = 0;
                    for (size_t k = 0; k < r; ++k) v += P[i * r + k] * Q[j * r + k];
                    C[i * n + j] = v;
                }
            best = cb_lowrank_preact_err(W, C, m, n, X, ns);
        }
        CHECK(best >= e * (1 - 1e-12) && best - e < 1e-8 * e,
              "alternating least squares on P Q^T converges to the closed form's error (%.12g vs %.12g)", best, e);

        /* ScaLAPACK solver over all ranks agrees with LAPACK. */
        double Ws[m * n], svs[m];
        /* W and X live on rank 0 only */
        CbStatus st = cb_lowrank_data(rank == 0 ? W : NULL, m, n, rank == 0 ? X : NULL, ns, r, CB_LOWRANK_SCALAPACK,
                                      MPI_COMM_WORLD, Ws, svs);
        double dW = maxdiff(Ws, What, m * n), ds = maxdiff(svs, sv_data, m);
        CHECK(st == CB_OK && dW < 1e-10 && ds < 1e-12 * sv_data[0],
              "distributed Gram + pdsyevd on %d rank(s) = LAPACK: What %.3g, singular values %.3g", size, dW, ds);
        st = cb_lowrank_data(rank == 0 ? W : NULL, m, n, rank == 0 ? X : NULL, ns, r, CB_LOWRANK_SCALAPACK_SVD,
                             MPI_COMM_WORLD, Ws, svs);
        dW = maxdiff(Ws, What, m * n);
        ds = maxdiff(svs, sv_data, m);
        CHECK(st == CB_OK && dW < 1e-10 && ds < 1e-12 * sv_data[0],
              "pdgesvd of W X^T on %d rank(s) = LAPACK: What %.3g, singular values %.3g", size, dW, ds);
        /* fewer samples than ranks: some ranks hold no rows */
        double Wf[m * n], Wfl[m * n];
        st = cb_lowrank_data(W, m, n, X, 3, 2, CB_LOWRANK_SCALAPACK, MPI_COMM_WORLD, Wf, NULL);
        cb_lowrank_data(W, m, n, X, 3, 2, CB_LOWRANK_SVD, MPI_COMM_SELF, Wfl, NULL);
        CHECK(st == CB_OK && maxdiff(Wf, Wfl, m * n) < 1e-10, "distributed Gram with 3 samples on %d rank(s) (%.3g)",
              size, maxdiff(Wf, Wfl, m * n));
        CHECK(cb_lowrank_data(W, m, n, NULL, (size_t)1 << 31, 2, CB_LOWRANK_SCALAPACK, MPI_COMM_WORLD, Wf, NULL) ==
                      CB_EINVAL && strstr(cb_err_hint_msg(), "fewer samples"),
              "inputs beyond MPI's int counts rejected on every rank: %s", cb_err_msg());
    }

    /* Least squares and reduced-rank regression. */
    {
        enum { q = 30, d = 6, o = 5 };
        double Xl[q * d], T[q * o], Wl[o * d];
        gauss(Xl, q * d, 60);
        gauss(T, q * o, 61);
        size_t rk = 0;
        CHECK(cb_lowrank_lstsq(T, o, Xl, q, d, 1e-12, Wl, &rk) == CB_OK && rk == d, "lstsq on full-rank inputs");
        /* normal equations: Xᵀ(T − X Wᵀ) = 0 */
        double worst = 0;
        for (size_t j = 0; j < d; ++j)
            for (size_t c = 0; c < o; ++c) {
                double v = 0;
                for (size_t i = 0; i < q; ++i) {
                    double rres = T[i * o + c];
                    for (size_t k = 0; k < d; ++k) rres -= Xl[i * d + k] * Wl[c * d + k];
                    v += Xl[i * d + j] * rres;
                }
                worst = fmax(worst, fabs(v));
            }
        CHECK(worst < 1e-12, "lstsq residual is orthogonal to the inputs (%.3g)", worst);
        /* rank-deficient inputs: column 5 = column 2; the minimum-norm solution splits evenly */
        for (size_t i = 0; i < q; ++i) Xl[i * d + 5] = Xl[i * d + 2];
        CHECK(cb_lowrank_lstsq(T, o, Xl, q, d, 1e-12, Wl, &rk) == CB_OK && rk == d - 1, "lstsq rank %zu (want 5)", rk);
        double split = 0;
        for (size_t c = 0; c < o; ++c) split = fmax(split, fabs(Wl[c * d + 2] - Wl[c * d + 5]));
        CHECK(split < 1e-12, "minimum-norm solution on duplicated inputs (%.3g)", split);
        /* RRR objective = sqrt(||T − PT||² + tail of σ(PT)²), P from a QR of X (independent of dgelsd) */
        gauss(Xl, q * d, 62);
        double Q[q * d], tau[d], PT[q * o], Wr[o * d];
        memcpy(Q, Xl, sizeof Q);
        LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, q, d, Q, d, tau);
        LAPACKE_dorgqr(LAPACK_ROW_MAJOR, q, d, d, Q, d, tau);
        for (size_t i = 0; i < q; ++i)
            for (size_t c = 0; c < o; ++c) {
                double v = 0;
                for (size_t k = 0; k < d; ++k) {
                    double qt = 0;
                    for (size_t j = 0; j < q; ++j) qt += Q[j * d + k] * T[j * o + c];
                    v += Q[i * d + k] * qt;
                }
                PT[i * o + c] = v;
            }
        double res2 = 0, sv[o], PTc[q * o];
        for (size_t i = 0; i < q * o; ++i) res2 += (T[i] - PT[i]) * (T[i] - PT[i]);
        memcpy(PTc, PT, sizeof PTc);
        LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', q, o, PTc, o, sv, NULL, q, NULL, o);
        for (size_t i = 2; i < o; ++i) res2 += sv[i] * sv[i];
        CHECK(cb_lowrank_rrr(T, o, Xl, q, d, 2, 1e-12, Wr) == CB_OK, "reduced-rank regression");
        double obj = 0;
        for (size_t i = 0; i < q; ++i)
            for (size_t c = 0; c < o; ++c) {
                double v = T[i * o + c];
                for (size_t k = 0; k < d; ++k) v -= Xl[i * d + k] * Wr[c * d + k];
                obj += v * v;
            }
        CHECK(fabs(sqrt(obj) - sqrt(res2)) < 1e-12 && num_rank(Wr, o, d) == 2,
              "RRR attains sqrt(||T - PT||^2 + sum_{i>r} sigma_i(PT)^2) = %.12g (got %.12g)", sqrt(res2), sqrt(obj));
        /* T = X Wᵀ with full-rank X: RRR = the data-driven closed form */
        double Td[ns * m], Wa[m * n];
        for (size_t i = 0; i < ns; ++i)
            for (size_t c = 0; c < m; ++c) {
                double v = 0;
                for (size_t k = 0; k < n; ++k) v += X[i * n + k] * W[c * n + k];
                Td[i * m + c] = v;
            }
        cb_lowrank_rrr(Td, m, X, ns, n, r, 1e-13, Wa);
        CHECK(maxdiff(Wa, What, m * n) < 1e-8, "RRR on T = X W^T equals the data closed form (%.3g)",
              maxdiff(Wa, What, m * n));
        CHECK(cb_lowrank_lstsq(T, 0, Xl, q, d, 1e-12, Wl, NULL) == CB_EINVAL, "lstsq rejects 0 targets: %s",
              cb_err_msg());
        CHECK(cb_lowrank_lstsq(T, o, Xl, q, d, 1, Wl, NULL) == CB_EINVAL, "lstsq rejects rcond 1");
        Xl[3] = NAN;
        CHECK(cb_lowrank_lstsq(T, o, Xl, q, d, 1e-12, Wl, NULL) == CB_ENUMERIC, "lstsq rejects NaN: %s", cb_err_msg());
        CHECK(cb_lowrank_rrr(T, o, Xl, q, d, 2, 1e-12, Wl) == CB_ENUMERIC, "RRR rejects NaN");
    }

    /* Rank curves = direct evaluation at every rank. */
    {
        double cd[m + 1], cs[m + 1], worst_d = 0, worst_s = 0;
        CHECK(cb_lowrank_curves(W, m, n, X, ns, cd, cs) == CB_OK, "curves computed");
        for (size_t rr = 0; rr <= m; ++rr) {
            double Wd[m * n], Wt[m * n];
            cb_lowrank_data(W, m, n, X, ns, rr, CB_LOWRANK_SVD, MPI_COMM_SELF, Wd, NULL);
            cb_lowrank_svd(W, m, n, rr, Wt, NULL);
            worst_d = fmax(worst_d, fabs(cd[rr] - cb_lowrank_preact_err(W, Wd, m, n, X, ns)));
            worst_s = fmax(worst_s, fabs(cs[rr] - cb_lowrank_preact_err(W, Wt, m, n, X, ns)));
        }
        CHECK(worst_d < 1e-11 && worst_s < 1e-11 && cd[m] < 1e-12 && cs[m] == 0,
              "rank curves (data %.3g, svd %.3g off) match direct errors at r = 0..%d", worst_d, worst_s, m);
        int below = 1;
        for (size_t rr = 0; rr <= m; ++rr) below &= cd[rr] <= cs[rr] * (1 + 1e-12) + 1e-13;
        CHECK(below, "data-driven curve lies below the SVD curve at every rank");
    }

    /* Singular value thresholding against known singular vectors. */
    {
        enum { a = 7, b = 5 };
        double Ua[a * a], Vb[b * b], tau[a], A[a * b], out[a * b], want[a * b];
        const double s[b] = {4.1, 2.385, 1.3, 0.7, 0.2};
        gauss(Ua, a * a, 20);
        gauss(Vb, b * b, 21);
        LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, a, a, Ua, a, tau);
        LAPACKE_dorgqr(LAPACK_ROW_MAJOR, a, a, a, Ua, a, tau);
        LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, b, b, Vb, b, tau);
        LAPACKE_dorgqr(LAPACK_ROW_MAJOR, b, b, b, Vb, b, tau);
        for (size_t i = 0; i < a; ++i)
            for (size_t j = 0; j < b; ++j) {
                A[i * b + j] = want[i * b + j] = 0;
                for (size_t k = 0; k < b; ++k) {
                    A[i * b + j] += Ua[i * a + k] * s[k] * Vb[j * b + k];
                    want[i * b + j] += Ua[i * a + k] * fmax(s[k] - 1.1, 0) * Vb[j * b + k];
                }
            }
        size_t kept = 0;
        CHECK(cb_lowrank_svt(A, a, b, 1.1, out, &kept) == CB_OK && kept == 3 && maxdiff(out, want, a * b) < 1e-13,
              "SVT(tau = 1.1) shrinks singular values 4.1, 2.385, 1.3, 0.7, 0.2 to 3, 1.285, 0.2 (kept %zu, err %.3g)",
              kept, maxdiff(out, want, a * b));
        CHECK(cb_lowrank_svt(A, a, b, 10, out, &kept) == CB_OK && kept == 0 && fro(out, a * b) == 0,
              "SVT above the largest singular value gives 0");
        CHECK(cb_lowrank_svt(A, a, b, -1, out, NULL) == CB_EINVAL, "SVT rejects tau < 0: %s", cb_err_msg());
        CHECK(cb_lowrank_svt(A, 0, b, 1, out, NULL) == CB_EINVAL, "SVT rejects an empty matrix");
    }

    /* FISTA: orthogonal design (XᵀX/ns = I) has the closed-form solution SVT(B, λ). */
    {
        enum { q = 40, d = 6, o = 4 };
        double Xo[q * d], tau[d], Yo[q * o];
        gauss(Xo, q * d, 30);
        gauss(Yo, q * o, 31);
        LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, q, d, Xo, d, tau);
        LAPACKE_dorgqr(LAPACK_ROW_MAJOR, q, d, d, Xo, d, tau);
        for (size_t i = 0; i < q * d; ++i) Xo[i] *= sqrt((double)q);
        CbLowrankProx p;
        const double lam = 0.31;
        CHECK(cb_lowrank_prox_init(&p, Xo, Yo, q, d, o, lam) == CB_OK && fabs(p.step - 1) < 1e-12,
              "FISTA init on an orthogonal design (step %.15g)", p.step);
        for (int it = 0; it < 50; ++it) cb_lowrank_prox_iterate(&p);
        double want[o * d];
        cb_lowrank_svt(p.B, o, d, lam, want, NULL);
        CHECK(maxdiff(p.W, want, o * d) < 1e-12, "FISTA = SVT(Y^T X/ns, lambda) for an orthogonal design (%.3g)",
              maxdiff(p.W, want, o * d));
        cb_lowrank_prox_free(&p);
    }

    /* FISTA on a general design: objective decreases and the prox fixed point holds. */
    {
        double Y[ns * m];
        gauss(Y, ns * m, 40);
        CbLowrankProx p;
        cb_lowrank_prox_init(&p, X, Y, ns, n, m, 0.05);
        double f0 = cb_lowrank_prox_objective(&p);
        for (int it = 0; it < 3000; ++it) cb_lowrank_prox_iterate(&p);
        double f1 = cb_lowrank_prox_objective(&p);
        /* fixed point: W = SVT(W − step ∇f(W), step λ) */
        double G[m * n], Wn[m * n];
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j) {
                double v = 0;
                for (size_t k = 0; k < n; ++k) v += p.W[i * n + k] * p.C[k * n + j];
                G[i * n + j] = p.W[i * n + j] - p.step * (v - p.B[i * n + j]);
            }
        cb_lowrank_svt(G, m, n, p.step * p.lambda, Wn, NULL);
        double res = maxdiff(Wn, p.W, m * n) / fro(p.W, m * n);
        CHECK(f1 < f0 && res < 1e-6, "FISTA: objective %.6g -> %.6g, relative prox residual %.3g", f0, f1, res);
        cb_lowrank_prox_free(&p);
        CHECK(cb_lowrank_prox_init(&p, X, Y, 0, n, m, 0.05) == CB_EINVAL, "prox rejects 0 samples: %s", cb_err_msg());
        CHECK(cb_lowrank_prox_init(&p, X, Y, ns, n, m, -1) == CB_EINVAL, "prox rejects lambda < 0");
        double Z0[ns * n];
        memset(Z0, 0, sizeof Z0);
        CHECK(cb_lowrank_prox_init(&p, Z0, Y, ns, n, m, 0.05) == CB_ENUMERIC, "prox rejects all-zero inputs: %s",
              cb_err_msg());
    }

    /* Planted recovery: noiseless exact from ns >= n; noisy error decays with ns. */
    {
        CbLowrankPlanted cfg = {20, 24, 2, 0.0, 2.0, 200};
        double e1[3], e2[3], e3[3];
        CHECK(cb_lowrank_planted(&cfg, 60, 9, 10, 0, e1) == CB_OK && e1[1] < 1e-12 && e1[2] < 1e-12,
              "noiseless, ns = 60 >= n: rank-r and LS recover W* exactly (%.3g, %.3g); nuclear %.3g", e1[1], e1[2],
              e1[0]);
        CHECK(cb_lowrank_planted(&cfg, 12, 9, 10, 0, e1) == CB_OK && isnan(e1[1]) && e1[0] > 0.1,
              "ns = 12 < n: W* is unidentifiable outside the sampled span (nuclear err %.3g), LS undefined", e1[0]);
        cfg.noise = 0.2;
        cb_lowrank_planted(&cfg, 100, 9, 10, 0, e2);
        cb_lowrank_planted(&cfg, 1600, 9, 10, 0, e3);
        double ratio = e2[1] / e3[1];
        CHECK(ratio > 2.5 && ratio < 6.5 && e3[0] < e2[0] && e3[1] < e3[2],
              "noisy: rank-r error %.3g -> %.3g over 16x samples (ratio %.2f, ~sqrt(16)); nuclear %.3g -> %.3g; "
              "rank-r beats LS (%.3g)",
              e2[1], e3[1], ratio, e2[0], e3[0], e3[2]);
        cfg.r = 30;
        CHECK(cb_lowrank_planted(&cfg, 100, 9, 10, 0, e1) == CB_EINVAL, "planted rejects r > min(m, n): %s",
              cb_err_msg());
    }

    /* Error paths. */
    {
        double out[m * n];
        CHECK(cb_lowrank_svd(W, 0, n, 1, out, NULL) == CB_EINVAL, "svd rejects an empty matrix");
        CHECK(cb_lowrank_data(W, m, n, X, 0, 1, CB_LOWRANK_GRAM, MPI_COMM_SELF, out, NULL) == CB_EINVAL,
              "data rejects 0 samples: %s", cb_err_msg());
        CHECK(cb_lowrank_data(W, m, n, X, ns, 1, (CbLowrankSolver)7, MPI_COMM_SELF, out, NULL) == CB_EINVAL,
              "data rejects an unknown solver");
        CHECK(cb_lowrank_curves(W, m, n, X, 0, out, out) == CB_EINVAL, "curves reject 0 samples");
        double Wn[m * n];
        memcpy(Wn, W, sizeof Wn);
        Wn[5] = NAN;
        CHECK(cb_lowrank_svd(Wn, m, n, 2, out, NULL) == CB_ENUMERIC, "svd rejects NaN: %s", cb_err_msg());
        CHECK(cb_lowrank_data(Wn, m, n, X, ns, 2, CB_LOWRANK_GRAM, MPI_COMM_SELF, out, NULL) == CB_ENUMERIC,
              "data (Gram) rejects NaN: %s", cb_err_msg());
        CHECK(cb_lowrank_data(Wn, m, n, X, ns, 2, CB_LOWRANK_SVD, MPI_COMM_SELF, out, NULL) == CB_ENUMERIC,
              "data (SVD) rejects NaN");
        CHECK(cb_lowrank_data(Wn, m, n, X, ns, 2, CB_LOWRANK_SCALAPACK, MPI_COMM_WORLD, out, NULL) == CB_ENUMERIC,
              "data (ScaLAPACK) rejects NaN on every rank: %s", cb_err_msg());
        CHECK(cb_lowrank_curves(Wn, m, n, X, ns, out, out) == CB_ENUMERIC, "curves reject NaN");
    }


    /* The sweep methods: parameter checks, one compression of a small MLP checked
     * against the layer functions on propagated inputs, one planted run. */
    {
        extern const CbMethod cb_method_lowrank, cb_method_lowrank_planted;
        const CbMethod *me = &cb_method_lowrank;
        const char *bad[][2] = {{"rank", "-1"}, {"rank", "2.5"}, {"rank_fraction", "1.5"}, {"mode", "qr"},
                                {"solver", "lu"}, {"samples", "-3"}, {"curves", "2"}, {"dense_last", "3"}};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
            CbParams p = {0};
            cb_params_set(&p, bad[i][0], bad[i][1]);
            CHECK(me->check(&p) == CB_EINVAL, "lowrank check rejects %s = %s: %s", bad[i][0], bad[i][1], cb_err_msg());
        }
        CbParams both = {0};
        cb_params_set(&both, "rank", "2");
        cb_params_set(&both, "rank_fraction", "0.5");
        CHECK(me->check(&both) == CB_EINVAL && strstr(cb_err_hint_msg(), "rank_fraction"),
              "lowrank check rejects rank and rank_fraction together: %s", cb_err_msg());

        const size_t widths[3] = {7, 6, 3};
        CbMlp *net;
        cb_mlp_alloc(2, widths, CB_ACT_RELU, 1.0, 1, &net);
        cb_mlp_init(net, CB_INIT_KAIMING_UNIFORM, 1.0, 77, 88);
        enum { N = 40 };
        float xs[N * 7];
        double xd[N * 7];
        gauss(xd, N * 7, 50);
        for (int i = 0; i < N * 7; ++i) xs[i] = (float)xd[i], xd[i] = xs[i];
        CbData tr = {.n = N, .d = 7, .n_classes = 3, .x = xs};
        CbModel model = {.mlp = net};
        const char *modes[2] = {"data", "svd"};
        double err_mode[2][2];
        for (int mo = 0; mo < 2; ++mo) {
            CbParams p = {0};
            cb_params_set(&p, "rank", "2");
            cb_params_set(&p, "mode", modes[mo]);
            CbTaskCtx ctx = {.seed = 1, .key = 2, .method = "lowrank", .params = &p, .train = &tr, .model = &model};
            CbResult res;
            cb_result_init(&res, 2);
            CbMlp *out = cb_mlp_clone(net);
            CHECK(me->compress(&ctx, out, &res) == CB_OK, "lowrank compress (mode %s)", modes[mo]);
            /* layer 0 on the raw inputs, layer 1 on ReLU(W0 x + b0) of the original net */
            double W0[6 * 7], W1[3 * 6], H[N * 6], Wh0[6 * 7], Wh1[3 * 6];
            for (int i = 0; i < 42; ++i) W0[i] = net->W[0][i];
            for (int i = 0; i < 18; ++i) W1[i] = net->W[1][i];
            for (int k = 0; k < N; ++k)
                for (int i = 0; i < 6; ++i) {
                    double z = net->b[0][i];
                    for (int j = 0; j < 7; ++j) z += W0[i * 7 + j] * xd[k * 7 + j];
                    H[k * 6 + i] = z > 0 ? z : 0;
                }
            if (mo == 0) {
                cb_lowrank_data(W0, 6, 7, xd, N, 2, CB_LOWRANK_SVD, MPI_COMM_SELF, Wh0, NULL);
                cb_lowrank_data(W1, 3, 6, H, N, 2, CB_LOWRANK_SVD, MPI_COMM_SELF, Wh1, NULL);
            } else {
                cb_lowrank_svd(W0, 6, 7, 2, Wh0, NULL);
                cb_lowrank_svd(W1, 3, 6, 2, Wh1, NULL);
            }
            double dw = 0;
            for (int i = 0; i < 42; ++i) dw = fmax(dw, fabs(out->W[0][i] - Wh0[i]));
            for (int i = 0; i < 18; ++i) dw = fmax(dw, fabs(out->W[1][i] - Wh1[i]));
            double e0 = cb_lowrank_preact_err(W0, Wh0, 6, 7, xd, N), e1 = cb_lowrank_preact_err(W1, Wh1, 3, 6, H, N);
            double z0[6 * 7] = {0}, z1[3 * 6] = {0};
            double n0 = cb_lowrank_preact_err(W0, z0, 6, 7, xd, N), n1 = cb_lowrank_preact_err(W1, z1, 3, 6, H, N);
            err_mode[mo][0] = res.layers[0].v[CB_L_preact_rel_err];
            err_mode[mo][1] = res.layers[1].v[CB_L_preact_rel_err];
            CHECK(dw < 1e-6 && fabs(err_mode[mo][0] - e0 / n0) < 1e-12 && fabs(err_mode[mo][1] - e1 / n1) < 1e-12 &&
                      res.layers[0].v[CB_L_lr_rank] == 2,
                  "mode %s: weights (%.2g off) and per-layer errors %.6f, %.6f match the layer functions on "
                  "propagated inputs",
                  modes[mo], dw, err_mode[mo][0], err_mode[mo][1]);
            CHECK_CLOSE(res.task[CB_T_lowrank_param_fraction], 2.0 * (13 + 9) / (42 + 18), 1e-15,
                        "factored size fraction");
            int n_curve = 0;
            for (int i = 0; i < res.n_series; ++i) n_curve += !strcmp(res.series[i].name, "lr_data_L0");
            CHECK(n_curve == 7, "rank curve of layer 0 has r = 0..6 (%d points)", n_curve);
            cb_mlp_free(out);
            cb_result_free(&res);
        }
        CHECK(err_mode[0][0] <= err_mode[1][0] + 1e-12 && err_mode[0][1] <= err_mode[1][1] + 1e-12,
              "data mode error <= svd mode error per layer");
        {
            /* data_seq: layer 0 as data mode; layer 1 = RRR of the original pre-activations H W1ᵀ on
             * the compressed network's hidden layer Ĥ = relu(X Ŵ0ᵀ + b0). */
            CbParams p = {0};
            cb_params_set(&p, "rank", "2");
            cb_params_set(&p, "mode", "data_seq");
            CbTaskCtx ctx = {.seed = 1, .key = 2, .method = "lowrank", .params = &p, .train = &tr, .model = &model};
            CbResult res;
            cb_result_init(&res, 2);
            CbMlp *out = cb_mlp_clone(net);
            CHECK(me->compress(&ctx, out, &res) == CB_OK, "lowrank compress (mode data_seq)");
            double W0[6 * 7], W1[3 * 6], Wh0[6 * 7], Wh1[3 * 6], H[N * 6], Hh[N * 6], T1[N * 3];
            for (int i = 0; i < 42; ++i) W0[i] = net->W[0][i];
            for (int i = 0; i < 18; ++i) W1[i] = net->W[1][i];
            cb_lowrank_data(W0, 6, 7, xd, N, 2, CB_LOWRANK_SVD, MPI_COMM_SELF, Wh0, NULL);
            for (int k = 0; k < N; ++k)
                for (int i = 0; i < 6; ++i) {
                    double z = net->b[0][i], zh = net->b[0][i];
                    for (int j = 0; j < 7; ++j) {
                        z += W0[i * 7 + j] * xd[k * 7 + j];
                        zh += Wh0[i * 7 + j] * xd[k * 7 + j];
                    }
                    H[k * 6 + i] = z > 0 ? z : 0;
                    Hh[k * 6 + i] = zh > 0 ? zh : 0;
                }
            for (int k = 0; k < N; ++k)
                for (int c = 0; c < 3; ++c) {
                    double v = 0;
                    for (int j = 0; j < 6; ++j) v += H[k * 6 + j] * W1[c * 6 + j];
                    T1[k * 3 + c] = v;
                }
            cb_lowrank_rrr(T1, 3, Hh, N, 6, 2, 1e-12, Wh1);
            double dw = 0;
            for (int i = 0; i < 42; ++i) dw = fmax(dw, fabs(out->W[0][i] - Wh0[i]));
            for (int i = 0; i < 18; ++i) dw = fmax(dw, fabs(out->W[1][i] - Wh1[i]));
            CHECK(dw < 1e-6, "data_seq: layer 0 = data mode, layer 1 = RRR on the compressed hidden layer (%.2g)", dw);
            cb_mlp_free(out);
            cb_result_free(&res);
        }
        {
            CbParams p = {0};
            cb_params_set(&p, "rank", "1");
            cb_params_set(&p, "dense_last", "1");
            CbTaskCtx ctx = {.seed = 1, .key = 2, .method = "lowrank", .params = &p, .train = &tr, .model = &model};
            CbResult res;
            cb_result_init(&res, 2);
            CbMlp *out = cb_mlp_clone(net);
            CHECK(me->compress(&ctx, out, &res) == CB_OK && memcmp(out->W[1], net->W[1], 18 * sizeof(float)) == 0 &&
                      res.layers[1].v[CB_L_lr_rank] == 3 && res.layers[1].v[CB_L_preact_rel_err] == 0 &&
                      res.layers[0].v[CB_L_lr_rank] == 1,
                  "dense_last = 1 keeps the output layer (rank %g, error %g) and compresses the others",
                  res.layers[1].v[CB_L_lr_rank], res.layers[1].v[CB_L_preact_rel_err]);
            CHECK_CLOSE(res.task[CB_T_lowrank_param_fraction], (1.0 * 13 + 18) / (42 + 18), 1e-15,
                        "factored size counts the kept layer as dense");
            cb_mlp_free(out);
            cb_result_free(&res);
        }
        CbData wrong = tr;
        wrong.d = 6;
        CbParams p = {0};
        CbTaskCtx ctx = {.seed = 1, .key = 2, .method = "lowrank", .params = &p, .train = &wrong, .model = &model};
        CbResult res;
        cb_result_init(&res, 2);
        CbMlp *out = cb_mlp_clone(net);
        CHECK(me->compress(&ctx, out, &res) == CB_EINVAL, "lowrank rejects data of the wrong width: %s", cb_err_msg());
        cb_mlp_free(out);
        cb_result_free(&res);
        cb_mlp_free(net);

        const CbMethod *pl = &cb_method_lowrank_planted;
        const char *pbad[][2] = {{"m", "0"}, {"r", "200"}, {"noise", "-1"}, {"ns_min", "9000"}, {"points", "0.5"}};
        for (size_t i = 0; i < sizeof pbad / sizeof pbad[0]; ++i) {
            CbParams q = {0};
            cb_params_set(&q, pbad[i][0], pbad[i][1]);
            CHECK(pl->check(&q) == CB_EINVAL, "lowrank_planted check rejects %s = %s: %s", pbad[i][0], pbad[i][1],
                  cb_err_msg());
        }
        CbParams q = {0};
        cb_params_set(&q, "m", "8");
        cb_params_set(&q, "n", "10");
        cb_params_set(&q, "r", "2");
        cb_params_set(&q, "ns_min", "4");
        cb_params_set(&q, "ns_max", "64");
        cb_params_set(&q, "points", "5");
        cb_params_set(&q, "trials", "2");
        CbTaskCtx pctx = {.seed = 3, .key = 4, .method = "lowrank_planted", .params = &q};
        cb_result_init(&res, 0);
        CHECK(pl->standalone(&pctx, &res) == CB_OK && res.n_series == 15, "planted task: 5 sample sizes x 3 estimators");
        double e[3], e2[3];
        CbLowrankPlanted cfg = {8, 10, 2, 0.1, 2.0, 300};
        cb_lowrank_planted(&cfg, 64, 3, 4, 0, e);
        cb_lowrank_planted(&cfg, 64, 3, 4, 1, e2);
        CHECK(fabs(res.series[13].y - (e[1] + e2[1]) / 2) < 1e-14 && res.series[13].x == 64,
              "planted series = mean over trials of cb_lowrank_planted (%.6g)", res.series[13].y);
        cb_result_free(&res);
    }

    cb_scalapack_exit();
    return check_end("lowrank");
}
