/* decl_trigger.c - a declaration's trigger: from the text before the
 * target (or the JSON form's value) by the declaring option's kind, with
 * calendar units, and/or combinators and the start/end window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "chars.h"
#include "decl_impl.h"
#include "timefmt.h"
#include "trigger.h"

/* What the tokens before the target are, for messages. */
const char *decl_trigger_noun(const struct decl_ctx *c) {
	return !strcmp(c->kind, "cron") ? "cron expression" : !strcmp(c->kind, "at") ? "date and time" : "interval";
}

/* "N unit" with a calendar unit: a calendar interval. Returns 1 and sets
 * *out (NULL: the failure is already in c->err), or 0 when text is not of
 * that form. */
static int calendar_trigger(struct decl_ctx *c, const char *text, usch_trigger **out) {
	static const struct {
		const char *name;
		enum usch_cal_unit unit;
	} cal[] = {
		{ "day", USCH_CAL_DAYS },
		{ "days", USCH_CAL_DAYS },
		{ "week", USCH_CAL_WEEKS },
		{ "weeks", USCH_CAL_WEEKS },
		{ "month", USCH_CAL_MONTHS },
		{ "months", USCH_CAL_MONTHS },
		{ "year", USCH_CAL_YEARS },
		{ "years", USCH_CAL_YEARS },
	};
	struct usch_job *job = c->job;
	char *end;
	long n = strtol(text, &end, 10);
	*out = NULL;
	if (end == text || !usch_is_space(*end))
		return 0;
	while (usch_is_space(*end))
		end++;
	for (size_t i = 0; i < sizeof(cal) / sizeof(cal[0]); i++) {
		if (strcasecmp(end, cal[i].name))
			continue;
		if (n < 1 || n > 100000) {
			decl_fail(c, "\"%s\": the count must be 1-100000", text);
			return 1;
		}
		int64_t anchor = job->cold->start_us != INT64_MIN ? job->cold->start_us : c->env->now_us;
		char why[128];
		*out = usch_trigger_calendar((int) n, cal[i].unit, anchor, job->tz, why, sizeof(why));
		if (!*out)
			decl_fail(c, "%s", why);
		return 1;
	}
	/* "30 s" is a duration with a space: leave it to interval_trigger */
	char compact[64];
	int64_t ignored;
	char why[128];
	snprintf(compact, sizeof(compact), "%ld%s", n, end);
	if (usch_duration_parse(compact, &ignored, why, sizeof(why)) == 0)
		return 0;
	decl_fail(c, "\"%s\": unknown unit \"%s\" (use us, ms, s, m, h, d, w, or days, weeks, months, years)", text,
			end);
	return 1;
}

/* An interval: on each worker's elapsed time from its start, or - with
 * start=, inside and/or, or for a once-job (wall) - anchored at start (or
 * one interval after now) on the wall clock. */
#define MIN_INTERVAL_US 1000

static usch_trigger *interval_trigger(struct decl_ctx *c, const char *text, int wall) {
	struct usch_job *job = c->job;
	char why[256], compact[512];
	int64_t period;
	size_t k = 0;
	for (const char *p = text; *p && k + 1 < sizeof(compact); p++)
		if (!usch_is_space(*p))
			compact[k++] = *p;
	compact[k] = 0;
	if (usch_duration_parse(compact, &period, why, sizeof(why)) < 0) {
		decl_fail(c, "\"%s\": %s", text, why);
		return NULL;
	}
	/* shorter, the timing thread would do nothing but fire (and every
	 * other fire be skipped by max-running) */
	if (period < MIN_INTERVAL_US) {
		decl_fail(c, "\"%s\": the interval must be at least 1ms", text);
		return NULL;
	}
	/* a cluster's instances must agree on the occurrences too: without
	 * start= they count from the epoch (1h: on the hour, UTC) */
	int64_t anchor = job->cold->start_us != INT64_MIN  ? job->cold->start_us
			: job->scope == USCH_SCOPE_CLUSTER ? 0
			: wall                             ? c->env->now_us + period
							   : period;
	usch_trigger *t = usch_trigger_interval(period, anchor, why, sizeof(why));
	if (!t)
		decl_fail(c, "%s", why);
	return t;
}

/* One trigger of the given kind from its text; NULL with c->err set. */
static usch_trigger *make_trigger(struct decl_ctx *c, const char *kind, const char *text, int wall) {
	struct usch_job *job = c->job;
	char why[256];
	usch_trigger *t = NULL;
	if (!strcmp(kind, "cron")) {
		t = usch_trigger_cron(text, job->id, job->tz, why, sizeof(why));
		if (!t)
			decl_fail(c, "%s", why);
		return t;
	}
	if (!strcmp(kind, "at")) {
		int64_t at;
		if (usch_datetime_parse(text, job->tz, &at, why, sizeof(why)) < 0) {
			decl_fail(c, "\"%s\": %s", text, why);
			return NULL;
		}
		t = usch_trigger_date(at, job->tz, why, sizeof(why));
		if (!t)
			decl_fail(c, "%s", why);
		return t;
	}
	if (calendar_trigger(c, text, &t))
		return t;
	return interval_trigger(c, text, wall);
}

