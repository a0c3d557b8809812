/* test_timefmt.c - durations and RFC 3339 date-times: accepted forms,
 * canonical output, round trips, DST gaps and folds, and error messages. */
#include <check.h>
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "timefmt.h"
#include "tz.h"

#define S INT64_C(1000000)

static int64_t dur(const char *s) {
	char err[256] = "";
	int64_t v = -1;
	int r = usch_duration_parse(s, &v, err, sizeof err);
	ck_assert_msg(r == 0, "\"%s\" rejected: %s", s, err);
	return v;
}

static void dur_err(const char *s, const char *want) {
	char err[256] = "";
	int64_t v = 12345;
	ck_assert_msg(usch_duration_parse(s, &v, err, sizeof err) == -1, "\"%s\" accepted", s);
	ck_assert_msg(strcmp(err, want) == 0, "\"%s\": got '%s', want '%s'", s, err, want);
	ck_assert_int_eq(v, 12345); /* untouched on error */
}

START_TEST(duration_forms) {
	ck_assert_int_eq(dur("250ms"), 250000);
	ck_assert_int_eq(dur("30s"), 30 * S);
	ck_assert_int_eq(dur("5m"), 300 * S);
	ck_assert_int_eq(dur("1h30m"), 5400 * S);
	ck_assert_int_eq(dur("2d"), 2 * 86400 * S);
	ck_assert_int_eq(dur("1w"), 7 * 86400 * S);
	ck_assert_int_eq(dur("1.5s"), 1500000);
	ck_assert_int_eq(dur("0.25h"), 900 * S);
}
END_TEST

