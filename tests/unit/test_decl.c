/* test_decl.c - the declaration parser: every accepted form of
 * scheduler-cron / -interval / -at / -job, every target kind, every key
 * with its parsed value, and every error message word for word. */
#include <check.h>
#include "unit.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decl.h"
#include "job.h"
#include "timefmt.h"
#include "trigger.h"
#include "tz.h"

#define SEC 1000000LL
/* 2026-11-24T09:00:00Z, a Tuesday */
#define W0 (1795510800LL * SEC)

static char err[8192];

static struct usch_job *parse_in(const char *option, const char *line, const usch_tz *tz) {
	struct usch_decl_env env = { .default_tz = tz, .now_us = W0 };
	err[0] = 0;
	return usch_decl_parse(option, line, &env, err, sizeof(err));
}

static struct usch_job *ok(const char *option, const char *line) {
	struct usch_job *job = parse_in(option, line, usch_tz_utc());
	ck_assert_msg(job != NULL, "%s \"%s\" refused: %s", option, line, err);
	ck_assert_ptr_nonnull(job->trigger);
	ck_assert_str_eq(usch_job_option(job), option);
	ck_assert_str_eq(job->line, line);
	return job;
}

/* Refused with exactly `<option> "<line>": <what>`. */
static void bad_in(const char *option, const char *line, const usch_tz *tz, const char *what) {
	static char want[8192];
	size_t len = strlen(line);
	/* a line over 400 characters is quoted by its first 120 */
	if (len > 400)
		snprintf(want, sizeof(want), "%s \"%.120s...\" (%zu characters): %s", option, line, len, what);
	else
		snprintf(want, sizeof(want), "%s \"%s\": %s", option, line, what);
	struct usch_job *job = parse_in(option, line, tz);
	int accepted = job != NULL;
	usch_job_free(job);
	ck_assert_msg(!accepted, "%s \"%s\" accepted", option, line);
	ck_assert_str_eq(err, want);
}

static void bad(const char *option, const char *line, const char *what) {
	bad_in(option, line, usch_tz_utc(), what);
}

static const char *describe(const struct usch_job *job) {
	static char buf[512];
	usch_trigger_describe(job->trigger, buf, sizeof(buf));
	return buf;
}

static int64_t next(const struct usch_job *job, int64_t after) {
	return usch_trigger_next(job->trigger, after);
}

static int has_worker(const struct usch_job *job, int w) {
	return usch_workers_has(&job->cold->workers, w);
}

static int nworkers(const struct usch_job *job) {
	int n = 0;
	for (int w = 0; w < USCH_MAX_WORKER_ID; w++)
		n += has_worker(job, w);
	return n;
}

static void assert_defaults(const struct usch_job *job) {
	ck_assert_ptr_null(job->args_json);
	ck_assert_ptr_null(job->kwargs_json);
	ck_assert_ptr_null(job->context);
	ck_assert_ptr_null(job->app);
	ck_assert(!job->own_tz);
	ck_assert_int_eq(job->paused, 0);
	ck_assert_int_eq(job->max_running, 1);
	ck_assert_int_eq(job->coalesce, USCH_COALESCE_LATEST);
	ck_assert_int_eq(job->scope, USCH_SCOPE_ALL);
	ck_assert_int_eq(job->cold->jitter_us, 0);
	ck_assert_int_eq(job->cold->misfire_grace_us, -1);
	ck_assert_int_eq(job->timeout_us, 0);
	ck_assert_int_eq(nworkers(job), 0);
}

/* 100,000 jobs with the default window and policies carry one copy of
 * them; a job that sets one (or a hook's rpc: arguments) owns its own,
 * and a restart's take-up gives a sharing job its own before it moves. */
START_TEST(cold_part_shared_by_defaults) {
	struct usch_job *a = ok("scheduler-cron", "0 9 * * * app:a max-running=2 timeout=5m");
	struct usch_job *b = ok("scheduler-interval", "1h rpc:b");
	ck_assert_ptr_eq(a->cold, &usch_job_cold_default);
	ck_assert_ptr_ne(b->cold, &usch_job_cold_default); /* rpc: its (empty) arguments */
	ck_assert_int_eq(a->max_running, 2);
	ck_assert_int_eq(a->timeout_us, 300 * SEC);
	struct usch_job *c = ok("scheduler-cron", "0 9 * * * app:c jitter=1s on-failure=rpc:alert");
	ck_assert_ptr_ne(c->cold, &usch_job_cold_default);
	ck_assert_int_eq(c->cold->jitter_us, SEC);
	ck_assert_ptr_ne(c->on_failure->cold, &usch_job_cold_default);
	ck_assert_int_eq(usch_job_cold_default.jitter_us, 0);
	struct usch_job *d = ok("scheduler-interval", "10m app:d scope=once");
	ck_assert_ptr_eq(d->cold, &usch_job_cold_default);
	ck_assert(d->implicit_anchor);
	char err[128];
	ck_assert_int_eq(usch_job_continue_from(d, W0, err, sizeof(err)), 0);
	ck_assert_ptr_ne(d->cold, &usch_job_cold_default);
	ck_assert_int_eq(d->cold->start_us, W0);
	ck_assert_int_eq(usch_job_cold_default.start_us, INT64_MIN);
	usch_job_free(a);
	usch_job_free(b);
	usch_job_free(c);
	usch_job_free(d);
}
END_TEST

/* ---------------------------------------------------------------- cron */

START_TEST(cron_five_fields) {
	struct usch_job *job = ok("scheduler-cron", "0 9 * * mon-fri app.tasks:cleanup");
	ck_assert_str_eq(job->id, "app.tasks:cleanup");
	ck_assert_int_eq(job->kind, USCH_TARGET_PYTHON);
	ck_assert_str_eq(job->target, "app.tasks:cleanup");
	ck_assert_str_eq(describe(job), "cron \"0 9 * * mon-fri\"");
	ck_assert_int_eq(usch_trigger_kind(job->trigger), USCH_TRIGGER_CRON);
	ck_assert_int_eq(usch_trigger_clock(job->trigger), USCH_CLOCK_WALL);
	ck_assert_ptr_eq(job->tz, usch_tz_utc());
	ck_assert_int_eq(job->start_on_boot, 0);
	ck_assert_int_eq(job->anchored, 0);
	ck_assert_int_eq(job->cold->start_us, INT64_MIN);
	ck_assert_int_eq(job->cold->end_us, INT64_MAX);
	assert_defaults(job);
	/* Tuesday 09:00 -> Wednesday 09:00; Friday 09:00 -> Monday 09:00 */
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-25T09:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-11-27T09:00:00Z")), unit_instant("2026-11-30T09:00:00Z"));
	usch_job_free(job);
}
END_TEST

START_TEST(cron_six_and_seven_fields) {
	struct usch_job *job = ok("scheduler-cron", "*/15 * * * * * app:f");
	ck_assert_str_eq(describe(job), "cron \"*/15 * * * * *\"");
	ck_assert_int_eq(next(job, W0), W0 + 15 * SEC);
	ck_assert_int_eq(next(job, W0 + 50 * SEC), W0 + 60 * SEC);
	usch_job_free(job);

	job = ok("scheduler-cron", "0 0 12 1 1 * 2027 app:f");
	ck_assert_str_eq(describe(job), "cron \"0 0 12 1 1 * 2027\"");
	ck_assert_int_eq(next(job, W0), unit_instant("2027-01-01T12:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2027-01-01T12:00:00Z")), INT64_MAX);
	usch_job_free(job);
}
END_TEST

