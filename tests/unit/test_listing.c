/* test_listing.c - the dry run: next fires per trigger kind (intervals
 * from the base or their start=, cron across a DST change, past dates,
 * paused jobs, @start) and the text and JSON documents, read back. */
#include <check.h>
#include "unit.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decl.h"
#include "listing.h"
#include "timefmt.h"
#include "trigger.h"

#define SEC 1000000LL
/* 2026-11-24T09:00:00Z */
#define W0 (1795510800LL * SEC)

static struct usch_job *parse(const char *option, const char *line) {
	return unit_parse_job(option, line, NULL, W0);
}

/* usch_list_next of a fresh job, freed before asserting. */
static int list(const char *option, const char *line, int64_t base, int n, int64_t *out) {
	struct usch_job *job = parse(option, line);
	int k = usch_list_next(job, base, n, out);
	usch_job_free(job);
	return k;
}

/* ----------------------------------------------------- usch_list_next */

START_TEST(interval_without_start_counts_from_the_base) {
	int64_t out[4];
	ck_assert_int_eq(list("scheduler-interval", "30s app:f", W0, 3, out), 3);
	ck_assert_int_eq(out[0], W0 + 30 * SEC);
	ck_assert_int_eq(out[1], W0 + 60 * SEC);
	ck_assert_int_eq(out[2], W0 + 90 * SEC);
	/* a worker started 7 s later counts from there */
	ck_assert_int_eq(list("scheduler-interval", "30s app:f", W0 + 7 * SEC, 2, out), 2);
	ck_assert_int_eq(out[0], W0 + 37 * SEC);
	ck_assert_int_eq(out[1], W0 + 67 * SEC);
	ck_assert_int_eq(list("scheduler-interval", "1h 30m app:f", W0, 2, out), 2);
	ck_assert_int_eq(out[0], unit_instant("2026-11-24T10:30:00Z"));
	ck_assert_int_eq(out[1], unit_instant("2026-11-24T12:00:00Z"));
	ck_assert_int_eq(list("scheduler-interval", "250ms app:f", 0, 4, out), 4);
	ck_assert_int_eq(out[3], 1000000);
}
END_TEST

START_TEST(interval_with_start_is_anchored) {
	int64_t out[4];
	const char *line = "1h app:f start=2026-11-24T08:30:00Z";
	ck_assert_int_eq(list("scheduler-interval", line, W0, 3, out), 3);
	ck_assert_int_eq(out[0], unit_instant("2026-11-24T09:30:00Z"));
	ck_assert_int_eq(out[1], unit_instant("2026-11-24T10:30:00Z"));
	ck_assert_int_eq(out[2], unit_instant("2026-11-24T11:30:00Z"));
	/* the base does not move the grid */
	ck_assert_int_eq(list("scheduler-interval", line, W0 + 10 * 60 * SEC, 1, out), 1);
	ck_assert_int_eq(out[0], unit_instant("2026-11-24T09:30:00Z"));
	/* before the start: the start itself is the first fire */
	ck_assert_int_eq(list("scheduler-interval", line, unit_instant("2026-11-01T00:00:00Z"), 2, out), 2);
	ck_assert_int_eq(out[0], unit_instant("2026-11-24T08:30:00Z"));
	ck_assert_int_eq(out[1], unit_instant("2026-11-24T09:30:00Z"));
	/* end= stops the list early */
	ck_assert_int_eq(list("scheduler-interval", "1h app:f start=2026-11-24T08:30:00Z end=2026-11-24T10:30:00Z", W0,
					 4, out),
			2);
	ck_assert_int_eq(out[0], unit_instant("2026-11-24T09:30:00Z"));
	ck_assert_int_eq(out[1], unit_instant("2026-11-24T10:30:00Z"));
}
END_TEST

START_TEST(calendar_interval) {
	int64_t out[3];
	ck_assert_int_eq(list("scheduler-interval", "1 month app:f", W0, 3, out), 3);
	ck_assert_int_eq(out[0], unit_instant("2026-12-24T09:00:00Z"));
	ck_assert_int_eq(out[1], unit_instant("2027-01-24T09:00:00Z"));
	ck_assert_int_eq(out[2], unit_instant("2027-02-24T09:00:00Z"));
}
END_TEST

