/*
 * mbp — randomized magnitude-based pruning, Algorithm 1 and Remark 4.1 of 004.
 *
 * P(prune A_ij) = exp(-A_ij^2 / (d Psi)); kept entries are not rescaled.
 *
 * Expected kept fraction (our derivation; the paper's Appendix F.3 mislabels it):
 * for A ~ N(0, Psi),
 *   P(prune) = int exp(-a^2/(d Psi)) exp(-a^2/(2 Psi)) / sqrt(2 pi Psi) da
 *            = int exp(-a^2 (d + 2) / (2 d Psi)) / sqrt(2 pi Psi) da
 *            = sqrt(d Psi/(d + 2)) / sqrt(Psi) = sqrt(d / (d + 2)),
 * so chi(d) = P(keep) = 1 - sqrt(d/(d+2)) = (sqrt(d+2) - sqrt(d)) / sqrt(d+2).
 * 004 Appendix F.3 (eq. 9-11) writes P(Z_ij = 0) (Z = 0 is "pruned" in C.2) as
 * the integral of the prune probability and then states its value as
 * (sqrt(d+2) - sqrt(d))/sqrt(d+2) — the integral's value is sqrt(d/(d+2)), and the
 * stated value is the KEEP probability, which is what the lemma then (correctly)
 * uses as the expected fraction of nonzeros. Lemma 5.1's chi is therefore right.
 * Inverse: 1 - chi = s  <=>  d/(d+2) = s^2  <=>  d = 2 s^2 / (1 - s^2).
 *
 * Psi: the variance of the layer's weights with the mean subtracted and divisor
 * n - 1 (torch.var, as the authors' code); Assumption 3.1 takes mean 0, and on
 * trained layers the mean is ~1e-4 of the spread, so the choice is immaterial.
 */
#include "cbound/mbp.h"
#include "cbound/discretize.h"
#include "cbound/rng.h"
#include "cbound/ctx.h"

#include <Random123/philox.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double cb_mbp_chi(double d) { return 1.0 - sqrt(d / (d + 2.0)); }

double cb_mbp_d_for_sparsity(double sparsity)
{
    return 2.0 * sparsity * sparsity / (1.0 - sparsity * sparsity);
}

double cb_mbp_variance(const float *a, size_t n)
{
    if (n < 2) return 0.0;
    double mean = 0.0, m2 = 0.0;
    for (size_t i = 0; i < n; ++i) mean += a[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; ++i) {
        double t = a[i] - mean;
        m2 += t * t;
    }
    return m2 / (double)(n - 1);
}

double cb_mbp_expected_kept(const float *A, size_t rows, size_t cols, double d, double psi,
                            int keep_diagonal)
{
    double inv = 1.0 / (d * psi), kept = 0.0;
    for (size_t i = 0; i < rows; ++i) {
        const float *row = A + i * cols;
        double acc = 0.0;
        for (size_t j = 0; j < cols; ++j) {
            double a = row[j];
            acc += -expm1(-a * a * inv);
        }
        if (keep_diagonal && i < cols) {
            double a = row[i];
            acc += 1.0 + expm1(-a * a * inv); /* its keep probability is 1, not 1 - e */
        }
        kept += acc;
    }
    return kept;
}

/* The reference kernel: one stateless cb_rng_uniform_at() per entry (two Philox
 * blocks per entry: one to derive the key, one for the value). */
size_t cb_mbp_prune_matrix_ref(float *A, size_t rows, size_t cols, double d, double psi,
                               int keep_diagonal, uint64_t seed, uint64_t key, uint32_t layer)
{
    double inv = 1.0 / (d * psi);
    size_t kept = 0;
    for (size_t i = 0; i < rows; ++i) {
        float *row = A + i * cols;
        for (size_t j = 0; j < cols; ++j) {
            if (keep_diagonal && i == j) {
                ++kept;
                continue;
            }
            double a = row[j], x = a * a * inv;
            if (cb_rng_uniform_at(seed, key, CB_RNG_COMPRESS, layer, (uint64_t)(i * cols + j)) < exp(-x))
                row[j] = 0.0f;
            else
                ++kept;
        }
    }
    return kept;
}

