/* trigger.c - triggers: next fire instant after T for cron, interval, date,
 * calendar-interval, AND and OR, each with an optional [start, end] window.
 *
 * Owns the trigger tree (combinators own their children) and the µs <-> s
 * conversions at the edge of cron.c and tz.c, which work in seconds. Every
 * computation guards int64 overflow: a fire that cannot be represented is
 * "never" (INT64_MAX), so huge instants degrade to "no more fires" rather
 * than wrapping into the past. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "civil.h"
#include "cron.h"
#include "arena.h"
#include "err.h"
#include "timefmt.h"
#include "trigger.h"

#define USEC 1000000
#define DAY_SECS 86400

/* Past this day count (≈ year 294247) no instant fits int64 µs. */
#define MAX_DAYS (INT64_MAX / USEC / DAY_SECS + 1)
#define MAX_YEAR 294248

struct calendar {
	int n;
	enum usch_cal_unit unit;
	const usch_tz *tz;
	int64_t anchor;      /* µs: fire 0 */
	int year, mon, mday; /* the anchor's local date */
	int64_t days;        /* the same as a day count */
	int64_t tod;         /* the anchor's local time of day, seconds */
	int64_t frac;        /* the anchor's µs within its second */
};

/* The union holds what every kind needs in a few words; a cron's bit sets
 * and text and a calendar's anchor live in the same allocation, after the
 * struct (alloc_trigger's extra), not in the union that every trigger
 * would then carry at their size (100,000 cron jobs: one block each). */
struct usch_trigger {
	uint8_t kind;   /* enum usch_trigger_kind */
	uint8_t clock;  /* enum usch_clock */
	uint8_t packed; /* in an arena (usch_trigger_pack): nothing to free */
	int64_t start;
	int64_t end;
	union {
		struct {
			const usch_tz *tz; /* the bit sets follow the struct, then the text (cron_of, cron_text) */
		} cron;
		struct {
			int64_t period;
			int64_t anchor;
		} interval;
		struct {
			int64_t at;
			const usch_tz *tz;
		} date;
		struct calendar *cal; /* after the struct */
		struct {
			usch_trigger **child;
			size_t n;
		} combo;
	} u;
};

static usch_cron *cron_of(const usch_trigger *t) {
	return (usch_cron *) (t + 1);
}

static char *cron_text(const usch_trigger *t) {
	return (char *) (cron_of(t) + 1);
}

/* secs * 1e6 + frac, or INT64_MAX when that is past the timeline. */
static int64_t secs_to_us(int64_t secs, int64_t frac) {
	if (secs > (INT64_MAX - frac) / USEC)
		return INT64_MAX;
	/* Only a broken caller gets here; next() rejects the clamped value as
	 * not after T. */
	if (secs < INT64_MIN / USEC)
		return INT64_MIN;
	return secs * USEC + frac;
}

static const usch_tz *zone_or_utc(const usch_tz *tz) {
	return tz ? tz : usch_tz_utc();
}

/* extra: bytes after the struct, for what the kind keeps there. */
static usch_trigger *alloc_trigger(
		enum usch_trigger_kind kind, enum usch_clock clock, size_t extra, char *err, size_t errlen) {
	usch_trigger *t = calloc(1, sizeof(*t) + extra);
	if (!t) {
		usch_fail(err, errlen, "out of memory");
		return NULL;
	}
	t->kind = kind;
	t->clock = clock;
	t->start = INT64_MIN;
	t->end = INT64_MAX;
	return t;
}

/* ---- constructors ---- */

usch_trigger *usch_trigger_cron(const char *expr, const char *job_id, const usch_tz *tz, char *err, size_t errlen) {
	if (!expr) {
		usch_fail(err, errlen, "no cron expression");
		return NULL;
	}
	_Static_assert(sizeof(usch_trigger) % _Alignof(usch_cron) == 0, "the cron after the trigger is misaligned");
	size_t len = strlen(expr) + 1;
	usch_trigger *t = alloc_trigger(USCH_TRIGGER_CRON, USCH_CLOCK_WALL, sizeof(usch_cron) + len, err, errlen);
	if (!t)
		return NULL;
	t->u.cron.tz = zone_or_utc(tz);
	memcpy(cron_text(t), expr, len);
	if (usch_cron_parse(cron_of(t), expr, job_id, err, errlen) < 0) {
		usch_trigger_free(t);
		return NULL;
	}
	return t;
}

