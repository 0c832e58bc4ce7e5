/*
 * bounds — 004's generalization bounds (Theorem 5.2 sketching, Lemma E.1 counting), the
 * compression bound of Arora et al. 2018 (Theorem 3.1 as 004 states it) and the norm
 * baselines (Bartlett et al. 2017, Neyshabur et al. 2015, Neyshabur et al. 2017), each
 * in a "paper" form and in the exact form of the 004 authors' code (variant
 * "authors_code", for their Table 2), all in log space; plus the per-layer measurements
 * they rest on (certified spectral norms, Latała brackets, Lemma 5.1's sparsity bound).
 * Names, variants and margins: include/cbound/bounds.h; formulas and dropped constants:
 * docs/bounds.md.
 *
 * Sections: formulas (pure, on CbBoundInputs) — the authors' recipe — the driver entry.
 */
#include "cbound/bounds.h"
#include "cbound/latala.h"
#include "cbound/margins.h"
#include "cbound/measure.h"
#include "cbound/norms.h"
#include "cbound/rng.h"

#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cb_bounds_opts_default(CbBoundsOpts *o)
{
    memset(o, 0, sizeof *o);
    o->delta = 0.1;
    o->lambda = 1.0;
    o->kw_target = 0.99;
    o->mc_reps = 0;
    o->norm_rtol = 1e-9;
    o->recipe = 1;
    o->recipe_dmax = 10.0;
    o->recipe_xtol = 1e-3;
    o->latala = 1;
    o->margins = 1;
}

double cb_bounds_ln_r(double max_abs, double rho)
{
    if (!(rho > 0)) return 32.0 * M_LN2;
    return log(2.0 * ceil(max_abs / rho) + 1.0);
}

double cb_bounds_lpq_authors(const double *A, size_t m, size_t n, double p, double q)
{
    double s = 0;
    for (size_t j = 0; j < n; ++j) {
        double c = 0;
        for (size_t i = 0; i < m; ++i) {
            double a = pow(fabs(A[i * n + j]), p);
            c += a * a;
        }
        s += pow(sqrt(c), q / p);
    }
    return pow(s, 1.0 / q);
}

/* ------------------------------------------------------------------ formulas */

/* Hypotheses every theorem here shares: 004 (Lemmas C.5, D.3, D.4), Arora et al. 2018
 * (whose count has no biases in it), Bartlett et al. 2017 and Neyshabur et al. 2015/2017
 * are all stated for networks without biases. */
static void why_bias(CbBoundRow *b, const CbBoundInputs *in)
{
    if (in->bias) cb_result_bound_why(b, "network has biases (the theorem assumes none)");
}

/* R̂_γ(f) + √(complexity / n) as an error-scale row. Always added, so that rows whose
 * theorem fails or whose inputs are missing are shown with the reason, never dropped. */
static CbBoundRow *add_sqrt_bound(CbResult *res, const char *name, const char *variant, const CbBoundInputs *in,
                                  double gamma, double complexity, const char *gamma_rule)
{
    double rhat = isnan(gamma) ? NAN : cb_margins_loss(in->mf, (size_t)in->n, gamma);
    double v = log(rhat + sqrt(complexity / in->n));
    CbBoundRow *b = cb_result_add_bound(res, name, variant, "error", v, gamma, rhat, complexity);
    b->n = in->n;
    snprintf(b->gamma_rule, sizeof b->gamma_rule, "%s", gamma_rule);
    if (isnan(gamma)) cb_result_bound_why(b, "no margin (needed margin not computable)");
    else if (gamma < 0) cb_result_bound_why(b, "gamma = %.4g < 0", gamma);
    if (!isfinite(complexity)) cb_result_bound_why(b, "parameter count not computable");
    why_bias(b, in);
    return b;
}

/* ln e‖x‖ Π κ_l ‖A_l‖ Σ pert_l/‖A_l‖ with pert_l = base_l + ρ_l J_l (ρ NaN: float32, no term). */
static double needed_margin_log(const CbBoundInputs *in, int use_eps_gamma, int use_kappa)
{
    double spec[64], pert[64], kap[64];
    if (in->L > 64) return NAN;
    for (int l = 0; l < in->L; ++l) {
        const CbBoundLayer *y = &in->layer[l];
        spec[l] = y->spec;
        /* paper: ε_lΓ_l + ρ_lJ_l (Lemma 4.2); measured: ‖A − Â‖₂ of the task's model, which
         * already includes any discretization the task applied */
        pert[l] = use_eps_gamma ? y->eps_gamma + (y->rho > 0 ? y->rho * y->nnz : 0.0) : y->spec_delta;
        kap[l] = y->kappa;
    }
    return cb_latala_output_bound_log(in->L, spec, pert, use_kappa ? kap : NULL, in->x_norm_max);
}

