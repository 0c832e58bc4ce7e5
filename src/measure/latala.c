/*
 * latala — Latała-bracket bounds on the pruning error ‖Δ_l‖₂ and 004's output-error
 * bounds (Lemma C.1–C.5, 4.1, 4.2, D.1–D.4). Definitions and variants: latala.h.
 *
 * Closed forms (004 Lemma C.1, rederived): with A ~ N(0, Ψ) and prune probability
 * e^{−A²/(dΨ)}, E[A^k e^{−A²/(dΨ)}] = (s/√Ψ) E[N(0, s²)^k] with s² = dΨ/(d+2), so
 *     P(pruned) = √(d/(d+2)),  E Δ² = (d/(d+2))^{3/2} Ψ,  E Δ⁴ = 3 (d/(d+2))^{5/2} Ψ².
 * The tests check these by GSL quadrature and the keep fraction by simulation.
 * Dropped constants: Latała's C (set to 1); Lemma D.1's a, b (set to 1, as the
 * authors' code does); Lipschitz constants L_l = 1 (ReLU).
 */
#include "cbound/latala.h"
#include "cbound/rng.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ closed forms */

double cb_latala_keep_prob(double d)
{
    if (d <= 0) return 1.0; /* d → 0: exp(−A²/(dΨ)) → 0, nothing pruned */
    return 1.0 - sqrt(d / (d + 2.0));
}

void cb_latala_gauss_moments(double d, double psi, double *m2, double *m4)
{
    double r = d > 0 ? d / (d + 2.0) : 0.0;
    *m2 = pow(r, 1.5) * psi;
    *m4 = 3.0 * pow(r, 2.5) * psi * psi;
}

double cb_latala_bracket(const double *ex2, const double *ex4, size_t m, size_t n)
{
    double row_max = 0, s4 = 0;
    double *col = calloc(n ? n : 1, sizeof *col);
    for (size_t i = 0; i < m; ++i) {
        double r = 0;
        for (size_t j = 0; j < n; ++j) {
            r += ex2[i * n + j];
            col[j] += ex2[i * n + j];
            s4 += ex4[i * n + j];
        }
        if (r > row_max) row_max = r;
    }
    double col_max = 0;
    for (size_t j = 0; j < n; ++j) if (col[j] > col_max) col_max = col[j];
    free(col);
    return sqrt(row_max) + sqrt(col_max) + pow(s4, 0.25);
}

double cb_latala_gamma(double d, double psi, size_t d1, size_t d2)
{
    double m2, m4;
    cb_latala_gauss_moments(d, psi, &m2, &m4);
    /* rows have d2 entries, columns d1: max_i(Σ_j m2)^½ + max_j(Σ_i m2)^½ = √m2 (√d2 + √d1) */
    return sqrt(m2) * (sqrt((double)d1) + sqrt((double)d2)) + pow((double)d1 * (double)d2 * m4, 0.25);
}

void cb_latala_prune_prob(const double *A, size_t m, size_t n, double d, double psi, int keep_diag,
                          double *P)
{
    for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j) {
            double a = A[i * n + j];
            double p = (d > 0 && psi > 0) ? exp(-a * a / (d * psi)) : 0.0;
            P[i * n + j] = (keep_diag && i == j) ? 0.0 : p;
        }
}

/* ------------------------------------------------------------------ variant (b) */

CbStatus cb_latala_conditional(const double *A, const double *P, size_t m, size_t n,
                               const CbNormOpts *no, CbLatalaCond *out)
{
    size_t N = m * n;
    double *mean = cb_malloc(N * sizeof *mean), *e2 = cb_malloc(N * sizeof *e2),
           *e4 = cb_malloc(N * sizeof *e4);
    for (size_t i = 0; i < N; ++i) {
        double a = A[i], p = P[i], q = 1.0 - p, a2 = a * a;
        mean[i] = a * p;                                     /* E[Δ|A]             */
        e2[i] = a2 * p * q;                                  /* Var: A² p (1−p)    */
        e4[i] = a2 * a2 * p * q * (q * q * q + p * p * p);   /* E(B − p)⁴ = pq(q³+p³) */
    }
    CbSpecNorm sn;
    CbStatus st = cb_norms_spectral(mean, m, n, no, &sn);
    out->mean_norm = sn.value;
    out->bracket_centred = cb_latala_bracket(e2, e4, m, n);
    out->bound = out->mean_norm + out->bracket_centred;
    free(mean); free(e2); free(e4);
    return st;
}