START_TEST(cron_across_the_paris_spring_forward) {
	int64_t out[4];
	/* 09:00 Paris: 08:00Z in CET, 07:00Z in CEST from Sunday 2026-03-29 */
	ck_assert_int_eq(list("scheduler-cron", "0 9 * * * app:f tz=Europe/Paris", unit_instant("2026-03-27T12:00:00Z"),
					 3, out),
			3);
	ck_assert_int_eq(out[0], unit_instant("2026-03-28T08:00:00Z"));
	ck_assert_int_eq(out[1], unit_instant("2026-03-29T07:00:00Z"));
	ck_assert_int_eq(out[2], unit_instant("2026-03-30T07:00:00Z"));
	/* hourly at :30: 02:30 local does not exist, UTC stays hourly */
	ck_assert_int_eq(list("scheduler-cron", "30 * * * * app:f tz=Europe/Paris",
					 unit_instant("2026-03-29T00:00:00Z"), 4, out),
			4);
	ck_assert_int_eq(out[0], unit_instant("2026-03-29T00:30:00Z")); /* 01:30+01:00 */
	ck_assert_int_eq(out[1], unit_instant("2026-03-29T01:30:00Z")); /* 03:30+02:00 */
	ck_assert_int_eq(out[2], unit_instant("2026-03-29T02:30:00Z"));
	ck_assert_int_eq(out[3], unit_instant("2026-03-29T03:30:00Z"));
}
END_TEST

START_TEST(at_fires_once_or_never) {
	int64_t out[3] = { 0, 0, 0 };
	ck_assert_int_eq(list("scheduler-at", "2026-01-01T00:00:00Z app:f", W0, 3, out), 0);
	/* the base itself is not "after" */
	ck_assert_int_eq(list("scheduler-at", "2026-11-24T09:00:00Z app:f", W0, 3, out), 0);
	ck_assert_int_eq(list("scheduler-at", "2026-12-01 10:00 app:f tz=Europe/Paris", W0, 3, out), 1);
	ck_assert_int_eq(out[0], unit_instant("2026-12-01T09:00:00Z"));
}
END_TEST

START_TEST(paused_and_at_start_never_list) {
	int64_t out[3];
	ck_assert_int_eq(list("scheduler-cron", "* * * * * app:f paused=true", W0, 3, out), 0);
	ck_assert_int_eq(list("scheduler-interval", "1s app:f paused=yes", W0, 3, out), 0);
	ck_assert_int_eq(list("scheduler-cron", "@start app:f", W0, 3, out), 0);
	ck_assert_int_eq(list("scheduler-cron", "* * * * * app:f", W0, 0, out), 0);
	ck_assert_int_eq(list("scheduler-cron", "* * * * * app:f end=2020-01-01", W0, 3, out), 0);
}
END_TEST

/* ------------------------------------------------------ the documents */

#define B "2026-03-29T00:00:00Z"

struct doc {
	struct usch_job *jobs[8];
	size_t n;
	char *text;
	size_t len;
};

static void add(struct doc *d, const char *option, const char *line) {
	d->jobs[d->n++] = unit_parse_job(option, line, NULL, unit_instant(B));
}

static void render(struct doc *d, int json, int n) {
	FILE *f = open_memstream(&d->text, &d->len);
	ck_assert_ptr_nonnull(f);
	int ret = json ? usch_list_json(d->jobs, d->n, n, unit_instant(B), NULL, f)
		       : usch_list_text(d->jobs, d->n, n, unit_instant(B), NULL, f);
	fclose(f);
	ck_assert_int_eq(ret, 0);
}

static void done(struct doc *d) {
	for (size_t i = 0; i < d->n; i++)
		usch_job_free(d->jobs[i]);
	free(d->text);
	memset(d, 0, sizeof(*d));
}

