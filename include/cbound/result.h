/*
 * result — what one task hands back to the manager, and the columns of the
 * results file's tables. Adding a measurement = one X(...) line below; the
 * runner builds the HDF5 compound types, the MPI packing and the schema tables of docs/reference.md
 * table from these lists, so the list is the single source of truth.
 *
 * Every measured value is a double; NaN means "not measured for this task".
 * Column names carry their unit when it is not obvious (_s seconds, _ln natural log;
 * every logarithm in the file is natural).
 *
 *   tasks   one row per task: fixed columns (key, method, params, status, ...)
 *           owned by the runner, then CB_TASK_COLUMNS
 *   layers  one row per (task, layer): key, layer, d_out, d_in, then CB_LAYER_COLUMNS
 *   bounds  one row per (task, bound, variant): CbBoundRow (long format)
 *   series  one row per (task, series, i): CbSeriesRow (curves: IMP levels,
 *           GD iterations of 002, rank curves of 003, ...)
 */
#ifndef CBOUND_RESULT_H
#define CBOUND_RESULT_H

#include <stddef.h>
#include <stdint.h>

/* X(name, unit, meaning) — per-task scalars. */
#define CB_TASK_COLUMNS(X)                                                                        \
    X(orig_train_loss, "nats", "training loss of the original (uncompressed) model")              \
    X(orig_train_acc, "1", "training accuracy of the original model")                             \
    X(orig_test_loss, "nats", "test loss of the original model")                                  \
    X(orig_test_acc, "1", "test accuracy of the original model")                                  \
    X(train_loss, "nats", "training loss of the compressed model")                                \
    X(train_acc, "1", "training accuracy of the compressed model")                                \
    X(test_loss, "nats", "test loss of the compressed model")                                     \
    X(test_acc, "1", "test accuracy of the compressed model")                                     \
    X(gen_error, "1", "true generalization error of the compressed model: test error - train error") \
    X(kept_fraction, "1", "nonzero weights after / nonzero weights before, all layers")           \
    X(sparsity, "1", "1 - kept_fraction")                                                          \
    X(nnz, "count", "nonzero weights of the compressed model (all layers, no biases)")            \
    X(out_err_max, "1", "max over training inputs of ||f(x) - f^(x)||_2 (logits)")                \
    X(out_err_mean, "1", "mean over training inputs of ||f(x) - f^(x)||_2")                       \
    X(out_err_norm, "1", "normalized error: mean ||f(x)-f^(x)||_2^2 / mean ||f(x)||_2^2 (000)")   \
    X(compress_s, "s", "time spent compressing")                                                  \
    X(measure_s, "s", "time spent measuring and bounding")                                        \
    X(etf_R_gd, "1", "002: best limit objective R~(V) = 1'G_VV^+ 1 reached by gradient ascent over the starts") \
    X(etf_R_etf, "1", "002 eq. 32: R~ at an equiangular tight frame")                              \
    X(etf_R_rel_gap, "1", "002: max over starts of |R~_ETF - R~_GD| / R~_ETF at the last iteration") \
    X(etf_R_spread, "1", "002: max - min of the final R~ over starts")                              \
    X(etf_dist, "1", "002 eq. 35: max over starts of ||G_VV - G_ETF||_F at the last iteration")     \
    X(thm1_gap, "1", "002 Thm 1: |L(V,W) - L~(V,W)| at the GD solution, b = b~* (eq. 29)")          \
    X(thm1_s_err, "1", "002 eq. 20: max_i |s_i - mu_a/(2 pi)| at the GD solution")                 \
    X(twolayer_loss, "1", "002 eq. 8: population loss with optimal b at the GD solution")          \
    X(twolayer_limit_loss, "1", "002 eq. 30: limit loss at the GD solution")                       \
    X(lowrank_param_fraction, "1", "003: sum_l r_l (d_out + d_in) / sum_l d_out d_in (factored size / dense size)") \
    X(mbp_d, "1", "MBP d used (given, or solved from a target sparsity; 004 Algorithm 1)")        \
    X(mbp_expected_kept, "1", "MBP expected kept fraction given the weights: mean(1 - exp(-A^2/(d psi)))") \
    X(compress_level, "count", "IMP: pruning levels run; greedy: weights replaced; structured: neurons removed") \
    X(gamma_min, "1", "min training margin f(x)[y] - max_{j!=y} f(x)[j] of the original model")        \
    X(gamma_p05, "1", "5th percentile of the original model's training margins")                  \
    X(gamma_p10, "1", "10th percentile of the original model's training margins")                 \
    X(comp_gamma_min, "1", "min training margin of the compressed model")                         \
    X(comp_gamma_p05, "1", "5th percentile of the compressed model's training margins")           \
    X(comp_gamma_p10, "1", "10th percentile of the compressed model's training margins")          \
    X(x_norm_max, "1", "max over training inputs of ||x||_2 (004 Lemma C.5's ||x||)")             \
    X(out_err_linf_max, "1", "max over training inputs of ||f(x) - f^(x)||_inf (Arora compressibility)") \
    X(outbound_c5_ln, "ln", "ln of 004 Lemma 4.1/C.5 bound on max ||x^L - x^L||_2 (kappa=1, eps_l Gamma_l, C=1)") \
    X(outbound_d3_ln, "ln", "ln of 004 Lemma D.3 bound (kappa_l of Lemma D.1, eps_l Gamma_l, C=1)") \
    X(outbound_42_ln, "ln", "ln of 004 Lemma 4.2/D.4 bound (kappa_l, eps_l Gamma_l + rho_l J_l)") \
    X(outbound_measured_ln, "ln", "ln of e max||x|| prod kappa_l ||A_l|| sum ||Delta_l||/||A_l|| (measured Delta; authors' needed margin)") \
    X(outbound_prob, "1", "probability Lemma C.5 holds: 1 - sum_l 1/eps_l")                        \
    X(model_bias, "1", "1: the network has biases (004, Arora 2018, Bartlett 2017 and Neyshabur 2015/2017 assume none)") \
    X(recipe_solved, "1", "authors' recipe: 1 if the needed margin at the returned d is <= the min margin (Thm 5.2's condition), 0 if not") \
    X(recipe_d, "1", "004 authors' recipe: d (alpha) by bisection so the needed margin = min margin; NaN when unsolved") \
    X(recipe_needed_margin, "1", "authors' recipe: needed margin at recipe_d")                       \
    X(recipe_bound_ln, "ln", "authors' recipe: ln(R^_needed(f) + sqrt(sum d1 d2 chi ln^2 p / n))") \
    /* Non-vacuous bounds: code length of the decoded model and its Occam bound (code.c, occam.c) */ \
    X(code_bits, "bit", "prefix-free code length of the decoded model, all parts (union-bound bits included)") \
    X(code_bits_arch, "bit", "code type + architecture (depth, widths, activation, bias)")          \
    X(code_bits_key, "bit", "stream key of the random quantities theta_0, P (sweep seed + a 16-bit tag of the task key)") \
    X(code_bits_hyper, "bit", "hyperparameters the decoder needs (subspace d, projection nnz): the union bound over their grid") \
    X(code_bits_codebook, "bit", "number of quantization levels and the levels (float32)")          \
    X(code_bits_counts, "bit", "symbol counts")                                                     \
    X(code_bits_symbols, "bit", "arithmetic-coded symbols")                                         \
    X(code_bits_positions, "bit", "positions of the nonzeros: per-layer counts and coded masks")    \
    X(code_ideal_symbols, "bit", "-sum log2 p of the symbols under their empirical frequencies")    \
    X(n_train, "count", "training samples n of the Occam bound")                                     \
    X(train_err_count, "count", "training errors k of the decoded model")                           \
    X(code_test_err, "1", "test error of the decoded model")                                         \
    X(delta, "1", "confidence: the bounds hold with probability >= 1 - delta")                      \
    X(occam_bound, "1", "Langford 2005 Thm 4.1: Bin^-1(k, n, delta 2^-code_bits), binomial tail inversion") \
    X(occam_bound_kl, "1", "kl form: max p with kl(k/n, p) <= (code_bits ln 2 + ln(1/delta)) / n (Bernoulli KL)") \
    X(vacuous, "1", "1 if occam_bound >= 1 - 1/K (no better than guessing among K classes), else 0")

