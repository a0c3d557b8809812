/* cron.c - owns the evaluation of compiled cron expressions (cron_parse.c
 * compiles them): the next matching time on the zone-free local time line,
 * by bitmask, and the next fire instant in a zone under cronie's DST rules
 * (see cron.h: follows-the-clock vs fixed-time jobs). Pure core: calendar
 * arithmetic from civil.h, zones only through the tz.h API. */
#include "civil.h"
#include "cron.h"
#include "cron_impl.h"

#define NONE INT64_MAX
#define MAX_LOCAL INT64_C(253402300799) /* 9999-12-31T23:59:59 */
#define MIN_T INT64_C(-62135596800)     /* 0001-01-01T00:00:00 */

/* ------------------------------------------------------------------ */
/* Evaluation on the naive local time line (no zone)                   */

static int year_ok(const struct usch_cron *c, int y) {
	int i = y - YEAR0;

	if (i < 0 || i > 2099 - YEAR0)
		return 0;
	return (int) (c->years[i >> 6] >> (i & 63) & 1);
}

static int ctz32(uint32_t x) {
	return __builtin_ctz(x);
}

static int ctz64(uint64_t x) {
	return __builtin_ctzll(x);
}

/* Maps a weekday set onto the days of a month whose 1st is weekday wd1:
 * the 7-bit set repeated along 63 bits, shifted so day d lands on bit d. */
static uint32_t weekdays_to_days(uint8_t dow, int wd1) {
	uint64_t rep = (uint64_t) dow * UINT64_C(0x0102040810204081);

	return (uint32_t) ((rep >> wd1) << 1);
}

static int nearest_weekday(int n, int dim, int wd1) {
	int wd = (wd1 + n - 1) % 7;

	if (wd == 6) /* Saturday: Friday before, unless that leaves the month */
		return n == 1 ? 3 : n - 1;
	if (wd == 0) /* Sunday: Monday after, unless that leaves the month */
		return n == dim ? n - 2 : n + 1;
	return n;
}

static uint32_t quartz_dom(const struct usch_cron *c, int dim, int wd1) {
	uint32_t m = 0, bits;

	for (bits = c->dom_last; bits; bits &= bits - 1)
		if (ctz32(bits) < dim)
			m |= UINT32_C(1) << (dim - ctz32(bits));
	/* a month without day n has no "nW" (31W in April) */
	for (bits = c->dom_wd & (UINT32_C(0xffffffff) >> (31 - dim)); bits; bits &= bits - 1)
		m |= UINT32_C(1) << nearest_weekday(ctz32(bits), dim, wd1);
	if (c->flags & FL_LW) {
		int wdl = (wd1 + dim - 1) % 7;

		m |= UINT32_C(1) << (wdl == 6 ? dim - 1 : wdl == 0 ? dim - 2 : dim);
	}
	return m;
}

static uint32_t quartz_dow(const struct usch_cron *c, int dim, int wd1) {
	int wdl = (wd1 + dim - 1) % 7;
	uint32_t m = 0;

	for (int w = 0; w < 7; w++) {
		int first = 1 + (w - wd1 + 7) % 7;

		for (unsigned bits = c->dow_nth[w]; bits; bits &= bits - 1) {
			int d = first + 7 * ctz32(bits);

			if (d <= dim)
				m |= UINT32_C(1) << d;
		}
		if (c->dow_last >> w & 1)
			m |= UINT32_C(1) << (dim - (wdl - w + 7) % 7);
	}
	return m;
}

/* Days of month m of year y that match the day fields (bit d = day d). */
static uint32_t day_mask(const struct usch_cron *c, int y, int m) {
	int dim = usch_days_in_month(y, m), wd1;
	uint32_t valid = (UINT32_C(0xffffffff) >> (32 - dim)) << 1, dom, dow;

	if (c->flags & FL_ALLDAYS)
		return valid;
	wd1 = usch_weekday_from_days(usch_days_from_civil(y, m, 1));
	dom = c->dom;
	dow = weekdays_to_days(c->dow, wd1);
	if (c->flags & FL_QUARTZ) {
		dom |= quartz_dom(c, dim, wd1);
		dow |= quartz_dow(c, dim, wd1);
	}
	/* Vixie: an unrestricted day field means both must match */
	if (c->flags & (FL_DOM_STAR | FL_DOW_STAR))
		return dom & dow & valid;
	return (dom | dow) & valid;
}