usch_trigger *usch_trigger_interval(int64_t period_us, int64_t anchor_us, char *err, size_t errlen) {
	if (period_us <= 0) {
		usch_fail(err, errlen, "the period must be greater than 0");
		return NULL;
	}
	usch_trigger *t = alloc_trigger(USCH_TRIGGER_INTERVAL, USCH_CLOCK_MONO, 0, err, errlen);
	if (!t)
		return NULL;
	t->u.interval.period = period_us;
	t->u.interval.anchor = anchor_us;
	return t;
}

usch_trigger *usch_trigger_date(int64_t at_us, const usch_tz *tz, char *err, size_t errlen) {
	usch_trigger *t = alloc_trigger(USCH_TRIGGER_DATE, USCH_CLOCK_WALL, 0, err, errlen);
	if (!t)
		return NULL;
	t->u.date.at = at_us;
	t->u.date.tz = zone_or_utc(tz);
	return t;
}

static void set_calendar_anchor(struct calendar *c, int64_t anchor_us) {
	c->anchor = anchor_us;
	c->frac = usch_floor_mod(anchor_us, USEC);
	int64_t local = usch_tz_to_local(c->tz, usch_floor_div(anchor_us, USEC));
	c->days = usch_floor_div(local, DAY_SECS);
	c->tod = local - c->days * DAY_SECS;
	usch_civil_from_days(c->days, &c->year, &c->mon, &c->mday);
}

usch_trigger *usch_trigger_calendar(
		int n, enum usch_cal_unit unit, int64_t anchor_us, const usch_tz *tz, char *err, size_t errlen) {
	if (n < 1) {
		usch_fail(err, errlen, "the count must be at least 1");
		return NULL;
	}
	if (unit != USCH_CAL_DAYS && unit != USCH_CAL_WEEKS && unit != USCH_CAL_MONTHS && unit != USCH_CAL_YEARS) {
		usch_fail(err, errlen, "unknown calendar unit %d", (int) unit);
		return NULL;
	}
	_Static_assert(sizeof(usch_trigger) % _Alignof(struct calendar) == 0, "the calendar is misaligned");
	usch_trigger *t = alloc_trigger(USCH_TRIGGER_CALENDAR, USCH_CLOCK_WALL, sizeof(struct calendar), err, errlen);
	if (!t)
		return NULL;
	struct calendar *c = t->u.cal = (struct calendar *) (t + 1);
	c->n = n;
	c->unit = unit;
	c->tz = zone_or_utc(tz);
	set_calendar_anchor(c, anchor_us);
	return t;
}

int usch_trigger_reanchor(usch_trigger *t, int64_t anchor_us, char *err, size_t errlen) {
	switch (t->kind) {
	case USCH_TRIGGER_INTERVAL:
		t->u.interval.anchor = anchor_us;
		return 0;
	case USCH_TRIGGER_CALENDAR:
		set_calendar_anchor(t->u.cal, anchor_us);
		return 0;
	default:
		return usch_fail(err, errlen, "only an interval or a calendar trigger has an anchor");
	}
}

static const char *combinator_name(enum usch_trigger_kind kind) {
	return kind == USCH_TRIGGER_AND ? "and" : "or";
}

static int check_children(
		enum usch_trigger_kind kind, usch_trigger *const *children, size_t n, char *err, size_t errlen) {
	if (!children || n == 0)
		return usch_fail(err, errlen, "%s needs one or more triggers", combinator_name(kind));
	if (n > SIZE_MAX / sizeof(usch_trigger *))
		return usch_fail(err, errlen, "too many triggers");
	for (size_t i = 0; i < n; i++)
		if (!children[i])
			return usch_fail(err, errlen, "%s: trigger %zu of %zu is missing", combinator_name(kind), i + 1,
					n);
	return 0;
}

/* Ownership passes in whatever happens, so the caller has one cleanup path
 * whichever step failed. */
static void free_children(usch_trigger *const *children, size_t n) {
	for (size_t i = 0; children && i < n; i++)
		usch_trigger_free(children[i]);
}

static usch_trigger *combinator(
		enum usch_trigger_kind kind, usch_trigger *const *children, size_t n, char *err, size_t errlen) {
	if (check_children(kind, children, n, err, errlen) < 0) {
		free_children(children, n);
		return NULL;
	}
	usch_trigger *t = alloc_trigger(kind, USCH_CLOCK_MONO, 0, err, errlen);
	usch_trigger **copy = t ? malloc(n * sizeof(*copy)) : NULL;
	if (!copy) {
		usch_fail(err, errlen, "out of memory");
		free(t);
		free_children(children, n);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		copy[i] = children[i];
		/* One wall child puts the whole tree on the wall timeline. */
		if (copy[i]->clock == USCH_CLOCK_WALL)
			t->clock = USCH_CLOCK_WALL;
	}
	t->u.combo.child = copy;
	t->u.combo.n = n;
	return t;
}