/* and/or: every element is an object with one trigger key. */
static usch_trigger *combo_trigger(struct decl_ctx *c) {
	static const char *const child_kinds[] = { "cron", "interval", "every", "at", NULL };
	size_t n = json_array_size(c->combo), i;
	if (n < 1)
		return decl_fail(c, "\"%s\" needs an array of one or more triggers", c->kind), NULL;
	usch_trigger **kids = calloc(n, sizeof(*kids));
	if (!kids)
		return decl_fail(c, "out of memory"), NULL;
	json_t *el;
	int ok = 1;
	json_array_foreach(c->combo, i, el) {
		const char *kind = NULL, *text = NULL;
		for (int k = 0; ok && child_kinds[k]; k++) {
			json_t *v = json_object_get(el, child_kinds[k]);
			if (v && json_is_string(v) && !kind) {
				kind = child_kinds[k];
				text = json_string_value(v);
			}
		}
		if (!json_is_object(el) || json_object_size(el) != 1 || !kind) {
			decl_fail(c,
					"\"%s\" element %zu: expected an object with one of \"cron\", \"interval\", "
					"\"every\" or \"at\"",
					c->kind, i + 1);
			ok = 0;
			break;
		}
		kids[i] = make_trigger(c, kind, text, 1);
		if (!kids[i]) {
			ok = 0;
			break;
		}
	}
	usch_trigger *t = NULL;
	if (ok) {
		/* takes the children, also when it fails */
		char why[128];
		t = !strcmp(c->kind, "and") ? usch_trigger_and(kids, n, why, sizeof(why))
					    : usch_trigger_or(kids, n, why, sizeof(why));
		if (!t)
			decl_fail(c, "%s", why);
	}
	else {
		for (size_t k = 0; k < n; k++)
			if (kids[k])
				usch_trigger_free(kids[k]);
	}
	free(kids);
	return t;
}

/* The instances of a cluster compute its occurrences each on its own: a
 * calendar interval anchored at one instance's start would give each its
 * own. */
static int cluster_check(struct decl_ctx *c, int interval) {
	if (c->job->scope != USCH_SCOPE_CLUSTER || !interval || c->job->cold->start_us != INT64_MIN)
		return 0;
	usch_trigger *probe = NULL;
	/* a malformed one is said by make_trigger */
	if (calendar_trigger(c, c->trig_text, &probe) && probe) {
		usch_trigger_free(probe);
		return decl_fail(c,
				"scope=cluster: a calendar interval needs start= (every instance must count "
				"from the same instant)");
	}
	return 0;
}

/* Builds the job's trigger from c->trig_text (or c->combo) by c->kind,
 * then applies the start/end window. */
int decl_build_trigger(struct decl_ctx *c) {
	struct usch_job *job = c->job;
	const char *text = c->trig_text;
	int implicit_start = 0;
	if (c->combo) {
		job->trigger = combo_trigger(c);
		/* children live on the wall timeline, whatever their kind */
		job->anchored = 1;
		if (!job->trigger)
			return -1;
	}
	else {
		if (!*text)
			return decl_fail(c, "missing the %s before the target", decl_trigger_noun(c));
		int interval = !strcmp(c->kind, "interval") || !strcmp(c->kind, "every");
		/* every worker must agree on a once-job's occurrences: its interval
		 * counts from the master's instant, not from each worker's start */
		int shared = usch_job_claimed(job);
		if (cluster_check(c, interval) < 0)
			return -1;
		job->trigger = make_trigger(c, interval ? "interval" : c->kind, text, shared);
		if (!job->trigger)
			return -1;
		if (usch_trigger_kind(job->trigger) == USCH_TRIGGER_INTERVAL && job->cold->start_us == INT64_MIN &&
				!shared && job->cold->end_us != INT64_MAX)
			/* an unanchored interval runs on each worker's elapsed time,
			 * where a wall-clock end= would never be reached */
			return decl_fail(c,
					"end= on an interval needs start= too (without start= the interval "
					"counts from each worker's start)");
		job->start_on_boot = usch_trigger_is_start(job->trigger);
		if (job->start_on_boot && job->scope == USCH_SCOPE_CLUSTER)
			return decl_fail(c,
					"@start runs when each instance starts: scope=cluster has no occurrence to "
					"share (use scope=once)");
		int calendar = usch_trigger_kind(job->trigger) == USCH_TRIGGER_CALENDAR;
		if (calendar && job->cold->start_us == INT64_MIN) {
			usch_job_cold_own(job)->start_us = c->env->now_us +
					1; /* first fire one interval on (owned while parsed) */
			implicit_start = 1;
		}
		int is_interval = usch_trigger_kind(job->trigger) == USCH_TRIGGER_INTERVAL;
		job->anchored = is_interval && (job->cold->start_us != INT64_MIN || shared);
		job->implicit_anchor = implicit_start ||
				(is_interval && job->scope == USCH_SCOPE_ONCE && job->cold->start_us == INT64_MIN);
	}
	/* the reason in the declaration's own words */
	if (usch_trigger_set_window(job->trigger, job->cold->start_us, job->cold->end_us, NULL, 0) < 0)
		return decl_fail(c, implicit_start ? "end= is in the past" : "start= is after end=");
	return 0;
}
