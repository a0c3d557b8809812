/* timing.c - the timing thread: it never runs job code. It hands due
 * fires to the queue (coalesce=all bursts whole, a once-job's one at a
 * time), takes the reruns and the runs asked for now, watches for
 * overruns and wall-clock steps, and sleeps until the next deadline. */
#include <uwsgi.h>
#include "timing.h"
#include "runtime_state.h"
#include "queue.h"
#include "executors.h"
#include "timeouts.h"
#include "notes.h"
#include "threads.h"
#include "claims.h"
#include "flags.h"
#include "counters.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

/* A late fire of a coalesce=all burst joins the first one: the burst is
 * one run, and the fires in it run one after the other, in order. */
static int join_burst(const struct usch_fire *fire) {
	struct pending *b = sched_rt.open_burst;
	if (fire->burst < 2 || !b || b->fire.job != fire->job)
		return 0;
	struct usch_fire *later = realloc(b->later, sizeof(*later) * (size_t) (b->nlater + 1));
	if (!later) {
		sched_note(fire->job, NOTE_DROPPED, 0);
		return 1;
	}
	later[b->nlater++] = *fire;
	b->later = later;
	return 1;
}

/* Called by the schedule with sched_rt.lock held. A once-job's fire is only
 * queued here (one at a time): the worker whose executor claims the
 * occurrence first runs it, skips it or counts its misfire, once. A
 * paused job's fire is passed over. */
static void enqueue_fire(void *ctx, const struct usch_fire *fire) {
	const struct usch_job *job = fire->job;
	int once = usch_job_claimed(job);
	enum sched_how how = ctx ? SCHED_HOW_RERUN : SCHED_HOW_SCHEDULE;
	if (sched_queue_passed_over(fire, how))
		return;
	if (join_burst(fire))
		return;
	sched_rt.open_burst = NULL;
	/* a busy worker holds one of a once-job's fires: a free one takes the
	 * others */
	if (once && how == SCHED_HOW_SCHEDULE && sched_rt.queued[job->index])
		return;
	if (!once && fire->misfired) {
		sched_note_misfire(fire, sched_clock_us(CLOCK_REALTIME));
		return;
	}
	struct pending *p = sched_queue_add(fire, how);
	if (p && fire->burst)
		sched_rt.open_burst = p;
}

/* Logs, once per run, every run past its timeout (a Python one gets its
 * TimeoutError, timeouts.c), and a run still going SCHED_HUNG_GRACE_US
 * after it as hung; returns the monotonic instant of the next run that
 * will pass either. sched_rt.lock held. */
static int64_t watch_overruns(int64_t now) {
	int64_t soonest = INT64_MAX;
	for (int i = 0; i < sched_rt.nexec; i++) {
		struct slot *sl = &sched_rt.slots[i];
		int64_t hung_at = sl->timeout_raised + SCHED_HUNG_GRACE_US;
		if (sl->job && sl->timeout_raised && !sl->hung_said && hung_at <= now) {
			sched_note_pid(sl->job, NOTE_HUNG, now - sl->timeout_raised, sl->raised_replace);
			sched_counters_hung(sl->job);
			sl->hung_said = 1;
		}
		else if (sl->job && sl->timeout_raised && !sl->hung_said && hung_at < soonest) {
			soonest = hung_at;
		}
		if (!sl->job || sl->warned || sl->job->timeout_us <= 0)
			continue;
		int64_t due = sl->started_mono + sl->job->timeout_us;
		if (due <= now) {
			sched_note(sl->job, NOTE_OVERRUN, 0);
			sched_counters_overran(sl->job);
			sched_timeouts_ask(sl);
			sl->warned = 1;
		}
		else if (due < soonest) {
			soonest = due;
		}
	}
	return soonest;
}

/* An occurrence to run again, as a late fire; sched_rt.lock held. The rerun
 * flag (a non-NULL ctx) lets it past the claim of its occurrence. */
void sched_timing_rerun(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us) {
	struct usch_fire f = { .job = job,
		.occurrence = occurrence,
		.covers_to = occurrence,
		.scheduled_us = scheduled_us,
		.catch_up = 1 };
	enqueue_fire(&sched_rt, &f);
}

/* interrupted=rerun once-jobs whose occurrence a dead worker left (one
 * worker takes each), and the runs asked for now (scheduler.run); sched_rt.lock
 * held. */
static void take_asked(void) {
	for (size_t i = 0; i < sched_rt.sched.n; i++) {
		const struct usch_job *job = sched_rt.sched.entries[i].job;
		int64_t occ, at;
		if (sched_rt.reruns && job->interrupted == USCH_INTERRUPTED_RERUN &&
				sched_claims_rerun_take(job, &occ, &at))
			sched_timing_rerun(job, occ, at);
		if (sched_flags_take_run(job, &at)) {
			struct usch_fire f = { .job = job, .occurrence = SCHED_OCCURRENCE_MANUAL, .scheduled_us = at };
			f.covers_to = f.occurrence;
			sched_queue_add(&f, SCHED_HOW_MANUAL);
		}
	}
}

/* Said once per worker: a step back quiets a cron job for as long as it
 * repeats, which nobody should have to guess from the runs. sched_rt.lock held. */
static void note_clock_step(void) {
	if (sched_rt.sched.steps == sched_rt.steps_said)
		return;
	sched_rt.steps_said = sched_rt.sched.steps;
	sched_note(NULL, NOTE_CLOCK_STEP, sched_rt.sched.last_step);
}

void *sched_timing_main(void *arg) {
	sched_block_signals();
	pthread_mutex_lock(&sched_rt.lock);
	while (!sched_rt.stopping) {
		take_asked();
		int64_t deadline = usch_sched_run_due(&sched_rt.sched, sched_clock_us(CLOCK_MONOTONIC),
				sched_clock_us(CLOCK_REALTIME), enqueue_fire, NULL);
		sched_rt.open_burst = NULL; /* the executors may take it from now on */
		sched_executors_grow();
		note_clock_step();
		int64_t now = sched_clock_us(CLOCK_MONOTONIC);
		/* reruns and runs asked for in another worker are looked for each second */
		if (now + 1000000 < deadline)
			deadline = now + 1000000;
		int64_t overrun = watch_overruns(now);
		if (overrun < deadline)
			deadline = overrun;
		/* logged unlocked, then look again: time has passed */
		if (sched_notes_flush_pending())
			continue;
		/* wake at least once a minute to notice wall-clock steps */
		int64_t cap = now + 60 * 1000000LL;
		struct timespec ts = sched_timespec_at(deadline < cap ? deadline : cap);
		pthread_cond_timedwait(&sched_rt.timer_cond, &sched_rt.lock, &ts);
	}
	pthread_mutex_unlock(&sched_rt.lock);
	return NULL;
}
