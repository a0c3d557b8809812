/* executors.c - the executor threads: each takes the next due fire,
 * claims it (scope=once, scope=cluster), checks it is still to run (a pause, misfire-
 * grace) and makes its attempts (attempts.c) without the lock.
 *
 * The pool grows on demand. The first executor takes every fire while it
 * keeps up, so many quick fires stay on one thread: more would only pass
 * the GIL to each other (measured: 100 Python fires of one instant, idle,
 * all started within 1.0 ms p99 on one executor, 2.3 ms on the seven a
 * pool that grew at every busy moment had). When fires wait, the first is
 * busy and no executor has taken a fire for SCHED_GROW_AFTER_US (a slow or
 * hung run), the timing thread calls another (starting it if none waits),
 * up to scheduler-threads, so that a slow or hung job holds up the others
 * for that long at most. A called executor takes fires while any waits,
 * then waits for the next call; one not called for scheduler-threads-idle
 * exits (giving its Python thread states back); its slot is joined and
 * reused by the next one. */
#include <uwsgi.h>
#include "executors.h"
#include "runtime_state.h"
#include "queue.h"
#include "notes.h"
#include "attempts.h"
#include "threads.h"
#include "claims.h"
#include "overlap.h"
#include "timeouts.h"
#include "counters.h"
#include "common.h"
#include "config.h"
#include "python.h"
#include "punctual.h"
#include "handover.h"

extern struct uwsgi_server uwsgi;

/* A once-job's claim found max-running runs going: with overlap=queue|
 * replace the fire waits for a place (a run asked for now, or a rerun, is
 * not held back), else it is skipped. sched_rt.lock held. Returns 1 to run
 * it. */
static int claimed_busy(const struct pending *p, const struct usch_fire *last, int64_t need, int slot_no) {
	const struct usch_job *job = p->fire.job;
	int waited = p->how == SCHED_HOW_SCHEDULE ? sched_overlap_wait_once(&p->fire, need, slot_no) : 0;
	if (waited < 0)
		return 0;
	if (waited > 0) {
		if (!sched_queue_passed_over(last, p->how))
			return 1;
		sched_claims_done(job, slot_no); /* paused while it waited */
		return 0;
	}
	sched_counters_skipped(job);
	sched_note(job, NOTE_SKIP, job->max_running);
	return 0;
}

/* Whether this executor runs p: not when its job was paused while it
 * waited; a once-job's occurrence (or burst) only if this executor claims
 * it; with overlap=queue|replace, once a place in max-running is free
 * (overlap.c). sched_rt.lock held. Returns 1 to go on, with *after the last occurrence
 * another worker claimed (a burst's fires up to it are not run here). */
static int claim(const struct pending *p, int slot_no, int64_t *after) {
	const struct usch_job *job = p->fire.job;
	*after = INT64_MIN;
	/* paused while it waited for an executor */
	const struct usch_fire *last = p->nlater ? &p->later[p->nlater - 1] : &p->fire;
	if (sched_queue_passed_over(last, p->how))
		return 0;
	/* overlap=queue|replace: paused while it waited for a place */
	if (!usch_job_claimed(job))
		return sched_overlap_wait_here(&p->fire) == 0 && !sched_queue_passed_over(last, p->how);
	/* a burst is claimed whole, up to its last occurrence */
	int64_t need = p->nlater ? p->later[p->nlater - 1].occurrence : p->fire.occurrence;
	int64_t covers = p->nlater ? need : p->fire.covers_to;
	enum sched_claim r = p->how == SCHED_HOW_SCHEDULE
			? sched_claims_take(job, need, covers, p->fire.scheduled_us, slot_no, after)
			: sched_claims_take_again(job, p->fire.occurrence, p->fire.scheduled_us, slot_no);
	switch (r) {
	case SCHED_CLAIM_WON:
		return 1;
	case SCHED_CLAIM_BUSY:
		return claimed_busy(p, last, need, slot_no);
	case SCHED_CLAIM_BEFORE_LORD:
		sched_note(job, NOTE_BEFORE_LORD, p->fire.scheduled_us);
		return 0;
	case SCHED_CLAIM_MASTER_GONE:
		/* said once: every fire of every cluster job finds it so */
		if (!sched_rt.master_gone_said++)
			sched_note(job, NOTE_MASTER_GONE, 0);
		return 0;
	default:
		return 0;
	}
}

/* A fire that waited for a busy executor past misfire-grace is counted,
 * not run; sched_rt.lock held. Returns 1 to run it. */
