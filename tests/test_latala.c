/*
 * test_latala — 004 Lemma C.1's moments against GSL quadrature; the keep fraction χ and
 * the moments against simulation; the Latała bracket against brute force; variant (b)'s
 * conditional moments against Monte Carlo over masks; Lemma D.1's t (closed form vs
 * the authors' bisection); the output-error bound against a direct product.
 */
#include "check.h"
#include "cbound/latala.h"
#include "cbound/rng.h"

#include <gsl/gsl_integration.h>

struct integrand { double d, psi; int k; };

/* a^k · e^{−a²/(dΨ)} · N(a; 0, Ψ) */
static double f_moment(double a, void *p)
{
    const struct integrand *q = p;
    return pow(a, q->k) * exp(-a * a / (q->d * q->psi)) * exp(-0.5 * a * a / q->psi) /
           sqrt(2 * M_PI * q->psi);
}

static double quad(double d, double psi, int k)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    struct integrand q = {d, psi, k};
    gsl_function F = {f_moment, &q};
    double r, e;
    gsl_integration_qagi(&F, 0, 1e-13, 1000, w, &r, &e);
    gsl_integration_workspace_free(w);
    return r;
}

/* a · P(a) · N(a; 0, Ψ) with P from cbound's Algorithm 1 (cb_latala_prune_prob on a 1 x 1 layer) */
static double f_odd_cbound(double a, void *p)
{
    const struct integrand *q = p;
    double P;
    cb_latala_prune_prob(&a, 1, 1, q->d, q->psi, 0, &P);
    return a * P * exp(-0.5 * a * a / q->psi) / sqrt(2 * M_PI * q->psi);
}

/* Lemma C.1's E Δ = 0 rests on cbound's prune probability being even in A and Gaussian in
 * shape. Integrate a · P(a) over each half-line with P computed by cbound, and compare
 * each half with the closed form ∫₀^∞ a e^{−c a²} da / √(2πΨ) = 1 / (2c √(2πΨ)),
 * c = 1/(dΨ) + 1/(2Ψ): the halves must match it and cancel. */
static void check_odd_moment(double d, double psi)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    struct integrand q = {d, psi, 1};
    gsl_function F = {f_odd_cbound, &q};
    double pos, neg, e;
    gsl_integration_qagiu(&F, 0, 0, 1e-12, 1000, w, &pos, &e);
    gsl_integration_qagil(&F, 0, 0, 1e-12, 1000, w, &neg, &e);
    gsl_integration_workspace_free(w);
    double c = 1 / (d * psi) + 1 / (2 * psi), half = 1 / (2 * c * sqrt(2 * M_PI * psi));
    CHECK(fabs(pos - half) <= 1e-10 * half && fabs(neg + half) <= 1e-10 * half,
          "E[Delta; A > 0] with cbound's P = %.12g, E[Delta; A < 0] = %.12g, closed form +-%.12g (d %g, Psi %g)",
          pos, neg, half, d, psi);
}

static void test_lemma_c1_quadrature(void)
{
    const double ds[] = {0.37, 2.385, 9.1}, psis[] = {0.0123, 1.7};
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 2; ++b) {
            double d = ds[a], psi = psis[b], m2, m4;
            cb_latala_gauss_moments(d, psi, &m2, &m4);
            CHECK_REL(1.0 - cb_latala_keep_prob(d), quad(d, psi, 0), 1e-10, "P(pruned) = E e^{-A^2/(dPsi)}");
            CHECK_REL(m2, quad(d, psi, 2), 1e-10, "Lemma C.1 E Delta^2 vs quadrature");
            CHECK_REL(m4, quad(d, psi, 4), 1e-10, "Lemma C.1 E Delta^4 vs quadrature");
            check_odd_moment(d, psi);
        }
    CHECK(cb_latala_keep_prob(0) == 1.0, "d = 0 keeps everything");
}

/* χ and the moments by simulation of Algorithm 1 on Gaussian weights */
static void test_simulation(void)
{
    size_t m = 400, n = 300, N = m * n;
    double psi = 0.0271, d = 1.93;
    double *A = malloc(N * sizeof *A), *P = malloc(N * sizeof *P), *D = malloc(N * sizeof *D);
    CbStream s = cb_rng_stream(5, 6, CB_RNG_TEST, 0);
    for (size_t i = 0; i < N; ++i) A[i] = sqrt(psi) * cb_rng_normal(&s);
    cb_latala_prune_prob(A, m, n, d, psi, 0, P);
    cb_latala_mc_delta(A, P, m, n, 5, 6, 0, D);
    double kept = 0, s2 = 0, s4 = 0;
    for (size_t i = 0; i < N; ++i) {
        kept += D[i] == 0;
        s2 += D[i] * D[i];
        s4 += D[i] * D[i] * D[i] * D[i];
    }
    double chi = cb_latala_keep_prob(d), se = sqrt(chi * (1 - chi) / N), m2, m4;
    CHECK(fabs(kept / N - chi) < 5 * se, "kept fraction %.5f vs chi %.5f (5 se = %.5f)", kept / N, chi, 5 * se);
    cb_latala_gauss_moments(d, psi, &m2, &m4);
    CHECK_REL(s2 / N, m2, 0.02, "simulated E Delta^2 vs Lemma C.1");
    CHECK_REL(s4 / N, m4, 0.05, "simulated E Delta^4 vs Lemma C.1");
    /* the diagonal is never pruned in the paper's variant */
    cb_latala_prune_prob(A, m, n, d, psi, 1, P);
    int diag_ok = 1;
    for (size_t i = 0; i < n; ++i) diag_ok &= P[i * n + i] == 0;
    CHECK(diag_ok && P[1] > 0, "keep_diag: P_ii = 0");
    free(A); free(P); free(D);
}

