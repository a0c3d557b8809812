/* civil.c - proleptic Gregorian calendar arithmetic: days <-> dates and
 * seconds <-> broken-down time, with no time zone involved.
 *
 * Day counts use Howard Hinnant's days_from_civil / civil_from_days
 * (http://howardhinnant.github.io/date_algorithms.html): exact for every
 * date whose year fits an int, with no tables and no libc time calls. */
#include "civil.h"

/* C division truncates toward zero; calendar math needs floor so that
 * instants before 1970 land on the right day and second. */
int64_t usch_floor_div(int64_t a, int64_t b) {
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* From %, not a - q * b: q * b overflows when b is near INT64_MIN even
 * though the remainder fits (r and b have opposite signs before the add). */
int64_t usch_floor_mod(int64_t a, int64_t b) {
	int64_t r = a % b;
	return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

int usch_is_leap(int y) {
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int usch_days_in_month(int y, int m) {
	static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && usch_is_leap(y) ? 29 : len[m - 1];
}

/* Hinnant: shift the year to start in March so that the leap day is the
 * last day of the shifted year, then count 400-year eras. */
int64_t usch_days_from_civil(int y, int m, int d) {
	int64_t yy = (int64_t) y - (m <= 2);
	int64_t era = usch_floor_div(yy, 400);
	int64_t yoe = yy - era * 400;                        /* [0, 399] */
	int64_t mp = m > 2 ? m - 3 : m + 9;                  /* [0, 11] */
	int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void usch_civil_from_days(int64_t days, int *y, int *m, int *d) {
	int64_t z = days + 719468;
	int64_t era = usch_floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t dd = doy - (153 * mp + 2) / 5 + 1;
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;
	*y = (int) (yoe + era * 400 + (mm <= 2));
	*m = (int) mm;
	*d = (int) dd;
}

/* 1970-01-01 was a Thursday (4). */
int usch_weekday_from_days(int64_t days) {
	int64_t w = (days + 4) % 7;
	return (int) (w < 0 ? w + 7 : w);
}

int64_t usch_civil_to_secs(const struct usch_civil *c) {
	return usch_days_from_civil(c->year, c->mon, c->mday) * 86400 + (int64_t) c->hour * 3600 +
			(int64_t) c->min * 60 + c->sec;
}

void usch_secs_to_civil(int64_t secs, struct usch_civil *c) {
	int64_t days = usch_floor_div(secs, 86400);
	int64_t rem = secs - days * 86400;
	usch_civil_from_days(days, &c->year, &c->mon, &c->mday);
	c->hour = (int) (rem / 3600);
	c->min = (int) (rem / 60 % 60);
	c->sec = (int) (rem % 60);
}
