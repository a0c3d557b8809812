/* cron_parse.c - owns the cron parser: 5/6/7 fields, names, steps,
 * Quartz L/W/#, Jenkins H and macros, compiled into the bitmasks of struct
 * usch_cron, with error messages naming field, token and reason. The
 * evaluation of a compiled expression is cron.c's. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "cron.h"
#include "cron_impl.h"
#include "err.h"

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR, F_COUNT };

#define DOM_ALL UINT32_C(0xfffffffe) /* bits 1-31 */

struct field_spec {
	const char *name;
	int lo, hi;   /* accepted values */
	int hlo, hhi; /* H's default range: see cron.h */
};

static const struct field_spec specs[F_COUNT] = {
	{ "second", 0, 59, 0, 59 },
	{ "minute", 0, 59, 0, 59 },
	{ "hour", 0, 23, 0, 23 },
	{ "day-of-month", 1, 31, 1, 28 },
	{ "month", 1, 12, 1, 12 },
	{ "day-of-week", 0, 7, 0, 6 },
	{ "year", YEAR0, 2099, YEAR0, 2099 },
};

static const char *const mon_names[12] = {
	"jan",
	"feb",
	"mar",
	"apr",
	"may",
	"jun",
	"jul",
	"aug",
	"sep",
	"oct",
	"nov",
	"dec",
};
static const char *const dow_names[7] = {
	"sun",
	"mon",
	"tue",
	"wed",
	"thu",
	"fri",
	"sat",
};

