/*
 * model — the HDF5 model file (schema "cbound-model", version 1), and the
 * training stage that produces one.
 *
 *   /                       attrs: schema="cbound-model", schema_version=1,
 *                                  cbound_version, depth, widths (depth+1),
 *                                  activation, beta, bias,
 *                                  content_hash (hex of the weights), init_hash,
 *                                  init_known (0: W_init = W, initial weights unknown;
 *                                  then also init_note, a string saying so),
 *                                  dataset, train_config (text), created (ISO time)
 *   /layers/<l>/W           float32 (d_out, d_in)      l = 0 .. depth-1
 *   /layers/<l>/b           float32 (d_out)            when bias
 *   /layers/<l>/W_init      float32 (d_out, d_in)      initial weights (bounds measure distance from init)
 *   /layers/<l>/b_init      float32 (d_out)            when bias
 *   /metrics                attrs: train_loss, train_acc, test_loss, test_acc, epochs, steps, seconds,
 *                                  samples_per_s  (NaN / -1 when unknown, e.g. imported models)
 *   /curve                  float64 (epochs, 3), optional: per epoch train loss, train acc, test acc
 *                                  (CbTrainConfig.curve; attrs columns, doc); absent in older and
 *                                  imported files, which still load (same schema version)
 * Loading validates schema, version, shapes and finiteness (NaN/Inf -> error
 * naming the layer and index) and recomputes the content hash.
 *
 * Content hash (version 1), so other tools can compute it: h = CB_RNG_HASH_INIT, then
 * h = cb_rng_hash64(chunk, len, h) for each chunk in order:
 *     header  (depth + 3) little-endian uint64: depth, widths[0..depth], bias
 *     per layer l: W_l as float32 little-endian row-major bytes, then b_l (when bias)
 * and content_hash = printf("%016llx", h). init_hash is the same over W_init, b_init.
 */
#ifndef CBOUND_MODEL_H
#define CBOUND_MODEL_H

#include "cbound/data.h"
#include "cbound/mlp.h"
#include "cbound/train.h"

#include <stdio.h>

#define CB_MODEL_SCHEMA "cbound-model"
#define CB_MODEL_SCHEMA_VERSION 1
#define CB_MODEL_MAX_DEPTH 64

typedef struct {
    CbMlp *mlp;          /* trained weights                            */
    CbMlp *init;         /* initial weights (same shape), may be NULL  */
    char dataset[256];   /* data set description                       */
    char *train_config;  /* free text (YAML) of the training settings, owned */
    CbTrainResult metrics;
    char content_hash[17];
    int n_curve;         /* learning curve rows (0: unknown, e.g. a researcher's file) */
    double *curve;       /* (n_curve, 3) owned: per epoch train loss, train acc, test acc (NaN: not
                          * evaluated); in the file as /curve (float64, n_curve x 3)       */
} CbModel;

/* Atomic: writes PATH.tmp.<pid> and renames it over PATH, so PATH exists only
 * when complete. Serial HDF5: call from one process only. */
CbStatus cb_model_save(const char *path, const CbModel *m);
CbStatus cb_model_load(const char *path, CbModel *m);
/* Only the learning curve /curve of a model file: *n = 0 and *curve = NULL when the
 * file has none (older files, files brought by researchers). *curve is malloc'd. */
CbStatus cb_model_read_curve(const char *path, double **curve, int *n);
void cb_model_free(CbModel *m);   /* frees mlp, init, train_config */

/* Hex content hash of the parameters (shape + values). */
void cb_model_hash(const CbMlp *m, char out[17]);

/* The `cbound info` summary: shapes, parameter counts, per-layer norms (‖W‖_F,
 * ‖W‖_2 by LAPACK SVD, ‖W − W_init‖_F, max |w|, nonzeros), data set, metrics,
 * hash, training config (src/cmd/model_cli.c). */
void cb_model_print(const CbModel *m, const char *path, FILE *out);

/* ------------------------------------------------------------------ training stage
 * Everything that determines a trained model: data, shape, init, training.
 * widths[0] = 0 / widths[depth] = 0 mean "from the data" (cb_model_spec_resolve). */
typedef struct {
    CbDataSpec data;
    int depth;
    size_t widths[CB_MODEL_MAX_DEPTH + 1];
    CbAct act;
    double beta;
    int bias;
    CbInit init;
    double sigma;        /* gaussian init: W ~ N(0, sigma^2 / fan_in) */
    CbTrainConfig train; /* train.key is set by cb_model_train       */
} CbTrainSpec;

void cb_model_spec_default(CbTrainSpec *s); /* fashion-mnist, 784-784-10 auto, relu, kaiming, train defaults */

/* Fill widths[0] / widths[depth] from the data and check they agree with it. */
CbStatus cb_model_spec_resolve(CbTrainSpec *s, const CbData *train);

/* The settings as "key: value" lines (YAML). full = 1: every field (stored in the
 * model file as train_config); full = 0: the canonical text of the key — fields
 * that do not change the result (paths, quiet) and the seed (it keys the streams
 * separately) are left out, and so are fields at their default value, so adding an
 * option later keeps old keys. Returns malloc'd text. */
char *cb_model_spec_text(const CbTrainSpec *s, int full);
/* Stream key of the training stage = cb_rng_hash64 of the canonical text. */
uint64_t cb_model_spec_key(const CbTrainSpec *s);
/* Parse text written by cb_model_spec_text (either form) over the defaults. */
CbStatus cb_model_spec_parse(const char *text, const char *where, CbTrainSpec *s);

/* Allocate, initialize from (seed, key, CB_RNG_INIT), train and evaluate; fills
 * out (mlp, init, dataset, train_config, metrics, content_hash). The spec must be
 * resolved against `train`. */
CbStatus cb_model_train(const CbTrainSpec *s, const CbData *train, const CbData *test, CbModel *out);

/* ------------------------------------------------------------------ files on disk, trusted only when checked
 * Checksum sidecar PATH.sum: "cbound-crc32 <8 hex> <size>\n", the zlib CRC-32 and
 * byte size of the whole file, written (atomically) after PATH; checked before the
 * HDF5 library opens PATH, so a flipped byte is found without trusting HDF5's
 * reading of a damaged file. */
CbStatus cb_model_sum_write(const char *path);
/* CB_OK: the file matches its sidecar (*checked = 1) or has none (*checked = 0, a
 * file from before sidecars); CB_EFORMAT naming what differs; CB_EIO unreadable. */
CbStatus cb_model_sum_check(const char *path, int *checked);

/* Training checkpoint (binary, little-endian; written to PATH.tmp.<pid>, fsync'd,
 * renamed): "CBCKPT1\n", u64 id (whose run it is: the runner's stage key), i32
 * epoch, i32 0, u64 next, i64 step, f64 loss_sum, u64 correct, f64 last_loss,
 * u64 n_params, u32 has_s1, u32 has_s2, f32 params[n] (s1[n]) (s2[n]), u32 CRC-32 of
 * everything before it. Load checks magic, id, sizes and CRC (CB_EFORMAT) and
 * allocates st's arrays (cb_train_state_free). */
CbStatus cb_model_checkpoint_save(const char *path, uint64_t id, const CbTrainState *st);
CbStatus cb_model_checkpoint_load(const char *path, uint64_t id, CbTrainState *st);

#endif
