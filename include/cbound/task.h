/*
 * task — the task driver (src/run/task.c): the life of one task, top to bottom.
 * The types it works with (CbTaskCtx, CbMethod) are in include/cbound/ctx.h.
 */
#ifndef CBOUND_TASK_H
#define CBOUND_TASK_H

#include "cbound/ctx.h"

/* Run one task (the driver). On failure returns the status with the error message set;
 * the runner records it as a failed row. */
CbStatus cb_task_run(const CbTaskCtx *ctx, CbResult *res);

#endif
