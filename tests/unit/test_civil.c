/* test_civil.c - calendar arithmetic against a day-by-day walk and
 * against glibc's gmtime_r/timegm (both zone-free), and floor division. */
#include <check.h>
#include "unit.h"
#include <stdlib.h>
#include <time.h>

#include "civil.h"

/* Check's ck_assert records a mark point per call, which costs a syscall;
 * the hot loops below assert millions of times, so they check quietly and
 * only call into Check on a failure. */
#define QUIET_EQ(a, b) \
	do { \
		int64_t a_ = (a), b_ = (b); \
		if (a_ != b_) \
			ck_abort_msg("%s:%d: %s = %lld, want %lld", __FILE__, __LINE__, #a, (long long) a_, \
					(long long) b_); \
	} while (0)
#define QUIET(cond) \
	do { \
		if (!(cond)) \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

/* Walk the calendar one day at a time from 1970-01-01, forward and
 * backward, and check that both conversions agree with the walk. */
START_TEST(walk_forward) {
	int y = 1970, m = 1, d = 1;
	for (int64_t days = 0; days < 146097 * 3; days++) {
		QUIET_EQ(usch_days_from_civil(y, m, d), days);
		int yy, mm, dd;
		usch_civil_from_days(days, &yy, &mm, &dd);
		QUIET(yy == y && mm == m && dd == d);
		if (++d > usch_days_in_month(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}
END_TEST

START_TEST(walk_backward) {
	int y = 1970, m = 1, d = 1;
	for (int64_t days = 0; days > -146097 * 6; days--) {
		QUIET_EQ(usch_days_from_civil(y, m, d), days);
		int yy, mm, dd;
		usch_civil_from_days(days, &yy, &mm, &dd);
		QUIET(yy == y && mm == m && dd == d);
		if (--d < 1) {
			if (--m < 1) {
				m = 12;
				y--;
			}
			d = usch_days_in_month(y, m);
		}
	}
	QUIET(y < 0); /* crossed year 0 and into negative years */
}
END_TEST

START_TEST(leap_and_month_lengths) {
	ck_assert(!usch_is_leap(1900));
	ck_assert(usch_is_leap(2000));
	ck_assert(usch_is_leap(2024));
	ck_assert(!usch_is_leap(2100));
	ck_assert(!usch_is_leap(2026));
	ck_assert(usch_is_leap(0));
	ck_assert(usch_is_leap(-4));
	ck_assert(!usch_is_leap(-1));
	ck_assert_int_eq(usch_days_in_month(2024, 2), 29);
	ck_assert_int_eq(usch_days_in_month(2026, 2), 28);
	ck_assert_int_eq(usch_days_in_month(2026, 4), 30);
	ck_assert_int_eq(usch_days_in_month(2026, 12), 31);
	ck_assert_int_eq(usch_days_in_month(2026, 0), 0);
	ck_assert_int_eq(usch_days_in_month(2026, 13), 0);
}
END_TEST

START_TEST(weekdays) {
	ck_assert_int_eq(usch_weekday_from_days(0), 4); /* Thu */
	ck_assert_int_eq(usch_weekday_from_days(usch_days_from_civil(2000, 1, 1)), 6);
	ck_assert_int_eq(usch_weekday_from_days(usch_days_from_civil(2026, 3, 29)), 0);
	ck_assert_int_eq(usch_weekday_from_days(usch_days_from_civil(1969, 12, 31)), 3);
	ck_assert_int_eq(usch_weekday_from_days(usch_days_from_civil(1900, 1, 1)), 1);
	for (int64_t d = -1000; d < 1000; d++)
		ck_assert_int_eq(usch_weekday_from_days(d + 1), (usch_weekday_from_days(d) + 1) % 7);
}
END_TEST

START_TEST(seconds_against_gmtime) {
	unit_rng_seed(12345);
	for (int i = 0; i < 200000; i++) {
		/* years ~1000 .. ~2900, including before 1970 */
		int64_t t = (int64_t) (unit_rng() % 60000) * 1000003 - INT64_C(30000000000);
		t = t * 2 + (int64_t) (unit_rng() % 86400);
		time_t tt = (time_t) t;
		struct tm tm;
		QUIET(gmtime_r(&tt, &tm) != NULL);
		struct usch_civil c;
		usch_secs_to_civil(t, &c);
		QUIET_EQ(c.year, tm.tm_year + 1900);
		QUIET_EQ(c.mon, tm.tm_mon + 1);
		QUIET_EQ(c.mday, tm.tm_mday);
		QUIET_EQ(c.hour, tm.tm_hour);
		QUIET_EQ(c.min, tm.tm_min);
		QUIET_EQ(c.sec, tm.tm_sec);
		QUIET_EQ(usch_civil_to_secs(&c), t);
		QUIET_EQ(usch_weekday_from_days(usch_days_from_civil(c.year, c.mon, c.mday)), tm.tm_wday);
	}
}
END_TEST

START_TEST(edges) {
	struct usch_civil c;
	usch_secs_to_civil(-1, &c);
	ck_assert(c.year == 1969 && c.mon == 12 && c.mday == 31 && c.hour == 23 && c.min == 59 && c.sec == 59);
	usch_secs_to_civil(0, &c);
	ck_assert(c.year == 1970 && c.mon == 1 && c.mday == 1 && c.hour == 0);
	/* 2038 and far beyond: no 32-bit limits */
	struct usch_civil far = { 9999, 12, 31, 23, 59, 59 };
	int64_t t = usch_civil_to_secs(&far);
	ck_assert_int_eq(t, INT64_C(253402300799));
	usch_secs_to_civil(t, &c);
	ck_assert(c.year == 9999 && c.mon == 12 && c.mday == 31 && c.sec == 59);
	/* fields out of range are carried, not rejected: Feb 30 = Mar 2 */
	ck_assert_int_eq(usch_days_from_civil(2026, 2, 30), usch_days_from_civil(2026, 3, 2));
	struct usch_civil late = { 2026, 3, 29, 25, 0, 0 };
	ck_assert_int_eq(usch_civil_to_secs(&late), usch_days_from_civil(2026, 3, 30) * 86400 + 3600);
	/* years at the ends of int stay exact */
	int y, m, d;
	usch_civil_from_days(usch_days_from_civil(2000000000, 7, 4), &y, &m, &d);
	ck_assert(y == 2000000000 && m == 7 && d == 4);
	usch_civil_from_days(usch_days_from_civil(-2000000000, 2, 29), &y, &m, &d);
	ck_assert(y == -2000000000 && m == 2 && d == 29);
}
END_TEST

/* Floor division against the definition: q is the largest integer with
 * q * b <= a (b > 0) or q * b >= a (b < 0), and mod = a - q * b takes b's
 * sign. */
START_TEST(floor_div_and_mod) {
	static const int64_t as[] = { 0, 1, -1, 6, -6, 7, -7, 86399, -86399, 86400, -86400, INT64_MAX, INT64_MIN + 1,
		INT64_MIN };
	static const int64_t bs[] = { 1, 2, -2, 7, -7, 86400, -86400, INT64_MAX, INT64_MIN };
	for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++) {
		for (size_t j = 0; j < sizeof(bs) / sizeof(bs[0]); j++) {
			int64_t a = as[i], b = bs[j];
			if (b == -1 && a == INT64_MIN)
				continue;
			int64_t q = usch_floor_div(a, b), r = usch_floor_mod(a, b);
			/* the remainder is within [0, b) or (b, 0], and q * b + r = a
			 * (in 128 bits, since q * b may not fit) */
			QUIET(b > 0 ? r >= 0 && r < b : r <= 0 && r > b);
			QUIET((__int128) q * b + r == (__int128) a);
		}
	}
	ck_assert_int_eq(usch_floor_div(-1, 86400), -1);
	ck_assert_int_eq(usch_floor_mod(-1, 86400), 86399);
	ck_assert_int_eq(usch_floor_div(-86400, 86400), -1);
	ck_assert_int_eq(usch_floor_mod(-86400, 86400), 0);
	ck_assert_int_eq(usch_floor_div(7, -2), -4);
	ck_assert_int_eq(usch_floor_mod(7, -2), -1);
	ck_assert_int_eq(usch_floor_div(-7, -2), 3);
	ck_assert_int_eq(usch_floor_mod(-7, -2), -1);
}
END_TEST

static Suite *civil_suite(void) {
	Suite *s = suite_create("civil");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, walk_forward);
	tcase_add_test(tc, walk_backward);
	tcase_add_test(tc, leap_and_month_lengths);
	tcase_add_test(tc, weekdays);
	tcase_add_test(tc, seconds_against_gmtime);
	tcase_add_test(tc, edges);
	tcase_add_test(tc, floor_div_and_mod);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) {
	return unit_run(civil_suite());
}