START_TEST(duration_more_forms) {
	ck_assert_int_eq(dur("10us"), 10);
	ck_assert_int_eq(dur("0s"), 0);
	ck_assert_int_eq(dur("0"
			     "ms"),
			0);
	ck_assert_int_eq(dur("1w2d3h4m5s6ms7us"), ((((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * S + 6007);
	ck_assert_int_eq(dur("1h0m30s"), 3630 * S);
	ck_assert_int_eq(dur("90m"), 5400 * S); /* no carrying rule */
	ck_assert_int_eq(dur("1.000001s"), 1000001);
	ck_assert_int_eq(dur("0.001ms"), 1);
	ck_assert_int_eq(dur("1.50000000000000000000s"), 1500000); /* zeros are exact */
	ck_assert_int_eq(dur("0.1w"), 60480 * S);
	ck_assert_int_eq(dur("007s"), 7 * S);
	/* the largest value: INT64_MAX us */
	ck_assert(dur("9223372036854775807us") == INT64_MAX);
}
END_TEST

START_TEST(duration_errors) {
	dur_err("30", "\"30\" needs a unit (use us, ms, s, m, h, d, w)");
	dur_err("5x", "unknown unit \"x\" (use us, ms, s, m, h, d, w)");
	dur_err("5sec", "unknown unit \"sec\" (use us, ms, s, m, h, d, w)");
	dur_err("5S", "unexpected character 'S' after \"5\" (use us, ms, s, m, h, d, w)");
	dur_err("", "empty duration (use e.g. 30s, 5m, 1h30m)");
	dur_err("-5s", "a duration cannot be negative");
	dur_err("s", "missing number before \"s\"");
	dur_err("1h 30m", "unexpected character ' ' (write e.g. 1h30m, no spaces)");
	dur_err("30m1h", "\"h\" after \"m\": units go from the largest to the smallest, each once (e.g. 1h30m)");
	dur_err("1h1h", "\"h\" after \"h\": units go from the largest to the smallest, each once (e.g. 1h30m)");
	dur_err("1.5us", "\"1.5us\" is finer than a microsecond");
	dur_err("0.0000001s", "\"0.0000001s\" is finer than a microsecond");
	dur_err("1.0000000000000000000001s", "\"1.0000000000000000000001\" is finer than a microsecond");
	dur_err("1.s", "\"1.\" needs digits after the point");
	dur_err("1h30", "\"30\" needs a unit (use us, ms, s, m, h, d, w)");
	dur_err("9223372036854775808us", "too large (at most about 292000 years)");
	dur_err("15250285w", "too large (at most about 292000 years)");
	dur_err("99999999999999999999999999s", "too large (at most about 292000 years)");
	dur_err("15250284w4d", "too large (at most about 292000 years)");
	/* NULL err is allowed */
	int64_t v;
	ck_assert_int_eq(usch_duration_parse("nope", &v, NULL, 0), -1);
}
END_TEST

static void fmt_is(int64_t us, const char *want) {
	char buf[64];
	int n = usch_duration_format(us, buf, sizeof buf);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(n, (int) strlen(want));
	if (us >= 0)
		ck_assert(dur(buf) == us);
}

START_TEST(duration_format) {
	fmt_is(0, "0s");
	fmt_is(250000, "250ms");
	fmt_is(5400 * S, "1h30m");
	fmt_is(1500000, "1s500ms");
	fmt_is(30 * S, "30s");
	fmt_is(8 * 86400 * S, "1w1d");
	fmt_is(1, "1us");
	fmt_is(1000001, "1s1us");
	fmt_is(-90 * S, "-1m30s");
	fmt_is(INT64_MAX, "15250284w3d4h54s775ms807us");
	fmt_is(INT64_MIN, "-15250284w3d4h54s775ms808us");
	/* too small a buffer: -1 and a terminated prefix */
	char small[4];
	ck_assert_int_eq(usch_duration_format(5400 * S, small, sizeof small), -1);
	ck_assert_str_eq(small, "1h3");
	/* round trip on a spread of values */
	char buf[64];
	for (int64_t v = 1; v > 0 && v < INT64_MAX / 3; v = v * 3 + 7) {
		ck_assert_int_gt(usch_duration_format(v, buf, sizeof buf), 0);
		ck_assert(dur(buf) == v);
	}
}
END_TEST

/* ---- date-times ------------------------------------------------------------ */

static usch_tz *load(const char *name) {
	char err[256];
	usch_tz *tz = usch_tz_load(name, err, sizeof err);
	ck_assert_msg(tz != NULL, "%s", err);
	return tz;
}

static int64_t dt(const char *s, const usch_tz *tz) {
	char err[256] = "";
	int64_t v = -1;
	int r = usch_datetime_parse(s, tz, &v, err, sizeof err);
	ck_assert_msg(r == 0, "\"%s\" rejected: %s", s, err);
	return v;
}

static void dt_err(const char *s, const char *want) {
	char err[256] = "";
	int64_t v = 12345;
	ck_assert_msg(usch_datetime_parse(s, NULL, &v, err, sizeof err) == -1, "\"%s\" accepted", s);
	ck_assert_msg(strcmp(err, want) == 0, "\"%s\": got '%s', want '%s'", s, err, want);
	ck_assert_int_eq(v, 12345);
}

START_TEST(datetime_forms) {
	usch_tz *paris = load("Europe/Paris");
	int64_t nine_cet = unit_utc_us(2026, 11, 24, 8, 0, 0);
	ck_assert(dt("2026-11-24T09:00:00+01:00", NULL) == nine_cet);
	ck_assert(dt("2026-11-24T08:00:00Z", NULL) == nine_cet);
	ck_assert(dt("2026-11-24t08:00:00z", NULL) == nine_cet);
	ck_assert(dt("2026-11-24T03:00:00-05:00", paris) == nine_cet); /* offset wins */
	ck_assert(dt("2026-11-24T09:00:00+0100", NULL) == nine_cet);
	ck_assert(dt("2026-11-24T09:00:00+01", NULL) == nine_cet);
	ck_assert(dt("2026-11-24T08:00:00-00:00", NULL) == nine_cet);
	ck_assert(dt("2026-11-24T09:00:00", paris) == nine_cet);
	ck_assert(dt("2026-11-24 09:00:00", paris) == nine_cet);
	ck_assert(dt("2026-11-24T09:00", paris) == nine_cet);
	ck_assert(dt("2026-11-24T08:00", NULL) == nine_cet);
	ck_assert(dt("2026-11-24", paris) == unit_utc_us(2026, 11, 23, 23, 0, 0));
	ck_assert(dt("2026-11-24", NULL) == unit_utc_us(2026, 11, 24, 0, 0, 0));
	/* fractions */
	ck_assert(dt("2026-11-24T08:00:00.25Z", NULL) == nine_cet + 250000);
	ck_assert(dt("2026-11-24T08:00:00,5Z", NULL) == nine_cet + 500000);
	ck_assert(dt("2026-11-24T08:00:00.123456Z", NULL) == nine_cet + 123456);
	ck_assert(dt("2026-11-24T08:00:00.123456789Z", NULL) == nine_cet + 123456);
	ck_assert(dt("2026-11-24T09:00:00.5", paris) == nine_cet + 500000);
	/* before the epoch, leap day, extremes of the year range */
	ck_assert(dt("1969-12-31T23:59:59.5Z", NULL) == -500000);
	ck_assert(dt("2024-02-29T00:00:00Z", NULL) == unit_utc_us(2024, 2, 29, 0, 0, 0));
	ck_assert(dt("0000-01-01T00:00:00Z", NULL) == unit_utc_us(0, 1, 1, 0, 0, 0));
	/* but not past them in UTC, where no RFC 3339 text shows it (found by
	 * fuzz_timefmt: Paris' local mean time was 9 min 21 s ahead) */
	dt_err("0000-01-01T00:00:00+01:00", "\"0000-01-01T00:00:00+01:00\" falls outside the years 0000-9999 in UTC");
	dt_err("9999-12-31T23:59:59-00:01", "\"9999-12-31T23:59:59-00:01\" falls outside the years 0000-9999 in UTC");
	ck_assert(dt("9999-12-31T23:59:59Z", NULL) == unit_utc_us(9999, 12, 31, 23, 59, 59));
	usch_tz_free(paris);
}
END_TEST

START_TEST(datetime_dst) {
	usch_tz *paris = load("Europe/Paris");
	/* 2026-03-29 02:30 does not exist in Paris: the gap ends at 01:00 UTC */
	int64_t jump = unit_utc_us(2026, 3, 29, 1, 0, 0);
	ck_assert(dt("2026-03-29T02:30:00", paris) == jump);
	ck_assert(dt("2026-03-29T02:00:00", paris) == jump);
	ck_assert(dt("2026-03-29T02:59:59.5", paris) == jump); /* fraction too */
	ck_assert(dt("2026-03-29T03:00:00", paris) == jump);
	ck_assert(dt("2026-03-29T01:59:59", paris) == jump - S);
	/* 2026-10-25 02:30 happens twice: the first one, still at +02:00 */
	ck_assert(dt("2026-10-25T02:30:00", paris) == unit_utc_us(2026, 10, 25, 0, 30, 0));
	ck_assert(dt("2026-10-25T02:30:00+01:00", paris) == unit_utc_us(2026, 10, 25, 1, 30, 0));
	usch_tz_free(paris);

	/* a day without midnight: America/Havana 2026-03-08 (00:00 -> 01:00) */
	usch_tz *havana = load("America/Havana");
	ck_assert(dt("2026-03-08", havana) == unit_utc_us(2026, 3, 8, 5, 0, 0));
	usch_tz_free(havana);

	/* 30-minute fold: Lord Howe 2026-04-05 01:30-02:00 twice */
	usch_tz *lh = load("Australia/Lord_Howe");
	ck_assert(dt("2026-04-05T01:45:00", lh) == unit_utc_us(2026, 4, 4, 14, 45, 0));
	usch_tz_free(lh);
}
END_TEST

START_TEST(datetime_errors) {
	const char *hint = "(use e.g. 2026-11-24T09:00:00+01:00, 2026-11-24 09:00 or 2026-11-24)";
	char want[256];
	snprintf(want, sizeof want, "not a date-time %s", hint);
	dt_err("tomorrow", want);
	dt_err("2026-1-24", want);
	dt_err("26-11-24", want);
	dt_err("2026-11-24T9:00", want);
	dt_err("2026-11-24T09", want);
	dt_err("2026-11-24T09:00:0", want);
	snprintf(want, sizeof want, "empty date-time %s", hint);
	dt_err("", want);
	dt_err("2026-13-01", "month 13 is out of range 1-12");
	dt_err("2026-00-01", "month 0 is out of range 1-12");
	dt_err("2026-02-29", "day 29 is out of range 1-28");
	dt_err("2026-04-31T00:00:00Z", "day 31 is out of range 1-30");
	dt_err("2026-11-24T24:00:00Z", "hour 24 is out of range 0-23");
	dt_err("2026-11-24T09:60:00Z", "minute 60 is out of range 0-59");
	dt_err("2026-11-24T09:00:61Z", "second 61 is out of range 0-59");
	dt_err("2016-12-31T23:59:60Z", "leap seconds (:60) are not supported");
	dt_err("2026-11-24T09:00:00+24:00", "UTC offset +24:00 is out of range (at most +/-23:59)");
	dt_err("2026-11-24T09:00:00+01:60", "UTC offset +01:60 is out of range (at most +/-23:59)");
	dt_err("2026-11-24T09:00:00+1", "bad UTC offset \"+1\" (use Z, +hh:mm or -hh:mm)");
	dt_err("2026-11-24T09:00:00+01:", "bad UTC offset \"+01:\" (use Z, +hh:mm or -hh:mm)");
	dt_err("2026-11-24T09:00:00-013", "bad UTC offset \"-013\" (use Z, +hh:mm or -hh:mm)");
	dt_err("2026-11-24T09:00:00+0160", "UTC offset +0160 is out of range (at most +/-23:59)");
	snprintf(want, sizeof want, "unexpected \"x\" after the date-time %s", hint);
	dt_err("2026-11-24T09:00:00+0130x", want);
	dt_err("2026-11-24T09:00:00.Z", "a fraction of a second needs 1-9 digits");
	dt_err("2026-11-24T09:00:00.1234567890Z", "a fraction of a second needs 1-9 digits");
	snprintf(want, sizeof want, "unexpected \"Z\" after the date-time %s", hint);
	dt_err("2026-11-24Z", want);
	snprintf(want, sizeof want, "unexpected \" \" after the date-time %s", hint);
	dt_err("2026-11-24T09:00:00Z ", want);
	int64_t v;
	ck_assert_int_eq(usch_datetime_parse("x", NULL, &v, NULL, 0), -1);
}
END_TEST

static void fmt3339(int64_t us, const usch_tz *tz, const char *want) {
	char buf[USCH_RFC3339_MAX];
	int n = usch_rfc3339_format(us, tz, buf, sizeof buf);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(n, (int) strlen(want));
	/* what we write, we read back to the same instant */
	ck_assert(dt(buf, NULL) == us);
}

START_TEST(rfc3339_format) {
	usch_tz *paris = load("Europe/Paris");
	usch_tz *ny = load("America/New_York");
	usch_tz *kolkata = load("Asia/Kolkata");
	usch_tz *lh = load("Australia/Lord_Howe");
	usch_tz *utc = load("UTC");
	int64_t jump = unit_utc_us(2026, 3, 29, 1, 0, 0);
	fmt3339(jump, paris, "2026-03-29T03:00:00+02:00");
	fmt3339(jump - S, paris, "2026-03-29T01:59:59+01:00");
	fmt3339(jump, NULL, "2026-03-29T01:00:00+00:00");
	fmt3339(jump, usch_tz_utc(), "2026-03-29T01:00:00+00:00");
	fmt3339(jump, utc, "2026-03-29T01:00:00+00:00");
	fmt3339(jump, ny, "2026-03-28T21:00:00-04:00");
	fmt3339(jump, kolkata, "2026-03-29T06:30:00+05:30");
	fmt3339(jump, lh, "2026-03-29T12:00:00+11:00");
	fmt3339(jump + 250000, paris, "2026-03-29T03:00:00.250+02:00");
	fmt3339(jump + 250001, paris, "2026-03-29T03:00:00.250001+02:00");
	fmt3339(jump + 1, paris, "2026-03-29T03:00:00.000001+02:00");
	fmt3339(-1, NULL, "1969-12-31T23:59:59.999999+00:00");
	fmt3339(-500000, ny, "1969-12-31T18:59:59.500-05:00");
	/* both occurrences of a folded wall time, told apart by the offset */
	fmt3339(unit_utc_us(2026, 10, 25, 0, 30, 0), paris, "2026-10-25T02:30:00+02:00");
	fmt3339(unit_utc_us(2026, 10, 25, 1, 30, 0), paris, "2026-10-25T02:30:00+01:00");
	/* local mean time is not whole minutes: written in UTC instead */
	fmt3339(unit_utc_us(1850, 1, 1, 0, 0, 0), paris, "1850-01-01T00:00:00+00:00");

	char buf[USCH_RFC3339_MAX];
	ck_assert_int_eq(usch_rfc3339_format(INT64_MAX, paris, buf, sizeof buf), -1);
	ck_assert_int_eq(usch_rfc3339_format(unit_utc_us(10000, 1, 1, 0, 0, 0), NULL, buf, sizeof buf), -1);
	ck_assert_int_eq(usch_rfc3339_format(unit_utc_us(-1, 12, 31, 0, 0, 0), NULL, buf, sizeof buf), -1);
	char small[10];
	ck_assert_int_eq(usch_rfc3339_format(jump, paris, small, sizeof small), -1);
	ck_assert_int_eq(strlen(small), sizeof small - 1);
	usch_tz_free(paris);
	usch_tz_free(ny);
	usch_tz_free(kolkata);
	usch_tz_free(lh);
	usch_tz_free(utc);
}
END_TEST

/* Every instant across a DST year, formatted in its zone, reads back. */
START_TEST(rfc3339_round_trip) {
	static const char *names[] = { "Europe/Paris", "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham",
		"Europe/Dublin" };
	char buf[USCH_RFC3339_MAX], err[256];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		usch_tz *tz = load(names[i]);
		for (int64_t t = unit_utc_us(2025, 1, 1, 0, 0, 0); t < unit_utc_us(2026, 1, 1, 0, 0, 0);
				t += 1799 * S + 123) {
			int64_t back = -1;
			if (usch_rfc3339_format(t, tz, buf, sizeof buf) < 0 ||
					usch_datetime_parse(buf, tz, &back, err, sizeof err) != 0 || back != t)
				ck_abort_msg("%s: %lld -> %s -> %lld", names[i], (long long) t, buf, (long long) back);
		}
		usch_tz_free(tz);
	}
}
END_TEST

static Suite *timefmt_suite(void) {
	Suite *s = suite_create("timefmt");
	TCase *tc = tcase_create("duration");
	tcase_add_test(tc, duration_forms);
	tcase_add_test(tc, duration_more_forms);
	tcase_add_test(tc, duration_errors);
	tcase_add_test(tc, duration_format);
	suite_add_tcase(s, tc);
	tc = tcase_create("datetime");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, datetime_forms);
	tcase_add_test(tc, datetime_dst);
	tcase_add_test(tc, datetime_errors);
	tcase_add_test(tc, rfc3339_format);
	tcase_add_test(tc, rfc3339_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) {
	return unit_run(timefmt_suite());
}
