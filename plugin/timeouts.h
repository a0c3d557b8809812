/* timeouts.h - Python runs stopped at their timeout= (timeouts.c). */
#ifndef SCHED_TIMEOUTS_H
#define SCHED_TIMEOUTS_H

#include "runtime_state.h"

/* How long after its TimeoutError a run still going is reported hung. */
#define SCHED_HUNG_GRACE_US 5000000

/* Starts the thread that raises TimeoutError, when some job of this
 * worker is a Python one with a timeout=; before the other threads.
 * Returns 0, or -1 (errno) when it cannot start. */
int sched_timeouts_start(void);
/* The run on slot passed its timeout: ask for its TimeoutError;
 * sched_rt.lock held. */
void sched_timeouts_ask(struct slot *slot);
/* The stop: the thread leaves (it may be waiting for a GIL that the
 * exiting thread holds: bounded by deadline). */
void sched_timeouts_stop(const struct timespec *deadline);

#endif