static const struct {
	const char *name, *expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

struct span {
	const char *s, *e;
};

struct pctx {
	struct usch_cron *c;
	uint64_t bits[3]; /* the field being parsed: bit (value - base) */
	int field;        /* canonical index F_* */
	int pos;          /* 1-based position as the user wrote it */
	struct span text; /* whole field text, for messages */
	uint32_t hash;    /* FNV-1a of job_id, see cron.h */
	char *err;
	size_t errlen;
};

#define SPAN(a, b) (int) ((b) - (a)), (a)

/* Every field error starts "field N (name): " so users find the culprit in
 * the expression as they wrote it. */
static int field_fail(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int field_fail(struct pctx *p, const char *fmt, ...) {
	char prefix[48];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "field %d (%s): ", p->pos, specs[p->field].name);
	va_start(ap, fmt);
	usch_vfail(p->err, p->errlen, prefix, fmt, ap);
	va_end(ap);
	return -1;
}

static int unexpected(struct pctx *p, const char *q, const char *s, const char *e) {
	return field_fail(p, "unexpected \"%.*s\" in \"%.*s\"", SPAN(q, e), SPAN(s, e));
}

/* Saturates instead of overflowing, so "99999999999" still gets the
 * ordinary out-of-range message quoting the user's text. */
static int read_num(const char **q, const char *e, int *v) {
	const char *s = *q;
	long x = 0;

	for (; *q < e && usch_is_digit(**q); (*q)++)
		if (x < 100000000)
			x = x * 10 + (**q - '0');
	*v = (int) x;
	return *q > s;
}

/* A month or weekday name, or -1. A weekday name may carry Quartz's L
 * ("friL") when the caller passes last. */
static int lookup_name(struct pctx *p, const char *s, size_t n, int *last) {
	if (p->field == F_MON && n == 3) {
		for (int i = 0; i < 12; i++)
			if (strncasecmp(s, mon_names[i], 3) == 0)
				return i + 1;
	}
	if (p->field == F_DOW && (n == 3 || (last && n == 4 && (s[3] | 32) == 'l'))) {
		for (int i = 0; i < 7; i++) {
			if (strncasecmp(s, dow_names[i], 3) == 0) {
				if (n == 4)
					*last = 1;
				return i;
			}
		}
	}
	return -1;
}

/* Letters that are not names get a message saying where they do belong. */
static int bad_letters(struct pctx *p, const char *s, size_t n) {
	int f = p->field;

	if (n == 1 && (*s | 32) == 'l') {
		if (f == F_DOW)
			return field_fail(p, "\"L\" in day-of-week needs a weekday before it (e.g. 5L or friL)");
		return field_fail(p, "\"L\" is only allowed in day-of-month and day-of-week");
	}
	if (n == 2 && (s[0] | 32) == 'l' && (s[1] | 32) == 'w')
		return field_fail(p, "\"LW\" is only allowed in day-of-month");
	if (n == 1 && (*s | 32) == 'w') {
		if (f == F_DOM)
			return field_fail(p, "\"W\" needs a day before it (e.g. 15W or LW)");
		return field_fail(p, "\"W\" is only allowed in day-of-month");
	}
	return field_fail(p, "unknown name \"%.*s\"", (int) n, s);
}

/* A number or a month/weekday name, range-checked. *last reports Quartz's
 * "friL" (a name glued to L) when the caller allows it. */
static int read_value(struct pctx *p, const char **q, const char *e, const char *elem, int *v, int *last) {
	const struct field_spec *f = &specs[p->field];
	const char *s = *q;
	size_t n;

	if (read_num(q, e, v)) {
		if (*v < f->lo || *v > f->hi)
			return field_fail(p, "%.*s is out of range %d-%d", SPAN(s, *q), f->lo, f->hi);
		return 0;
	}
	while (*q < e && usch_is_alpha(**q))
		(*q)++;
	n = (size_t) (*q - s);
	if (!n && s == e)
		return field_fail(p, "expected a value after \"%.*s\"", SPAN(elem, e));
	if (!n)
		return field_fail(p, "expected a value at \"%.*s\" in \"%.*s\"", SPAN(s, e), SPAN(elem, e));
	*v = lookup_name(p, s, n, last);
	return *v < 0 ? bad_letters(p, s, n) : 0;
}

static void set_value(struct pctx *p, int v) {
	int i;

	if (p->field == F_DOW && v == 7)
		v = 0; /* 0 and 7 are both Sunday */
	i = v - (p->field == F_YEAR ? YEAR0 : 0);
	p->bits[i >> 6] |= UINT64_C(1) << (i & 63);
}

static int read_step(struct pctx *p, const char **q, const char *e, const char *elem, int *step) {
	(*q)++; /* the '/' */
	if (!read_num(q, e, step))
		return field_fail(p, "expected a step after \"/\" in \"%.*s\"", SPAN(elem, e));
	if (*step == 0)
		return field_fail(p, "step 0 must be >= 1");
	return 0;
}

static int parse_hash(struct pctx *p, const char *s, const char *e) {
	const struct field_spec *f = &specs[p->field];
	const char *q = s + 1, *as, *ae, *bs, *be;
	int a = f->hlo, b = f->hhi, step = 0, v;
	uint32_t h;

	if (q < e && *q == '(') {
		as = ++q;
		if (!read_num(&q, e, &a) || q >= e || *q != '-')
			goto malformed;
		ae = q++;
		bs = q;
		if (!read_num(&q, e, &b) || q >= e || *q != ')')
			goto malformed;
		be = q++;
		if (a < f->lo || a > f->hi)
			return field_fail(p, "%.*s is out of range %d-%d", SPAN(as, ae), f->lo, f->hi);
		if (b < f->lo || b > f->hi)
			return field_fail(p, "%.*s is out of range %d-%d", SPAN(bs, be), f->lo, f->hi);
		if (a > b)
			return field_fail(p, "range %.*s is reversed (a-b needs a <= b)", SPAN(as, be));
	}
	if (q < e && *q == '/') {
		if (q + 1 == e || !usch_is_digit(q[1]))
			goto malformed;
		if (read_step(p, &q, e, s, &step))
			return -1;
	}
	if (q != e)
		goto malformed;
	/* one more FNV-1a round with the field index: see cron.h */
	h = (p->hash ^ (uint32_t) p->field) * UINT32_C(16777619);
	v = (int) (h % (uint32_t) (b - a + 1));
	if (!step) {
		set_value(p, a + v);
		return 0;
	}
	for (int x = a + v % step; x <= b; x += step)
		set_value(p, x);
	return 0;
malformed:
	return field_fail(p, "malformed H expression \"%.*s\" (expected H, H/n, H(a-b) or H(a-b)/n)", SPAN(s, e));
}

/* "L", "L-n", "LW" in day-of-month. */
static int parse_dom_last(struct pctx *p, const char *s, const char *e) {
	const char *q = s + 1, *ns;
	int n;

	if (q == e) {
		p->c->dom_last |= 1u;
		return 0;
	}
	if ((*q | 32) == 'w' && q + 1 == e) {
		p->c->flags |= FL_LW;
		return 0;
	}
	if (*q != '-')
		return unexpected(p, q, s, e);
	ns = ++q;
	if (!read_num(&q, e, &n))
		return field_fail(p, "expected a number after \"L-\" in \"%.*s\"", SPAN(s, e));
	if (q != e)
		return unexpected(p, q, s, e);
	if (n > 30)
		return field_fail(p, "%.*s in \"%.*s\" is out of range 0-30", SPAN(ns, q), SPAN(s, e));
	p->c->dom_last |= UINT32_C(1) << n;
	return 0;
}

/* The Quartz suffixes after a first value a: nW, d#n, dL. Returns 1 when
 * there was none, so the caller goes on with ranges and steps. */
static int parse_suffix(struct pctx *p, const char *q, const char *e, const char *s, int a) {
	if ((*q | 32) == 'w') {
		if (p->field != F_DOM)
			return field_fail(p, "\"W\" is only allowed in day-of-month");
		if (q + 1 != e)
			return unexpected(p, q + 1, s, e);
		p->c->dom_wd |= UINT32_C(1) << a;
		return 0;
	}
	if (*q == '#') {
		const char *ns = q + 1;
		int n;

		if (p->field != F_DOW)
			return field_fail(p, "\"#\" is only allowed in day-of-week");
		q = ns;
		if (!read_num(&q, e, &n))
			return field_fail(p, "expected a number after \"#\" in \"%.*s\"", SPAN(s, e));
		if (q != e)
			return unexpected(p, q, s, e);
		if (n < 1 || n > 5)
			return field_fail(p, "%.*s in \"%.*s\" is out of range 1-5", SPAN(ns, q), SPAN(s, e));
		p->c->dow_nth[a % 7] |= (uint8_t) (1u << (n - 1));
		return 0;
	}
	if ((*q | 32) == 'l') {
		if (p->field != F_DOW)
			return field_fail(p, "\"L\" after a value is only allowed in day-of-week (e.g. 5L)");
		if (q + 1 != e)
			return unexpected(p, q + 1, s, e);
		p->c->dow_last |= (uint8_t) (1u << (a % 7));
		return 0;
	}
	return 1;
}

static int parse_elem(struct pctx *p, const char *s, const char *e) {
	const struct field_spec *f = &specs[p->field];
	const char *q = s;
	int a, b, step = 1, last = 0, r;

	if (*q == '*') {
		a = f->lo;
		b = f->hi;
		q++;
	}
	else if ((*q | 32) == 'h' && (q + 1 == e || q[1] == '(' || q[1] == '/')) {
		return parse_hash(p, s, e);
	}
	else if (p->field == F_DOM && (*q | 32) == 'l') {
		return parse_dom_last(p, s, e);
	}
	else {
		if (read_value(p, &q, e, s, &a, &last))
			return -1;
		if (last) {
			if (q != e)
				return unexpected(p, q, s, e);
			p->c->dow_last |= (uint8_t) (1u << (a % 7));
			return 0;
		}
		if (q < e && (r = parse_suffix(p, q, e, s, a)) <= 0)
			return r;
		b = a;
		if (q < e && *q == '-') {
			q++;
			if (read_value(p, &q, e, s, &b, NULL))
				return -1;
			if (a > b)
				return field_fail(p, "range %.*s is reversed (a-b needs a <= b)", SPAN(s, q));
		}
		else if (q < e && *q == '/') {
			b = f->hi; /* a/n means a-max/n */
		}
	}
	if (q < e && *q == '/' && read_step(p, &q, e, s, &step))
		return -1;
	if (q != e)
		return unexpected(p, q, s, e);
	for (int v = a; v <= b; v += step)
		set_value(p, v);
	return 0;
}

static int parse_field(struct pctx *p) {
	const char *s = p->text.s, *e = p->text.e, *c;
	int is_day = p->field == F_DOM || p->field == F_DOW;

	if (e - s == 1 && *s == '?' && is_day) {
		for (int v = specs[p->field].lo; v <= specs[p->field].hi; v++)
			set_value(p, v);
		return 0;
	}
	for (; s <= e; s = c + 1) {
		c = memchr(s, ',', (size_t) (e - s));
		if (!c)
			c = e;
		if (c == s)
			return field_fail(p, "empty element in list \"%.*s\"", SPAN(p->text.s, e));
		if (c - s == 1 && *s == '?') {
			if (!is_day)
				return field_fail(p, "\"?\" is only allowed in day-of-month and day-of-week");
			return field_fail(p, "\"?\" must be the whole field, not part of \"%.*s\"", SPAN(p->text.s, e));
		}
		if (parse_elem(p, s, c))
			return -1;
	}
	return 0;
}

static uint32_t fnv1a(const char *s) {
	uint32_t h = UINT32_C(2166136261);

	for (; s && *s; s++)
		h = (h ^ (uint8_t) *s) * UINT32_C(16777619);
	return h;
}

static int has_nth(const struct usch_cron *c) {
	for (int w = 0; w < 7; w++)
		if (c->dow_nth[w])
			return 1;
	return 0;
}

/* Copies the field's bits into c and derives the flags. */
static void store_field(struct usch_cron *c, const struct pctx *p) {
	int star = *p->text.s == '*' || (p->text.e - p->text.s == 1 && *p->text.s == '?');

	switch (p->field) {
	case F_SEC:
		c->sec = p->bits[0];
		break;
	case F_MIN:
		c->min = p->bits[0];
		break;
	case F_HOUR:
		c->hour = (uint32_t) p->bits[0];
		break;
	case F_DOM:
		c->dom = (uint32_t) p->bits[0];
		break;
	case F_MON:
		c->mon = (uint16_t) p->bits[0];
		break;
	case F_DOW:
		c->dow = (uint8_t) p->bits[0];
		break;
	case F_YEAR:
		memcpy(c->years, p->bits, sizeof(c->years));
		break;
	}
	if (star && p->field == F_DOM)
		c->flags |= FL_DOM_STAR;
	if (star && p->field == F_DOW)
		c->flags |= FL_DOW_STAR;
	if (*p->text.s == '*' && p->field <= F_HOUR)
		c->flags |= FL_FOLLOWS;
	/* a lone '*' needs no year check; a stepped one still does */
	if (p->field == F_YEAR && !(p->text.e - p->text.s == 1 && star))
		c->flags |= FL_YEARS;
}

static int split_fields(const char *expr, struct span *out, int max) {
	int n = 0;

	for (const char *q = expr; *q;) {
		while (usch_is_space(*q))
			q++;
		if (!*q)
			break;
		if (n < max)
			out[n].s = q;
		while (*q && !usch_is_space(*q))
			q++;
		if (n < max)
			out[n].e = q;
		n++;
	}
	return n;
}

static int parse_macro(usch_cron *out, const struct span *tok, int ntok, const char *job_id, char *err, size_t errlen) {
	size_t n = (size_t) (tok[0].e - tok[0].s);

	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (strlen(macros[i].name) != n || strncasecmp(tok[0].s, macros[i].name, n))
			continue;
		if (ntok > 1)
			return usch_fail(err, errlen, "unexpected \"%.*s\" after %s", SPAN(tok[1].s, tok[1].e),
					macros[i].name);
		return usch_cron_parse(out, macros[i].expr, job_id, err, errlen);
	}
	if (n == 6 && strncasecmp(tok[0].s, "@start", 6) == 0) {
		if (ntok > 1)
			return usch_fail(err, errlen, "unexpected \"%.*s\" after @start", SPAN(tok[1].s, tok[1].e));
		memset(out, 0, sizeof(*out));
		out->flags = FL_START;
		return 0;
	}
	return usch_fail(err, errlen, "unknown macro \"%.*s\"", SPAN(tok[0].s, tok[0].e));
}

