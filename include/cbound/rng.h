/*
 * rng — counter-based random streams (Random123 Philox4x32-10, Salmon et al. 2011).
 *
 * Every random number cbound draws comes from a stream named by
 *     (sweep seed, stage/task key, purpose, index)
 * and nothing else, so a result never depends on which rank or thread drew it.
 *   Philox key   (2 x 32 bit) = mix(sweep seed, task key)      one key per task
 *   Philox ctr   (4 x 32 bit) = (block lo, block hi, index, purpose)
 * Within a task, streams with different (purpose, index) use disjoint counters,
 * so they cannot overlap (proved by construction, not by probability); different
 * tasks use different keys. A stream yields 4 x 32 bits per block and may use up
 * to 2^64 blocks.
 *
 * Two ways to draw:
 *   sequential  CbStream s = cb_rng_stream(seed, key, CB_RNG_INIT, layer);
 *               double u = cb_rng_uniform(&s);
 *   random access  cb_rng_uniform_at(seed, key, purpose, index, i) — the i-th
 *               uniform of that stream without state (for parallel mask draws).
 * GSL: cb_rng_gsl_alloc(&s) returns a gsl_rng drawing from the stream, so every
 * gsl_ran_* distribution is available.
 */
#ifndef CBOUND_RNG_H
#define CBOUND_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

/* Purposes: append only — the numeric values are part of the results' semantics. */
typedef enum {
    CB_RNG_INIT = 1,       /* weight initialization (index = layer)                   */
    CB_RNG_DATA_ORDER = 2, /* minibatch shuffling (index = epoch)                     */
    CB_RNG_DATA_GEN = 3,   /* synthetic data (index: 0 teacher, 1 train x, 2 test x)  */
    CB_RNG_SUBSET = 4,     /* training-subset selection                               */
    CB_RNG_COMPRESS = 5,   /* compression masks / rounding (index = layer)            */
    CB_RNG_SKETCH_A = 6,   /* sketch matrix A (index = layer * 1024 + trial)          */
    CB_RNG_SKETCH_B = 7,   /* sketch matrix B                                         */
    CB_RNG_MC = 8,         /* Monte Carlo over masks (index = replicate)              */
    CB_RNG_TWOLAYER = 9,   /* two-layer teacher / starts (002)                        */
    CB_RNG_LOWRANK = 10,   /* low-rank experiments (003)                              */
    CB_RNG_NORMS = 11,     /* start vectors of iterative norm solvers (index = layer) */
    CB_RNG_FEATURES = 12,  /* random feature map of the data (index 0: filters, then biases) */
    CB_RNG_TEST = 99       /* tests only                                              */
} CbRngPurpose;

typedef struct {
    uint32_t key[2];  /* Philox key                         */
    uint32_t ctr[4];  /* next block: lo, hi, index, purpose */
    uint32_t buf[4];  /* current block output               */
    int used;         /* words of buf already consumed (4 = empty) */
} CbStream;

/* 64-bit task key + sweep seed -> Philox key (a fixed bijective-ish mix). */
CbStream cb_rng_stream(uint64_t seed, uint64_t key, uint32_t purpose, uint32_t index);

uint32_t cb_rng_u32(CbStream *s);
uint64_t cb_rng_u64(CbStream *s);
double cb_rng_uniform(CbStream *s);      /* (0, 1), 53 random bits, never 0 or 1 */
double cb_rng_normal(CbStream *s);       /* N(0,1) by Box–Muller on two uniforms */
uint64_t cb_rng_below(CbStream *s, uint64_t n); /* uniform in [0, n), unbiased   */
void cb_rng_shuffle(CbStream *s, size_t *perm, size_t n); /* Fisher–Yates        */

/* The i-th uniform (0,1) of stream (seed, key, purpose, index), stateless.
 * Equals the i-th cb_rng_uniform() only in distribution, not in value
 * (it uses one 64-bit draw per block position); use it for element-wise masks. */
double cb_rng_uniform_at(uint64_t seed, uint64_t key, uint32_t purpose, uint32_t index,
                         uint64_t i);

/* Raw Philox4x32-10 block (for known-answer tests). */
void cb_rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* A gsl_rng that draws from a copy of stream `s` (free with gsl_rng_free). */
gsl_rng *cb_rng_gsl_alloc(const CbStream *s);
extern const gsl_rng_type *cb_rng_gsl_philox;

/* 64-bit FNV-1a with a final avalanche (for task keys and content hashes). */
uint64_t cb_rng_hash64(const void *data, size_t n, uint64_t h);
#define CB_RNG_HASH_INIT 0xcbf29ce484222325ULL

#endif
