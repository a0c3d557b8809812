/* run.c - one run of one fire (see run.h). */
#include <uwsgi.h>
#include "run.h"
#include "dispatch.h"
#include "runs.h"
#include "counters.h"
#include "log.h"
#include "common.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

static void log_start(const struct usch_fire *f, const char *when, int64_t start) {
	const struct usch_job *job = f->job;
	if (f->missed)
		sched_log_run(job, "start (worker %d, scheduled %s, lag %.1f ms, %lld late fire%s coalesced)",
				uwsgi.mywid, when, (start - f->scheduled_us) / 1e3, (long long) f->missed,
				f->missed == 1 ? "" : "s");
	else
		sched_log_run(job, "start (worker %d, scheduled %s, lag %.1f ms)", uwsgi.mywid, when,
				(start - f->scheduled_us) / 1e3);
	if (f->dropped)
		sched_log("job %s: %lld more late fires were dropped (coalesce=all runs the latest %d)", job->id,
				(long long) f->dropped, USCH_ALL_MAX);
}

int sched_run_fire(const struct usch_fire *f, uint64_t runs, uint64_t failures) {
	const struct usch_job *job = f->job;
	int64_t start = sched_clock_us(CLOCK_REALTIME);
	char when[USCH_RFC3339_MAX];
	usch_rfc3339_format(f->scheduled_us, job->tz, when, sizeof(when));
	log_start(f, when, start);
	sched_runs_started(job, f->occurrence, f->scheduled_us);
	sched_counters_started(job, start - f->scheduled_us);
	char *err = sched_dispatch(f);
	int64_t end = sched_clock_us(CLOCK_REALTIME);
	sched_runs_ended(job, f->occurrence, !err);
	sched_counters_ended(job, !err, end - start, end);
	double ms = (end - start) / 1e3;
	if (!err) {
		sched_log_run(job, "ok (worker %d, scheduled %s, %.1f ms)", uwsgi.mywid, when, ms);
		return 0;
	}
	if (sched_log_level() != SCHED_LOG_NONE) {
		sched_log("job %s: failed (worker %d, scheduled %s, %.1f ms; failure %llu of %llu runs here):", job->id,
				uwsgi.mywid, when, ms, (unsigned long long) failures + 1,
				(unsigned long long) runs + 1);
		sched_log_block(job->id, err);
	}
	free(err);
	return -1;
}
