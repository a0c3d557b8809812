/* runs.c - the last run of every job, shared by the master and the workers
 * (see runs.h).
 *
 * Each record is guarded by its own sequence number (seqlock.c): no
 * process ever waits on another's lock. */
#include <uwsgi.h>
#include <stdatomic.h>
#include "runs.h"
#include "seqlock.h"
#include "config.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

struct record {
	_Atomic uint32_t seq;
	struct sched_run run;
};

static struct {
	struct record *recs;       /* shared */
	int nworkers;              /* worker ids 1..nworkers */
	_Atomic uint64_t *changes; /* shared */
} rn;

static const char *const NAMES[] = {
	[SCHED_OUTCOME_NONE] = "none",
	[SCHED_OUTCOME_RUNNING] = "running",
	[SCHED_OUTCOME_OK] = "ok",
	[SCHED_OUTCOME_FAILED] = "failed",
	[SCHED_OUTCOME_INTERRUPTED] = "interrupted",
};

const char *sched_outcome_name(enum sched_outcome o) {
	return o <= SCHED_OUTCOME_INTERRUPTED ? NAMES[o] : "none";
}

enum sched_outcome sched_outcome_parse(const char *name) {
	for (int o = SCHED_OUTCOME_RUNNING; o <= SCHED_OUTCOME_INTERRUPTED; o++)
		if (!strcmp(NAMES[o], name))
			return (enum sched_outcome) o;
	return SCHED_OUTCOME_NONE;
}

static int per_worker(const struct usch_job *job) {
	return !usch_job_claimed(job);
}

void sched_runs_setup(void) {
	if (!sched_cfg.njobs)
		return;
	rn.nworkers = uwsgi.numproc > 0 ? uwsgi.numproc : 1;
	/* nworkers records per job, a once-job using its first: untouched
	 * pages of an anonymous mapping cost nothing, where a private table of
	 * where each job's records start would cost 8 bytes a job */
	rn.recs = sched_shared_zeroed(sizeof(struct record) * sched_cfg.njobs * (size_t) rn.nworkers);
	rn.changes = sched_shared_zeroed(sizeof(*rn.changes));
}

static struct record *record_of(const struct usch_job *job, int wid) {
	if (!rn.recs)
		return NULL;
	struct record *first = &rn.recs[(size_t) job->index * (size_t) rn.nworkers];
	if (!per_worker(job))
		return first;
	if (wid < 1 || wid > rn.nworkers)
		return NULL;
	return first + (wid - 1);
}

static void lock(struct record *r) {
	sched_seq_lock(&r->seq);
}

static void unlock(struct record *r) {
	sched_seq_unlock(&r->seq);
	atomic_fetch_add(rn.changes, 1);
}

int sched_runs_get(const struct usch_job *job, int wid, struct sched_run *out) {
	struct record *r = record_of(job, wid);
	if (!r || !sched_seq_read(&r->seq, &r->run, out, sizeof(*out)))
		return 0;
	return out->outcome != SCHED_OUTCOME_NONE;
}

int sched_runs_latest(const struct usch_job *job, struct sched_run *out) {
	int found = 0, n = per_worker(job) ? rn.nworkers : 1;
	struct sched_run r;
	for (int w = 1; w <= n; w++) {
		if (sched_runs_get(job, w, &r) && (!found || r.scheduled_us > out->scheduled_us)) {
			*out = r;
			found = 1;
		}
	}
	return found;
}

void sched_runs_put(const struct usch_job *job, int wid, const struct sched_run *run) {
	struct record *r = record_of(job, wid);
	if (!r)
		return;
	lock(r);
	r->run = *run;
	unlock(r);
}

void sched_runs_started(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us, int64_t started_us) {
	struct record *r = record_of(job, uwsgi.mywid);
	if (!r)
		return;
	lock(r);
	/* two workers may start a once-job's occurrences out of order: the
	 * record keeps the later one */
	if (per_worker(job) || r->run.outcome == SCHED_OUTCOME_NONE || occurrence >= r->run.occurrence)
		r->run = (struct sched_run){
			.occurrence = occurrence,
			.scheduled_us = scheduled_us,
			.started_us = started_us,
			.outcome = SCHED_OUTCOME_RUNNING,
			.worker = uwsgi.mywid,
			.pid = (int) uwsgi.mypid,
			.through = occurrence > r->run.through ? occurrence : r->run.through,
			.through_us = occurrence > r->run.through ? scheduled_us : r->run.through_us,
		};
	unlock(r);
}

void sched_runs_passed(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us) {
	struct record *r = record_of(job, uwsgi.mywid);
	if (!r)
		return;
	lock(r);
	if (occurrence > r->run.through) {
		r->run.through = occurrence;
		r->run.through_us = scheduled_us;
	}
	unlock(r);
}

void sched_runs_ended(const struct usch_job *job, int64_t occurrence, int ok, int64_t ended_us) {
	struct record *r = record_of(job, uwsgi.mywid);
	if (!r)
		return;
	lock(r);
	/* a later run may have replaced it meanwhile: that one is the last */
	if (r->run.occurrence == occurrence && r->run.pid == (int) uwsgi.mypid &&
			r->run.outcome == SCHED_OUTCOME_RUNNING) {
		r->run.ended_us = ended_us;
		r->run.outcome = ok ? SCHED_OUTCOME_OK : SCHED_OUTCOME_FAILED;
	}
	unlock(r);
}

int sched_runs_gone(int wid, int pid, int restored) {
	if (restored)
		return 1;
	/* the master forks the workers and keeps their pids in shared memory */
	if (!uwsgi.workers || wid < 1 || wid > uwsgi.numproc)
		return 0;
	return uwsgi.workers[wid].pid != pid;
}

uint64_t sched_runs_changes(void) {
	return rn.changes ? atomic_load(rn.changes) : 0;
}