usch_trigger *usch_trigger_and(usch_trigger *const *children, size_t n, char *err, size_t errlen) {
	return combinator(USCH_TRIGGER_AND, children, n, err, errlen);
}

usch_trigger *usch_trigger_or(usch_trigger *const *children, size_t n, char *err, size_t errlen) {
	return combinator(USCH_TRIGGER_OR, children, n, err, errlen);
}

int usch_trigger_set_window(usch_trigger *t, int64_t start_us, int64_t end_us, char *err, size_t errlen) {
	if (start_us > end_us)
		return usch_fail(err, errlen, "the window starts after it ends");
	t->start = start_us;
	t->end = end_us;
	return 0;
}

/* The bytes after the struct that the kind keeps there. */
static size_t extra_of(const usch_trigger *t) {
	switch (t->kind) {
	case USCH_TRIGGER_CRON:
		return sizeof(usch_cron) + strlen(cron_text(t)) + 1;
	case USCH_TRIGGER_CALENDAR:
		return sizeof(struct calendar);
	default:
		return 0;
	}
}

usch_trigger *usch_trigger_pack(const usch_trigger *t, struct usch_arena *a) {
	size_t size = sizeof(*t) + extra_of(t);
	usch_trigger *p = usch_arena_alloc(a, size);
	if (!p)
		return NULL;
	memcpy(p, t, size);
	p->packed = 1;
	if (t->kind == USCH_TRIGGER_CALENDAR)
		p->u.cal = (struct calendar *) (p + 1);
	if (t->kind != USCH_TRIGGER_AND && t->kind != USCH_TRIGGER_OR)
		return p;
	p->u.combo.child = usch_arena_alloc(a, t->u.combo.n * sizeof(*p->u.combo.child));
	if (!p->u.combo.child)
		return NULL;
	for (size_t i = 0; i < t->u.combo.n; i++)
		if (!(p->u.combo.child[i] = usch_trigger_pack(t->u.combo.child[i], a)))
			return NULL;
	return p;
}

void usch_trigger_free(usch_trigger *t) {
	if (!t || t->packed)
		return;
	switch (t->kind) {
	case USCH_TRIGGER_AND:
	case USCH_TRIGGER_OR:
		for (size_t i = 0; i < t->u.combo.n; i++)
			usch_trigger_free(t->u.combo.child[i]);
		free(t->u.combo.child);
		break;
	default:
		break;
	}
	free(t);
}

enum usch_trigger_kind usch_trigger_kind(const usch_trigger *t) {
	return t->kind;
}

enum usch_clock usch_trigger_clock(const usch_trigger *t) {
	return t->clock;
}

int usch_trigger_is_start(const usch_trigger *t) {
	return t->kind == USCH_TRIGGER_CRON && usch_cron_is_start(cron_of(t));
}

/* ---- next fire ---- */

/* cron.c works in whole seconds: its next after floor(T) is at least
 * floor(T) + 1 s, hence strictly after T whatever T's µs part. */
static int64_t cron_next(const usch_trigger *t, int64_t after) {
	int64_t s = usch_cron_next(cron_of(t), t->u.cron.tz, usch_floor_div(after, USEC));
	if (s == INT64_MAX)
		return INT64_MAX;
	return secs_to_us(s, 0);
}

/* Unsigned arithmetic: after - anchor and the step offset may exceed
 * INT64_MAX (anchor far negative, after far positive) but never 2^64. */
static int64_t interval_next(const usch_trigger *t, int64_t after) {
	int64_t a = t->u.interval.anchor;
	uint64_t p = (uint64_t) t->u.interval.period;

	if (after < a)
		return a;
	uint64_t diff = (uint64_t) after - (uint64_t) a;
	uint64_t base = diff - diff % p;
	if (base > UINT64_MAX - p)
		return INT64_MAX;
	uint64_t offset = base + p;
	uint64_t room = (uint64_t) INT64_MAX - (uint64_t) a;
	if (offset >= room)
		return INT64_MAX;
	/* a + offset fits int64 (offset < room), so the modular sum is it. */
	return (int64_t) ((uint64_t) a + offset);
}