/* X(name, unit, meaning) — per-layer scalars. */
#define CB_LAYER_COLUMNS(X)                                                                       \
    X(nnz, "count", "nonzero weights after compression")                                          \
    X(kept_fraction, "1", "nnz after / nnz before")                                               \
    X(max_nnz_row, "count", "max nonzeros in a row of the compressed W (j_r)")                    \
    X(max_nnz_col, "count", "max nonzeros in a column of the compressed W (j_c)")                 \
    X(fro_W, "1", "||W||_F of the original weights")                                              \
    X(fro_delta, "1", "||W - W^||_F")                                                             \
    X(lr_rank, "count", "rank of the compressed W (low-rank methods, 003)")                       \
    X(preact_rel_err, "1", "003: ||(W - W^) X^T||_F / ||W X^T||_F on the layer's training inputs X") \
    X(param, "1", "method's per-layer parameter (e.g. MBP threshold psi, rounding step rho)")    \
    X(rho, "1", "discretization step rho_l (004 Sec. 4.2); NaN = not discretized")             \
    X(sketch_m_theory, "count", "004 Thm 5.1 sketch size, constant 1: sqrt(max(j_row*d_out, j_col*d_in))*ln p") \
    X(sketch_m_measured, "count", "smallest m recovering W from Y = A W B^T in >= 95% of draws (NaN: not reached)") \
    X(sketch_m_const, "1", "implied constant of Thm 5.1: sketch_m_measured / sketch_m_theory") \
    X(sketch_params, "count", "measured-sketch parameter count m_measured^2 (Thm 5.2 with measured m)") \
    X(sketch_success_rate, "1", "fraction of draws recovered at sketch_m_measured")               \
    X(sketch_recovery_err, "1", "max over draws of max|W^ - W| / max|W| at sketch_m_measured")    \
    X(sketch_delta, "count", "ones per column of the sketch matrices A and B")                    \
    X(sketch_recover_s, "s", "mean time of one sketch + recovery at sketch_m_measured")           \
    X(sketch_time_s, "s", "time of the whole phase-transition search") \
    X(spec_W, "1", "||A_l||_2 of the original weights (certified Lanczos, rel. accuracy norm_rtol)") \
    X(spec_W_err, "1", "certificate: a singular value of A_l lies within this of spec_W (spec_W is a lower bound)") \
    X(spec_comp, "1", "||A^_l||_2 of the compressed weights")                                      \
    X(spec_delta, "1", "||Delta_l||_2 = ||A_l - A^_l||_2")                                          \
    X(l21_W, "1", "||A_l^T||_{2,1}: sum over units of the 2-norm of their incoming weights")        \
    X(psi, "1", "Psi_l used by the Latala bounds (MBP's, else the population variance of A_l)")    \
    X(latala_a, "1", "Latala bracket (a), C=1, Gaussian moments of 004 Lemma C.1 = Gamma_l / C (Lemma C.2)") \
    X(latala_b, "1", "Latala bound (b), C=1: ||E[Delta|A]||_2 + bracket of Delta - E[Delta|A]")   \
    X(latala_b_mean, "1", "||E[Delta|A]||_2 = ||A o P||_2, P = prune probabilities")               \
    X(latala_c_mc, "1", "(c) Monte Carlo mean of ||Delta||_2 over mask replicates (same A)")       \
    X(latala_c_sd, "1", "(c) standard deviation of ||Delta||_2 over mask replicates")              \
    X(ratio_a, "1", "spec_delta / latala_a (the C this draw alone would need)")         \
    X(ratio_b, "1", "spec_delta / latala_b")                                                        \
    X(eps_l, "1", "Markov parameter eps_l of 004 Lemma C.2 (= L / delta)")                          \
    X(kappa, "1", "kappa_l of 004 Lemma D.1 (t sqrt(d_out) when d_out < d_in, capped at 1)")      \
    X(j_bound, "count", "004 Lemma 5.1 bound on max(j_r, j_c): 3 lambda max(d_out, d_in) chi")    \
    X(j_bound_prob, "1", "probability Lemma 5.1 claims: 1 - 1/lambda - d_out^-1/3 - d_in^-1/3 (<= 0: vacuous)") \
    X(expected_nnz, "count", "Gaussian expectation of nnz: chi d_out d_in (+ never-pruned diagonal)") \
    X(expected_nnz_cond, "count", "expected nnz given the weights: sum_ij (1 - P_ij)")                \
    X(w_kurtosis, "1", "excess kurtosis of the original weights A_l (0 for Gaussian weights: 004 Assumption 3.1)") \
    X(w_ks, "1", "Kolmogorov-Smirnov distance of A_l's entries to the fitted normal N(mean, var) (Assumption 3.1)")

