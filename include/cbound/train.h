/*
 * train — minibatch training of a CbMlp in float32, and evaluation.
 *
 * The loop (cb_train) reads top to bottom: for each epoch { shuffle from
 * stream (seed, key, CB_RNG_DATA_ORDER, epoch); for each batch { forward,
 * loss, backward, optimizer step, re-apply mask } ; evaluate; log ; stop rule }.
 * Forward and backward are sgemm calls on (batch, width) row-major blocks.
 * Cross-entropy uses a max-shifted log-sum-exp; MSE is mean over samples and
 * outputs (PyTorch's reduction='mean').
 */
#ifndef CBOUND_TRAIN_H
#define CBOUND_TRAIN_H

#include "cbound/data.h"
#include "cbound/mlp.h"

typedef enum { CB_LOSS_CROSS_ENTROPY = 0, CB_LOSS_MSE } CbLoss;

/* Everything a training run needs to continue bit for bit at a batch boundary:
 * the shuffle of epoch e is a pure function of (seed, key, e), the learning rate
 * of e, so with the parameters, the optimizer's moments, the step count and the
 * epoch's running sums the rest of the run is exactly what it would have been. */
typedef struct {
    int epoch;          /* epoch in progress, 0-based                                  */
    size_t next;        /* position (in the epoch's order) of the next batch's first sample */
    long step;          /* optimizer steps taken (Adam's t)                             */
    double loss_sum;    /* this epoch's running sums so far                             */
    size_t correct;
    double last_loss;   /* mean training loss of the last complete epoch (progress)     */
    size_t n_params;
    float *params;      /* (n_params)                                                    */
    float *s1, *s2;     /* (n_params) momentum / Adam m, Adam v; NULL when not used      */
    int n_curve;        /* finished epochs' rows of the learning curve (CbTrainConfig.curve) */
    double *curve;      /* (n_curve, 3); owned (freed by cb_train_state_free) when loaded    */
} CbTrainState;

void cb_train_state_free(CbTrainState *st);
typedef enum { CB_OPT_SGD = 0, CB_OPT_ADAM } CbOpt;

typedef struct {
    CbLoss loss;
    CbOpt opt;
    double lr;              /* learning rate                                         */
    double momentum;        /* SGD momentum (PyTorch semantics: v = μv + g; w -= lr v) */
    double weight_decay;    /* L2 added to the gradient (PyTorch semantics)           */
    double beta1, beta2, eps; /* Adam (0.9, 0.999, 1e-8)                              */
    int epochs;             /* maximum epochs                                        */
    size_t batch;           /* minibatch size                                        */
    int n_drops;            /* step schedule: lr *= drop_factor at each drop epoch    */
    int drop_epochs[8];
    double drop_factor;
    double stop_ce;         /* > 0: stop when train cross-entropy < stop_ce           */
    int quiet;              /* 0: one line per epoch on stdout                        */
    uint64_t seed;          /* stream seed (sweep seed)                               */
    uint64_t key;           /* stream key (training stage key)                        */
    /* lottery tickets (004 §6): optional */
    const unsigned char *mask; /* (n_params) 1 = keep; re-applied after every step, or NULL */
    long snapshot_step;     /* >= 0: copy params into snapshot after this many steps  */
                            /* (0 = initial weights; must be <= epochs x batches; if the */
                            /* stop rule ends the run earlier the snapshot is not taken:  */
                            /* compare with CbTrainResult.steps)                          */
    float *snapshot;        /* (n_params) destination of the snapshot                 */
    /* checkpoints (optional, used by the runner's training stages; not with snapshots): */
    int checkpoint_every;   /* > 0: checkpoint() after every this many epochs (not the last) */
    CbStatus (*checkpoint)(void *arg, const CbTrainState *st); /* save st (it must copy)   */
    int (*should_stop)(void); /* polled after every batch: nonzero -> checkpoint(), CB_ESTOP */
    void (*progress)(void *arg, int epochs_done, int epochs, double loss); /* after each epoch */
    void *hook_arg;         /* first argument of checkpoint() and progress()              */
    const CbTrainState *resume; /* continue from this state (same model shape and config)  */
    /* optional learning curve, (epochs, 3) row per finished epoch: mean training loss and  */
    /* accuracy over the epoch's batches (as the progress line prints them; accuracy NaN   */
    /* for regression) and the test accuracy after the epoch, NaN unless cheap (a test set */
    /* of at most 0.6 x the training set: at most ~20% more time). Resumed runs take the   */
    /* rows before the checkpoint from it.                                                  */
    double *curve;
} CbTrainConfig;

typedef struct {
    double train_loss, train_acc; /* on the full training set after the last epoch    */
    double test_loss, test_acc;
    int epochs_run;
    long steps;
    double seconds;
    double samples_per_s;         /* training samples / wall seconds of the training loop */
    double cpu_seconds;           /* CPU time of the training loop (this thread): the rate
                                   * n·epochs / cpu_seconds is what a shared core hides  */
} CbTrainResult;

void cb_train_config_default(CbTrainConfig *c); /* SGD lr 0.02, batch 256, 10 epochs, CE */

/* Train in place. Returns CB_ENUMERIC if the loss becomes NaN/Inf, CB_ESTOP when
 * should_stop() asked (after checkpoint() saved the state), or checkpoint()'s error. */
CbStatus cb_train(CbMlp *m, const CbTrainConfig *c, const CbData *train, const CbData *test,
                  CbTrainResult *res);

/* Loss and accuracy (accuracy = 0 for regression) over a data set, in float,
 * batched. margins: optional (n) output f(x)[y] - max_{j≠y} f(x)[j]. */
CbStatus cb_train_eval(const CbMlp *m, CbLoss loss, const CbData *d, double *mean_loss,
                       double *acc, double *margins);

/* Loss and its gradient for one batch (used by the parity and finite-difference
 * tests, and by the greedy compression's Fisher/Hessian estimates). grad is
 * (n_params), overwritten. */
double cb_train_loss_grad(const CbMlp *m, CbLoss loss, const float *x, const int32_t *y,
                          const float *t, size_t n, float *grad);

#endif
