/* claims.h - scope=once across the workers (claims.c): memory the master
 * shares with every worker, where each occurrence of a once-job is claimed
 * by exactly one of them. A scope=cluster job is claimed the same way, in
 * the instance that is lord of its Legion only. */
#ifndef SCHED_CLAIMS_H
#define SCHED_CLAIMS_H

#include <stdint.h>
#include "core/job.h"

enum sched_claim {
	SCHED_CLAIM_WON,   /* run it here */
	SCHED_CLAIM_TAKEN, /* another worker has it (or had a later one) */
	SCHED_CLAIM_BUSY,  /* won, but max-running runs are going: a skip */
	/* scope=cluster, not claimed: */
	SCHED_CLAIM_NOT_LORD,    /* another instance is lord (or none is) */
	SCHED_CLAIM_BEFORE_LORD, /* due before this instance became lord: the previous lord's */
	SCHED_CLAIM_MASTER_GONE, /* this worker's master died: it cannot know who is lord */
};

/* Master, before fork: the shared memory for the once-jobs of sched_cfg
 * (none: nothing). */
void sched_claims_setup(void);

/* Worker start: interrupted runs left by the worker this one replaces are
 * reported; returns the last occurrence claimed for job, INT64_MIN for
 * none (or when job is not a once-job). */
void sched_claims_worker_start(void);
int64_t sched_claims_last(const struct usch_job *job);

/* Master, before fork: the last occurrence claimed before a restart
 * (from the state file). */
void sched_claims_seed(const struct usch_job *job, int64_t last);

/* A paused job's occurrences up to occurrence are passed over: no worker
 * runs them, no worker that starts later catches them up. */
void sched_claims_pass(const struct usch_job *job, int64_t occurrence);

/* A run asked for now (scheduler.run) stands for no occurrence of the
 * trigger. */
#define SCHED_OCCURRENCE_MANUAL (INT64_MIN + 1)

/* interrupted=rerun: an interrupted occurrence is put up for a rerun (by
 * whoever finds it interrupted), and taken by one worker, which then
 * claims its run with sched_claims_take_again. Take returns 1 with the
 * occurrence, or 0 when none waits. */
void sched_claims_rerun_put(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us);
int sched_claims_rerun_take(const struct usch_job *job, int64_t *occurrence, int64_t *scheduled_us);
/* A place in max-running for a run of an occurrence already claimed (a
 * rerun), or of none (SCHED_OCCURRENCE_MANUAL); a rerun that finds none
 * free waits for the next executor. */
enum sched_claim sched_claims_take_again(
		const struct usch_job *job, int64_t occurrence, int64_t scheduled_us, int slot);

/* Claims occurrence of job for executor `slot` of this worker, and with it
 * every occurrence up to covers_to (a coalesced fire's, or the last of a
 * coalesce=all burst, which then passes its last occurrence as both):
 * none of those is run by another worker. On WON, *after is the last
 * occurrence claimed before (the runs of a burst up to it are another's). */
enum sched_claim sched_claims_take(const struct usch_job *job, int64_t occurrence, int64_t covers_to,
		int64_t scheduled_us, int slot, int64_t *after);
/* The claimed run on executor `slot` goes on with another occurrence (the
 * next of a burst): an interrupted line names that one. */
void sched_claims_running(const struct usch_job *job, int slot, int64_t occurrence, int64_t scheduled_us);
/* Interrupted runs a claim found: claims are made under the runtime's
 * lock, where nothing is logged, so the runtime takes them (still under
 * its lock) and logs them once it has released it. */
struct sched_claims_report {
	int wid, pid, job;
	int64_t scheduled_us, occurrence;
};
#define SCHED_CLAIMS_MAX_REPORTS 16
int sched_claims_reports(struct sched_claims_report *out);
/* How many wait to be taken (a claim just took back a dead worker's run:
 * log it before running, the run may outlast this worker). */
int sched_claims_pending_reports(void);
void sched_claims_log_reports(const struct sched_claims_report *r, int n);
/* overlap=queue|replace, for a claimed occurrence that found max-running
 * runs going: one executor of the instance waits for a place (begin
 * returns 1 when it is this one: the others skip), and takes it with
 * sched_claims_turn (BUSY: not yet) before it ends its wait. */
int sched_claims_wait_begin(const struct usch_job *job);
void sched_claims_wait_end(const struct usch_job *job);
enum sched_claim sched_claims_turn(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us, int slot);
/* overlap=replace: every claimed run of job, in any worker, is asked to
 * stop (returns how many); the worker that runs one takes the ask for a
 * Python run (replace_asked, 1 once) and sees it when the attempt ends
 * (replaced: no retry, no hook). */
int sched_claims_replace(const struct usch_job *job);
int sched_claims_replace_asked(int slot);
int sched_claims_replaced(int slot);
/* How often a worker looks at what another one changed in the claims
 * for it (a place in max-running freed, a run to stop): nothing wakes it
 * across processes. */
#define SCHED_CLAIMS_POLL_US 100000
/* The claimed run on executor `slot` has ended. */
void sched_claims_done(const struct usch_job *job, int slot);

/* Master, each cycle: runs whose worker died are reported as interrupted. */
void sched_claims_check(void);

#endif
