/* trigger.h - triggers: when does a job fire next after instant T.
 *
 * Every instant here is int64 microseconds on one timeline. Wall triggers
 * (cron, date, calendar) read it as Unix µs, UTC. A pure interval trigger
 * is plain arithmetic on whatever timeline it is given: the scheduler feeds
 * it its monotonic clock (elapsed time, immune to DST and clock steps), and
 * usch_trigger_clock() says which timeline a trigger wants.
 *
 * INT64_MAX means "never" (no further fire). A trigger is immutable once
 * built (except usch_trigger_set_window, which the caller must do before
 * sharing it); usch_trigger_next() writes nothing, so several threads may
 * call it on the same trigger at once.
 *
 * Zones (usch_tz) are borrowed: the caller keeps each zone alive at least
 * as long as the triggers built on it. */
#ifndef USCH_TRIGGER_H
#define USCH_TRIGGER_H

#include <stddef.h>
#include <stdint.h>
#include "tz.h"

typedef struct usch_trigger usch_trigger;

enum usch_trigger_kind {
	USCH_TRIGGER_CRON,
	USCH_TRIGGER_INTERVAL,
	USCH_TRIGGER_DATE,
	USCH_TRIGGER_CALENDAR,
	USCH_TRIGGER_AND,
	USCH_TRIGGER_OR,
};

/* Which timeline next() expects: MONO for elapsed time (a pure interval,
 * or a combinator of intervals only), WALL for Unix µs. */
enum usch_clock {
	USCH_CLOCK_WALL,
	USCH_CLOCK_MONO,
};

enum usch_cal_unit {
	USCH_CAL_DAYS,
	USCH_CAL_WEEKS,
	USCH_CAL_MONTHS,
	USCH_CAL_YEARS,
};

/* Bound on AND: after this many rounds (one round asks every child once)
 * without the children agreeing, next() gives up and returns INT64_MAX. */
#define USCH_TRIGGER_AND_MAX_ROUNDS 10000

/* Constructors return NULL on a bad argument or when out of memory, with
 * the reason in err (err.h: "the period must be greater than 0", "out of
 * memory", ...); the result is freed with usch_trigger_free. */

/* Parses expr with usch_cron_parse (job_id seeds H) and keeps the text for
 * usch_trigger_describe. tz NULL means UTC. */
usch_trigger *usch_trigger_cron(const char *expr, const char *job_id, const usch_tz *tz, char *err, size_t errlen);

/* Fires at anchor + k * period, k = 0, 1, 2 ...: the anchor is the first
 * fire. For "first fire one interval after start" pass start + period.
 * period_us > 0. Pure arithmetic on the timeline next() is given: alone it
 * is a MONO trigger (the scheduler passes monotonic µs and a monotonic
 * anchor); inside a WALL combinator it runs on the wall timeline, so its
 * anchor must then be a wall instant. */
usch_trigger *usch_trigger_interval(int64_t period_us, int64_t anchor_us, char *err, size_t errlen);

/* Fires once at at_us. tz (NULL = UTC) is only used by describe. */
usch_trigger *usch_trigger_date(int64_t at_us, const usch_tz *tz, char *err, size_t errlen);

/* Fires at the anchor, then every n units later at the anchor's wall-clock
 * time in tz (NULL = UTC). Each fire is computed from the anchor, not from
 * the previous fire: a day the month lacks clamps to the month's last day
 * (Jan 31 -> Feb 28/29 -> Mar 31; Feb 29 -> Feb 28 in common years). A wall
 * time in a DST gap fires at the transition instant (the first instant
 * after the gap); a repeated wall time fires at its first occurrence.
 * n >= 1. */
usch_trigger *usch_trigger_calendar(
		int n, enum usch_cal_unit unit, int64_t anchor_us, const usch_tz *tz, char *err, size_t errlen);

/* Combinators. They take ownership of the n >= 1 children in every case:
 * on failure the children are freed too. The array itself is copied.
 * OR fires whenever any child fires. AND fires when every child fires at
 * the same instant; the search gives up (INT64_MAX) after
 * USCH_TRIGGER_AND_MAX_ROUNDS rounds or past the AND's window end, since
 * children may never agree (every even vs every odd second). Each round
 * moves past at least one child's fire, so the bound also caps the cost. */
usch_trigger *usch_trigger_and(usch_trigger *const *children, size_t n, char *err, size_t errlen);
usch_trigger *usch_trigger_or(usch_trigger *const *children, size_t n, char *err, size_t errlen);

/* No fire before start_us nor after end_us (both included); INT64_MIN /
 * INT64_MAX for "no bound". Returns 0, or -1 when start_us > end_us. */
int usch_trigger_set_window(usch_trigger *t, int64_t start_us, int64_t end_us, char *err, size_t errlen);

/* Moves an interval's or a calendar trigger's anchor (its fire 0) to
 * anchor_us, keeping period, unit and window: a schedule that continues
 * from a run remembered across a restart. Like set_window, before the
 * trigger is shared. Returns 0, or -1 for any other kind. */
int usch_trigger_reanchor(usch_trigger *t, int64_t anchor_us, char *err, size_t errlen);

/* The first fire strictly after after_us, or INT64_MAX when none. */
int64_t usch_trigger_next(const usch_trigger *t, int64_t after_us);

enum usch_trigger_kind usch_trigger_kind(const usch_trigger *t);
enum usch_clock usch_trigger_clock(const usch_trigger *t);

/* True for a cron @start trigger: fires once when the scheduler starts,
 * never by the clock (next() returns INT64_MAX). */
int usch_trigger_is_start(const usch_trigger *t);

/* A short text for dry-run listings, e.g. `cron "0 9 * * mon-fri"`,
 * `interval 1h30m`, `at 2026-11-24T09:00:00+01:00`, `every 1 month`,
 * `and(interval 1h, cron "0 * * * *")`. snprintf-like: always terminated
 * when len > 0; returns the length the full text needs. */
size_t usch_trigger_describe(const usch_trigger *t, char *buf, size_t len);

/* A copy of t (and its children) in arena a, or NULL when out of memory
 * (what was taken stays in the arena). usch_trigger_free does nothing to
 * it: it lives as long as the arena. */
struct usch_arena;
usch_trigger *usch_trigger_pack(const usch_trigger *t, struct usch_arena *a);

void usch_trigger_free(usch_trigger *t);

#endif
