/* wake.h - waking a worker's timing thread, from its own process or any
 * other: one eventfd per worker id, made by the master before fork (so a
 * respawned worker has its predecessor's), and a shared count of the
 * changes another worker's timing thread must look at (runs asked for
 * now, occurrences to run again). The timing thread sleeps on its fd and
 * its timers (timing.c) and never polls for these. */
#ifndef SCHED_WAKE_H
#define SCHED_WAKE_H

#include <stdint.h>

/* Master, before fork (and a worker without a master: at its start). */
void sched_wake_setup(void);

/* The fd this worker's timing thread waits on; -1 when there is none. */
int sched_wake_fd(void);

/* Wakes this worker's timing thread. */
void sched_wake_self(void);

/* Something every worker's timing thread must look at changed: the
 * change count grows and every worker is woken. */
void sched_wake_all(void);

/* The change count (see sched_wake_all). */
uint64_t sched_wake_changes(void);

/* Empties this worker's fd (after a wake-up). */
void sched_wake_drain(void);

#endif
