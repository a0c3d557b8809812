/* history.c - each job's last runs, shared (see history.h).
 *
 * A ring of scheduler-history records per job. A run takes the next serial
 * of its job (one atomic add) and writes the record serial % depth under
 * that record's sequence number (seqlock.c): no process waits on another,
 * and one killed mid-write costs that record only. The end of a run finds
 * its record by serial; if the ring went round meanwhile (more than depth
 * runs started during it), the end is not kept. */
#include <uwsgi.h>
#include <stdatomic.h>
#include "history.h"
#include "seqlock.h"
#include "config.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

struct record {
	_Atomic uint32_t seq;
	struct sched_hist_run run;
};

struct ring {
	_Atomic uint64_t next; /* the serial the next run takes (from 1) */
};

static struct {
	struct ring *rings;  /* shared, by job index */
	struct record *recs; /* shared, [job][depth] */
	int depth;
	_Atomic uint64_t *changes; /* shared */
} hs;

static const char *const HOW[] = {
	[SCHED_HOW_SCHEDULE] = "schedule",
	[SCHED_HOW_MANUAL] = "manual",
	[SCHED_HOW_RERUN] = "rerun",
};

const char *sched_how_name(enum sched_how how) {
	return how <= SCHED_HOW_RERUN ? HOW[how] : "schedule";
}

int sched_how_parse(const char *name) {
	for (int h = SCHED_HOW_SCHEDULE; h <= SCHED_HOW_RERUN; h++)
		if (!strcmp(HOW[h], name))
			return h;
	return -1;
}

void sched_history_setup(void) {
	hs.depth = sched_cfg.history;
	if (!sched_cfg.njobs || hs.depth <= 0)
		return;
	hs.rings = sched_shared_zeroed(sizeof(struct ring) * sched_cfg.njobs);
	hs.recs = sched_shared_zeroed(sizeof(struct record) * sched_cfg.njobs * (size_t) hs.depth);
	hs.changes = sched_shared_zeroed(sizeof(*hs.changes));
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		atomic_store(&hs.rings[i].next, 1);
}

int sched_history_depth(void) {
	return hs.rings ? hs.depth : 0;
}

static struct record *record_of(const struct usch_job *job, uint64_t serial) {
	return &hs.recs[job->index * (size_t) hs.depth + (size_t) (serial % (uint64_t) hs.depth)];
}

static void write_record(struct record *r, const struct sched_hist_run *run) {
	sched_seq_lock(&r->seq);
	r->run = *run;
	sched_seq_unlock(&r->seq);
	atomic_fetch_add(hs.changes, 1);
}

/* A run's two writes set its fields, not the whole record: its 200-byte
 * error line is copied only on a failure, and the end reads nothing
 * first (on the hot path of a fire: 2,000 a second in make bench). */
uint64_t sched_history_started(
		const struct usch_job *job, enum sched_how how, int64_t scheduled_us, int attempt, int64_t started_us) {
	if (!hs.rings)
		return 0;
	uint64_t serial = atomic_fetch_add(&hs.rings[job->index].next, 1);
	struct record *r = record_of(job, serial);
	sched_seq_lock(&r->seq);
	r->run.serial = serial;
	r->run.scheduled_us = scheduled_us;
	r->run.started_us = started_us;
	r->run.ended_us = 0;
	r->run.worker = uwsgi.mywid;
	r->run.pid = (int) uwsgi.mypid;
	r->run.outcome = SCHED_OUTCOME_RUNNING;
	r->run.how = how;
	r->run.attempt = attempt;
	r->run.restored = 0;
	r->run.error[0] = 0;
	sched_seq_unlock(&r->seq);
	atomic_fetch_add(hs.changes, 1);
	return serial;
}

void sched_history_ended(const struct usch_job *job, uint64_t serial, int ok, const char *err, int64_t ended_us) {
	if (!hs.rings || !serial)
		return;
	struct record *r = record_of(job, serial);
	sched_seq_lock(&r->seq);
	/* the ring may have come round to a later run meanwhile: it is kept */
	int mine = r->run.serial == serial;
	if (mine) {
		r->run.ended_us = ended_us;
		r->run.outcome = ok ? SCHED_OUTCOME_OK : SCHED_OUTCOME_FAILED;
		if (err)
			sched_error_line(err, r->run.error, sizeof(r->run.error));
	}
	sched_seq_unlock(&r->seq);
	if (mine)
		atomic_fetch_add(hs.changes, 1);
}

int sched_history_get(const struct usch_job *job, struct sched_hist_run *out, int max) {
	if (!hs.rings)
		return 0;
	uint64_t next = atomic_load(&hs.rings[job->index].next);
	int n = 0;
	for (uint64_t k = 1; k <= (uint64_t) hs.depth && k < next && n < max; k++) {
		uint64_t serial = next - k;
		struct record *r = record_of(job, serial);
		if (!sched_seq_read(&r->seq, &r->run, &out[n], sizeof(out[n])) || out[n].serial != serial)
			continue;
		if (out[n].outcome == SCHED_OUTCOME_RUNNING &&
				sched_runs_gone(out[n].worker, out[n].pid, out[n].restored))
			out[n].outcome = SCHED_OUTCOME_INTERRUPTED;
		n++;
	}
	return n;
}

void sched_history_put(const struct usch_job *job, const struct sched_hist_run *r) {
	if (!hs.rings)
		return;
	struct sched_hist_run run = *r;
	run.serial = atomic_fetch_add(&hs.rings[job->index].next, 1);
	run.restored = 1;
	write_record(record_of(job, run.serial), &run);
}

json_t *sched_history_json(const struct usch_job *job, const struct sched_hist_run *r) {
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:s, s:s}", "scheduled",
			sched_json_instant(r->scheduled_us, job->tz), "scheduled_ts", sched_json_ts(r->scheduled_us),
			"started_ts", sched_json_ts(r->started_us), "ended_ts", sched_json_ts(r->ended_us),
			"duration_ms", r->ended_us ? json_real((r->ended_us - r->started_us) / 1e3) : json_null(),
			"worker", r->worker, "pid", r->pid, "outcome", sched_outcome_name(r->outcome), "how",
			sched_how_name(r->how));
	if (o && r->attempt > 1)
		json_object_set_new(o, "attempt", json_integer(r->attempt));
	if (o && r->outcome == SCHED_OUTCOME_FAILED)
		json_object_set_new(o, "error", json_string(r->error));
	return o;
}

uint64_t sched_history_changes(void) {
	return hs.changes ? atomic_load(hs.changes) : 0;
}
