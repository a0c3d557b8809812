/* executors.h - the executor threads (executors.c). */
#ifndef SCHED_EXECUTORS_H
#define SCHED_EXECUTORS_H

/* arg: the executor's struct slot in sched_rt.slots. */
void *sched_executor_main(void *arg);

#endif
