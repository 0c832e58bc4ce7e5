/*
 * err — one status enum, one way to raise an error, checked allocation.
 *
 * Library functions return a CbStatus. On failure they record a message with
 * CB_ERR(status, fmt, ...), which stores file:line of the raise and the text in a
 * thread-local buffer and evaluates to the status, so the idiom is
 *     if (n == 0) return CB_ERR(CB_EINVAL, "%s: width 0 in layer %d", path, l);
 * The caller decides what to do: a worker turns it into a "failed" result row,
 * the command line prints it with cb_err_report() and exits non-zero.
 * Messages name the file being read, what was expected and what was found; an
 * optional hint (cb_err_hint) tells the user how to fix it.
 */
#ifndef CBOUND_ERR_H
#define CBOUND_ERR_H

#include <stddef.h>

typedef enum {
    CB_OK = 0,
    CB_EINVAL,   /* bad argument or bad user input (sweep file, config)        */
    CB_ENOMEM,   /* allocation failed                                           */
    CB_EIO,      /* file missing, unreadable, unwritable                        */
    CB_EFORMAT,  /* file present but malformed (magic, truncation, schema)      */
    CB_ENUMERIC, /* NaN/Inf, singular matrix, no convergence                    */
    CB_EMPI,     /* an MPI call failed                                          */
    CB_EHDF5,    /* an HDF5 call failed                                         */
    CB_ESTOP,    /* interrupted on request (signal)                             */
    CB_EEXIST    /* refusing to overwrite existing output                       */
} CbStatus;

/* Record an error (message formatted printf-style) and return `st`. */
CbStatus cb_err_set(const char *src_file, int src_line, CbStatus st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CB_ERR(st, ...) cb_err_set(__FILE__, __LINE__, (st), __VA_ARGS__)

/* Attach a "hint:" line to the most recent error. */
void cb_err_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *cb_err_msg(void);        /* message of the last error ("" if none)     */
const char *cb_err_hint_msg(void);   /* hint of the last error ("" if none)        */
const char *cb_err_where(void);      /* "src/file.c:123" of the last raise         */
const char *cb_err_name(CbStatus st);/* "invalid input", "I/O error", ...          */
void cb_err_clear(void);

/* Print "cbound: error: <msg>\n  hint: <hint>" to stderr (with the source
 * location when CBOUND_DEBUG is set in the environment). */
void cb_err_report(const char *prefix);

/* Print a message and exit(1) (or MPI_Abort when MPI is running with >1 rank). */
_Noreturn void cb_die(const char *src_file, int src_line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define CB_DIE(...) cb_die(__FILE__, __LINE__, __VA_ARGS__)

/* Checked allocation: dies with file:line and the size on failure, exit status 5
 * (out of memory is environmental: the run is resumable, unlike a bad input). */
void *cb_malloc_check(size_t n, const char *src_file, int src_line);
void *cb_calloc_check(size_t n, size_t size, const char *src_file, int src_line);
void *cb_realloc_check(void *p, size_t n, const char *src_file, int src_line);
#define cb_malloc(n) cb_malloc_check((n), __FILE__, __LINE__)
#define cb_calloc(n, s) cb_calloc_check((n), (s), __FILE__, __LINE__)
#define cb_realloc(p, n) cb_realloc_check((p), (n), __FILE__, __LINE__)

/* Propagate a failing status: CB_TRY(f(x)); */
#define CB_TRY(expr)                                                                  \
    do {                                                                              \
        CbStatus cb_try_st_ = (expr);                                                 \
        if (cb_try_st_ != CB_OK) return cb_try_st_;                                   \
    } while (0)

#endif
