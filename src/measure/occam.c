/*
 * occam — binomial tail inversion and the Occam bound (include/cbound/occam.h).
 *
 * Langford 2005 Thm 3.3/4.1: R(h) <= Bin^-1(k, n, delta 2^-|c(h)|). The binomial
 * CDF is summed in log space from its largest term: for p >= k/n the terms
 * t_j = ln C(n,j) + j ln p + (n-j) ln(1-p), j = 0..k, increase with j, so
 * ln CDF = t_k + ln sum_j exp(t_j - t_k), and the sum stops once a term is below
 * 2^-60 of it (the terms fall at least geometrically below the mode). Inversion
 * is bisection on p in [k/n, 1], where ln CDF decreases in p.
 */
#include "cbound/occam.h"

#include <math.h>

static double log_term(uint64_t j, uint64_t n, double lp, double lq)
{
    double nj = (double)n, jj = (double)j;
    return lgamma(nj + 1) - lgamma(jj + 1) - lgamma(nj - jj + 1) + jj * lp + (nj - jj) * lq;
}

double cb_occam_log_binom_cdf(uint64_t k, uint64_t n, double p)
{
    if (k >= n || p <= 0) return 0.0;
    if (p >= 1) return -INFINITY;
    double lp = log(p), lq = log1p(-p);
    /* the largest term is at j = min(k, mode); mode = floor((n+1)p) */
    double mode = floor(((double)n + 1) * p);
    uint64_t top = (double)k < mode ? k : (uint64_t)mode;
    double t_top = log_term(top, n, lp, lq), sum = 0.0;
    /* downward from top: ratio t_{j-1} - t_j = ln(j/(n-j+1)) + ln((1-p)/p) */
    double t = t_top;
    for (uint64_t j = top;; --j) {
        double e = exp(t - t_top);
        sum += e;
        if (j == 0 || e < 0x1p-60 * sum) break;
        t += log((double)j / (double)(n - j + 1)) + lq - lp;
    }
    /* upward from top to k (only when the mode lies below k) */
    t = t_top;
    for (uint64_t j = top + 1; j <= k; ++j) {
        t += log((double)(n - j + 1) / (double)j) + lp - lq;
        double e = exp(t - t_top);
        sum += e;
        if (e < 0x1p-60 * sum) break;
    }
    return t_top + log(sum);
}

double cb_occam_binom_inv(uint64_t k, uint64_t n, double log_conf)
{
    if (k >= n) return 1.0;
    double lo = (double)k / (double)n, hi = 1.0;
    if (cb_occam_log_binom_cdf(k, n, lo) < log_conf) return lo; /* only when log_conf > ln CDF(k/n) */
    while (hi - lo > 1e-13) {
        double mid = 0.5 * (lo + hi);
        if (cb_occam_log_binom_cdf(k, n, mid) >= log_conf) lo = mid;
        else hi = mid;
    }
    return hi; /* the bound: round outward */
}

double cb_occam_kl(double q, double p)
{
    if (p <= 0) return q > 0 ? INFINITY : 0.0;
    if (p >= 1) return q < 1 ? INFINITY : 0.0;
    double a = q > 0 ? q * log(q / p) : 0.0;
    double b = q < 1 ? (1 - q) * log((1 - q) / (1 - p)) : 0.0;
    return a + b;
}

double cb_occam_kl_inv(double q, double rhs)
{
    double lo = q, hi = 1.0;
    while (hi - lo > 1e-13) {
        double mid = 0.5 * (lo + hi);
        if (cb_occam_kl(q, mid) <= rhs) lo = mid;
        else hi = mid;
    }
    return hi;
}

double cb_occam_bound(uint64_t k, uint64_t n, double bits, double delta)
{
    return cb_occam_binom_inv(k, n, log(delta) - bits * M_LN2);
}

double cb_occam_bound_kl(uint64_t k, uint64_t n, double bits, double delta)
{
    return cb_occam_kl_inv((double)k / (double)n, (bits * M_LN2 + log(1 / delta)) / (double)n);
}