START_TEST(cron_macros) {
	static const struct {
		const char *line, *next;
	} cases[] = {
		{ "@hourly app:f", "2026-11-24T10:00:00Z" },
		{ "@daily app:f", "2026-11-25T00:00:00Z" },
		{ "@midnight app:f", "2026-11-25T00:00:00Z" },
		{ "@weekly app:f", "2026-11-29T00:00:00Z" },
		{ "@monthly app:f", "2026-12-01T00:00:00Z" },
		{ "@yearly app:f", "2027-01-01T00:00:00Z" },
		{ "@annually app:f", "2027-01-01T00:00:00Z" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct usch_job *job = ok("scheduler-cron", cases[i].line);
		ck_assert_str_eq(job->id, "app:f");
		ck_assert_int_eq(job->start_on_boot, 0);
		int64_t got = next(job, W0);
		usch_job_free(job);
		ck_assert_msg(got == unit_instant(cases[i].next), "%s", cases[i].line);
	}
}
END_TEST

START_TEST(cron_at_start) {
	struct usch_job *job = ok("scheduler-cron", "@start app:warm_up");
	ck_assert_int_eq(job->start_on_boot, 1);
	ck_assert_int_eq(usch_trigger_is_start(job->trigger), 1);
	ck_assert_str_eq(describe(job), "cron \"@start\"");
	ck_assert_int_eq(next(job, W0), INT64_MAX);
	ck_assert_str_eq(job->id, "app:warm_up");
	usch_job_free(job);
}
END_TEST

START_TEST(cron_in_the_job_zone) {
	struct usch_job *job = ok("scheduler-cron", "0 9 * * * app:f tz=Europe/Paris");
	ck_assert(job->own_tz);
	ck_assert_str_eq(usch_tz_name(job->tz), "Europe/Paris");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-25T08:00:00Z"));
	usch_job_free(job);

	/* the default zone comes from the environment (scheduler-timezone) */
	char why[200];
	usch_tz *ny = usch_tz_load("America/New_York", why, sizeof(why));
	ck_assert_msg(ny != NULL, "%s", why);
	job = parse_in("scheduler-cron", "0 9 * * * app:f", ny);
	ck_assert_msg(job != NULL, "%s", err);
	ck_assert_ptr_eq(job->tz, ny);
	ck_assert(!job->own_tz);
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-24T14:00:00Z"));
	usch_job_free(job);
	usch_tz_free(ny);
}
END_TEST

START_TEST(option_without_prefix) {
	struct usch_job *job = parse_in("cron", "0 9 * * * app:f", NULL);
	ck_assert_msg(job != NULL, "%s", err);
	ck_assert_ptr_eq(job->tz, usch_tz_utc()); /* NULL default zone: UTC */
	ck_assert_str_eq(usch_job_option(job), "cron");
	usch_job_free(job);
}
END_TEST

/* ------------------------------------------------------------ interval */

START_TEST(interval_durations) {
	struct usch_job *job = ok("scheduler-interval", "250ms app:f");
	ck_assert_str_eq(describe(job), "interval 250ms");
	ck_assert_int_eq(usch_trigger_kind(job->trigger), USCH_TRIGGER_INTERVAL);
	ck_assert_int_eq(usch_trigger_clock(job->trigger), USCH_CLOCK_MONO);
	ck_assert_int_eq(job->anchored, 0);
	ck_assert_int_eq(job->cold->start_us, INT64_MIN);
	/* elapsed time: first fire one period after the start (0) */
	ck_assert_int_eq(next(job, 0), 250000);
	ck_assert_int_eq(next(job, 250000), 500000);
	assert_defaults(job);
	usch_job_free(job);

	job = ok("scheduler-interval", "1h30m app:f");
	ck_assert_str_eq(describe(job), "interval 1h30m");
	ck_assert_int_eq(next(job, 0), 5400 * SEC);
	usch_job_free(job);

	job = ok("scheduler-interval", "1h 30m app:f");
	ck_assert_str_eq(describe(job), "interval 1h30m");
	ck_assert_int_eq(next(job, 0), 5400 * SEC);
	ck_assert_int_eq(next(job, 5400 * SEC), 10800 * SEC);
	usch_job_free(job);

	job = ok("scheduler-interval", "1m exec: backup --all timeout=1m");
	ck_assert_str_eq(job->target, "backup --all");
	ck_assert_int_eq(job->timeout_us, 60 * SEC);
	usch_job_free(job);

	/* a quoted command may hold words shaped like keys */
	job = ok("scheduler-interval", "1m exec:\"backup --mode=full timeout=3\" timeout=2m id=bk");
	ck_assert_str_eq(job->target, "backup --mode=full timeout=3");
	ck_assert_int_eq(job->timeout_us, 120 * SEC);
	ck_assert_str_eq(job->id, "bk");
	usch_job_free(job);
	bad("scheduler-interval", "1m exec:\"unterminated",
			"\"exec\": invalid JSON: premature end of input near '\"unterminated'");
	bad("scheduler-interval", "1m exec:\"\"", "target \"exec:\"\"\": exec: needs a command");

	/* a space between number and unit, as in "2 weeks" */
	job = ok("scheduler-interval", "30 s app:f");
	ck_assert_str_eq(describe(job), "interval 30s");
	ck_assert_int_eq(usch_trigger_kind(job->trigger), USCH_TRIGGER_INTERVAL);
	usch_job_free(job);
}
END_TEST

START_TEST(interval_anchored_by_start) {
	struct usch_job *job = ok("scheduler-interval", "1h app:f start=2026-11-24T08:30:00Z");
	ck_assert_int_eq(job->anchored, 1);
	ck_assert_int_eq(job->cold->start_us, unit_instant("2026-11-24T08:30:00Z"));
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-24T09:30:00Z"));
	ck_assert_int_eq(next(job, 0), unit_instant("2026-11-24T08:30:00Z")); /* not before start */
	usch_job_free(job);

	job = ok("scheduler-interval", "1h app:f start=2026-11-24T08:30:00Z end=2026-11-24T10:30:00Z");
	ck_assert_int_eq(job->cold->end_us, unit_instant("2026-11-24T10:30:00Z"));
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-24T09:30:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-11-24T09:30:00Z")), unit_instant("2026-11-24T10:30:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-11-24T10:30:00Z")), INT64_MAX);
	usch_job_free(job);
}
END_TEST

/* scope=cluster: every instance of the Legion computes the same
 * occurrences, whatever its start: intervals count from the epoch (or
 * start=), the claim is the once-job's. */
START_TEST(cluster_jobs) {
	struct usch_job *job = ok("scheduler-interval", "1h app:f scope=cluster legion=digest");
	ck_assert_int_eq(job->scope, USCH_SCOPE_CLUSTER);
	ck_assert_str_eq(job->cold->legion, "digest");
	ck_assert(usch_job_claimed(job) && usch_job_runs_on(job, 1) && usch_job_runs_on(job, 7));
	ck_assert_int_eq(job->anchored, 1);
	ck_assert_int_eq(job->implicit_anchor, 0);
	/* on the hour, UTC, on every instance */
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-24T10:00:00Z"));
	usch_job_free(job);

	job = ok("scheduler-interval", "90s app:f scope=cluster");
	ck_assert_ptr_null(job->cold->legion); /* scheduler-legion names it */
	ck_assert_int_eq(next(job, unit_instant("2026-11-24T09:00:00Z")) % 90000000, 0);
	usch_job_free(job);

	job = ok("scheduler-interval", "1 month app:f scope=cluster start=2026-01-31T08:00:00Z");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-30T08:00:00Z")); /* Jan 31 clamped */
	usch_job_free(job);

	job = ok("scheduler-cron", "*/5 * * * * * app:f scope=cluster");
	ck_assert(usch_job_claimed(job));
	usch_job_free(job);
	job = ok("scheduler-interval", "10s app:f scope=once");
	ck_assert(usch_job_claimed(job) && job->implicit_anchor);
	usch_job_free(job);
	job = ok("scheduler-interval", "10s app:f");
	ck_assert(!usch_job_claimed(job));
	usch_job_free(job);

	char text[256];
	job = ok("scheduler-cron", "0 9 * * * app:f scope=cluster");
	usch_job_schedule(job, text, sizeof(text));
	ck_assert_str_eq(text, "cron \"0 9 * * *\"; tz UTC; scope cluster");
	usch_job_free(job);

	bad("scheduler-cron", "0 9 * * * app:f legion=digest",
			"legion=digest is for scope=cluster (add it, or drop legion=)");
	bad("scheduler-cron", "0 9 * * * app:f scope=once legion=digest",
			"legion=digest is for scope=cluster (add it, or drop legion=)");
	bad("scheduler-cron", "0 9 * * * app:f scope=cluster legion=", "legion= needs a value");
	bad("scheduler-cron", "@start app:f scope=cluster",
			"@start runs when each instance starts: scope=cluster has no occurrence to share (use scope=once)");
	bad("scheduler-interval", "1 week app:f scope=cluster",
			"scope=cluster: a calendar interval needs start= (every instance must count from the same instant)");
	bad("scheduler-job", "{\"every\": \"2 days\", \"target\": \"app:f\", \"scope\": \"cluster\"}",
			"scope=cluster: a calendar interval needs start= (every instance must count from the same instant)");
}
END_TEST

START_TEST(interval_calendar_units) {
	static const struct {
		const char *line, *describe, *next1, *next2;
	} cases[] = {
		{ "1 month app:f", "every 1 month", "2026-12-24T09:00:00Z", "2027-01-24T09:00:00Z" },
		{ "2 weeks app:f", "every 2 weeks", "2026-12-08T09:00:00Z", "2026-12-22T09:00:00Z" },
		{ "1 year app:f", "every 1 year", "2027-11-24T09:00:00Z", "2028-11-24T09:00:00Z" },
		{ "3 days app:f", "every 3 days", "2026-11-27T09:00:00Z", "2026-11-30T09:00:00Z" },
		{ "1 day app:f", "every 1 day", "2026-11-25T09:00:00Z", "2026-11-26T09:00:00Z" },
		{ "1 week app:f", "every 1 week", "2026-12-01T09:00:00Z", "2026-12-08T09:00:00Z" },
		{ "6 months app:f", "every 6 months", "2027-05-24T09:00:00Z", "2027-11-24T09:00:00Z" },
		{ "2 years app:f", "every 2 years", "2028-11-24T09:00:00Z", "2030-11-24T09:00:00Z" },
		{ "1 MONTH app:f", "every 1 month", "2026-12-24T09:00:00Z", "2027-01-24T09:00:00Z" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct usch_job *job = ok("scheduler-interval", cases[i].line);
		char d[128];
		snprintf(d, sizeof(d), "%s", describe(job));
		int kind = usch_trigger_kind(job->trigger), clock = usch_trigger_clock(job->trigger);
		int64_t start = job->cold->start_us, n1 = next(job, W0 - 3600 * SEC), n2 = next(job, n1);
		usch_job_free(job);
		ck_assert_msg(!strcmp(d, cases[i].describe), "%s: %s", cases[i].line, d);
		ck_assert_int_eq(kind, USCH_TRIGGER_CALENDAR);
		ck_assert_int_eq(clock, USCH_CLOCK_WALL);
		/* counts from now; the first fire is one interval on */
		ck_assert_int_eq(start, W0 + 1);
		ck_assert_msg(n1 == unit_instant(cases[i].next1), "%s: first", cases[i].line);
		ck_assert_msg(n2 == unit_instant(cases[i].next2), "%s: second", cases[i].line);
	}
}
END_TEST

START_TEST(interval_calendar_with_start_and_zone) {
	/* Jan 31 clamps to the month's last day; wall time kept in the zone */
	struct usch_job *job = ok("scheduler-interval", "1 month app:f start=2026-01-31T09:00 tz=Europe/Paris");
	ck_assert_int_eq(job->cold->start_us, unit_instant("2026-01-31T08:00:00Z"));
	ck_assert_int_eq(next(job, 0), unit_instant("2026-01-31T08:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-01-31T08:00:00Z")), unit_instant("2026-02-28T08:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-02-28T08:00:00Z")),
			unit_instant("2026-03-31T07:00:00Z")); /* CEST */
	usch_job_free(job);
}
END_TEST

/* ------------------------------------------------------------------ at */

START_TEST(at_forms) {
	struct usch_job *job = ok("scheduler-at", "2026-12-01T10:00:00Z app:f");
	ck_assert_int_eq(usch_trigger_kind(job->trigger), USCH_TRIGGER_DATE);
	ck_assert_str_eq(describe(job), "at 2026-12-01T10:00:00+00:00");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-12-01T10:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-12-01T10:00:00Z")), INT64_MAX);
	assert_defaults(job);
	usch_job_free(job);

	job = ok("scheduler-at", "2026-12-01T10:00:00+01:00 app:f");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-12-01T09:00:00Z"));
	usch_job_free(job);

	/* no offset: a wall time in the job's zone, whatever the key order */
	job = ok("scheduler-at", "2026-12-01T10:00 app:f tz=Europe/Paris");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-12-01T09:00:00Z"));
	ck_assert_str_eq(describe(job), "at 2026-12-01T10:00:00+01:00");
	usch_job_free(job);

	job = ok("scheduler-at", "2026-07-01T10:00 app:f tz=Europe/Paris");
	ck_assert_int_eq(next(job, W0 - 365 * 86400 * SEC), unit_instant("2026-07-01T08:00:00Z"));
	usch_job_free(job);

	/* date, space, time: two tokens */
	job = ok("scheduler-at", "2026-12-01 10:00:00 app:f");
	ck_assert_str_eq(describe(job), "at 2026-12-01T10:00:00+00:00");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-12-01T10:00:00Z"));
	usch_job_free(job);

	job = ok("scheduler-at", "2026-12-01 10:00 app:f tz=America/New_York");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-12-01T15:00:00Z"));
	usch_job_free(job);

	/* in the past: accepted, never fires */
	job = ok("scheduler-at", "2020-01-01T00:00:00Z app:f");
	ck_assert_int_eq(next(job, W0), INT64_MAX);
	usch_job_free(job);
}
END_TEST

