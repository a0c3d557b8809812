/* timefmt.c - durations and RFC 3339 date-times to and from text.
 *
 * Owns the user-facing spelling of time: strict parsers with messages
 * that say what to write instead, and canonical formatters whose output
 * parses back to the same value. Arithmetic is exact integer math on
 * microseconds; no floating point, no libc time functions. */
#include "timefmt.h"
#include "chars.h"
#include "civil.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

#define US_PER_S INT64_C(1000000)

static const struct unit {
	const char *name;
	int64_t us;
} units[] = {
	{ "w", 7 * 86400 * US_PER_S },
	{ "d", 86400 * US_PER_S },
	{ "h", 3600 * US_PER_S },
	{ "m", 60 * US_PER_S },
	{ "s", US_PER_S },
	{ "ms", 1000 },
	{ "us", 1 },
};
#define NUNITS (sizeof units / sizeof units[0])
#define UNIT_LIST "us, ms, s, m, h, d, w"

static uint64_t gcd(uint64_t a, uint64_t b) {
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* frac / 10^k of a unit, in microseconds, if that is a whole number:
 * dividing out the common factor first keeps every product below the
 * unit size, so nothing overflows. */
static int frac_of_unit(uint64_t frac, int k, int64_t unit, int64_t *out) {
	uint64_t den = 1;
	for (int i = 0; i < k; i++)
		den *= 10;
	uint64_t g = gcd((uint64_t) unit, den);
	uint64_t b = (uint64_t) unit / g, d = den / g;
	if (frac % d != 0)
		return -1;
	*out = (int64_t) (frac / d * b);
	return 0;
}

/* ---- durations ------------------------------------------------------------ */

int usch_duration_parse(const char *s, int64_t *out_us, char *err, size_t errlen) {
	const char *p = s;
	int64_t total = 0;
	int last = -1;

	if (!s || !*s)
		return usch_fail(err, errlen, "empty duration (use e.g. 30s, 5m, 1h30m)");
	if (*p == '-')
		return usch_fail(err, errlen, "a duration cannot be negative");
	while (*p) {
		if (!usch_is_digit(*p)) {
			if (usch_is_lower(*p))
				return usch_fail(err, errlen, "missing number before \"%.8s\"", p);
			return usch_fail(err, errlen,
					"unexpected character '%c' (write e.g. 1h30m, "
					"no spaces)",
					*p);
		}
		const char *num = p;
		uint64_t whole = 0, frac = 0;
		int k = 0, big = 0;
		for (; usch_is_digit(*p); p++) {
			if (whole > (UINT64_MAX - 9) / 10)
				big = 1;
			else
				whole = whole * 10 + (uint64_t) (*p - '0');
		}
		if (*p == '.') {
			if (!usch_is_digit(p[1]))
				return usch_fail(err, errlen, "\"%.*s\" needs digits after the point",
						(int) (p + 1 - num), num);
			/* 18 digits is beyond any exact fraction of a week in us;
			 * later non-zero digits cannot be exact either */
			int inexact = 0;
			for (p++; usch_is_digit(*p); p++) {
				if (k < 18) {
					frac = frac * 10 + (uint64_t) (*p - '0');
					k++;
				}
				else if (*p != '0') {
					inexact = 1;
				}
			}
			if (inexact)
				return usch_fail(err, errlen, "\"%.*s\" is finer than a microsecond", (int) (p - num),
						num);
		}
		const char *u = p;
		while (usch_is_lower(*p))
			p++;
		size_t ulen = (size_t) (p - u);
		if (ulen == 0) {
			if (*p)
				return usch_fail(err, errlen,
						"unexpected character '%c' after \"%.*s\" "
						"(use " UNIT_LIST ")",
						*p, (int) (p - num), num);
			return usch_fail(
					err, errlen, "\"%.*s\" needs a unit (use " UNIT_LIST ")", (int) (p - num), num);
		}
		int i = 0;
		while (i < (int) NUNITS && !(strlen(units[i].name) == ulen && memcmp(units[i].name, u, ulen) == 0))
			i++;
		if (i == (int) NUNITS)
			return usch_fail(err, errlen, "unknown unit \"%.*s\" (use " UNIT_LIST ")",
					ulen > 16 ? 16 : (int) ulen, u);
		if (i <= last)
			return usch_fail(err, errlen,
					"\"%s\" after \"%s\": units go from the largest "
					"to the smallest, each once (e.g. 1h30m)",
					units[i].name, units[last].name);
		last = i;
		int64_t part;
		if (frac_of_unit(frac, k, units[i].us, &part) != 0)
			return usch_fail(err, errlen, "\"%.*s\" is finer than a microsecond", (int) (p - num), num);
		if (big || whole > (uint64_t) ((INT64_MAX - part) / units[i].us) ||
				(int64_t) whole * units[i].us + part > INT64_MAX - total)
			return usch_fail(err, errlen, "too large (at most about 292000 years)");
		total += (int64_t) whole * units[i].us + part;
	}
	*out_us = total;
	return 0;
}

int usch_duration_format(int64_t us, char *buf, size_t len) {
	char tmp[64];
	size_t n = 0;
	/* unsigned, so that INT64_MIN has a magnitude */
	uint64_t u = us < 0 ? 0 - (uint64_t) us : (uint64_t) us;
	if (us < 0)
		tmp[n++] = '-';
	if (u == 0)
		n += (size_t) snprintf(tmp + n, sizeof tmp - n, "0s");
	for (size_t i = 0; i < NUNITS && u; i++) {
		uint64_t q = u / (uint64_t) units[i].us;
		if (!q)
			continue;
		u -= q * (uint64_t) units[i].us;
		n += (size_t) snprintf(tmp + n, sizeof tmp - n, "%llu%s", (unsigned long long) q, units[i].name);
	}
	if (len)
		snprintf(buf, len, "%s", tmp);
	return n < len ? (int) n : -1;
}

/* ---- RFC 3339 ------------------------------------------------------------- */

#define DT_HINT "use e.g. 2026-11-24T09:00:00+01:00, 2026-11-24 09:00 or 2026-11-24"

/* exactly n digits */
static const char *digits(const char *p, int n, int *v) {
	int x = 0;
	for (int i = 0; i < n; i++, p++) {
		if (!usch_is_digit(*p))
			return NULL;
		x = x * 10 + (*p - '0');
	}
	*v = x;
	return p;
}

/* +hh:mm, +hhmm or +hh at p (which holds the sign): sets *off and *end
 * (past the offset). */
static int parse_offset(const char *p, int *off, const char **end, char *err, size_t errlen) {
	int sign = *p == '-' ? -1 : 1, h, m = 0;
	const char *q = digits(p + 1, 2, &h);
	if (q && *q == ':')
		q = digits(q + 1, 2, &m);
	else if (q && usch_is_digit(*q))
		q = digits(q, 2, &m);
	if (!q)
		return usch_fail(err, errlen,
				"bad UTC offset \"%.8s\" (use Z, +hh:mm or "
				"-hh:mm)",
				p);
	if (h > 23 || m > 59)
		return usch_fail(err, errlen,
				"UTC offset %.*s is out of range (at most "
				"+/-23:59)",
				(int) (q - p), p);
	*off = sign * (h * 3600 + m * 60);
	*end = q;
	return 0;
}

static int range(char *err, size_t errlen, const char *what, int v, int lo, int hi) {
	if (v >= lo && v <= hi)
		return 0;
	return usch_fail(err, errlen, "%s %d is out of range %d-%d", what, v, lo, hi);
}

int usch_datetime_parse(const char *s, const usch_tz *tz, int64_t *out_us, char *err, size_t errlen) {
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0, has_off = 0;
	int64_t frac = 0;
	const char *p = s;

	if (!s || !*s)
		return usch_fail(err, errlen, "empty date-time (" DT_HINT ")");
	if (!(p = digits(p, 4, &y)) || *p != '-' || !(p = digits(p + 1, 2, &mo)) || *p != '-' ||
			!(p = digits(p + 1, 2, &d)))
		return usch_fail(err, errlen, "not a date-time (" DT_HINT ")");
	if (range(err, errlen, "month", mo, 1, 12) || range(err, errlen, "day", d, 1, usch_days_in_month(y, mo)))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (!(p = digits(p + 1, 2, &h)) || *p != ':' || !(p = digits(p + 1, 2, &mi)))
			return usch_fail(err, errlen, "not a date-time (" DT_HINT ")");
		if (*p == ':') {
			if (!(p = digits(p + 1, 2, &sec)))
				return usch_fail(err, errlen, "not a date-time (" DT_HINT ")");
			if (*p == '.' || *p == ',') {
				int k = 0;
				for (p++; usch_is_digit(*p); p++, k++)
					if (k < 6)
						frac = frac * 10 + (*p - '0');
				if (k == 0 || k > 9)
					return usch_fail(err, errlen, "a fraction of a second needs 1-9 digits");
				for (; k < 6; k++)
					frac *= 10;
			}
		}
		if (range(err, errlen, "hour", h, 0, 23) || range(err, errlen, "minute", mi, 0, 59))
			return -1;
		if (sec == 60)
			return usch_fail(err, errlen, "leap seconds (:60) are not supported");
		if (range(err, errlen, "second", sec, 0, 59))
			return -1;
		if (*p == 'Z' || *p == 'z') {
			has_off = 1;
			p++;
		}
		else if (*p == '+' || *p == '-') {
			if (parse_offset(p, &off, &p, err, errlen) < 0)
				return -1;
			has_off = 1;
		}
	}
	if (*p)
		return usch_fail(err, errlen, "unexpected \"%.16s\" after the date-time (" DT_HINT ")", p);

	struct usch_civil c = { y, mo, d, h, mi, sec };
	int64_t local = usch_civil_to_secs(&c), at[2], us;
	if (has_off)
		us = (local - off) * US_PER_S + frac;
	else if (usch_tz_from_local(tz ? tz : usch_tz_utc(), local, at) == 0)
		us = at[0] * US_PER_S; /* skipped: the end of the gap */
	else
		us = at[0] * US_PER_S + frac;
	/* what RFC 3339 text can show, in UTC too (an offset, or a zone's
	 * local mean time, may push year 0 or 9999 past it: found by
	 * fuzz_timefmt) */
	struct usch_civil first = { 0, 1, 1, 0, 0, 0 }, last = { 9999, 12, 31, 23, 59, 59 };
	if (us < usch_civil_to_secs(&first) * US_PER_S || us >= (usch_civil_to_secs(&last) + 1) * US_PER_S)
		return usch_fail(err, errlen, "\"%s\" falls outside the years 0000-9999 in UTC", s);
	*out_us = us;
	return 0;
}

