/* runtime_state.h - the state of one worker's scheduler, shared by the
 * files that run it: runtime.c (start, stop), timing.c (the timing
 * thread), executors.c (the executor threads), queue.c (the queue of due
 * fires) and notes.c (what is logged once the lock is released). Nothing
 * else includes it.
 *
 * Locking: one mutex (lock) guards the queue, the slots and
 * the notes; the schedule itself is touched only by the timing thread.
 * No line is logged with the mutex held (a slow log would stall the
 * timing thread and every executor): what happens under it is noted, and
 * the notes are logged once it is released. */
#ifndef SCHED_RUNTIME_STATE_H
#define SCHED_RUNTIME_STATE_H

#include <pthread.h>
#include <stdint.h>
#include "history.h"
#include "core/sched.h"

enum slot_state {
	SLOT_FREE = 0, /* no thread, or one joined */
	SLOT_ALIVE,    /* an executor runs on it */
	SLOT_DONE,     /* its executor left when idle: to join before the slot is used again */
};

/* An executor, and what it is running, for the overrun watchdog. */
struct slot {
	enum slot_state state;
	const struct usch_job *job; /* NULL when idle */
	int64_t started_mono;
	int warned;
	uint64_t attempt_seq;   /* counts the attempts it ran: a TimeoutError is for one of them */
	int timeout_wanted;     /* past its timeout: sched-watch is to raise TimeoutError (timeouts.c) */
	int64_t timeout_raised; /* monotonic µs it was raised (or InterruptedError), 0: not */
	int hung_said;
	int replace_wanted; /* overlap=replace: sched-watch is to raise InterruptedError (timeouts.c) */
	int replaced;       /* overlap=replace asked this run to stop: no retry, no hook (overlap.c) */
	int raised_replace; /* what was raised: InterruptedError, else TimeoutError */
};

struct pending {
	struct usch_fire fire;   /* the first, or only, fire */
	struct usch_fire *later; /* coalesce=all: the late fires handed over with it, run after it in order */
	int nlater;
	enum sched_how how; /* a trigger's fire, a run asked for now, an interrupted occurrence again */
	struct pending *next;
};

/* Something to log once sched_rt.lock is released. */
enum note_kind {
	NOTE_MISFIRE, /* value: µs late */
	NOTE_SKIP,    /* value: runs still going */
	NOTE_OVERRUN,
	NOTE_DROPPED,            /* out of memory */
	NOTE_INTERRUPTED,        /* value: the occurrence's scheduled instant; pid: who ran it */
	NOTE_INTERRUPTED_BEFORE, /* the same, by the stop of the previous instance */
	NOTE_TIMEOUT,            /* TimeoutError raised in the run */
	NOTE_HUNG,               /* still going SCHED_HUNG_GRACE_US after it; pid 1: after an InterruptedError */
	NOTE_REPLACE_RAISED,     /* InterruptedError raised in a run the next one replaces */
	NOTE_CLOCK_STEP,         /* no job; value: µs the wall clock stepped (> 0 forward) */
	NOTE_BEFORE_LORD,        /* scope=cluster; value: the scheduled instant, due before the lordship */
	NOTE_MASTER_GONE,        /* scope=cluster: the worker's master died */
};

struct note {
	const struct usch_job *job;
	enum note_kind kind;
	int64_t value;
	int pid;
};

#define MAX_NOTES 64

struct sched_rt {
	pthread_mutex_t lock;
	/* All on the monotonic clock (runtime.c, timeouts.c): a step of the
	 * wall clock moves none of their deadlines. */
	pthread_cond_t timer_cond; /* wakes the timing thread (stop) */
	pthread_cond_t work_cond;  /* wakes the first executor (work or stop) */
	pthread_cond_t spare_cond; /* wakes the others: the work stalled (or stop) */
	pthread_cond_t idle_cond;  /* a run ended (the stopper and a fire waiting for a place wait on it) */
	pthread_cond_t retry_cond; /* wakes executors waiting to retry (stop) */
	pthread_cond_t watch_cond; /* wakes sched-watch (timeouts.c) */
	pthread_t watcher;
	int watching;
	int started;
	int stopping;
	int running; /* runs in progress */
	int *active; /* per job: queued + running */
	int *queued; /* per job: queued */
	struct pending *head, *tail;
	pthread_t timer;
	pthread_t *executors;
	struct slot *slots; /* per executor: the run it is doing */
	int nexec;          /* slots: scheduler-threads, the most executors at once */
	int alive;          /* executors running */
	int nqueued;        /* fires queued, of every job */
	int can_exit;       /* an idle executor may exit (its Python thread states can go) */
	int first_idle;     /* the first executor waits for work */
	int spares_idle;    /* the others waiting to be called */
	int spares_called;  /* called by the timing thread, not yet answered */
	int64_t last_take;  /* monotonic µs an executor last took a fire */
	struct usch_sched sched;
	struct note notes[MAX_NOTES];
	int nnotes;
	uint64_t notes_lost;        /* past MAX_NOTES before a flush */
	int reruns;                 /* some once-job has interrupted=rerun: look for reruns each second */
	int64_t steps_said;         /* the schedule's wall-clock steps logged so far */
	struct pending *open_burst; /* the coalesce=all burst being handed over (timing thread) */
	int master_gone_said;       /* scope=cluster: the master's death was noted */
};

extern struct sched_rt sched_rt;

#endif