/* ------------------------------------------------------------- targets */

START_TEST(targets) {
	struct usch_job *job = ok("scheduler-cron", "0 9 * * * python:app.tasks:cleanup");
	ck_assert_int_eq(job->kind, USCH_TARGET_PYTHON);
	ck_assert_str_eq(job->target, "app.tasks:cleanup");
	ck_assert_str_eq(job->id, "python:app.tasks:cleanup"); /* as written */
	usch_job_free(job);

	job = ok("scheduler-cron", "0 9 * * * pkg.mod:obj.method");
	ck_assert_int_eq(job->kind, USCH_TARGET_PYTHON);
	ck_assert_str_eq(job->target, "pkg.mod:obj.method");
	usch_job_free(job);

	job = ok("scheduler-cron", "0 9 * * * _priv.m2:_f9");
	ck_assert_str_eq(job->target, "_priv.m2:_f9");
	usch_job_free(job);

	job = ok("scheduler-cron", "0 9 * * * rpc:ping");
	ck_assert_int_eq(job->kind, USCH_TARGET_RPC);
	ck_assert_str_eq(job->target, "ping");
	ck_assert_str_eq(job->id, "rpc:ping");
	usch_job_free(job);

	job = ok("scheduler-cron", "0 9 * * * signal:17");
	ck_assert_int_eq(job->kind, USCH_TARGET_SIGNAL);
	ck_assert_str_eq(job->target, "17");
	ck_assert_str_eq(job->id, "signal:17");
	usch_job_free(job);

	job = ok("scheduler-cron", "0 9 * * * signal:0");
	ck_assert_str_eq(job->target, "0");
	usch_job_free(job);
	job = ok("scheduler-cron", "0 9 * * * signal:255");
	ck_assert_str_eq(job->target, "255");
	usch_job_free(job);

	job = ok("scheduler-cron", "0 9 * * * exec:/usr/bin/du -sh /var/log");
	ck_assert_int_eq(job->kind, USCH_TARGET_EXEC);
	ck_assert_str_eq(job->target, "/usr/bin/du -sh /var/log");
	ck_assert_str_eq(job->id, "exec:/usr/bin/du -sh /var/log");
	assert_defaults(job);
	usch_job_free(job);

	/* the command ends at the first known key=; other a=b stay in it */
	job = ok("scheduler-interval", "1h exec:env LANG=C sort -u /tmp/x id=sorter timeout=30s scope=once");
	ck_assert_int_eq(job->kind, USCH_TARGET_EXEC);
	ck_assert_str_eq(job->target, "env LANG=C sort -u /tmp/x");
	ck_assert_str_eq(job->id, "sorter");
	ck_assert_int_eq(job->timeout_us, 30 * SEC);
	ck_assert_int_eq(job->scope, USCH_SCOPE_ONCE);
	usch_job_free(job);
}
END_TEST

/* ---------------------------------------------------------------- keys */

START_TEST(every_key) {
	struct usch_job *job = ok("scheduler-cron",
			"0 9 * * * app:f id=nightly args=[1,\"a\"] kwargs={\"k\":true} context=ctx tz=Europe/Paris "
			"jitter=1.5s misfire-grace=10m coalesce=all max-running=3 timeout=1h "
			"start=2026-12-01 end=2027-01-01T00:00 paused=true scope=workers workers=1,3,5-7 app=/admin");
	ck_assert_str_eq(job->id, "nightly");
	ck_assert_str_eq(job->target, "app:f");
	ck_assert_str_eq(job->args_json, "[1,\"a\"]");
	ck_assert_str_eq(job->kwargs_json, "{\"k\":true}");
	ck_assert_str_eq(job->context, "ctx");
	ck_assert(job->own_tz);
	ck_assert_str_eq(usch_tz_name(job->tz), "Europe/Paris");
	ck_assert_int_eq(job->cold->jitter_us, 1500 * 1000);
	ck_assert_int_eq(job->cold->misfire_grace_us, 600 * SEC);
	ck_assert_int_eq(job->coalesce, USCH_COALESCE_ALL);
	ck_assert_int_eq(job->max_running, 3);
	ck_assert_int_eq(job->timeout_us, 3600 * SEC);
	/* start= and end= read in the job's zone */
	ck_assert_int_eq(job->cold->start_us, unit_instant("2026-11-30T23:00:00Z"));
	ck_assert_int_eq(job->cold->end_us, unit_instant("2026-12-31T23:00:00Z"));
	ck_assert_int_eq(job->paused, 1);
	ck_assert_int_eq(job->scope, USCH_SCOPE_WORKERS);
	ck_assert_int_eq(nworkers(job), 5);
	ck_assert(has_worker(job, 1) && has_worker(job, 3) && has_worker(job, 5) && has_worker(job, 6) &&
			has_worker(job, 7));
	ck_assert_str_eq(job->app, "/admin");
	/* the window bounds the trigger */
	ck_assert_int_eq(next(job, W0), unit_instant("2026-12-01T08:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-12-31T08:00:00Z")), INT64_MAX);
	usch_job_free(job);
}
END_TEST

START_TEST(key_values) {
	static const char *const coalesce[] = { "latest", "earliest", "all" };
	static const char *const scope[] = { "all", "once", "workers workers=2", "cluster" };
	char line[128];
	for (int i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "1s app:f coalesce=%s", coalesce[i]);
		struct usch_job *job = ok("scheduler-interval", line);
		ck_assert_int_eq(job->coalesce, (int) USCH_COALESCE_LATEST + i);
		usch_job_free(job);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "1s app:f scope=%s", scope[i]);
		struct usch_job *job = ok("scheduler-interval", line);
		ck_assert_int_eq(job->scope, (int) USCH_SCOPE_ALL + i);
		usch_job_free(job);
	}
	static const struct {
		const char *v;
		int want;
	} bools[] = {
		{ "true", 1 },
		{ "yes", 1 },
		{ "1", 1 },
		{ "false", 0 },
		{ "no", 0 },
		{ "0", 0 },
	};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		snprintf(line, sizeof(line), "1s app:f paused=%s", bools[i].v);
		struct usch_job *job = ok("scheduler-interval", line);
		ck_assert_int_eq(job->paused, bools[i].want);
		usch_job_free(job);
	}
	struct usch_job *job = ok("scheduler-interval", "1s app:f max-running=1000 jitter=0s misfire-grace=1us");
	ck_assert_int_eq(job->max_running, 1000);
	ck_assert_int_eq(job->cold->jitter_us, 0);
	ck_assert_int_eq(job->cold->misfire_grace_us, 1);
	usch_job_free(job);

	/* workers: single ids, ranges, the bounds */
	job = ok("scheduler-interval", "1s app:f scope=workers workers=1023,1-2,64-65");
	ck_assert_int_eq(nworkers(job), 5);
	ck_assert(has_worker(job, 1) && has_worker(job, 2) && has_worker(job, 64) && has_worker(job, 65) &&
			has_worker(job, 1023));
	usch_job_free(job);

	/* workers= without scope=workers would be ignored: refused (the job
	 * would run on every worker, or once anywhere) */
	bad("scheduler-interval", "1s app:f workers=4", "workers= is for scope=workers (add it, or drop workers=)");

	/* each key once: a second value is an error, not a silent override */
	bad("scheduler-interval", "1s app:f timeout=1s timeout=5s", "duplicate key \"timeout\"");
	bad("scheduler-interval", "1s app:f id=a id=b", "duplicate key \"id\"");
	bad("scheduler-interval", "1s app:f tz=Asia/Tokyo paused=1 tz=Europe/Paris", "duplicate key \"tz\"");
	bad("scheduler-interval", "1s app:f args=[1] args=[2]", "duplicate key \"args\"");
	/* the same key with an empty value is still a second one */
	bad("scheduler-interval", "1s app:f app=/x app=", "duplicate key \"app\"");
	bad("scheduler-job",
			"{\"cron\": \"* * * * *\", \"target\": \"app:f\", \"timeout\": \"1s\", \"timeout\": \"5s\"}",
			"duplicate key \"timeout\"");
	bad("scheduler-job", "{\"cron\": \"* * * * *\", \"target\": \"app:f\", \"target\": \"app:g\"}",
			"duplicate key \"target\"");
	bad("scheduler-job", "{\"cron\": \"* * * * *\", \"cron\": \"0 * * * *\", \"target\": \"app:f\"}",
			"duplicate key \"cron\"");
	/* inside a value too: Python would silently keep the last one */
	bad("scheduler-cron", "0 9 * * * app:f kwargs={\"a\": 1, \"a\": 2}",
			"\"kwargs\": invalid JSON: duplicate object key near '\"a\"'");
}
END_TEST

/* context=: any ASCII identifier, soft keywords too; Python targets only */
START_TEST(context_names) {
	static const char *const names[] = { "ctx", "_", "_run_2", "Context", "match", "case", "type", "x9" };
	char line[128];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(line, sizeof(line), "1s app:f context=%s", names[i]);
		struct usch_job *job = ok("scheduler-interval", line);
		ck_assert_str_eq(job->context, names[i]);
		usch_job_free(job);
	}
	/* beside kwargs of other names, with python: and a dotted target */
	struct usch_job *job = ok("scheduler-cron",
			"0 9 * * * python:app.tasks:obj.run kwargs={\"c\": 1, \"ctx2\": 2} "
			"context=ctx");
	ck_assert_str_eq(job->context, "ctx");
	ck_assert_str_eq(job->kwargs_json, "{\"c\":1,\"ctx2\":2}");
	usch_job_free(job);
	job = ok("scheduler-job", "{\"interval\": \"1s\", \"target\": \"app:f\", \"context\": \"run\"}");
	ck_assert_str_eq(job->context, "run");
	usch_job_free(job);
}
END_TEST

