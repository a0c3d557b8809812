/* test_trigger.c - triggers: interval arithmetic (to the int64 edges, and
 * against a 128-bit reference), date, calendar intervals against Python's
 * zoneinfo (oracle build/oracle/cal_intervals.tsv: month-end clamping, leap
 * years, DST gaps and folds), cron wrapping, AND/OR, windows on each kind,
 * clocks, describe strings and concurrent next() calls. */
#include <check.h>
#include "unit.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "trigger.h"
#include "tz.h"

#define SEC 1000000LL
#define MIN (60 * SEC)
#define HOUR (3600 * SEC)
#define DAY (86400 * SEC)
#define NEVER INT64_MAX

/* ---- helpers -------------------------------------------------------------- */

/* Wall time in zone -> µs, for times that exist once. */
static int64_t wall(const char *zname, int y, int mo, int d, int h, int mi, int s) {
	struct usch_civil c = { y, mo, d, h, mi, s };
	int64_t at[2];
	int n = usch_tz_from_local(unit_zone(zname), usch_civil_to_secs(&c), at);
	ck_assert_int_eq(n, 1);
	return at[0] * SEC;
}

static const char *describe(const usch_trigger *t) {
	static char buf[512];
	usch_trigger_describe(t, buf, sizeof buf);
	return buf;
}

static usch_trigger *interval(int64_t p, int64_t a) {
	char err[256] = "";
	usch_trigger *t = usch_trigger_interval(p, a, err, sizeof err);
	ck_assert_msg(t != NULL, "interval %lld: %s", (long long) p, err);
	return t;
}

static usch_trigger *date(int64_t at) {
	char err[256] = "";
	usch_trigger *t = usch_trigger_date(at, NULL, err, sizeof err);
	ck_assert_msg(t != NULL, "date: %s", err);
	return t;
}

static usch_trigger *calendar(int n, enum usch_cal_unit u, int64_t a, const char *z) {
	char err[256] = "";
	usch_trigger *t = usch_trigger_calendar(n, u, a, unit_zone(z), err, sizeof err);
	ck_assert_msg(t != NULL, "calendar: %s", err);
	return t;
}

static usch_trigger *cron(const char *expr, const char *z) {
	char err[256] = "";
	usch_trigger *t = usch_trigger_cron(expr, "job", unit_zone(z), err, sizeof err);
	ck_assert_msg(t != NULL, "%s: %s", expr, err);
	return t;
}

static usch_trigger *and2(usch_trigger *a, usch_trigger *b) {
	usch_trigger *c[] = { a, b };
	char err[256] = "";
	usch_trigger *t = usch_trigger_and(c, 2, err, sizeof err);
	ck_assert_msg(t != NULL, "and: %s", err);
	return t;
}

static usch_trigger *or2(usch_trigger *a, usch_trigger *b) {
	usch_trigger *c[] = { a, b };
	char err[256] = "";
	usch_trigger *t = usch_trigger_or(c, 2, err, sizeof err);
	ck_assert_msg(t != NULL, "or: %s", err);
	return t;
}

/* A constructor that must fail: NULL, with exactly this reason in err
 * (which the call wrote before this runs). */
static void expect_fail(usch_trigger *t, const char *err, const char *want) {
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err, want);
}

#define NEXT_EQ(t, after, want) ck_assert_int_eq(usch_trigger_next((t), (after)), (want))

/* ---- interval ------------------------------------------------------------- */

START_TEST(interval_basic) {
	usch_trigger *t = interval(10, 100);
	ck_assert_int_eq(usch_trigger_kind(t), USCH_TRIGGER_INTERVAL);
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_MONO);
	NEXT_EQ(t, INT64_MIN, 100);
	NEXT_EQ(t, 0, 100);
	NEXT_EQ(t, 99, 100);
	NEXT_EQ(t, 100, 110);
	NEXT_EQ(t, 105, 110);
	NEXT_EQ(t, 109, 110);
	NEXT_EQ(t, 110, 120);
	NEXT_EQ(t, 1000000000000, 1000000000010);
	usch_trigger_free(t);
}
END_TEST

START_TEST(interval_negative_timeline) {
	usch_trigger *t = interval(10, -25);
	NEXT_EQ(t, -100, -25);
	NEXT_EQ(t, -26, -25);
	NEXT_EQ(t, -25, -15);
	NEXT_EQ(t, -16, -15);
	NEXT_EQ(t, -15, -5);
	NEXT_EQ(t, -1, 5);
	NEXT_EQ(t, 0, 5);
	NEXT_EQ(t, 5, 15);
	usch_trigger_free(t);
}
END_TEST

