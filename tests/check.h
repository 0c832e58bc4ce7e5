/*
 * check.h — the tiny test harness every tests/test_<module>.c uses.
 *
 * One line per check ("PASS name" / "FAIL name: details"), then a summary line
 * "<name>: N passed, N failed" that tests/run.sh adds up; the exit status is
 * non-zero iff a check failed. Under MPI, each rank checks, failures are summed
 * over MPI_COMM_WORLD, and only rank 0 prints PASS lines (every rank prints FAILs).
 */
#ifndef CBOUND_TEST_CHECK_H
#define CBOUND_TEST_CHECK_H

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int check_passed, check_failed, check_rank;

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (cond) {                                                                      \
            ++check_passed;                                                              \
            if (check_rank == 0) {                                                       \
                printf("PASS ");                                                         \
                printf(__VA_ARGS__);                                                     \
                printf("\n");                                                            \
            }                                                                            \
        } else {                                                                         \
            ++check_failed;                                                              \
            printf("FAIL [rank %d] %s:%d: ", check_rank, __FILE__, __LINE__);            \
            printf(__VA_ARGS__);                                                         \
            printf("\n");                                                                \
        }                                                                                \
        fflush(stdout);                                                                  \
    } while (0)

/* |a - b| <= tol (absolute), printing both values and the difference. */
#define CHECK_CLOSE(a, b, tol, name)                                                     \
    do {                                                                                 \
        double ca_ = (double)(a), cb_ = (double)(b), ct_ = (double)(tol);                 \
        CHECK(fabs(ca_ - cb_) <= ct_ && !isnan(ca_) && !isnan(cb_),                      \
              "%s: %.12g vs %.12g (|diff| %.3g, tol %.3g)", name, ca_, cb_,              \
              fabs(ca_ - cb_), ct_);                                                     \
    } while (0)

/* |a - b| <= rtol * max(|a|, |b|) */
#define CHECK_REL(a, b, rtol, name)                                                      \
    do {                                                                                 \
        double ra_ = (double)(a), rb_ = (double)(b), rt_ = (double)(rtol);                \
        double rs_ = fmax(fabs(ra_), fabs(rb_));                                          \
        CHECK(fabs(ra_ - rb_) <= rt_ * rs_ && !isnan(ra_) && !isnan(rb_),                \
              "%s: %.12g vs %.12g (rel diff %.3g, rtol %.3g)", name, ra_, rb_,           \
              rs_ > 0 ? fabs(ra_ - rb_) / rs_ : 0.0, rt_);                               \
    } while (0)

static inline void check_begin(int *argc, char ***argv)
{
    int provided;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &check_rank);
}

/* Prints the summary and returns the exit status; call as `return check_end("rng");` */
static inline int check_end(const char *name)
{
    int local[2] = {check_passed, check_failed}, total[2];
    MPI_Allreduce(local, total, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (check_rank == 0)
        printf("%s (%d rank%s): %d passed, %d failed\n", name, size, size > 1 ? "s" : "",
               total[0], total[1]);
    MPI_Finalize();
    return total[1] ? 1 : 0;
}

#endif