/* One row of the bounds table: a bound (or, for scale "complexity", a complexity
 * term that is not a bound) together with what it is worth. Every error-scale row
 * has the form R^_gamma + sqrt(complexity / n) on the test 0-1 error, with the
 * constants and confidence terms its paper hides in O(.) dropped in the same way
 * for every row (docs/bounds.md), so rows compare like for like. */
typedef struct {
    char name[48];       /* e.g. "sketch_004_thm5.2", "bartlett2017"                    */
    char variant[32];    /* e.g. "predicted_j", "measured_j", "authors_code"            */
    char scale[12];      /* "error": a bound on the test 0-1 error; "complexity": not one */
    char gamma_rule[48]; /* how gamma was chosen, e.g. "needed: Lemma D.4, measured Delta" */
    char why_not[240];   /* "; "-joined reasons the theorem does not apply ("" = applies) */
    double value_ln;     /* ln of the value (the bound, or the complexity term)          */
    double error_bound;  /* exp(value_ln) for scale "error"; NaN otherwise              */
    double gamma;        /* margin used                                                 */
    double margin_loss;  /* empirical margin loss at gamma                              */
    double complexity;   /* parameter count / complexity term before sqrt(./n)          */
    double n;            /* training samples the bound is computed with                 */
    int32_t applies;     /* 1: every hypothesis cbound can check holds                  */
    int32_t vacuous;     /* 1 unless error_bound < 1 (complexity rows count as vacuous)   */
} CbBoundRow;