/* The fast kernel: the same uniforms as the reference, drawn one Philox block per
 * two entries with the stream key derived once. Uses the counter layout documented
 * in rng.h (ctr = block lo, block hi, index, purpose; entry i takes the 64-bit half
 * i & 1 of block i >> 1, 53 high bits + 1/2 ulp); tests/test_mbp.c checks that it
 * equals the reference mask bit for bit. */
size_t cb_mbp_prune_matrix(float *A, size_t rows, size_t cols, double d, double psi,
                           int keep_diagonal, uint64_t seed, uint64_t key, uint32_t layer)
{
    CbStream s = cb_rng_stream(seed, key, CB_RNG_COMPRESS, layer);
    philox4x32_key_t k = {{s.key[0], s.key[1]}};
    double inv = 1.0 / (d * psi);
    size_t n = rows * cols, pruned = 0;
    size_t i = 0, j = 0; /* row and column of entry idx */
    for (size_t idx = 0; idx < n; idx += 2) {
        uint64_t b = idx >> 1;
        philox4x32_ctr_t c = {{(uint32_t)b, (uint32_t)(b >> 32), layer, CB_RNG_COMPRESS}};
        philox4x32_ctr_t r = philox4x32(c, k);
        for (size_t h = 0; h < 2 && idx + h < n; ++h) {
            if (!(keep_diagonal && i == j)) {
                uint64_t bits = (uint64_t)r.v[2 * h] | ((uint64_t)r.v[2 * h + 1] << 32);
                double u = ((double)(bits >> 11) + 0.5) * 0x1.0p-53;
                double a = A[idx + h];
                int p = u < exp(-a * a * inv); /* branch-free: the outcome is a coin flip */
                A[idx + h] = p ? 0.0f : A[idx + h];
                pruned += (size_t)p;
            }
            if (++j == cols) {
                j = 0;
                ++i;
            }
        }
    }
    return n - pruned;
}

void cb_mbp_options_default(CbMbpOptions *o)
{
    o->d = 1.0;
    o->sparsity = -1.0;
    o->variant = CB_MBP_PAPER;
    o->psi = CB_MBP_PSI_LAYER;
    o->target = CB_MBP_TARGET_EMPIRICAL;
}

static double total_expected_kept(const CbMlp *m, const double *psi, int keep_diagonal, double d)
{
    double k = 0.0;
    for (int l = 0; l < m->depth; ++l)
        k += cb_mbp_expected_kept(m->W[l], m->widths[l + 1], m->widths[l], d, psi[l], keep_diagonal);
    return k;
}

CbStatus cb_mbp_solve_d(const CbMlp *m, const double *psi, int keep_diagonal, double sparsity,
                        double *d_out)
{
    if (!(sparsity >= 0.0 && sparsity < 1.0))
        return CB_ERR(CB_EINVAL, "mbp: sparsity %g outside [0, 1)", sparsity);
    double n = 0.0, n_diag = 0.0;
    for (int l = 0; l < m->depth; ++l) {
        size_t r = m->widths[l + 1], c = m->widths[l];
        n += (double)(r * c);
        n_diag += (double)(r < c ? r : c);
    }
    double want = (1.0 - sparsity) * n;
    if (keep_diagonal && want <= n_diag) {
        CB_ERR(CB_EINVAL,
               "mbp: target sparsity %g keeps %.0f weights but the paper variant never prunes the %.0f "
               "diagonal entries",
               sparsity, want, n_diag);
        cb_err_hint("lower the sparsity or use variant: code (prunes the diagonal too)");
        return CB_EINVAL;
    }
    /* kept(d) decreases from n (d -> 0) to n_diag or 0 (d -> inf): bisection on log d. */
    double lo = -60.0, hi = 60.0;
    double k_lo = total_expected_kept(m, psi, keep_diagonal, exp(hi)), k_hi = total_expected_kept(m, psi, keep_diagonal, exp(lo));
    if (k_lo > want || k_hi < want) {
        /* zero weights are always "pruned" (probability e^0 = 1), so an already
         * sparse model cannot be brought back to a lower sparsity */
        CB_ERR(CB_ENUMERIC, "mbp: sparsity %g asks to keep %.0f of %.0f weights; d in [e^-60, e^60] keeps %.0f .. %.0f",
               sparsity, want, n, k_lo, k_hi);
        cb_err_hint("the model may already be sparse (zeros always count as pruned): ask for a higher sparsity");
        return CB_ENUMERIC;
    }
    for (int it = 0; it < 200 && hi - lo > 1e-12; ++it) {
        double mid = 0.5 * (lo + hi);
        if (total_expected_kept(m, psi, keep_diagonal, exp(mid)) > want) lo = mid;
        else hi = mid;
    }
    *d_out = exp(0.5 * (lo + hi));
    return CB_OK;
}

