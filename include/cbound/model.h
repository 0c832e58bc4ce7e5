/*
 * model — the HDF5 model file (schema "cbound-model", version 1).
 *
 *   /                       attrs: schema="cbound-model", schema_version=1,
 *                                  cbound_version, depth, activation, beta, bias,
 *                                  content_hash (hex of the weights), dataset,
 *                                  train_config (text), created (ISO time)
 *   /layers/<l>/W           float32 (d_out, d_in)      l = 0 .. depth-1
 *   /layers/<l>/b           float32 (d_out)            when bias
 *   /layers/<l>/W_init      float32 (d_out, d_in)      initial weights (bounds measure distance from init)
 *   /layers/<l>/b_init      float32 (d_out)
 *   /metrics                attrs: train_loss, train_acc, test_loss, test_acc, epochs, steps, seconds
 * Loading validates schema, version, shapes and finiteness (NaN/Inf -> error
 * naming the layer and index) and recomputes the content hash.
 */
#ifndef CBOUND_MODEL_H
#define CBOUND_MODEL_H

#include "cbound/mlp.h"
#include "cbound/train.h"

typedef struct {
    CbMlp *mlp;          /* trained weights                            */
    CbMlp *init;         /* initial weights (same shape), may be NULL  */
    char dataset[256];   /* data set description                       */
    char *train_config;  /* free text (YAML) of the training settings, owned */
    CbTrainResult metrics;
    char content_hash[17];
} CbModel;

CbStatus cb_model_save(const char *path, const CbModel *m);
CbStatus cb_model_load(const char *path, CbModel *m);
void cb_model_free(CbModel *m);   /* frees mlp, init, train_config */

/* Hex content hash of the parameters (shape + values). */
void cb_model_hash(const CbMlp *m, char out[17]);

#endif