START_TEST(interval_int64_edges) {
	const int64_t p = HOUR;
	const int64_t last = INT64_MAX / p * p; /* last fire that fits */
	usch_trigger *t = interval(p, 0);
	NEXT_EQ(t, last - 1, last);
	NEXT_EQ(t, last, NEVER);
	NEXT_EQ(t, INT64_MAX - 1, NEVER);
	NEXT_EQ(t, INT64_MAX, NEVER);
	usch_trigger_free(t);

	/* after - anchor spans more than INT64_MAX. */
	t = interval(1, INT64_MIN);
	NEXT_EQ(t, INT64_MIN, INT64_MIN + 1);
	NEXT_EQ(t, 0, 1);
	NEXT_EQ(t, INT64_MAX - 2, INT64_MAX - 1);
	NEXT_EQ(t, INT64_MAX - 1, NEVER);
	usch_trigger_free(t);

	t = interval(INT64_MAX, INT64_MIN);
	NEXT_EQ(t, INT64_MIN, -1);
	NEXT_EQ(t, -2, -1);
	NEXT_EQ(t, -1, INT64_MAX - 1);
	NEXT_EQ(t, INT64_MAX - 2, INT64_MAX - 1);
	NEXT_EQ(t, INT64_MAX - 1, NEVER);
	usch_trigger_free(t);

	t = interval(INT64_MAX, 1);
	NEXT_EQ(t, 1, NEVER); /* 1 + INT64_MAX does not fit */
	usch_trigger_free(t);
}
END_TEST

/* Values spread over every magnitude, edges included. */
static int64_t any_int64(void) {
	uint64_t r = unit_rng();
	switch (r % 4) {
	case 0:
		return (int64_t) unit_rng();
	case 1:
		return (int64_t) (unit_rng() >> (r >> 8) % 64) * ((r >> 16) & 1 ? -1 : 1);
	case 2:
		return (r >> 8) & 1 ? INT64_MAX - (int64_t) (r >> 40) : INT64_MIN + (int64_t) (r >> 40);
	default:
		return (int64_t) (r >> 40) - (1 << 23);
	}
}

START_TEST(interval_matches_int128_reference) {
	unit_rng_seed(0x2545F4914F6CDD1Dull);
	for (int i = 0; i < 100000; i++) {
		int64_t p = any_int64();
		if (p <= 0)
			p = p == INT64_MIN ? 1 : -p;
		if (p == 0)
			p = 1;
		int64_t a = any_int64(), after = any_int64();
		__int128 want;
		if (after < a) {
			want = a;
		}
		else {
			__int128 k = ((__int128) after - a) / p + 1;
			want = a + k * p;
		}
		if (want >= INT64_MAX)
			want = INT64_MAX;
		usch_trigger *t = interval(p, a);
		int64_t got = usch_trigger_next(t, after);
		usch_trigger_free(t);
		ck_assert_msg(got == (int64_t) want, "p=%lld a=%lld after=%lld: got %lld want %lld", (long long) p,
				(long long) a, (long long) after, (long long) got, (long long) want);
	}
}
END_TEST

START_TEST(interval_window) {
	usch_trigger *t = interval(300, 0);
	ck_assert_int_eq(usch_trigger_set_window(t, 1000, 2000, NULL, 0), 0);
	NEXT_EQ(t, INT64_MIN, 1200);
	NEXT_EQ(t, 0, 1200);
	NEXT_EQ(t, 1200, 1500);
	NEXT_EQ(t, 1500, 1800);
	NEXT_EQ(t, 1800, NEVER);
	NEXT_EQ(t, INT64_MAX, NEVER);
	/* Both bounds are inclusive. */
	ck_assert_int_eq(usch_trigger_set_window(t, 900, 1800, NULL, 0), 0);
	NEXT_EQ(t, 0, 900);
	NEXT_EQ(t, 899, 900);
	NEXT_EQ(t, 1500, 1800);
	NEXT_EQ(t, 1799, 1800);
	NEXT_EQ(t, 1800, NEVER);
	/* A window holding one fire, or none. */
	ck_assert_int_eq(usch_trigger_set_window(t, 1500, 1500, NULL, 0), 0);
	NEXT_EQ(t, 0, 1500);
	NEXT_EQ(t, 1500, NEVER);
	ck_assert_int_eq(usch_trigger_set_window(t, 1501, 1799, NULL, 0), 0);
	NEXT_EQ(t, 0, NEVER);
	char why[64];
	ck_assert_int_eq(usch_trigger_set_window(t, 2, 1, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "the window starts after it ends");
	ck_assert_int_eq(usch_trigger_set_window(t, INT64_MIN, INT64_MAX, NULL, 0), 0);
	NEXT_EQ(t, INT64_MIN, 0);
	/* Start at INT64_MIN + 1: the "start - 1" bound must not wrap. */
	ck_assert_int_eq(usch_trigger_set_window(t, INT64_MIN + 1, INT64_MAX, NULL, 0), 0);
	NEXT_EQ(t, INT64_MIN, 0);
	usch_trigger_free(t);
}
END_TEST

START_TEST(interval_rejects_bad_period) {
	char err[256];
	expect_fail(usch_trigger_interval(0, 0, err, sizeof err), err, "the period must be greater than 0");
	expect_fail(usch_trigger_interval(-1, 0, err, sizeof err), err, "the period must be greater than 0");
	expect_fail(usch_trigger_interval(INT64_MIN, 0, err, sizeof err), err, "the period must be greater than 0");
	/* err is optional, and a short one is cut, not overrun */
	ck_assert_ptr_null(usch_trigger_interval(0, 0, NULL, 0));
	char small[8];
	expect_fail(usch_trigger_interval(0, 0, small, sizeof small), small, "the per");
}
END_TEST

/* ---- date ----------------------------------------------------------------- */

START_TEST(date_once) {
	int64_t at = unit_utc_us(2026, 11, 24, 8, 0, 0) + 123;
	usch_trigger *t = date(at);
	ck_assert_int_eq(usch_trigger_kind(t), USCH_TRIGGER_DATE);
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_WALL);
	NEXT_EQ(t, INT64_MIN, at);
	NEXT_EQ(t, at - 1, at);
	NEXT_EQ(t, at, NEVER);
	NEXT_EQ(t, INT64_MAX, NEVER);
	usch_trigger_free(t);

	t = date(INT64_MIN);
	NEXT_EQ(t, INT64_MIN, NEVER);
	usch_trigger_free(t);
	t = date(INT64_MAX); /* INT64_MAX is "never" on this timeline */
	NEXT_EQ(t, 0, NEVER);
	usch_trigger_free(t);
}
END_TEST

