/* job.c - a declared job's lifetime and the questions asked of it at run
 * time (see job.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "err.h"
#include "timefmt.h"
#include "job.h"
#include "trigger.h"
#include "tz.h"

const struct usch_job_cold usch_job_cold_default = {
	.misfire_grace_us = -1,
	.start_us = INT64_MIN,
	.end_us = INT64_MAX,
	.retry_delay_us = 1000000,
	.retry_backoff = 2,
};

static void cold_free(struct usch_job_cold *cold) {
	if (!cold || cold == &usch_job_cold_default)
		return;
	for (int i = 0; i < cold->rpc.argc; i++)
		free(cold->rpc.argv[i]);
	free(cold->rpc.argv);
	free(cold->rpc.argvs);
	usch_workers_free(&cold->workers);
	free(cold->legion);
	free(cold->on_failure_text);
	free(cold->on_success_text);
	free(cold);
}

void usch_job_free(struct usch_job *job) {
	if (!job)
		return;
	if (job->packed) {
		if (job->own_tz)
			usch_tz_free((struct usch_tz *) job->tz);
		if (job->cold_heap)
			free((struct usch_job_cold *) job->cold);
		usch_job_free(job->on_failure);
		usch_job_free(job->on_success);
		return;
	}
	if (job->trigger)
		usch_trigger_free(job->trigger);
	if (job->own_tz)
		usch_tz_free((struct usch_tz *) job->tz);
	cold_free((struct usch_job_cold *) job->cold);
	if (job->id != job->target)
		free(job->id);
	if (job->own_line)
		free((char *) job->line);
	free(job->target);
	free(job->args_json);
	free(job->kwargs_json);
	free(job->context);
	free(job->app);
	usch_job_free(job->on_failure);
	usch_job_free(job->on_success);
	free(job);
}

struct usch_job_cold *usch_job_cold_own(struct usch_job *job) {
	if (job->cold != &usch_job_cold_default)
		return (struct usch_job_cold *) job->cold;
	/* memcpy, not assignment: the padding too, for usch_job_cold_share's memcmp */
	struct usch_job_cold *own = malloc(sizeof(*own));
	if (!own)
		return NULL;
	memcpy(own, &usch_job_cold_default, sizeof(*own));
	job->cold = own;
	job->cold_heap = 1;
	return own;
}

void usch_job_cold_share(struct usch_job *job) {
	if (!job)
		return;
	/* equal to the default: every pointer in it is NULL, nothing else to free */
	if (job->cold != &usch_job_cold_default && !memcmp(job->cold, &usch_job_cold_default, sizeof(*job->cold))) {
		free((struct usch_job_cold *) job->cold);
		job->cold = &usch_job_cold_default;
		job->cold_heap = 0;
	}
	usch_job_cold_share(job->on_failure);
	usch_job_cold_share(job->on_success);
}

/* The cold part's copy in the arenas (the shared default stays shared). */
static const struct usch_job_cold *pack_cold(
		const struct usch_job_cold *c, struct usch_arena *records, struct usch_arena *text, int *failed) {
	if (c == &usch_job_cold_default)
		return c;
	struct usch_job_cold *p = usch_arena_alloc(records, sizeof(*p));
	if (!p) {
		*failed = 1;
		return NULL;
	}
	*p = *c;
	p->on_failure_text = p->on_success_text = NULL;
	p->legion = usch_arena_strdup(text, c->legion, failed);
	size_t words = USCH_MAX_WORKER_ID / 64;
	if (c->workers.bits && (p->workers.bits = usch_arena_alloc(records, words * sizeof(uint64_t))))
		memcpy(p->workers.bits, c->workers.bits, words * sizeof(uint64_t));
	*failed |= c->workers.bits && !p->workers.bits;
	if (!c->rpc.argv)
		return p;
	/* as rpc_args made them: room for one at least */
	size_t n = c->rpc.argc ? c->rpc.argc : 1;
	p->rpc.argv = usch_arena_alloc(records, n * sizeof(char *));
	p->rpc.argvs = usch_arena_alloc(records, n * sizeof(uint16_t));
	if (!p->rpc.argv || !p->rpc.argvs) {
		*failed = 1;
		return p;
	}
	if (c->rpc.argvs)
		memcpy(p->rpc.argvs, c->rpc.argvs, n * sizeof(uint16_t));
	for (int i = 0; i < c->rpc.argc; i++)
		p->rpc.argv[i] = usch_arena_strdup(text, c->rpc.argv[i], failed);
	return p;
}

