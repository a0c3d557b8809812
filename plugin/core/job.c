/* job.c - a declared job's lifetime and the questions asked of it at run
 * time (see job.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "timefmt.h"
#include "job.h"
#include "trigger.h"
#include "tz.h"

void usch_job_free(struct usch_job *job) {
	if (!job)
		return;
	if (job->trigger)
		usch_trigger_free(job->trigger);
	usch_tz_free(job->own_tz);
	for (int i = 0; i < job->rpc.argc; i++)
		free(job->rpc.argv[i]);
	free(job->rpc.argv);
	free(job->rpc.argvs);
	if (job->id != job->target)
		free(job->id);
	if (!usch_job_option_static(job->option))
		free(job->option);
	free(job->line);
	usch_workers_free(&job->workers);
	free(job->target);
	free(job->args_json);
	free(job->kwargs_json);
	free(job->context);
	free(job->app);
	free(job->legion);
	free(job->on_failure_text);
	free(job->on_success_text);
	usch_job_free(job->on_failure);
	usch_job_free(job->on_success);
	free(job);
}

/* The job options' names, kept once: 100,000 jobs need not carry 100,000
 * copies of "scheduler-cron". */
static const char *const OPTIONS[] = { "scheduler-cron", "scheduler-interval", "scheduler-at", "scheduler-job" };

const char *usch_job_option_static(const char *option) {
	for (size_t i = 0; option && i < sizeof(OPTIONS) / sizeof(OPTIONS[0]); i++)
		if (option == OPTIONS[i] || !strcmp(option, OPTIONS[i]))
			return OPTIONS[i];
	return NULL;
}

int64_t usch_job_retry_delay(const struct usch_job *job, int attempt) {
	double d = (double) job->retry_delay_us;
	int64_t cap = job->retry_max_delay_us > 0 ? job->retry_max_delay_us : INT64_MAX / 2;
	for (int i = 1; i < attempt && d < (double) cap; i++)
		d *= job->retry_backoff;
	return d >= (double) cap ? cap : (int64_t) d;
}

int usch_job_runs_on(const struct usch_job *job, int wid) {
	switch (job->scope) {
	case USCH_SCOPE_ALL:
		return 1;
	case USCH_SCOPE_WORKERS:
		return usch_workers_has(&job->workers, wid);
	case USCH_SCOPE_ONCE:
	case USCH_SCOPE_CLUSTER:
		return wid > 0;
	default:
		return 0;
	}
}

int usch_job_claimed(const struct usch_job *job) {
	return job->scope == USCH_SCOPE_ONCE || job->scope == USCH_SCOPE_CLUSTER;
}

int64_t usch_job_timeline_at_start(const struct usch_job *job, int64_t start_wall) {
	if (usch_trigger_clock(job->trigger) == USCH_CLOCK_MONO && !job->anchored)
		return 0;
	return start_wall;
}

const char *usch_job_kind_prefix(const struct usch_job *job) {
	switch (job->kind) {
	case USCH_TARGET_RPC:
		return "rpc:";
	case USCH_TARGET_SIGNAL:
		return "signal:";
	case USCH_TARGET_EXEC:
		return "exec:";
	default:
		return "";
	}
}

/* A once-job's state is not a per-worker job's, nor a cluster job's (which
 * never takes up what another lord ran): each reads only its own. */
static const char *scope_text(const struct usch_job *job) {
	switch (job->scope) {
	case USCH_SCOPE_ONCE:
		return "once";
	case USCH_SCOPE_CLUSTER:
		return "cluster";
	default:
		return "per worker";
	}
}

size_t usch_job_schedule(const struct usch_job *job, char *buf, size_t len) {
	char trig[1024], start[USCH_RFC3339_MAX] = "", end[USCH_RFC3339_MAX] = "";
	usch_trigger_describe(job->trigger, trig, sizeof(trig));
	if (job->start_us != INT64_MIN && !job->implicit_anchor)
		usch_rfc3339_format(job->start_us, usch_tz_utc(), start, sizeof(start));
	if (job->end_us != INT64_MAX)
		usch_rfc3339_format(job->end_us, usch_tz_utc(), end, sizeof(end));
	int n = snprintf(buf, len, "%s; tz %s%s%s%s%s; scope %s", trig, usch_tz_name(job->tz), *start ? "; start " : "",
			start, *end ? "; end " : "", end, scope_text(job));
	return n < 0 ? 0 : (size_t) n;
}

int usch_job_continue_from(struct usch_job *job, int64_t last, char *err, size_t errlen) {
	if (!job->implicit_anchor || last == INT64_MIN || last >= job->end_us)
		return 0;
	if (usch_trigger_reanchor(job->trigger, last, err, errlen) < 0)
		return -1;
	/* fire 0 is the remembered run itself: next(last) is one period on,
	 * and a rerun of that run (next(last - 1)) is it */
	if (usch_trigger_set_window(job->trigger, last, job->end_us, err, errlen) < 0)
		return -1;
	job->start_us = last;
	return 0;
}
