/* history.h - the last runs of every job (history.c): scheduler-history
 * of them per job (default 10), whichever worker ran them, in memory the
 * master shares with the workers before fork, so that "did last night's
 * job run, and where" is one RPC call (scheduler.list), not a log search.
 * The state file keeps them across restarts. */
#ifndef SCHED_HISTORY_H
#define SCHED_HISTORY_H

#include <stdint.h>
#include <jansson.h>
#include "runs.h"
#include "core/job.h"

enum sched_how {
	SCHED_HOW_SCHEDULE = 0, /* its trigger fired */
	SCHED_HOW_MANUAL,       /* scheduler.run */
	SCHED_HOW_RERUN,        /* interrupted=rerun */
};

#define SCHED_HISTORY_ERROR_MAX 200

struct sched_hist_run {
	uint64_t serial;                            /* the job's runs in order; 0: none */
	int64_t scheduled_us, started_us, ended_us; /* wall µs; ended 0 while running */
	int worker, pid;
	enum sched_outcome outcome;
	enum sched_how how;
	int attempt;                         /* retries=: 1 for the first attempt, 2 for the first retry ... */
	int restored;                        /* read from the state file */
	char error[SCHED_HISTORY_ERROR_MAX]; /* failed: the line that says what went wrong */
};

/* Master, before fork. */
void sched_history_setup(void);
/* How many runs each job keeps (scheduler-history). */
int sched_history_depth(void);

/* A run starts in this worker at started_us (wall µs, the run's own
 * reading): returns its serial for sched_history_ended. */
uint64_t sched_history_started(
		const struct usch_job *job, enum sched_how how, int64_t scheduled_us, int attempt, int64_t started_us);
/* It ended at ended_us; err (NULL: ok) is the whole message, the line that matters is kept. */
void sched_history_ended(const struct usch_job *job, uint64_t serial, int ok, const char *err, int64_t ended_us);

/* The runs kept, newest first, at most max. A run still "running" whose
 * worker is gone (or that was read from the state file) is interrupted. */
int sched_history_get(const struct usch_job *job, struct sched_hist_run *out, int max);
/* Master, seeding from the state file: one more run, oldest first. */
void sched_history_put(const struct usch_job *job, const struct sched_hist_run *r);
/* Grows with every change: the master writes the state file when it moved. */
uint64_t sched_history_changes(void);

/* A past run as JSON, as scheduler.list shows it and the state file keeps
 * it: scheduled (RFC 3339 in the job's zone), scheduled_ts, started_ts,
 * ended_ts, duration_ms, worker, pid, outcome, how, and error when it
 * failed. */
json_t *sched_history_json(const struct usch_job *job, const struct sched_hist_run *r);

const char *sched_how_name(enum sched_how how);
/* -1 for an unknown name. */
int sched_how_parse(const char *name);

#endif
