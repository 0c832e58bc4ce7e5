/*
 * mlp — a fully connected network x -> W_L σ(... σ(W_1 x + b_1) ...) + b_L.
 *
 * Layout: all parameters live in one contiguous float buffer, layer by layer,
 *     [W_1 (widths[1], widths[0]) row-major][b_1 (widths[1])][W_2 ...][b_2] ...
 * (biases omitted when bias == 0). W[l], b[l] point into it (l = 0 .. depth-1).
 * The same layout in double (cb_mlp_params_to_double) is what the measurements
 * and bounds use: training runs in float32 like PyTorch, anything measured runs
 * in double. Batches are row-major (n, width): a forward layer is one sgemm
 * Y = X Wᵀ + 1 bᵀ.
 */
#ifndef CBOUND_MLP_H
#define CBOUND_MLP_H

#include "cbound/err.h"
#include "cbound/rng.h"

#include <stddef.h>

typedef enum { CB_ACT_RELU = 0, CB_ACT_IDENTITY, CB_ACT_TANH, CB_ACT_SOFTPLUS } CbAct;
typedef enum { CB_INIT_KAIMING_UNIFORM = 0, /* PyTorch nn.Linear default        */
               CB_INIT_GAUSSIAN             /* N(0, sigma^2 / fan_in), bias 0   */
} CbInit;

typedef struct {
    int depth;          /* number of linear layers L (>= 1)                     */
    size_t *widths;     /* (depth + 1): widths[0] input dim, widths[depth] outputs */
    CbAct act;          /* hidden activation (none after the last layer)        */
    double beta;        /* softplus sharpness: softplus(x) = log(1 + e^{βx}) / β */
    int bias;           /* 1 = layers have biases                               */
    size_t n_params;    /* total floats in params                               */
    float *params;      /* (n_params) contiguous                                */
    float **W;          /* (depth) W[l] -> (widths[l+1], widths[l]) in params    */
    float **b;          /* (depth) b[l] -> (widths[l+1]) or NULL                 */
    size_t *offset_W;   /* (depth) offsets of W[l] in params                    */
    size_t *offset_b;   /* (depth) offsets of b[l] (unused when bias == 0)      */
} CbMlp;

/* Allocate with parameters zeroed. */
CbStatus cb_mlp_alloc(int depth, const size_t *widths, CbAct act, double beta, int bias,
                      CbMlp **out);
void cb_mlp_free(CbMlp *m);
CbMlp *cb_mlp_clone(const CbMlp *m);

/* Initialize from stream (seed, key, CB_RNG_INIT, layer): kaiming-uniform draws
 * W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and b likewise (PyTorch's default);
 * gaussian draws W ~ N(0, sigma^2/fan_in), b = 0. */
void cb_mlp_init(CbMlp *m, CbInit kind, double sigma, uint64_t seed, uint64_t key);

const char *cb_mlp_act_name(CbAct a);
CbStatus cb_mlp_act_parse(const char *s, CbAct *out);

/* Widest layer (for workspace sizing). */
size_t cb_mlp_max_width(const CbMlp *m);

/* Forward pass in float: x (n, widths[0]) -> out (n, widths[depth]). `work` must
 * hold cb_mlp_forward_work_size(m, n) floats. */
size_t cb_mlp_forward_work_size(const CbMlp *m, size_t n);
void cb_mlp_forward(const CbMlp *m, const float *x, size_t n, float *out, float *work);

/* Forward pass in double with parameters `p` laid out like m->params (the shape
 * comes from m; m's float values are not used). Optionally keeps every layer's
 * post-activation output: acts[l] (n, widths[l+1]) when acts != NULL (caller
 * allocates). x is float (the data), promoted to double. */
void cb_mlp_forward_d(const CbMlp *m, const double *p, const float *x, size_t n, double *out,
                      double **acts);

/* One layer in float: y (n, widths[l+1]) = σ(x W[l]ᵀ + b[l]) with x (n, widths[l])
 * (no activation after the last layer). Used by the forward pass and training. */
void cb_mlp_layer_forward(const CbMlp *m, int l, const float *x, size_t n, float *y);
/* In place: add b[l] to each row of y (n, widths[l+1]) and apply the layer's activation. */
void cb_mlp_bias_act(const CbMlp *m, int l, float *y, size_t n);
/* Backward through the hidden activation: dy[i] *= σ'(z_i), written in terms of the
 * post-activation y[i] = σ(z_i) (count entries). */
void cb_mlp_act_backward(const CbMlp *m, const float *y, float *dy, size_t count);

/* Vector (AVX2) kernels for the elementwise parts of training: mode 1 = use them when
 * the CPU has AVX2 (the default), 0 = portable loops only, -1 = query. Returns whether
 * they are in use. Both paths give bit-identical results for relu/identity and the
 * optimizers; tanh and softplus use glibc's libmvec (within a few ulp of libm).
 * Process-wide setting: change it only while no thread is training. */
int cb_mlp_simd(int mode);

/* Logits of all n samples in double: returns a malloc'd (n, widths[depth]) array,
 * computed batch by batch (bounded workspace) with m's own parameters promoted to
 * double. The measurements share these instead of repeating forward passes. */
double *cb_mlp_logits_d(const CbMlp *m, const float *x, size_t n);

/* Copy parameters between float and double layouts. */
void cb_mlp_params_to_double(const CbMlp *m, double *p);
void cb_mlp_params_from_double(CbMlp *m, const double *p);

/* Every parameter finite? On failure names the layer and index. */
CbStatus cb_mlp_check_finite(const CbMlp *m, const char *what);

#endif