CbStatus cb_mbp_prune(CbMlp *m, const CbMbpOptions *o, uint64_t seed, uint64_t key,
                      double *psi_out, double *d_out)
{
    int keep_diag = o->variant == CB_MBP_PAPER;
    double *psi = cb_malloc((size_t)m->depth * sizeof *psi);
    double pooled_n = 0.0, pooled_sum = 0.0, pooled_sq = 0.0;
    for (int l = 0; l < m->depth; ++l) {
        size_t n = m->widths[l] * m->widths[l + 1];
        psi[l] = cb_mbp_variance(m->W[l], n);
        for (size_t i = 0; i < n; ++i) {
            pooled_sum += m->W[l][i];
            pooled_sq += (double)m->W[l][i] * m->W[l][i];
        }
        pooled_n += (double)n;
    }
    if (o->psi == CB_MBP_PSI_POOLED) {
        double mean = pooled_sum / pooled_n;
        double var = (pooled_sq - pooled_n * mean * mean) / (pooled_n - 1.0);
        for (int l = 0; l < m->depth; ++l) psi[l] = var;
    }
    for (int l = 0; l < m->depth; ++l)
        if (!(psi[l] > 0.0) || !isfinite(psi[l])) {
            CB_ERR(CB_ENUMERIC, "mbp: layer %d weight variance is %g (expected > 0)", l, psi[l]);
            cb_err_hint("MBP needs a layer with varying weights; was the model trained?");
            free(psi);
            return CB_ENUMERIC;
        }
    double d = o->d;
    if (o->sparsity >= 0.0) {
        if (!(o->sparsity < 1.0)) {
            free(psi);
            return CB_ERR(CB_EINVAL, "mbp: sparsity %g outside [0, 1)", o->sparsity);
        }
        if (o->target == CB_MBP_TARGET_GAUSSIAN) d = cb_mbp_d_for_sparsity(o->sparsity);
        else {
            CbStatus st = cb_mbp_solve_d(m, psi, keep_diag, o->sparsity, &d);
            if (st != CB_OK) {
                free(psi);
                return st;
            }
        }
    }
    if (d == 0.0 && o->sparsity == 0.0) d = 0.0; /* sparsity 0: prune nothing (chi(0) = 1) */
    else if (!(d > 0.0) || !isfinite(d)) {
        free(psi);
        CB_ERR(CB_EINVAL, "mbp: d = %g (expected a finite number > 0)", d);
        cb_err_hint("set d > 0, or sparsity in (0, 1)");
        return CB_EINVAL;
    }
    for (int l = 0; l < m->depth && d > 0.0; ++l)
        cb_mbp_prune_matrix(m->W[l], m->widths[l + 1], m->widths[l], d, psi[l], keep_diag, seed, key,
                            (uint32_t)l);
    if (psi_out)
        for (int l = 0; l < m->depth; ++l) psi_out[l] = psi[l];
    if (d_out) *d_out = d;
    free(psi);
    return CB_OK;
}

/* ------------------------------------------------------------------ sweep method `mbp` */