/* Norm-baseline complexity terms (the quantity added to R̂_γ), "paper" forms. */
typedef enum { NB_ORIG, NB_COMP, NB_INIT } NormSet;

static double baseline_term(const CbBoundInputs *in, const char *which, NormSet set, double gamma)
{
    int L = in->L;
    double lp_spec = 0, lp_fro = 0, s21 = 0, sfro = 0, hmax = 0;
    for (int l = 0; l < L; ++l) {
        const CbBoundLayer *y = &in->layer[l];
        double sp = set == NB_COMP ? y->spec_comp : y->spec;
        double fr = set == NB_COMP ? y->fro_comp : set == NB_INIT ? y->fro_init : y->fro;
        double l21 = set == NB_COMP ? y->l21_comp : set == NB_INIT ? y->l21_init : y->l21;
        double fr_abs = set == NB_COMP ? y->fro_comp : y->fro; /* Neyshabur 2015 has no reference */
        lp_spec += log(sp);
        lp_fro += log(fr_abs);
        s21 += pow(l21 / sp, 2.0 / 3.0);
        sfro += fr * fr / (sp * sp);
        if ((double)y->d_out > hmax) hmax = (double)y->d_out;
        if ((double)y->d_in > hmax) hmax = (double)y->d_in;
    }
    double B = in->x_norm_max, n = in->n;
    if (!strcmp(which, "neyshabur2015"))
        /* Golowich et al. 2018 Thm 1's sharpening of Neyshabur et al. 2015 (Frobenius, p = q = 2) */
        return B * (sqrt(2.0 * M_LN2 * L) + 1.0) * exp(lp_fro) / (gamma * sqrt(n));
    if (!strcmp(which, "bartlett2017"))
        /* Bartlett et al. 2017 Thm 1.1: ‖X‖_F R_A ln(W) / (γ n), R_A = Π‖A‖₂ (Σ(‖Aᵀ‖₂,₁/‖A‖₂)^{2/3})^{3/2} */
        return in->x_fro * exp(lp_spec) * pow(s21, 1.5) * log(hmax) / (gamma * n);
    /* Neyshabur et al. 2017 Thm 1: √(B² L² h ln(L h) Π‖A‖₂² Σ‖A‖_F²/‖A‖₂² / (γ² n)) */
    return sqrt(B * B * L * L * hmax * log(L * hmax) * exp(2.0 * lp_spec) * sfro / (gamma * gamma * n));
}

static void add_baseline(CbResult *res, const CbBoundInputs *in, const char *name, const char *variant,
                         NormSet set, const double *margins)
{
    double gamma = cb_margins_quantile(margins, (size_t)in->n, 0.05);
    double term = gamma > 0 ? baseline_term(in, name, set, gamma) : INFINITY;
    double rhat = cb_margins_loss(margins, (size_t)in->n, gamma);
    CbBoundRow *b = cb_result_add_bound(res, name, variant, "error", log(rhat + term), gamma, rhat, term * term * in->n);
    b->n = in->n;
    snprintf(b->gamma_rule, sizeof b->gamma_rule, "5th percentile of training margins");
    if (!(gamma > 0)) cb_result_bound_why(b, "5th-percentile margin %.4g <= 0 (the bound is +inf)", gamma);
    else if (!isfinite(term)) cb_result_bound_why(b, "complexity term not finite");
    why_bias(b, in);
}

/* The authors' code: squared complexity / γ², no margin loss, no 1/n, γ = min margin of f.
 * Not bounds on the error: kept, on their own scale, to compare with their Table 2. */
