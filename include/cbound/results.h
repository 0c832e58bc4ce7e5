/*
 * results — the results file of a sweep: a crash-safe journal and the HDF5 tables
 * rebuilt from it. Rank 0 is the only writer.
 *
 * Journal OUTPUT.journal (the source of truth; ADLB-style append-only log):
 *     "CBJOURNAL1\n" then records [u32 length][u32 CRC-32 (zlib) of payload][payload]
 *     payload "CBS1"+text  a session: start time, ranks, hosts, sweep hash, version
 *     payload "CBR1"+...   one finished task: a packed CbRecord (cb_record_pack)
 * Each record is written with one write() (so kill -9 cannot lose it once written)
 * and fdatasync'ed at most every 0.5 s. Reloading skips a damaged record that has
 * intact ones after it (reporting its offset; its task runs again) and cuts off a
 * damaged tail (a crash mid-write), reporting it.
 * Finished tasks are matched to the sweep by task key, so a sweep that gains tasks
 * can be resumed.
 *
 * OUTPUT (HDF5, schema "cbound-results" version 2), rebuilt from the records in
 * task-expansion order into OUTPUT.tmp.<pid> and renamed over OUTPUT: flat compound
 * tables /tasks, /layers, /bounds, /series, /curves (columns: `cbound run --schema`),
 * with per-column attributes unit_<col> and doc_<col>, and provenance attributes on /.
 * Tables are chunked (~1 MiB of rows) with shuffle + deflate; identifiers are
 * fixed-length ASCII, free text variable-length UTF-8. The tasks table also has a
 * p_<name> column per method parameter and a column per training-stage setting that
 * varies between the stages (computed from the sweep); /curves comes from the stages'
 * model files (their /curve). Version 1 files: fixed-length text, no grid columns,
 * no curves, uncompressed.
 */
#ifndef CBOUND_RESULTS_H
#define CBOUND_RESULTS_H

#include "cbound/result.h"
#include "cbound/sweep.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t task;          /* index in the sweep's expansion (informational)       */
    char key[17];          /* task key, 16 hex digits                              */
    int32_t failed;        /* 0 ok, 1 failed                                       */
    int32_t worker;        /* MPI rank that ran it                                 */
    double t_start, t_end; /* unix seconds                                         */
    char reason[256];      /* failure message ("" when ok)                         */
    CbResult res;
} CbRecord;

/* Pack into a malloc'd buffer (the MPI message and the journal payload). */
unsigned char *cb_record_pack(const CbRecord *r, size_t *len);
/* Unpack; `where` names the source in errors. Allocates r->res arrays. */
CbStatus cb_record_unpack(const unsigned char *buf, size_t len, const char *where, CbRecord *r);
void cb_record_free(CbRecord *r);

/* RETRY = RESUME, and tasks recorded as failed run again (their rows are replaced
 * when the new record arrives; the journal keeps both, the later one wins). */
typedef enum { CB_RESULTS_NEW = 0, CB_RESULTS_RESUME, CB_RESULTS_FORCE, CB_RESULTS_RETRY } CbResultsMode;

typedef struct {
    const CbSweep *sweep;
    char journal_path[1100];
    int fd;                 /* journal, open for appending                          */
    double last_sync;
    CbRecord **done;        /* (n_tasks) finished record by task index, or NULL     */
    int n_done, n_failed;
    int n_reloaded;         /* finished before this session                         */
    int n_foreign;          /* journal records whose key is not in the sweep        */
    int n_retry;            /* failed rows dropped to run again (--retry-failed)    */
    int n_damaged;          /* damaged journal records skipped (reported on load)   */
    int sweep_changed;      /* an earlier session ran another version of the sweep file */
    char *sessions;         /* one line per session (provenance)                    */
    char start_time[32];    /* ISO time of the first session                        */
    int mpi_size;
    char *hosts;
    double write_s;         /* seconds the last cb_results_write took (callers space rewrites by it) */
} CbResults;

/* Open the journal. NEW refuses an existing OUTPUT or journal (CB_EEXIST);
 * FORCE deletes them first; RESUME reloads the journal (or starts a new one when
 * neither exists; an OUTPUT without its journal is an error). */
CbStatus cb_results_open(CbResults *r, const CbSweep *s, CbResultsMode mode, int mpi_size, const char *hosts);
/* Append one packed record (from a worker) and keep it; *task = its index. */
CbStatus cb_results_add(CbResults *r, const unsigned char *buf, size_t len, int *task);
/* fdatasync the journal if `force` or the last sync is older than 0.5 s. */
CbStatus cb_results_sync(CbResults *r, int force);
/* Merge: append to r every finished task of another run's journal (a shard's)
 * that r lacks (a failed row gives way to a later record of the same task).
 * Every session in it must name r's sweep hash (else CB_EINVAL: another sweep).
 * shard = its last session's "I/N" ("" for a whole run); *added = new rows. */
CbStatus cb_results_import(CbResults *r, const char *journal, char *shard, size_t shard_len, int *added);
/* Rebuild OUTPUT from the records (atomically). complete: all tasks done. */
CbStatus cb_results_write(CbResults *r);
void cb_results_close(CbResults *r);

/* Markdown tables of every column (name, type, unit, meaning), for docs/reference.md. */
void cb_results_print_schema(FILE *f);

/* Unix time in seconds (wall clock) and ISO-8601 UTC text of it. */
double cb_results_now(void);
void cb_results_iso(double t, char *buf, size_t len);

#endif