START_TEST(json_values_with_spaces) {
	struct usch_job *job = ok("scheduler-cron",
			"0 9 * * * app:f args=[\"a b\", {\"k\": [1, 2]}] kwargs={\"x\": \"y z\", \"n\": null} "
			"id=\"my job\" app=\"/my app\" tz=\"Europe/Paris\" start=\"2026-12-01 10:00\"");
	ck_assert_str_eq(job->args_json, "[\"a b\",{\"k\":[1,2]}]");
	ck_assert_str_eq(job->kwargs_json, "{\"x\":\"y z\",\"n\":null}");
	ck_assert_str_eq(job->id, "my job");
	ck_assert_str_eq(job->app, "/my app");
	ck_assert_str_eq(usch_tz_name(job->tz), "Europe/Paris");
	ck_assert_int_eq(job->cold->start_us, unit_instant("2026-12-01T09:00:00Z"));
	usch_job_free(job);

	job = ok("scheduler-interval", "5m app:f args=[] kwargs={}");
	ck_assert_str_eq(job->args_json, "[]");
	ck_assert_str_eq(job->kwargs_json, "{}");
	usch_job_free(job);
}
END_TEST

START_TEST(tz_applies_before_start_and_end_in_any_order) {
	static const char *const lines[] = {
		"0 9 * * * app:f start=2026-12-01T10:00 end=2026-12-31 tz=Europe/Paris",
		"0 9 * * * app:f tz=Europe/Paris start=2026-12-01T10:00 end=2026-12-31",
		"0 9 * * * app:f end=2026-12-31 tz=Europe/Paris start=2026-12-01T10:00",
	};
	for (size_t i = 0; i < 3; i++) {
		struct usch_job *job = ok("scheduler-cron", lines[i]);
		int64_t start = job->cold->start_us, end = job->cold->end_us;
		usch_job_free(job);
		ck_assert_int_eq(start, unit_instant("2026-12-01T09:00:00Z"));
		ck_assert_int_eq(end, unit_instant("2026-12-30T23:00:00Z"));
	}
	/* an explicit offset is not reinterpreted */
	struct usch_job *job = ok("scheduler-cron", "0 9 * * * app:f start=2026-12-01T10:00:00Z tz=Europe/Paris");
	ck_assert_int_eq(job->cold->start_us, unit_instant("2026-12-01T10:00:00Z"));
	usch_job_free(job);
}
END_TEST

START_TEST(at_exactly_max_tokens) {
	/* 5 cron fields + the target + 57 words of its command + a key = 64 tokens */
	char line[2048] = "0 9 * * * exec:echo";
	for (int i = 0; i < 57; i++)
		strcat(line, " w");
	strcat(line, " paused=no");
	struct usch_job *job = ok("scheduler-cron", line);
	ck_assert_uint_eq(strlen(job->target), strlen("echo") + 57 * 2);
	usch_job_free(job);
}
END_TEST

/* -------------------------------------------------------- scheduler-job */

START_TEST(json_job_cron) {
	const char *line = "{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"id\": \"j1\", "
			   "\"args\": [1, \"a b\"], \"kwargs\": {\"k\": [1, 2]}, \"tz\": \"Europe/Paris\", "
			   "\"paused\": true, \"max-running\": 3, \"coalesce\": \"earliest\", \"scope\": \"once\", "
			   "\"jitter\": \"5s\", \"misfire-grace\": \"1m\", \"timeout\": \"2h\", \"app\": \"/my app\", "
			   "\"context\": \"ctx\"}";
	struct usch_job *job = ok("scheduler-job", line);
	ck_assert_str_eq(job->id, "j1");
	ck_assert_int_eq(job->kind, USCH_TARGET_PYTHON);
	ck_assert_str_eq(job->target, "app:f");
	ck_assert_str_eq(describe(job), "cron \"0 9 * * *\"");
	ck_assert_str_eq(job->args_json, "[1,\"a b\"]");
	ck_assert_str_eq(job->kwargs_json, "{\"k\":[1,2]}");
	ck_assert_str_eq(usch_tz_name(job->tz), "Europe/Paris");
	ck_assert_int_eq(job->paused, 1);
	ck_assert_int_eq(job->max_running, 3);
	ck_assert_int_eq(job->coalesce, USCH_COALESCE_EARLIEST);
	ck_assert_int_eq(job->scope, USCH_SCOPE_ONCE);
	ck_assert_int_eq(job->cold->jitter_us, 5 * SEC);
	ck_assert_int_eq(job->cold->misfire_grace_us, 60 * SEC);
	ck_assert_int_eq(job->timeout_us, 7200 * SEC);
	ck_assert_str_eq(job->app, "/my app");
	ck_assert_str_eq(job->context, "ctx");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-25T08:00:00Z"));
	usch_job_free(job);
}
END_TEST

START_TEST(json_job_interval_and_at) {
	struct usch_job *job = ok("scheduler-job",
			"{\"interval\": \"1h 30m\", \"target\": \"exec:echo hi there\", "
			"\"start\": \"2026-11-24T08:00:00Z\", \"end\": \"2026-11-24 12:00\"}");
	ck_assert_int_eq(job->kind, USCH_TARGET_EXEC);
	ck_assert_str_eq(job->target, "echo hi there");
	ck_assert_str_eq(job->id, "exec:echo hi there");
	ck_assert_str_eq(describe(job), "interval 1h30m");
	ck_assert_int_eq(job->anchored, 1);
	ck_assert_int_eq(job->cold->start_us, unit_instant("2026-11-24T08:00:00Z"));
	ck_assert_int_eq(job->cold->end_us, unit_instant("2026-11-24T12:00:00Z"));
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-24T09:30:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-11-24T11:00:00Z")), INT64_MAX);
	usch_job_free(job);

	job = ok("scheduler-job", "{\"at\": \"2026-12-01 10:00\", \"target\": \"rpc:ping\", \"tz\": \"Europe/Paris\"}");
	ck_assert_int_eq(job->kind, USCH_TARGET_RPC);
	ck_assert_str_eq(job->target, "ping");
	ck_assert_int_eq(next(job, W0), unit_instant("2026-12-01T09:00:00Z"));
	usch_job_free(job);

	job = ok("scheduler-job",
			"{\"interval\": \"1 month\", \"target\": \"signal:3\", "
			"\"scope\": \"workers\", \"workers\": \"2-3\"}");
	ck_assert_int_eq(job->kind, USCH_TARGET_SIGNAL);
	ck_assert_str_eq(describe(job), "every 1 month");
	ck_assert_int_eq(job->scope, USCH_SCOPE_WORKERS);
	ck_assert_int_eq(nworkers(job), 2);
	ck_assert(has_worker(job, 2) && has_worker(job, 3));
	ck_assert_int_eq(next(job, W0), unit_instant("2026-12-24T09:00:00Z"));
	usch_job_free(job);

	job = ok("scheduler-job", "{\"cron\": \"@start\", \"target\": \"app:f\", \"id\": 7}");
	ck_assert_int_eq(job->start_on_boot, 1);
	ck_assert_str_eq(job->id, "7");
	usch_job_free(job);
}
END_TEST

START_TEST(json_job_rebuilt_line_grows) {
	/* 1e-7 is written back as 9.9999999999999995e-08: the rebuilt line
	 * outgrows its first buffer */
	char line[4096] = "{\"interval\": \"1h\", \"target\": \"app:f\", \"args\": [1e-7";
	for (int i = 0; i < 300; i++)
		strcat(line, ",1e-7");
	strcat(line, "]}");
	struct usch_job *job = ok("scheduler-job", line);
	json_t *args = json_loads(job->args_json, 0, NULL);
	ck_assert_ptr_nonnull(args);
	ck_assert_uint_eq(json_array_size(args), 301);
	ck_assert(json_real_value(json_array_get(args, 300)) == 1e-7);
	json_decref(args);
	usch_job_free(job);
}
END_TEST

/* ----------------------------------------------------- usch_decl_finish */

/* Intervals come from a jobs file, the rest from the ini. */
static const char *where_by_option(const struct usch_job *job, char *buf, size_t len) {
	snprintf(buf, len, "%s", strcmp(usch_job_option(job), "scheduler-interval") ? "" : "jobs.ini:7: ");
	return buf;
}

START_TEST(json_job_combinators) {
	/* OR: 09:00 every day, or every Monday at 12:00 */
	struct usch_job *job = ok("scheduler-job",
			"{\"or\": [{\"cron\": \"0 9 * * *\"}, {\"cron\": \"0 12 * * mon\"}], \"target\": \"app:f\"}");
	ck_assert_int_eq(usch_trigger_kind(job->trigger), USCH_TRIGGER_OR);
	ck_assert_int_eq(job->anchored, 1);
	/* W0 is Tuesday 2026-11-24T09:00Z */
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-25T09:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-11-29T09:00:00Z")), unit_instant("2026-11-30T09:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-11-30T09:00:00Z")), unit_instant("2026-11-30T12:00:00Z"));
	usch_job_free(job);

	/* AND: every 6 hours from 2026-11-24T00:00Z, but only on weekdays at 12:xx */
	job = ok("scheduler-job",
			"{\"and\": [{\"interval\": \"6h\"}, {\"cron\": \"0 12 * * mon-fri\"}], "
			"\"target\": \"app:g\", \"start\": \"2026-11-24T00:00:00Z\"}");
	ck_assert_int_eq(usch_trigger_kind(job->trigger), USCH_TRIGGER_AND);
	ck_assert_int_eq(next(job, W0), unit_instant("2026-11-24T12:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-11-27T12:00:00Z")), unit_instant("2026-11-30T12:00:00Z"));
	usch_job_free(job);

	/* every: the calendar form as a JSON key */
	job = ok("scheduler-job",
			"{\"every\": \"1 month\", \"target\": \"app:h\", "
			"\"start\": \"2026-01-31T08:00:00Z\"}");
	ck_assert_int_eq(next(job, unit_instant("2026-02-01T00:00:00Z")), unit_instant("2026-02-28T08:00:00Z"));
	ck_assert_int_eq(next(job, unit_instant("2026-02-28T08:00:00Z")), unit_instant("2026-03-31T08:00:00Z"));
	usch_job_free(job);

	bad("scheduler-job", "{\"and\": [], \"target\": \"app:f\"}", "\"and\" needs an array of one or more triggers");
	bad("scheduler-job", "{\"or\": \"0 9 * * *\", \"target\": \"app:f\"}", "\"or\" must be an array of triggers");
	bad("scheduler-job", "{\"or\": [{\"cron\": \"0 9 * * *\", \"at\": \"2027-01-01\"}], \"target\": \"app:f\"}",
			"\"or\" element 1: expected an object with one of \"cron\", \"interval\", \"every\" or \"at\"");
	bad("scheduler-job",
			"{\"and\": [{\"cron\": \"0 9 * * *\"}, {\"cron\": \"0 25 * * *\"}], \"target\": \"app:f\"}",
			"field 2 (hour): 25 is out of range 0-23");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"or\": [{\"cron\": \"0 9 * * *\"}], \"target\": \"app:f\"}",
			"\"cron\" and \"or\" both given: one trigger per job");
}
END_TEST