static int64_t date_next(const usch_trigger *t, int64_t after) {
	return t->u.date.at > after ? t->u.date.at : INT64_MAX;
}

/* The local date of fire k as a day count; -1 when past the timeline. */
static int cal_day(const struct calendar *c, int64_t k, int64_t *day) {
	int64_t step, units;

	switch (c->unit) {
	case USCH_CAL_DAYS:
	case USCH_CAL_WEEKS:
		step = c->unit == USCH_CAL_WEEKS ? 7 * (int64_t) c->n : c->n;
		if (__builtin_mul_overflow(k, step, &units) || units > MAX_DAYS)
			return -1;
		*day = c->days + units;
		return *day > MAX_DAYS ? -1 : 0;
	case USCH_CAL_MONTHS:
	case USCH_CAL_YEARS:
		step = c->unit == USCH_CAL_YEARS ? 12 * (int64_t) c->n : c->n;
		if (__builtin_mul_overflow(k, step, &units) || units > 12 * (int64_t) MAX_YEAR)
			return -1;
		break;
	default:
		return -1;
	}
	int64_t month = (int64_t) c->year * 12 + (c->mon - 1) + units;
	int64_t y = usch_floor_div(month, 12);
	if (y > MAX_YEAR)
		return -1;
	int m = (int) (month - y * 12) + 1;
	/* Clamp from the anchor's day, so Jan 31 -> Feb 28 -> Mar 31. */
	int d = c->mday;
	int dim = usch_days_in_month((int) y, m);
	*day = usch_days_from_civil((int) y, m, d < dim ? d : dim);
	return *day > MAX_DAYS ? -1 : 0;
}

static int64_t cal_fire(const struct calendar *c, int64_t k) {
	int64_t day, at[2];

	/* The anchor is a real instant: fire 0 is it, even when its wall time
	 * is the second of two (fall back). */
	if (k == 0)
		return c->anchor;
	if (cal_day(c, k, &day) < 0)
		return INT64_MAX;
	int found = usch_tz_from_local(c->tz, day * DAY_SECS + c->tod, at);
	/* found == 0: a DST gap, at[0] is the transition instant; found == 2:
	 * at[0] is the first occurrence. */
	return secs_to_us(at[0], found == 0 ? 0 : c->frac);
}

/* A k at or below the answer, a few steps under it. units / step alone
 * lands on the fire in or before after's local month (or day); two more
 * steps back are a margin of at least two days, more than any UTC offset
 * change, so local order and instant order cannot disagree there. */
static int64_t cal_first_k(const struct calendar *c, int64_t after) {
	if (after < c->anchor)
		return 0;
	int64_t local = usch_tz_to_local(c->tz, usch_floor_div(after, USEC));
	int64_t day = usch_floor_div(local, DAY_SECS);
	int64_t units, step;

	if (c->unit == USCH_CAL_DAYS || c->unit == USCH_CAL_WEEKS) {
		units = day - c->days;
		step = c->unit == USCH_CAL_WEEKS ? 7 * (int64_t) c->n : c->n;
	}
	else {
		int y, m, d;
		usch_civil_from_days(day, &y, &m, &d);
		units = ((int64_t) y * 12 + m) - ((int64_t) c->year * 12 + c->mon);
		step = c->unit == USCH_CAL_YEARS ? 12 * (int64_t) c->n : c->n;
	}
	int64_t k = units / step - 2;
	return k > 0 ? k : 0;
}

static int64_t calendar_next(const usch_trigger *t, int64_t after) {
	const struct calendar *c = t->u.cal;

	/* Fires never decrease with k (each is a later local date), so the
	 * first one past `after` ends the walk, a few steps from the guess. */
	for (int64_t k = cal_first_k(c, after);; k++) {
		int64_t fire = cal_fire(c, k);
		if (fire > after || fire == INT64_MAX)
			return fire;
	}
}

static int64_t or_next(const usch_trigger *t, int64_t after) {
	int64_t best = INT64_MAX;

	for (size_t i = 0; i < t->u.combo.n; i++) {
		int64_t n = usch_trigger_next(t->u.combo.child[i], after);
		if (n < best)
			best = n;
	}
	return best;
}

/* Candidate c starts as the latest of the children's next fires; each
 * round asks every child for its first fire at or after c and moves c to
 * the latest answer, until all answer c. Bounded by rounds and by the
 * window's end, since children may never agree (interval 2 s vs interval
 * 2 s shifted by 1 s). */
