/* tz.c - time zones read from TZif files (RFC 8536, versions 1 to 4) and
 * the POSIX TZ rule of their footer, without libc's time zone state.
 *
 * Owns: locating and validating zone files, parsing TZif and POSIX TZ
 * strings, and the three questions the scheduler asks of a zone (offset
 * at an instant, instants of a wall time, next transition). A loaded zone
 * is immutable, so lookups need no locks. Footer-rule transitions are
 * computed arithmetically per query instead of being cached, which keeps
 * the struct read-only and every lookup O(log n) or O(1). */
#include "tz.h"
#include "chars.h"
#include "civil.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TZDIR "/usr/share/zoneinfo"
#define MAX_TZIF_BYTES (4u << 20)
/* RFC 8536 says utoff SHOULD be within [-89999, 93599]; allow a little
 * slack, and nothing that could overflow the window arithmetic. */
#define MAX_ABS_OFF (26 * 3600)
/* Footer arithmetic works on years that fit an int; beyond ~142 million
 * years nobody schedules anything, so instants are clamped there. */
#define T_LIMIT ((int64_t)1 << 52)

/* A POSIX TZ rule date: Jn (1-365, no Feb 29), n (0-365), Mm.w.d */
struct rule_date {
	char kind;      /* 'J', 'D' or 'M' */
	int m, w, d, n;
	int32_t secs;   /* local time of day, may be negative or > 24h */
};

struct usch_tz {
	char *name;
	size_t n;               /* table transitions that change the offset */
	int64_t *at;            /* ascending */
	int32_t *off;           /* offset from at[i] until at[i+1] */
	int32_t off0;           /* before at[0] (time type 0, RFC 8536) */
	int32_t min_off, max_off;
	int has_footer;         /* the rule governs t >= footer_from */
	int64_t footer_from;    /* last raw transition, INT64_MIN if none */
	int has_dst;
	int32_t std_off, dst_off;
	struct rule_date start, end;
};

static const usch_tz utc_zone = {
	.name = (char *)"UTC", .footer_from = INT64_MIN,
};

const usch_tz *usch_tz_utc(void)
{
	return &utc_zone;
}

const char *usch_tz_name(const usch_tz *tz)
{
	return tz->name;
}

void usch_tz_free(usch_tz *tz)
{
	if (!tz || tz == &utc_zone)
		return;
	free(tz->name);
	free(tz->at);
	free(tz->off);
	free(tz);
}

