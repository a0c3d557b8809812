/* sched.c - the per-worker schedule (see sched.h).
 *
 * Every entry keeps its next fire on its trigger's own timeline and a
 * monotonic deadline in the timer queue. Wall entries convert through the
 * wall-minus-monotonic offset observed at each call; when that offset
 * jumps (the system clock was stepped) their deadlines are recomputed. */
#include <stdlib.h>
#include "err.h"
#include "sched.h"
#include "trigger.h"

static int64_t to_timeline(const struct usch_entry *e, int64_t now_mono, int64_t now_wall) {
	return e->wall ? now_wall : now_mono + e->shift;
}

static int64_t deadline_of(const struct usch_entry *e, int64_t now_mono, int64_t now_wall) {
	if (e->next == INT64_MAX)
		return INT64_MAX;
	int64_t now_tl = to_timeline(e, now_mono, now_wall);
	return now_mono + (e->next - now_tl);
}

/* xorshift64*: jitter needs spread, not cryptographic quality */
static uint64_t next_random(struct usch_sched *s) {
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1DULL;
}

/* A once-job's jitter is drawn from its id and the occurrence, so that
 * every worker delays the occurrence alike (FNV-1a, then splitmix64). */
static uint64_t occurrence_random(const char *id, int64_t occurrence) {
	uint64_t h = 14695981039346656037ULL;
	for (; *id; id++)
		h = (h ^ (unsigned char) *id) * 1099511628211ULL;
	h ^= (uint64_t) occurrence;
	h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
	h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
	return h ^ (h >> 31);
}

/* jitter: whether the job has jitter= (read of the job only then). */
static void queue_jittered(struct usch_sched *s, struct usch_entry *e, int jitter, int64_t now_mono, int64_t now_wall) {
	int64_t deadline = deadline_of(e, now_mono, now_wall);
	if (deadline == INT64_MAX)
		return;
	if (jitter && e->job->cold->jitter_us > 0) {
		uint64_t r = usch_job_claimed(e->job) ? occurrence_random(e->job->id, e->next) : next_random(s);
		deadline += (int64_t) (r % (uint64_t) (e->job->cold->jitter_us + 1));
	}
	/* cannot fail: the queue was reserved for every entry */
	usch_timerq_insert(&s->q, &e->timer, deadline);
}

static void queue_entry(struct usch_sched *s, struct usch_entry *e, int64_t now_mono, int64_t now_wall) {
	queue_jittered(s, e, 1, now_mono, now_wall);
}

/* From the view alone: neither the job's page nor its trigger's is read
 * while the view's first fire stands. */
static void init_entry(struct usch_entry *e, const struct usch_sched_job *v, int64_t view_at, int64_t now_mono,
		int64_t now_wall) {
	e->job = v->job;
	e->index = v->index;
	usch_timer_init(&e->timer);
	e->wall = v->wall;
	/* an interval without start= counts from this scheduler's start; with
	 * start= it keeps the wall anchor, translated once to elapsed time
	 * (usch_job_timeline_at_start) */
	int on_wall = e->wall || v->anchored;
	e->shift = (on_wall ? now_wall : 0) - now_mono;
	int64_t now_tl = to_timeline(e, now_mono, now_wall);
	e->last = INT64_MIN;
	e->caught_up_to = INT64_MIN;
	if (v->start)
		e->next = now_tl;
	else if (on_wall && view_at != INT64_MIN && view_at <= now_tl && v->first > now_tl)
		e->next = v->first;
	else if (!on_wall) /* now_tl is 0: this schedule's start */
		e->next = v->first;
	else
		e->next = usch_trigger_next(v->job->trigger, now_tl);
}

/* Fires due at the same instant run in declaration order: the queue's
 * insertion order would not do, since a job re-queued after its last fire
 * gets a newer sequence than a job declared after it but not yet due. */
static int entry_less(const struct usch_timer *a, const struct usch_timer *b) {
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	uint32_t ia = USCH_TIMER_ENTRY(a, struct usch_entry, timer)->index;
	uint32_t ib = USCH_TIMER_ENTRY(b, struct usch_entry, timer)->index;
	if (ia != ib)
		return ia < ib;
	return usch_timer_seq_before(a, b);
}

void usch_sched_view(struct usch_job *const *jobs, size_t n, int64_t at, struct usch_sched_job *view) {
	for (size_t i = 0; i < n; i++) {
		const struct usch_job *job = jobs[i];
		struct usch_sched_job *v = &view[i];
		*v = (struct usch_sched_job){ .job = job,
			.first = INT64_MIN,
			.index = job->index,
			.anchored = job->anchored != 0,
			.jitter = job->cold->jitter_us > 0,
			.wall = usch_trigger_clock(job->trigger) == USCH_CLOCK_WALL,
			.start = job->start_on_boot != 0 };
		int on_wall = v->wall || v->anchored;
		if (!v->start && (!on_wall || at != INT64_MIN))
			v->first = usch_trigger_next(job->trigger, on_wall ? at : 0);
	}
}

