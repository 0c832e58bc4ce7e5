/*
 * rng — Philox4x32-10 streams keyed by (seed, task key, purpose, index).
 * Layout of key/counter words and the guarantees are in include/cbound/rng.h.
 */
#include "cbound/rng.h"

#include <Random123/philox.h>
#include <math.h>
#include <string.h>

void cb_rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    philox4x32_ctr_t c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
    philox4x32_key_t k = {{key[0], key[1]}};
    philox4x32_ctr_t r = philox4x32(c, k);
    memcpy(out, r.v, sizeof r.v);
}

/* The task key is mixed with the seed by one Philox block keyed by the seed:
 * distinct (seed, key) pairs give distinct Philox keys except with probability
 * ~2^-64 per pair. */
static void make_key(uint64_t seed, uint64_t key, uint32_t out[2])
{
    uint32_t c[4] = {(uint32_t)key, (uint32_t)(key >> 32), 0x6362u /* "cb" */, 0};
    uint32_t k[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t r[4];
    cb_rng_philox(c, k, r);
    out[0] = r[0];
    out[1] = r[1];
}

CbStream cb_rng_stream(uint64_t seed, uint64_t key, uint32_t purpose, uint32_t index)
{
    CbStream s;
    make_key(seed, key, s.key);
    s.ctr[0] = 0;
    s.ctr[1] = 0;
    s.ctr[2] = index;
    s.ctr[3] = purpose;
    s.used = 4;
    memset(s.buf, 0, sizeof s.buf);
    return s;
}

uint32_t cb_rng_u32(CbStream *s)
{
    if (s->used == 4) {
        cb_rng_philox(s->ctr, s->key, s->buf);
        if (++s->ctr[0] == 0) ++s->ctr[1];
        s->used = 0;
    }
    return s->buf[s->used++];
}

uint64_t cb_rng_u64(CbStream *s)
{
    uint64_t lo = cb_rng_u32(s);
    uint64_t hi = cb_rng_u32(s);
    return lo | (hi << 32);
}

static double u64_to_open01(uint64_t x)
{
    /* 53 high bits, shifted by half an ulp: values in (0,1), never 0 or 1. */
    return ((double)(x >> 11) + 0.5) * 0x1.0p-53;
}

double cb_rng_uniform(CbStream *s) { return u64_to_open01(cb_rng_u64(s)); }

double cb_rng_normal(CbStream *s)
{
    double u1 = cb_rng_uniform(s), u2 = cb_rng_uniform(s);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t cb_rng_below(CbStream *s, uint64_t n)
{
    if (n <= 1) return 0;
    /* Rejection: threshold = 2^64 mod n. */
    uint64_t thr = (0 - n) % n, x;
    do x = cb_rng_u64(s);
    while (x < thr);
    return x % n;
}

void cb_rng_shuffle(CbStream *s, size_t *perm, size_t n)
{
    for (size_t i = n; i > 1; --i) {
        size_t j = (size_t)cb_rng_below(s, i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

double cb_rng_uniform_at(uint64_t seed, uint64_t key, uint32_t purpose, uint32_t index,
                         uint64_t i)
{
    uint32_t k[2], r[4];
    make_key(seed, key, k);
    uint64_t block = i >> 1;
    uint32_t c[4] = {(uint32_t)block, (uint32_t)(block >> 32), index, purpose};
    cb_rng_philox(c, k, r);
    uint64_t x = (i & 1) ? ((uint64_t)r[2] | ((uint64_t)r[3] << 32))
                         : ((uint64_t)r[0] | ((uint64_t)r[1] << 32));
    return u64_to_open01(x);
}

/* ---------------------------------------------------------------- GSL adapter */

static void gsl_philox_set(void *state, unsigned long seed)
{
    /* gsl_rng_set(r, seed): a stream of purpose CB_RNG_TEST keyed by the seed.
     * cbound itself never calls this; it copies a full stream in. */
    *(CbStream *)state = cb_rng_stream((uint64_t)seed, 0, CB_RNG_TEST, 0);
}

static unsigned long gsl_philox_get(void *state) { return cb_rng_u32((CbStream *)state); }

static double gsl_philox_get_double(void *state)
{
    /* gsl requires [0,1); ours is (0,1). */
    return cb_rng_uniform((CbStream *)state);
}

static const gsl_rng_type philox_type = {"cbound-philox4x32-10", 0xffffffffUL, 0, sizeof(CbStream),
                                         gsl_philox_set, gsl_philox_get, gsl_philox_get_double};
const gsl_rng_type *cb_rng_gsl_philox = &philox_type;

gsl_rng *cb_rng_gsl_alloc(const CbStream *s)
{
    gsl_rng *r = gsl_rng_alloc(cb_rng_gsl_philox);
    if (r) *(CbStream *)r->state = *s;
    return r;
}

/* ---------------------------------------------------------------- hashing */

uint64_t cb_rng_hash64(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    /* splitmix64 finalizer: FNV alone avalanches poorly in the high bits. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}
