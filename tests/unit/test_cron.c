/* test_cron.c - cron expressions: every syntax element and error message,
 * the struct contract, H stability, DST behaviour against a brute-force
 * zoneinfo oracle (oracle/cron_dst.py) and standard expressions against
 * croniter (oracle/cron_croniter.py). Times in messages are UTC. */
#include <check.h>
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "tz.h"

/* Check's ck_assert costs a syscall per call; the oracle loops compare
 * tens of thousands of values, so they check quietly. */
#define QUIET_EQ(a, b, ...) \
	do { \
		int64_t a_ = (a), b_ = (b); \
		if (a_ != b_) \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

static const char *fmt(int64_t t, char *buf, size_t n) {
	struct tm tm;
	time_t tt = (time_t) t;

	if (t == INT64_MAX) {
		snprintf(buf, n, "never");
		return buf;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static int64_t parse_time(const char *s) {
	int y, mo, d, h, mi, sec;

	ck_assert_msg(sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec) == 6, "bad time %s", s);
	return unit_utc(y, mo, d, h, mi, sec);
}

static usch_cron parse_ok(const char *expr, const char *job) {
	usch_cron c;
	char err[256] = "";

	ck_assert_msg(usch_cron_parse(&c, expr, job, err, sizeof(err)) == 0, "parse \"%s\": %s", expr, err);
	return c;
}

/* Parses expr and checks its fires after base in UTC, one by one; the
 * list ends with NULL, and "never" stands for INT64_MAX. */
static void expect_utc_job(const char *expr, const char *job, const char *base, const char *const *want) {
	usch_cron c = parse_ok(expr, job);
	int64_t t = parse_time(base);
	char got[32];

	for (int i = 0; want[i]; i++) {
		t = usch_cron_next(&c, usch_tz_utc(), t);
		fmt(t, got, sizeof(got));
		ck_assert_msg(strcmp(got, want[i]) == 0, "\"%s\" fire %d after %s: got %s, want %s", expr, i + 1, base,
				got, want[i]);
		if (t == INT64_MAX)
			break;
	}
}

#define EXPECT(expr, base, ...) expect_utc_job(expr, "job", base, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT_JOB(expr, job, base, ...) expect_utc_job(expr, job, base, (const char *const[]){ __VA_ARGS__, NULL })

START_TEST(struct_is_plain_and_small) {
	ck_assert_uint_le(sizeof(struct usch_cron), 128);
	ck_assert_uint_eq(usch_cron_size(), sizeof(struct usch_cron));
	/* plain data: a byte copy is a working copy */
	usch_cron a = parse_ok("*/7 3 * * mon", "x"), b;
	memcpy(&b, &a, sizeof(a));
	ck_assert_int_eq(usch_cron_next(&b, usch_tz_utc(), 0), usch_cron_next(&a, usch_tz_utc(), 0));
}
END_TEST

START_TEST(five_six_seven_fields) {
	EXPECT("*/15 * * * *", "2025-01-01 00:00:00", "2025-01-01 00:15:00", "2025-01-01 00:30:00",
			"2025-01-01 00:45:00", "2025-01-01 01:00:00");
	EXPECT("*/20 * * * * *", "2025-01-01 00:00:00", "2025-01-01 00:00:20", "2025-01-01 00:00:40",
			"2025-01-01 00:01:00");
	EXPECT("30 15 10 * * * 2030", "2025-06-01 00:00:00", "2030-01-01 10:15:30", "2030-01-02 10:15:30");
	EXPECT("0 0 12 1 1 ? 2030,2032", "2025-01-01 00:00:00", "2030-01-01 12:00:00", "2032-01-01 12:00:00", "never");
	EXPECT("0 0 0 1 1 ? 1970-2099/50", "1960-01-01 00:00:00", "1970-01-01 00:00:00", "2020-01-01 00:00:00",
			"2070-01-01 00:00:00", "never");
	EXPECT("0 0 0 1 1 ? */50", "1960-01-01 00:00:00", "1970-01-01 00:00:00", "2020-01-01 00:00:00",
			"2070-01-01 00:00:00", "never");
	EXPECT("0 0 0 1 1 ? 2090/5", "2025-01-01 00:00:00", "2090-01-01 00:00:00", "2095-01-01 00:00:00", "never");
	EXPECT("0 0 0 1 1 ? *", "2098-06-01 00:00:00", "2099-01-01 00:00:00", "2100-01-01 00:00:00");
	/* strictly after t, even when t is a fire time */
	EXPECT("0 0 * * *", "2025-01-01 00:00:00", "2025-01-02 00:00:00");
	/* whitespace of any kind between, before and after fields */
	EXPECT("  5\t4  * *\t*  ", "2025-01-01 00:00:00", "2025-01-01 04:05:00");
}
END_TEST

START_TEST(numbers_ranges_steps_lists) {
	EXPECT("5 4 * * *", "2025-01-01 04:05:00", "2025-01-02 04:05:00");
	EXPECT("10-12 0 * * *", "2025-01-01 00:00:00", "2025-01-01 00:10:00", "2025-01-01 00:11:00",
			"2025-01-01 00:12:00", "2025-01-02 00:10:00");
	EXPECT("10-30/10 0 * * *", "2025-01-01 00:00:00", "2025-01-01 00:10:00", "2025-01-01 00:20:00",
			"2025-01-01 00:30:00", "2025-01-02 00:10:00");
	/* a/n means a-max/n */
	EXPECT("50/4 0 * * *", "2025-01-01 00:00:00", "2025-01-01 00:50:00", "2025-01-01 00:54:00",
			"2025-01-01 00:58:00", "2025-01-02 00:50:00");
	EXPECT("0 0 * */5 *", "2025-01-31 00:00:00", "2025-06-01 00:00:00", "2025-06-02 00:00:00");
	EXPECT("1,3,7-8,58/1 0 * * *", "2025-01-01 00:00:00", "2025-01-01 00:01:00", "2025-01-01 00:03:00",
			"2025-01-01 00:07:00", "2025-01-01 00:08:00", "2025-01-01 00:58:00", "2025-01-01 00:59:00",
			"2025-01-02 00:01:00");
	/* a step larger than the range keeps the first value */
	EXPECT("*/100 0 * * *", "2025-01-01 00:00:00", "2025-01-02 00:00:00");
	EXPECT("0 0 31 * *", "2025-01-31 00:00:00", "2025-03-31 00:00:00");
	EXPECT("0 0 29 2 *", "2025-01-01 00:00:00", "2028-02-29 00:00:00");
	/* days past February's end do not hide March 1st (croniter 1.3.5
	 * gets these wrong, so its oracle leaves them out) */
	EXPECT("0 0 1,31 * *", "2024-02-28 23:59:30", "2024-03-01 00:00:00", "2024-03-31 00:00:00",
			"2024-04-01 00:00:00");
	EXPECT("0 0 1,30 * *", "2025-02-27 12:00:00", "2025-03-01 00:00:00", "2025-03-30 00:00:00");
	EXPECT("0 0 */5 * *", "2024-02-28 23:59:30", "2024-03-01 00:00:00", "2024-03-06 00:00:00");
	EXPECT("59 23 31 12 *", "2025-12-31 23:59:00", "2026-12-31 23:59:00");
}
END_TEST

START_TEST(names_and_sunday) {
	EXPECT("0 0 1 JAN,jul *", "2025-01-01 00:00:00", "2025-07-01 00:00:00", "2026-01-01 00:00:00");
	EXPECT("0 0 1 Mar-May *", "2025-01-01 00:00:00", "2025-03-01 00:00:00", "2025-04-01 00:00:00",
			"2025-05-01 00:00:00", "2026-03-01 00:00:00");
	EXPECT("0 0 1 nov/1 *", "2025-01-01 00:00:00", "2025-11-01 00:00:00", "2025-12-01 00:00:00",
			"2026-11-01 00:00:00");
	/* 2025-01-03 is a Friday */
	EXPECT("0 0 * * mon-fri", "2025-01-03 00:00:00", "2025-01-06 00:00:00", "2025-01-07 00:00:00");
	EXPECT("0 0 * * SAT,Sun", "2025-01-03 00:00:00", "2025-01-04 00:00:00", "2025-01-05 00:00:00",
			"2025-01-11 00:00:00");
	EXPECT("0 0 * * 0", "2025-01-01 00:00:00", "2025-01-05 00:00:00", "2025-01-12 00:00:00");
	EXPECT("0 0 * * 7", "2025-01-01 00:00:00", "2025-01-05 00:00:00", "2025-01-12 00:00:00");
	EXPECT("0 0 * * 5-7", "2025-01-01 00:00:00", "2025-01-03 00:00:00", "2025-01-04 00:00:00",
			"2025-01-05 00:00:00", "2025-01-10 00:00:00");
	/* day-of-week steps run over 0-7: 1/2 is 1,3,5,7 (7 = Sunday) */
	EXPECT("0 0 * * 1/2", "2025-01-01 00:00:00", "2025-01-03 00:00:00", "2025-01-05 00:00:00",
			"2025-01-06 00:00:00", "2025-01-08 00:00:00");
	EXPECT("0 0 * * */2", "2025-01-01 00:00:00", "2025-01-02 00:00:00", "2025-01-04 00:00:00",
			"2025-01-05 00:00:00", "2025-01-07 00:00:00");
}
END_TEST

START_TEST(day_fields_vixie_rule) {
	/* both restricted: either matches (1st, 15th, every Monday) */
	EXPECT("0 0 1,15 * mon", "2025-01-01 00:00:00", "2025-01-06 00:00:00", "2025-01-13 00:00:00",
			"2025-01-15 00:00:00", "2025-01-20 00:00:00", "2025-01-27 00:00:00", "2025-02-01 00:00:00");
	/* '*' first: unrestricted, both must match, its step still applies:
	 * odd days that are Mondays (2025-01-13, 01-27, 02-03 ...) */
	EXPECT("0 0 */2 * mon", "2025-01-01 00:00:00", "2025-01-13 00:00:00", "2025-01-27 00:00:00",
			"2025-02-03 00:00:00");
	/* the 1st when it is a Sun/Tue/Thu/Sat: 2025-08-01 is a Friday,
	 * 09-01 a Monday, 10-01 a Wednesday, 11-01 a Saturday */
	EXPECT("0 0 1 * */2", "2025-07-01 00:00:00", "2025-11-01 00:00:00");
	/* '?' is '*' */
	EXPECT("0 0 ? * mon", "2025-01-01 00:00:00", "2025-01-06 00:00:00");
	EXPECT("0 0 15 * ?", "2025-01-01 00:00:00", "2025-01-15 00:00:00", "2025-02-15 00:00:00");
	/* 1-31 is restricted as written: ORed with Monday, every day matches */
	EXPECT("0 0 1-31 * mon", "2025-01-01 00:00:00", "2025-01-02 00:00:00", "2025-01-03 00:00:00");
}
END_TEST

START_TEST(quartz_dom) {
	EXPECT("0 0 L * *", "2025-01-01 00:00:00", "2025-01-31 00:00:00", "2025-02-28 00:00:00", "2025-03-31 00:00:00",
			"2025-04-30 00:00:00");
	EXPECT("0 0 L 2 *", "2027-03-01 00:00:00", "2028-02-29 00:00:00");
	EXPECT("0 0 L-0 2 *", "2027-03-01 00:00:00", "2028-02-29 00:00:00");
	EXPECT("0 0 L-3 * *", "2025-01-01 00:00:00", "2025-01-28 00:00:00", "2025-02-25 00:00:00");
	/* L-30 exists only in 31-day months */
	EXPECT("0 0 L-30 * *", "2025-01-01 00:00:00", "2025-03-01 00:00:00", "2025-05-01 00:00:00");
	/* LW: last weekday; 2025-05-31 is a Saturday, 2025-08-31 a Sunday */
	EXPECT("0 0 LW 5,8,10 *", "2025-01-01 00:00:00", "2025-05-30 00:00:00", "2025-08-29 00:00:00",
			"2025-10-31 00:00:00");
	/* nW: 2025-03-15 Saturday -> Friday 14th; 2025-06-15 Sunday -> Monday
	 * 16th; 2025-01-15 Wednesday stays */
	EXPECT("0 0 15W 1,3,6 *", "2025-01-01 00:00:00", "2025-01-15 00:00:00", "2025-03-14 00:00:00",
			"2025-06-16 00:00:00");
	/* never across the month: Saturday 1st -> Monday 3rd (2025-03-01),
	 * Sunday 31st -> Friday 29th (2025-08-31) */
	EXPECT("0 0 1W 3 *", "2025-01-01 00:00:00", "2025-03-03 00:00:00");
	EXPECT("0 0 31W 8 *", "2025-01-01 00:00:00", "2025-08-29 00:00:00");
	/* Sunday 1st -> Monday 2nd (2025-06-01); Saturday 31st -> Friday 30th */
	EXPECT("0 0 1W 6 *", "2025-01-01 00:00:00", "2025-06-02 00:00:00");
	EXPECT("0 0 31W 5 *", "2025-01-01 00:00:00", "2025-05-30 00:00:00");
	/* a month without day 31 has no 31W */
	EXPECT("0 0 31W 4,5 *", "2025-01-01 00:00:00", "2025-05-30 00:00:00", "2026-05-29 00:00:00");
	EXPECT("0 0 1w,L * *", "2025-01-01 00:00:00", "2025-01-31 00:00:00", "2025-02-03 00:00:00");
	EXPECT("0 0 lw * *", "2025-05-01 00:00:00", "2025-05-30 00:00:00");
}
END_TEST

START_TEST(quartz_dow) {
	/* second Friday: 2025-01-10, 02-14, 03-14 */
	EXPECT("0 0 * * fri#2", "2025-01-01 00:00:00", "2025-01-10 00:00:00", "2025-02-14 00:00:00",
			"2025-03-14 00:00:00");
	EXPECT("0 0 ? * 5#2", "2025-01-01 00:00:00", "2025-01-10 00:00:00");
	/* fifth Friday: only months that have one (2025-01-31, 05-30, 08-29) */
	EXPECT("0 0 * * 5#5", "2025-01-01 00:00:00", "2025-01-31 00:00:00", "2025-05-30 00:00:00",
			"2025-08-29 00:00:00");
	EXPECT("0 0 * * mon#1,FRI#3", "2025-01-01 00:00:00", "2025-01-06 00:00:00", "2025-01-17 00:00:00",
			"2025-02-03 00:00:00", "2025-02-21 00:00:00");
	EXPECT("0 0 * * 7#1", "2025-01-01 00:00:00", "2025-01-05 00:00:00", "2025-02-02 00:00:00");
	/* last Friday: 2025-01-31, 02-28, 03-28 */
	EXPECT("0 0 * * friL", "2025-01-01 00:00:00", "2025-01-31 00:00:00", "2025-02-28 00:00:00",
			"2025-03-28 00:00:00");
	EXPECT("0 0 * * 5L", "2025-01-01 00:00:00", "2025-01-31 00:00:00");
	EXPECT("0 0 * * 7l,sunL", "2025-01-01 00:00:00", "2025-01-26 00:00:00", "2025-02-23 00:00:00");
	/* Quartz forms are restricted fields for the Vixie rule: OR with the
	 * 15th */
	EXPECT("0 0 15 * fri#2", "2025-01-01 00:00:00", "2025-01-10 00:00:00", "2025-01-15 00:00:00",
			"2025-02-14 00:00:00", "2025-02-15 00:00:00");
	EXPECT("0 0 L * mon#1", "2025-01-01 00:00:00", "2025-01-06 00:00:00", "2025-01-31 00:00:00",
			"2025-02-03 00:00:00");
}
END_TEST

START_TEST(macros) {
	EXPECT("@yearly", "2025-03-01 00:00:00", "2026-01-01 00:00:00");
	EXPECT("@annually", "2025-03-01 00:00:00", "2026-01-01 00:00:00");
	EXPECT("@monthly", "2025-03-01 00:00:00", "2025-04-01 00:00:00");
	EXPECT("@weekly", "2025-01-01 00:00:00", "2025-01-05 00:00:00", "2025-01-12 00:00:00");
	EXPECT("@daily", "2025-01-01 00:00:00", "2025-01-02 00:00:00");
	EXPECT("@midnight", "2025-01-01 12:00:00", "2025-01-02 00:00:00");
	EXPECT("@hourly", "2025-01-01 12:00:00", "2025-01-01 13:00:00");
	EXPECT("  @DAILY ", "2025-01-01 00:00:00", "2025-01-02 00:00:00");

	usch_cron c = parse_ok("@start", "x");
	ck_assert(usch_cron_is_start(&c));
	ck_assert_int_eq(usch_cron_next(&c, usch_tz_utc(), 0), INT64_MAX);
	c = parse_ok("@daily", "x");
	ck_assert(!usch_cron_is_start(&c));
}
END_TEST

/* H values are fixed forever: these were computed once from the
 * documented hash (FNV-1a 32 of the id + field byte, mod range). */
START_TEST(hash_is_stable) {
	/* "backup": minute 26, hour 15, dom 25, dow 0, second 25 */
	EXPECT_JOB("H H * * *", "backup", "2025-01-01 00:00:00", "2025-01-01 15:26:00", "2025-01-02 15:26:00");
	EXPECT_JOB("H/15 * * * *", "backup", "2025-01-01 00:00:00", "2025-01-01 00:11:00", "2025-01-01 00:26:00",
			"2025-01-01 00:41:00", "2025-01-01 00:56:00", "2025-01-01 01:11:00");
	EXPECT_JOB("0 0 H * *", "backup", "2025-01-01 00:00:00", "2025-01-25 00:00:00");
	EXPECT_JOB("0 0 * * H", "backup", "2025-01-01 00:00:00", "2025-01-05 00:00:00");
	EXPECT_JOB("H * * * * *", "backup", "2025-01-01 00:00:00", "2025-01-01 00:00:25");
	/* "report-42": minute in 0-29 is 15, hour in 9-17 is 14 */
	EXPECT_JOB("H(0-29) H(9-17) * * *", "report-42", "2025-01-01 00:00:00", "2025-01-01 14:15:00");
	EXPECT_JOB("H(0-29)/10 0 * * *", "report-42", "2025-01-01 00:00:00", "2025-01-01 00:05:00",
			"2025-01-01 00:15:00", "2025-01-01 00:25:00", "2025-01-02 00:05:00");
	EXPECT_JOB("0 0 1 H *", "report-42", "2025-02-01 00:00:00", "2026-01-01 00:00:00");
	EXPECT_JOB("h h * * *", "report-42", "2025-01-01 00:00:00", "2025-01-01 14:15:00");
	/* "" and NULL are the same id: minute 52, hour 13 */
	EXPECT_JOB("H H * * *", "", "2025-01-01 00:00:00", "2025-01-01 13:52:00");
	EXPECT_JOB("H H * * *", NULL, "2025-01-01 00:00:00", "2025-01-01 13:52:00");
	/* H is fixed-time, so a list with H is too */
	EXPECT_JOB("H,59 0 * * *", "backup", "2025-01-01 00:00:00", "2025-01-01 00:26:00", "2025-01-01 00:59:00");
}
END_TEST

START_TEST(out_of_range_instants) {
	usch_cron c = parse_ok("* * * * *", "x");
	ck_assert_int_eq(usch_cron_next(&c, usch_tz_utc(), INT64_MAX), INT64_MAX);
	ck_assert_int_eq(usch_cron_next(&c, usch_tz_utc(), INT64_MAX - 1), INT64_MAX);
	/* far past: clamped to year 1, no overflow */
	ck_assert_int_eq(usch_cron_next(&c, usch_tz_utc(), INT64_MIN), unit_utc(1, 1, 1, 0, 1, 0));
	EXPECT("0 0 1 1 *", "1900-06-01 00:00:00", "1901-01-01 00:00:00");
	EXPECT("0 0 29 2 *", "9996-03-01 00:00:00", "never");
}
END_TEST

static const struct {
	const char *expr, *msg;
} errors[] = {
	{ "", "expected 5, 6 or 7 fields, got 0" },
	{ "   ", "expected 5, 6 or 7 fields, got 0" },
	{ "* * * *", "expected 5, 6 or 7 fields, got 4" },
	{ "* * * * * * * *", "expected 5, 6 or 7 fields, got 8" },
	{ "@weekday", "unknown macro \"@weekday\"" },
	{ "@", "unknown macro \"@\"" },
	{ "@daily 5", "unexpected \"5\" after @daily" },
	{ "@start now", "unexpected \"now\" after @start" },
	{ "0 24 * * *", "field 2 (hour): 24 is out of range 0-23" },
	{ "60 * * * *", "field 1 (minute): 60 is out of range 0-59" },
	{ "60 * * * * *", "field 1 (second): 60 is out of range 0-59" },
	{ "0 60 * * * *", "field 2 (minute): 60 is out of range 0-59" },
	{ "0 0 0 * *", "field 3 (day-of-month): 0 is out of range 1-31" },
	{ "0 0 32 * *", "field 3 (day-of-month): 32 is out of range 1-31" },
	{ "0 0 * 0 *", "field 4 (month): 0 is out of range 1-12" },
	{ "0 0 * 13 *", "field 4 (month): 13 is out of range 1-12" },
	{ "0 0 * * 8", "field 5 (day-of-week): 8 is out of range 0-7" },
	{ "0 0 0 1 1 ? 2100", "field 7 (year): 2100 is out of range 1970-2099" },
	{ "0 0 0 1 1 ? 1969", "field 7 (year): 1969 is out of range 1970-2099" },
	{ "99999999999 * * * *", "field 1 (minute): 99999999999 is out of range 0-59" },
	{ "1-99 * * * *", "field 1 (minute): 99 is out of range 0-59" },
	{ "*/0 * * * *", "field 1 (minute): step 0 must be >= 1" },
	{ "0 0 * * sun-sat/0", "field 5 (day-of-week): step 0 must be >= 1" },
	{ "*/ * * * *", "field 1 (minute): expected a step after \"/\" in \"*/\"" },
	{ "0 0 * * 1-5/x", "field 5 (day-of-week): expected a step after \"/\" in \"1-5/x\"" },
	{ "0 0 20-10 * *", "field 3 (day-of-month): range 20-10 is reversed (a-b needs a <= b)" },
	{ "0 0 * * fri-mon", "field 5 (day-of-week): range fri-mon is reversed (a-b needs a <= b)" },
	{ "0 0 * * fri-sun", "field 5 (day-of-week): range fri-sun is reversed (a-b needs a <= b)" },
	{ "? * * * *", "field 1 (minute): \"?\" is only allowed in day-of-month and day-of-week" },
	{ "0 0 0 * ? *", "field 5 (month): \"?\" is only allowed in day-of-month and day-of-week" },
	{ "0 0 0 * * * ?", "field 7 (year): \"?\" is only allowed in day-of-month and day-of-week" },
	{ "0 0 ?,5 * *", "field 3 (day-of-month): \"?\" must be the whole field, not part of \"?,5\"" },
	{ "0 0 * * fro", "field 5 (day-of-week): unknown name \"fro\"" },
	{ "0 0 * * jan", "field 5 (day-of-week): unknown name \"jan\"" },
	{ "0 0 * mon *", "field 4 (month): unknown name \"mon\"" },
	{ "0 0 * jan-foo *", "field 4 (month): unknown name \"foo\"" },
	{ "0 0 * * monday", "field 5 (day-of-week): unknown name \"monday\"" },
	{ "x * * * *", "field 1 (minute): unknown name \"x\"" },
	{ "Hx * * * *", "field 1 (minute): unknown name \"Hx\"" },
	{ "5x * * * *", "field 1 (minute): unexpected \"x\" in \"5x\"" },
	{ "** * * * *", "field 1 (minute): unexpected \"*\" in \"**\"" },
	{ "1-2-3 * * * *", "field 1 (minute): unexpected \"-3\" in \"1-2-3\"" },
	{ "5- * * * *", "field 1 (minute): expected a value after \"5-\"" },
	{ "/5 * * * *", "field 1 (minute): expected a value at \"/5\" in \"/5\"" },
	{ "1,,2 * * * *", "field 1 (minute): empty element in list \"1,,2\"" },
	{ "1, * * * *", "field 1 (minute): empty element in list \"1,\"" },
	{ "0 L * * *", "field 2 (hour): \"L\" is only allowed in day-of-month and day-of-week" },
	{ "0 0 * L *", "field 4 (month): \"L\" is only allowed in day-of-month and day-of-week" },
	{ "0 0 * * L", "field 5 (day-of-week): \"L\" in day-of-week needs a weekday before it (e.g. 5L or friL)" },
	{ "0 0 * * LW", "field 5 (day-of-week): \"LW\" is only allowed in day-of-month" },
	{ "0 0 W * *", "field 3 (day-of-month): \"W\" needs a day before it (e.g. 15W or LW)" },
	{ "0 5W * * *", "field 2 (hour): \"W\" is only allowed in day-of-month" },
	{ "0 0 * * 5W", "field 5 (day-of-week): \"W\" is only allowed in day-of-month" },
	{ "0 0 * * W", "field 5 (day-of-week): \"W\" is only allowed in day-of-month" },
	{ "0 5L * * *", "field 2 (hour): \"L\" after a value is only allowed in day-of-week (e.g. 5L)" },
	{ "0 0 5L * *", "field 3 (day-of-month): \"L\" after a value is only allowed in day-of-week (e.g. 5L)" },
	{ "0 0 5#2 * *", "field 3 (day-of-month): \"#\" is only allowed in day-of-week" },
	{ "0 0 * * fri#6", "field 5 (day-of-week): 6 in \"fri#6\" is out of range 1-5" },
	{ "0 0 * * 5#0", "field 5 (day-of-week): 0 in \"5#0\" is out of range 1-5" },
	{ "0 0 * * fri#", "field 5 (day-of-week): expected a number after \"#\" in \"fri#\"" },
	{ "0 0 * * 5#2/2", "field 5 (day-of-week): unexpected \"/2\" in \"5#2/2\"" },
	{ "0 0 * * 8#2", "field 5 (day-of-week): 8 is out of range 0-7" },
	{ "0 0 * * friL-sat", "field 5 (day-of-week): unexpected \"-sat\" in \"friL-sat\"" },
	{ "0 0 * * mon-friL", "field 5 (day-of-week): unknown name \"friL\"" },
	{ "0 0 * * 5Lx", "field 5 (day-of-week): unexpected \"x\" in \"5Lx\"" },
	{ "0 0 L-31 * *", "field 3 (day-of-month): 31 in \"L-31\" is out of range 0-30" },
	{ "0 0 L- * *", "field 3 (day-of-month): expected a number after \"L-\" in \"L-\"" },
	{ "0 0 L-2x * *", "field 3 (day-of-month): unexpected \"x\" in \"L-2x\"" },
	{ "0 0 Lx * *", "field 3 (day-of-month): unexpected \"x\" in \"Lx\"" },
	{ "0 0 32W * *", "field 3 (day-of-month): 32 is out of range 1-31" },
	{ "0 0 15W/2 * *", "field 3 (day-of-month): unexpected \"/2\" in \"15W/2\"" },
	{ "H(0-29 * * * *",
			"field 1 (minute): malformed H expression \"H(0-29\" (expected H, H/n, H(a-b) or H(a-b)/n)" },
	{ "H( * * * *", "field 1 (minute): malformed H expression \"H(\" (expected H, H/n, H(a-b) or H(a-b)/n)" },
	{ "H/ * * * *", "field 1 (minute): malformed H expression \"H/\" (expected H, H/n, H(a-b) or H(a-b)/n)" },
	{ "H(1-2)x * * * *",
			"field 1 (minute): malformed H expression \"H(1-2)x\" (expected H, H/n, H(a-b) or H(a-b)/n)" },
	{ "H(30-10) * * * *", "field 1 (minute): range 30-10 is reversed (a-b needs a <= b)" },
	{ "H(0-60) * * * *", "field 1 (minute): 60 is out of range 0-59" },
	{ "0 0 H(0-5) * *", "field 3 (day-of-month): 0 is out of range 1-31" },
	{ "H/0 * * * *", "field 1 (minute): step 0 must be >= 1" },
	{ "0 0 30 2 *", "expression never fires: no date satisfies its day-of-month, month, day-of-week and year fields" },
	{ "0 0 31W 4 *",
			"expression never fires: no date satisfies its day-of-month, month, day-of-week and year fields" },
	{ "0 0 0 29 2 ? 2025",
			"expression never fires: no date satisfies its day-of-month, month, day-of-week and year fields" },
};

START_TEST(error_messages) {
	const char *expr = errors[_i].expr, *msg = errors[_i].msg;
	usch_cron c, before;
	char err[256];

	memset(&c, 0xa5, sizeof(c));
	before = c;
	strcpy(err, "untouched");
	ck_assert_msg(usch_cron_parse(&c, expr, "job", err, sizeof(err)) == -1, "\"%s\" parsed", expr);
	ck_assert_msg(strcmp(err, msg) == 0, "\"%s\": got '%s', want '%s'", expr, err, msg);
	ck_assert_msg(memcmp(&c, &before, sizeof(c)) == 0, "\"%s\": failed parse wrote its output", expr);
}
END_TEST

START_TEST(error_buffer_limits) {
	usch_cron c;
	char err[12];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(usch_cron_parse(&c, "0 24 * * *", "j", err, 8), -1);
	ck_assert_str_eq(err, "field 2"); /* truncated, terminated */
	ck_assert_int_eq(err[9], 'x');
	ck_assert_int_eq(usch_cron_parse(&c, "0 24 * * *", "j", NULL, 0), -1);
	ck_assert_int_eq(usch_cron_parse(&c, "@nope", "j", err, 1), -1);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(usch_cron_parse(&c, NULL, "j", err, sizeof(err)), -1);
}
END_TEST

/* Hand-checked DST cases, readable on their own; the oracle table below
 * covers many more. Instants are UTC. */
START_TEST(dst_examples) {
	char err[256];
	usch_tz *paris = usch_tz_load("Europe/Paris", err, sizeof(err));
	ck_assert_msg(paris != NULL, "%s", err);
	struct {
		const char *expr, *base;
		const char *want[4];
	} cases[] = {
		/* 2025-03-30 02:00 CET -> 03:00 CEST (01:00 UTC) */
		{ "30 2 * * *", "2025-03-29 12:00:00", /* gap: at the transition */
				{ "2025-03-30 01:00:00", "2025-03-31 00:30:00" } },
		{ "0,15,30,45 2 * * *", "2025-03-29 12:00:00", /* one run */
				{ "2025-03-30 01:00:00", "2025-03-31 00:00:00" } },
		{ "59 30 2 * * *", "2025-03-29 12:00:00", /* whatever the seconds */
				{ "2025-03-30 01:00:00", "2025-03-31 00:30:59" } },
		{ "30 * * * *", "2025-03-30 00:00:00", /* follows: skipped */
				{ "2025-03-30 00:30:00", "2025-03-30 01:30:00" } },
		/* 2025-10-26 03:00 CEST -> 02:00 CET (01:00 UTC) */
		{ "30 2 * * *", "2025-10-25 12:00:00", /* fold: first only */
				{ "2025-10-26 00:30:00", "2025-10-27 01:30:00" } },
		{ "0 * * * *", "2025-10-25 23:30:00", /* follows: both */
				{ "2025-10-26 00:00:00", "2025-10-26 01:00:00", "2025-10-26 02:00:00" } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		usch_cron c = parse_ok(cases[i].expr, "x");
		int64_t t = parse_time(cases[i].base);
		char got[32];
		for (int k = 0; cases[i].want[k]; k++) {
			t = usch_cron_next(&c, paris, t);
			ck_assert_msg(strcmp(fmt(t, got, sizeof(got)), cases[i].want[k]) == 0,
					"Paris \"%s\" fire %d: got %s, want %s", cases[i].expr, k + 1, got,
					cases[i].want[k]);
		}
	}
	usch_tz_free(paris);
}
END_TEST

/* Splits a TSV line in place; returns the number of columns. */
static int split_tabs(char *line, char **col, int max) {
	int n = 0;

	line[strcspn(line, "\n")] = 0;
	for (char *p = line; n < max;) {
		col[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = 0;
	}
	return n;
}

START_TEST(dst_oracle) {
	FILE *f = unit_oracle_open("cron_dst.tsv");
	char line[1 << 17], *col[5], err[256], zone[64] = "";
	usch_tz *tz = NULL;
	int rows = 0, zones = 0, transitions = 0;
	int64_t last_start = 0;
	long fires = 0;

	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		ck_assert_int_eq(split_tabs(line, col, 5), 5);
		if (strcmp(col[0], zone) != 0) {
			usch_tz_free(tz);
			tz = usch_tz_load(col[0], err, sizeof(err));
			ck_assert_msg(tz != NULL, "%s: %s", col[0], err);
			snprintf(zone, sizeof(zone), "%s", col[0]);
			zones++;
		}
		usch_cron c = parse_ok(col[1], "x");
		int64_t start = strtoll(col[2], NULL, 10);
		int64_t end = strtoll(col[3], NULL, 10), t = start;
		if (start != last_start)
			transitions++;
		last_start = start;
		char *p = col[4];
		while (strcmp(col[4], "-") != 0 && *p) {
			int64_t want = strtoll(p, &p, 10), got;
			char b[32], g[32], w[32];
			if (*p == ',')
				p++;
			got = usch_cron_next(&c, tz, t);
			QUIET_EQ(got, want, "%s \"%s\" after %s: got %s, want %s", zone, col[1], fmt(t, b, sizeof(b)),
					fmt(got, g, sizeof(g)), fmt(want, w, sizeof(w)));
			t = got;
			fires++;
		}
		int64_t after = usch_cron_next(&c, tz, t);
		char g[32];
		ck_assert_msg(after > end, "%s \"%s\": extra fire %s", zone, col[1], fmt(after, g, sizeof(g)));
		rows++;
	}
	usch_tz_free(tz);
	fclose(f);
	ck_assert_int_ge(zones, 5);
	ck_assert_int_ge(transitions, 20);
	ck_assert_int_ge(rows, 400);
	printf("cron_dst: %d rows, %d transitions, %d zones, %ld fires\n", rows, transitions, zones, fires);
}
END_TEST

START_TEST(croniter_oracle) {
	FILE *f = unit_oracle_open("cron_croniter.tsv");
	char line[1024], *col[3], prev[256] = "";
	int rows = 0, exprs = 0;
	usch_cron c;

	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		ck_assert_int_eq(split_tabs(line, col, 3), 3);
		if (strcmp(col[0], prev) != 0) {
			c = parse_ok(col[0], "x");
			snprintf(prev, sizeof(prev), "%s", col[0]);
			exprs++;
		}
		int64_t t = strtoll(col[1], NULL, 10);
		for (char *p = col[2]; *p;) {
			int64_t want = strtoll(p, &p, 10), got;
			char b[32], g[32], w[32];
			if (*p == ',')
				p++;
			got = usch_cron_next(&c, usch_tz_utc(), t);
			QUIET_EQ(got, want, "\"%s\" after %s: got %s, croniter %s", col[0], fmt(t, b, sizeof(b)),
					fmt(got, g, sizeof(g)), fmt(want, w, sizeof(w)));
			t = got;
		}
		rows++;
	}
	fclose(f);
	ck_assert_int_ge(exprs, 3000);
	printf("cron_croniter: %d expressions, %d rows\n", exprs, rows);
}
END_TEST

static Suite *cron_suite(void) {
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("syntax");

	tcase_add_test(tc, struct_is_plain_and_small);
	tcase_add_test(tc, five_six_seven_fields);
	tcase_add_test(tc, numbers_ranges_steps_lists);
	tcase_add_test(tc, names_and_sunday);
	tcase_add_test(tc, day_fields_vixie_rule);
	tcase_add_test(tc, quartz_dom);
	tcase_add_test(tc, quartz_dow);
	tcase_add_test(tc, macros);
	tcase_add_test(tc, hash_is_stable);
	tcase_add_test(tc, out_of_range_instants);
	tcase_add_loop_test(tc, error_messages, 0, (int) (sizeof(errors) / sizeof(errors[0])));
	tcase_add_test(tc, error_buffer_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("zones");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dst_examples);
	tcase_add_test(tc, dst_oracle);
	tcase_add_test(tc, croniter_oracle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) {
	return unit_run(cron_suite());
}
