/* counters.c - per-job counters across the instance (see counters.h).
 * Plain atomic adds on memory the master shares before fork: a worker
 * killed half-way through a run leaves at most that run's `running` up,
 * which the worker or master that reports it interrupted takes back. */
#include <uwsgi.h>
#include "counters.h"
#include "config.h"
#include "common.h"

static struct sched_counters *counters; /* by job index */
/* This worker's own, by job index: private memory, so a worker forked
 * later starts from zero whatever the others did. */
static struct sched_counters *mine;

#define ROW(name, kind, summary, show) \
	{ #name, SCHED_COUNTER_##kind, offsetof(struct sched_counters, name), summary, SCHED_SUMMARY_##show }

const struct sched_counter_row sched_counter_rows[] = {
	ROW(runs, COUNT, "runs", ALWAYS),
	ROW(failures, COUNT, "failed", ALWAYS),
	ROW(skipped, COUNT, "skipped", ALWAYS),
	ROW(misfired, COUNT, "misfired", ALWAYS),
	/* counted by whoever finds the run cut short, not by its worker */
	ROW(interrupted, COUNT, NULL, NEVER),
	ROW(overruns, COUNT, "overran", NONZERO),
	ROW(retries, COUNT, "retried", NONZERO),
	ROW(gave_up, COUNT, "gave up", NONZERO),
	ROW(hung, COUNT, "hung", NONZERO),
	ROW(queued, COUNT, "queued", NONZERO),
	ROW(replaced, COUNT, "replaced", NONZERO),
	ROW(running, GAUGE, NULL, NEVER),
	ROW(last_lag_us, GAUGE, NULL, NEVER),
	ROW(last_duration_us, GAUGE, NULL, NEVER),
	ROW(last_success, TIME, NULL, NEVER),
};

const size_t sched_ncounter_rows = sizeof(sched_counter_rows) / sizeof(sched_counter_rows[0]);

int64_t sched_counter_value(const struct sched_counters *c, const struct sched_counter_row *row) {
	return atomic_load((_Atomic int64_t *) ((const char *) c + row->field));
}

static void add_to(struct sched_counters *c, size_t field) {
	if (c)
		atomic_fetch_add((_Atomic int64_t *) ((char *) c + field), 1);
}

/* An event of job's: the instance's count and this worker's. */
static void add(const struct usch_job *job, size_t field) {
	add_to(sched_counters_of(job), field);
	add_to(mine ? &mine[job->index] : NULL, field);
}

void sched_counters_setup(void) {
	if (sched_cfg.njobs)
		counters = sched_shared_zeroed(sizeof(*counters) * sched_cfg.njobs);
}

struct sched_counters *sched_counters_of(const struct usch_job *job) {
	return counters ? &counters[job->index] : NULL;
}

int sched_counters_worker_setup(void) {
	free(mine);
	mine = sched_cfg.njobs ? calloc(sched_cfg.njobs, sizeof(*mine)) : NULL;
	return sched_cfg.njobs && !mine ? -1 : 0;
}

void sched_counters_worker_free(void) {
	free(mine);
	mine = NULL;
}

void sched_counters_mine(const struct usch_job *job, uint64_t *runs, uint64_t *failures) {
	*runs = mine ? (uint64_t) atomic_load(&mine[job->index].runs) : 0;
	*failures = mine ? (uint64_t) atomic_load(&mine[job->index].failures) : 0;
}

/* Whether row is on job's summary line with the value v. */
static int shown(const struct sched_counter_row *row, int64_t v) {
	return row->show == SCHED_SUMMARY_ALWAYS || (row->show == SCHED_SUMMARY_NONZERO && v);
}

size_t sched_counters_summary(const struct usch_job *job, char *buf, size_t len) {
	const struct sched_counters *c = mine ? &mine[job->index] : NULL;
	int any = 0;
	for (size_t i = 0; c && i < sched_ncounter_rows; i++)
		any |= sched_counter_rows[i].show != SCHED_SUMMARY_NEVER &&
				sched_counter_value(c, &sched_counter_rows[i]);
	if (!any)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < sched_ncounter_rows; i++) {
		const struct sched_counter_row *row = &sched_counter_rows[i];
		int64_t v = sched_counter_value(c, row);
		if (!shown(row, v))
			continue;
		int w = snprintf(buf + n, len - n, "%s%lld %s", n ? ", " : "", (long long) v, row->summary);
		if (w < 0 || (size_t) w >= len - n)
			return len - 1; /* cut short: SCHED_COUNTERS_SUMMARY_MAX holds every row */
		n += (size_t) w;
	}
	return n;
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
	if (!mine)
		return;
	atomic_fetch_add(&mine[job->index].runs, 1);
	if (!ok)
		atomic_fetch_add(&mine[job->index].failures, 1);
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