START_TEST(date_window) {
	usch_trigger *t = date(5000);
	ck_assert_int_eq(usch_trigger_set_window(t, 5000, 5000, NULL, 0), 0);
	NEXT_EQ(t, 0, 5000);
	ck_assert_int_eq(usch_trigger_set_window(t, 5001, INT64_MAX, NULL, 0), 0);
	NEXT_EQ(t, 0, NEVER);
	ck_assert_int_eq(usch_trigger_set_window(t, INT64_MIN, 4999, NULL, 0), 0);
	NEXT_EQ(t, 0, NEVER);
	usch_trigger_free(t);
}
END_TEST

/* ---- calendar ------------------------------------------------------------- */

static enum usch_cal_unit unit_of(const char *s) {
	if (strcmp(s, "days") == 0)
		return USCH_CAL_DAYS;
	if (strcmp(s, "weeks") == 0)
		return USCH_CAL_WEEKS;
	if (strcmp(s, "months") == 0)
		return USCH_CAL_MONTHS;
	ck_assert_str_eq(s, "years");
	return USCH_CAL_YEARS;
}

START_TEST(calendar_oracle) {
	char line[512];
	FILE *f = unit_oracle_open("cal_intervals.tsv");

	int rows = 0, failures = 0, cases = 0;
	char last[64] = "";
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		char name[64], zname[64], unit[16], want[32];
		int n;
		long long anchor, after;
		int got_fields = sscanf(
				line, "%63s %63s %15s %d %lld %lld %31s", name, zname, unit, &n, &anchor, &after, want);
		ck_assert_int_eq(got_fields, 7);
		if (strcmp(name, last) != 0) {
			cases++;
			snprintf(last, sizeof last, "%s", name);
		}
		int64_t expect = strcmp(want, "never") == 0 ? NEVER : strtoll(want, NULL, 10);
		usch_trigger *t = calendar(n, unit_of(unit), anchor, zname);
		int64_t got = usch_trigger_next(t, after);
		usch_trigger_free(t);
		rows++;
		if (got != expect && failures++ < 20)
			fprintf(stderr, "calendar %s: next after %lld = %lld, want %lld\n", name, after,
					(long long) got, (long long) expect);
	}
	fclose(f);
	ck_assert_int_ge(cases, 15);
	ck_assert_int_ge(rows, 2000);
	ck_assert_int_eq(failures, 0);
}
END_TEST

/* The oracle's main claims, spelled out (they also document the rules). */
START_TEST(calendar_month_end_clamps_from_anchor) {
	usch_trigger *t = calendar(1, USCH_CAL_MONTHS, wall("Europe/Paris", 2024, 1, 31, 9, 0, 0), "Europe/Paris");
	int64_t x = wall("Europe/Paris", 2024, 1, 31, 9, 0, 0);
	static const int want[][2] = { { 2, 29 }, { 3, 31 }, { 4, 30 }, { 5, 31 } };
	for (int i = 0; i < 4; i++) {
		x = usch_trigger_next(t, x);
		ck_assert_int_eq(x, wall("Europe/Paris", 2024, want[i][0], want[i][1], 9, 0, 0));
	}
	NEXT_EQ(t, wall("Europe/Paris", 2025, 1, 31, 9, 0, 0), wall("Europe/Paris", 2025, 2, 28, 9, 0, 0));
	usch_trigger_free(t);

	t = calendar(1, USCH_CAL_YEARS, unit_utc_us(2024, 2, 29, 0, 0, 0), "UTC");
	NEXT_EQ(t, unit_utc_us(2024, 2, 29, 0, 0, 0), unit_utc_us(2025, 2, 28, 0, 0, 0));
	NEXT_EQ(t, unit_utc_us(2027, 3, 1, 0, 0, 0), unit_utc_us(2028, 2, 29, 0, 0, 0));
	usch_trigger_free(t);
}
END_TEST

