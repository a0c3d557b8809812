/* runtime.h - the scheduler inside one worker (runtime.c). */
#ifndef SCHED_RUNTIME_H
#define SCHED_RUNTIME_H

#include <stddef.h>

/* Starts this worker's timing and executor threads. Returns 0 (also when
 * no job runs here), or -1 with the reason in err and nothing left
 * running. */
int sched_runtime_start(char *err, size_t errlen);

/* Master, before fork, once the jobs are loaded and continue from their
 * last runs: what every worker's schedule reads of them at its start
 * (usch_sched_view). */
void sched_runtime_prepare(void);
/* Stops them: graceful paths wait (bounded) for the running jobs. */
void sched_runtime_stop(int graceful);
/* Wakes this worker's timing thread to look at the flags now (a pause, a
 * run asked for); the other workers' look within a second. */
void sched_runtime_wake(void);

#endif
