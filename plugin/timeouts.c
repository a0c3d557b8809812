/* timeouts.c - a Python run that passes its timeout= is stopped: a
 * thread of its own (sched-watch) raises TimeoutError in the run's thread
 * (PyThreadState_SetAsyncExc), and Python delivers it at the next
 * bytecode: the run fails with a traceback that ends in TimeoutError, and
 * may be retried. The timing thread only asks (it never waits for the
 * GIL, which a job in C code may hold for seconds).
 *
 * What cannot be stopped so: code that runs no bytecode (a long
 * time.sleep, a blocking read, a C extension's loop) sees the exception
 * only when it returns; a run still going SCHED_HUNG_GRACE_US after its
 * TimeoutError is reported hung by the timing thread (timing.c), and the
 * other jobs go on on the other executors. Jobs of a sub-interpreter
 * (app=) are not interrupted: they are reported hung the same way.
 *
 * Locking: the GIL first, then sched_rt.lock (nobody holding
 * sched_rt.lock waits for the GIL), so the run is checked to be the one
 * asked for while no Python code can move. */
#include <uwsgi.h>
#include "timeouts.h"
#include "wake.h"
#include "notes.h"
#include "threads.h"
#include "python.h"
#include "common.h"
#include "claims.h"
#include "config.h"

extern struct uwsgi_server uwsgi;

/* A once-job's run here that another worker may ask to stop (overlap=replace). */
static int replaceable_from_afar(const struct slot *slot) {
	const struct usch_job *job = slot->job;
	return job && job->kind == USCH_TARGET_PYTHON && usch_job_claimed(job) && job->overlap == USCH_OVERLAP_REPLACE;
}

/* The slot that wants its TimeoutError or InterruptedError, or NULL;
 * sched_rt.lock held. *polling: some run's ask to stop comes from
 * another worker, through shared memory, so it is looked for every
 * SCHED_CLAIMS_POLL_US. */
static struct slot *wanted(int *polling) {
	*polling = 0;
	for (int i = 0; i < sched_rt.nexec; i++) {
		struct slot *slot = &sched_rt.slots[i];
		if (replaceable_from_afar(slot)) {
			*polling = 1;
			if (sched_claims_replace_asked(i))
				slot->replace_wanted = slot->replaced = 1;
		}
		if (slot->timeout_wanted || slot->replace_wanted)
			return slot;
	}
	return NULL;
}

/* Raises TimeoutError (or InterruptedError) in slot's run if it is still
 * the attempt asked for; called with sched_rt.lock held, which it
 * releases and takes again. */
static void interrupt(struct slot *slot) {
	uint64_t attempt = slot->attempt_seq;
	unsigned long thread = (unsigned long) sched_rt.executors[slot - sched_rt.slots];
	int replace = slot->replace_wanted;
	slot->timeout_wanted = slot->replace_wanted = 0;
	pthread_mutex_unlock(&sched_rt.lock);
	int gil = sched_python_gil_take();
	pthread_mutex_lock(&sched_rt.lock);
	int same = slot->job && slot->attempt_seq == attempt && !sched_rt.stopping;
	if (same && sched_python_raise(thread, replace ? SCHED_PY_REPLACED : SCHED_PY_TIMEOUT)) {
		slot->timeout_raised = sched_clock_us(CLOCK_MONOTONIC);
		slot->raised_replace = replace;
		sched_note(slot->job, replace ? NOTE_REPLACE_RAISED : NOTE_TIMEOUT, 0);
		sched_wake_self(); /* the hung check */
	}
	pthread_mutex_unlock(&sched_rt.lock);
	sched_python_gil_give(gil);
	pthread_mutex_lock(&sched_rt.lock);
}

static void *watch_main(void *arg) {
	sched_block_signals();
	sched_thread_mark();
	pthread_mutex_lock(&sched_rt.lock);
	while (!sched_rt.stopping) {
		int polling;
		struct slot *slot = wanted(&polling);
		if (slot) {
			interrupt(slot);
		}
		else if (polling) {
			struct timespec ts = sched_timespec_at(sched_clock_us(CLOCK_MONOTONIC) + SCHED_CLAIMS_POLL_US);
			pthread_cond_timedwait(&sched_rt.watch_cond, &sched_rt.lock, &ts);
		}
		else {
			pthread_cond_wait(&sched_rt.watch_cond, &sched_rt.lock);
		}
	}
	pthread_mutex_unlock(&sched_rt.lock);
	return NULL;
}

int sched_timeouts_start(void) {
	/* the master's sum of every job: this worker's own are read (their
	 * pages with them) only when it runs some of them only */
	int any = sched_cfg.any_python_stopped && !sched_cfg.any_workers_scope;
	for (size_t i = 0; sched_cfg.any_python_stopped && !any && i < sched_rt.sched.n; i++) {
		const struct usch_job *job = sched_rt.sched.entries[i].job;
		any |= job->kind == USCH_TARGET_PYTHON && (job->timeout_us > 0 || job->overlap == USCH_OVERLAP_REPLACE);
	}
	if (!any || !sched_python_loaded())
		return 0;
	/* on the monotonic clock, as its polling wait's deadlines */
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sched_rt.watch_cond, &attr);
	pthread_condattr_destroy(&attr);
	if (sched_spawn(&sched_rt.watcher, "sched-watch", watch_main, NULL))
		return -1;
	sched_rt.watching = 1;
	return 0;
}

void sched_timeouts_replace(struct slot *slot) {
	if (!sched_rt.watching || slot->job->kind != USCH_TARGET_PYTHON)
		return;
	slot->replace_wanted = 1;
	pthread_cond_signal(&sched_rt.watch_cond);
}

void sched_timeouts_poke(void) {
	if (sched_rt.watching)
		pthread_cond_signal(&sched_rt.watch_cond);
}

void sched_timeouts_ask(struct slot *slot) {
	if (!sched_rt.watching || slot->job->kind != USCH_TARGET_PYTHON)
		return;
	slot->timeout_wanted = 1;
	pthread_cond_signal(&sched_rt.watch_cond);
}

void sched_timeouts_stop(const struct timespec *deadline) {
	if (!sched_rt.watching)
		return;
	pthread_mutex_lock(&sched_rt.lock);
	pthread_cond_broadcast(&sched_rt.watch_cond);
	pthread_mutex_unlock(&sched_rt.lock);
	if (pthread_clockjoin_np(sched_rt.watcher, NULL, CLOCK_MONOTONIC, deadline))
		pthread_detach(sched_rt.watcher);
	sched_rt.watching = 0;
}