START_TEST(calendar_dst_gap_and_fold) {
	/* Paris 2024-03-31 02:30 does not exist: the transition, 03:00 CEST. */
	usch_trigger *t = calendar(1, USCH_CAL_DAYS, wall("Europe/Paris", 2024, 3, 25, 2, 30, 0), "Europe/Paris");
	NEXT_EQ(t, wall("Europe/Paris", 2024, 3, 30, 2, 30, 0), unit_utc_us(2024, 3, 31, 1, 0, 0));
	NEXT_EQ(t, unit_utc_us(2024, 3, 31, 1, 0, 0), wall("Europe/Paris", 2024, 4, 1, 2, 30, 0));
	/* 2024-10-27 02:30 occurs twice: the first (CEST, 00:30 UTC) only. */
	NEXT_EQ(t, wall("Europe/Paris", 2024, 10, 26, 2, 30, 0), unit_utc_us(2024, 10, 27, 0, 30, 0));
	NEXT_EQ(t, unit_utc_us(2024, 10, 27, 0, 30, 0), wall("Europe/Paris", 2024, 10, 28, 2, 30, 0));
	usch_trigger_free(t);

	/* New York 2024-03-10 02:30 EST/EDT gap -> 03:00 EDT = 07:00 UTC;
	 * 2024-11-03 01:30 twice -> 01:30 EDT = 05:30 UTC. */
	t = calendar(1, USCH_CAL_DAYS, wall("America/New_York", 2024, 3, 1, 2, 30, 0), "America/New_York");
	NEXT_EQ(t, wall("America/New_York", 2024, 3, 9, 2, 30, 0), unit_utc_us(2024, 3, 10, 7, 0, 0));
	usch_trigger_free(t);
	t = calendar(1, USCH_CAL_DAYS, wall("America/New_York", 2024, 11, 1, 1, 30, 0), "America/New_York");
	NEXT_EQ(t, wall("America/New_York", 2024, 11, 2, 1, 30, 0), unit_utc_us(2024, 11, 3, 5, 30, 0));
	NEXT_EQ(t, unit_utc_us(2024, 11, 3, 5, 30, 0), wall("America/New_York", 2024, 11, 4, 1, 30, 0));
	usch_trigger_free(t);
}
END_TEST

START_TEST(calendar_huge_instants) {
	usch_trigger *t = calendar(1, USCH_CAL_MONTHS, unit_utc_us(2024, 1, 31, 9, 0, 0), "Europe/Paris");
	NEXT_EQ(t, INT64_MAX - 1, NEVER);
	NEXT_EQ(t, INT64_MAX, NEVER);
	NEXT_EQ(t, INT64_MIN, unit_utc_us(2024, 1, 31, 9, 0, 0));
	/* Far but representable: within a month, at the anchor's wall time. */
	int64_t far = INT64_MAX / 2;
	int64_t got = usch_trigger_next(t, far);
	ck_assert_int_gt(got, far);
	ck_assert_int_lt(got - far, 32 * DAY);
	ck_assert_int_eq(usch_tz_to_local(unit_zone("Europe/Paris"), got / SEC) % 86400, 9 * 3600 + 3600);
	usch_trigger_free(t);

	t = calendar(1000000, USCH_CAL_YEARS, unit_utc_us(2024, 1, 1, 0, 0, 0), "UTC");
	NEXT_EQ(t, unit_utc_us(2024, 1, 1, 0, 0, 0), NEVER);
	usch_trigger_free(t);
	t = calendar(2147483647, USCH_CAL_WEEKS, unit_utc_us(2024, 1, 1, 0, 0, 0), "UTC");
	NEXT_EQ(t, unit_utc_us(2024, 1, 1, 0, 0, 0), NEVER);
	usch_trigger_free(t);
	t = calendar(2147483647, USCH_CAL_MONTHS, unit_utc_us(2024, 1, 1, 0, 0, 0), "UTC");
	NEXT_EQ(t, unit_utc_us(2024, 1, 1, 0, 0, 0), NEVER);
	usch_trigger_free(t);
	t = calendar(1, USCH_CAL_DAYS, INT64_MAX - DAY / 2, "UTC");
	NEXT_EQ(t, INT64_MAX - DAY / 2, NEVER);
	usch_trigger_free(t);
}
END_TEST