static void add_baselines_authors(CbResult *res, const CbBoundInputs *in)
{
    double gamma = in->mf[0];
    double l_prod_fro = 0, l_prod_spec = 0, s_bart = 0, s_ney = 0;
    for (int l = 0; l < in->L; ++l) {
        const CbBoundLayer *y = &in->layer[l];
        l_prod_fro += 2.0 * log(y->fro);
        l_prod_spec += 2.0 * log(y->spec);
        s_bart += y->lpq_authors * y->lpq_authors / (y->spec * y->spec);
        s_ney += y->fro * y->fro / (y->spec * y->spec) * (double)y->d_in; /* weight.shape[1] */
    }
    /* γ <= 0: their code sets the margin to 0 and divides by it: +∞ */
    double lg2 = gamma > 0 ? 2.0 * log(gamma) : -INFINITY;
    /* Rows by index: adding a row may move the array, so no pointer is kept across an add. */
    int first = res->n_bounds;
    cb_result_add_bound(res, "neyshabur2015", "authors_code", "complexity", l_prod_fro - lg2, gamma, NAN,
                        exp(l_prod_fro));
    cb_result_add_bound(res, "bartlett2017", "authors_code", "complexity", l_prod_spec + log(s_bart) - lg2, gamma, NAN,
                        exp(l_prod_spec) * s_bart);
    cb_result_add_bound(res, "neyshabur2017", "authors_code", "complexity", l_prod_spec + log(s_ney) - lg2, gamma, NAN,
                        exp(l_prod_spec) * s_ney);
    CbBoundRow *b[3] = {&res->bounds[first], &res->bounds[first + 1], &res->bounds[first + 2]};
    for (int i = 0; i < 3; ++i) {
        b[i]->n = in->n;
        snprintf(b[i]->gamma_rule, sizeof b[i]->gamma_rule, "min training margin");
        cb_result_bound_why(b[i], "not a bound on the error (authors' squared term: no sqrt, 1/n, margin loss)");
        if (i == 1) cb_result_bound_why(b[i], "||A||_F in place of ||A^T||_{2,1}");
        if (!(gamma > 0)) cb_result_bound_why(b[i], "min margin %.4g <= 0 (+inf)", gamma);
        why_bias(b[i], in);
    }
}

