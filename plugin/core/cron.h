/* cron.h - cron expressions: parsing and next fire time.
 *
 * Syntax and semantics for users: README "Triggers" (crontab(5)'s
 * day-of-month/day-of-week rule, Quartz L/W/#, Jenkins H, cronie's DST
 * rules).
 *
 * H (Jenkins "hash") is part of the on-disk contract: a job's H values must
 * never change between releases or machines. The value is computed as
 *
 *     h = FNV-1a 32-bit (offset basis 2166136261, prime 16777619) over the
 *         bytes of job_id (NULL counts as ""), followed by one more byte
 *         holding the canonical field index: 0 second, 1 minute, 2 hour,
 *         3 day-of-month, 4 month, 5 day-of-week, 6 year
 *     v = h mod (b - a + 1)
 *
 * where a-b is the range: the one given in H(a-b), else the field's own
 * (second/minute 0-59, hour 0-23, day-of-month 1-28 so that every month
 * has it, month 1-12, day-of-week 0-6, year 1970-2099).
 * `H` and `H(a-b)` mean a + v; `H/n` and `H(a-b)/n` mean a + (v mod n),
 * then every n-th value up to b. */
#ifndef USCH_CRON_H
#define USCH_CRON_H

#include <stddef.h>
#include <stdint.h>
#include "tz.h"

/* A compiled expression; plain data, no pointers, sizeof <= 128, so callers
 * may embed and copy it. Fields are private to cron_parse.c, which fills
 * them, and cron.c, which reads them (flags: cron_impl.h). */
struct usch_cron {
	uint64_t sec;       /* bit s: second s matches (0-59) */
	uint64_t min;       /* bit m: minute m (0-59) */
	uint64_t years[3];  /* bit y-1970 (1970-2099) */
	uint32_t hour;      /* bit h (0-23) */
	uint32_t dom;       /* bit d: plain day of month d (1-31) */
	uint32_t dom_last;  /* bit n: "L-n", n days before the last day */
	uint32_t dom_wd;    /* bit n: "nW", weekday nearest to day n */
	uint16_t mon;       /* bit m (1-12) */
	uint16_t flags;     /* FL_* in cron_impl.h */
	uint8_t dow;        /* bit d: plain weekday d (0 = Sunday) */
	uint8_t dow_last;   /* bit d: "dL", last weekday d of the month */
	uint8_t dow_nth[7]; /* [d] bit n-1: "d#n" */
};
typedef struct usch_cron usch_cron;
size_t usch_cron_size(void);

/* Parses expr (5, 6 or 7 fields, or a macro). job_id seeds H. Returns 0, or
 * -1 with a message like "field 2 (hour): 24 is out of range 0-23". */
int usch_cron_parse(usch_cron *out, const char *expr, const char *job_id, char *err, size_t errlen);

/* True for @start: fires once when the scheduler starts, never by clock. */
int usch_cron_is_start(const usch_cron *c);

/* Next fire instant strictly after t (Unix seconds), evaluated in tz.
 * Returns INT64_MAX when there is none (year field exhausted, @start).
 * DST, as cronie: an expression whose second, minute or hour field starts
 * with '*' follows the clock (every real instant whose wall time matches:
 * twice in a repeated hour, never in a skipped one); any other is
 * fixed-time (a repeated wall time fires at its first occurrence, a
 * skipped one once, at the first instant after the gap). */
int64_t usch_cron_next(const usch_cron *c, const usch_tz *tz, int64_t t);

#endif