START_TEST(calendar_window_and_args) {
	usch_trigger *t = calendar(2, USCH_CAL_WEEKS, unit_utc_us(2024, 1, 1, 12, 0, 0), "UTC");
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_WALL);
	ck_assert_int_eq(usch_trigger_set_window(t, unit_utc_us(2024, 2, 1, 0, 0, 0),
					 unit_utc_us(2024, 3, 11, 12, 0, 0), NULL, 0),
			0);
	NEXT_EQ(t, 0, unit_utc_us(2024, 2, 12, 12, 0, 0));
	NEXT_EQ(t, unit_utc_us(2024, 2, 12, 12, 0, 0), unit_utc_us(2024, 2, 26, 12, 0, 0));
	NEXT_EQ(t, unit_utc_us(2024, 2, 26, 12, 0, 0), unit_utc_us(2024, 3, 11, 12, 0, 0));
	NEXT_EQ(t, unit_utc_us(2024, 3, 11, 12, 0, 0), NEVER);
	usch_trigger_free(t);

	/* NULL zone is UTC. */
	char err[256];
	t = usch_trigger_calendar(1, USCH_CAL_DAYS, unit_utc_us(2024, 1, 1, 12, 0, 0), NULL, err, sizeof err);
	ck_assert_msg(t != NULL, "%s", err);
	NEXT_EQ(t, unit_utc_us(2024, 6, 1, 0, 0, 0), unit_utc_us(2024, 6, 1, 12, 0, 0));
	usch_trigger_free(t);

	expect_fail(usch_trigger_calendar(0, USCH_CAL_DAYS, 0, NULL, err, sizeof err), err,
			"the count must be at least 1");
	expect_fail(usch_trigger_calendar(-3, USCH_CAL_MONTHS, 0, NULL, err, sizeof err), err,
			"the count must be at least 1");
	expect_fail(usch_trigger_calendar(1, (enum usch_cal_unit) 42, 0, NULL, err, sizeof err), err,
			"unknown calendar unit 42");
}
END_TEST

/* ---- cron ----------------------------------------------------------------- */

START_TEST(cron_wraps_seconds) {
	usch_trigger *t = cron("0 9 * * mon-fri", "Europe/Paris");
	ck_assert_int_eq(usch_trigger_kind(t), USCH_TRIGGER_CRON);
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_WALL);
	ck_assert(!usch_trigger_is_start(t));
	/* 2026-11-24 is a Tuesday; 09:00 CET = 08:00 UTC. */
	int64_t fire = unit_utc_us(2026, 11, 24, 8, 0, 0);
	NEXT_EQ(t, fire - 1, fire);
	NEXT_EQ(t, fire - SEC, fire);
	NEXT_EQ(t, fire - SEC + 1, fire);
	NEXT_EQ(t, fire, unit_utc_us(2026, 11, 25, 8, 0, 0));
	NEXT_EQ(t, fire + 1, unit_utc_us(2026, 11, 25, 8, 0, 0));
	NEXT_EQ(t, fire + SEC - 1, unit_utc_us(2026, 11, 25, 8, 0, 0));
	/* Friday -> Monday. */
	NEXT_EQ(t, unit_utc_us(2026, 11, 27, 8, 0, 0), unit_utc_us(2026, 11, 30, 8, 0, 0));
	/* Before the epoch: floor, not truncation, of negative µs. */
	int64_t old = unit_utc_us(1969, 12, 31, 8, 0, 0); /* a Wednesday */
	usch_trigger_free(t);
	t = cron("0 8 * * *", "UTC");
	NEXT_EQ(t, old - 1, old);
	NEXT_EQ(t, old - SEC + 1, old);
	NEXT_EQ(t, old, old + DAY);
	NEXT_EQ(t, INT64_MAX - 1, NEVER);
	NEXT_EQ(t, INT64_MAX, NEVER);
	usch_trigger_free(t);
}
END_TEST

START_TEST(cron_window_and_errors) {
	usch_trigger *t = cron("*/15 * * * *", "UTC");
	ck_assert_int_eq(usch_trigger_set_window(t, unit_utc_us(2026, 1, 1, 0, 7, 0), unit_utc_us(2026, 1, 1, 1, 0, 0),
					 NULL, 0),
			0);
	NEXT_EQ(t, 0, unit_utc_us(2026, 1, 1, 0, 15, 0));
	NEXT_EQ(t, unit_utc_us(2026, 1, 1, 0, 45, 0), unit_utc_us(2026, 1, 1, 1, 0, 0));
	NEXT_EQ(t, unit_utc_us(2026, 1, 1, 1, 0, 0), NEVER);
	usch_trigger_free(t);

	char err[256] = "";
	ck_assert_ptr_null(usch_trigger_cron("0 24 * * *", "job", NULL, err, sizeof err));
	ck_assert_msg(err[0] != '\0', "no error message");
	err[0] = '\0';
	ck_assert_ptr_null(usch_trigger_cron(NULL, "job", NULL, err, sizeof err));
	ck_assert_msg(err[0] != '\0', "no error message");

	t = cron("@start", "UTC");
	ck_assert(usch_trigger_is_start(t));
	NEXT_EQ(t, 0, NEVER);
	usch_trigger_free(t);
}
END_TEST

