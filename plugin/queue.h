/* queue.h - the queue of due fires (queue.c). */
#ifndef SCHED_QUEUE_H
#define SCHED_QUEUE_H

#include "runtime_state.h"

/* A fire goes to the executors (how: why it runs), or is skipped when
 * its job is at max-running here; sched_rt.lock held. NULL when not
 * queued. */
struct pending *sched_queue_add(const struct usch_fire *fire, enum sched_how how);
/* A paused job's fire (a run asked for now is not one): passed over, for
 * good; returns 1 when it was. */
int sched_queue_passed_over(const struct usch_fire *fire, enum sched_how how);
void sched_pending_free(struct pending *p);

#endif
