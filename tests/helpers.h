/*
 * helpers.h — set-up code shared by tests/test_<module>.c (next to check.h, the harness).
 *
 *   helper_mpi_begin(&argc, &argv, &rank, &size)   check_begin + MPI_ERRORS_RETURN on
 *                                                  MPI_COMM_WORLD + rank and size
 *   helper_gauss_data(n, d, k, classify, seed, key, idx, scale)
 *       a synthetic data set: x (n, d) = scale · N(0, 1); classify = 1: labels uniform in
 *       [0, k); classify = 0 and k > 0: k regression targets N(0, 1); k = 0: inputs only.
 *       All draws from stream (seed, key, CB_RNG_TEST, idx). Free with cb_data_free.
 *   helper_tmpdir(buf, size, tag)                  mkdtemp /tmp/cbound-test-TAG-XXXXXX into
 *                                                  buf; exits with a message if it fails.
 *
 * Header-only (static functions), so a test includes it after check.h and links nothing else.
 */
#ifndef CBOUND_TEST_HELPERS_H
#define CBOUND_TEST_HELPERS_H

#include "check.h"
#include "cbound/data.h"
#include "cbound/rng.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void helper_mpi_begin(int *argc, char ***argv, int *rank, int *size)
{
    check_begin(argc, argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
}

static inline CbData helper_gauss_data(size_t n, size_t d, size_t k, int classify, uint64_t seed, uint64_t key,
                                       uint32_t idx, double scale)
{
    CbData D;
    memset(&D, 0, sizeof D);
    D.n = n;
    D.d = d;
    D.x = malloc(n * d * sizeof *D.x);
    CbStream s = cb_rng_stream(seed, key, CB_RNG_TEST, idx);
    for (size_t i = 0; i < n * d; ++i) D.x[i] = (float)(scale * cb_rng_normal(&s));
    if (classify) {
        D.n_classes = k;
        D.y = malloc(n * sizeof *D.y);
        for (size_t i = 0; i < n; ++i) D.y[i] = (int32_t)cb_rng_below(&s, k);
    } else if (k > 0) {
        D.n_targets = k;
        D.t = malloc(n * k * sizeof *D.t);
        for (size_t i = 0; i < n * k; ++i) D.t[i] = (float)cb_rng_normal(&s);
    }
    strcpy(D.name, "synthetic");
    return D;
}

static inline void helper_tmpdir(char *buf, size_t size, const char *tag)
{
    snprintf(buf, size, "/tmp/cbound-test-%s-XXXXXX", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        fprintf(stderr, "hint: the tests need a writable /tmp\n");
        exit(2);
    }
}

#endif