START_TEST(cron_describe) {
	usch_trigger *t = cron("0 9 * * mon-fri", "Europe/Paris");
	ck_assert_str_eq(describe(t), "cron \"0 9 * * mon-fri\"");
	t = and2(t, interval(HOUR, 0));
	ck_assert_str_eq(describe(t), "and(cron \"0 9 * * mon-fri\", interval 1h)");
	usch_trigger_free(t);
}
END_TEST

/* ---- combinators ---------------------------------------------------------- */

START_TEST(or_earliest) {
	usch_trigger *t = or2(interval(10, 0), date(15));
	ck_assert_int_eq(usch_trigger_kind(t), USCH_TRIGGER_OR);
	NEXT_EQ(t, -1, 0);
	NEXT_EQ(t, 0, 10);
	NEXT_EQ(t, 10, 15);
	NEXT_EQ(t, 15, 20);
	NEXT_EQ(t, 20, 30);
	ck_assert_int_eq(usch_trigger_set_window(t, 12, 30, NULL, 0), 0);
	NEXT_EQ(t, 0, 15);
	NEXT_EQ(t, 20, 30);
	NEXT_EQ(t, 30, NEVER);
	usch_trigger_free(t);

	/* An OR of exhausted children is exhausted. */
	t = or2(date(5), date(7));
	NEXT_EQ(t, 5, 7);
	NEXT_EQ(t, 7, NEVER);
	usch_trigger_free(t);
}
END_TEST

START_TEST(and_agreement) {
	usch_trigger *t = and2(interval(6, 0), interval(4, 0));
	ck_assert_int_eq(usch_trigger_kind(t), USCH_TRIGGER_AND);
	NEXT_EQ(t, -1, 0);
	NEXT_EQ(t, 0, 12);
	NEXT_EQ(t, 11, 12);
	NEXT_EQ(t, 12, 24);
	ck_assert_int_eq(usch_trigger_set_window(t, 13, 40, NULL, 0), 0);
	NEXT_EQ(t, 0, 24);
	NEXT_EQ(t, 24, 36);
	NEXT_EQ(t, 36, NEVER);
	usch_trigger_free(t);

	/* Three children, phases that only meet far out: 7k, 11k+3, 13k+5. */
	usch_trigger *c[] = { interval(7, 0), interval(11, 3), interval(13, 5) };
	t = usch_trigger_and(c, 3, NULL, 0);
	ck_assert_ptr_nonnull(t);
	int64_t first = -1;
	for (int64_t x = 0; x < 7 * 11 * 13; x++)
		if (x % 7 == 0 && x % 11 == 3 && x % 13 == 5 && x > 0) {
			first = x;
			break;
		}
	ck_assert_int_gt(first, 0);
	NEXT_EQ(t, 0, first);
	NEXT_EQ(t, first, first + 7 * 11 * 13);
	usch_trigger_free(t);
}
END_TEST

START_TEST(and_never_agrees_terminates) {
	/* Even vs odd: they never meet; the round bound ends the search. */
	usch_trigger *t = and2(interval(2, 0), interval(2, 1));
	NEXT_EQ(t, 0, NEVER);
	NEXT_EQ(t, INT64_MIN, NEVER);
	usch_trigger_free(t);

	/* Wall-clock children: 09:00 Paris daily vs 09:30 Paris daily. */
	t = and2(calendar(1, USCH_CAL_DAYS, wall("Europe/Paris", 2024, 1, 1, 9, 0, 0), "Europe/Paris"),
			calendar(1, USCH_CAL_DAYS, wall("Europe/Paris", 2024, 1, 1, 9, 30, 0), "Europe/Paris"));
	NEXT_EQ(t, 0, NEVER);
	usch_trigger_free(t);

	/* A child that runs out ends the search at once. */
	t = and2(date(5), interval(10, 0));
	NEXT_EQ(t, 0, NEVER);
	usch_trigger_free(t);
	t = and2(date(10), interval(10, 0));
	NEXT_EQ(t, 0, 10);
	NEXT_EQ(t, 10, NEVER);
	usch_trigger_free(t);
}
END_TEST

