/* executors.c - the executor threads: each takes the next due fire,
 * claims it (scope=once), checks it is still to run (a pause, misfire-
 * grace) and makes its attempts (attempts.c) without the lock. */
#include <uwsgi.h>
#include "executors.h"
#include "runtime_state.h"
#include "queue.h"
#include "notes.h"
#include "attempts.h"
#include "threads.h"
#include "claims.h"
#include "counters.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

/* Whether this executor runs p: not when its job was paused while it
 * waited; a once-job's occurrence (or burst) only if this executor claims
 * it. sched_rt.lock held. Returns 1 to go on, with *after the last occurrence
 * another worker claimed (a burst's fires up to it are not run here). */
static int claim(const struct pending *p, int slot_no, int64_t *after) {
	const struct usch_job *job = p->fire.job;
	*after = INT64_MIN;
	/* paused while it waited for an executor */
	const struct usch_fire *last = p->nlater ? &p->later[p->nlater - 1] : &p->fire;
	if (sched_queue_passed_over(last, p->how))
		return 0;
	if (job->scope != USCH_SCOPE_ONCE)
		return 1;
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
		sched_rt.counts[job->index].skipped++;
		sched_counters_skipped(job);
		sched_note(job, NOTE_SKIP, job->max_running);
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
		if (i && job->scope == USCH_SCOPE_ONCE)
			sched_claims_running(job, slot_no, f->occurrence, f->scheduled_us);
		sched_attempts_run(f, p->how, slot);
	}
}

void *sched_executor_main(void *arg) {
	struct slot *slot = arg;
	int slot_no = (int) (slot - sched_rt.slots);
	sched_block_signals();
	sched_thread_mark();
	sched_init_language_thread(uwsgi.cores + slot_no);
	pthread_mutex_lock(&sched_rt.lock);
	for (;;) {
		while (!sched_rt.stopping && !sched_rt.head)
			pthread_cond_wait(&sched_rt.work_cond, &sched_rt.lock);
		if (sched_rt.stopping)
			break;
		struct pending *p = sched_rt.head;
		sched_rt.head = p->next;
		if (!sched_rt.head)
			sched_rt.tail = NULL;
		const struct usch_job *job = p->fire.job;
		sched_rt.queued[job->index]--;
		int64_t after;
		if (claim(p, slot_no, &after)) {
			/* a run taken back from a dead worker is logged before this
			 * run, which may outlast this worker */
			sched_notes_flush_pending();
			sched_rt.running++;
			slot->job = job;
			run_pending(p, slot, slot_no, after);
			if (job->scope == USCH_SCOPE_ONCE)
				sched_claims_done(job, slot_no);
			slot->job = NULL;
			sched_rt.running--;
			pthread_cond_broadcast(&sched_rt.idle_cond);
		}
		sched_rt.active[job->index]--;
		sched_pending_free(p);
		sched_notes_flush_pending();
	}
	pthread_mutex_unlock(&sched_rt.lock);
	return NULL;
}