void cb_bounds_compute(const CbBoundInputs *in, CbResult *res)
{
    int L = in->L, mbp = 1, init = 1, sketch = 1;
    double q_pred = 0, q_pred_printed = 0, q_meas = 0, q_meas_proof = 0, q_sketch = 0, c_meas = 0, c_pred = 0,
           q_arora = 0, prob_fail = 0;
    for (int l = 0; l < L; ++l) {
        const CbBoundLayer *y = &in->layer[l];
        double d1 = (double)y->d_out, d2 = (double)y->d_in, p = d1 > d2 ? d1 : d2;
        double lnr = cb_bounds_ln_r(y->max_abs_comp, y->rho), ln2p = log(p) * log(p);
        double j = y->j_r > y->j_c ? y->j_r : y->j_c;
        double jr_rows = y->j_r * d1, jc_cols = y->j_c * d2; /* each >= nnz */
        mbp &= isfinite(y->chi) && isfinite(y->eps_gamma);
        init &= isfinite(y->fro_init);
        double sp = l < res->n_layers ? res->layers[l].v[CB_L_sketch_params] : NAN;
        sketch &= isfinite(sp);
        /* Thm 5.1 (Dasarathy et al. 2013): m_l = √(max(j_r d_out, j_c d_in)) ln p_l, so q_l = m_l²
         * parameters, each one of r_l values. With Lemma 5.1's j_r, j_c <= 3λχ p_l this is
         * 3λχ p_l² ln² p_l; Thm 5.2 as printed has d₁d₂ in place of p_l² (equal for square
         * layers, smaller otherwise), and its proof uses (√(j_l p_l) ln p_l)². */
        q_pred += 3.0 * in->lambda * y->chi * p * p * ln2p * lnr;
        q_pred_printed += 3.0 * in->lambda * y->chi * d1 * d2 * ln2p * lnr;
        q_meas += (jr_rows > jc_cols ? jr_rows : jc_cols) * ln2p * lnr;
        q_meas_proof += j * p * ln2p * lnr;
        q_sketch += sp * lnr;
        /* Lemma E.1: ln C(d₁d₂, α) + α ln r */
        unsigned N = (unsigned)(d1 * d2);
        c_meas += gsl_sf_lnchoose(N, (unsigned)y->nnz) + y->nnz * lnr;
        double a_pred = floor(y->chi * d1 * d2 + 0.5);
        if (isfinite(a_pred)) c_pred += gsl_sf_lnchoose(N, (unsigned)a_pred) + a_pred * lnr;
        q_arora += y->nnz * lnr;
        /* Thm 5.2's failure probability: Σ_l 1/λ_l + 1/ε_l + p_l^{-c}, c >= 2 (004 Remark 5.1) */
        prob_fail += 1.0 / in->lambda + (isfinite(y->eps_gamma) ? in->delta / L : 0.0) + 1.0 / (p * p);
    }
    double g_meas = exp(needed_margin_log(in, 0, 1));
    double g_emp = 2.0 * in->out_err_linf;
    if (mbp) {
        double g52 = exp(needed_margin_log(in, 1, 0)); /* Thm 5.2's condition as printed (no κ) */
        double gd4 = exp(needed_margin_log(in, 1, 1)); /* Lemma D.4's condition (with κ_l) */
        const char *r52 = "needed: Thm 5.2 as printed (eps*Gamma + rho*J, no kappa)";
        int first = res->n_bounds; /* by index: a later add may move the rows */
        add_sqrt_bound(res, "sketch_004_thm5.2", "predicted_j", in, g52, q_pred, r52);
        add_sqrt_bound(res, "sketch_004_thm5.2", "predicted_j_printed", in, g52, q_pred_printed, r52);
        for (int i = 0; i < 2; ++i)
            if (1.0 - prob_fail <= 0)
                cb_result_bound_why(&res->bounds[first + i],
                                    "Thm 5.2 holds with probability 1 - sum(1/lambda + 1/eps_l + p_l^-2) = %.3g <= 0",
                                    1.0 - prob_fail);
        add_sqrt_bound(res, "counting_004_lemmaE.1", "predicted_nnz", in, gd4, c_pred,
                       "needed: Lemma D.4 (eps*Gamma + rho*J, kappa)");
    }
    const char *rme = "needed: Lemma D.3 with measured Delta (kappa)";
    const char *rem = "empirical: 2 max ||f(x) - g(x)||_inf on S";
    add_sqrt_bound(res, "sketch_004_thm5.2", "measured_j", in, g_meas, q_meas, rme);
    add_sqrt_bound(res, "sketch_004_thm5.2", "measured_j_proof", in, g_meas, q_meas_proof, rme);
    add_sqrt_bound(res, "sketch_004_thm5.2", "measured_j_emp_gamma", in, g_emp, q_meas, rem);
    if (sketch) add_sqrt_bound(res, "sketch_004_thm5.2", "measured_sketch", in, g_meas, q_sketch, rme);
    add_sqrt_bound(res, "counting_004_lemmaE.1", "measured_nnz", in, g_meas, c_meas, rme);
    add_sqrt_bound(res, "arora2018_thm3.1", "as_004_states", in, g_emp, q_arora, rem);

    add_baseline(res, in, "neyshabur2015", "paper", NB_ORIG, in->mf);
    add_baseline(res, in, "bartlett2017", "paper", NB_ORIG, in->mf);
    add_baseline(res, in, "neyshabur2017", "paper", NB_ORIG, in->mf);
    if (in->mg) {
        add_baseline(res, in, "neyshabur2015", "paper_compressed", NB_COMP, in->mg);
        add_baseline(res, in, "bartlett2017", "paper_compressed", NB_COMP, in->mg);
        add_baseline(res, in, "neyshabur2017", "paper_compressed", NB_COMP, in->mg);
    }
    if (init) {
        add_baseline(res, in, "bartlett2017", "from_init", NB_INIT, in->mf);
        add_baseline(res, in, "neyshabur2017", "from_init", NB_INIT, in->mf);
    }
    add_baselines_authors(res, in);

    res->task[CB_T_outbound_measured_ln] = needed_margin_log(in, 0, 1);
    if (mbp) {
        double spec[64], eg[64], kap[64], eg42[64];
        for (int l = 0; l < L && l < 64; ++l) {
            spec[l] = in->layer[l].spec;
            eg[l] = in->layer[l].eps_gamma;
            kap[l] = in->layer[l].kappa;
            eg42[l] = eg[l] + (in->layer[l].rho > 0 ? in->layer[l].rho * in->layer[l].nnz : 0.0);
        }
        res->task[CB_T_outbound_c5_ln] = cb_latala_output_bound_log(L, spec, eg, NULL, in->x_norm_max);
        res->task[CB_T_outbound_d3_ln] = cb_latala_output_bound_log(L, spec, eg, kap, in->x_norm_max);
        res->task[CB_T_outbound_42_ln] = cb_latala_output_bound_log(L, spec, eg42, kap, in->x_norm_max);
    }
}

/* ------------------------------------------------------------------ the authors' recipe */