START_TEST(finish_numbers_jobs_and_finds_duplicates) {
	struct usch_job *jobs[3];
	jobs[0] = ok("scheduler-cron", "0 9 * * * app:f");
	jobs[1] = ok("scheduler-interval", "1h app:f id=other");
	jobs[2] = ok("scheduler-at", "2026-12-01T10:00:00Z rpc:x");
	err[0] = 0;
	ck_assert_int_eq(usch_decl_finish(jobs, 3, NULL, NULL, err, sizeof(err)), 0);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(jobs[i]->index, i);
	usch_job_free(jobs[1]);
	usch_job_free(jobs[2]);

	jobs[1] = ok("scheduler-interval", "1h rpc:x");
	jobs[2] = ok("scheduler-interval", "1h app:f");
	int ret = usch_decl_finish(jobs, 3, NULL, NULL, err, sizeof(err));
	for (size_t i = 0; i < 3; i++)
		usch_job_free(jobs[i]);
	ck_assert_int_eq(ret, -1);
	ck_assert_str_eq(err,
			"scheduler-interval \"1h app:f\": duplicate job id \"app:f\" "
			"(also scheduler-cron \"0 9 * * * app:f\"): give one of them id=...");

	/* explicit ids collide too, and name both lines */
	jobs[0] = ok("scheduler-cron", "0 9 * * * app:f id=x");
	jobs[1] = ok("scheduler-job", "{\"interval\": \"1h\", \"target\": \"app:g\", \"id\": \"x\"}");
	ret = usch_decl_finish(jobs, 2, NULL, NULL, err, sizeof(err));
	usch_job_free(jobs[0]);
	usch_job_free(jobs[1]);
	ck_assert_int_eq(ret, -1);
	ck_assert_str_eq(err,
			"scheduler-job \"{\"interval\": \"1h\", \"target\": \"app:g\", \"id\": \"x\"}\": "
			"duplicate job id \"x\" (also scheduler-cron \"0 9 * * * app:f id=x\"): give one of them id=...");

	/* each declaration after where it is, as the caller says it */
	jobs[0] = ok("scheduler-cron", "0 9 * * * app:f id=x");
	jobs[1] = ok("scheduler-interval", "1h app:g id=x");
	ret = usch_decl_finish(jobs, 2, NULL, where_by_option, err, sizeof(err));
	usch_job_free(jobs[0]);
	usch_job_free(jobs[1]);
	ck_assert_int_eq(ret, -1);
	ck_assert_str_eq(err,
			"jobs.ini:7: scheduler-interval \"1h app:g id=x\": duplicate job id \"x\" "
			"(also scheduler-cron \"0 9 * * * app:f id=x\"): give one of them id=...");

	ck_assert_int_eq(usch_decl_finish(jobs, 0, NULL, NULL, err, sizeof(err)), 0);
}
END_TEST

START_TEST(retries_and_their_delays) {
	struct usch_job *job = ok("scheduler-cron", "0 9 * * * app:f");
	ck_assert_int_eq(job->retries, 0);
	ck_assert_int_eq(job->cold->retry_delay_us, SEC);
	usch_job_free(job);
	job = ok("scheduler-cron", "0 9 * * * app:f retries=5 retry-delay=10s retry-backoff=1.5 retry-max-delay=30s");
	ck_assert_int_eq(job->retries, 5);
	/* after attempt 1: 10 s; 2: 15 s; 3: 22.5 s; then capped at 30 s */
	ck_assert_int_eq(usch_job_retry_delay(job, 1), 10 * SEC);
	ck_assert_int_eq(usch_job_retry_delay(job, 2), 15 * SEC);
	ck_assert_int_eq(usch_job_retry_delay(job, 3), 22500000);
	ck_assert_int_eq(usch_job_retry_delay(job, 4), 30 * SEC);
	ck_assert_int_eq(usch_job_retry_delay(job, 100), 30 * SEC);
	usch_job_free(job);
	/* the defaults: 1 s, doubling, no cap (no overflow either) */
	job = ok("scheduler-cron", "0 9 * * * app:f retries=100");
	ck_assert_int_eq(usch_job_retry_delay(job, 1), SEC);
	ck_assert_int_eq(usch_job_retry_delay(job, 4), 8 * SEC);
	ck_assert_int_gt(usch_job_retry_delay(job, 100), 0);
	usch_job_free(job);
}
END_TEST

START_TEST(overlap_policies) {
	struct usch_job *job = ok("scheduler-cron", "0 9 * * * app:f");
	ck_assert_int_eq(job->overlap, USCH_OVERLAP_SKIP);
	usch_job_free(job);
	job = ok("scheduler-interval", "1m rpc:reindex overlap=queue");
	ck_assert_int_eq(job->overlap, USCH_OVERLAP_QUEUE);
	usch_job_free(job);
	job = ok("scheduler-interval", "1m exec:sync.sh overlap=replace max-running=2");
	ck_assert_int_eq(job->overlap, USCH_OVERLAP_REPLACE);
	usch_job_free(job);
	job = ok("scheduler-job",
			"{\"interval\": \"1m\", \"target\": \"app:f\", \"overlap\": \"replace\", "
			"\"scope\": \"once\"}");
	ck_assert_int_eq(job->overlap, USCH_OVERLAP_REPLACE);
	usch_job_free(job);
	bad("scheduler-interval", "1m app:f overlap=wait", "overlap=wait: expected skip, queue or replace");
	bad("scheduler-interval", "1m rpc:x overlap=replace",
			"overlap=replace: a running rpc: call cannot be stopped, only a Python run or an exec: command (use "
			"overlap=queue or skip)");
	bad("scheduler-interval", "1m signal:3 overlap=replace",
			"overlap=replace: a running signal: call cannot be stopped, only a Python run or an exec: command "
			"(use overlap=queue or skip)");
}
END_TEST

START_TEST(hooks) {
	struct usch_job *job = ok("scheduler-cron",
			"0 9 * * * app:f id=backup tz=Europe/Paris timeout=5m app=/b on-failure=alerts:page "
			"on-success=\"exec:curl -fsS https://hc.example/ping\"");
	struct usch_job *f = job->on_failure, *s = job->on_success;
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(f->id, "backup/on-failure");
	ck_assert_int_eq(f->kind, USCH_TARGET_PYTHON);
	ck_assert_str_eq(f->target, "alerts:page");
	ck_assert_str_eq(f->context, "context");
	ck_assert_str_eq(f->app, "/b");
	ck_assert_ptr_eq(f->tz, job->tz);
	ck_assert_int_eq(f->timeout_us, 300 * SEC);
	ck_assert_ptr_null(f->trigger);
	ck_assert_ptr_null(f->on_failure);
	ck_assert_str_eq(s->id, "backup/on-success");
	ck_assert_int_eq(s->kind, USCH_TARGET_EXEC);
	ck_assert_str_eq(s->target, "curl -fsS https://hc.example/ping");
	ck_assert_ptr_null(s->context);
	usch_job_free(job);
	job = ok("scheduler-job",
			"{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"on-failure\": \"rpc:alert\", "
			"\"on-success\": \"signal:7\"}");
	ck_assert_int_eq(job->on_failure->kind, USCH_TARGET_RPC);
	ck_assert_str_eq(job->on_failure->target, "alert");
	ck_assert_int_eq(job->on_success->kind, USCH_TARGET_SIGNAL);
	ck_assert_int_eq(job->on_success->signum, 7);
	ck_assert_str_eq(job->on_failure->id, "app:f/on-failure");
	usch_job_free(job);
}
END_TEST

START_TEST(errors_retries_and_hooks) {
	bad("scheduler-cron", "0 9 * * * app:f retries=-1", "retries=-1: expected a whole number in 0-100");
	bad("scheduler-cron", "0 9 * * * app:f retries=101", "retries=101: expected a whole number in 0-100");
	bad("scheduler-cron", "0 9 * * * app:f retry-delay=5s",
			"retry-delay=5s: there are no retries to space (add retries=N, or drop retry-delay=)");
	bad("scheduler-cron", "0 9 * * * app:f retries=0 retry-backoff=3",
			"retry-backoff=3: there are no retries to space (add retries=N, or drop retry-backoff=)");
	bad("scheduler-cron", "0 9 * * * app:f retries=2 retry-delay=0s", "retry-delay=0s: must be greater than 0");
	bad("scheduler-cron", "0 9 * * * app:f retries=2 retry-backoff=0.5",
			"retry-backoff=0.5: expected a number in 1-100");
	bad("scheduler-cron", "0 9 * * * app:f retries=2 retry-backoff=inf",
			"retry-backoff=inf: expected a number in 1-100");
	bad("scheduler-cron", "0 9 * * * app:f retries=2 retry-backoff=1e3",
			"retry-backoff=1e3: expected a number in 1-100");
	bad("scheduler-cron", "0 9 * * * app:f retries=2 retry-backoff=101",
			"retry-backoff=101: expected a number in 1-100");
	bad("scheduler-cron", "0 9 * * * app:f retries=2 retry-delay=1m retry-max-delay=30s",
			"retry-max-delay=30s: shorter than retry-delay (1m)");
	bad("scheduler-cron", "0 9 * * * app:f retries=2 retry-max-delay=500ms",
			"retry-max-delay=500ms: shorter than retry-delay (1s)");
	bad("scheduler-cron", "0 9 * * * app:f on-failure=", "on-failure= needs a value");
	bad("scheduler-cron", "0 9 * * * app:f on-failure=page",
			"on-failure=page: expected a target: module:function, rpc:NAME, signal:N or exec:COMMAND");
	bad("scheduler-cron", "0 9 * * * app:f on-success=signal:300",
			"on-success \"signal:300\": signal: needs a uWSGI signal number 0-255");
	bad("scheduler-cron", "0 9 * * * app:f on-failure=exec:", "on-failure \"exec:\": exec: needs a command");
	bad("scheduler-cron", "0 9 * * * app:f on-failure=rpc:", "on-failure \"rpc:\": rpc: needs a function name");
	bad("scheduler-cron", "0 9 * * * app:f on-failure=a-b:c",
			"on-failure=a-b:c: expected a target: module:function, rpc:NAME, signal:N or exec:COMMAND");
	bad("scheduler-cron", "0 9 * * * app:f on-failure=a.:c",
			"on-failure \"a.:c\": expected module:function (e.g. app.tasks:cleanup)");
}
END_TEST