static void test_bracket(void)
{
    /* hand-computed: E X² = [[1,4],[9,0.25],[2,2]] rows 5, 9.25, 4; cols 12, 6.25; E X⁴ sum 81 */
    double e2[6] = {1, 4, 9, 0.25, 2, 2}, e4[6] = {10, 20, 30, 1, 10, 10};
    CHECK_REL(cb_latala_bracket(e2, e4, 3, 2), sqrt(9.25) + sqrt(12.0) + 3.0, 1e-15, "bracket by hand");
    /* uniform moments reproduce 004's Γ/C */
    size_t d1 = 37, d2 = 53;
    double d = 3.3, psi = 0.0417, m2, m4;
    cb_latala_gauss_moments(d, psi, &m2, &m4);
    double *u2 = malloc(d1 * d2 * sizeof *u2), *u4 = malloc(d1 * d2 * sizeof *u4);
    for (size_t i = 0; i < d1 * d2; ++i) { u2[i] = m2; u4[i] = m4; }
    CHECK_REL(cb_latala_bracket(u2, u4, d1, d2), cb_latala_gamma(d, psi, d1, d2), 1e-13,
              "bracket of uniform moments = Gamma_l / C (Lemma C.2)");
    free(u2); free(u4);
}

/* variant (b): conditional mean and centred moments against Monte Carlo over masks */
static void test_conditional(void)
{
    size_t m = 6, n = 5, N = m * n;
    double A[30], P[30], D[30], e2[30] = {0}, e4[30] = {0}, mean[30] = {0};
    CbStream s = cb_rng_stream(8, 9, CB_RNG_TEST, 0);
    for (size_t i = 0; i < N; ++i) A[i] = 0.3 * cb_rng_normal(&s);
    cb_latala_prune_prob(A, m, n, 2.2, 0.09, 0, P);
    int R = 20000;
    for (int r = 0; r < R; ++r) {
        cb_latala_mc_delta(A, P, m, n, 8, 9, (uint32_t)r, D);
        for (size_t i = 0; i < N; ++i) mean[i] += D[i] / R;
    }
    for (int r = 0; r < R; ++r) {
        cb_latala_mc_delta(A, P, m, n, 8, 9, (uint32_t)r, D);
        for (size_t i = 0; i < N; ++i) {
            double c = D[i] - A[i] * P[i];
            e2[i] += c * c / R;
            e4[i] += c * c * c * c / R;
        }
    }
    double worst_mean = 0, worst2 = 0, worst4 = 0;
    for (size_t i = 0; i < N; ++i) {
        double p = P[i], q = 1 - p, a2 = A[i] * A[i];
        double se = fabs(A[i]) * sqrt(p * q / R) + 1e-300;
        worst_mean = fmax(worst_mean, fabs(mean[i] - A[i] * p) / se);
        double v2 = a2 * p * q, v4 = a2 * a2 * p * q * (q * q * q + p * p * p);
        double v8 = a2 * a2 * a2 * a2 * p * q * (pow(q, 7) + pow(p, 7));
        /* in standard errors of the Monte Carlo averages (their variances: v4 − v2², v8 − v4²) */
        worst2 = fmax(worst2, fabs(e2[i] - v2) / (sqrt((v4 - v2 * v2) / R) + 1e-300));
        worst4 = fmax(worst4, fabs(e4[i] - v4) / (sqrt((v8 - v4 * v4) / R) + 1e-300));
    }
    CHECK(worst_mean < 5, "E[Delta|A] = A P within %.2f standard errors", worst_mean);
    CHECK(worst2 < 5, "centred E X^2 = A^2 P(1-P) within %.2f standard errors", worst2);
    CHECK(worst4 < 5, "centred E X^4 = A^4 P(1-P)((1-P)^3+P^3) within %.2f standard errors", worst4);

    CbNormOpts no;
    cb_norms_opts_default(&no);
    CbLatalaCond c;
    CHECK(cb_latala_conditional(A, P, m, n, &no, &c) == CB_OK, "conditional bracket");
    double AP[30], ref;
    for (size_t i = 0; i < N; ++i) AP[i] = A[i] * P[i];
    cb_norms_spectral_ref(AP, m, n, &ref);
    CHECK_REL(c.mean_norm, ref, 1e-12, "||E[Delta|A]||_2 vs dgesdd");
    CHECK_REL(c.bound, c.mean_norm + c.bracket_centred, 1e-15, "bound = mean + bracket");
}

