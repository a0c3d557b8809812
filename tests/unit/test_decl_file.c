/* test_decl_file.c - a jobs file's lines (usch_decl_file_*): what is a
 * declaration, a comment or blank, the line numbers, the trimming uWSGI's
 * ini reader does, and every refusal word for word. */
#include <check.h>
#include "unit.h"
#include <stdlib.h>
#include <string.h>
#include "decl.h"
#include "job.h"

static char err[1024];

/* Splits a writable copy of text (as the adapter reads a file) until a
 * refusal or the end, keeping up to max declarations in got; returns
 * usch_decl_file_next's last answer (0 or -1) and, in *n, the count. */
static int split_all(const char *text, size_t len, struct usch_decl_file_line *got, size_t max, size_t *n) {
	static char t[4096];
	ck_assert_uint_lt(len, sizeof(t));
	memcpy(t, text, len);
	t[len] = 0;
	struct usch_decl_file f;
	usch_decl_file_init(&f, t, len);
	int ret;
	*n = 0;
	while ((ret = usch_decl_file_next(&f, &got[*n < max ? *n : max], err, sizeof(err))) == 1)
		(*n)++;
	return ret;
}

struct want {
	const char *option, *value;
	unsigned lineno;
};

/* Splits text into exactly want, in order. */
static void splits(const char *text, size_t len, const struct want *want, size_t n) {
	struct usch_decl_file_line got[9];
	size_t k;
	ck_assert_int_eq(split_all(text, len, got, 8, &k), 0);
	ck_assert_uint_eq(k, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(got[i].option, want[i].option);
		ck_assert_str_eq(got[i].value, want[i].value);
		ck_assert_uint_eq(got[i].lineno, want[i].lineno);
	}
}

/* The first declaration-like line of text is refused at lineno with
 * exactly what. */
static void refused(const char *text, size_t len, unsigned lineno, const char *what) {
	struct usch_decl_file_line got[9];
	size_t k;
	ck_assert_int_eq(split_all(text, len, got, 8, &k), -1);
	ck_assert_uint_eq(got[k < 8 ? k : 8].lineno, lineno);
	ck_assert_str_eq(err, what);
}

#define SPLITS(text, ...) \
	do { \
		static const struct want w[] = { __VA_ARGS__ }; \
		splits(text, sizeof(text) - 1, w, sizeof(w) / sizeof(w[0])); \
	} while (0)

#define REFUSED(text, lineno, what) refused(text, sizeof(text) - 1, lineno, what)

START_TEST(test_each_option) {
	SPLITS("scheduler-cron = 0 3 * * * app.tasks:purge\n"
	       "scheduler-interval = 30s app:f\n"
	       "scheduler-at = 2026-12-31T23:59:00Z app:g\n"
	       "scheduler-job = {\"cron\": \"@hourly\", \"target\": \"app:h\"}\n",
			{ "scheduler-cron", "0 3 * * * app.tasks:purge", 1 }, { "scheduler-interval", "30s app:f", 2 },
			{ "scheduler-at", "2026-12-31T23:59:00Z app:g", 3 },
			{ "scheduler-job", "{\"cron\": \"@hourly\", \"target\": \"app:h\"}", 4 });
}
END_TEST

START_TEST(test_comments_blanks_and_numbers) {
	SPLITS("# nightly jobs\n"
	       "\n"
	       "   ; an ini comment too\n"
	       "\t\n"
	       "scheduler-cron = @daily app:a\n"
	       "  # indented comment\n"
	       "scheduler-cron = @hourly app:b ; the decl parser reads what follows\n",
			{ "scheduler-cron", "@daily app:a", 5 },
			{ "scheduler-cron", "@hourly app:b ; the decl parser reads what follows", 7 });
}
END_TEST

/* uWSGI's ini reader: spaces around the key, the '=' and the value go. */
START_TEST(test_trimming_as_uwsgi_does) {
	SPLITS("  scheduler-cron=@daily app:a  \n"
	       "scheduler-interval\t =\t 5m app:b\t\n"
	       "scheduler-at =    2027-01-01T00:00:00Z app:c",
			{ "scheduler-cron", "@daily app:a", 1 }, { "scheduler-interval", "5m app:b", 2 },
			{ "scheduler-at", "2027-01-01T00:00:00Z app:c", 3 });
}
END_TEST

