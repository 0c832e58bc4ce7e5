/*
 * occam — the Occam bound for a classifier given by a prefix-free code
 * (src/measure/occam.c).
 *
 * Langford 2005 ("Tutorial on practical prediction theory for classification",
 * JMLR 6) Thm 3.3 (test-set bound) and Thm 4.1 (Occam's razor bound): if every
 * classifier h has a code c(h) from one prefix-free code, then with probability
 * >= 1 - delta over n i.i.d. training samples, simultaneously for all h,
 *     R(h) <= Bin^-1(k_h, n, delta 2^-|c(h)|),
 *     Bin^-1(k, n, x) = max { p : P[Bin(n, p) <= k] >= x },
 * where k_h = training errors of h (McAllester 1999; a point-mass PAC-Bayes
 * posterior with prior 2^-|c(h)|, Lotfi et al. 2022 eq. 2). The looser kl form
 * (Chernoff: P[Bin(n,p) <= k] <= exp(-n kl(k/n || p)) for k/n <= p):
 *     kl(k/n || R(h)) <= (|c(h)| ln 2 + ln(1/delta)) / n.
 * delta 2^-|c| underflows for |c| > ~1000 bits, so everything is in log space:
 * log_conf = ln delta - |c| ln 2.
 */
#ifndef CBOUND_OCCAM_H
#define CBOUND_OCCAM_H

#include <stdint.h>

#define CB_OCCAM_DELTA 0.05 /* the confidence the task driver records (delta column) */

/* ln P[Bin(n, p) <= k], summed in log space (lgamma terms, largest first). */
double cb_occam_log_binom_cdf(uint64_t k, uint64_t n, double p);
/* max { p in [k/n, 1] : ln P[Bin(n, p) <= k] >= log_conf } by bisection (|error| < 1e-12);
 * 1 if k >= n. log_conf <= 0. */
double cb_occam_binom_inv(uint64_t k, uint64_t n, double log_conf);
/* kl(q || p) = q ln(q/p) + (1-q) ln((1-q)/(1-p)), Bernoulli KL in nats. */
double cb_occam_kl(double q, double p);
/* max { p in [q, 1] : kl(q || p) <= rhs } by bisection. */
double cb_occam_kl_inv(double q, double rhs);

/* The two bounds for a code of `bits` bits, k training errors out of n. */
double cb_occam_bound(uint64_t k, uint64_t n, double bits, double delta);
double cb_occam_bound_kl(uint64_t k, uint64_t n, double bits, double delta);

#endif