static void assert_strings(json_t *arr, const char *const *want, size_t n, const char *what) {
	ck_assert_msg(json_is_array(arr), "%s: not an array", what);
	ck_assert_msg(json_array_size(arr) == n, "%s: %zu items, want %zu", what, json_array_size(arr), n);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		ck_assert_msg(s && !strcmp(s, want[i]), "%s[%zu]: %s, want %s", what, i, s ? s : "(not a string)",
				want[i]);
	}
}

static const char *str(json_t *o, const char *key) {
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_string(v), "\"%s\" is not a string", key);
	return json_string_value(v);
}

START_TEST(json_document) {
	static struct doc d;
	add(&d, "scheduler-cron", "30 * * * * app.tasks:sync tz=Europe/Paris id=sync");
	add(&d, "scheduler-interval", "90s exec:echo a b");
	add(&d, "scheduler-at", "2026-01-01T00:00:00Z rpc:old");
	add(&d, "scheduler-cron", "0 9 * * * signal:5 paused=yes scope=workers workers=1,3-4");
	add(&d, "scheduler-cron", "@start app:boot");
	add(&d, "scheduler-interval", "1h app:f id=anchored start=2026-03-28T23:45:00Z scope=once");
	add(&d, "scheduler-interval", "1 month app:f id=monthly tz=Europe/Paris");
	add(&d, "scheduler-job", "{\"at\": \"2026-03-29 03:00\", \"target\": \"app:gap\", \"tz\": \"Europe/Paris\"}");
	render(&d, 1, 3);

	json_error_t jerr;
	json_t *doc = json_loadb(d.text, d.len, 0, &jerr);
	ck_assert_msg(doc != NULL, "%s: %s", jerr.text, d.text);
	ck_assert_str_eq(str(doc, "from"), "2026-03-29T00:00:00+00:00");
	ck_assert_uint_eq(json_object_size(doc), 2);
	json_t *jobs = json_object_get(doc, "jobs");
	ck_assert_uint_eq(json_array_size(jobs), 8);

	json_t *o = json_array_get(jobs, 0);
	ck_assert_uint_eq(json_object_size(o), 8);
	ck_assert_str_eq(str(o, "id"), "sync");
	ck_assert_str_eq(str(o, "trigger"), "cron \"30 * * * *\"");
	ck_assert_str_eq(str(o, "target"), "app.tasks:sync");
	ck_assert_str_eq(str(o, "scope"), "all");
	ck_assert_str_eq(str(o, "tz"), "Europe/Paris");
	ck_assert(json_is_false(json_object_get(o, "paused")));
	ck_assert_ptr_null(json_object_get(o, "workers"));
	ck_assert_ptr_null(json_object_get(o, "at_start"));
	static const char *const sync_next[] = {
		"2026-03-29T01:30:00+01:00",
		"2026-03-29T03:30:00+02:00",
		"2026-03-29T04:30:00+02:00",
	};
	static const char *const sync_utc[] = {
		"2026-03-29T00:30:00+00:00",
		"2026-03-29T01:30:00+00:00",
		"2026-03-29T02:30:00+00:00",
	};
	assert_strings(json_object_get(o, "next"), sync_next, 3, "sync next");
	assert_strings(json_object_get(o, "next_utc"), sync_utc, 3, "sync next_utc");

	o = json_array_get(jobs, 1);
	ck_assert_str_eq(str(o, "id"), "exec:echo a b");
	ck_assert_str_eq(str(o, "trigger"), "interval 1m30s");
	ck_assert_str_eq(str(o, "target"), "exec:echo a b");
	ck_assert_str_eq(str(o, "tz"), "UTC");
	static const char *const every90[] = {
		"2026-03-29T00:01:30+00:00",
		"2026-03-29T00:03:00+00:00",
		"2026-03-29T00:04:30+00:00",
	};
	assert_strings(json_object_get(o, "next"), every90, 3, "interval next");
	assert_strings(json_object_get(o, "next_utc"), every90, 3, "interval next_utc");

	o = json_array_get(jobs, 2);
	ck_assert_str_eq(str(o, "id"), "rpc:old");
	ck_assert_str_eq(str(o, "trigger"), "at 2026-01-01T00:00:00+00:00");
	ck_assert_str_eq(str(o, "target"), "rpc:old");
	assert_strings(json_object_get(o, "next"), NULL, 0, "past next");
	assert_strings(json_object_get(o, "next_utc"), NULL, 0, "past next_utc");

	o = json_array_get(jobs, 3);
	ck_assert_uint_eq(json_object_size(o), 9);
	ck_assert_str_eq(str(o, "id"), "signal:5");
	ck_assert_str_eq(str(o, "target"), "signal:5");
	ck_assert_str_eq(str(o, "scope"), "workers");
	ck_assert_str_eq(str(o, "workers"), "1,3-4");
	ck_assert(json_is_true(json_object_get(o, "paused")));
	assert_strings(json_object_get(o, "next"), NULL, 0, "paused next");
	assert_strings(json_object_get(o, "next_utc"), NULL, 0, "paused next_utc");

	o = json_array_get(jobs, 4);
	ck_assert_str_eq(str(o, "id"), "app:boot");
	ck_assert_str_eq(str(o, "trigger"), "cron \"@start\"");
	ck_assert(json_is_true(json_object_get(o, "at_start")));
	assert_strings(json_object_get(o, "next"), NULL, 0, "@start next");

	o = json_array_get(jobs, 5);
	ck_assert_str_eq(str(o, "id"), "anchored");
	ck_assert_str_eq(str(o, "trigger"), "interval 1h");
	ck_assert_str_eq(str(o, "scope"), "once");
	static const char *const anchored[] = {
		"2026-03-29T00:45:00+00:00",
		"2026-03-29T01:45:00+00:00",
		"2026-03-29T02:45:00+00:00",
	};
	assert_strings(json_object_get(o, "next"), anchored, 3, "anchored next");

	/* counted from when it was declared, at the declaration's wall time */
	o = json_array_get(jobs, 6);
	ck_assert_str_eq(str(o, "trigger"), "every 1 month");
	ck_assert_str_eq(str(o, "tz"), "Europe/Paris");
	static const char *const monthly[] = {
		"2026-04-29T01:00:00+02:00",
		"2026-05-29T01:00:00+02:00",
		"2026-06-29T01:00:00+02:00",
	};
	static const char *const monthly_utc[] = {
		"2026-04-28T23:00:00+00:00",
		"2026-05-28T23:00:00+00:00",
		"2026-06-28T23:00:00+00:00",
	};
	assert_strings(json_object_get(o, "next"), monthly, 3, "monthly next");
	assert_strings(json_object_get(o, "next_utc"), monthly_utc, 3, "monthly next_utc");

	/* 02:00-03:00 is skipped that night; 03:00 itself is 01:00Z */
	o = json_array_get(jobs, 7);
	ck_assert_str_eq(str(o, "id"), "app:gap");
	ck_assert_str_eq(str(o, "trigger"), "at 2026-03-29T03:00:00+02:00");
	static const char *const gap[] = { "2026-03-29T03:00:00+02:00" };
	static const char *const gap_utc[] = { "2026-03-29T01:00:00+00:00" };
	assert_strings(json_object_get(o, "next"), gap, 1, "gap next");
	assert_strings(json_object_get(o, "next_utc"), gap_utc, 1, "gap next_utc");

	json_decref(doc);
	done(&d);
}
END_TEST