/* -------------------------------------------------------------- errors */

#define UNITS "(use us, ms, s, m, h, d, w)"
#define KNOWN \
	"(known: id, args, kwargs, context, tz, jitter, misfire-grace, coalesce, max-running, overlap, timeout, " \
	"start, end, paused, scope, workers, legion, app, catch-up, interrupted, retries, retry-delay, retry-backoff, " \
	"retry-max-delay, on-failure, on-success)"
#define DT_HINT "(use e.g. 2026-11-24T09:00:00+01:00, 2026-11-24 09:00 or 2026-11-24)"
#define WORKERS "expected worker ids (1-1023) like 1,3 or 2-4"

START_TEST(errors_structure) {
	bad("scheduler-cron", "0 9 * * *",
			"no target: expected module:function, rpc:name, signal:N or exec:command after the cron");
	bad("scheduler-interval", "30s",
			"no target: expected module:function, rpc:name, signal:N or exec:command after the interval");
	bad("scheduler-at", "2026-12-01T10:00:00Z",
			"no target: expected module:function, rpc:name, signal:N or exec:command after the at");
	bad("scheduler-cron", "",
			"no target: expected module:function, rpc:name, signal:N or exec:command after the cron");
	/* a key is not a target even with a colon in its value */
	bad("scheduler-cron", "0 9 * * * id=a:b",
			"no target: expected module:function, rpc:name, signal:N or exec:command after the cron");
	bad("scheduler-cron", "app:f", "missing the cron expression before the target");
	bad("scheduler-cron", "   app:f", "missing the cron expression before the target");
	bad("scheduler-interval", "app:f", "missing the interval before the target");
	bad("scheduler-at", "app:f", "missing the date and time before the target");
	bad("scheduler-cron", "0 9 * * * app:f paused", "\"paused\": expected key=value after the target");
	bad("scheduler-cron", "0 9 * * * app:f app:g", "\"app:g\": expected key=value after the target");
	bad("scheduler-cron", "0 9 * * * app:f =1", "\"=1\": expected key=value after the target");
	bad("scheduler-cron", "0 9 * * * app:f id:x", "\"id:x\": expected key=value after the target");
	bad("scheduler-cron", "0 9 * * * app:f id=a b", "\"b\": expected key=value after the target");
	bad("scheduler-cron", "0 9 * * * app:f foo=1", "unknown key \"foo\" " KNOWN);
	bad("scheduler-cron", "0 9 * * * app:f max_running=2", "unknown key \"max_running\" " KNOWN);
	bad("scheduler-cron", "0 9 * * * app:f Id=x", "unknown key \"Id\" " KNOWN);

	char line[2048];
	/* 5 + 1 + 59 = 65 tokens */
	strcpy(line, "0 9 * * * exec:echo");
	for (int i = 0; i < 59; i++)
		strcat(line, " w");
	bad("scheduler-cron", line, "too many tokens (at most 64)");

	/* the trigger text is bounded */
	strcpy(line, "0");
	for (int i = 0; i < 300; i++)
		strcat(line, ",0");
	strcat(line, " 9 * * * app:f");
	bad("scheduler-cron", line, "the cron expression is too long");
	strcpy(line, "2026-12-01");
	for (int i = 0; i < 60; i++)
		strcat(line, " 10:00:00");
	strcat(line, " app:f");
	bad("scheduler-at", line, "the date and time is too long");
	strcpy(line, "1h");
	for (int i = 0; i < 60; i++)
		strcat(line, " 1m1s1ms1us");
	strcat(line, " app:f");
	bad("scheduler-interval", line, "the interval is too long");

	/* not a job option at all: no line to quote */
	struct usch_job *job = parse_in("scheduler-foo", "0 9 * * * app:f", NULL);
	ck_assert_ptr_null(job);
	ck_assert_str_eq(err, "scheduler-foo: not a job option");
}
END_TEST

START_TEST(errors_json_values) {
	bad("scheduler-cron", "0 9 * * * app:f args=[1,", "\"args\": invalid JSON: ']' expected near end of file");
	bad("scheduler-cron", "0 9 * * * app:f kwargs={\"a\" 1}", "\"kwargs\": invalid JSON: ':' expected near '1'");
	bad("scheduler-cron", "0 9 * * * app:f id=\"abc", "\"id\": invalid JSON: premature end of input near '\"abc'");
	bad("scheduler-cron", "0 9 * * * app:f args=[1]x", "\"args\": unexpected text after the JSON value");
	bad("scheduler-cron", "0 9 * * * app:f args=[1]] id=x", "\"args\": unexpected text after the JSON value");
	bad("scheduler-cron", "0 9 * * * app:f id=\"a\"b", "\"id\": unexpected text after the JSON value");
	bad("scheduler-cron", "0 9 * * * app:f args=1", "args=1: expected a JSON array");
	bad("scheduler-cron", "0 9 * * * app:f args=", "args=: expected a JSON array");
	bad("scheduler-cron", "0 9 * * * app:f args={\"a\": 1}", "args={\"a\": 1}: expected a JSON array");
	bad("scheduler-cron", "0 9 * * * app:f args=\"x\"", "args=\"x\": expected a JSON array");
	bad("scheduler-cron", "0 9 * * * app:f kwargs=[1, 2]", "kwargs=[1, 2]: expected a JSON object");
	bad("scheduler-cron", "0 9 * * * app:f kwargs=a", "kwargs=a: expected a JSON object");
}
END_TEST

START_TEST(errors_key_values) {
	bad("scheduler-cron", "0 9 * * * app:f id=", "id= needs a value");
	bad("scheduler-cron", "0 9 * * * app:f id=\"\"", "id= needs a value");
	bad("scheduler-cron", "0 9 * * * app:f app=", "app= needs a value");
	bad("scheduler-cron", "0 9 * * * app:f tz=", "tz= needs a value");
	bad("scheduler-cron", "0 9 * * * app:f coalesce=", "coalesce= needs a value");
	bad("scheduler-cron", "0 9 * * * app:f tz=Nowhere/Zone",
			"tz=Nowhere/Zone: unknown time zone \"Nowhere/Zone\" (no /usr/share/zoneinfo/Nowhere/Zone)");
	bad("scheduler-cron", "0 9 * * * app:f jitter=5", "jitter=5: \"5\" needs a unit " UNITS);
	bad("scheduler-cron", "0 9 * * * app:f jitter=5x", "jitter=5x: unknown unit \"x\" " UNITS);
	bad("scheduler-cron", "0 9 * * * app:f misfire-grace=soon",
			"misfire-grace=soon: missing number before \"soon\"");
	bad("scheduler-cron", "0 9 * * * app:f misfire-grace=0s", "misfire-grace=0s: must be greater than 0");
	bad("scheduler-cron", "0 9 * * * app:f timeout=0s", "timeout=0s: must be greater than 0");
	bad("scheduler-cron", "0 9 * * * app:f timeout=-1s", "timeout=-1s: a duration cannot be negative");
	bad("scheduler-cron", "0 9 * * * app:f max-running=0", "max-running=0: expected a whole number in 1-1000");
	bad("scheduler-cron", "0 9 * * * app:f max-running=1001",
			"max-running=1001: expected a whole number in 1-1000");
	bad("scheduler-cron", "0 9 * * * app:f max-running=2x", "max-running=2x: expected a whole number in 1-1000");
	bad("scheduler-cron", "0 9 * * * app:f max-running=many",
			"max-running=many: expected a whole number in 1-1000");
	bad("scheduler-cron", "0 9 * * * app:f max-running=99999999999999999999",
			"max-running=99999999999999999999: expected a whole number in 1-1000");
	bad("scheduler-cron", "0 9 * * * app:f coalesce=first", "coalesce=first: expected earliest, latest or all");
	bad("scheduler-cron", "0 9 * * * app:f coalesce=ALL", "coalesce=ALL: expected earliest, latest or all");
	bad("scheduler-cron", "0 9 * * * app:f scope=one", "scope=one: expected all, once, workers or cluster");
	bad("scheduler-cron", "0 9 * * * app:f paused=maybe", "paused=maybe: expected true or false");
	bad("scheduler-cron", "0 9 * * * app:f paused=TRUE", "paused=TRUE: expected true or false");
	bad("scheduler-cron", "0 9 * * * app:f scope=workers", "scope=workers needs workers=<ids>, e.g. workers=1");
	/* the first bad key is reported, tz= before the others */
	bad("scheduler-cron", "0 9 * * * app:f coalesce=x tz=Bad/Zone",
			"tz=Bad/Zone: unknown time zone \"Bad/Zone\" (no /usr/share/zoneinfo/Bad/Zone)");
}
END_TEST

#define IDENT "expected a Python identifier (ASCII letters, digits, _)"
#define ONLY_PY "only Python targets take a context; "

START_TEST(errors_context) {
	bad("scheduler-cron", "0 9 * * * app:f context=x-y", "context=x-y: " IDENT);
	bad("scheduler-cron", "0 9 * * * app:f context=1x", "context=1x: " IDENT);
	bad("scheduler-cron", "0 9 * * * app:f context=a.b", "context=a.b: " IDENT);
	bad("scheduler-cron", "0 9 * * * app:f context=\"a b\"", "context=a b: " IDENT);
	bad("scheduler-cron", "0 9 * * * app:f context=\"\u00e9t\u00e9\"", "context=\u00e9t\u00e9: " IDENT);
	bad("scheduler-cron", "0 9 * * * app:f context=", "context= needs a value");
	bad("scheduler-cron", "0 9 * * * app:f context=\"\"", "context= needs a value");
	bad("scheduler-cron", "0 9 * * * app:f context=class",
			"context=class: expected a Python identifier, not a keyword");
	bad("scheduler-cron", "0 9 * * * app:f context=None",
			"context=None: expected a Python identifier, not a keyword");
	bad("scheduler-cron", "0 9 * * * app:f context=ctx context=run", "duplicate key \"context\"");
	/* Python targets only */
	bad("scheduler-cron", "0 9 * * * rpc:report context=ctx", "context=ctx: " ONLY_PY "rpc: functions take none");
	bad("scheduler-cron", "0 9 * * * signal:17 context=ctx", "context=ctx: " ONLY_PY "signal: targets take none");
	bad("scheduler-cron", "0 9 * * * exec:/usr/bin/backup --all context=ctx",
			"context=ctx: " ONLY_PY "exec: commands get SCHEDULER_* environment variables instead");
	/* ... whose kwargs do not have the name already */
	bad("scheduler-cron", "0 9 * * * app:f kwargs={\"a\": 1, \"ctx\": 2} context=ctx",
			"context=ctx: kwargs already has a key \"ctx\"");
	bad("scheduler-cron", "0 9 * * * app:f context=ctx kwargs={\"ctx\": null}",
			"context=ctx: kwargs already has a key \"ctx\"");
	/* the JSON form says the same */
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"context\": \"x-y\"}",
			"context=x-y: " IDENT);
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"context\": 5}", "context=5: " IDENT);
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"context\": \"\"}",
			"context= needs a value");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": \"exec:true\", \"context\": \"ctx\"}",
			"context=ctx: " ONLY_PY "exec: commands get SCHEDULER_* environment variables instead");
	bad("scheduler-job",
			"{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"kwargs\": {\"ctx\": 1}, \"context\": \"ctx\"}",
			"context=ctx: kwargs already has a key \"ctx\"");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"context\": \"a\", \"context\": \"b\"}",
			"duplicate key \"context\"");
}
END_TEST

