/* executors.h - the executor threads (executors.c). */
#ifndef SCHED_EXECUTORS_H
#define SCHED_EXECUTORS_H

#include <stdint.h>

/* Starts an executor on a free slot; sched_rt.lock held. 0, or -1 when
 * every slot is taken or the thread cannot start. */
int sched_executors_add(void);
/* How long fires wait, the executors busy and none taking one, before
 * another executor is called. */
#define SCHED_GROW_AFTER_US 2000
/* Calls (or starts) another executor when the work has stalled so, up
 * to scheduler-threads; sched_rt.lock held. Returns the monotonic
 * instant to look again (INT64_MAX: nothing waits). */
int64_t sched_executors_grow(int64_t now);

#endif
