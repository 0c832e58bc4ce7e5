/*
 * farm — the MPI task farm that runs a sweep.
 *
 * Rank 0 is the manager: it owns the schedule and the results file. Work items
 * are training stages and tasks; a task is ready when its stage's model file
 * exists. Workers ask for work, get an item index, send back a packed result,
 * and ask again (dynamic scheduling, so a width-2500 task and a width-500 task
 * balance). Rank 0 also runs a local worker in a second thread (unless
 * --no-local-worker), so `-n 1` runs serially through the same code and `-n 2`
 * keeps both cores busy; the local worker makes no MPI calls
 * (MPI_THREAD_FUNNELED) and shares HDF5 with the manager under one lock.
 *
 * Messages (tags): worker -> manager  READY (empty) | RESULT (packed CbRecord)
 *                  | STAGE (i32 stage, i32 ok: 1/0/-1 env, reason text) | ENV
 *                  | SIGNAL (i32 count) | BYE (after STOP);
 *                  manager -> worker  WORK (i32 item: task >= 0, stage -(s+1)) | STOP.
 * A worker holds at most two items, results come back in hand-out order; the
 * second (queued) one is given only while items are short (mean < 0.5 s) and many
 * tasks are ready, so a worker never waits for the manager's answer. STOP drops
 * queued items that have not started (the manager learns it from BYE).
 * Signals SIGTERM, SIGINT, SIGUSR1 (every rank installs a flag-only handler,
 * before MPI_Init): rank 0 writes the file from the journal at once, stops
 * dispatching, waits up to `grace` seconds for running items, writes the file
 * again and returns 3. A worker runs its items in a compute thread while its main
 * thread keeps talking to rank 0, so a signal to a worker reaches rank 0 at once
 * (SIGNAL, i32 the worker's signal count; the most any rank got counts: a second
 * signal abandons running items). Workers finish their item and wait for STOP.
 * Open MPI's mpirun cannot forward SIGTERM/SIGINT (it ends the ranks ~2 s later:
 * the .h5 is written by then); scripts/cbound-mpirun turns them into SIGUSR1.
 * Failures: a task or stage that fails for its own reasons (NaN, bad value) is a
 * failed row; one that fails because of the machine (ENV: I/O, no space, memory)
 * is sent back as ENV (i32 task, reason), stays pending and stops the run
 * (exit 5) the same way a signal does.
 */
#ifndef CBOUND_FARM_H
#define CBOUND_FARM_H

#include "cbound/results.h"
#include "cbound/sweep.h"

#include <mpi.h>

typedef struct {
    int quiet;             /* no progress lines                                     */
    double grace;          /* seconds to let running items finish after a signal   */
    double flush_every;    /* seconds between rebuilds of the .h5 from the journal */
    double progress_every; /* seconds between progress lines                        */
    int local_worker;      /* rank 0 also computes in a thread                      */
    int checkpoint_every;  /* training stages: checkpoint after every N epochs (0 off) */
} CbFarmOpts;

void cb_farm_opts_default(CbFarmOpts *o);

/* Flag-only handlers for SIGTERM, SIGINT, SIGUSR1; cb_farm_stop_requested() counts them. */
void cb_farm_install_signals(void);
int cb_farm_stop_requested(void);

/* Is a failure with this status the machine's (I/O error, disk full, out of
 * memory, MPI, a stop request: the task stays pending and the run stops) rather
 * than the task's own (bad value, NaN: a failed row)? */
int cb_farm_status_environmental(CbStatus st);

/* Comma-separated distinct host names of the ranks of comm (collective). */
void cb_farm_hosts(MPI_Comm comm, char *buf, size_t len);

/* Run the sweep's unfinished tasks on every rank of comm (collective). `r` is
 * used on rank 0 only. Returns the exit status: 0 done (failed rows are the
 * caller's to count), 3 stopped by a signal (resume later), 5 stopped by an
 * environmental failure (tasks left pending; resume after fixing it), 1 error
 * (message printed). */
int cb_farm_run(const CbSweep *s, CbResults *r, const CbFarmOpts *o, MPI_Comm comm);

/* Run one task alone, in this process, exactly as a worker would (training its
 * stage's model first if the model file is missing). `rec` gets the row. */
CbStatus cb_farm_replay(const CbSweep *s, int task, CbRecord *rec);
/* The same; with comp_out non-NULL the task's compressed model is handed over there
 * (NULL when the task failed; the caller frees it with cb_mlp_free). */
CbStatus cb_farm_replay_keep(const CbSweep *s, int task, CbRecord *rec, CbMlp **comp_out);

#endif