/* needed(d) of the authors' code, with one shared mask stream (replicate 2³⁰ + layer). */
static CbStatus recipe_needed(const CbTaskCtx *ctx, const CbMlp *f, const double *p, const double *spec,
                              const double *psi, const double *kap, double d, double x_norm_max,
                              double rtol, double *needed)
{
    double s = 0, lprod = 0;
    for (int l = 0; l < f->depth; ++l) {
        size_t m = f->widths[l + 1], n = f->widths[l];
        const double *A = p + f->offset_W[l];
        lprod += log(spec[l]) + log(kap[l]);
        if (d <= 0) continue; /* exp(−w²/0) = 0: nothing pruned */
        double *P = cb_malloc(m * n * sizeof *P), *D = cb_malloc(m * n * sizeof *D);
        cb_latala_prune_prob(A, m, n, d, psi[l], 0, P); /* code variant: diagonal pruned too */
        cb_latala_mc_delta(A, P, m, n, ctx->seed, ctx->key, (1u << 30) + (uint32_t)l, D);
        CbNormOpts no;
        cb_norms_opts_default(&no);
        no.rtol = rtol;
        no.seed = ctx->seed;
        no.key = ctx->key;
        no.index = (1u << 30) + (uint32_t)l;
        CbSpecNorm sn;
        CbStatus st = cb_norms_spectral(D, m, n, &no, &sn);
        free(P);
        free(D);
        if (st != CB_OK) return st;
        s += sn.value / spec[l];
    }
    *needed = exp(1.0) * x_norm_max * s * exp(lprod);
    return CB_OK;
}

CbStatus cb_bounds_recipe(const CbTaskCtx *ctx, const CbMlp *f, const double *mf, size_t n,
                          double x_norm_max, const CbBoundsOpts *o, CbRecipe *out)
{
    memset(out, 0, sizeof *out);
    int L = f->depth;
    double *p = cb_malloc(f->n_params * sizeof *p);
    cb_mlp_params_to_double(f, p);
    double *spec = cb_malloc((size_t)L * sizeof *spec), *psi = cb_malloc((size_t)L * sizeof *psi),
           *kap = cb_malloc((size_t)L * sizeof *kap);
    CbStatus st = CB_OK;
    double count_d1d2ln2 = 0;
    for (int l = 0; l < L && st == CB_OK; ++l) {
        size_t m = f->widths[l + 1], k = f->widths[l];
        const double *A = p + f->offset_W[l];
        CbNormOpts no;
        cb_norms_opts_default(&no);
        no.rtol = o->norm_rtol;
        no.seed = ctx->seed;
        no.key = ctx->key;
        no.index = (uint32_t)l;
        CbSpecNorm sn;
        st = cb_norms_spectral(A, m, k, &no, &sn);
        spec[l] = sn.value;
        CbMoments mo;
        cb_norms_moments(A, m, k, &mo);
        psi[l] = mo.var; /* np.var: population variance */
        /* the authors: d_1, d_2 = weight.T.shape = (fan-in, fan-out); κ only when fan-out < fan-in */
        double t = cb_latala_kw_t_bisect((double)n, (double)k, o->kw_target, 0.01);
        if (isnan(t)) t = cb_latala_kw_t((double)n, (double)k, o->kw_target); /* their bisect would raise */
        kap[l] = cb_latala_kappa(k, m, t);
        double pmax = (double)(m > k ? m : k);
        count_d1d2ln2 += (double)m * (double)k * log(pmax) * log(pmax);
    }
    out->gamma_min = mf[0];
    if (st == CB_OK) {
        double a = 0, b = o->recipe_dmax, fa = out->gamma_min, needed;
        if (!(out->gamma_min > 0)) {
            out->d_best = 0; /* the authors: margin <= 0 -> margin 0, alpha 0 */
        } else {
            st = recipe_needed(ctx, f, p, spec, psi, kap, b, x_norm_max, o->norm_rtol, &needed);
            ++out->evaluations;
            double fb = out->gamma_min - needed;
            if (st == CB_OK && fb > 0) {
                out->d_best = b; /* not bracketed: even d = dmax keeps the margin */
            } else if (st == CB_OK) {
                out->bracketed = 1;
                double dm = b - a;
                for (int i = 0; i < 100 && st == CB_OK; ++i) {
                    dm *= 0.5;
                    double xm = a + dm;
                    st = recipe_needed(ctx, f, p, spec, psi, kap, xm, x_norm_max, o->norm_rtol, &needed);
                    ++out->evaluations;
                    double fm = out->gamma_min - needed;
                    if (fm * fa >= 0) a = xm;
                    out->d_best = xm;
                    if (fm == 0 || fabs(dm) < o->recipe_xtol + 4.0 * 2.220446049250313e-16 * fabs(xm)) break;
                }
            }
        }
        if (st == CB_OK)
            st = recipe_needed(ctx, f, p, spec, psi, kap, out->d_best, x_norm_max, o->norm_rtol, &out->needed);
        /* Solved only if the condition holds at the d the bisection returns: when no d
         * in (0, dmax] gives needed <= γ_min the bisection still ends, at its floor. */
        out->solved = out->gamma_min > 0 && out->needed <= out->gamma_min;
        out->count = count_d1d2ln2 * cb_latala_keep_prob(out->d_best);
        out->margin_loss = cb_margins_loss_strict(mf, n, out->needed);
        out->bound_log = log(out->margin_loss + sqrt(out->count / (double)n));
    }
    free(p); free(spec); free(psi); free(kap);
    return st;
}

