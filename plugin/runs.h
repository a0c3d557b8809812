/* runs.h - the last run of every job (runs.c), in memory the master shares
 * with the workers before fork: one record per scope=once job, one per job
 * and worker id for the others. Workers write a record when a run starts
 * and when it ends; the master reads them (the state file) and seeds them
 * from the state file before fork, so a worker that starts - after a
 * kill, a reload or a restart - can continue where its predecessor
 * stopped. */
#ifndef SCHED_RUNS_H
#define SCHED_RUNS_H

#include <stdint.h>
#include "core/job.h"

enum sched_outcome {
	SCHED_OUTCOME_NONE = 0, /* no run recorded */
	SCHED_OUTCOME_RUNNING,
	SCHED_OUTCOME_OK,
	SCHED_OUTCOME_FAILED,
	SCHED_OUTCOME_INTERRUPTED, /* its worker (or the instance) died while it ran */
};

struct sched_run {
	int64_t occurrence;           /* on the trigger's timeline (core/sched.h) */
	int64_t scheduled_us;         /* wall µs */
	int64_t started_us, ended_us; /* wall µs; ended 0 while running */
	enum sched_outcome outcome;
	int worker, pid;
	int restored; /* read from the state file: a run of the previous instance */
	/* the last occurrence dealt with: this run's, or a later one passed over
	 * while the job was paused (scheduler.pause); what catch-up counts from */
	int64_t through, through_us;
};

/* The occurrence a run (or a pass) leaves behind for catch-up. */
static inline int64_t sched_run_anchor(const struct sched_run *r, int64_t *scheduled_us) {
	int later = r->through > r->occurrence;
	*scheduled_us = later ? r->through_us : r->scheduled_us;
	return later ? r->through : r->occurrence;
}

/* Master, before fork: one record per job (and worker). */
void sched_runs_setup(void);

/* The record of job on worker wid (ignored for scope=once jobs, which have
 * one). Returns 1 and fills out, or 0 when nothing was recorded. */
int sched_runs_get(const struct usch_job *job, int wid, struct sched_run *out);
/* The latest of job's records by scheduled instant (a per-worker job's
 * over its worker ids; a once-job's one). Returns 1 and fills out, or 0. */
int sched_runs_latest(const struct usch_job *job, struct sched_run *out);
/* Replaces it: the master seeding from the state file, or a worker marking
 * a predecessor's run interrupted. */
void sched_runs_put(const struct usch_job *job, int wid, const struct sched_run *r);

/* This worker starts a run of occurrence at started_us; then it ends (ok
 * or not) at ended_us: wall µs, the run's own readings. */
void sched_runs_started(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us, int64_t started_us);
void sched_runs_ended(const struct usch_job *job, int64_t occurrence, int ok, int64_t ended_us);
/* This worker passes over occurrence, due while the job is paused: a
 * restart does not catch it up. */
void sched_runs_passed(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us);

/* Grows with every change to any record: the master writes the state
 * file when it moved. */
uint64_t sched_runs_changes(void);

/* Whether a run recorded as running can no longer be: read from the state
 * file (restored), or its worker id has another pid now (or none). */
int sched_runs_gone(int wid, int pid, int restored);

const char *sched_outcome_name(enum sched_outcome o);
/* SCHED_OUTCOME_NONE for an unknown name. */
enum sched_outcome sched_outcome_parse(const char *name);

#endif
