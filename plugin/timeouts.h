/* timeouts.h - Python runs stopped at their timeout= (timeouts.c). */
#ifndef SCHED_TIMEOUTS_H
#define SCHED_TIMEOUTS_H

#include "runtime_state.h"

/* How long after its TimeoutError a run still going is reported hung. */
#define SCHED_HUNG_GRACE_US 5000000

/* Starts the thread that raises TimeoutError, when some job of this
 * worker is a Python one with a timeout= (or overlap=replace); before
 * the other threads.
 * Returns 0, or -1 (errno) when it cannot start. */
int sched_timeouts_start(void);
/* The run on slot passed its timeout: ask for its TimeoutError;
 * sched_rt.lock held. */
void sched_timeouts_ask(struct slot *slot);
/* overlap=replace: InterruptedError for the run on slot (this worker's);
 * poke: a once-job's runs were asked to stop through shared memory
 * (claims.c), look now rather than at the next poll. sched_rt.lock held. */
void sched_timeouts_replace(struct slot *slot);
void sched_timeouts_poke(void);
/* The stop: the thread leaves (it may be waiting for a GIL that the
 * exiting thread holds: bounded by deadline, on the monotonic clock). */
void sched_timeouts_stop(const struct timespec *deadline);

#endif