int usch_sched_init_view(struct usch_sched *s, const struct usch_sched_job *view, size_t n, int64_t view_at,
		int64_t now_mono, int64_t now_wall, char *err, size_t errlen) {
	usch_timerq_init(&s->q, entry_less);
	s->n = 0;
	s->wall_minus_mono = now_wall - now_mono;
	s->steps = 0;
	s->last_step = 0;
	s->sorted = 1;
	s->rng = ((uint64_t) now_wall * 0x9E3779B97F4A7C15ULL) | 1;
	s->entries = calloc(n ? n : 1, sizeof(*s->entries));
	if (!s->entries || usch_timerq_reserve(&s->q, n ? n : 1) < 0) {
		free(s->entries);
		s->entries = NULL;
		usch_timerq_free(&s->q);
		return usch_fail(err, errlen, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct usch_entry *e = &s->entries[s->n++];
		init_entry(e, &view[i], view_at, now_mono, now_wall);
		s->sorted &= i == 0 || view[i - 1].index < view[i].index;
		queue_jittered(s, e, view[i].jitter, now_mono, now_wall);
	}
	return 0;
}

int usch_sched_init(struct usch_sched *s, struct usch_job *const *jobs, size_t n, int64_t now_mono, int64_t now_wall,
		char *err, size_t errlen) {
	struct usch_sched_job *view = malloc((n ? n : 1) * sizeof(*view));
	if (!view)
		return usch_fail(err, errlen, "out of memory");
	usch_sched_view(jobs, n, INT64_MIN, view);
	int ret = usch_sched_init_view(s, view, n, INT64_MIN, now_mono, now_wall, err, errlen);
	free(view);
	return ret;
}

/* The entry of job, or NULL: by bisection on the index when the entries
 * are in declaration order (a worker's are), else one by one. */
static struct usch_entry *entry_of(const struct usch_sched *s, const struct usch_job *job) {
	if (!s->sorted) {
		for (size_t i = 0; i < s->n; i++)
			if (s->entries[i].job == job)
				return &s->entries[i];
		return NULL;
	}
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->entries[mid].index < job->index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->entries[lo].job == job ? &s->entries[lo] : NULL;
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

/* The fires due now, from the entry's next one: the first and last of
 * them, how many, the earliest that coalesce=all runs, and the next fire
 * after them. Past USCH_MISSED_WALK the count is a lower bound, but the
 * last fire is still the latest one due. */
struct due {
	int64_t first, last, count, tail, after;
};

/* How many fires of t lie in (after, to], counted up to cap. */
static int64_t count_fires(const usch_trigger *t, int64_t after, int64_t to, int64_t cap) {
	int64_t n = 0;
	for (int64_t f = usch_trigger_next(t, after); f <= to && n < cap; f = usch_trigger_next(t, f))
		n++;
	return n;
}

/* The earliest of the latest n fires of t in (lo, to], where there are
 * at least n: a bisection keeps n or more after lo and fewer after hi, so
 * a stretch of any length costs a few dozen walks of n fires. */
static int64_t latest_fires_from(const usch_trigger *t, int64_t lo, int64_t to, int64_t n) {
	int64_t hi = to;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (count_fires(t, mid, to, n) >= n)
			lo = mid;
		else
			hi = mid;
	}
	return usch_trigger_next(t, lo);
}

static struct due collect_due(const struct usch_entry *e, int64_t now_tl) {
	const struct usch_trigger *t = e->job->trigger;
	struct due d = { .first = e->next, .last = e->next, .count = 1, .tail = e->next };
	if (e->job->start_on_boot) {
		d.after = INT64_MAX;
		return d;
	}
	int64_t next = usch_trigger_next(t, e->next);
	for (; next <= now_tl && d.count < USCH_MISSED_WALK; next = usch_trigger_next(t, next)) {
		d.last = next;
		d.count++;
	}
	if (next <= now_tl) {
		d.last = latest_fires_from(t, d.last, now_tl, 1);
		next = usch_trigger_next(t, d.last);
	}
	if (e->job->coalesce == USCH_COALESCE_ALL && d.count > USCH_ALL_MAX)
		d.tail = latest_fires_from(t, d.first - 1, d.last, USCH_ALL_MAX);
	d.after = next;
	return d;
}

int64_t usch_sched_next_due(const struct usch_sched *s, const struct usch_job *job) {
	const struct usch_entry *e = entry_of(s, job);
	return e && e->timer.slot ? e->timer.deadline : INT64_MAX;
}

int64_t usch_sched_next_deadline(const struct usch_sched *s) {
	struct usch_timer *t = usch_timerq_peek(&s->q);
	return t ? t->deadline : INT64_MAX;
}

int usch_fire_misfired(const struct usch_job *job, int64_t scheduled_us, int64_t now_us) {
	return job->cold->misfire_grace_us >= 0 && now_us - scheduled_us > job->cold->misfire_grace_us;
}

/* Hands the fires of one due entry to fire() as its coalesce policy says
 * (APScheduler 4's CoalescePolicy): earliest or latest runs once for all
 * the due fires, all runs each; a fire later than misfire-grace is handed
 * over marked misfired, for the caller to count and not run. */
static void emit(struct usch_entry *e, const struct due *d, int64_t now_tl, int64_t to_wall, int64_t due_mono,
		usch_fire_fn fire, void *ctx) {
	const struct usch_job *job = e->job;
	struct usch_fire f = { .job = job, .missed = d->count - 1, .due_mono = due_mono };
	if (job->coalesce == USCH_COALESCE_ALL && d->count > 1) {
		f.missed = 0;
		/* past the bound, the latest ones run */
		f.dropped = d->count > USCH_ALL_MAX ? d->count - USCH_ALL_MAX : 0;
		int place = 1;
		for (int64_t t = d->tail; t <= d->last; t = usch_trigger_next(job->trigger, t), place++) {
			f.scheduled_us = t + to_wall;
			f.occurrence = t;
			f.covers_to = t;
			f.burst = place;
			f.misfired = usch_fire_misfired(job, t, now_tl);
			f.catch_up = t <= e->caught_up_to;
			fire(ctx, &f);
			f.dropped = 0;
		}
		return;
	}
	int64_t t = job->coalesce == USCH_COALESCE_EARLIEST ? d->first : d->last;
	f.scheduled_us = t + to_wall;
	f.occurrence = job->start_on_boot ? USCH_OCCURRENCE_START : t;
	f.covers_to = job->start_on_boot ? USCH_OCCURRENCE_START : d->last;
	f.misfired = usch_fire_misfired(job, t, now_tl);
	f.catch_up = t <= e->caught_up_to;
	fire(ctx, &f);
}

int64_t usch_sched_run_due(struct usch_sched *s, int64_t now_mono, int64_t now_wall, usch_fire_fn fire, void *ctx) {
	int64_t offset = now_wall - now_mono;
	int64_t drift = offset - s->wall_minus_mono;
	if (drift > USCH_CLOCK_STEP_US || drift < -USCH_CLOCK_STEP_US) {
		rebase_wall(s, now_mono, now_wall);
		s->steps++;
		s->last_step = drift;
	}
	s->wall_minus_mono = offset;

	struct usch_timer *t;
	while ((t = usch_timerq_peek(&s->q)) && t->deadline <= now_mono) {
		usch_timerq_pop(&s->q);
		int64_t due_mono = t->deadline;
		struct usch_entry *e = USCH_TIMER_ENTRY(t, struct usch_entry, timer);
		int64_t now_tl = to_timeline(e, now_mono, now_wall);
		struct due d = collect_due(e, now_tl);
		e->last = d.last;
		e->next = d.after;
		/* an anchored interval's timeline is its wall grid: report the grid's
		 * instant itself, the same in every worker, not one shifted by how the
		 * clocks drifted since this scheduler started */
		emit(e, &d, now_tl, e->wall || e->job->anchored ? 0 : offset - e->shift, due_mono, fire, ctx);
		queue_entry(s, e, now_mono, now_wall);
	}
	t = usch_timerq_peek(&s->q);
	return t ? t->deadline : INT64_MAX;
}

/* An interval on elapsed time: its timeline is moved so that now reads
 * as the time elapsed since the last run, and the fire one interval after
 * that run is the next (due already when that has passed). */
static void resume_elapsed(struct usch_entry *e, int64_t after_wall, int64_t now_mono, int64_t now_wall) {
	int64_t since = now_wall - after_wall;
	int64_t next_now = e->next - to_timeline(e, now_mono, now_wall); /* µs to its next fire as it stands */
	int64_t first = usch_trigger_next(e->job->trigger, 0);
	if (after_wall == INT64_MIN || since < 0 || first == INT64_MAX || first - since >= next_now)
		return;
	e->shift = since - now_mono;
	e->last = 0;
	e->next = first;
	e->caught_up_to = since;
}

int usch_sched_resume(struct usch_sched *s, const struct usch_job *job, int64_t after, int64_t after_wall,
		int64_t now_mono, int64_t now_wall) {
	struct usch_entry *e = entry_of(s, job);
	if (!e)
		return -1;
	if (job->start_on_boot || e->next == INT64_MAX)
		return 0;
	if (usch_timer_is_queued(&e->timer))
		usch_timerq_remove(&s->q, &e->timer);
	if (!e->wall && !job->anchored) {
		resume_elapsed(e, after_wall, now_mono, now_wall);
	}
	else if (after != INT64_MIN) {
		int64_t next = usch_trigger_next(job->trigger, after);
		if (next < e->next) {
			e->next = next;
			e->last = after;
			e->caught_up_to = to_timeline(e, now_mono, now_wall);
		}
	}
	queue_entry(s, e, now_mono, now_wall);
	return 0;
}

void usch_sched_seed(struct usch_sched *s, uint64_t seed) {
	s->rng = seed ? seed : 1;
}
