/* run.h - one run of one fire (run.c): its log lines, its record in the
 * last runs (runs.c), its dispatch to the target. */
#ifndef SCHED_RUN_H
#define SCHED_RUN_H

#include <stdint.h>
#include "history.h"
#include "core/sched.h"

/* Runs f in the calling executor thread (how: why it runs); runs and failures are this
 * worker's counts of the job before it, for the failure line. Returns 0,
 * or -1 when the run failed. */
int sched_run_fire(const struct usch_fire *f, enum sched_how how, uint64_t runs, uint64_t failures);

#endif
