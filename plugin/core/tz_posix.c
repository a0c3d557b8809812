/* tz_posix.c - owns POSIX TZ rules (the footer of a TZif file, or a TZ
 * variable that holds a rule): parsing the string, and the offset and
 * transitions it gives, computed arithmetically per query instead of being
 * cached so that a loaded zone stays read-only. tz.c reads the files and
 * answers the lookups. */
#include "tz_impl.h"
#include "chars.h"
#include "civil.h"

static int64_t clamp_t(int64_t t) {
	return t > T_LIMIT ? T_LIMIT : t < -T_LIMIT ? -T_LIMIT : t;
}

/* ---- POSIX TZ rule arithmetic ---------------------------------------- */

static int64_t rule_day(int y, const struct rule_date *r) {
	int64_t jan1 = usch_days_from_civil(y, 1, 1);
	if (r->kind == 'J')
		return jan1 + r->n - 1 + (usch_is_leap(y) && r->n >= 60);
	if (r->kind == 'D')
		return jan1 + r->n;
	int64_t first = usch_days_from_civil(y, r->m, 1);
	int64_t day = first + (r->d - usch_weekday_from_days(first) + 7) % 7 + (int64_t) (r->w - 1) * 7;
	/* w = 5 means "last", which may be the 4th */
	while (day >= first + usch_days_in_month(y, r->m))
		day -= 7;
	return day;
}

struct event {
	int64_t at;
	int to_dst;
};

/* The start time is read on the standard clock and the end time on the
 * DST clock, as POSIX says. */
static void year_events(const usch_tz *tz, int y, struct event ev[2]) {
	ev[0].at = rule_day(y, &tz->start) * 86400 + tz->start.secs - tz->std_off;
	ev[0].to_dst = 1;
	ev[1].at = rule_day(y, &tz->end) * 86400 + tz->end.secs - tz->dst_off;
	ev[1].to_dst = 0;
}

/* Events of years y0 .. y0+nyears-1, sorted. At equal instants the end
 * sorts first, so that a start wins: "J365/25,0/0"-style all-year DST
 * then never leaves DST. */
static int collect_events(const usch_tz *tz, int y0, int nyears, struct event *ev) {
	int n = 0;
	for (int k = 0; k < nyears; k++, n += 2)
		year_events(tz, y0 + k, ev + n);
	for (int i = 1; i < n; i++) {
		struct event e = ev[i];
		int j = i;
		while (j > 0 && (ev[j - 1].at > e.at || (ev[j - 1].at == e.at && ev[j - 1].to_dst > e.to_dst))) {
			ev[j] = ev[j - 1];
			j--;
		}
		ev[j] = e;
	}
	return n;
}

static int year_of(int64_t t) {
	struct usch_civil c;
	usch_secs_to_civil(t, &c);
	return c.year;
}

int32_t usch_tz_rule_offset(const usch_tz *tz, int64_t t) {
	if (!tz->has_dst)
		return tz->std_off;
	t = clamp_t(t);
	/* two years back: a rule time of up to 167h can push a year's
	 * events a week into the next year */
	struct event ev[8];
	int n = collect_events(tz, year_of(t + tz->std_off) - 2, 4, ev);
	int dst = 0;
	for (int i = 0; i < n && ev[i].at <= t; i++)
		dst = ev[i].to_dst;
	return dst ? tz->dst_off : tz->std_off;
}

/* First event after t that changes the offset away from cur. Events of
 * the year after the last one inspected are collected too, so that a tie
 * across New Year (all-year DST) is seen as one group, not as a change. */