static int in_grace(const struct usch_fire *f) {
	int64_t now = sched_clock_us(CLOCK_REALTIME);
	if (!usch_fire_misfired(f->job, f->scheduled_us, now))
		return 1;
	sched_note_misfire(f, now);
	return 0;
}

/* Runs the fires of p that are this executor's, in order; sched_rt.lock held
 * (released while each runs). */
static void run_pending(struct pending *p, struct slot *slot, int slot_no, int64_t after) {
	const struct usch_job *job = p->fire.job;
	for (int i = 0; i <= p->nlater && !(i && sched_rt.stopping); i++) {
		const struct usch_fire *f = i ? &p->later[i - 1] : &p->fire;
		if (f->occurrence <= after || (p->how != SCHED_HOW_MANUAL && !in_grace(f)))
			continue;
		if (i && usch_job_claimed(job))
			sched_claims_running(job, slot_no, f->occurrence, f->scheduled_us);
		sched_attempts_run(f, p->how, slot);
	}
}

enum wait_outcome { WAIT_WORK, WAIT_STOP, WAIT_EXIT };

/* The first executor waits for a fire; sched_rt.lock held. While it
 * waits it hands the next instant's fires over itself, at its own
 * wake-up (the timing thread is then its fallback, timing.c): the fires
 * of an instant start without a second thread's wake-up. */
static enum wait_outcome wait_first(void) {
	sched_rt.first_idle = 1;
	while (!sched_rt.stopping && !sched_rt.head) {
		sched_punctual_release(); /* never kept while it waits */
		int64_t at = sched_handover_next(), now = sched_clock_us(CLOCK_MONOTONIC);
		if (at == INT64_MAX) {
			pthread_cond_wait(&sched_rt.work_cond, &sched_rt.lock);
		}
		else if (now < at) {
			struct timespec ts = sched_timespec_at(at);
			sched_punctual_wake_soon(1);
			pthread_cond_timedwait(&sched_rt.work_cond, &sched_rt.lock, &ts);
			sched_punctual_wake_soon(0);
		}
		else {
			sched_handover_due(now, sched_clock_us(CLOCK_REALTIME));
		}
	}
	sched_rt.first_idle = 0;
	return sched_rt.stopping ? WAIT_STOP : WAIT_WORK;
}

/* Whether a spare answers a call now: one is due and a fire waits. */
static int answer(void) {
	if (!sched_rt.spares_called || !sched_rt.head)
		return 0;
	sched_rt.spares_called--;
	return 1;
}

/* Another executor: once called, it takes fires while any waits, then
 * waits to be called again; one not called for scheduler-threads-idle
 * exits. sched_rt.lock held. *called: it is answering a call. */
static enum wait_outcome wait_spare(int *called) {
	if (*called && sched_rt.head && !sched_rt.stopping)
		return WAIT_WORK;
	*called = 0;
	sched_punctual_release(); /* never kept while it waits */
	enum wait_outcome w = WAIT_WORK;
	sched_rt.spares_idle++;
	for (;;) {
		if (sched_rt.stopping) {
			w = WAIT_STOP;
			break;
		}
		if (answer()) {
			*called = 1;
			break;
		}
		if (!sched_rt.can_exit) {
			pthread_cond_wait(&sched_rt.spare_cond, &sched_rt.lock);
			continue;
		}
		struct timespec ts = sched_timespec_at(sched_clock_us(CLOCK_MONOTONIC) + sched_cfg.threads_idle_us);
		if (pthread_cond_timedwait(&sched_rt.spare_cond, &sched_rt.lock, &ts) == ETIMEDOUT &&
				!sched_rt.stopping && !sched_rt.spares_called) {
			w = WAIT_EXIT;
			break;
		}
	}
	sched_rt.spares_idle--;
	return w;
}

/* The language plugins' state of this thread (the python plugin's needs
 * the GIL), made before its first run that may call into Python, not at
 * its start: an executor started while a job holds the GIL still runs
 * commands and signals. */
static __thread int language_ready;

static int calls_python(const struct usch_job *job) {
	return job && (job->kind == USCH_TARGET_PYTHON || job->kind == USCH_TARGET_RPC);
}

/* sched_rt.lock held, released meanwhile. */
static void ready_language(const struct usch_job *job, int slot_no) {
	if (language_ready || !(calls_python(job) || calls_python(job->on_failure) || calls_python(job->on_success)))
		return;
	pthread_mutex_unlock(&sched_rt.lock);
	sched_init_language_thread(uwsgi.cores + slot_no);
	pthread_mutex_lock(&sched_rt.lock);
	language_ready = 1;
}

