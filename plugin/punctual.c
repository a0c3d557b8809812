/* punctual.c - fires that start at their instant (see punctual.h).
 *
 * Measured (bench/README.md): a Python job that asks for the GIL at its
 * instant waits for the request thread to drop it, which it re-takes at
 * every request; taking it SCHED_GIL_AHEAD_US before and sleeping holding
 * it takes that wait out of the lag. The time held so is bounded per
 * second (SCHED_GIL_AHEAD_BUDGET_US, process-wide): with many instants a
 * second, the later ones in a second take the GIL at their instant.
 *
 * The GIL is kept from one Python run to the next while the queue's next
 * fire is a Python one due now (an instant's many fires: one acquisition,
 * not one per fire, each of which queues behind the requests), for
 * SCHED_GIL_KEEP_US at most. It is given back before anything that may
 * wait: a failure (its retries and hook), any other target, a fire that
 * may wait for a place (overlap=queue|replace, a once-job's claim), the
 * executor's own wait for work. */
#include <uwsgi.h>
#include <stdatomic.h>
#include "punctual.h"
#include "slice.h"
#include "python.h"
#include "common.h"

static __thread int holding, gil_state;
static __thread int64_t held_since;
static _Atomic int64_t window_start, window_used;

static int main_python(const struct usch_job *job) {
	return job->kind == USCH_TARGET_PYTHON && !job->app && sched_python_loaded();
}

/* A thread woken at an instant waits, on a busy machine, for the thread
 * on the CPU to use up its slice (EEVDF, Linux 6.6 on: up to ~3 ms
 * measured under wrk). Linux 6.12 on lets a thread with a shorter slice
 * preempt at its wake-up: the slice is asked for while it sleeps only,
 * since a short slice while it runs an instant's fires (holding the GIL)
 * gets it preempted in the middle of them. Same policy and nice, no
 * privilege; older kernels take it as a hint they do not use. A worker
 * run under another policy (chrt -b, -i, a real-time one) keeps it. */
void sched_punctual_wake_soon(int sleeping) {
	static __thread int normal = -1;
	if (normal < 0)
		normal = sched_getscheduler(0) == SCHED_OTHER;
	if (normal)
		sched_slice_ask(sleeping ? SCHED_SLICE_SHORT_NS : 0);
}

static void sleep_until(int64_t mono_us) {
	struct timespec ts = sched_timespec_at(mono_us);
	sched_punctual_wake_soon(1);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	sched_punctual_wake_soon(0);
}

/* A non-Python fire's lag is its thread's wake-up alone, which an idle
 * CPU makes 40 µs to a few ms: it sleeps until SCHED_SPIN_US before the
 * instant and waits the rest on the clock (that much CPU per instant;
 * measured idle: rpc: lag p99 0.28-2.6 ms sleeping to the instant,
 * 0.002 ms so). */
static void arrive_at(int64_t due) {
	if (due - sched_clock_us(CLOCK_MONOTONIC) > SCHED_SPIN_US)
		sleep_until(due - SCHED_SPIN_US);
	while (sched_clock_us(CLOCK_MONOTONIC) < due)
		;
}

/* Whether this second's budget of GIL time held ahead has room for us. */
static int budget_left(int64_t now) {
	int64_t start = atomic_load(&window_start);
	if (now - start >= 1000000 && atomic_compare_exchange_strong(&window_start, &start, now))
		atomic_store(&window_used, 0);
	return atomic_load(&window_used) + SCHED_GIL_AHEAD_US <= SCHED_GIL_AHEAD_BUDGET_US;
}

void sched_punctual_release(void) {
	if (!holding)
		return;
	holding = 0;
	sched_python_gil_give(gil_state);
}

static void take(void) {
	gil_state = sched_python_gil_take();
	holding = 1;
	held_since = sched_clock_us(CLOCK_MONOTONIC);
}

void sched_punctual_wait(const struct usch_fire *f) {
	int64_t due = f->due_mono, now = sched_clock_us(CLOCK_MONOTONIC);
	if (!main_python(f->job)) {
		sched_punctual_release();
		if (due > now)
			arrive_at(due);
		return;
	}
	/* kept from the run before */
	if (holding)
		return;
	if (due - now > SCHED_GIL_AHEAD_US)
		sleep_until(due - SCHED_GIL_AHEAD_US);
	now = sched_clock_us(CLOCK_MONOTONIC);
	if (due > now && !budget_left(now))
		sleep_until(due);
	take();
	now = sched_clock_us(CLOCK_MONOTONIC);
	if (due > now) {
		atomic_fetch_add(&window_used, due - now);
		sleep_until(due);
	}
}

/* Whether a fire of job runs at once when taken, without waiting for a
 * place: only then may the GIL be kept for it. */
static int cannot_wait(const struct usch_job *job) {
	return job->overlap == USCH_OVERLAP_SKIP && !usch_job_claimed(job);
}

void sched_punctual_next(const struct usch_fire *next) {
	if (!holding)
		return;
	int64_t now = sched_clock_us(CLOCK_MONOTONIC);
	if (next && main_python(next->job) && cannot_wait(next->job) && next->due_mono - now <= SCHED_GIL_AHEAD_US &&
			now - held_since < SCHED_GIL_KEEP_US)
		return;
	sched_punctual_release();
}
