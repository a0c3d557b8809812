/* run.c - one run of one fire (see run.h). */
#include <uwsgi.h>
#include "run.h"
#include "dispatch.h"
#include "punctual.h"
#include "runs.h"
#include "history.h"
#include "counters.h"
#include "log.h"
#include "common.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

/* One run, as its log lines see it. */
struct run_line {
	const struct usch_fire *f;
	char when[USCH_RFC3339_MAX]; /* scheduled, RFC 3339 in the job's zone: made by when() */
	int64_t start, end;
	int64_t due; /* when it was to start: the scheduled instant, or a retry's */
	enum sched_how how;
	const char *err;         /* NULL: ok */
	uint64_t runs, failures; /* this worker's, before the run */
	char attempt[48];        /* ", attempt 2 of 4" for a retry, else "" */
};

/* The scheduled instant as the log lines show it, made on first use: at
 * scheduler-log = errors a run that succeeds has no line. */
static const char *when(struct run_line *r) {
	if (!r->when[0])
		usch_rfc3339_format(r->f->scheduled_us, r->f->job->tz, r->when, sizeof(r->when));
	return r->when;
}

/* {"scheduler": "run", "event": ..., "job", "worker", "pid", "scheduled", "scheduled_ts", ...} */
static json_t *event_json(struct run_line *r, const char *event) {
	const struct usch_fire *f = r->f;
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:f, s:s}", "scheduler", "run", "event", event, "job",
			f->job->id, "worker", uwsgi.mywid, "pid", (int) uwsgi.mypid, "scheduled", when(r),
			"scheduled_ts", f->scheduled_us / 1e6, "how", sched_how_name(r->how));
	if (o && f->attempt > 1)
		json_object_set_new(o, "attempt", json_integer(f->attempt));
	return o;
}

/* The start line: only at scheduler-log = all. */
static void log_start_line(struct run_line *r) {
	const struct usch_fire *f = r->f;
	const struct usch_job *job = f->job;
	double lag = (r->start - r->due) / 1e3;
	if (sched_log_level() != SCHED_LOG_ALL)
		return;
	if (sched_log_format() == SCHED_LOG_JSON) {
		json_t *o = event_json(r, "start");
		if (o) {
			json_object_set_new(o, "lag_ms", json_real(lag));
			json_object_set_new(o, "late_fires", json_integer((json_int_t) f->missed));
			json_object_set_new(o, "catch_up", json_boolean(f->catch_up));
			sched_log_json(o);
		}
	}
	else if (r->how == SCHED_HOW_MANUAL)
		sched_log_run(job, "start (worker %d, asked for at %s by scheduler.run%s, lag %.1f ms)", uwsgi.mywid,
				when(r), r->attempt, lag);
	else if (f->missed)
		sched_log_run(job, "start (worker %d, scheduled %s%s, lag %.1f ms, %lld late fire%s coalesced)",
				uwsgi.mywid, when(r), r->attempt, lag, (long long) f->missed,
				f->missed == 1 ? "" : "s");
	else
		sched_log_run(job, "start (worker %d, scheduled %s%s, lag %.1f ms)", uwsgi.mywid, when(r), r->attempt,
				lag);
}

static void log_start(struct run_line *r) {
	log_start_line(r);
	if (r->f->dropped)
		sched_log("job %s: %lld more late fires were dropped (coalesce=all runs the latest %d)", r->f->job->id,
				(long long) r->f->dropped, USCH_ALL_MAX);
}

static void log_end_json(struct run_line *r) {
	json_t *o = event_json(r, r->err ? "failed" : "ok");
	if (!o)
		return;
	json_object_set_new(o, "duration_ms", json_real((r->end - r->start) / 1e3));
	if (r->err) {
		json_object_set_new(o, "error", json_string(r->err));
		json_object_set_new(o, "failures", json_integer((json_int_t) r->failures + 1));
		json_object_set_new(o, "runs", json_integer((json_int_t) r->runs + 1));
	}
	sched_log_json(o);
}

static void log_end(struct run_line *r) {
	const struct usch_job *job = r->f->job;
	enum sched_log_level level = sched_log_level();
	if (level == SCHED_LOG_NONE || (!r->err && level != SCHED_LOG_ALL))
		return;
	if (sched_log_format() == SCHED_LOG_JSON) {
		log_end_json(r);
		return;
	}
	double ms = (r->end - r->start) / 1e3;
	if (!r->err) {
		sched_log_run(job, "ok (worker %d, scheduled %s%s, %.1f ms)", uwsgi.mywid, when(r), r->attempt, ms);
		return;
	}
	sched_log("job %s: failed (worker %d, scheduled %s%s, %.1f ms; failure %llu of %llu runs here):", job->id,
			uwsgi.mywid, when(r), r->attempt, ms, (unsigned long long) r->failures + 1,
			(unsigned long long) r->runs + 1);
	sched_log_block(job->id, r->err);
}

char *sched_run_fire(const struct usch_fire *f, enum sched_how how, int64_t due_us) {
	const struct usch_job *job = f->job;
	uint64_t runs, failures;
	sched_counters_mine(job, &runs, &failures);
	/* handed over ahead of its instant: it starts then */
	if (f->attempt <= 1)
		sched_punctual_wait(f);
	struct run_line r = { .f = f,
		.start = sched_clock_us(CLOCK_REALTIME),
		.due = due_us ? due_us : f->scheduled_us,
		.how = how,
		.runs = runs,
		.failures = failures };
	if (f->attempt > 1)
		snprintf(r.attempt, sizeof(r.attempt), ", attempt %d of %d", f->attempt, job->retries + 1);
	/* a run asked for now is no occurrence: the last run record (the
	 * anchor catch-up counts from) is the trigger's */
	int occurrence = how != SCHED_HOW_MANUAL;
	log_start(&r);
	if (occurrence)
		sched_runs_started(job, f->occurrence, f->scheduled_us, r.start);
	uint64_t serial = sched_history_started(job, how, f->scheduled_us, f->attempt > 1 ? f->attempt : 1, r.start);
	sched_counters_started(job, r.start - r.due);
	char *err = sched_dispatch(f, NULL);
	/* a failure's retries and hook wait without the GIL */
	if (err)
		sched_punctual_release();
	r.end = sched_clock_us(CLOCK_REALTIME);
	r.err = err;
	if (occurrence)
		sched_runs_ended(job, f->occurrence, !err, r.end);
	sched_history_ended(job, serial, !err, err, r.end);
	sched_counters_ended(job, !err, r.end - r.start, r.end);
	log_end(&r);
	return err;
}
