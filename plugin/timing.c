/* timing.c - the timing thread: it never runs job code. It hands due
 * fires to the queue (coalesce=all bursts whole, a once-job's one at a
 * time), takes the reruns and the runs asked for now, watches for
 * overruns and wall-clock steps, and sleeps until the next deadline.
 *
 * It sleeps in poll() on three fds, and wakes for nothing else: a
 * monotonic timerfd at the next deadline, its wake fd (wake.c: a stop, a
 * new timeout to watch, a run asked for in any worker, an occurrence to
 * run again) and a wall-clock timerfd with TFD_TIMER_CANCEL_ON_SET, which
 * the kernel cancels when the wall clock is set (a step): one job every
 * ten minutes is six wake-ups an hour. A timer slack of 1 ns keeps the
 * kernel from deferring the deadline by its default 50 µs. */
#include <uwsgi.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
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
#include "wake.h"
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
 * worker takes each), and the runs asked for now (scheduler.run);
 * sched_rt.lock held. Only after a change (wake.c's count), so that a
 * wake-up costs nothing per job (100,000 of them, 1,000 fires a second). */
static void take_asked(void) {
	static uint64_t seen = UINT64_MAX;
	uint64_t changes = sched_wake_changes();
	if (changes == seen)
		return;
	seen = changes;
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

/* The fds the timing thread sleeps on (see the head comment). */
struct sleep_fds {
	int deadline, clock, wake;
};

/* (Re)arms the wall-clock timerfd: never due, cancelled by a step. */
static void arm_clock(int fd) {
	struct itimerspec far = { .it_value = { .tv_sec = INT32_MAX } };
	timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &far, NULL);
}

static int open_fds(struct sleep_fds *f) {
	f->wake = sched_wake_fd();
	f->deadline = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	f->clock = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (f->clock >= 0)
		arm_clock(f->clock);
	return f->deadline >= 0 && f->wake >= 0 ? 0 : -1;
}

static void close_fds(struct sleep_fds *f) {
	if (f->deadline >= 0)
		close(f->deadline);
	if (f->clock >= 0)
		close(f->clock);
}

/* Sleeps until the monotonic deadline (µs) or a wake-up; sched_rt.lock
 * held, released meanwhile. Without the fds (out of them), on the
 * condition variable, as before: a wake-up each second. */
static void sleep_until(struct sleep_fds *f, int64_t deadline) {
	if (f->deadline < 0 || f->wake < 0) {
		int64_t cap = sched_clock_us(CLOCK_MONOTONIC) + 1000000;
		struct timespec ts = sched_timespec_at(deadline < cap ? deadline : cap);
		pthread_cond_timedwait(&sched_rt.timer_cond, &sched_rt.lock, &ts);
		return;
	}
	struct itimerspec at = { .it_value = sched_timespec_at(deadline) };
	if (deadline == INT64_MAX)
		at.it_value = (struct timespec){ 0 }; /* disarmed */
	else if (!at.it_value.tv_sec && !at.it_value.tv_nsec)
		at.it_value.tv_nsec = 1; /* 0 would disarm it */
	timerfd_settime(f->deadline, TFD_TIMER_ABSTIME, &at, NULL);
	struct pollfd p[3] = { { .fd = f->wake, .events = POLLIN }, { .fd = f->deadline, .events = POLLIN },
		{ .fd = f->clock, .events = POLLIN } };
	pthread_mutex_unlock(&sched_rt.lock);
	int n = poll(p, f->clock >= 0 ? 3 : 2, -1);
	uint64_t count;
	if (n > 0 && p[0].revents)
		sched_wake_drain();
	if (n > 0 && p[1].revents && read(f->deadline, &count, sizeof(count)) < 0) {
		/* EAGAIN: re-armed meanwhile */
	}
	/* a step: the read fails with ECANCELED; the schedule sees the new
	 * offset between the clocks when it runs next */
	if (n > 0 && p[2].revents && read(f->clock, &count, sizeof(count)) < 0 && errno == ECANCELED)
		arm_clock(f->clock);
	pthread_mutex_lock(&sched_rt.lock);
}

void *sched_timing_main(void *arg) {
	sched_block_signals();
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	struct sleep_fds fds;
	if (open_fds(&fds) < 0) {
		/* out of fds: the condition variable (sleep_until), and none of ours left open */
		close_fds(&fds);
		fds.deadline = fds.clock = fds.wake = -1;
	}
	pthread_mutex_lock(&sched_rt.lock);
	while (!sched_rt.stopping) {
		take_asked();
		int64_t deadline = usch_sched_run_due(&sched_rt.sched, sched_clock_us(CLOCK_MONOTONIC),
				sched_clock_us(CLOCK_REALTIME), enqueue_fire, NULL);
		sched_rt.open_burst = NULL; /* the executors may take it from now on */
		note_clock_step();
		int64_t now = sched_clock_us(CLOCK_MONOTONIC);
		int64_t grow = sched_executors_grow(now);
		int64_t overrun = watch_overruns(now);
		if (overrun < deadline)
			deadline = overrun;
		if (grow < deadline)
			deadline = grow;
		/* logged unlocked, then look again: time has passed */
		if (sched_notes_flush_pending())
			continue;
		sleep_until(&fds, deadline);
	}
	pthread_mutex_unlock(&sched_rt.lock);
	close_fds(&fds);
	return NULL;
}
