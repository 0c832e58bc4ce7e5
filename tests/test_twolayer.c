/*
 * Tests for twolayer (002): g against 2-D quadrature and Monte Carlo, the
 * series coefficients against Hermite coefficients computed by quadrature,
 * the pseudo-inverse (Penrose conditions), L(V,W) against a Monte Carlo
 * estimate with Gaussian inputs, Lemma 1 and eq. 30, the explicit ETF and
 * Lemma 5, Lemma 6 (M = 2) exactly, the Riemannian gradient against finite
 * differences, the GD-vs-ETF headline (Fig. 2) for M = 5..30, and every error path.
 */
#include "cbound/rng.h"
#include "cbound/task.h"
#include "cbound/twolayer.h"
#include "check.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_gamma.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- g by nested quadrature: g(α) = ∫_0^∞ x φ(x) ∫ σ(αx + βy) φ(y) dy dx, β = √(1−α²). */
typedef struct {
    double alpha, beta, x;
    gsl_integration_workspace *w;
} QuadCtx;

static double phi(double x) { return exp(-0.5 * x * x) / sqrt(2 * M_PI); }

static double inner_f(double y, void *p)
{
    QuadCtx *c = p;
    double z = c->alpha * c->x + c->beta * y;
    return z > 0 ? z * phi(y) : 0;
}

static double outer_f(double x, void *p)
{
    QuadCtx *c = p;
    c->x = x;
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    gsl_function F = {inner_f, c};
    double r, e;
    gsl_integration_qagiu(&F, -c->alpha * x / c->beta, 1e-13, 1e-12, 1000, w, &r, &e);
    gsl_integration_workspace_free(w);
    return x * phi(x) * r;
}

static double g_quad(double alpha)
{
    QuadCtx c = {alpha, sqrt(1 - alpha * alpha), 0, NULL};
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    gsl_function F = {outer_f, &c};
    double r, e;
    gsl_integration_qagiu(&F, 0, 1e-13, 1e-11, 1000, w, &r, &e);
    gsl_integration_workspace_free(w);
    return r;
}

/* ---- Hermite coefficient c_n = E[σ(X) He_n(X)] = ∫_0^∞ x He_n(x) φ(x) dx. */
static double hermite(int n, double x)
{
    double h0 = 1, h1 = x;
    if (n == 0) return h0;
    for (int k = 1; k < n; ++k) {
        double h2 = x * h1 - k * h0;
        h0 = h1;
        h1 = h2;
    }
    return h1;
}

static double herm_f(double x, void *p) { return x * hermite(*(int *)p, x) * phi(x); }

static double relu(double x) { return x > 0 ? x : 0; }

