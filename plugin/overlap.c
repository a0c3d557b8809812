/* overlap.c - a fire that finds max-running runs of its job going, when
 * the job says overlap=queue or overlap=replace (overlap=skip, the
 * default, skips it: queue.c for a job of each worker, claims.c for a
 * once-job).
 *
 * The fire waits in the executor that took it: the pool grows for the
 * other jobs' fires (executors.c), so a waiting fire holds up nobody but
 * its own job. At most one fire of a job waits, in this worker (queue.c
 * refuses a second) or across the instance for a once-job (claims.c's
 * waiter); the later ones are skipped as with overlap=skip. A once-job's
 * place is freed in another worker's process, so the waiting executor
 * looks for it every SCHED_CLAIMS_POLL_US; a job of this worker is woken when a
 * run here ends.
 *
 * overlap=replace first asks the running ones to stop: SIGTERM to a
 * command's process group (SIGKILL 2 s later, commands.c), InterruptedError
 * raised in a Python run (timeouts.c; one stuck in C code goes on and is
 * reported hung). A stopped run is not retried and runs no hook
 * (attempts.c). A once-job's run asked for with scheduler.run and its
 * reruns are not held back so: they find a place or are refused or
 * skipped, as before (a job of each worker's scheduler.run is a fire like
 * the others here). */
#include <uwsgi.h>
#include "overlap.h"
#include "runtime_state.h"
#include "claims.h"
#include "commands.h"
#include "timeouts.h"
#include "counters.h"
#include "log.h"
#include "common.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

/* Runs of job going in this worker besides the fire just taken (still
 * counted in active, no longer in queued); sched_rt.lock held. */
static int others_here(const struct usch_job *job) {
	return sched_rt.active[job->index] - sched_rt.queued[job->index] - 1;
}

/* overlap=replace, a job of each worker: its runs here are to stop;
 * sched_rt.lock held. Returns how many. */
static int replace_here(const struct usch_job *job) {
	int n = 0;
	for (int i = 0; i < sched_rt.nexec; i++) {
		struct slot *s = &sched_rt.slots[i];
		if (s->job != job || s->replaced)
			continue;
		s->replaced = 1;
		sched_timeouts_replace(s);
		n++;
	}
	/* a run between two attempts stops waiting for its retry */
	pthread_cond_broadcast(&sched_rt.retry_cond);
	return n;
}

/* overlap=replace, a once-job: its runs in every worker are asked to
 * stop; sched_rt.lock held. */
static int replace_everywhere(const struct usch_job *job) {
	int n = sched_claims_replace(job);
	sched_timeouts_poke();
	pthread_cond_broadcast(&sched_rt.retry_cond);
	return n;
}

/* Says why the fire waits and stops the commands it replaces (only_pid:
 * this worker's, 0: every worker's); sched_rt.lock held, released
 * meanwhile. */
static void announce(const struct usch_fire *f, int asked, int only_pid) {
	const struct usch_job *job = f->job;
	char when[USCH_RFC3339_MAX];
	usch_rfc3339_format(f->scheduled_us, job->tz, when, sizeof(when));
	sched_counters_queued(job);
	pthread_mutex_unlock(&sched_rt.lock);
	if (job->overlap == USCH_OVERLAP_REPLACE && asked)
		sched_log_event(job,
				"the run scheduled %s replaces %d run%s going on (overlap=replace): stopping %s, then it "
				"starts (worker %d)",
				when, asked, asked == 1 ? "" : "s", asked == 1 ? "it" : "them", uwsgi.mywid);
	else
		sched_log_event(job,
				"the run scheduled %s waits for a run going on to end (overlap=%s, max-running=%d, "
				"worker %d)",
				when, job->overlap == USCH_OVERLAP_QUEUE ? "queue" : "replace", job->max_running,
				uwsgi.mywid);
	if (job->overlap == USCH_OVERLAP_REPLACE && job->kind == USCH_TARGET_EXEC)
		sched_commands_replace(job, only_pid);
	pthread_mutex_lock(&sched_rt.lock);
}

/* On the monotonic clock, as idle_cond is: a look timed on the wall clock
 * was an hour away after a step forward, and the job stopped running. */
static void slice_wait(void) {
	struct timespec ts = sched_timespec_at(sched_clock_us(CLOCK_MONOTONIC) + SCHED_CLAIMS_POLL_US);
	pthread_cond_timedwait(&sched_rt.idle_cond, &sched_rt.lock, &ts);
}

static void dropped(const struct usch_fire *f) {
	char when[USCH_RFC3339_MAX];
	usch_rfc3339_format(f->scheduled_us, f->job->tz, when, sizeof(when));
	pthread_mutex_unlock(&sched_rt.lock);
	sched_log_event(f->job, "the run scheduled %s waited for a place and is dropped: worker %d is stopping", when,
			uwsgi.mywid);
	pthread_mutex_lock(&sched_rt.lock);
}

int sched_overlap_wait_here(const struct usch_fire *f) {
	const struct usch_job *job = f->job;
	if (job->overlap == USCH_OVERLAP_SKIP || others_here(job) < job->max_running)
		return 0;
	int asked = job->overlap == USCH_OVERLAP_REPLACE ? replace_here(job) : 0;
	announce(f, asked, (int) uwsgi.mypid);
	while (!sched_rt.stopping && others_here(job) >= job->max_running)
		slice_wait();
	if (!sched_rt.stopping)
		return 0;
	dropped(f);
	return -1;
}

int sched_overlap_wait_once(const struct usch_fire *f, int64_t occurrence, int slot_no) {
	const struct usch_job *job = f->job;
	if (job->overlap == USCH_OVERLAP_SKIP || !sched_claims_wait_begin(job))
		return 0;
	int asked = job->overlap == USCH_OVERLAP_REPLACE ? replace_everywhere(job) : 0;
	announce(f, asked, 0);
	enum sched_claim r = SCHED_CLAIM_BUSY;
	while (!sched_rt.stopping &&
			(r = sched_claims_turn(job, occurrence, f->scheduled_us, slot_no)) != SCHED_CLAIM_WON)
		slice_wait();
	sched_claims_wait_end(job);
	if (r == SCHED_CLAIM_WON)
		return 1;
	/* claimed and never run: interrupted=rerun has it run again */
	sched_claims_rerun_put(job, occurrence, f->scheduled_us);
	dropped(f);
	return -1;
}

int sched_overlap_replaced(const struct slot *slot) {
	const struct usch_job *job = slot->job;
	if (!job || job->overlap != USCH_OVERLAP_REPLACE)
		return 0;
	return slot->replaced || (usch_job_claimed(job) && sched_claims_replaced((int) (slot - sched_rt.slots)));
}
