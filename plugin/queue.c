/* queue.c - the queue of due fires that the executors take, in order:
 * what a fire finds there (max-running, a pause). */
#include <uwsgi.h>
#include "queue.h"
#include "runtime_state.h"
#include "notes.h"
#include "claims.h"
#include "runs.h"
#include "flags.h"
#include "counters.h"

extern struct uwsgi_server uwsgi;

/* A fire goes to the executors; sched_rt.lock held. */
struct pending *sched_queue_add(const struct usch_fire *fire, enum sched_how how) {
	const struct usch_job *job = fire->job;
	size_t idx = job->index;
	/* overlap=queue|replace: one more may wait for a place (overlap.c) */
	int room = job->max_running + (job->overlap != USCH_OVERLAP_SKIP);
	if (!usch_job_claimed(job) && sched_rt.active[idx] >= room) {
		sched_counters_skipped(job);
		sched_note(job, NOTE_SKIP, sched_rt.active[idx]);
		return NULL;
	}
	struct pending *p = malloc(sizeof(*p));
	if (!p) {
		sched_note(job, NOTE_DROPPED, 0);
		return NULL;
	}
	p->fire = *fire;
	p->later = NULL;
	p->nlater = 0;
	p->how = how;
	p->next = NULL;
	if (sched_rt.tail)
		sched_rt.tail->next = p;
	else
		sched_rt.head = p;
	sched_rt.tail = p;
	sched_rt.active[idx]++;
	sched_rt.queued[idx]++;
	sched_rt.nqueued++;
	pthread_cond_signal(&sched_rt.work_cond);
	return p;
}

/* A paused job's fire (a run asked for now is not one) is dealt with:
 * nobody runs it, now or as a late fire after a restart. */
int sched_queue_passed_over(const struct usch_fire *fire, enum sched_how how) {
	if (how == SCHED_HOW_MANUAL || !sched_flags_paused(fire->job))
		return 0;
	sched_claims_pass(fire->job, fire->covers_to);
	sched_runs_passed(fire->job, fire->covers_to, fire->scheduled_us);
	return 1;
}

void sched_pending_free(struct pending *p) {
	free(p->later);
	free(p);
}
