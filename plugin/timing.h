/* timing.h - the timing thread (timing.c). */
#ifndef SCHED_TIMING_H
#define SCHED_TIMING_H

#include <stdint.h>
#include "core/job.h"

void *sched_timing_main(void *arg);
/* An occurrence to run again, as a late fire; sched_rt.lock held. */
void sched_timing_rerun(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us);

#endif
