/* counters.c - per-job counters across the instance (see counters.h).
 * Plain atomic adds on memory the master shares before fork: a worker
 * killed half-way through a run leaves at most that run's `running` up,
 * which the worker or master that reports it interrupted takes back. */
#include <uwsgi.h>
#include "counters.h"
#include "config.h"
#include "common.h"

static struct sched_counters *counters; /* by job index */

#define ROW(name, kind) \
	{ #name, SCHED_COUNTER_##kind, offsetof(struct sched_counters, name) }

const struct sched_counter_row sched_counter_rows[] = {
	ROW(runs, COUNT),
	ROW(failures, COUNT),
	ROW(skipped, COUNT),
	ROW(misfired, COUNT),
	ROW(interrupted, COUNT),
	ROW(overruns, COUNT),
	ROW(retries, COUNT),
	ROW(gave_up, COUNT),
	ROW(hung, COUNT),
	ROW(queued, COUNT),
	ROW(replaced, COUNT),
	ROW(running, GAUGE),
	ROW(last_lag_us, GAUGE),
	ROW(last_duration_us, GAUGE),
	ROW(last_success, TIME),
};

const size_t sched_ncounter_rows = sizeof(sched_counter_rows) / sizeof(sched_counter_rows[0]);

int64_t sched_counter_value(const struct sched_counters *c, const struct sched_counter_row *row) {
	return atomic_load((_Atomic int64_t *) ((const char *) c + row->field));
}

static void add(const struct usch_job *job, size_t field) {
	struct sched_counters *c = sched_counters_of(job);
	if (c)
		atomic_fetch_add((_Atomic int64_t *) ((char *) c + field), 1);
}

void sched_counters_setup(void) {
	if (sched_cfg.njobs)
		counters = sched_shared_zeroed(sizeof(*counters) * sched_cfg.njobs);
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
	add(job, offsetof(struct sched_counters, skipped));
}

void sched_counters_misfired(const struct usch_job *job) {
	add(job, offsetof(struct sched_counters, misfired));
}

void sched_counters_overran(const struct usch_job *job) {
	add(job, offsetof(struct sched_counters, overruns));
}

void sched_counters_retried(const struct usch_job *job) {
	add(job, offsetof(struct sched_counters, retries));
}

void sched_counters_gave_up(const struct usch_job *job) {
	add(job, offsetof(struct sched_counters, gave_up));
}

void sched_counters_hung(const struct usch_job *job) {
	add(job, offsetof(struct sched_counters, hung));
}

void sched_counters_queued(const struct usch_job *job) {
	add(job, offsetof(struct sched_counters, queued));
}

void sched_counters_replaced(const struct usch_job *job) {
	add(job, offsetof(struct sched_counters, replaced));
}

void sched_counters_interrupted(const struct usch_job *job, int was_running) {
	struct sched_counters *c = sched_counters_of(job);
	if (!c)
		return;
	atomic_fetch_add(&c->interrupted, 1);
	if (was_running && atomic_load(&c->running) > 0)
		atomic_fetch_sub(&c->running, 1);
}