static int64_t clamp_t(int64_t t)
{
	return t > T_LIMIT ? T_LIMIT : t < -T_LIMIT ? -T_LIMIT : t;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* ---- POSIX TZ rule arithmetic ---------------------------------------- */

static int64_t rule_day(int y, const struct rule_date *r)
{
	int64_t jan1 = usch_days_from_civil(y, 1, 1);
	if (r->kind == 'J')
		return jan1 + r->n - 1 + (usch_is_leap(y) && r->n >= 60);
	if (r->kind == 'D')
		return jan1 + r->n;
	int64_t first = usch_days_from_civil(y, r->m, 1);
	int64_t day = first + (r->d - usch_weekday_from_days(first) + 7) % 7
		+ (int64_t)(r->w - 1) * 7;
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
static void year_events(const usch_tz *tz, int y, struct event ev[2])
{
	ev[0].at = rule_day(y, &tz->start) * 86400 + tz->start.secs - tz->std_off;
	ev[0].to_dst = 1;
	ev[1].at = rule_day(y, &tz->end) * 86400 + tz->end.secs - tz->dst_off;
	ev[1].to_dst = 0;
}

/* Events of years y0 .. y0+nyears-1, sorted. At equal instants the end
 * sorts first, so that a start wins: "J365/25,0/0"-style all-year DST
 * then never leaves DST. */
static int collect_events(const usch_tz *tz, int y0, int nyears,
		struct event *ev)
{
	int n = 0;
	for (int k = 0; k < nyears; k++, n += 2)
		year_events(tz, y0 + k, ev + n);
	for (int i = 1; i < n; i++) {
		struct event e = ev[i];
		int j = i;
		while (j > 0 && (ev[j - 1].at > e.at ||
				(ev[j - 1].at == e.at && ev[j - 1].to_dst > e.to_dst))) {
			ev[j] = ev[j - 1];
			j--;
		}
		ev[j] = e;
	}
	return n;
}

static int year_of(int64_t t)
{
	struct usch_civil c;
	usch_secs_to_civil(t, &c);
	return c.year;
}

static int32_t footer_offset(const usch_tz *tz, int64_t t)
{
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
static int64_t footer_next(const usch_tz *tz, int64_t t, int32_t cur)
{
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
	horizon -= 8 * 86400;   /* before any event of year y0+4 */
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

/* ---- lookups ------------------------------------------------------------ */

/* Number of table transitions at or before t. */
static size_t upto(const usch_tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int32_t usch_tz_offset(const usch_tz *tz, int64_t t)
{
	if (tz->has_footer && t >= tz->footer_from)
		return footer_offset(tz, t);
	size_t i = upto(tz, t);
	return i == 0 ? tz->off0 : tz->off[i - 1];
}

int64_t usch_tz_to_local(const usch_tz *tz, int64_t t)
{
	return sat_add(t, usch_tz_offset(tz, t));
}

int64_t usch_tz_next_transition(const usch_tz *tz, int64_t t)
{
	if (!tz->has_footer || t < tz->footer_from) {
		size_t i = upto(tz, t);
		if (i < tz->n)
			return tz->at[i];
		if (!tz->has_footer)
			return INT64_MAX;
		/* only a footer inconsistent with the table gets here */
		int32_t cur = usch_tz_offset(tz, t);
		if (footer_offset(tz, tz->footer_from) != cur)
			return tz->footer_from;
		return footer_next(tz, tz->footer_from, cur);
	}
	return footer_next(tz, t, footer_offset(tz, t));
}

/* Walk the constant-offset segments that can hold an instant showing
 * wall time `local`: with offsets in [min_off, max_off] such an instant
 * lies in [local - max_off, local - min_off]. */
int usch_tz_from_local(const usch_tz *tz, int64_t local, int64_t out[2])
{
	if (local > T_LIMIT || local < -T_LIMIT) {
		out[0] = out[1] = sat_add(local, -(int64_t)usch_tz_offset(tz, local));
		return 1;
	}
	int64_t cur = local - tz->max_off, last = local - tz->min_off;
	int32_t off = usch_tz_offset(tz, cur);
	int64_t gap = INT64_MIN;
	int cnt = 0;
	/* a window of at most ~2 days holds a handful of transitions; the
	 * bound only guards against a pathological file */
	for (int guard = 0; guard < 64; guard++) {
		int64_t nx = usch_tz_next_transition(tz, cur);
		int64_t t = local - off;
		if (t >= cur && t < nx) {
			if (cnt < 2)
				out[cnt] = t;
			cnt++;
		}
		if (nx == INT64_MAX || nx > last)
			break;
		int32_t noff = usch_tz_offset(tz, nx);
		if (gap == INT64_MIN && noff > off &&
				local >= nx + off && local < nx + noff)
			gap = nx;
		cur = nx;
		off = noff;
	}
	if (cnt == 0) {
		out[0] = out[1] = gap != INT64_MIN ? gap
			: local - usch_tz_offset(tz, local);
		return 0;
	}
	if (cnt == 1)
		out[1] = out[0];
	return cnt > 2 ? 2 : cnt;
}

/* ---- POSIX TZ string ---------------------------------------------------- */

static const char *parse_abbr(const char *p)
{
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

static const char *parse_num(const char *p, int lo, int hi, int *v)
{
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
static const char *parse_hms(const char *p, int maxh, int32_t *secs)
{
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

static const char *parse_rule_date(const char *p, struct rule_date *r)
{
	r->secs = 7200;
	if (*p == 'J') {
		r->kind = 'J';
		p = parse_num(p + 1, 1, 365, &r->n);
	} else if (*p == 'M') {
		r->kind = 'M';
		if ((p = parse_num(p + 1, 1, 12, &r->m)) && *p == '.' &&
				(p = parse_num(p + 1, 1, 5, &r->w)) && *p == '.')
			p = parse_num(p + 1, 0, 6, &r->d);
		else
			p = NULL;
	} else {
		r->kind = 'D';
		p = parse_num(p, 0, 365, &r->n);
	}
	/* RFC 8536 3.3.1 extends the POSIX hour range to -167..167 */
	if (p && *p == '/')
		p = parse_hms(p + 1, 167, &r->secs);
	return p;
}

/* Fills the rule fields of tz from a POSIX TZ string; 0 or -1. */
static int parse_posix(const char *s, usch_tz *tz)
{
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
		p = "," "M3.2.0,M11.1.0";
	}
	if (*p != ',' || !(p = parse_rule_date(p + 1, &tz->start)) ||
			*p != ',' || !(p = parse_rule_date(p + 1, &tz->end)) || *p)
		return -1;
	tz->has_dst = tz->dst_off != tz->std_off;
	return 0;
}

/* ---- TZif --------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
	char version;
	uint32_t isut, isstd, leap, time, type, chr;
};

static int read_hdr(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = (char)p[4];
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chr = be32(p + 40);
	if (h->type == 0 || h->type > 256 || h->chr > 65536 ||
			(h->isut && h->isut != h->type) ||
			(h->isstd && h->isstd != h->type) ||
			h->time > (1u << 24) || h->leap > (1u << 16))
		return -1;
	return 0;
}

static size_t block_size(const struct tzif_hdr *h, size_t tsize)
{
	return (size_t)h->time * (tsize + 1) + (size_t)h->type * 6 + h->chr +
		(size_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

enum { TZIF_OK, TZIF_BAD, TZIF_LEAP, TZIF_NOMEM };

static int parse_tzif(const unsigned char *buf, size_t len, usch_tz *tz)
{
	struct tzif_hdr h;
	size_t tsize = 4;
	const unsigned char *p = buf;
	if (read_hdr(p, len, &h) != 0)
		return TZIF_BAD;
	if (h.version >= '2') {
		size_t skip = 44 + block_size(&h, 4);
		if (skip > len || read_hdr(p + skip, len - skip, &h) != 0)
			return TZIF_BAD;
		p += skip;
		len -= skip;
		tsize = 8;
	} else if (h.version != 0) {
		return TZIF_BAD;
	}
	size_t body = block_size(&h, tsize);
	if (body > len - 44)
		return TZIF_BAD;
	if (h.leap)
		return TZIF_LEAP;
	const unsigned char *times = p + 44;
	const unsigned char *idx = times + (size_t)h.time * tsize;
	const unsigned char *types = idx + h.time;

	int32_t utoff[256];
	tz->min_off = INT32_MAX;
	tz->max_off = INT32_MIN;
	for (uint32_t i = 0; i < h.type; i++) {
		int32_t o = (int32_t)be32(types + 6 * i);
		if (o < -MAX_ABS_OFF || o > MAX_ABS_OFF || types[6 * i + 4] > 1 ||
				types[6 * i + 5] >= h.chr)
			return TZIF_BAD;
		utoff[i] = o;
		if (o < tz->min_off)
			tz->min_off = o;
		if (o > tz->max_off)
			tz->max_off = o;
	}
	tz->off0 = utoff[0];
	if (h.time) {
		tz->at = malloc(h.time * sizeof *tz->at);
		tz->off = malloc(h.time * sizeof *tz->off);
		if (!tz->at || !tz->off)
			return TZIF_NOMEM;
	}
	/* keep only transitions that move the clock: an abbreviation or
	 * isdst change is invisible to the scheduler */
	int32_t prev = tz->off0;
	int64_t prev_t = INT64_MIN;
	for (uint32_t i = 0; i < h.time; i++) {
		int64_t t = tsize == 8 ? be64(times + 8 * i)
			: (int64_t)(int32_t)be32(times + 4 * i);
		if (idx[i] >= h.type || (i && t <= prev_t))
			return TZIF_BAD;
		prev_t = t;
		if (utoff[idx[i]] == prev)
			continue;
		prev = utoff[idx[i]];
		tz->at[tz->n] = t;
		tz->off[tz->n++] = prev;
	}
	tz->footer_from = h.time ? prev_t : INT64_MIN;

	if (tsize == 8) {
		const unsigned char *f = p + 44 + body, *e = p + len;
		if (f >= e || *f != '\n')
			return TZIF_BAD;
		const unsigned char *nl = memchr(f + 1, '\n', (size_t)(e - f - 1));
		if (!nl || nl - f - 1 > 255)
			return TZIF_BAD;
		char footer[256];
		memcpy(footer, f + 1, (size_t)(nl - f - 1));
		footer[nl - f - 1] = '\0';
		if (footer[0]) {
			if (parse_posix(footer, tz) != 0)
				return TZIF_BAD;
			tz->has_footer = 1;
			if (tz->std_off < tz->min_off) tz->min_off = tz->std_off;
			if (tz->std_off > tz->max_off) tz->max_off = tz->std_off;
			if (tz->dst_off < tz->min_off) tz->min_off = tz->dst_off;
			if (tz->dst_off > tz->max_off) tz->max_off = tz->dst_off;
		}
	}
	return TZIF_OK;
}

/* ---- loading ------------------------------------------------------------ */

static usch_tz *new_zone(const char *name)
{
	usch_tz *tz = calloc(1, sizeof *tz);
	if (tz && !(tz->name = strdup(name))) {
		free(tz);
		return NULL;
	}
	if (tz)
		tz->footer_from = INT64_MIN;
	return tz;
}

/* Reads a whole file; 0, or an errno value (EISDIR, EFBIG for misuse). */
static int slurp(const char *path, unsigned char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_TZIF_BYTES) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
		close(fd);
		return e;
	}
	unsigned char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!buf)
		return ENOMEM;
	*out = buf;
	*len = got;
	return 0;
}

/* An IANA name: components of [A-Za-z0-9._+-], none empty, "." or "..";
 * never absolute, so that a job's tz= cannot read arbitrary files. */
static int valid_name(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 255 || s[0] == '/')
		return 0;
	const char *c = s;
	while (*c) {
		const char *e = c;
		while (*e && *e != '/') {
			if (!(usch_is_alnum(*e) || strchr("._+-", *e)))
				return 0;
			e++;
		}
		if (e == c || (e - c == 1 && c[0] == '.') ||
				(e - c == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c = *e ? e + 1 : e;
		if (*e && !*c)
			return 0;       /* trailing slash */
	}
	return 1;
}

static usch_tz *load_file(const char *name, const char *path, char *err,
		size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int e = slurp(path, &buf, &len);
	if (e == ENOENT || e == ENOTDIR) {
		usch_fail(err, errlen, "unknown time zone \"%s\" (no %s)", name, path);
		return NULL;
	}
	if (e == EISDIR) {
		usch_fail(err, errlen, "unknown time zone \"%s\" (%s is a directory)",
				name, path);
		return NULL;
	}
	if (e) {
		usch_fail(err, errlen, "time zone \"%s\": cannot read %s (%s)", name,
				path, e == EACCES ? "permission denied"
				: e == EFBIG ? "not a regular file of sane size"
				: e == ENOMEM ? "out of memory" : "I/O error");
		return NULL;
	}
	usch_tz *tz = new_zone(name);
	int r = tz ? parse_tzif(buf, len, tz) : TZIF_NOMEM;
	free(buf);
	if (r == TZIF_OK)
		return tz;
	usch_tz_free(tz);
	if (r == TZIF_LEAP)
		usch_fail(err, errlen, "time zone \"%s\": %s counts leap seconds "
				"(\"right/\" zones are not supported)", name, path);
	else if (r == TZIF_NOMEM)
		usch_fail(err, errlen, "time zone \"%s\": out of memory", name);
	else
		usch_fail(err, errlen, "time zone \"%s\": %s is not a TZif file",
				name, path);
	return NULL;
}

static usch_tz *utc_copy(const char *name, char *err, size_t errlen)
{
	usch_tz *tz = new_zone(name);
	if (!tz)
		usch_fail(err, errlen, "time zone \"%s\": out of memory", name);
	return tz;
}

static usch_tz *load_named(const char *name, const char *tzdir, char *err,
		size_t errlen)
{
	char path[PATH_MAX];
	if (!valid_name(name)) {
		usch_fail(err, errlen, "invalid time zone name \"%s\" (want an IANA "
				"name like Europe/Paris)", name);
		return NULL;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/%s", tzdir, name) >= sizeof path) {
		usch_fail(err, errlen, "time zone \"%s\": path too long", name);
		return NULL;
	}
	if (strcmp(name, "UTC") == 0 && access(path, F_OK) != 0)
		return utc_copy(name, err, errlen);
	return load_file(name, path, err, errlen);
}

/* The display name of a zone file: "Area/City" when the path lies in a
 * zoneinfo tree, else the path itself. */
static const char *name_of_path(const char *path, const char *tzdir)
{
	size_t n = strlen(tzdir);
	if (strncmp(path, tzdir, n) == 0 && path[n] == '/' && path[n + 1])
		return path + n + 1;
	const char *z = strstr(path, "zoneinfo/");
	return z && z[9] ? z + 9 : path;
}

/* TZ from the environment: ":Area/City", "Area/City", an absolute path,
 * or a POSIX rule string such as "CET-1CEST,M3.5.0,M10.5.0/3". */
static usch_tz *load_env(const char *env, const char *tzdir, char *err,
		size_t errlen)
{
	const char *v = env[0] == ':' ? env + 1 : env;
	if (v[0] == '\0')
		return utc_copy("UTC", err, errlen);  /* as glibc: TZ="" is UTC */
	if (v[0] == '/')
		return load_file(name_of_path(v, tzdir), v, err, errlen);
	if (valid_name(v)) {
		usch_tz *tz = load_named(v, tzdir, err, errlen);
		if (tz || v != env)
			return tz;
	}
	usch_tz *tz = new_zone(env);
	if (tz && v == env && parse_posix(env, tz) == 0) {
		tz->has_footer = 1;
		tz->off0 = tz->std_off;
		tz->min_off = tz->std_off < tz->dst_off ? tz->std_off : tz->dst_off;
		tz->max_off = tz->std_off > tz->dst_off ? tz->std_off : tz->dst_off;
		return tz;
	}
	usch_tz_free(tz);
	if (!valid_name(v))
		usch_fail(err, errlen, "TZ=\"%s\" is neither a zone name nor a "
				"POSIX TZ rule", env);
	return NULL;
}

usch_tz *usch_tz_load(const char *name, char *err, size_t errlen)
{
	const char *tzdir = getenv("TZDIR");
	if (!tzdir || !*tzdir)
		tzdir = DEFAULT_TZDIR;
	if (err && errlen)
		err[0] = '\0';
	if (name && *name && strcmp(name, "localtime") != 0)
		return load_named(name, tzdir, err, errlen);

	const char *env = getenv("TZ");
	if (env)
		return load_env(env, tzdir, err, errlen);

	char link[PATH_MAX];
	ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
	const char *display = "localtime";
	if (n > 0) {
		link[n] = '\0';
		const char *z = strstr(link, "zoneinfo/");
		if (z && valid_name(z + 9))
			display = z + 9;
	}
	if (access("/etc/localtime", F_OK) != 0)
		return utc_copy("UTC", err, errlen);    /* as glibc */
	return load_file(display, "/etc/localtime", err, errlen);
}
