/*
 * err — status codes, thread-local error messages, checked allocation.
 * See include/cbound/err.h for the conventions.
 */
#include "cbound/err.h"

#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char err_msg[2048];
static _Thread_local char err_hint[1024];
static _Thread_local char err_where[256];

CbStatus cb_err_set(const char *src_file, int src_line, CbStatus st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    va_end(ap);
    snprintf(err_where, sizeof err_where, "%s:%d", src_file, src_line);
    err_hint[0] = '\0';
    return st;
}

void cb_err_hint(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_hint, sizeof err_hint, fmt, ap);
    va_end(ap);
}

const char *cb_err_msg(void) { return err_msg; }
const char *cb_err_hint_msg(void) { return err_hint; }
const char *cb_err_where(void) { return err_where; }

void cb_err_clear(void)
{
    err_msg[0] = '\0';
    err_hint[0] = '\0';
    err_where[0] = '\0';
}

const char *cb_err_name(CbStatus st)
{
    switch (st) {
    case CB_OK: return "ok";
    case CB_EINVAL: return "invalid input";
    case CB_ENOMEM: return "out of memory";
    case CB_EIO: return "I/O error";
    case CB_EFORMAT: return "bad file format";
    case CB_ENUMERIC: return "numerical failure";
    case CB_EMPI: return "MPI error";
    case CB_EHDF5: return "HDF5 error";
    case CB_ESTOP: return "stopped";
    case CB_EEXIST: return "output exists";
    }
    return "unknown error";
}

void cb_err_report(const char *prefix)
{
    fprintf(stderr, "%s: error: %s\n", prefix ? prefix : "cbound", err_msg);
    if (err_hint[0]) fprintf(stderr, "  hint: %s\n", err_hint);
    if (getenv("CBOUND_DEBUG")) fprintf(stderr, "  (raised at %s)\n", err_where);
}

/* Print and end the process (or, under MPI with several ranks, the job) with `status`. */
static _Noreturn void die_with(int status, const char *src_file, int src_line, const char *buf)
{
    int init = 0, fin = 0, size = 1, rank = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) {
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    }
    if (size > 1)
        fprintf(stderr, "cbound[rank %d]: fatal: %s (%s:%d)\n", rank, buf, src_file, src_line);
    else
        fprintf(stderr, "cbound: fatal: %s (%s:%d)\n", buf, src_file, src_line);
    fflush(stderr);
    if (init && !fin && size > 1) MPI_Abort(MPI_COMM_WORLD, status);
    exit(status);
}

_Noreturn void cb_die(const char *src_file, int src_line, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    die_with(1, src_file, src_line, buf);
}

/* Out of memory is the machine's failure, not the input's: exit status 5 (as for a
 * full disk), so a batch system or a script can tell it from a bad input (1). */
static _Noreturn void die_oom(const char *src_file, int src_line, double bytes)
{
    char buf[256];
    snprintf(buf, sizeof buf, "out of memory allocating %.4g bytes; finished work is kept: give each rank more "
                              "memory (or run fewer ranks per node) and resume", bytes);
    die_with(5, src_file, src_line, buf);
}

void *cb_malloc_check(size_t n, const char *src_file, int src_line)
{
    void *p = malloc(n ? n : 1);
    if (!p) die_oom(src_file, src_line, (double)n);
    return p;
}

void *cb_calloc_check(size_t n, size_t size, const char *src_file, int src_line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die_oom(src_file, src_line, (double)n * (double)size);
    return p;
}

void *cb_realloc_check(void *p, size_t n, const char *src_file, int src_line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) die_oom(src_file, src_line, (double)n);
    return q;
}