/* all three variants on a Gaussian layer: Monte Carlo E‖Δ‖₂ below both brackets (C = 1) */
static void test_variants(void)
{
    size_t m = 150, n = 120, N = m * n;
    double psi = 0.0093, d = 4.4;
    double *A = malloc(N * sizeof *A), *P = malloc(N * sizeof *P);
    CbStream s = cb_rng_stream(11, 12, CB_RNG_TEST, 0);
    for (size_t i = 0; i < N; ++i) A[i] = sqrt(psi) * cb_rng_normal(&s);
    cb_latala_prune_prob(A, m, n, d, psi, 0, P);
    CbNormOpts no;
    cb_norms_opts_default(&no);
    no.rtol = 1e-7;
    CbLatalaMc mc, mc2;
    CbLatalaCond c;
    CHECK(cb_latala_mc(A, P, m, n, 11, 12, 12, &no, &mc) == CB_OK, "Monte Carlo over 12 masks");
    CHECK(cb_latala_mc(A, P, m, n, 11, 12, 12, &no, &mc2) == CB_OK && mc2.mean == mc.mean,
          "same streams -> same estimate");
    cb_latala_conditional(A, P, m, n, &no, &c);
    double g = cb_latala_gamma(d, psi, m, n);
    CHECK(mc.mean < c.bound && mc.mean < g && mc.sd > 0,
          "E||Delta|| %.4f (sd %.2g) < (b) %.4f and (a) %.4f", mc.mean, mc.sd, c.bound, g);
    /* independent recomputation of one replicate with dgesdd */
    double *D = malloc(N * sizeof *D), ref;
    cb_latala_mc_delta(A, P, m, n, 11, 12, 0, D);
    cb_norms_spectral_ref(D, m, n, &ref);
    CHECK(ref >= mc.min - 1e-6 && ref <= mc.max + 1e-6, "replicate 0 (%.6f) inside [min, max]", ref);
    CHECK(cb_latala_mc(A, P, m, n, 1, 2, 1, &no, &mc) == CB_EINVAL, "reps = 1 rejected: %s", cb_err_msg());
    /* a failing norm propagates */
    CbNormOpts bad = no;
    bad.max_iter = 2;
    CHECK(cb_latala_mc(A, P, m, n, 1, 2, 3, &bad, &mc) == CB_ENUMERIC, "norm failure propagates");
    free(A); free(P); free(D);
}

static void test_output_bounds(void)
{
    /* t: closed form vs the authors' bisection (xtol 0.01) */
    double t = cb_latala_kw_t(60000, 784, 0.99), tb = cb_latala_kw_t_bisect(60000, 784, 0.99, 0.01);
    CHECK(fabs(t - tb) < 0.01, "t closed form %.5f vs bisection %.5f", t, tb);
    CHECK_CLOSE(1 - 60000 * exp(-t * t * 784), 0.99, 1e-12, "t solves 1 - n e^{-t^2 d1} = 0.99");
    CHECK(isnan(cb_latala_kw_t_bisect(60000, 10, 0.99, 0.01)), "no root in [0, 1] for d1 = 10 -> NaN");
    CHECK_CLOSE(cb_latala_kappa(784, 10, t), t * sqrt(10.0), 1e-15, "kappa = t sqrt(d2) when d2 < d1");
    CHECK(cb_latala_kappa(784, 784, t) == 1.0 && cb_latala_kappa(784, 700, 1.0) == 1.0,
          "kappa = 1 when d2 >= d1, and capped at 1");
    double spec[3] = {2.385, 1.25, 3.5}, pert[3] = {0.01, 0.02, 0.005}, kap[3] = {1, 0.5, 0.25};
    double direct = exp(1.0) * 7.1 * (2.385 * 1.25 * 3.5) * (0.01 / 2.385 + 0.02 / 1.25 + 0.005 / 3.5);
    CHECK_REL(exp(cb_latala_output_bound_log(3, spec, pert, NULL, 7.1)), direct, 1e-13,
              "Lemma C.5 form, kappa = 1");
    CHECK_REL(exp(cb_latala_output_bound_log(3, spec, pert, kap, 7.1)), direct * 0.125, 1e-13,
              "Lemma D.3 form, prod kappa = 0.125");
    CHECK_REL(cb_latala_rho_max(3.0, 5, 0.1, 250), (0.6 - 0.1) / 250, 1e-15, "Lemma 4.2 rho");
    CHECK(isnan(cb_latala_rho_max(3.0, 5, 0.7, 250)), "rho impossible when eps*Gamma > ||A||/L");
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    test_lemma_c1_quadrature();
    test_simulation();
    test_bracket();
    test_conditional();
    test_variants();
    test_output_bounds();
    return check_end("latala");
}
