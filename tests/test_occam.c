/*
 * Tests for occam (Langford 2005 Thm 3.3/4.1): the log-space binomial CDF against
 * GSL's gsl_cdf_binomial_P (incomplete-beta route), against brute-force products
 * in long double on a small n, and against a long-double sum over every term
 * (lgammal) where the CDF underflows a double; the inversion against the
 * closed form at k = 0 ((1-p)^n = delta 2^-c  =>  p = -expm1(ln(delta 2^-c) / n))
 * and against GSL's CDF at the returned p; the kl form against its definition and
 * as an upper bound on the binomial form; the Occam arithmetic of the anchors
 * (n = 60,000, k = 0, 8.6 kbit -> about 10 %).
 */
#include "cbound/occam.h"
#include "check.h"

#include <gsl/gsl_cdf.h>

/* ln sum_{j<=k} C(n,j) p^j (1-p)^(n-j), every term in long double from lgammal, log-sum-exp */
static double log_cdf_all_terms(unsigned k, unsigned n, double p)
{
    long double m = -INFINITY, s = 0;
    for (unsigned j = 0; j <= k; ++j) {
        long double t = lgammal(n + 1.0L) - lgammal(j + 1.0L) - lgammal(n - j + 1.0L) + j * logl(p) +
                        (n - j) * log1pl(-(long double)p);
        if (t > m) {
            s = s * expl(m - t) + 1;
            m = t;
        } else {
            s += expl(t - m);
        }
    }
    return (double)(m + logl(s));
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);

    /* 1. CDF against GSL (regularized incomplete beta) where it does not underflow. */
    {
        unsigned ns[] = {17, 240, 3001}, worst_n = 0;
        double ps[] = {0.0371, 0.2385, 0.61, 0.937}, worst = 0;
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 4; ++b)
                for (unsigned k = 0; k < ns[a]; k += 1 + ns[a] / 7) {
                    double ref = gsl_cdf_binomial_P(k, ps[b], ns[a]);
                    if (ref < 1e-280) continue;
                    double d = fabs(cb_occam_log_binom_cdf(k, ns[a], ps[b]) - log(ref));
                    if (d > worst) worst = d, worst_n = ns[a];
                }
        CHECK(worst < 1e-9, "ln CDF vs gsl_cdf_binomial_P on n = 17, 240, 3001: max |diff| %.3g (n %u)", worst, worst_n);
    }
    /* 2. Brute force: explicit products in long double, n = 12. */
    {
        double worst = 0;
        for (unsigned k = 0; k < 12; ++k) {
            long double p = 0.2385L, s = 0;
            for (unsigned j = 0; j <= k; ++j) {
                long double c = 1, t = 1;
                for (unsigned i = 0; i < j; ++i) c = c * (12 - i) / (i + 1);
                for (unsigned i = 0; i < j; ++i) t *= p;
                for (unsigned i = 0; i < 12 - j; ++i) t *= 1 - p;
                s += c * t;
            }
            worst = fmax(worst, fabs(cb_occam_log_binom_cdf(k, 12, 0.2385) - (double)logl(s)));
        }
        CHECK(worst < 1e-13, "ln CDF vs brute-force products (n = 12, p = 0.2385): max |diff| %.3g", worst);
    }
    /* 3. Deep tail (the CDF underflows a double): every term via gsl_sf_lnchoose. */
    {
        unsigned ks[] = {0, 37, 9000, 20000};
        double ps[] = {0.0137, 0.2385, 0.61};
        double worst = 0, deepest = 0;
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 3; ++b) {
                double p = fmax(ps[b], ks[a] / 60000.0);
                double ref = log_cdf_all_terms(ks[a], 60000, p), got = cb_occam_log_binom_cdf(ks[a], 60000, p);
                worst = fmax(worst, fabs(got - ref) / fmax(1, fabs(ref)));
                deepest = fmin(deepest, ref);
            }
        /* lgamma(60001) ~ 6e5 carries ~1e-10 absolute rounding: the agreement expected */
        CHECK(worst < 1e-9, "ln CDF at n = 60000 vs all-terms long double sum: max rel diff %.3g (down to ln CDF = %.0f)", worst,
              deepest);
    }
    /* 4. Inversion at k = 0: closed form, in log space (delta 2^-5000 underflows). */
    {
        double worst = 0;
        double bits[] = {0, 13.7, 1000, 5000, 86000};
        for (int i = 0; i < 5; ++i) {
            double lc = log(0.05) - bits[i] * M_LN2;
            double closed = -expm1(lc / 60000);
            worst = fmax(worst, fabs(cb_occam_binom_inv(0, 60000, lc) - closed));
            worst = fmax(worst, fabs(cb_occam_bound(0, 60000, bits[i], 0.05) - closed));
        }
        CHECK(worst < 1e-11, "Bin^-1(0, n, x) = 1 - x^(1/n) for x = 0.05 * 2^-{0..86000}: max |diff| %.3g", worst);
    }
    /* 5. Inversion at k > 0 where GSL can check it: CDF(p*) = x, CDF(p* - 1e-9) > x. */
    {
        unsigned k = 37, n = 500;
        double x = 0.05 * pow(2, -10.5), lc = log(x);
        double p = cb_occam_binom_inv(k, n, lc);
        CHECK_REL(gsl_cdf_binomial_P(k, p, n), x, 1e-8, "GSL CDF at the inversion (k 37, n 500) equals delta 2^-c");
        CHECK(gsl_cdf_binomial_P(k, p - 1e-9, n) > x, "the inversion is the largest such p");
        CHECK(p > 37.0 / 500 && p < 1, "k/n < Bin^-1 < 1 (%.6f)", p);
    }
    /* 6. kl form: definition, and looser than the binomial form (Chernoff). */
    {
        CHECK_CLOSE(cb_occam_kl(0.2385, 0.61), 0.2385 * log(0.2385 / 0.61) + 0.7615 * log(0.7615 / 0.39), 1e-15,
                    "kl(q||p) by its definition");
        double p = cb_occam_kl_inv(0.0371, 0.0513);
        CHECK_CLOSE(cb_occam_kl(0.0371, p), 0.0513, 1e-10, "kl(q || kl^-1(q, r)) = r");
        int ok = 1;
        for (unsigned k = 0; k <= 30000; k += 3000)
            for (double bits = 0; bits <= 40000; bits += 8000)
                ok &= cb_occam_bound_kl(k, 60000, bits, 0.05) >= cb_occam_bound(k, 60000, bits, 0.05);
        CHECK(ok, "kl form >= binomial form on a grid of k and code bits (n = 60000)");
    }
    /* 7. Monotone in the code length and the training errors. */
    {
        double a = cb_occam_bound(600, 60000, 2000, 0.05), b = cb_occam_bound(600, 60000, 2001, 0.05);
        double c = cb_occam_bound(601, 60000, 2000, 0.05);
        CHECK(b > a && c > a, "one more bit or error raises the bound (%.9f -> %.9f, %.9f)", a, b, c);
    }
    /* 8. The anchors' Occam arithmetic: n = 60,000, no error, 8.6 kbit -> about 10 %. */
    {
        double b = cb_occam_bound(0, 60000, 8600, 0.05);
        CHECK(b > 0.09 && b < 0.10, "n 60000, k 0, 8600 bits: bound %.4f in (0.09, 0.10)", b);
        CHECK(cb_occam_bound(60000, 60000, 10, 0.05) == 1.0, "k = n gives the trivial bound 1");
    }
    return check_end("occam");
}