START_TEST(test_crlf_and_bom) {
	SPLITS("\xef\xbb\xbf"
	       "scheduler-cron = @daily app:a\r\n"
	       "\r\n"
	       "scheduler-cron = @hourly app:b\r\n",
			{ "scheduler-cron", "@daily app:a", 1 }, { "scheduler-cron", "@hourly app:b", 3 });
}
END_TEST

START_TEST(test_empty_files) {
	splits("", 0, NULL, 0);
	splits("\n\n# nothing\n", 11, NULL, 0);
}
END_TEST

/* An empty value is the declaration parser's to refuse, as in the ini. */
START_TEST(test_empty_value) {
	SPLITS("scheduler-cron =\n", { "scheduler-cron", "", 1 });
}
END_TEST

/* The value stays in the text: a job can borrow it as its line. */
START_TEST(test_values_parse_in_place) {
	const char text[] = "# two jobs\nscheduler-cron = */5 * * * * app:a id=a\nscheduler-interval = 10s app:b\n";
	char t[sizeof(text)];
	memcpy(t, text, sizeof(text));
	struct usch_decl_file f;
	struct usch_decl_file_line line;
	struct usch_decl_env env = { .default_tz = usch_tz_utc(), .now_us = 0, .borrow_line = 1 };
	usch_decl_file_init(&f, t, sizeof(text) - 1);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(usch_decl_file_next(&f, &line, err, sizeof(err)), 1);
		struct usch_job *job = usch_decl_parse(line.option, line.value, &env, err, sizeof(err));
		ck_assert_msg(job != NULL, "%s", err);
		ck_assert_ptr_eq(job->line, line.value);
		ck_assert_msg(job->line > t && job->line < t + sizeof(text), "the line is not in the text");
		ck_assert_str_eq(usch_job_option(job), line.option);
		usch_job_free(job);
	}
	/* the end stays the end */
	ck_assert_int_eq(usch_decl_file_next(&f, &line, err, sizeof(err)), 0);
	ck_assert_int_eq(usch_decl_file_next(&f, &line, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_refusals) {
	REFUSED("[uwsgi]\n", 1, "a section header: a jobs file holds job lines only, without [sections]");
	REFUSED("# jobs\n\nscheduler-cron 0 3 * * * app:f\n", 3,
			"expected OPTION = VALUE (scheduler-cron, scheduler-interval, scheduler-at or scheduler-job)");
	REFUSED("= @daily app:f\n", 1,
			"expected OPTION = VALUE (scheduler-cron, scheduler-interval, scheduler-at or scheduler-job)");
	REFUSED("sched\xc3\xa9uler-cron = @daily app:f\n", 1,
			"expected OPTION = VALUE (scheduler-cron, scheduler-interval, scheduler-at or scheduler-job)");
	REFUSED("scheduler-cron = @daily app:a\nscheduler-timezone = UTC\n", 2,
			"\"scheduler-timezone\" is not a job option: a jobs file takes scheduler-cron, scheduler-interval, "
			"scheduler-at and scheduler-job (settings go in the ini)");
	REFUSED("cron = @daily app:f\n", 1,
			"\"cron\" is not a job option: a jobs file takes scheduler-cron, scheduler-interval, "
			"scheduler-at and scheduler-job (settings go in the ini)");
	REFUSED("scheduler-cron = @daily app:a\nscheduler-cron = @daily\0 app:b\n", 2,
			"a NUL byte: a jobs file is text");
}
END_TEST

int main(void) {
	Suite *s = suite_create("decl_file");
	TCase *tc = tcase_create("lines");
	tcase_add_test(tc, test_each_option);
	tcase_add_test(tc, test_comments_blanks_and_numbers);
	tcase_add_test(tc, test_trimming_as_uwsgi_does);
	tcase_add_test(tc, test_crlf_and_bom);
	tcase_add_test(tc, test_empty_files);
	tcase_add_test(tc, test_empty_value);
	tcase_add_test(tc, test_values_parse_in_place);
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
