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
 * kernel from deferring the deadline by its default 50 µs.
 *
 * An instant's fires are handed over SCHED_AHEAD_US before it
 * (handover.c). The first executor, when idle, does that itself at its
 * own wake-up: one thread wakes per instant, not two (a wake-up on a busy
 * machine is 60 µs to a few ms). This thread comes SCHED_GROW_AFTER_US
 * later, for an executor busy with a run then: a spare is called at that
 * pass (executors.c), as it would have been after the fires had waited
 * that long. */
#include <uwsgi.h>
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
#include "handover.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

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
			sched_handover_rerun(job, occ, at);
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
	sched_thread_exact_timers();
	struct sleep_fds fds;
	if (open_fds(&fds) < 0) {
		/* out of fds: the condition variable (sleep_until), and none of ours left open */
		close_fds(&fds);
		fds.deadline = fds.clock = fds.wake = -1;
	}
	pthread_mutex_lock(&sched_rt.lock);
	while (!sched_rt.stopping) {
		take_asked();
		int64_t deadline = sched_handover_due(sched_clock_us(CLOCK_MONOTONIC), sched_clock_us(CLOCK_REALTIME));
		/* the first executor hands the next instant over itself when it
		 * is idle then (executors.c): this thread is its fallback */
		if (deadline != INT64_MAX)
			deadline += SCHED_GROW_AFTER_US;
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
