/* handover.h - due fires to the queue of the executors (handover.c),
 * by the timing thread, or by the idle first executor itself. */
#ifndef SCHED_HANDOVER_H
#define SCHED_HANDOVER_H

#include <stdint.h>
#include "core/job.h"

/* Hands over every fire due at monotonic now (wall: the wall clock's
 * reading with it) and those due within SCHED_AHEAD_US; returns the
 * monotonic instant of the next hand-over (INT64_MAX: none).
 * sched_rt.lock held. */
int64_t sched_handover_due(int64_t mono, int64_t wall);

/* The monotonic instant of the next hand-over as the schedule stands
 * (INT64_MAX: none); sched_rt.lock held. */
int64_t sched_handover_next(void);

/* An occurrence to run again, as a late fire; sched_rt.lock held. */
void sched_handover_rerun(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us);

#endif