static int64_t and_next(const usch_trigger *t, int64_t after) {
	int64_t c = INT64_MIN;

	for (size_t i = 0; i < t->u.combo.n; i++) {
		int64_t n = usch_trigger_next(t->u.combo.child[i], after);
		if (n > c)
			c = n;
	}
	for (int round = 0; round < USCH_TRIGGER_AND_MAX_ROUNDS; round++) {
		if (c == INT64_MAX || c > t->end)
			return INT64_MAX;
		int64_t latest = c;
		for (size_t i = 0; i < t->u.combo.n; i++) {
			/* c > after >= INT64_MIN, so c - 1 does not wrap. */
			int64_t n = usch_trigger_next(t->u.combo.child[i], c - 1);
			if (n > latest)
				latest = n;
		}
		if (latest == c)
			return c;
		c = latest;
	}
	return INT64_MAX;
}

static int64_t kind_next(const usch_trigger *t, int64_t after) {
	switch (t->kind) {
	case USCH_TRIGGER_CRON:
		return cron_next(t, after);
	case USCH_TRIGGER_INTERVAL:
		return interval_next(t, after);
	case USCH_TRIGGER_DATE:
		return date_next(t, after);
	case USCH_TRIGGER_CALENDAR:
		return calendar_next(t, after);
	case USCH_TRIGGER_AND:
		return and_next(t, after);
	case USCH_TRIGGER_OR:
		return or_next(t, after);
	}
	return INT64_MAX;
}

int64_t usch_trigger_next(const usch_trigger *t, int64_t after_us) {
	/* "Not before start" is "strictly after start - 1 µs". */
	if (t->start != INT64_MIN && after_us < t->start - 1)
		after_us = t->start - 1;
	if (after_us >= t->end)
		return INT64_MAX;
	int64_t n = kind_next(t, after_us);
	/* A kind that fails to advance would make the scheduler spin; treat
	 * it as exhausted instead. */
	if (n <= after_us || n > t->end)
		return INT64_MAX;
	return n;
}

/* ---- describe ---- */

struct out {
	char *buf;
	size_t len;
	size_t pos;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...) {
	va_list ap;
	size_t room = o->pos < o->len ? o->len - o->pos : 0;

	va_start(ap, fmt);
	int n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t) n;
}

/* timefmt.c writes the same forms the listing and the parser use. */
static void put_duration(struct out *o, int64_t us) {
	char buf[32];

	if (usch_duration_format(us, buf, sizeof(buf)) < 0)
		put(o, "%lldus", (long long) us);
	else
		put(o, "%s", buf);
}

/* RFC 3339 covers years 0000-9999 only; past that, the raw count. */
static void put_instant(struct out *o, int64_t us, const usch_tz *tz) {
	char buf[USCH_RFC3339_MAX];

	if (usch_rfc3339_format(us, tz, buf, sizeof(buf)) < 0)
		put(o, "%lldus since the epoch", (long long) us);
	else
		put(o, "%s", buf);
}

static void put_trigger(struct out *o, const usch_trigger *t) {
	static const char *const unit_name[] = {
		[USCH_CAL_DAYS] = "day",
		[USCH_CAL_WEEKS] = "week",
		[USCH_CAL_MONTHS] = "month",
		[USCH_CAL_YEARS] = "year",
	};

	switch (t->kind) {
	case USCH_TRIGGER_CRON:
		put(o, "cron \"%s\"", cron_text(t));
		return;
	case USCH_TRIGGER_INTERVAL:
		put(o, "interval ");
		put_duration(o, t->u.interval.period);
		return;
	case USCH_TRIGGER_DATE:
		put(o, "at ");
		put_instant(o, t->u.date.at, t->u.date.tz);
		return;
	case USCH_TRIGGER_CALENDAR:
		put(o, "every %d %s%s", t->u.cal->n, unit_name[t->u.cal->unit], t->u.cal->n == 1 ? "" : "s");
		return;
	case USCH_TRIGGER_AND:
	case USCH_TRIGGER_OR:
		put(o, "%s(", t->kind == USCH_TRIGGER_AND ? "and" : "or");
		for (size_t i = 0; i < t->u.combo.n; i++) {
			if (i)
				put(o, ", ");
			put_trigger(o, t->u.combo.child[i]);
		}
		put(o, ")");
		return;
	}
}

size_t usch_trigger_describe(const usch_trigger *t, char *buf, size_t len) {
	struct out o = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	put_trigger(&o, t);
	return o.pos;
}
