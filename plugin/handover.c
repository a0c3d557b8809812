/* handover.c - due fires to the queue (see handover.h): a coalesce=all
 * burst whole, a once-job's fire one at a time, a paused job's passed
 * over, and an instant's fires SCHED_AHEAD_US before it, as they will be
 * then: a thread's wake-up and the hand-off to an executor (60 µs to a
 * few ms on a busy machine) are paid before the instant, not after it;
 * the executor waits for the instant (punctual.c). The fire's policies are
 * decided at the hand-off: max-running counts the runs going
 * SCHED_AHEAD_US before the instant. */
#include <uwsgi.h>
#include "handover.h"
#include "runtime_state.h"
#include "queue.h"
#include "notes.h"
#include "punctual.h"
#include "common.h"

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

/* An occurrence to run again, as a late fire; sched_rt.lock held. The rerun
 * flag (a non-NULL ctx) lets it past the claim of its occurrence. */
void sched_handover_rerun(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us) {
	struct usch_fire f = { .job = job,
		.occurrence = occurrence,
		.covers_to = occurrence,
		.scheduled_us = scheduled_us,
		.catch_up = 1 };
	enqueue_fire(&sched_rt, &f);
}

/* The instant a schedule's deadline is handed over at. */
static int64_t ahead_of(int64_t deadline) {
	return deadline == INT64_MAX ? INT64_MAX : deadline - SCHED_AHEAD_US;
}

int64_t sched_handover_due(int64_t mono, int64_t wall) {
	int64_t deadline = usch_sched_run_due(&sched_rt.sched, mono, wall, enqueue_fire, NULL);
	sched_rt.open_burst = NULL; /* the executors may take it from now on */
	/* the next instants' fires, ahead of time: their executors wait for
	 * the instant themselves (punctual.c), already awake */
	while (deadline != INT64_MAX && deadline - mono <= SCHED_AHEAD_US) {
		deadline = usch_sched_run_due(&sched_rt.sched, deadline, wall + (deadline - mono), enqueue_fire, NULL);
		sched_rt.open_burst = NULL;
	}
	return ahead_of(deadline);
}

int64_t sched_handover_next(void) {
	return ahead_of(usch_sched_next_deadline(&sched_rt.sched));
}
