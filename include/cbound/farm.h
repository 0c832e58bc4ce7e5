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
 *                  | STAGE (i32 stage, i32 ok, reason text) | BYE (after STOP);
 *                  manager -> worker  WORK (i32 item: task >= 0, stage -(s+1)) | STOP.
 * A worker holds at most two items, results come back in hand-out order; the
 * second (queued) one is given only while items are short (mean < 0.5 s) and many
 * tasks are ready, so a worker never waits for the manager's answer. STOP drops
 * queued items that have not started (the manager learns it from BYE).
 * Signals SIGTERM, SIGINT, SIGUSR1 (every rank installs a flag-only handler):
 * rank 0 stops dispatching, waits up to `grace` seconds for running items,
 * writes the file and returns 3; workers finish their item and wait for STOP.
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
} CbFarmOpts;

void cb_farm_opts_default(CbFarmOpts *o);

/* Flag-only handlers for SIGTERM, SIGINT, SIGUSR1; cb_farm_stop_requested() counts them. */
void cb_farm_install_signals(void);
int cb_farm_stop_requested(void);

/* Comma-separated distinct host names of the ranks of comm (collective). */
void cb_farm_hosts(MPI_Comm comm, char *buf, size_t len);

/* Run the sweep's unfinished tasks on every rank of comm (collective). `r` is
 * used on rank 0 only. Returns the exit status: 0 done, 3 stopped by a signal
 * (resume later), 1 error (message printed). */
int cb_farm_run(const CbSweep *s, CbResults *r, const CbFarmOpts *o, MPI_Comm comm);

/* Run one task alone, in this process, exactly as a worker would (training its
 * stage's model first if the model file is missing). `rec` gets the row. */
CbStatus cb_farm_replay(const CbSweep *s, int task, CbRecord *rec);

#endif