/* Takes the next fire and runs what of it is this executor's; sched_rt.lock
 * held. */
static void take_and_run(struct slot *slot, int slot_no) {
	struct pending *p = sched_rt.head;
	sched_rt.head = p->next;
	if (!sched_rt.head)
		sched_rt.tail = NULL;
	const struct usch_job *job = p->fire.job;
	sched_rt.queued[job->index]--;
	sched_rt.nqueued--;
	sched_rt.last_take = sched_clock_us(CLOCK_MONOTONIC);
	/* a call that found the queue emptied by then is void */
	if (!sched_rt.head)
		sched_rt.spares_called = 0;
	int64_t after;
	if (claim(p, slot_no, &after)) {
		/* a run taken back from a dead worker is logged before this
		 * run, which may outlast this worker */
		sched_notes_flush_pending();
		ready_language(job, slot_no);
		sched_rt.running++;
		slot->replaced = slot->replace_wanted = 0;
		slot->job = job;
		/* sched-watch looks for another worker's ask to stop it while it runs */
		if (job->overlap == USCH_OVERLAP_REPLACE && usch_job_claimed(job))
			sched_timeouts_poke();
		run_pending(p, slot, slot_no, after);
		if (usch_job_claimed(job))
			sched_claims_done(job, slot_no);
		slot->job = NULL;
		sched_rt.running--;
		pthread_cond_broadcast(&sched_rt.idle_cond);
	}
	sched_rt.active[job->index]--;
	sched_pending_free(p);
	sched_notes_flush_pending();
	sched_punctual_next(sched_rt.head ? &sched_rt.head->fire : NULL);
}

static void *executor_main(void *arg) {
	struct slot *slot = arg;
	int slot_no = (int) (slot - sched_rt.slots);
	sched_block_signals();
	sched_thread_mark();
	sched_thread_exact_timers(); /* its wait for a hand-over too */
	pthread_mutex_lock(&sched_rt.lock);
	enum wait_outcome w;
	int called = slot_no > 0; /* a spare starts on the call that started it */
	while ((w = slot_no ? wait_spare(&called) : wait_first()) == WAIT_WORK)
		take_and_run(slot, slot_no);
	sched_punctual_release();
	if (w == WAIT_STOP) {
		pthread_mutex_unlock(&sched_rt.lock);
		return NULL;
	}
	/* no longer counted: a fire from now on starts another executor */
	sched_rt.alive--;
	pthread_mutex_unlock(&sched_rt.lock);
	if (language_ready)
		sched_python_thread_exit();
	pthread_mutex_lock(&sched_rt.lock);
	slot->state = SLOT_DONE;
	pthread_mutex_unlock(&sched_rt.lock);
	return NULL;
}

int sched_executors_add(void) {
	int free_slot = -1;
	for (int i = 0; i < sched_rt.nexec && free_slot < 0; i++) {
		struct slot *s = &sched_rt.slots[i];
		if (s->state == SLOT_DONE) {
			/* it has left the loop: the join is at most its return */
			pthread_join(sched_rt.executors[i], NULL);
			s->state = SLOT_FREE;
		}
		if (s->state == SLOT_FREE)
			free_slot = i;
	}
	if (free_slot < 0)
		return -1;
	struct slot *s = &sched_rt.slots[free_slot];
	if (sched_spawn(&sched_rt.executors[free_slot], "sched-exec", executor_main, s))
		return -1;
	s->state = SLOT_ALIVE;
	sched_rt.alive++;
	return 0;
}

int64_t sched_executors_grow(int64_t now) {
	if (!sched_rt.nqueued || sched_rt.stopping)
		return INT64_MAX;
	/* the first takes what waits; while it goes on taking fires it keeps up */
	if (sched_rt.first_idle)
		return now + SCHED_GROW_AFTER_US;
	if (now - sched_rt.last_take < SCHED_GROW_AFTER_US)
		return sched_rt.last_take + SCHED_GROW_AFTER_US;
	/* stalled: one more executor, and if it is held up too, another
	 * SCHED_GROW_AFTER_US later */
	if (sched_rt.spares_idle > sched_rt.spares_called) {
		sched_rt.spares_called++;
		pthread_cond_signal(&sched_rt.spare_cond);
	}
	else if (sched_rt.alive < sched_rt.nexec) {
		sched_executors_add(); /* it starts called */
	}
	sched_rt.last_take = now;
	return now + SCHED_GROW_AFTER_US;
}