int64_t usch_tz_rule_next(const usch_tz *tz, int64_t t, int32_t cur) {
	if (!tz->has_dst || t >= T_LIMIT)
		return INT64_MAX;
	t = clamp_t(t);
	struct event ev[10];
	int y0 = year_of(t + tz->std_off) - 1;
	int n = collect_events(tz, y0, 5, ev);
	int64_t horizon = rule_day(y0 + 4, &tz->start) * 86400;
	int64_t e2 = rule_day(y0 + 4, &tz->end) * 86400;
	if (e2 < horizon)
		horizon = e2;
	horizon -= 8 * 86400; /* before any event of year y0+4 */
	for (int i = 0; i < n && ev[i].at < horizon; i++) {
		/* the last event of a group of equal instants decides */
		if (ev[i].at <= t || (i + 1 < n && ev[i + 1].at == ev[i].at))
			continue;
		int32_t now = ev[i].to_dst ? tz->dst_off : tz->std_off;
		if (now != cur)
			return ev[i].at;
		cur = now;
	}
	return INT64_MAX;
}

/* ---- POSIX TZ string ---------------------------------------------------- */

static const char *parse_abbr(const char *p) {
	const char *q = p;
	if (*p == '<') {
		for (q = p + 1; *q != '>'; q++)
			if (!(usch_is_alnum(*q) || *q == '+' || *q == '-'))
				return NULL;
		return q - p - 1 >= 3 ? q + 1 : NULL;
	}
	while (usch_is_alpha(*q))
		q++;
	return q - p >= 3 ? q : NULL;
}

static const char *parse_num(const char *p, int lo, int hi, int *v) {
	if (!usch_is_digit(*p))
		return NULL;
	int x = 0;
	while (usch_is_digit(*p)) {
		x = x * 10 + (*p++ - '0');
		if (x > hi)
			return NULL;
	}
	if (x < lo)
		return NULL;
	*v = x;
	return p;
}

/* [+-]hh[:mm[:ss]] with hh up to maxh; returns signed seconds. */
static const char *parse_hms(const char *p, int maxh, int32_t *secs) {
	int sign = 1, h, m = 0, s = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (!(p = parse_num(p, 0, maxh, &h)))
		return NULL;
	if (*p == ':') {
		if (!(p = parse_num(p + 1, 0, 59, &m)))
			return NULL;
		if (*p == ':' && !(p = parse_num(p + 1, 0, 59, &s)))
			return NULL;
	}
	*secs = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *parse_rule_date(const char *p, struct rule_date *r) {
	r->secs = 7200;
	if (*p == 'J') {
		r->kind = 'J';
		p = parse_num(p + 1, 1, 365, &r->n);
	}
	else if (*p == 'M') {
		r->kind = 'M';
		if ((p = parse_num(p + 1, 1, 12, &r->m)) && *p == '.' && (p = parse_num(p + 1, 1, 5, &r->w)) &&
				*p == '.')
			p = parse_num(p + 1, 0, 6, &r->d);
		else
			p = NULL;
	}
	else {
		r->kind = 'D';
		p = parse_num(p, 0, 365, &r->n);
	}
	/* RFC 8536 3.3.1 extends the POSIX hour range to -167..167 */
	if (p && *p == '/')
		p = parse_hms(p + 1, 167, &r->secs);
	return p;
}

/* See tz_impl.h. */
int usch_tz_posix_parse(const char *s, usch_tz *tz) {
	const char *p = parse_abbr(s);
	int32_t v;
	if (!p || !(p = parse_hms(p, 24, &v)))
		return -1;
	tz->std_off = tz->dst_off = -v;
	tz->has_dst = 0;
	if (*p == '\0')
		return 0;
	if (!(p = parse_abbr(p)))
		return -1;
	tz->dst_off = tz->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (!(p = parse_hms(p, 24, &v)))
			return -1;
		tz->dst_off = -v;
	}
	if (*p == '\0') {
		/* no rule: glibc and tzcode default to the US rules */
		p = ","
		    "M3.2.0,M11.1.0";
	}
	if (*p != ',' || !(p = parse_rule_date(p + 1, &tz->start)) || *p != ',' ||
			!(p = parse_rule_date(p + 1, &tz->end)) || *p)
		return -1;
	tz->has_dst = tz->dst_off != tz->std_off;
	return 0;
}