START_TEST(and_on_wall_clock) {
	/* Daily 09:00 Paris AND every 2 weeks from Friday 2024-01-05 09:00. */
	int64_t fri = wall("Europe/Paris", 2024, 1, 5, 9, 0, 0);
	usch_trigger *t = and2(calendar(1, USCH_CAL_DAYS, wall("Europe/Paris", 2024, 1, 1, 9, 0, 0), "Europe/Paris"),
			calendar(2, USCH_CAL_WEEKS, fri, "Europe/Paris"));
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_WALL);
	NEXT_EQ(t, 0, fri);
	NEXT_EQ(t, fri, wall("Europe/Paris", 2024, 1, 19, 9, 0, 0));
	/* Across the March change: 2024-03-29 is Friday, two weeks on. */
	NEXT_EQ(t, wall("Europe/Paris", 2024, 3, 20, 0, 0, 0), wall("Europe/Paris", 2024, 3, 29, 9, 0, 0));
	usch_trigger_free(t);

	/* An interval inside a wall combinator runs on the wall timeline: a
	 * 30-minute grid from midnight UTC meets 09:00 Paris (08:00 UTC). */
	t = and2(interval(30 * MIN, unit_utc_us(2024, 1, 1, 0, 0, 0)),
			calendar(1, USCH_CAL_DAYS, wall("Europe/Paris", 2024, 1, 1, 9, 0, 0), "Europe/Paris"));
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_WALL);
	NEXT_EQ(t, unit_utc_us(2024, 1, 10, 12, 0, 0), unit_utc_us(2024, 1, 11, 8, 0, 0));
	usch_trigger_free(t);
}
END_TEST

START_TEST(combinator_clock_and_nesting) {
	usch_trigger *t = and2(interval(10, 0), interval(20, 0));
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_MONO);
	t = or2(t, interval(7, 0));
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_MONO);
	NEXT_EQ(t, 0, 7);
	NEXT_EQ(t, 14, 20);
	t = or2(t, date(1000));
	ck_assert_int_eq(usch_trigger_clock(t), USCH_CLOCK_WALL);
	NEXT_EQ(t, 994, 1000);
	NEXT_EQ(t, 1000, 1001); /* 7 * 143 */
	ck_assert_str_eq(describe(t),
			"or(or(and(interval 10us, interval 20us), interval 7us), at 1970-01-01T00:00:00.001+00:00)");
	usch_trigger_free(t);
}
END_TEST

START_TEST(combinator_bad_args_free_children) {
	char err[256];
	expect_fail(usch_trigger_and(NULL, 0, err, sizeof err), err, "and needs one or more triggers");
	usch_trigger *none[1] = { NULL };
	expect_fail(usch_trigger_or(none, 0, err, sizeof err), err, "or needs one or more triggers");
	/* A NULL child: the others are freed (ASan/valgrind check the leak). */
	usch_trigger *c[] = { interval(1, 0), NULL, date(3) };
	expect_fail(usch_trigger_and(c, 3, err, sizeof err), err, "and: trigger 2 of 3 is missing");
	usch_trigger *d[] = { interval(1, 0), NULL };
	expect_fail(usch_trigger_or(d, 2, err, sizeof err), err, "or: trigger 2 of 2 is missing");
	/* The caller's array is copied, not kept. */
	usch_trigger *e[] = { interval(1, 0) };
	usch_trigger *t = usch_trigger_or(e, 1, NULL, 0);
	e[0] = NULL;
	NEXT_EQ(t, 0, 1);
	usch_trigger_free(t);
	usch_trigger_free(NULL);
}
END_TEST

/* ---- describe ------------------------------------------------------------- */

START_TEST(describe_kinds) {
	usch_trigger *t = interval(90 * MIN, 0);
	ck_assert_str_eq(describe(t), "interval 1h30m");
	usch_trigger_free(t);
	t = interval(1500 * 1000, 0);
	ck_assert_str_eq(describe(t), "interval 1s500ms");
	usch_trigger_free(t);
	t = interval(2 * DAY + 1, 0);
	ck_assert_str_eq(describe(t), "interval 2d1us");
	usch_trigger_free(t);
	t = interval(15 * DAY, 0);
	ck_assert_str_eq(describe(t), "interval 2w1d");
	usch_trigger_free(t);

	t = usch_trigger_date(unit_utc_us(2026, 11, 24, 8, 0, 0), unit_zone("Europe/Paris"), NULL, 0);
	ck_assert_str_eq(describe(t), "at 2026-11-24T09:00:00+01:00");
	usch_trigger_free(t);
	t = usch_trigger_date(unit_utc_us(2026, 7, 4, 16, 0, 0) + 250000, unit_zone("America/New_York"), NULL, 0);
	ck_assert_str_eq(describe(t), "at 2026-07-04T12:00:00.250-04:00");
	usch_trigger_free(t);
	t = usch_trigger_date(unit_utc_us(1969, 12, 31, 23, 59, 59) + 1, NULL, NULL, 0);
	ck_assert_str_eq(describe(t), "at 1969-12-31T23:59:59.000001+00:00");
	usch_trigger_free(t);
	t = usch_trigger_date(unit_utc_us(10000, 1, 1, 0, 0, 0), NULL, NULL, 0);
	ck_assert_str_eq(describe(t), "at 253402300800000000us since the epoch");
	usch_trigger_free(t);
	t = usch_trigger_date(unit_utc_us(2024, 8, 1, 0, 0, 0), unit_zone("Asia/Kolkata"), NULL, 0);
	ck_assert_str_eq(describe(t), "at 2024-08-01T05:30:00+05:30");
	usch_trigger_free(t);

	t = calendar(1, USCH_CAL_MONTHS, 0, "Europe/Paris");
	ck_assert_str_eq(describe(t), "every 1 month");
	usch_trigger_free(t);
	t = calendar(2, USCH_CAL_WEEKS, 0, "UTC");
	ck_assert_str_eq(describe(t), "every 2 weeks");
	usch_trigger_free(t);
	t = calendar(3, USCH_CAL_DAYS, 0, "UTC");
	ck_assert_str_eq(describe(t), "every 3 days");
	usch_trigger_free(t);
	t = calendar(1, USCH_CAL_YEARS, 0, "UTC");
	ck_assert_str_eq(describe(t), "every 1 year");
	usch_trigger_free(t);

	t = and2(interval(HOUR, 0), calendar(1, USCH_CAL_DAYS, 0, "UTC"));
	ck_assert_str_eq(describe(t), "and(interval 1h, every 1 day)");
	usch_trigger_free(t);
}
END_TEST