/* ------------------------------------------------------------------ variant (c) */

void cb_latala_mc_delta(const double *A, const double *P, size_t m, size_t n, uint64_t seed,
                        uint64_t key, uint32_t rep, double *delta)
{
    for (size_t i = 0; i < m * n; ++i) {
        double u = cb_rng_uniform_at(seed, key, CB_RNG_MC, rep, i);
        delta[i] = u < P[i] ? A[i] : 0.0;
    }
}

CbStatus cb_latala_mc(const double *A, const double *P, size_t m, size_t n, uint64_t seed,
                      uint64_t key, int reps, const CbNormOpts *no, CbLatalaMc *out)
{
    memset(out, 0, sizeof *out);
    if (reps < 2) return CB_ERR(CB_EINVAL, "Monte Carlo over masks: reps = %d (expected >= 2)", reps);
    double *delta = cb_malloc(m * n * sizeof *delta), s = 0, ss = 0, mn = INFINITY, mx = 0;
    CbNormOpts o = *no;
    for (int r = 0; r < reps; ++r) {
        cb_latala_mc_delta(A, P, m, n, seed, key, (uint32_t)r, delta);
        CbSpecNorm sn;
        o.index = (uint32_t)r;
        CbStatus st = cb_norms_spectral(delta, m, n, &o, &sn);
        if (st != CB_OK) { free(delta); return st; }
        s += sn.value;
        ss += sn.value * sn.value;
        if (sn.value < mn) mn = sn.value;
        if (sn.value > mx) mx = sn.value;
    }
    free(delta);
    out->reps = reps;
    out->mean = s / reps;
    double var = (ss - reps * out->mean * out->mean) / (reps - 1);
    out->sd = var > 0 ? sqrt(var) : 0;
    out->stderr_mean = out->sd / sqrt((double)reps);
    out->min = mn;
    out->max = mx;
    return CB_OK;
}

/* ------------------------------------------------------------------ output bounds */

double cb_latala_output_bound_log(int L, const double *spec_A, const double *pert,
                                  const double *kappa, double x_norm)
{
    /* Lemma C.4 / D.2: ‖x̂ᴸ − xᴸ‖ ≤ (1 + 1/L)^L ‖x‖ Π κ_l L_l ‖A_l‖ Σ ‖U_l‖/‖A_l‖ ≤ e (...) */
    double lg = 1.0 + log(x_norm), sum = 0;
    for (int l = 0; l < L; ++l) {
        lg += log(spec_A[l]) + (kappa ? log(kappa[l]) : 0.0);
        sum += pert[l] / spec_A[l];
    }
    return lg + log(sum);
}

double cb_latala_kw_t(double n_samples, double d1, double target)
{
    return sqrt(log(n_samples / (1.0 - target)) / d1);
}

/* scipy.optimize.bisect's loop (scipy/optimize/Zeros/bisect.c), rtol = 4 DBL_EPSILON */
double cb_latala_kw_t_bisect(double n_samples, double d1, double target, double xtol)
{
    double xa = 0, xb = 1;
#define KW_F(t) (1.0 - n_samples * exp(-(t) * (t) * d1) - target)
    double fa = KW_F(xa), fb = KW_F(xb);
    if (fa * fb > 0) return NAN;
    if (fa == 0) return xa;
    if (fb == 0) return xb;
    double dm = xb - xa;
    for (int i = 0; i < 100; ++i) {
        dm *= 0.5;
        double xm = xa + dm, fm = KW_F(xm);
        if (fm * fa >= 0) xa = xm;
        if (fm == 0 || fabs(dm) < xtol + 4.0 * DBL_EPSILON * fabs(xm)) return xm;
    }
#undef KW_F
    return NAN;
}

double cb_latala_kappa(size_t d_in, size_t d_out, double t)
{
    if (d_out >= d_in) return 1.0;
    double k = t * sqrt((double)d_out);
    return k < 1.0 ? k : 1.0;
}

double cb_latala_rho_max(double spec_A, int L, double eps_gamma, double J)
{
    double num = spec_A / L - eps_gamma;
    return num > 0 && J > 0 ? num / J : NAN;
}
