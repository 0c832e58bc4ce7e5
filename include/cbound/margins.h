/*
 * margins — the margin distribution of a classifier on its training set (004 §3.1).
 *
 * Margin of (x, y): M(x)[y] − max_{j≠y} M(x)[j] on the logits (double forward pass).
 * Empirical margin loss R̂_γ(M) = (1/n) #{ margin ≤ γ } (004 §3.1, "≤"); the 004
 * authors' code counts "< γ" (cb_margins_loss_strict) — the two differ only on ties.
 * One pass over the training set measures both models together, so the quantities
 * the bounds need come from the same logits:
 *   margins of the original f and the compressed g (sorted ascending),
 *   max_x ‖x‖₂ (004's ‖x‖ in Lemma C.5), ‖X‖_F = (Σ_x ‖x‖₂²)^½ (Bartlett et al. 2017),
 *   max_x ‖f(x) − g(x)‖₂ (the quantity Lemma 4.1/C.5 bounds) and ‖·‖_∞ (the quantity
 *   Arora et al.'s (γ, S)-compressibility needs).
 * Quantiles use linear interpolation between order statistics (numpy's default).
 */
#ifndef CBOUND_MARGINS_H
#define CBOUND_MARGINS_H

#include "cbound/data.h"
#include "cbound/err.h"
#include "cbound/mlp.h"

#include <stddef.h>

typedef struct {
    size_t n;
    double *f;            /* (n) margins of the original model, ascending        */
    double *g;            /* (n) margins of the compressed model, ascending (or NULL) */
    double x_norm_max;    /* max_x ‖x‖₂                                           */
    double x_fro;         /* (Σ_x ‖x‖₂²)^½                                        */
    double out_err_l2;    /* max_x ‖f(x) − g(x)‖₂                                  */
    double out_err_linf;  /* max_x ‖f(x) − g(x)‖_∞                                 */
} CbMargins;

/* f required; g may be NULL (then only f's margins). Classification data only
 * (CB_EINVAL for regression or an empty set). */
CbStatus cb_margins_measure(const CbMlp *f, const CbMlp *g, const CbData *train, CbMargins *out);
/* The same from precomputed logits zf, zg (n, k) of the training set (zg may be NULL). */
CbStatus cb_margins_from_logits(const double *zf, const double *zg, size_t k, const CbData *train,
                                CbMargins *out);
void cb_margins_free(CbMargins *m);

/* q in [0, 1] of ascending values s (n >= 1). */
double cb_margins_quantile(const double *s, size_t n, double q);
/* Fraction of ascending values ≤ gamma (004) and < gamma (authors' code). */
double cb_margins_loss(const double *s, size_t n, double gamma);
double cb_margins_loss_strict(const double *s, size_t n, double gamma);

#endif