START_TEST(describe_truncates_like_snprintf) {
	usch_trigger *t = and2(interval(HOUR, 0), interval(90 * MIN, 0));
	const char *full = "and(interval 1h, interval 1h30m)";
	char buf[64];
	ck_assert_uint_eq(usch_trigger_describe(t, buf, sizeof buf), strlen(full));
	ck_assert_str_eq(buf, full);
	for (size_t len = 0; len <= strlen(full) + 1; len++) {
		memset(buf, 'x', sizeof buf);
		ck_assert_uint_eq(usch_trigger_describe(t, buf, len), strlen(full));
		if (len == 0) {
			ck_assert_int_eq(buf[0], 'x');
			continue;
		}
		ck_assert_uint_eq(strlen(buf), len - 1 < strlen(full) ? len - 1 : strlen(full));
		ck_assert_int_eq(strncmp(buf, full, len - 1), 0);
		ck_assert_int_eq(buf[len], 'x');
	}
	ck_assert_uint_eq(usch_trigger_describe(t, NULL, 0), strlen(full));
	usch_trigger_free(t);
}
END_TEST

/* ---- concurrency ---------------------------------------------------------- */

#define PROBES 2000
static const usch_trigger *shared_trigger;
static int64_t probe_at[PROBES], probe_want[PROBES];

static void *probe_thread(void *arg) {
	long bad = 0;
	for (int round = 0; round < 5; round++)
		for (int i = 0; i < PROBES; i++)
			bad += usch_trigger_next(shared_trigger, probe_at[i]) != probe_want[i];
	*(long *) arg = bad;
	return NULL;
}

/* next() writes nothing: threads on one trigger agree with a lone caller. */
START_TEST(next_is_thread_safe) {
	usch_trigger *t = or2(
			and2(calendar(1, USCH_CAL_DAYS, wall("Europe/Paris", 2024, 1, 1, 9, 0, 0), "Europe/Paris"),
					calendar(1, USCH_CAL_WEEKS, wall("Europe/Paris", 2024, 1, 5, 9, 0, 0),
							"Europe/Paris")),
			calendar(1, USCH_CAL_MONTHS, wall("America/New_York", 2024, 1, 31, 2, 30, 0),
					"America/New_York"));
	shared_trigger = t;
	int64_t x = unit_utc_us(2024, 1, 1, 0, 0, 0);
	for (int i = 0; i < PROBES; i++) {
		probe_at[i] = x + (int64_t) i * 97 * MIN;
		probe_want[i] = usch_trigger_next(t, probe_at[i]);
	}
	pthread_t th[4];
	long bad[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, probe_thread, &bad[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(bad[i], 0);
	}
	usch_trigger_free(t);
}
END_TEST

/* ---- runner --------------------------------------------------------------- */

static Suite *trigger_suite(void) {
	Suite *s = suite_create("trigger");
	struct {
		const char *name;
		const TTest *tests[12];
	} cases[] = {
		{ "interval",
				{ interval_basic, interval_negative_timeline, interval_int64_edges,
						interval_matches_int128_reference, interval_window,
						interval_rejects_bad_period } },
		{ "date", { date_once, date_window } },
		{ "calendar",
				{ calendar_oracle, calendar_month_end_clamps_from_anchor, calendar_dst_gap_and_fold,
						calendar_huge_instants, calendar_window_and_args } },
		{ "cron", { cron_wraps_seconds, cron_window_and_errors, cron_describe } },
		{ "combinators",
				{ or_earliest, and_agreement, and_never_agrees_terminates, and_on_wall_clock,
						combinator_clock_and_nesting, combinator_bad_args_free_children } },
		{ "describe", { describe_kinds, describe_truncates_like_snprintf } },
		{ "threads", { next_is_thread_safe } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_set_timeout(tc, 120);
		for (size_t j = 0; j < 12 && cases[i].tests[j]; j++)
			tcase_add_test(tc, cases[i].tests[j]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void) {
	int status = unit_run(trigger_suite());
	unit_free_zones();
	return status;
}