START_TEST(errors_workers) {
	bad("scheduler-cron", "0 9 * * * app:f workers=0", "workers=0: " WORKERS);
	bad("scheduler-cron", "0 9 * * * app:f workers=1024", "workers=1024: " WORKERS);
	bad("scheduler-cron", "0 9 * * * app:f workers=x", "workers=x: " WORKERS);
	bad("scheduler-cron", "0 9 * * * app:f workers=,1", "workers=,1: " WORKERS);
	bad("scheduler-cron", "0 9 * * * app:f workers=1,,2", "workers=1,,2: " WORKERS);
	bad("scheduler-cron", "0 9 * * * app:f workers=1,", "workers=1,: " WORKERS);
	bad("scheduler-cron", "0 9 * * * app:f workers=3-2", "workers=3-2: bad range after 3");
	bad("scheduler-cron", "0 9 * * * app:f workers=1-", "workers=1-: bad range after 1");
	bad("scheduler-cron", "0 9 * * * app:f workers=1-1024", "workers=1-1024: bad range after 1");
	bad("scheduler-cron", "0 9 * * * app:f workers=1;2", "workers=1;2: unexpected \";\"");
	bad("scheduler-cron", "0 9 * * * app:f workers=1-2-3", "workers=1-2-3: unexpected \"-\"");
	bad("scheduler-cron", "0 9 * * * app:f workers=", "workers= needs a value");
}
END_TEST

START_TEST(errors_window) {
	bad("scheduler-cron", "0 9 * * * app:f start=tomorrow", "start=tomorrow: not a date-time " DT_HINT);
	bad("scheduler-cron", "0 9 * * * app:f end=2026-13-01", "end=2026-13-01: month 13 is out of range 1-12");
	bad("scheduler-cron", "0 9 * * * app:f start=", "start=: empty date-time " DT_HINT);
	bad("scheduler-cron", "0 9 * * * app:f start=\"2026-12-01 25:00\"",
			"start=2026-12-01 25:00: hour 25 is out of range 0-23");
	bad("scheduler-cron", "0 9 * * * app:f start=2026-12-02 end=2026-12-01", "start= is after end=");
	bad("scheduler-at", "2026-12-01T10:00:00Z app:f start=2026-12-02 end=2026-12-01", "start= is after end=");
	bad("scheduler-interval", "1h app:f start=2026-12-02 end=2026-12-01", "start= is after end=");
	bad("scheduler-interval", "1 day app:f start=2026-12-02 end=2026-12-01", "start= is after end=");
	/* a calendar interval without start= starts now */
	bad("scheduler-interval", "1 day app:f end=2020-01-01", "end= is in the past");
	/* without start= an interval runs on each worker's elapsed time */
	bad("scheduler-interval", "30s app:f end=2026-12-01",
			"end= on an interval needs start= too (without start= the interval counts from each worker's start)");
	/* the same bounds are fine on a wall-clock trigger */
	struct usch_job *job = ok("scheduler-cron", "0 9 * * * app:f end=2020-01-01");
	ck_assert_int_eq(next(job, W0), INT64_MAX);
	usch_job_free(job);
}
END_TEST

START_TEST(errors_triggers) {
	bad("scheduler-cron", "*/0 * * * * app:f", "field 1 (minute): step 0 must be >= 1");
	bad("scheduler-cron", "@every app:f", "unknown macro \"@every\"");
	bad("scheduler-interval", "0s app:f", "\"0s\": the interval must be at least 1ms");
	bad("scheduler-interval", "0h 0m app:f", "\"0h 0m\": the interval must be at least 1ms");
	bad("scheduler-interval", "999us app:f", "\"999us\": the interval must be at least 1ms");
	/* control characters: refused, and never echoed raw into the log */
	struct usch_job *job = parse_in("scheduler-interval", "1s app:f \x01=1", usch_tz_utc());
	ck_assert_ptr_null(job);
	ck_assert_str_eq(err,
			"scheduler-interval \"1s app:f \\x01=1\": control character \\x01 at byte 10: a "
			"declaration is text");
	bad("scheduler-job", "{\"interval\": \"1s\", \"target\": \"app:f\", \"id\": \"a\\u0002b\"}",
			"the job id has a control character: give it another id=");
	usch_job_free(ok("scheduler-interval", "1s\tapp:f\tid=tabs"));
	bad("scheduler-interval", "1s app:f workers=2", "workers= is for scope=workers (add it, or drop workers=)");
	bad("scheduler-interval", "1s app:f workers=2 scope=once",
			"workers= is for scope=workers (add it, or drop workers=)");
	usch_job_free(ok("scheduler-interval", "1ms app:f"));
	bad("scheduler-interval", "5x app:f", "\"5x\": unknown unit \"x\" " UNITS);
	bad("scheduler-interval", "30 app:f", "\"30\": \"30\" needs a unit " UNITS);
	bad("scheduler-interval", "30m 1h app:f",
			"\"30m 1h\": \"h\" after \"m\": units go from the largest to the smallest, each once (e.g. 1h30m)");
	bad("scheduler-interval", "0 days app:f", "\"0 days\": the count must be 1-100000");
	bad("scheduler-interval", "100001 years app:f", "\"100001 years\": the count must be 1-100000");
	bad("scheduler-interval", "-1 days app:f", "\"-1 days\": the count must be 1-100000");
	bad("scheduler-interval", "2 fortnights app:f",
			"\"2 fortnights\": unknown unit \"fortnights\" (use us, ms, s, m, h, d, w, or days, weeks, "
			"months, years)");
	bad("scheduler-at", "2026-13-01T00:00:00Z app:f", "\"2026-13-01T00:00:00Z\": month 13 is out of range 1-12");
	bad("scheduler-at", "tomorrow app:f", "\"tomorrow\": not a date-time " DT_HINT);
	bad("scheduler-at", "2026-12-01 10:00 UTC app:f",
			"\"2026-12-01 10:00 UTC\": unexpected \" UTC\" after the date-time " DT_HINT);
}
END_TEST

START_TEST(errors_targets) {
	bad("scheduler-cron", "0 9 * * * rpc:", "target \"rpc:\": rpc: needs a function name");
	bad("scheduler-cron", "0 9 * * * signal:", "target \"signal:\": signal: needs a uWSGI signal number 0-255");
	bad("scheduler-cron", "0 9 * * * signal:256",
			"target \"signal:256\": signal: needs a uWSGI signal number 0-255");
	bad("scheduler-cron", "0 9 * * * signal:-1", "target \"signal:-1\": signal: needs a uWSGI signal number 0-255");
	bad("scheduler-cron", "0 9 * * * signal:USR1",
			"target \"signal:USR1\": signal: needs a uWSGI signal number 0-255");
	bad("scheduler-cron", "0 9 * * * signal:1x", "target \"signal:1x\": signal: needs a uWSGI signal number 0-255");
	bad("scheduler-cron", "0 9 * * * exec:", "target \"exec:\": exec: needs a command");
	bad("scheduler-cron", "0 9 * * * exec: id=x", "target \"exec:\": exec: needs a command");
	bad("scheduler-cron", "0 9 * * * app:f-g",
			"target \"app:f-g\": \"-\" cannot appear in a Python module:function");
	bad("scheduler-cron", "0 9 * * * app:f()",
			"target \"app:f()\": \"(\" cannot appear in a Python module:function");
	bad("scheduler-cron", "0 9 * * * python:my-app:f",
			"target \"python:my-app:f\": \"-\" cannot appear in a Python module:function");
	bad("scheduler-cron", "0 9 * * * python:app", "target \"python:app\": expected python:module:function");
	bad("scheduler-cron", "0 9 * * * python:", "target \"python:\": expected python:module:function");
	bad("scheduler-cron", "0 9 * * * python::f",
			"target \"python::f\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * python:app:",
			"target \"python:app:\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * app:", "target \"app:\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * app:f:g",
			"target \"app:f:g\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * app:.f",
			"target \"app:.f\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * app:f.",
			"target \"app:f.\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * app.:f",
			"target \"app.:f\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * app..x:f",
			"target \"app..x:f\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * app:1f",
			"target \"app:1f\": expected module:function (e.g. app.tasks:cleanup)");
	bad("scheduler-cron", "0 9 * * * app.2x:f",
			"target \"app.2x:f\": expected module:function (e.g. app.tasks:cleanup)");
}
END_TEST