/* Writes v as exactly n digits (v < 10^n); returns the end. */
static char *put_digits(char *p, int v, int n) {
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char) ('0' + v % 10);
	return p + n;
}

/* Digit by digit, not snprintf: every run of a job with context= formats
 * its instant, and snprintf was a tenth of a quick Python run's cost. */
int usch_rfc3339_format(int64_t us, const usch_tz *tz, char *buf, size_t len) {
	int64_t secs = us / US_PER_S, frac = us % US_PER_S;
	if (frac < 0) {
		frac += US_PER_S;
		secs--;
	}
	int32_t off = usch_tz_offset(tz ? tz : usch_tz_utc(), secs);
	if (off % 60 != 0)
		off = 0;
	struct usch_civil c;
	usch_secs_to_civil(secs + off, &c);
	if (c.year < 0 || c.year > 9999) {
		if (len)
			buf[0] = '\0';
		return -1;
	}
	char tmp[USCH_RFC3339_MAX], *p = tmp;
	int a = off < 0 ? -off : off;
	p = put_digits(p, c.year, 4);
	*p++ = '-';
	p = put_digits(p, c.mon, 2);
	*p++ = '-';
	p = put_digits(p, c.mday, 2);
	*p++ = 'T';
	p = put_digits(p, c.hour, 2);
	*p++ = ':';
	p = put_digits(p, c.min, 2);
	*p++ = ':';
	p = put_digits(p, c.sec, 2);
	if (frac) {
		*p++ = '.';
		p = frac % 1000 == 0 ? put_digits(p, (int) (frac / 1000), 3) : put_digits(p, (int) frac, 6);
	}
	*p++ = off < 0 ? '-' : '+';
	/* no zone is 100 hours off UTC: tz.c takes offsets within a day */
	p = put_digits(p, a / 3600 % 100, 2);
	*p++ = ':';
	p = put_digits(p, a / 60 % 60, 2);
	size_t n = (size_t) (p - tmp);
	if (!len)
		return -1;
	memcpy(buf, tmp, n < len ? n : len - 1);
	buf[n < len ? n : len - 1] = '\0';
	return n < len ? (int) n : -1;
}
