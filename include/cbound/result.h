/*
 * result — what one task hands back to the manager, and the columns of the
 * results file's tables. Adding a measurement = one X(...) line below; the
 * runner builds the HDF5 compound types, the MPI packing and the README schema
 * table from these lists, so the list is the single source of truth.
 *
 * Every measured value is a double; NaN means "not measured for this task".
 * Column names carry their unit when it is not obvious (_s seconds, _log = ln).
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
    X(compress_level, "count", "IMP: pruning levels run; greedy: weights replaced; structured: neurons removed")

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
    X(sketch_time_s, "s", "time of the whole phase-transition search")

typedef struct {
    char name[48];      /* e.g. "sketch_004_thm5.2", "bartlett2017"                */
    char variant[32];   /* e.g. "predicted_j", "measured_j", "authors_code"        */
    double log_value;   /* ln of the bound (or of the complexity term)            */
    double gamma;       /* margin used                                             */
    double margin_loss; /* empirical margin loss at gamma                          */
    double complexity;  /* parameter count / complexity term before sqrt(./n)      */
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
void cb_result_add_bound(CbResult *r, const char *name, const char *variant, double log_value,
                         double gamma, double margin_loss, double complexity);
void cb_result_add_series(CbResult *r, const char *name, int64_t i, double x, double y);

#endif