START_TEST(errors_json_job) {
	bad("scheduler-job", "[1]", "expected a JSON object: not an object");
	bad("scheduler-job", "\"app:f\"", "expected a JSON object: '[' or '{' expected near '\"app:f\"'");
	bad("scheduler-job", "{", "expected a JSON object: string or '}' expected near end of file");
	bad("scheduler-job", "", "expected a JSON object: '[' or '{' expected near end of file");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": \"app:f\"} x",
			"expected a JSON object: end of file expected near 'x'");
	bad("scheduler-job", "{\"cron\": 5, \"target\": \"app:f\"}", "\"cron\" must be a string");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": [\"app:f\"]}", "\"target\" must be a string");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"interval\": \"1h\", \"target\": \"app:f\"}",
			"\"cron\" and \"interval\" both given: one trigger per job");
	bad("scheduler-job", "{\"at\": \"2026-12-01\", \"target\": \"app:f\", \"cron\": \"0 9 * * *\"}",
			"\"at\" and \"cron\" both given: one trigger per job");
	bad("scheduler-job", "{\"target\": \"app:f\"}",
			"needs one of \"cron\", \"interval\", \"every\", \"at\", \"and\" or \"or\"");
	bad("scheduler-job", "{}", "needs one of \"cron\", \"interval\", \"every\", \"at\", \"and\" or \"or\"");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\"}", "needs a \"target\"");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"foo\": 1}", "unknown key \"foo\"");
	/* errors from the line parser are reported against the JSON */
	bad("scheduler-job", "{\"cron\": \"*/0 * * * *\", \"target\": \"app:f\"}",
			"field 1 (minute): step 0 must be >= 1");
	bad("scheduler-job", "{\"cron\": \"\", \"target\": \"app:f\"}",
			"missing the cron expression before the target");
	bad("scheduler-job", "{\"interval\": \"0s\", \"target\": \"app:f\"}",
			"\"0s\": the interval must be at least 1ms");
	bad("scheduler-job", "{\"interval\": \"1h\", \"target\": \"app\"}",
			"no target: expected module:function, rpc:name, signal:N or exec:command after the interval");
	bad("scheduler-job", "{\"interval\": \"1h\", \"target\": \"app:f-g\"}",
			"target \"app:f-g\": \"-\" cannot appear in a Python module:function");
	bad("scheduler-job", "{\"interval\": \"1h\", \"target\": \"app:f\", \"max-running\": 0}",
			"max-running=0: expected a whole number in 1-1000");
	bad("scheduler-job", "{\"interval\": \"1h\", \"target\": \"app:f\", \"args\": \"x\"}",
			"args=\"x\": expected a JSON array");
	bad("scheduler-job", "{\"interval\": \"1h\", \"target\": \"app:f\", \"kwargs\": [1]}",
			"kwargs=[1]: expected a JSON object");
	bad("scheduler-job", "{\"interval\": \"1h\", \"target\": \"app:f\", \"paused\": \"maybe\"}",
			"paused=maybe: expected true or false");
	bad("scheduler-job", "{\"interval\": \"1h\", \"target\": \"app:f\", \"start\": \"2026-13-01\"}",
			"start=2026-13-01: month 13 is out of range 1-12");
	bad("scheduler-job", "{\"at\": \"2026-12-01\", \"target\": \"app:f\", \"tz\": \"Mars/Olympus\"}",
			"tz=Mars/Olympus: unknown time zone \"Mars/Olympus\" (no /usr/share/zoneinfo/Mars/Olympus)");
	bad("scheduler-job", "{\"cron\": \"0 9 * * *\", \"target\": \"app:f\", \"scope\": \"workers\"}",
			"scope=workers needs workers=<ids>, e.g. workers=1");
}
END_TEST

START_TEST(errors_truncate_safely) {
	char small[24];
	struct usch_decl_env env = { .default_tz = NULL, .now_us = W0 };
	struct usch_job *job = usch_decl_parse("scheduler-cron", "0 9 * * * app:f foo=1", &env, small, sizeof(small));
	ck_assert_ptr_null(job);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_str_eq(small, "scheduler-cron \"0 9 * *");
	job = usch_decl_parse("scheduler-job", "{\"cron\": \"*/0 * * * *\", \"target\": \"app:f\"}", &env, small,
			sizeof(small));
	ck_assert_ptr_null(job);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

START_TEST(values_parsed_once) {
	/* signal: the number, kept as a number */
	struct usch_job *job = ok("scheduler-cron", "0 9 * * * signal:17");
	ck_assert_int_eq(job->signum, 17);
	usch_job_free(job);

	/* rpc: the arguments as uwsgi_rpc() takes them, made at declaration */
	job = ok("scheduler-cron", "0 9 * * * rpc:report args=[\"a b\", 2, null, {\"k\": [1]}, \"\"]");
	ck_assert_int_eq(job->cold->rpc.argc, 5);
	static const char *const want[] = { "a b", "2", "null", "{\"k\":[1]}", "" };
	for (int i = 0; i < 5; i++) {
		ck_assert_str_eq(job->cold->rpc.argv[i], want[i]);
		ck_assert_uint_eq(job->cold->rpc.argvs[i], strlen(want[i]));
	}
	usch_job_free(job);
	job = ok("scheduler-cron", "0 9 * * * rpc:ping");
	ck_assert_int_eq(job->cold->rpc.argc, 0);
	usch_job_free(job);
	/* lengths are bytes: UTF-8 text */
	job = ok("scheduler-cron", "0 9 * * * rpc:ping args=[\"\u00e9t\u00e9\"]");
	ck_assert_uint_eq(job->cold->rpc.argvs[0], 5);
	usch_job_free(job);
}
END_TEST

/* A line "0 9 * * * rpc:f args=[...]" with n arguments of len bytes. */
static char *rpc_line(int n, size_t len) {
	char *line = malloc((size_t) n * (len + 3) + 64);
	strcpy(line, "0 9 * * * rpc:f args=[");
	char *p = line + strlen(line);
	for (int i = 0; i < n; i++) {
		*p++ = i ? ',' : ' ';
		*p++ = '"';
		memset(p, 'x', len);
		p += len;
		*p++ = '"';
	}
	strcpy(p, "]");
	return line;
}

START_TEST(rpc_limits_at_declaration) {
	char *line = rpc_line(255, 1);
	struct usch_job *job = ok("scheduler-cron", line);
	ck_assert_int_eq(job->cold->rpc.argc, 255);
	usch_job_free(job);
	free(line);
	line = rpc_line(256, 1);
	bad("scheduler-cron", line, "args: an rpc: call takes at most 255 arguments (got 256)");
	free(line);
	line = rpc_line(2, 65535);
	job = ok("scheduler-cron", line);
	ck_assert_uint_eq(job->cold->rpc.argvs[1], 65535);
	usch_job_free(job);
	free(line);
	line = rpc_line(2, 65536);
	bad("scheduler-cron", line, "args: argument 1 of an rpc: call is 65536 bytes (at most 65535)");
	free(line);
	/* the limits are uwsgi_rpc()'s: other targets take any arguments */
	line = rpc_line(300, 1);
	memcpy(line + 10, "app:", 4);
	job = ok("scheduler-cron", line);
	usch_job_free(job);
	free(line);
}
END_TEST

START_TEST(finish_many_ids) {
	enum { N = 20000 };
	struct usch_job **jobs = calloc(N, sizeof(*jobs));
	char line[64];
	for (int i = 0; i < N; i++) {
		snprintf(line, sizeof(line), "1h app:f id=job%d", i);
		jobs[i] = ok("scheduler-interval", line);
	}
	ck_assert_int_eq(usch_decl_finish(jobs, N, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(jobs[N - 1]->index, N - 1);
	usch_job_free(jobs[N - 1]);
	jobs[N - 1] = ok("scheduler-interval", "1h app:g id=job7");
	ck_assert_int_eq(usch_decl_finish(jobs, N, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err,
			"scheduler-interval \"1h app:g id=job7\": duplicate job id \"job7\" "
			"(also scheduler-interval \"1h app:f id=job7\"): give one of them id=...");
	for (int i = 0; i < N; i++)
		usch_job_free(jobs[i]);
	free(jobs);
}
END_TEST

/* The README's key table is the one usch_keys makes (make readme-keys). */
START_TEST(readme_key_table) {
	FILE *f = fopen("README.md", "r");
	ck_assert_msg(f != NULL, "README.md: run the tests from the project root");
	static char readme[65536], table[8192];
	size_t n = fread(readme, 1, sizeof(readme) - 1, f);
	fclose(f);
	readme[n] = 0;
	FILE *m = fmemopen(table, sizeof(table), "w");
	usch_keys_markdown(m);
	fclose(m);
	ck_assert_msg(strstr(readme, table) != NULL, "README.md lacks the key table (make readme-keys):\n%s", table);
	/* the listing names values from the same rows */
	ck_assert_str_eq(usch_key_value_name("scope", USCH_SCOPE_ONCE), "once");
	ck_assert_str_eq(usch_key_value_name("coalesce", USCH_COALESCE_ALL), "all");
	ck_assert_str_eq(usch_key_value_name("scope", 99), "?");
	ck_assert_str_eq(usch_key_value_name("nokey", 0), "?");
}
END_TEST

int main(void) {
	Suite *s = suite_create("decl");
	TCase *tc = tcase_create("accepted");
	tcase_add_test(tc, cron_five_fields);
	tcase_add_test(tc, cron_six_and_seven_fields);
	tcase_add_test(tc, cron_macros);
	tcase_add_test(tc, cron_at_start);
	tcase_add_test(tc, cron_in_the_job_zone);
	tcase_add_test(tc, option_without_prefix);
	tcase_add_test(tc, interval_durations);
	tcase_add_test(tc, interval_anchored_by_start);
	tcase_add_test(tc, interval_calendar_units);
	tcase_add_test(tc, cluster_jobs);
	tcase_add_test(tc, interval_calendar_with_start_and_zone);
	tcase_add_test(tc, at_forms);
	tcase_add_test(tc, targets);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, key_values);
	tcase_add_test(tc, context_names);
	tcase_add_test(tc, json_values_with_spaces);
	tcase_add_test(tc, tz_applies_before_start_and_end_in_any_order);
	tcase_add_test(tc, at_exactly_max_tokens);
	tcase_add_test(tc, json_job_cron);
	tcase_add_test(tc, json_job_interval_and_at);
	tcase_add_test(tc, json_job_rebuilt_line_grows);
	tcase_add_test(tc, json_job_combinators);
	tcase_add_test(tc, finish_numbers_jobs_and_finds_duplicates);
	tcase_add_test(tc, finish_many_ids);
	tcase_add_test(tc, values_parsed_once);
	tcase_add_test(tc, rpc_limits_at_declaration);
	tcase_add_test(tc, readme_key_table);
	tcase_add_test(tc, retries_and_their_delays);
	tcase_add_test(tc, overlap_policies);
	tcase_add_test(tc, hooks);
	tcase_add_test(tc, cold_part_shared_by_defaults);
	suite_add_tcase(s, tc);
	TCase *te = tcase_create("errors");
	tcase_add_test(te, errors_structure);
	tcase_add_test(te, errors_json_values);
	tcase_add_test(te, errors_key_values);
	tcase_add_test(te, errors_retries_and_hooks);
	tcase_add_test(te, errors_context);
	tcase_add_test(te, errors_workers);
	tcase_add_test(te, errors_window);
	tcase_add_test(te, errors_triggers);
	tcase_add_test(te, errors_targets);
	tcase_add_test(te, errors_json_job);
	tcase_add_test(te, errors_truncate_safely);
	suite_add_tcase(s, te);
	return unit_run(s);
}
