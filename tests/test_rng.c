/*
 * Tests for rng: Random123 known-answer vectors, reproducibility, disjointness
 * of purposes, the GSL adapter, and basic distribution checks.
 * cbound-test: ranks 1 2 4
 */
#include "cbound/rng.h"
#include "check.h"

#include <gsl/gsl_randist.h>
#include <string.h>

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    /* Known answers from Random123's kat_vectors (philox4x32 10 rounds). */
    {
        uint32_t c0[4] = {0, 0, 0, 0}, k0[2] = {0, 0}, r[4];
        cb_rng_philox(c0, k0, r);
        CHECK(r[0] == 0x6627e8d5u && r[1] == 0xe169c58du && r[2] == 0xbc57ac4cu && r[3] == 0x9b00dbd8u,
              "philox4x32-10 KAT zero");
        uint32_t c1[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, k1[2] = {0xffffffffu, 0xffffffffu};
        cb_rng_philox(c1, k1, r);
        CHECK(r[0] == 0x408f276du && r[1] == 0x41c83b0eu && r[2] == 0xa20bc7c6u && r[3] == 0x6d5451fdu,
              "philox4x32-10 KAT ones");
        uint32_t c2[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, k2[2] = {0xa4093822u, 0x299f31d0u};
        cb_rng_philox(c2, k2, r);
        CHECK(r[0] == 0xd16cfe09u && r[1] == 0x94fdccebu && r[2] == 0x5001e420u && r[3] == 0x24126ea1u,
              "philox4x32-10 KAT pi");
    }

    /* Same key -> same sequence on every rank: rank 0 broadcasts its draws. */
    {
        double mine[64], root[64];
        CbStream s = cb_rng_stream(20261122ULL, 0x9e3779b97f4a7c15ULL, CB_RNG_COMPRESS, 3);
        for (int i = 0; i < 64; ++i) mine[i] = cb_rng_uniform(&s);
        memcpy(root, mine, sizeof root);
        MPI_Bcast(root, 64, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        CHECK(memcmp(root, mine, sizeof root) == 0, "stream identical on rank %d of %d", rank, size);
    }

    /* Draws split across ranks (rank r draws i = r, r+size, ...) by random access
     * equal the same draws made by one rank. */
    {
        enum { N = 1000 };
        double part[N] = {0}, all[N];
        for (int i = rank; i < N; i += size) part[i] = cb_rng_uniform_at(7, 11, CB_RNG_MC, 2, (uint64_t)i);
        MPI_Allreduce(part, all, N, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        int same = 1;
        for (int i = 0; i < N; ++i) same &= all[i] == cb_rng_uniform_at(7, 11, CB_RNG_MC, 2, (uint64_t)i);
        CHECK(same, "random-access draws independent of rank split (%d ranks)", size);
    }

    /* Different purposes / indices / keys / seeds give different sequences; no
     * 32-bit word of one stream's first 4096 appears at the same position in the other. */
    {
        CbStream a = cb_rng_stream(1, 42, CB_RNG_INIT, 0);
        CbStream b = cb_rng_stream(1, 42, CB_RNG_DATA_ORDER, 0);
        CbStream c = cb_rng_stream(1, 42, CB_RNG_INIT, 1);
        CbStream d = cb_rng_stream(1, 43, CB_RNG_INIT, 0);
        CbStream e = cb_rng_stream(2, 42, CB_RNG_INIT, 0);
        int eq_b = 0, eq_c = 0, eq_d = 0, eq_e = 0;
        for (int i = 0; i < 4096; ++i) {
            uint32_t x = cb_rng_u32(&a);
            eq_b += x == cb_rng_u32(&b);
            eq_c += x == cb_rng_u32(&c);
            eq_d += x == cb_rng_u32(&d);
            eq_e += x == cb_rng_u32(&e);
        }
        CHECK(eq_b <= 1 && eq_c <= 1 && eq_d <= 1 && eq_e <= 1,
              "purpose/index/key/seed give distinct streams (coincidences %d %d %d %d)", eq_b, eq_c,
              eq_d, eq_e);
        /* Disjoint counters: streams of two purposes never share a Philox (key, ctr) block. */
        CbStream p = cb_rng_stream(1, 42, CB_RNG_INIT, 0), q = cb_rng_stream(1, 42, CB_RNG_COMPRESS, 0);
        CHECK(p.key[0] == q.key[0] && p.key[1] == q.key[1] && p.ctr[3] != q.ctr[3],
              "same task key, different purpose -> same Philox key, disjoint counter space");
    }

    /* Uniform moments and normal moments (n = 200000: mean within 5 sigma). */
    {
        CbStream s = cb_rng_stream(3, 5, CB_RNG_TEST, 0);
        const int n = 200000;
        double su = 0, sn = 0, sn2 = 0, mn = 1, mx = 0;
        for (int i = 0; i < n; ++i) {
            double u = cb_rng_uniform(&s);
            su += u;
            mn = u < mn ? u : mn;
            mx = u > mx ? u : mx;
            double z = cb_rng_normal(&s);
            sn += z;
            sn2 += z * z;
        }
        CHECK(mn > 0 && mx < 1, "uniform in open (0,1): min %.3g max %.17g", mn, mx);
        CHECK_CLOSE(su / n, 0.5, 5 * sqrt(1.0 / 12 / n), "uniform mean");
        CHECK_CLOSE(sn / n, 0.0, 5 / sqrt(n), "normal mean");
        CHECK_CLOSE(sn2 / n, 1.0, 5 * sqrt(2.0 / n), "normal variance");
    }

    /* GSL adapter: gsl_ran_* draws from the stream; two allocs from one stream agree. */
    {
        CbStream s = cb_rng_stream(9, 9, CB_RNG_TEST, 1);
        gsl_rng *r1 = cb_rng_gsl_alloc(&s), *r2 = cb_rng_gsl_alloc(&s);
        int same = 1;
        double sum = 0;
        const int n = 100000;
        for (int i = 0; i < n; ++i) {
            double a = gsl_ran_gamma(r1, 2.385, 1.0), b = gsl_ran_gamma(r2, 2.385, 1.0);
            same &= a == b;
            sum += a;
        }
        CHECK(same, "gsl adapter reproducible");
        CHECK_CLOSE(sum / n, 2.385, 5 * sqrt(2.385 / n), "gsl_ran_gamma mean through Philox");
        CHECK(!strcmp(gsl_rng_name(r1), "cbound-philox4x32-10"), "gsl rng name");
        gsl_rng_free(r1);
        gsl_rng_free(r2);
    }

    /* Shuffle is a permutation; below() is in range and roughly uniform. */
    {
        CbStream s = cb_rng_stream(4, 4, CB_RNG_TEST, 2);
        size_t perm[1000];
        int seen[1000] = {0}, ok = 1;
        for (size_t i = 0; i < 1000; ++i) perm[i] = i;
        cb_rng_shuffle(&s, perm, 1000);
        for (size_t i = 0; i < 1000; ++i) ok &= !seen[perm[i]]++;
        CHECK(ok, "shuffle gives a permutation");
        long cnt[7] = {0};
        for (int i = 0; i < 70000; ++i) cnt[cb_rng_below(&s, 7)]++;
        double chi2 = 0;
        for (int i = 0; i < 7; ++i) chi2 += (cnt[i] - 10000.0) * (cnt[i] - 10000.0) / 10000.0;
        CHECK(chi2 < 22.46, "below(7) chi-square %.2f < 22.46 (p = 0.001, 6 dof)", chi2);
    }

    /* Hash: deterministic, sensitive to every byte. */
    {
        const char a[] = "width=784,seed=1", b[] = "width=784,seed=2";
        uint64_t ha = cb_rng_hash64(a, sizeof a - 1, CB_RNG_HASH_INIT);
        CHECK(ha == cb_rng_hash64(a, sizeof a - 1, CB_RNG_HASH_INIT) &&
                  ha != cb_rng_hash64(b, sizeof b - 1, CB_RNG_HASH_INIT),
              "hash64 deterministic and byte-sensitive");
    }
    return check_end("rng");
}