static const int layout[3][7] = {
	{ F_MIN, F_HOUR, F_DOM, F_MON, F_DOW },
	{ F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW },
	{ F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR },
};

int usch_cron_parse(usch_cron *out, const char *expr, const char *job_id, char *err, size_t errlen) {
	struct usch_cron c;
	struct span tok[7];
	struct pctx p;
	int n = split_fields(expr ? expr : "", tok, 7);

	if (n >= 1 && *tok[0].s == '@')
		return parse_macro(out, tok, n, job_id, err, errlen);
	if (n < 5 || n > 7)
		return usch_fail(err, errlen, "expected 5, 6 or 7 fields, got %d", n);

	memset(&c, 0, sizeof(c));
	c.sec = 1; /* 5 fields: second 0 */
	c.years[0] = c.years[1] = c.years[2] = UINT64_MAX;
	memset(&p, 0, sizeof(p));
	p.c = &c;
	p.hash = fnv1a(job_id);
	p.err = err;
	p.errlen = errlen;
	for (int i = 0; i < n; i++) {
		memset(p.bits, 0, sizeof(p.bits));
		p.field = layout[n - 5][i];
		p.pos = i + 1;
		p.text = tok[i];
		if (parse_field(&p))
			return -1;
		store_field(&c, &p);
	}
	if (c.dom_last || c.dom_wd || (c.flags & FL_LW) || c.dow_last || has_nth(&c))
		c.flags |= FL_QUARTZ;
	if (!(c.flags & FL_QUARTZ) && c.dom == DOM_ALL && c.dow == 0x7f)
		c.flags |= FL_ALLDAYS;
	/* The calendar repeats every 400 years, so one search tells whether
	 * the date fields can ever agree (e.g. "0 0 30 2 *" cannot). */
	if (usch_cron_next_local(&c, 0) == INT64_MAX)
		return usch_fail(err, errlen,
				"expression never fires: no date satisfies its day-of-month, month, day-of-week and year fields");
	*out = c;
	return 0;
}

size_t usch_cron_size(void) {
	return sizeof(struct usch_cron);
}