struct usch_job *usch_job_pack(struct usch_job *job, const struct usch_pack *to) {
	struct usch_arena *records = to->records, *text = to->text;
	struct usch_job *p = usch_arena_alloc(records, sizeof(*p));
	if (!p)
		return NULL;
	*p = *job;
	int failed = 0;
	p->packed = 1;
	p->cold_heap = 0;
	p->own_line = 0;
	if (job->own_line)
		p->line = usch_arena_strdup(text, job->line, &failed);
	p->target = usch_arena_strdup(text, job->target, &failed);
	p->id = job->id == job->target ? p->target : usch_arena_strdup(text, job->id, &failed);
	p->args_json = usch_arena_strdup(text, job->args_json, &failed);
	p->kwargs_json = usch_arena_strdup(text, job->kwargs_json, &failed);
	p->context = usch_arena_strdup(text, job->context, &failed);
	p->app = usch_arena_strdup(text, job->app, &failed);
	p->cold = pack_cold(job->cold, records, text, &failed);
	if (job->trigger && !(p->trigger = usch_trigger_pack(job->trigger, to->triggers)))
		failed = 1;
	p->on_failure = p->on_success = NULL;
	if (job->on_failure && !(p->on_failure = usch_job_pack(job->on_failure, to)))
		failed = 1;
	if (job->on_success && !(p->on_success = usch_job_pack(job->on_success, to)))
		failed = 1;
	/* a hook is its job's: the same line, and the copy as parent */
	struct usch_job *hooks[] = { p->on_failure, p->on_success };
	for (size_t i = 0; i < 2; i++) {
		if (!hooks[i])
			continue;
		hooks[i]->parent = p;
		hooks[i]->line = p->line;
	}
	if (failed)
		return NULL;
	/* the zone moves: the copy frees it */
	job->own_tz = 0;
	return p;
}

/* The job options' names, kept once: 100,000 jobs need not carry 100,000
 * copies of "scheduler-cron", nor a pointer to it. */
static const char *const OPTIONS[] = { "scheduler-cron", "scheduler-interval", "scheduler-at", "scheduler-job", "cron",
	"interval", "at", "job" };
#define NOPTIONS (sizeof(OPTIONS) / sizeof(OPTIONS[0]))

int usch_job_option_index(const char *option) {
	for (size_t i = 0; option && i < NOPTIONS; i++)
		if (!strcmp(option, OPTIONS[i]))
			return (int) i;
	return -1;
}

const char *usch_job_option(const struct usch_job *job) {
	return job->option < NOPTIONS ? OPTIONS[job->option] : "?";
}

int64_t usch_job_retry_delay(const struct usch_job *job, int attempt) {
	const struct usch_job_cold *c = job->cold;
	double d = (double) c->retry_delay_us;
	int64_t cap = c->retry_max_delay_us > 0 ? c->retry_max_delay_us : INT64_MAX / 2;
	for (int i = 1; i < attempt && d < (double) cap; i++)
		d *= c->retry_backoff;
	return d >= (double) cap ? cap : (int64_t) d;
}

int usch_job_runs_on(const struct usch_job *job, int wid) {
	switch (job->scope) {
	case USCH_SCOPE_ALL:
		return 1;
	case USCH_SCOPE_WORKERS:
		return usch_workers_has(&job->cold->workers, wid);
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
	if (job->cold->start_us != INT64_MIN && !job->implicit_anchor)
		usch_rfc3339_format(job->cold->start_us, usch_tz_utc(), start, sizeof(start));
	if (job->cold->end_us != INT64_MAX)
		usch_rfc3339_format(job->cold->end_us, usch_tz_utc(), end, sizeof(end));
	int n = snprintf(buf, len, "%s; tz %s%s%s%s%s; scope %s", trig, usch_tz_name(job->tz), *start ? "; start " : "",
			start, *end ? "; end " : "", end, scope_text(job));
	return n < 0 ? 0 : (size_t) n;
}

int usch_job_continue_from(struct usch_job *job, int64_t last, char *err, size_t errlen) {
	if (!job->implicit_anchor || last == INT64_MIN || last >= job->cold->end_us)
		return 0;
	struct usch_job_cold *cold = usch_job_cold_own(job);
	if (!cold)
		return usch_fail(err, errlen, "out of memory");
	if (usch_trigger_reanchor(job->trigger, last, err, errlen) < 0)
		return -1;
	/* fire 0 is the remembered run itself: next(last) is one period on,
	 * and a rerun of that run (next(last - 1)) is it */
	if (usch_trigger_set_window(job->trigger, last, cold->end_us, err, errlen) < 0)
		return -1;
	cold->start_us = last;
	return 0;
}