static CbStatus mbp_options(const CbParams *p, CbMbpOptions *o)
{
    cb_mbp_options_default(o);
    o->d = cb_params_num(p, "d", 1.0);
    o->sparsity = cb_params_has(p, "sparsity") ? cb_params_num(p, "sparsity", NAN) : -1.0;
    const char *v = cb_params_text(p, "variant", "paper"), *ps = cb_params_text(p, "psi", "layer"),
               *tg = cb_params_text(p, "target", "empirical");
    if (cb_params_has(p, "d") && !(o->d > 0 && isfinite(o->d)))
        return CB_ERR(CB_EINVAL, "mbp: d: expected a number > 0, found '%s'", cb_params_text(p, "d", ""));
    if (cb_params_has(p, "sparsity") && !(o->sparsity >= 0 && o->sparsity < 1))
        return CB_ERR(CB_EINVAL, "mbp: sparsity: expected a number in [0, 1), found '%s'",
                      cb_params_text(p, "sparsity", ""));
    if (cb_params_has(p, "d") && cb_params_has(p, "sparsity")) {
        CB_ERR(CB_EINVAL, "mbp: both d and sparsity given (expected one of them)");
        cb_err_hint("d is 004's native parameter; sparsity is converted to d");
        return CB_EINVAL;
    }
    if (strcmp(v, "paper") == 0) o->variant = CB_MBP_PAPER;
    else if (strcmp(v, "code") == 0) o->variant = CB_MBP_CODE;
    else return CB_ERR(CB_EINVAL, "mbp: variant: expected paper or code, found '%s'", v);
    if (strcmp(ps, "layer") == 0) o->psi = CB_MBP_PSI_LAYER;
    else if (strcmp(ps, "pooled") == 0) o->psi = CB_MBP_PSI_POOLED;
    else return CB_ERR(CB_EINVAL, "mbp: psi: expected layer or pooled, found '%s'", ps);
    if (strcmp(tg, "empirical") == 0) o->target = CB_MBP_TARGET_EMPIRICAL;
    else if (strcmp(tg, "gaussian") == 0) o->target = CB_MBP_TARGET_GAUSSIAN;
    else return CB_ERR(CB_EINVAL, "mbp: target: expected empirical or gaussian, found '%s'", tg);
    return CB_OK;
}

static CbStatus mbp_check(const CbParams *p)
{
    CbMbpOptions o;
    CB_TRY(mbp_options(p, &o));
    return cb_disc_param_check(p);
}

static CbStatus mbp_compress(const CbTaskCtx *ctx, CbMlp *out, CbResult *res)
{
    CbMbpOptions o;
    CB_TRY(mbp_options(ctx->params, &o));
    double *psi = cb_malloc((size_t)out->depth * sizeof *psi), d = NAN;
    CbStatus st = cb_mbp_prune(out, &o, ctx->seed, ctx->key, psi, &d);
    if (st == CB_OK) {
        const CbMlp *a = ctx->model->mlp;
        double kept = 0, n = 0;
        for (int l = 0; l < out->depth; ++l) {
            res->layers[l].v[CB_L_param] = psi[l];
            n += (double)(a->widths[l] * a->widths[l + 1]);
            kept += d > 0 ? cb_mbp_expected_kept(a->W[l], a->widths[l + 1], a->widths[l], d, psi[l],
                                                 o.variant == CB_MBP_PAPER)
                          : (double)(a->widths[l] * a->widths[l + 1]);
        }
        res->task[CB_T_mbp_d] = d;
        res->task[CB_T_mbp_expected_kept] = kept / n;
        st = cb_disc_after(ctx, out, res);
    }
    free(psi);
    return st;
}

static const char *const mbp_params[] = {"d", "sparsity", "variant", "psi", "target", "discretize", NULL};
static const char *const mbp_defaults[] = {"1", NULL, "paper", "layer", "empirical", "off", NULL};

const CbMethod cb_method_mbp = {
    .name = "mbp",
    .version = 1,
    .summary = "004 Algorithm 1: prune A_ij w.p. exp(-A_ij^2/(d psi)) (d or sparsity; variant paper|code; "
               "psi layer|pooled; target empirical|gaussian; discretize)",
    .param_names = mbp_params,
    .param_defaults = mbp_defaults,
    .check = mbp_check,
    .compress = mbp_compress,
    .standalone = NULL,
};