/* First second of the day >= sod that matches, or -1. */
static int next_tod(const struct usch_cron *c, int sod) {
	int h = sod / 3600, m = sod / 60 % 60, s = sod % 60;

	for (; h < 24; h++, m = 0, s = 0) {
		uint32_t hs = c->hour & (UINT32_C(0xffffffff) << h);
		uint64_t ms, ss;
		int hh, mm;

		if (!hs)
			return -1;
		hh = ctz32(hs);
		if (hh != h)
			m = s = 0;
		h = hh;
		ms = c->min & (UINT64_MAX << m);
		if (!ms)
			continue;
		mm = ctz64(ms);
		if (mm != m)
			s = 0;
		ss = c->sec & (UINT64_MAX << s);
		if (ss)
			return hh * 3600 + mm * 60 + ctz64(ss);
		ms &= ms - 1; /* no second left in minute mm */
		if (ms)
			return hh * 3600 + ctz64(ms) * 60 + ctz64(c->sec);
	}
	return -1;
}

/* See cron_impl.h. */
int64_t usch_cron_next_local(const struct usch_cron *c, int64_t w) {
	int64_t days;
	int y, m, d, sod, ylimit;

	if (w > MAX_LOCAL)
		return NONE;
	days = usch_floor_div(w, 86400);
	sod = (int) (w - days * 86400);
	usch_civil_from_days(days, &y, &m, &d);
	ylimit = (c->flags & FL_YEARS) ? 2099 : y + 401;
	if (ylimit > 9999)
		ylimit = 9999;
	while (y <= ylimit) {
		uint32_t dm;

		if ((c->flags & FL_YEARS) && !year_ok(c, y)) {
			y++;
			m = d = 1;
			sod = 0;
			continue;
		}
		if (!(c->mon >> m & 1)) {
			uint32_t later = c->mon & (UINT32_C(0xffff) << m);

			if (later) {
				m = ctz32(later);
			}
			else {
				y++;
				m = ctz32(c->mon);
			}
			d = 1;
			sod = 0;
			continue;
		}
		dm = day_mask(c, y, m) & (UINT32_C(0xffffffff) << d);
		for (; dm; dm &= dm - 1) {
			int dd = ctz32(dm);
			int tod = next_tod(c, dd == d ? sod : 0);

			if (tod >= 0)
				return usch_days_from_civil(y, m, dd) * 86400 + tod;
		}
		if (++m > 12) {
			m = 1;
			y++;
		}
		d = 1;
		sod = 0;
	}
	return NONE;
}

/* ------------------------------------------------------------------ */
/* Zones and DST                                                       */

/* Every real instant whose wall time matches fires: walk the spans of
 * constant UTC offset, so a repeated wall time is found in each span and a
 * skipped one in none. */
static int64_t next_follows(const struct usch_cron *c, const usch_tz *tz, int64_t t) {
	for (int64_t s = t + 1;;) {
		int32_t off = usch_tz_offset(tz, s);
		int64_t end = usch_tz_next_transition(tz, s);
		int64_t w = usch_cron_next_local(c, s + off);

		if (w == NONE)
			return NONE;
		if (end == NONE || w - off < end)
			return w - off;
		s = end;
	}
}

/* Each wall time runs once, at its first occurrence; a skipped one runs at
 * the transition instant. That map from wall time to instant never goes
 * backwards, so the first matching wall time whose instant is after t is
 * the answer, and every skipped time of one gap collapses into one run. */
static int64_t next_fixed(const struct usch_cron *c, const usch_tz *tz, int64_t t) {
	int64_t w = usch_tz_to_local(tz, t), at[2];

	for (;;) {
		int n;

		w = usch_cron_next_local(c, w + 1);
		if (w == NONE)
			return NONE;
		n = usch_tz_from_local(tz, w, at);
		if (at[0] > t)
			return at[0];
		/* t is in the second pass of a fold: the fold's wall times ran in
		 * the first pass, so resume where the first pass ended */
		if (n == 2) {
			int64_t fold_end = usch_tz_next_transition(tz, at[0]) + (w - at[0]);

			if (fold_end - 1 > w)
				w = fold_end - 1;
		}
	}
}

int64_t usch_cron_next(const usch_cron *c, const usch_tz *tz, int64_t t) {
	if (c->flags & FL_START)
		return NONE;
	if (t >= MAX_LOCAL)
		return NONE;
	if (t < MIN_T)
		t = MIN_T;
	if (c->flags & FL_FOLLOWS)
		return next_follows(c, tz, t);
	return next_fixed(c, tz, t);
}

int usch_cron_is_start(const usch_cron *c) {
	return (c->flags & FL_START) != 0;
}
