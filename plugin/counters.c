/* counters.c - per-job counters across the instance (see counters.h).
 * Plain atomic adds on memory the master shares before fork: a worker
 * killed half-way through a run leaves at most that run's `running` up,
 * which the worker or master that reports it interrupted takes back. */
#include <uwsgi.h>
#include "counters.h"
#include "config.h"

static struct sched_counters *counters; /* by job index */

void sched_counters_setup(void) {
	if (sched_cfg.njobs)
		counters = uwsgi_calloc_shared(sizeof(*counters) * sched_cfg.njobs);
}

struct sched_counters *sched_counters_of(const struct usch_job *job) {
	return counters ? &counters[job->index] : NULL;
}

void sched_counters_started(const struct usch_job *job, int64_t lag_us) {
	struct sched_counters *c = sched_counters_of(job);
	if (!c)
		return;
	atomic_fetch_add(&c->running, 1);
	atomic_store(&c->last_lag_us, lag_us);
}

void sched_counters_ended(const struct usch_job *job, int ok, int64_t duration_us, int64_t ended_wall_us) {
	struct sched_counters *c = sched_counters_of(job);
	if (!c)
		return;
	atomic_fetch_sub(&c->running, 1);
	atomic_fetch_add(&c->runs, 1);
	atomic_store(&c->last_duration_us, duration_us);
	if (ok)
		atomic_store(&c->last_success, ended_wall_us / 1000000);
	else
		atomic_fetch_add(&c->failures, 1);
}

void sched_counters_skipped(const struct usch_job *job) {
	struct sched_counters *c = sched_counters_of(job);
	if (c)
		atomic_fetch_add(&c->skipped, 1);
}

void sched_counters_misfired(const struct usch_job *job) {
	struct sched_counters *c = sched_counters_of(job);
	if (c)
		atomic_fetch_add(&c->misfired, 1);
}

void sched_counters_overran(const struct usch_job *job) {
	struct sched_counters *c = sched_counters_of(job);
	if (c)
		atomic_fetch_add(&c->overruns, 1);
}

void sched_counters_interrupted(const struct usch_job *job, int was_running) {
	struct sched_counters *c = sched_counters_of(job);
	if (!c)
		return;
	atomic_fetch_add(&c->interrupted, 1);
	if (was_running && atomic_load(&c->running) > 0)
		atomic_fetch_sub(&c->running, 1);
}
