/* timing.h - the timing thread (timing.c). */
#ifndef SCHED_TIMING_H
#define SCHED_TIMING_H

#include <stdint.h>
#include "core/job.h"

void *sched_timing_main(void *arg);

#endif