/* ------------------------------------------------------------------ driver entry */

CbStatus cb_bounds_run(const CbTaskCtx *ctx, const CbMlp *orig, const CbMlp *comp, CbResult *res)
{
    CbBoundsOpts o;
    cb_bounds_opts_default(&o);
    if (ctx->measure) {
        if (ctx->measure->norm_rtol > 0) o.norm_rtol = ctx->measure->norm_rtol;
        o.mc_reps = ctx->measure->latala ? ctx->measure->mc_masks : 0;
        o.latala = ctx->measure->latala;
        o.margins = ctx->measure->margins;
    }
    return cb_bounds_run_opts(ctx, orig, comp, &o, res);
}

static void layer_norms(const double *A, const double *Ah, const double *A0, size_t m, size_t n,
                        const CbNormOpts *base, uint32_t l, CbBoundLayer *y, double *spec_err, CbStatus *st)
{
    double *D = cb_malloc(m * n * sizeof *D);
    CbNormOpts no = *base;
    CbSpecNorm sa, sc, sd;
    no.index = 3 * l;
    if (*st == CB_OK) *st = cb_norms_spectral(A, m, n, &no, &sa);
    no.index = 3 * l + 1;
    if (*st == CB_OK) *st = cb_norms_spectral(Ah, m, n, &no, &sc);
    for (size_t i = 0; i < m * n; ++i) D[i] = A[i] - Ah[i];
    no.index = 3 * l + 2;
    if (*st == CB_OK) *st = cb_norms_spectral(D, m, n, &no, &sd);
    y->spec = sa.value;
    y->spec_comp = sc.value;
    y->spec_delta = sd.value;
    *spec_err = sa.err;
    y->fro = cb_norms_fro(A, m, n);
    y->fro_comp = cb_norms_fro(Ah, m, n);
    y->l21 = cb_norms_l21_t(A, m, n);
    y->l21_comp = cb_norms_l21_t(Ah, m, n);
    y->lpq_authors = cb_bounds_lpq_authors(A, m, n, 1.0, 2.0);
    y->fro_init = y->l21_init = NAN;
    if (A0) {
        for (size_t i = 0; i < m * n; ++i) D[i] = A[i] - A0[i];
        y->fro_init = cb_norms_fro(D, m, n);
        y->l21_init = cb_norms_l21_t(D, m, n);
    }
    CbMoments mc;
    cb_norms_moments(Ah, m, n, &mc);
    y->nnz = mc.nnz;
    y->j_r = mc.max_row_nnz;
    y->j_c = mc.max_col_nnz;
    y->max_abs_comp = cb_norms_max(Ah, m, n);
    free(D);
}