static double frob_diff(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    gsl_set_error_handler_off(); /* quadrature statuses are checked below */

    /* g at known points: E[σ(X)²] = 1/2, E[σ(X)]² = 1/(2π), σ(X)σ(−X) = 0. */
    CHECK_CLOSE(cb_twolayer_g(1), 0.5, 1e-15, "g(1) = 1/2");
    CHECK_CLOSE(cb_twolayer_g(0), 1 / (2 * M_PI), 1e-15, "g(0) = 1/(2pi)");
    CHECK_CLOSE(cb_twolayer_g(-1), 0, 1e-15, "g(-1) = 0");
    CHECK_CLOSE(cb_twolayer_g(1 + 1e-12), 0.5, 1e-15, "g clamps alpha slightly above 1");

    /* g against 2-D quadrature. */
    {
        const double al[] = {-0.93, -0.41, 0.2385, 0.77, 0.96};
        double worst = 0;
        for (int i = 0; i < 5; ++i) worst = fmax(worst, fabs(g_quad(al[i]) - cb_twolayer_g(al[i])));
        CHECK(worst < 1e-10, "g closed form (eq. 9) = 2-D quadrature at 5 points (max diff %.3g)", worst);
    }

    /* g against Monte Carlo: u·X = Z1, v·X = αZ1 + √(1−α²)Z2. */
    {
        const double alpha = 0.3817, beta = sqrt(1 - alpha * alpha);
        CbStream s = cb_rng_stream(2385, 7, CB_RNG_TEST, 1);
        const long n = 400000;
        double sum = 0, sum2 = 0;
        for (long i = 0; i < n; ++i) {
            double z1 = cb_rng_normal(&s), z2 = cb_rng_normal(&s);
            double f = relu(z1) * relu(alpha * z1 + beta * z2);
            sum += f;
            sum2 += f * f;
        }
        double mean = sum / n, se = sqrt((sum2 / n - mean * mean) / n);
        CHECK(fabs(mean - cb_twolayer_g(alpha)) < 4.5 * se,
              "g(%.4f) = %.6f vs Monte Carlo %.6f (%.2f standard errors)", alpha, cb_twolayer_g(alpha), mean,
              fabs(mean - cb_twolayer_g(alpha)) / se);
    }

    /* g' against central differences. */
    {
        double worst = 0;
        for (double a = -0.9; a <= 0.9; a += 0.137) {
            double fd = (cb_twolayer_g(a + 1e-6) - cb_twolayer_g(a - 1e-6)) / 2e-6;
            worst = fmax(worst, fabs(fd - cb_twolayer_g_deriv(a)));
        }
        CHECK(worst < 1e-8, "g' = finite differences of g (max diff %.3g)", worst);
    }

    /* Series coefficients = c_n²/n! with c_n the Hermite coefficients of ReLU by
     * quadrature (Taylor coefficients of g are the squared Hermite coefficients,
     * 002 after Lemma 2). This is where eq. (10)'s k! must read (2k)!. */
    {
        gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
        double worst = 0;
        int bad = 0;
        for (int n = 0; n <= 12; ++n) {
            int nn = n;
            gsl_function F = {herm_f, &nn};
            double c, e;
            /* odd n >= 3 have c_n = 0 exactly: an absolute tolerance is needed */
            bad |= gsl_integration_qag(&F, 0, 40, 1e-9, 1e-11, 1000, GSL_INTEG_GAUSS61, w, &c, &e);
            double want = c * c / gsl_sf_fact((unsigned)n);
            worst = fmax(worst, fabs(want - cb_twolayer_g_coef(n)));
        }
        gsl_integration_workspace_free(w);
        CHECK(!bad && worst < 1e-12, "series coefficients n = 0..12 = squared Hermite coefficients / n! (max diff %.3g)",
              worst);
        /* The printed eq. (10) with k! gives 1/(2pi) for alpha^2; the truth is 1/(4pi). */
        CHECK(fabs(cb_twolayer_g_coef(2) - 1 / (4 * M_PI)) < 1e-16 &&
                  fabs(cb_twolayer_g_coef(2) - 1 / (2 * M_PI)) > 0.07,
              "alpha^2 coefficient is 1/(4pi), not eq. (10)'s 1/(2pi)");
        CHECK(cb_twolayer_g_coef(7) == 0 && cb_twolayer_g_coef(-1) == 0, "odd coefficients >= 3 vanish");
    }

    /* Series partial sums against the closed form. */
    {
        double worst = 0;
        for (double a = -0.9; a <= 0.9; a += 0.1) worst = fmax(worst, fabs(cb_twolayer_g_series(a, 200) - cb_twolayer_g(a)));
        CHECK(worst < 1e-14, "series (K = 200) = closed form on [-0.9, 0.9] (max diff %.3g)", worst);
        double e1 = fabs(cb_twolayer_g_series(1, 100) - 0.5), e2 = fabs(cb_twolayer_g_series(1, 10000) - 0.5);
        CHECK(e2 < 1e-4 && e2 < e1 / 50, "series converges at alpha = 1 (slowly): err %.3g at K=100, %.3g at K=1e4",
              e1, e2);
    }

    /* Pseudo-inverse: Penrose conditions on a rank-3 symmetric 6x6 matrix. */
    {
        enum { n = 6, r = 3 };
        double B[n * r], A[n * n], Ap[n * n], T[n * n], T2[n * n];
        CbStream s = cb_rng_stream(11, 12, CB_RNG_TEST, 2);
        for (int i = 0; i < n * r; ++i) B[i] = cb_rng_normal(&s);
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                A[i * n + j] = 0;
                for (int k = 0; k < r; ++k) A[i * n + j] += B[i * r + k] * B[j * r + k] * (k == 1 ? -1.7 : 1);
            }
        size_t rank = 0;
        CHECK(cb_twolayer_pinv_sym(A, n, 1e-12, Ap, &rank) == CB_OK && rank == r, "pinv_sym rank %zu (want 3)", rank);
        /* T = A Ap, T2 = T A */
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                T[i * n + j] = 0;
                for (int k = 0; k < n; ++k) T[i * n + j] += A[i * n + k] * Ap[k * n + j];
            }
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                T2[i * n + j] = 0;
                for (int k = 0; k < n; ++k) T2[i * n + j] += T[i * n + k] * A[k * n + j];
            }
        double sym = 0;
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) sym = fmax(sym, fabs(T[i * n + j] - T[j * n + i]));
        CHECK(frob_diff(T2, A, n * n) < 1e-10 && sym < 1e-10, "pinv_sym: A A+ A = A (%.3g), A A+ symmetric (%.3g)",
              frob_diff(T2, A, n * n), sym);
        CHECK(cb_twolayer_pinv_sym(A, n, 1.5, Ap, NULL) == CB_EINVAL, "pinv_sym rejects rcond 1.5: %s", cb_err_msg());
        CHECK(cb_twolayer_pinv_sym(A, 0, 1e-12, Ap, NULL) == CB_EINVAL, "pinv_sym rejects n = 0: %s", cb_err_msg());
        A[3] = NAN;
        A[3 * n] = NAN;
        CHECK(cb_twolayer_pinv_sym(A, n, 1e-12, Ap, NULL) != CB_OK, "pinv_sym rejects NaN: %s", cb_err_msg());
        A[3] = INFINITY;
        A[3 * n] = INFINITY;
        CHECK(cb_twolayer_pinv_sym(A, n, 1e-12, Ap, NULL) == CB_ENUMERIC, "pinv_sym rejects Inf: %s", cb_err_msg());
    }

    /* Teacher: validation and nesting (the first N' neurons of a size-N teacher). */
    {
        CbTwolayerNet t;
        CHECK(cb_twolayer_teacher(0, 5, 0.5, 1.5, 1, 2, &t) == CB_EINVAL, "teacher rejects N = 0: %s", cb_err_msg());
        CHECK(cb_twolayer_teacher(10, 5, 1.5, 0.5, 1, 2, &t) == CB_EINVAL, "teacher rejects a_lo > a_hi: %s",
              cb_err_msg());
        CbTwolayerNet big, small;
        cb_twolayer_teacher(50, 9, 0.2, 1.9, 31, 32, &big);
        cb_twolayer_teacher(20, 9, 0.2, 1.9, 31, 32, &small);
        CHECK(memcmp(big.w, small.w, 20 * 9 * sizeof(double)) == 0 && memcmp(big.a, small.a, 20 * sizeof(double)) == 0,
              "teacher is nested in N");
        double nrm = 0;
        for (int j = 0; j < 9; ++j) nrm += big.w[17 * 9 + j] * big.w[17 * 9 + j];
        CHECK_CLOSE(nrm, 1, 1e-14, "teacher rows have unit norm");
        cb_twolayer_net_free(&big);
        cb_twolayer_net_free(&small);
    }

    /* L(V, W) (eq. 6) against Monte Carlo over X ~ N(0, I_d); Lemma 1 and eq. 8. */
    {
        enum { N = 40, M = 6, d = 7 };
        CbTwolayerNet t;
        cb_twolayer_teacher(N, d, 0.25, 1.75, 77, 78, &t);
        double v[M * d], b[M], x[d];
        cb_twolayer_random_sphere(M, d, 77, 78, 0, v);
        CbStream s = cb_rng_stream(77, 78, CB_RNG_TEST, 3);
        for (int m = 0; m < M; ++m) b[m] = -1 + 3 * cb_rng_uniform(&s);
        double energy = cb_twolayer_target_energy(&t);
        double L = cb_twolayer_loss(&t, energy, v, b, M);
        const long n = 200000;
        double sum = 0, sum2 = 0, fw2 = 0;
        for (long i = 0; i < n; ++i) {
            for (int j = 0; j < d; ++j) x[j] = cb_rng_normal(&s);
            double fw = 0, fv = 0;
            for (int k = 0; k < N; ++k) {
                double z = 0;
                for (int j = 0; j < d; ++j) z += t.w[k * d + j] * x[j];
                fw += t.a[k] * relu(z);
            }
            for (int k = 0; k < M; ++k) {
                double z = 0;
                for (int j = 0; j < d; ++j) z += v[k * d + j] * x[j];
                fv += b[k] * relu(z);
            }
            fw /= N;
            fv /= M;
            sum += (fw - fv) * (fw - fv);
            sum2 += (fw - fv) * (fw - fv) * (fw - fv) * (fw - fv);
            fw2 += fw * fw;
        }
        double mean = sum / n, se = sqrt((sum2 / n - mean * mean) / n);
        CHECK(fabs(mean - L) < 4.5 * se, "L(V,W) eq. 6 = %.6f vs Monte Carlo %.6f (%.2f s.e.)", L, mean,
              fabs(mean - L) / se);
        CHECK(fabs(fw2 / n - energy) < 0.02 * energy, "a'G_WW a/N^2 = %.6f vs Monte Carlo E f_W^2 = %.6f", energy,
              fw2 / n);

        /* Lemma 1: b* minimizes (6); eq. 8 equals (6) at b*; perturbations increase it. */
        double bs[M], L8, bp[M];
        CHECK(cb_twolayer_optimal_b(&t, energy, v, M, 1e-13, bs, &L8) == CB_OK, "optimal b computed");
        CHECK_CLOSE(cb_twolayer_loss(&t, energy, v, bs, M), L8, 1e-14, "eq. 8 = eq. 6 at b* (Lemma 1)");
        int all_up = 1;
        for (int trial = 0; trial < 20; ++trial) {
            for (int m = 0; m < M; ++m) bp[m] = bs[m] + 1e-3 * cb_rng_normal(&s);
            all_up &= cb_twolayer_loss(&t, energy, v, bp, M) > L8;
        }
        CHECK(all_up && L8 < L, "b* beats 20 random perturbations and the random b");

        /* Limit loss (11) at its optimum b (29) equals eq. 30. */
        double mu_a = 1.0, bl[M], R;
        cb_twolayer_limit_b(mu_a, v, M, d, 1e-13, bl);
        cb_twolayer_objective(v, M, d, 1e-13, &R, NULL);
        CHECK_CLOSE(cb_twolayer_limit_loss(energy, mu_a, v, bl, M, d),
                    energy - mu_a * mu_a / (4 * M_PI * M_PI) * R, 1e-14, "limit loss at b~* = eq. 30");
        cb_twolayer_net_free(&t);
    }

    /* Explicit ETF, Lemma 5 (eq. 32), distance (35). */
    {
        enum { d = 9 };
        double v[(d + 1) * d];
        double worst_ip = 0, worst_R = 0, worst_dist = 0;
        for (size_t M = 2; M <= d + 1; ++M) {
            CHECK(cb_twolayer_etf(M, d, 1, 5, 6, v) == CB_OK, "ETF M = %zu in R^%d built", M, d);
            for (size_t i = 0; i < M; ++i)
                for (size_t j = 0; j < M; ++j) {
                    double ip = 0;
                    for (int k = 0; k < d; ++k) ip += v[i * d + k] * v[j * d + k];
                    worst_ip = fmax(worst_ip, fabs(ip - (i == j ? 1 : -1.0 / ((double)M - 1))));
                }
            double R;
            cb_twolayer_objective(v, M, d, 1e-13, &R, NULL);
            worst_R = fmax(worst_R, fabs(R - cb_twolayer_etf_value(M)) / R);
            worst_dist = fmax(worst_dist, cb_twolayer_dist_etf(v, M, d));
        }
        CHECK(worst_ip < 1e-14, "ETF inner products -1/(M-1), unit norms (max err %.3g)", worst_ip);
        CHECK(worst_R < 1e-13, "R~ at the explicit ETF = eq. 32 for M = 2..10 (rel err %.3g)", worst_R);
        CHECK(worst_dist < 1e-14, "distance (35) of an ETF to the ETF is 0 (%.3g)", worst_dist);
        CHECK(cb_twolayer_etf(d + 2, d, 0, 5, 6, v) == CB_EINVAL && strstr(cb_err_hint_msg(), "raise d"),
              "ETF with M > d + 1 rejected with a hint: %s / %s", cb_err_msg(), cb_err_hint_msg());
        CHECK(cb_twolayer_etf(1, d, 0, 5, 6, v) == CB_EINVAL, "ETF with M = 1 rejected");
    }

    /* Lemma 6 (M = 2): R~ = 4/(1 + 2g(alpha)) exactly, max 4 at the ETF v2 = -v1. */
    {
        double worst = 0;
        for (double a = -0.95; a < 0.96; a += 0.05) {
            double v[2 * 3] = {1, 0, 0, a, sqrt(1 - a * a), 0}, R;
            cb_twolayer_objective(v, 2, 3, 1e-14, &R, NULL);
            worst = fmax(worst, fabs(R - 4 / (1 + 2 * cb_twolayer_g(a))));
        }
        CHECK(worst < 1e-12, "Lemma 6: R~ = 4/(1+2g(alpha)) on a grid (max diff %.3g)", worst);
        CHECK_CLOSE(cb_twolayer_etf_value(2), 4, 1e-14, "eq. 32 at M = 2 equals 4");
        double v0[2 * 5];
        cb_twolayer_random_sphere(2, 5, 8, 9, 0, v0);
        CbTwolayerAscent a;
        cb_twolayer_ascent_init(&a, v0, 2, 5, 1.0, 1e-13);
        for (int it = 0; it < 300; ++it) cb_twolayer_ascent_iterate(&a);
        double ip = 0;
        for (int k = 0; k < 5; ++k) ip += a.v[k] * a.v[5 + k];
        CHECK(fabs(a.R - 4) < 1e-10 && ip < -1 + 1e-6, "M = 2 ascent reaches R = 4 (%.15g) at <v1,v2> = %.9f", a.R, ip);
        cb_twolayer_ascent_free(&a);
    }

    /* Riemannian gradient = derivative of R~ along a retraction curve. */
    {
        enum { M = 7, d = 11 };
        double v[M * d], g[M * d], xi[M * d], vp[M * d], vm[M * d], R, Rp, Rm;
        cb_twolayer_random_sphere(M, d, 3, 4, 1, v);
        cb_twolayer_objective(v, M, d, 1e-13, &R, g);
        CbStream s = cb_rng_stream(3, 4, CB_RNG_TEST, 5);
        for (int i = 0; i < M * d; ++i) xi[i] = cb_rng_normal(&s);
        for (int i = 0; i < M; ++i) { /* project xi to the tangent space */
            double c = 0;
            for (int k = 0; k < d; ++k) c += xi[i * d + k] * v[i * d + k];
            for (int k = 0; k < d; ++k) xi[i * d + k] -= c * v[i * d + k];
        }
        const double h = 1e-5;
        for (int i = 0; i < M * d; ++i) {
            vp[i] = v[i] + h * xi[i];
            vm[i] = v[i] - h * xi[i];
        }
        for (int i = 0; i < M; ++i) {
            double np = 0, nm = 0;
            for (int k = 0; k < d; ++k) {
                np += vp[i * d + k] * vp[i * d + k];
                nm += vm[i * d + k] * vm[i * d + k];
            }
            for (int k = 0; k < d; ++k) {
                vp[i * d + k] /= sqrt(np);
                vm[i * d + k] /= sqrt(nm);
            }
        }
        cb_twolayer_objective(vp, M, d, 1e-13, &Rp, NULL);
        cb_twolayer_objective(vm, M, d, 1e-13, &Rm, NULL);
        double fd = (Rp - Rm) / (2 * h), an = 0;
        for (int i = 0; i < M * d; ++i) an += g[i] * xi[i];
        CHECK(fabs(fd - an) < 1e-7 * fmax(1, fabs(an)), "Riemannian gradient = finite difference (%.10g vs %.10g)",
              an, fd);
    }

    /* Headline (002 Fig. 2): GD reaches the ETF value for M = 5..30 (d = 32, 1000 iterations). */
    {
        enum { d = 32 };
        double worst = 0, worst_dist = 0;
        for (size_t M = 5; M <= 30; M += 5) {
            double v0[30 * d];
            cb_twolayer_random_sphere(M, d, 2026, 1122, 0, v0);
            CbTwolayerAscent a;
            cb_twolayer_ascent_init(&a, v0, M, d, 1.0, 1e-13);
            for (int it = 0; it < 1000; ++it) cb_twolayer_ascent_iterate(&a);
            worst = fmax(worst, fabs(a.R - cb_twolayer_etf_value(M)) / cb_twolayer_etf_value(M));
            worst_dist = fmax(worst_dist, cb_twolayer_dist_etf(a.v, M, d));
            cb_twolayer_ascent_free(&a);
        }
        CHECK(worst < 1e-12, "GD R~ = R~_ETF for M = 5..30 to rel %.3g (paper: ~12 digits)", worst);
        CHECK(worst_dist < 1e-10, "GD Gram matrix reaches the ETF's: max ||G - G_ETF||_F = %.3g", worst_dist);
    }

    /* Constant-step ascent (plain Riemannian GD, as the paper's GD): monotone for a small
     * step, reaches the ETF at M = 5, and converges more slowly at M = 30 (002 Fig. 3). */
    {
        enum { d = 32 };
        double v0[30 * d], dist[2];
        int monotone = 1;
        const size_t Ms[2] = {5, 30};
        for (int k = 0; k < 2; ++k) {
            cb_twolayer_random_sphere(Ms[k], d, 1, 2, 0, v0);
            CbTwolayerAscent a;
            cb_twolayer_ascent_init(&a, v0, Ms[k], d, 0.5, 1e-13);
            a.fixed_step = 1;
            double prev = a.R;
            for (int it = 0; it < 1000; ++it) {
                cb_twolayer_ascent_iterate(&a);
                monotone &= a.R >= prev - 1e-13;
                prev = a.R;
            }
            CHECK(a.step == 0.5, "constant step stays 0.5 (M = %zu)", Ms[k]);
            dist[k] = cb_twolayer_dist_etf(a.v, Ms[k], d);
            cb_twolayer_ascent_free(&a);
        }
        CHECK(monotone && dist[0] < 1e-12 && dist[1] > 1e3 * dist[0] && dist[1] < 1e-3,
              "constant step 0.5: monotone; distance to the ETF after 1000 iterations %.2g (M = 5) < %.2g (M = 30)",
              dist[0], dist[1]);
    }

    /* Error paths of the objective and the ascent. */
    {
        double v[3 * 4], R;
        cb_twolayer_random_sphere(3, 4, 1, 1, 0, v);
        CHECK(cb_twolayer_objective(v, 0, 4, 1e-13, &R, NULL) == CB_EINVAL, "objective rejects M = 0: %s", cb_err_msg());
        CbTwolayerAscent a;
        CHECK(cb_twolayer_ascent_init(&a, v, 3, 4, 0.0, 1e-13) == CB_EINVAL, "ascent rejects step 0: %s", cb_err_msg());
        CHECK(cb_twolayer_ascent_init(&a, v, 0, 4, 1.0, 1e-13) == CB_EINVAL, "ascent rejects M = 0");
        v[5] = NAN;
        CHECK(cb_twolayer_ascent_init(&a, v, 3, 4, 1.0, 1e-13) != CB_OK, "ascent rejects a NaN start: %s", cb_err_msg());
        cb_twolayer_random_sphere(3, 4, 1, 1, 0, v);
        CHECK(cb_twolayer_ascent_init(&a, v, 3, 4, 1.0, 1e-13) == CB_OK, "ascent init");
        a.R = 1e300; /* a corrupted state no step can improve on */
        CHECK(cb_twolayer_ascent_iterate(&a) == CB_ENUMERIC, "ascent reports failure to find a step: %s", cb_err_msg());
        a.fixed_step = 1;
        a.grad[2] = NAN; /* the trial point is NaN: a constant-step ascent must stop, not move */
        CHECK(cb_twolayer_ascent_iterate(&a) == CB_ENUMERIC, "constant-step ascent reports a failed objective: %s",
              cb_err_msg());
        cb_twolayer_ascent_free(&a);
    }


    /* The sweep method: parameter checks and one small run. */
    {
        extern const CbMethod cb_method_twolayer;
        const CbMethod *me = &cb_method_twolayer;
        const char *bad[][2] = {{"M", "1"}, {"M", "7.5"}, {"step", "0"}, {"a_lo", "2"}, {"rcond", "1"}, {"N", "x"},
                                {"line_search", "2"}};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
            CbParams p = {0};
            cb_params_set(&p, bad[i][0], bad[i][1]);
            CHECK(me->check(&p) == CB_EINVAL, "twolayer check rejects %s = %s: %s", bad[i][0], bad[i][1], cb_err_msg());
        }
        CbParams p = {0};
        cb_params_set(&p, "a_lo", "-1");
        cb_params_set(&p, "a_hi", "1");
        CHECK(me->check(&p) == CB_EINVAL && strstr(cb_err_hint_msg(), "mu_a"), "twolayer check rejects mean(a) = 0");
        CbParams q = {0};
        cb_params_set(&q, "M", "4");
        cb_params_set(&q, "d", "6");
        cb_params_set(&q, "N", "100");
        cb_params_set(&q, "starts", "3");
        cb_params_set(&q, "iters", "200");
        cb_params_set(&q, "every", "50");
        CHECK(me->check(&q) == CB_OK, "twolayer check accepts a valid grid point");
        CbTaskCtx ctx = {.seed = 4, .key = 5, .method = "twolayer", .params = &q};
        CbResult res;
        cb_result_init(&res, 0);
        CHECK(me->standalone(&ctx, &res) == CB_OK, "twolayer task runs");
        int n_R = 0, n_gap = 0, last_N = 0;
        for (int i = 0; i < res.n_series; ++i) {
            n_R += !strcmp(res.series[i].name, "etf_R_min");
            n_gap += !strcmp(res.series[i].name, "thm1_gap_N");
            if (!strcmp(res.series[i].name, "thm1_gap_N")) last_N = (int)res.series[i].x;
        }
        CHECK(n_R == 5 && n_gap == 4 && last_N == 100, "series: %d R points (want 5), %d Thm-1 points (16,32,64,100), last N %d",
              n_R, n_gap, last_N);
        CHECK(res.task[CB_T_etf_R_rel_gap] < 1e-12 && fabs(res.task[CB_T_etf_R_etf] - cb_twolayer_etf_value(4)) == 0,
              "task: R~_GD = R~_ETF for M = 4 (rel gap %.3g)", res.task[CB_T_etf_R_rel_gap]);
        /* Thm 1 column = |L − L~| computed the long way (both losses in full). */
        CbTwolayerNet t;
        cb_twolayer_teacher(100, 6, 0.5, 1.5, 4, 5, &t);
        double v[4 * 6], b[4];
        cb_twolayer_etf(4, 6, 1, 1, 2, v);
        cb_twolayer_limit_b(1.0, v, 4, 6, 1e-13, b);
        double E = cb_twolayer_target_energy(&t);
        double gap = fabs(cb_twolayer_loss(&t, E, v, b, 4) - cb_twolayer_limit_loss(E, 1.0, v, b, 4, 6));
        double s[4], dot = 0;
        cb_twolayer_s(&t, v, 4, s);
        for (int i = 0; i < 4; ++i) dot += b[i] * (s[i] - 1 / (2 * M_PI));
        /* the method computes the gap as |(2/M) b'(s - mu_a/(2pi) 1)| (eq. 6 minus eq. 11) */
        CHECK(fabs(gap - fabs(0.5 * dot)) < 1e-13, "L - L~ = -(2/M) b'(s - mu_a/2pi 1): %.12g vs %.12g", gap,
              fabs(0.5 * dot));
        CHECK(res.task[CB_T_thm1_gap] > 0 && res.task[CB_T_thm1_gap] < 0.2 && isfinite(res.task[CB_T_twolayer_loss]) &&
                  res.task[CB_T_twolayer_loss] >= 0,
              "Thm 1 gap %.4g and loss %.4g at the GD solution are finite and in range", res.task[CB_T_thm1_gap],
              res.task[CB_T_twolayer_loss]);
        cb_twolayer_net_free(&t);
        cb_result_free(&res);
    }

    return check_end("twolayer");
}
