/* executors.h - the executor threads (executors.c). */
#ifndef SCHED_EXECUTORS_H
#define SCHED_EXECUTORS_H

/* Starts an executor on a free slot; sched_rt.lock held. 0, or -1 when
 * every slot is taken or the thread cannot start. */
int sched_executors_add(void);
/* Starts executors while more fires wait than executors are free, up to
 * scheduler-threads; sched_rt.lock held. */
void sched_executors_grow(void);

#endif
