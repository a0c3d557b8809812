/* sched.h - the per-worker schedule: which job fires next, on which clock.
 *
 * Pure: the caller passes the clocks' readings in (monotonic and wall, µs)
 * and a callback that receives due fires; no threads, no sleeping here.
 * Interval jobs run on the monotonic timeline (elapsed time, immune to
 * DST and clock steps); cron, date and calendar jobs on the wall clock,
 * recomputed when the wall clock steps. */
#ifndef USCH_SCHED_H
#define USCH_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include "job.h"
#include "timerq.h"

/* A wall-clock step larger than this (either way) recomputes wall jobs. */
#define USCH_CLOCK_STEP_US 1000000

struct usch_fire {
	const struct usch_job *job;
	int64_t scheduled_us; /* wall µs of the fire's scheduled instant */
	int64_t occurrence;   /* the instant on the trigger's timeline: the same in every worker for wall
	                         triggers and anchored intervals (USCH_OCCURRENCE_START for @start) */
	int64_t missed;       /* due fires coalesced into this one */
	int64_t covers_to;    /* the latest occurrence it stands for: occurrence itself, or with
	                         coalesce=earliest the latest of the fires coalesced into it (a
	                         once-job's claim goes up to it, so that no worker runs those later) */
	int misfired;         /* later than misfire-grace: count it, do not run it */
	int catch_up;         /* due before this scheduler started (usch_sched_resume): it came due while
	                         no scheduler was up to run it */
	int64_t dropped;      /* coalesce=all: the earliest late fires left out before this one (past
	                         USCH_ALL_MAX) */
	int burst;            /* coalesce=all: its place (1, 2 ...) among the late fires handed over
	                         together, which run one after the other as one run; 0: alone */
	int attempt;          /* retries=: which attempt at it this is (0 and 1: the first) */
	int64_t due_mono;     /* the monotonic deadline it came due at (jitter included); 0: none (a
	                         rerun, a run asked for now). Later than the caller's now when it asked
	                         usch_sched_run_due for the fires of an instant ahead of time */
};

/* Late fires are counted one by one up to this many (a day of a job that
 * fires each second: a few ms); past it their count is a lower bound. */
#define USCH_MISSED_WALK 100000

/* coalesce=all runs at most this many late fires at once, the latest ones
 * (as the Kubernetes CronJob controller bounds missed schedules). */
#define USCH_ALL_MAX 100

typedef void (*usch_fire_fn)(void *ctx, const struct usch_fire *fire);

struct usch_entry {
	const struct usch_job *job;
	struct usch_timer timer; /* deadline: monotonic µs */
	int wall;                /* evaluated on the wall timeline */
	uint32_t index;          /* the job's, for ties (the job's own page is not read for them) */
	int64_t shift;           /* mono jobs: trigger timeline = mono + shift */
	int64_t next;            /* next fire on the trigger's timeline */
	int64_t last;            /* last fire on the trigger's timeline */
	int64_t caught_up_to;    /* fires up to here came due before the scheduler started (INT64_MIN) */
};

struct usch_sched {
	struct usch_timerq q;
	struct usch_entry *entries;
	size_t n;
	int64_t wall_minus_mono;
	uint64_t rng;      /* jitter; seeded from the clock, see usch_sched_seed */
	int64_t steps;     /* wall-clock steps seen, for the caller to say each once */
	int64_t last_step; /* the latest one, µs: > 0 forward, < 0 back */
	int sorted;        /* entries in index order: found by bisection */
};

/* What a schedule reads of a job when it starts, made once for every job
 * (usch_sched_view): 24 bytes a job in one array, where the jobs are 136
 * each and their triggers 128, on pages a worker's start then need not
 * read (the adapter keeps them in memory shared before fork, which counts
 * in a worker only once read). */
struct usch_sched_job {
	const struct usch_job *job; /* its trigger is read only when first has passed */
	int64_t first;              /* the first fire: on a wall timeline (wall, or anchored) after the view's instant
	                     (INT64_MIN: none made); on elapsed time after 0, where every schedule starts */
	uint32_t index;             /* the job's */
	uint8_t anchored;           /* the job's */
	uint8_t jitter;             /* jitter= is set: the job is read for it */
	uint8_t wall;               /* the trigger's clock is the wall clock */
	uint8_t start;              /* @start (the job's start_on_boot) */
};

/* Fills view[0..n) from jobs[0..n), with each first fire: after wall
 * instant at (INT64_MIN: none computed) for a wall timeline, after 0 for
 * elapsed time. A schedule starting later takes a wall first fire from
 * the view while it has not passed: there is no fire between at and then,
 * so it is the trigger's next then too. */
void usch_sched_view(struct usch_job *const *jobs, size_t n, int64_t at, struct usch_sched_job *view);

/* Computes every job's first fire, from the view of the jobs made at wall
 * instant view_at (in declaration order: a job is then found by index in
 * O(log n)). Returns 0, or -1 with the reason in err (out of memory). */
int usch_sched_init_view(struct usch_sched *s, const struct usch_sched_job *view, size_t n, int64_t view_at,
		int64_t now_mono, int64_t now_wall, char *err, size_t errlen);
/* The same from the jobs (their view made here). */
int usch_sched_init(struct usch_sched *s, struct usch_job *const *jobs, size_t n, int64_t now_mono, int64_t now_wall,
		char *err, size_t errlen);
void usch_sched_free(struct usch_sched *s);

/* The occurrence of an @start fire: one per instance start. */
#define USCH_OCCURRENCE_START (INT64_MIN + 1)

/* Makes job's entry continue from its last run, occurrence `after` (on
 * its trigger's timeline; for an interval that counts each worker's
 * elapsed time, `after_wall`, the wall instant it was scheduled at) when
 * that is earlier than where it stands: the fires since are due, late and
 * marked catch_up, for the job's coalesce and misfire-grace. A scheduler
 * starting after others have run the job (scope=once), or after a restart,
 * takes up from the last run. Returns 0, or -1 when the job has no entry
 * here. */
int usch_sched_resume(struct usch_sched *s, const struct usch_job *job, int64_t after, int64_t after_wall,
		int64_t now_mono, int64_t now_wall);

/* The monotonic deadline of job's next fire here, INT64_MAX when it has
 * none (or no entry here). */
int64_t usch_sched_next_due(const struct usch_sched *s, const struct usch_job *job);

/* The monotonic deadline of the next fire of any job (what
 * usch_sched_run_due returned last), INT64_MAX when none is left. */
int64_t usch_sched_next_deadline(const struct usch_sched *s);

/* Fixes the jitter sequence (tests); seed != 0. */
void usch_sched_seed(struct usch_sched *s, uint64_t seed);

/* True when a fire scheduled at scheduled_us and starting at now_us is
 * later than the job's misfire-grace (executors busy, clock stepped,
 * worker started late). */
int usch_fire_misfired(const struct usch_job *job, int64_t scheduled_us, int64_t now_us);

/* Hands every fire due at now_mono to fire(), in deadline order (ties in
 * declaration order) and as each job's coalesce and misfire-grace say,
 * reschedules, and returns the monotonic deadline of
 * the next fire (INT64_MAX when nothing is left to fire). Called with the
 * clocks' readings moved ahead to that deadline (now_mono = it, now_wall
 * moved as much), it hands over that instant's fires ahead of time, as
 * they will be then (on time: not misfired, nothing coalesced). */
int64_t usch_sched_run_due(struct usch_sched *s, int64_t now_mono, int64_t now_wall, usch_fire_fn fire, void *ctx);

#endif
