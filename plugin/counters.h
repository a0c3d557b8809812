/* counters.h - what each job did across the whole instance (counters.c),
 * in memory the master shares before fork: runs, failures, skips,
 * misfires, interruptions, overruns, runs going on, and the last run's
 * lag, duration and success. Every worker adds to them; the metrics
 * subsystem (metrics.c) reads them. */
#ifndef SCHED_COUNTERS_H
#define SCHED_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>
#include "core/job.h"

/* int64 each, so that uWSGI's "ptr" metric collector can read them. */
struct sched_counters {
	_Atomic int64_t runs, failures, skipped, misfired, interrupted;
	_Atomic int64_t overruns; /* runs past their timeout= (once a run) */
	_Atomic int64_t running;
	_Atomic int64_t last_lag_us, last_duration_us;
	_Atomic int64_t last_success; /* epoch seconds of the last run that succeeded, 0: none */
};

/* Master, before fork. */
void sched_counters_setup(void);
/* NULL before setup. */
struct sched_counters *sched_counters_of(const struct usch_job *job);

void sched_counters_started(const struct usch_job *job, int64_t lag_us);
void sched_counters_ended(const struct usch_job *job, int ok, int64_t duration_us, int64_t ended_wall_us);
void sched_counters_skipped(const struct usch_job *job);
void sched_counters_misfired(const struct usch_job *job);
/* A run went past its timeout= (once a run: the overrun watchdog). */
void sched_counters_overran(const struct usch_job *job);
/* A run whose worker died (or whose instance stopped): it is no longer
 * going (running says so only when it had started in this instance). */
void sched_counters_interrupted(const struct usch_job *job, int was_running);

#endif