CbStatus cb_bounds_run_opts(const CbTaskCtx *ctx, const CbMlp *orig, const CbMlp *comp,
                            const CbBoundsOpts *o, CbResult *res)
{
    int L = orig->depth;
    if (comp->depth != L || res->n_layers != L)
        return CB_ERR(CB_EINVAL, "bounds: original has %d layers, compressed %d, result rows %d",
                      L, comp->depth, res->n_layers);
    for (int l = 0; l <= L; ++l)
        if (orig->widths[l] != comp->widths[l])
            return CB_ERR(CB_EINVAL, "bounds: width %d differs: original %zu, compressed %zu", l,
                          orig->widths[l], comp->widths[l]);
    if (!(o->delta > 0 && o->delta < 1))
        return CB_ERR(CB_EINVAL, "bounds: delta = %g (expected 0 < delta < 1)", o->delta);
    const CbMlp *init = ctx->model && ctx->model->init ? ctx->model->init : NULL;
    double *pf = cb_malloc(orig->n_params * sizeof *pf), *pg = cb_malloc(comp->n_params * sizeof *pg);
    double *p0 = init ? cb_malloc(init->n_params * sizeof *p0) : NULL;
    cb_mlp_params_to_double(orig, pf);
    cb_mlp_params_to_double(comp, pg);
    if (init) cb_mlp_params_to_double(init, p0);
    CbBoundLayer *ly = cb_calloc((size_t)L, sizeof *ly);
    CbNormOpts no;
    cb_norms_opts_default(&no);
    no.rtol = o->norm_rtol;
    no.seed = ctx->seed;
    no.key = ctx->key;

    double d = res->task[CB_T_mbp_d];
    int is_mbp = isfinite(d) && d > 0;
    int keep_diag = strcmp(cb_params_text(ctx->params, "variant", "paper"), "code") != 0;
    double n_train = ctx->train ? (double)ctx->train->n : NAN;
    CbStatus st = CB_OK;
    double prob_sum = 0;
    res->task[CB_T_model_bias] = orig->bias ? 1.0 : 0.0;
    for (int l = 0; l < L && st == CB_OK; ++l) {
        size_t m = orig->widths[l + 1], n = orig->widths[l];
        const double *A = pf + orig->offset_W[l], *Ah = pg + comp->offset_W[l];
        CbBoundLayer *y = &ly[l];
        CbLayerRow *row = &res->layers[l];
        y->d_out = m;
        y->d_in = n;
        double spec_err = NAN;
        layer_norms(A, Ah, p0 ? p0 + init->offset_W[l] : NULL, m, n, &no, (uint32_t)l, y, &spec_err, &st);
        y->rho = row->v[CB_L_rho];
        y->kappa = cb_latala_kappa(n, m, cb_latala_kw_t(n_train, (double)n, o->kw_target));
        y->chi = y->eps_gamma = NAN;
        CbMoments ma;
        cb_norms_moments(A, m, n, &ma);
        double psi = is_mbp && isfinite(row->v[CB_L_param]) ? row->v[CB_L_param] : ma.var;
        row->layer = l;
        row->d_out = (int32_t)m;
        row->d_in = (int32_t)n;
        row->v[CB_L_spec_W] = y->spec;
        row->v[CB_L_spec_W_err] = spec_err;
        row->v[CB_L_spec_comp] = y->spec_comp;
        row->v[CB_L_spec_delta] = y->spec_delta;
        row->v[CB_L_l21_W] = y->l21;
        row->v[CB_L_psi] = psi;
        row->v[CB_L_kappa] = y->kappa;
        cb_measure_gaussianity(A, m * n, &row->v[CB_L_w_kurtosis], &row->v[CB_L_w_ks]); /* Assumption 3.1 */
        if (is_mbp && o->latala && st == CB_OK) {
            double eps = L / o->delta, gam = cb_latala_gamma(d, psi, m, n);
            y->chi = cb_latala_keep_prob(d);
            y->eps_gamma = eps * gam;
            prob_sum += 1.0 / eps;
            double *P = cb_malloc(m * n * sizeof *P), kept = 0;
            cb_latala_prune_prob(A, m, n, d, psi, keep_diag, P);
            for (size_t i = 0; i < m * n; ++i) kept += 1.0 - P[i];
            CbLatalaCond c;
            no.index = 3 * (uint32_t)L + (uint32_t)l;
            st = cb_latala_conditional(A, P, m, n, &no, &c);
            if (st == CB_OK && o->mc_reps > 0) {
                CbLatalaMc mc;
                st = cb_latala_mc(A, P, m, n, ctx->seed, ctx->key ^ ((uint64_t)l << 48), o->mc_reps, &no, &mc);
                row->v[CB_L_latala_c_mc] = mc.mean;
                row->v[CB_L_latala_c_sd] = mc.sd;
            }
            free(P);
            double dmax = (double)(m > n ? m : n), dmin = (double)(m < n ? m : n);
            row->v[CB_L_latala_a] = gam;
            row->v[CB_L_latala_b] = c.bound;
            row->v[CB_L_latala_b_mean] = c.mean_norm;
            row->v[CB_L_ratio_a] = y->spec_delta / gam;
            row->v[CB_L_ratio_b] = y->spec_delta / c.bound;
            row->v[CB_L_eps_l] = eps;
            row->v[CB_L_j_bound] = 3.0 * o->lambda * dmax * y->chi;
            row->v[CB_L_j_bound_prob] = 1.0 - 1.0 / o->lambda - pow((double)m, -1.0 / 3) - pow((double)n, -1.0 / 3);
            row->v[CB_L_expected_nnz] = y->chi * (double)m * (double)n + (keep_diag ? dmin * (1.0 - y->chi) : 0.0);
            row->v[CB_L_expected_nnz_cond] = kept;
        }
    }
    CbMargins mg = {0};
    if (st == CB_OK && o->margins && ctx->train && ctx->train->y) {
        st = ctx->logits_orig && ctx->logits_comp
                 ? cb_margins_from_logits(ctx->logits_orig, ctx->logits_comp, orig->widths[orig->depth], ctx->train, &mg)
                 : cb_margins_measure(orig, comp, ctx->train, &mg);
        if (st == CB_OK) {
            size_t n = mg.n;
            res->task[CB_T_gamma_min] = mg.f[0];
            res->task[CB_T_gamma_p05] = cb_margins_quantile(mg.f, n, 0.05);
            res->task[CB_T_gamma_p10] = cb_margins_quantile(mg.f, n, 0.10);
            res->task[CB_T_comp_gamma_min] = mg.g[0];
            res->task[CB_T_comp_gamma_p05] = cb_margins_quantile(mg.g, n, 0.05);
            res->task[CB_T_comp_gamma_p10] = cb_margins_quantile(mg.g, n, 0.10);
            res->task[CB_T_x_norm_max] = mg.x_norm_max;
            res->task[CB_T_out_err_linf_max] = mg.out_err_linf;
            if (is_mbp) res->task[CB_T_outbound_prob] = 1.0 - prob_sum;
            /* the margin distributions, for choosing γ at analysis time: percentiles 0..100 */
            for (int q = 0; q <= 100; ++q) {
                cb_result_add_series(res, "margin_quantile_orig", q, q / 100.0, cb_margins_quantile(mg.f, n, q / 100.0));
                cb_result_add_series(res, "margin_quantile_comp", q, q / 100.0, cb_margins_quantile(mg.g, n, q / 100.0));
            }
            CbBoundInputs in = {.L = L, .layer = ly, .n = (double)n, .x_norm_max = mg.x_norm_max,
                                .x_fro = mg.x_fro, .d0 = orig->widths[0], .mf = mg.f, .mg = mg.g,
                                .out_err_linf = mg.out_err_linf, .lambda = o->lambda, .delta = o->delta,
                                .bias = orig->bias};
            cb_bounds_compute(&in, res);
            if (o->recipe && is_mbp) {
                CbRecipe r;
                st = cb_bounds_recipe(ctx, orig, mg.f, n, mg.x_norm_max, o, &r);
                if (st == CB_OK) {
                    res->task[CB_T_recipe_solved] = r.solved;
                    res->task[CB_T_recipe_d] = r.solved ? r.d_best : NAN;
                    res->task[CB_T_recipe_needed_margin] = r.needed;
                    res->task[CB_T_recipe_bound_ln] = r.bound_log;
                    CbBoundRow *b = cb_result_add_bound(res, "sketch_004_thm5.2", "authors_code", "error", r.bound_log,
                                                        r.needed, r.margin_loss, r.count);
                    b->n = (double)n;
                    snprintf(b->gamma_rule, sizeof b->gamma_rule, "needed at the recipe's d (authors' code)");
                    if (!(r.gamma_min > 0))
                        cb_result_bound_why(b, "min training margin %.4g <= 0 (the recipe sets d = 0)", r.gamma_min);
                    else if (!r.solved)
                        cb_result_bound_why(b, "recipe unsolved: needed margin %.4g > min margin %.4g at d = %.4g%s",
                                            r.needed, r.gamma_min, r.d_best,
                                            r.d_best <= 2.0 * o->recipe_xtol ? " (bisection at its floor)" : "");
                    if (orig->bias) cb_result_bound_why(b, "network has biases (the theorem assumes none)");
                }
            }
        }
    }
    cb_margins_free(&mg);
    free(pf); free(pg); free(p0); free(ly);
    return st;
}