START_TEST(json_document_empty) {
	static struct doc d;
	render(&d, 1, 5);
	json_t *doc = json_loadb(d.text, d.len, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(str(doc, "from"), "2026-03-29T00:00:00+00:00");
	ck_assert(json_is_array(json_object_get(doc, "jobs")));
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "jobs")), 0);
	json_decref(doc);
	done(&d);
}
END_TEST

START_TEST(text_document) {
	static struct doc d;
	add(&d, "scheduler-cron", "30 * * * * app.tasks:sync tz=Europe/Paris id=sync");
	add(&d, "scheduler-at", "2026-01-01T00:00:00Z rpc:old");
	add(&d, "scheduler-cron", "0 9 * * * signal:5 paused=yes scope=workers workers=1,3-4");
	add(&d, "scheduler-cron", "@start exec:/bin/true");
	add(&d, "scheduler-at", "2026-03-29T00:00:10Z app:soon");
	render(&d, 0, 2);
	ck_assert_str_eq(d.text,
			"5 jobs, next 2 fires after 2026-03-29T00:00:00+00:00\n"
			"\n"
			"sync\n"
			"  trigger  cron \"30 * * * *\"\n"
			"  target   app.tasks:sync\n"
			"  scope    all\n"
			"  tz       Europe/Paris\n"
			"  next     2026-03-29T01:30:00+01:00        2026-03-29T00:30:00+00:00 UTC\n"
			"           2026-03-29T03:30:00+02:00        2026-03-29T01:30:00+00:00 UTC\n"
			"\n"
			"rpc:old\n"
			"  trigger  at 2026-01-01T00:00:00+00:00\n"
			"  target   rpc:old\n"
			"  scope    all\n"
			"  tz       UTC\n"
			"  next     (none)\n"
			"\n"
			"signal:5\n"
			"  trigger  cron \"0 9 * * *\"\n"
			"  target   signal:5\n"
			"  scope    workers 1,3-4\n"
			"  tz       UTC\n"
			"  next     (paused)\n"
			"\n"
			"exec:/bin/true\n"
			"  trigger  cron \"@start\"\n"
			"  target   exec:/bin/true\n"
			"  scope    all\n"
			"  tz       UTC\n"
			"  next     when each worker's scheduler starts\n"
			"\n"
			"app:soon\n"
			"  trigger  at 2026-03-29T00:00:10+00:00\n"
			"  target   app:soon\n"
			"  scope    all\n"
			"  tz       UTC\n"
			"  next     2026-03-29T00:00:10+00:00        2026-03-29T00:00:10+00:00 UTC\n");
	done(&d);

	add(&d, "scheduler-interval", "250ms app:f");
	render(&d, 0, 1);
	ck_assert_str_eq(d.text,
			"1 job, next 1 fire after 2026-03-29T00:00:00+00:00\n"
			"\n"
			"app:f\n"
			"  trigger  interval 250ms\n"
			"  target   app:f\n"
			"  scope    all\n"
			"  tz       UTC\n"
			"  next     2026-03-29T00:00:00.250+00:00    2026-03-29T00:00:00.250+00:00 UTC\n");
	done(&d);
}
END_TEST

