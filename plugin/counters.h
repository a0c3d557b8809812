/* counters.h - what each job did across the whole instance (counters.c),
 * in memory the master shares before fork: runs, failures, skips,
 * misfires, interruptions, overruns, retries, give-ups, runs going on,
 * and the last run's lag, duration and success. Every worker adds to
 * them; one table (sched_counter_rows) names them for the metrics
 * (metrics.c), scheduler.list (control.c) and the stop summary. Each
 * worker also keeps its own counts of the same events in its private
 * memory, for a run's context ("failure N of M runs here") and the line
 * per job it logs when it stops. */
#ifndef SCHED_COUNTERS_H
#define SCHED_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>
#include "core/job.h"

/* int64 each, so that uWSGI's "ptr" metric collector can read them. */
struct sched_counters {
	_Atomic int64_t runs, failures, skipped, misfired, interrupted;
	_Atomic int64_t overruns; /* runs past their timeout= (once a run) */
	_Atomic int64_t retries;  /* attempts after a failed one (retries=) */
	_Atomic int64_t gave_up;  /* runs with retries= whose last attempt failed, or whose retry was dropped */
	_Atomic int64_t hung;     /* Python runs still going long after their TimeoutError */
	_Atomic int64_t queued;   /* fires that waited for a place in max-running (overlap=queue|replace) */
	_Atomic int64_t replaced; /* runs stopped for the next one (overlap=replace) */
	_Atomic int64_t running;
	_Atomic int64_t last_lag_us, last_duration_us;
	_Atomic int64_t last_success; /* epoch seconds of the last run that succeeded, 0: none */
};

enum sched_counter_kind {
	SCHED_COUNTER_COUNT, /* only goes up */
	SCHED_COUNTER_GAUGE, /* a level or the latest value */
	SCHED_COUNTER_TIME,  /* epoch seconds, 0: never */
};

/* Whether a worker's stop summary shows a count. */
enum sched_summary_show {
	SCHED_SUMMARY_NEVER,   /* a gauge, or not this worker's own (interrupted) */
	SCHED_SUMMARY_ALWAYS,  /* runs, failed, skipped, misfired: the line's fixed part */
	SCHED_SUMMARY_NONZERO, /* the rarer ones, after them when they happened */
};

struct sched_counter_row {
	const char *name;
	enum sched_counter_kind kind;
	size_t field;        /* offsetof(struct sched_counters, ...) */
	const char *summary; /* its word in the stop summary ("3 retried") */
	enum sched_summary_show show;
};

/* Every counter, in the order listings show them. */
extern const struct sched_counter_row sched_counter_rows[];
extern const size_t sched_ncounter_rows;
/* A counter of c by its row. */
int64_t sched_counter_value(const struct sched_counters *c, const struct sched_counter_row *row);

/* Master, before fork. */
void sched_counters_setup(void);
/* NULL before setup. */
struct sched_counters *sched_counters_of(const struct usch_job *job);

/* A worker, before its scheduler's threads start: its own counts, from
 * zero. Returns -1 when out of memory. */
int sched_counters_worker_setup(void);
/* After a start that failed half-way (no thread is left). */
void sched_counters_worker_free(void);
/* This worker's own counts of job's runs and failures, so far. */
void sched_counters_mine(const struct usch_job *job, uint64_t *runs, uint64_t *failures);
/* This worker's summary of job for its stop, "N runs, N failed, N
 * skipped, N misfired[, N retried ...]" into buf (len > 0; len
 * SCHED_COUNTERS_SUMMARY_MAX holds it whole); 0 when the job did nothing
 * here (nothing to log), else the length. */
#define SCHED_COUNTERS_SUMMARY_MAX 512
size_t sched_counters_summary(const struct usch_job *job, char *buf, size_t len);

void sched_counters_started(const struct usch_job *job, int64_t lag_us);
void sched_counters_ended(const struct usch_job *job, int ok, int64_t duration_us, int64_t ended_wall_us);
void sched_counters_skipped(const struct usch_job *job);
void sched_counters_misfired(const struct usch_job *job);
/* A run went past its timeout= (once a run: the overrun watchdog). */
void sched_counters_overran(const struct usch_job *job);
/* Another attempt at a failed run starts (retries=). */
void sched_counters_retried(const struct usch_job *job);
/* A run with retries= failed for good. */
void sched_counters_gave_up(const struct usch_job *job);
/* A Python run did not stop at its TimeoutError. */
void sched_counters_hung(const struct usch_job *job);
void sched_counters_queued(const struct usch_job *job);
void sched_counters_replaced(const struct usch_job *job);
/* A run whose worker died (or whose instance stopped): it is no longer
 * going (running says so only when it had started in this instance). */
void sched_counters_interrupted(const struct usch_job *job, int was_running);

#endif
