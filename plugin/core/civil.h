/* civil.h - proleptic Gregorian calendar arithmetic (no time zones).
 *
 * Instants in the core are int64 seconds (microseconds in trigger.h,
 * timefmt.h and sched.h) since the Unix epoch, UTC. "Local seconds" are
 * the same count read as if the wall clock of a zone were UTC:
 * local = utc + offset.
 *
 * Exact for every date whose year fits an int (days and seconds within
 * about +/-2^40 days); out-of-range fields are carried, not rejected:
 * day 30 of February is March 2 (or 1), hour 25 is 01:00 the next day. */
#ifndef USCH_CIVIL_H
#define USCH_CIVIL_H

#include <stdint.h>

struct usch_civil {
	int year; /* e.g. 2026 */
	int mon;  /* 1-12 */
	int mday; /* 1-31 */
	int hour; /* 0-23 */
	int min;  /* 0-59 */
	int sec;  /* 0-59 */
};

int64_t usch_days_from_civil(int y, int m, int d);
void usch_civil_from_days(int64_t days, int *y, int *m, int *d);
int usch_weekday_from_days(int64_t days); /* 0 = Sunday .. 6 = Saturday */
int usch_days_in_month(int y, int m);
int usch_is_leap(int y);

/* Division rounding toward minus infinity, and the remainder that goes
 * with it (same sign as b). C's / and % truncate toward zero, which puts
 * instants before 1970 in the wrong second and day. b != 0. */
int64_t usch_floor_div(int64_t a, int64_t b);
int64_t usch_floor_mod(int64_t a, int64_t b);

/* seconds <-> broken-down civil time (no zone: the count is taken as is) */
int64_t usch_civil_to_secs(const struct usch_civil *c);
void usch_secs_to_civil(int64_t secs, struct usch_civil *c);

#endif