START_TEST(workers_are_listed_whole) {
	static struct doc d;
	add(&d, "scheduler-cron", "@start app:f scope=workers workers=1-100,102,104,200-1023");
	/* every other id: the longest text there is */
	char line[4096] = "@start app:g scope=workers workers=1";
	for (int w = 3; w < USCH_MAX_WORKER_ID; w += 2)
		sprintf(line + strlen(line), ",%d", w);
	add(&d, "scheduler-cron", line);
	render(&d, 1, 1);
	json_t *doc = json_loadb(d.text, d.len, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	json_t *jobs = json_object_get(doc, "jobs");
	ck_assert_str_eq(str(json_array_get(jobs, 0), "workers"), "1-100,102,104,200-1023");
	ck_assert_str_eq(str(json_array_get(jobs, 1), "workers"), strstr(line, "workers=1") + 8);
	json_decref(doc);
	free(d.text);
	d.text = NULL;
	render(&d, 0, 1);
	ck_assert_ptr_nonnull(strstr(d.text, "  scope    workers 1-100,102,104,200-1023\n"));
	done(&d);
}
END_TEST

int main(void) {
	Suite *s = suite_create("listing");
	TCase *tc = tcase_create("next");
	tcase_add_test(tc, interval_without_start_counts_from_the_base);
	tcase_add_test(tc, interval_with_start_is_anchored);
	tcase_add_test(tc, calendar_interval);
	tcase_add_test(tc, cron_across_the_paris_spring_forward);
	tcase_add_test(tc, at_fires_once_or_never);
	tcase_add_test(tc, paused_and_at_start_never_list);
	suite_add_tcase(s, tc);
	TCase *td = tcase_create("documents");
	tcase_add_test(td, json_document);
	tcase_add_test(td, json_document_empty);
	tcase_add_test(td, text_document);
	tcase_add_test(td, workers_are_listed_whole);
	suite_add_tcase(s, td);
	return unit_run(s);
}
