/* sched.c - the per-worker schedule (see sched.h).
 *
 * Every entry keeps its next fire on its trigger's own timeline and a
 * monotonic deadline in the timer queue. Wall entries convert through the
 * wall-minus-monotonic offset observed at each call; when that offset
 * jumps (the system clock was stepped) their deadlines are recomputed. */
#include <stdlib.h>
#include "sched.h"
#include "trigger.h"

#define USCH_MISSED_WALK 1000

static int64_t to_timeline(const struct usch_entry *e, int64_t now_mono, int64_t now_wall) {
	return e->wall ? now_wall : now_mono + e->shift;
}

static int64_t deadline_of(const struct usch_entry *e, int64_t now_mono, int64_t now_wall) {
	if (e->next == INT64_MAX)
		return INT64_MAX;
	int64_t now_tl = to_timeline(e, now_mono, now_wall);
	return now_mono + (e->next - now_tl);
}

static void queue_entry(struct usch_sched *s, struct usch_entry *e, int64_t now_mono, int64_t now_wall) {
	int64_t deadline = deadline_of(e, now_mono, now_wall);
	if (deadline == INT64_MAX)
		return;
	/* cannot fail: the queue was reserved for every entry */
	usch_timerq_insert(&s->q, &e->timer, deadline);
}

static void init_entry(struct usch_entry *e, const struct usch_job *job,
		int64_t now_mono, int64_t now_wall) {
	e->job = job;
	usch_timer_init(&e->timer);
	e->wall = usch_trigger_clock(job->trigger) == USCH_CLOCK_WALL;
	/* an interval without start= counts from this scheduler's start; with
	 * start= it keeps the wall anchor, translated once to elapsed time */
	e->shift = job->anchored ? now_wall - now_mono : -now_mono;
	int64_t now_tl = to_timeline(e, now_mono, now_wall);
	e->last = INT64_MIN;
	e->next = job->start_on_boot ? now_tl : usch_trigger_next(job->trigger, now_tl);
}

int usch_sched_init(struct usch_sched *s, struct usch_job *const *jobs, size_t n,
		int64_t now_mono, int64_t now_wall) {
	usch_timerq_init(&s->q);
	s->n = 0;
	s->wall_minus_mono = now_wall - now_mono;
	s->entries = calloc(n ? n : 1, sizeof(*s->entries));
	if (!s->entries || usch_timerq_reserve(&s->q, n ? n : 1) < 0) {
		free(s->entries);
		s->entries = NULL;
		usch_timerq_free(&s->q);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i]->paused)
			continue;
		struct usch_entry *e = &s->entries[s->n++];
		init_entry(e, jobs[i], now_mono, now_wall);
		queue_entry(s, e, now_mono, now_wall);
	}
	return 0;
}

void usch_sched_free(struct usch_sched *s) {
	usch_timerq_free(&s->q);
	free(s->entries);
	s->entries = NULL;
	s->n = 0;
}

/* The wall clock stepped: recompute every wall entry from the new wall
 * time. A fire the step skipped over is due now (a misfire, for the
 * job's policy); a step back never repeats a fire already made. */
static void rebase_wall(struct usch_sched *s, int64_t now_mono, int64_t now_wall) {
	for (size_t i = 0; i < s->n; i++) {
		struct usch_entry *e = &s->entries[i];
		if (!e->wall || e->next == INT64_MAX)
			continue;
		if (usch_timer_is_queued(&e->timer))
			usch_timerq_remove(&s->q, &e->timer);
		if (e->next > now_wall) {
			int64_t from = e->last > now_wall ? e->last : now_wall;
			e->next = usch_trigger_next(e->job->trigger, from);
		}
		queue_entry(s, e, now_mono, now_wall);
	}
}

/* Next fire after one at `scheduled`: fires already in the past are
 * coalesced into the one just made and counted in missed (exactly up to
 * USCH_MISSED_WALK, a lower bound past it: far behind, jump). */
static int64_t reschedule(struct usch_entry *e, int64_t scheduled, int64_t now_tl, int64_t *missed) {
	const struct usch_trigger *t = e->job->trigger;
	int64_t next = usch_trigger_next(t, scheduled);
	*missed = 0;
	while (next != INT64_MAX && next <= now_tl) {
		(*missed)++;
		if (*missed >= USCH_MISSED_WALK) {
			next = usch_trigger_next(t, now_tl);
			break;
		}
		next = usch_trigger_next(t, next);
	}
	return next;
}

int64_t usch_sched_run_due(struct usch_sched *s, int64_t now_mono, int64_t now_wall,
		usch_fire_fn fire, void *ctx) {
	int64_t offset = now_wall - now_mono;
	int64_t drift = offset - s->wall_minus_mono;
	if (drift > USCH_CLOCK_STEP_US || drift < -USCH_CLOCK_STEP_US)
		rebase_wall(s, now_mono, now_wall);
	s->wall_minus_mono = offset;

	struct usch_timer *t;
	while ((t = usch_timerq_peek(&s->q)) && t->deadline <= now_mono) {
		usch_timerq_pop(&s->q);
		struct usch_entry *e = USCH_TIMER_ENTRY(t, struct usch_entry, timer);
		int64_t now_tl = to_timeline(e, now_mono, now_wall);
		struct usch_fire f = {
			.job = e->job,
			.scheduled_us = e->wall ? e->next : e->next - e->shift + offset,
		};
		e->last = e->next;
		e->next = e->job->start_on_boot ? INT64_MAX : reschedule(e, e->last, now_tl, &f.missed);
		fire(ctx, &f);
		queue_entry(s, e, now_mono, now_wall);
	}
	t = usch_timerq_peek(&s->q);
	return t ? t->deadline : INT64_MAX;
}