typedef struct {
    char name[32];      /* e.g. "imp_level", "etf_gd_objective"                    */
    int64_t i;          /* index along the series                                  */
    double x, y;
} CbSeriesRow;

#define CB_COL_ENUM(name, unit, doc) CB_T_##name,
enum { CB_TASK_COLUMNS(CB_COL_ENUM) CB_T_COUNT };
#undef CB_COL_ENUM
#define CB_COL_ENUM(name, unit, doc) CB_L_##name,
enum { CB_LAYER_COLUMNS(CB_COL_ENUM) CB_L_COUNT };
#undef CB_COL_ENUM

typedef struct {
    double v[CB_L_COUNT];
    int32_t layer, d_out, d_in;
} CbLayerRow;

/* A task's output, filled by the method, measurements and bounds. */
typedef struct {
    double task[CB_T_COUNT];  /* NaN = not measured */
    int n_layers;
    CbLayerRow *layers;       /* (n_layers) */
    int n_bounds, cap_bounds;
    CbBoundRow *bounds;
    int n_series, cap_series;
    CbSeriesRow *series;
} CbResult;

void cb_result_init(CbResult *r, int n_layers);  /* all values NaN */
void cb_result_free(CbResult *r);
/* Appends a bound row (applies = 1, why_not and gamma_rule empty, n NaN; error_bound
 * and vacuous from value_ln and scale) and returns it for the caller to complete. */
CbBoundRow *cb_result_add_bound(CbResult *r, const char *name, const char *variant, const char *scale,
                                double value_ln, double gamma, double margin_loss, double complexity);
/* Records a reason the bound's theorem does not apply: applies = 0, reason appended. */
void cb_result_bound_why(CbBoundRow *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb_result_add_series(CbResult *r, const char *name, int64_t i, double x, double y);

#endif
