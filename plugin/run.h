/* run.h - one run of one fire (run.c): its log lines, its record in the
 * last runs (runs.c), its dispatch to the target. */
#ifndef SCHED_RUN_H
#define SCHED_RUN_H

#include <stdint.h>
#include "core/sched.h"

/* Runs f in the calling executor thread; runs and failures are this
 * worker's counts of the job before it, for the failure line. Returns 0,
 * or -1 when the run failed. */
int sched_run_fire(const struct usch_fire *f, uint64_t runs, uint64_t failures);

#endif
