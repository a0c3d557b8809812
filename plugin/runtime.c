/* runtime.c - the scheduler inside one worker: a timing thread that never
 * runs job code, a small pool of executor threads that do, and the orderly
 * stop of both when the worker ends.
 *
 * Locking: one mutex guards the queue of due fires, the counters and the
 * notes; the schedule itself is touched only by the timing thread. No
 * line is logged with the mutex held (a slow log would stall the timing
 * thread and every executor): what happens under it is noted, and the
 * notes are logged once it is released. */
#include <uwsgi.h>
#include "runtime.h"
#include "run.h"
#include "threads.h"
#include "python.h"
#include "mainthread.h"
#include "claims.h"
#include "runs.h"
#include "flags.h"
#include "history.h"
#include "counters.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "common.h"
#include "core/sched.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

/* What an executor is running, for the overrun watchdog. */
struct slot {
	const struct usch_job *job; /* NULL when idle */
	int64_t started_mono;
	int warned;
};

/* Per job, in this worker: what happened to its fires. */
struct counts {
	uint64_t runs, failures, skipped, misfired;
};

struct pending {
	struct usch_fire fire;   /* the first, or only, fire */
	struct usch_fire *later; /* coalesce=all: the late fires handed over with it, run after it in order */
	int nlater;
	enum sched_how how; /* a trigger's fire, a run asked for now, an interrupted occurrence again */
	struct pending *next;
};

/* Something to log once rt.lock is released. */
enum note_kind {
	NOTE_MISFIRE, /* value: µs late */
	NOTE_SKIP,    /* value: runs still going */
	NOTE_OVERRUN,
	NOTE_DROPPED,            /* out of memory */
	NOTE_INTERRUPTED,        /* value: the occurrence's scheduled instant; pid: who ran it */
	NOTE_INTERRUPTED_BEFORE, /* the same, by the stop of the previous instance */
	NOTE_CLOCK_STEP,         /* no job; value: µs the wall clock stepped (> 0 forward) */
};

struct note {
	const struct usch_job *job;
	enum note_kind kind;
	int64_t value;
	int pid;
};

#define MAX_NOTES 64

static struct {
	pthread_mutex_t lock;
	pthread_cond_t timer_cond; /* wakes the timing thread (stop) */
	pthread_cond_t work_cond;  /* wakes executors (work or stop) */
	pthread_cond_t idle_cond;  /* a run ended (the stopper waits on it) */
	int started;
	int stopping;
	int running;           /* runs in progress */
	int *active;           /* per job: queued + running */
	int *queued;           /* per job: queued */
	struct counts *counts; /* per job */
	struct pending *head, *tail;
	pthread_t timer;
	pthread_t *executors;
	struct slot *slots; /* per executor: the run it is doing */
	int nexec;
	struct usch_sched sched;
	struct note notes[MAX_NOTES];
	int nnotes;
	uint64_t notes_lost;        /* past MAX_NOTES before a flush */
	int reruns;                 /* some once-job has interrupted=rerun: look for reruns each second */
	int64_t steps_said;         /* the schedule's wall-clock steps logged so far */
	struct pending *open_burst; /* the coalesce=all burst being handed over (timing thread) */
} rt = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* rt.lock held. */
static void note_pid(const struct usch_job *job, enum note_kind kind, int64_t value, int pid) {
	if (rt.nnotes == MAX_NOTES) {
		rt.notes_lost++;
		return;
	}
	rt.notes[rt.nnotes++] = (struct note){ .job = job, .kind = kind, .value = value, .pid = pid };
}

static void note(const struct usch_job *job, enum note_kind kind, int64_t value) {
	note_pid(job, kind, value, 0);
}

static void log_note(const struct note *n) {
	const struct usch_job *job = n->job;
	char dur[32];
	switch (n->kind) {
	case NOTE_MISFIRE:
		sched_log_event(job, "misfire, %.1f ms late is past misfire-grace (worker %d)", n->value / 1e3,
				uwsgi.mywid);
		return;
	case NOTE_SKIP:
		sched_log_event(job, "skipped, %lld run%s still going (max-running=%d, worker %d)",
				(long long) n->value, n->value == 1 ? "" : "s", job->max_running, uwsgi.mywid);
		return;
	case NOTE_OVERRUN:
		usch_duration_format(job->timeout_us, dur, sizeof(dur));
		sched_log("job %s: overrunning, still running after its timeout of %s (worker %d)", job->id, dur,
				uwsgi.mywid);
		return;
	case NOTE_DROPPED:
		sched_log("job %s: out of memory, fire dropped", job->id);
		return;
	case NOTE_INTERRUPTED:
	case NOTE_INTERRUPTED_BEFORE:
		sched_log_interrupted(job, n->value, uwsgi.mywid, n->pid, n->kind == NOTE_INTERRUPTED_BEFORE);
		return;
	case NOTE_CLOCK_STEP:
		sched_log_clock_step(uwsgi.mywid, n->value);
		return;
	}
}

/* Logs what was noted (and the interrupted runs claims took back).
 * Called without rt.lock. */
static void flush_notes(void) {
	struct note notes[MAX_NOTES];
	struct sched_claims_report reports[SCHED_CLAIMS_MAX_REPORTS];
	pthread_mutex_lock(&rt.lock);
	int nreports = sched_claims_reports(reports);
	int n = rt.nnotes;
	uint64_t lost = rt.notes_lost;
	memcpy(notes, rt.notes, sizeof(notes[0]) * (size_t) n);
	rt.nnotes = 0;
	rt.notes_lost = 0;
	pthread_mutex_unlock(&rt.lock);
	for (int i = 0; i < n; i++)
		log_note(&notes[i]);
	sched_claims_log_reports(reports, nreports);
	if (lost)
		sched_log("worker %d: %llu more skip/misfire lines not logged (counted in the totals)", uwsgi.mywid,
				(unsigned long long) lost);
}

/* With rt.lock held: logs what waits, if anything, with the lock
 * released meanwhile. Returns 1 when it did (time has passed). */
static int flush_pending_notes(void) {
	if (!rt.nnotes && !rt.notes_lost && !sched_claims_pending_reports())
		return 0;
	pthread_mutex_unlock(&rt.lock);
	flush_notes();
	pthread_mutex_lock(&rt.lock);
	return 1;
}

static void count_misfire(const struct usch_fire *fire, int64_t now_wall) {
	rt.counts[fire->job->index].misfired++;
	sched_counters_misfired(fire->job);
	note(fire->job, NOTE_MISFIRE, now_wall - fire->scheduled_us);
}

/* A late fire of a coalesce=all burst joins the first one: the burst is
 * one run, and the fires in it run one after the other, in order. */
static int join_burst(const struct usch_fire *fire) {
	struct pending *b = rt.open_burst;
	if (fire->burst < 2 || !b || b->fire.job != fire->job)
		return 0;
	struct usch_fire *later = realloc(b->later, sizeof(*later) * (size_t) (b->nlater + 1));
	if (!later) {
		note(fire->job, NOTE_DROPPED, 0);
		return 1;
	}
	later[b->nlater++] = *fire;
	b->later = later;
	return 1;
}

/* A fire goes to the executors; rt.lock held. */
static struct pending *enqueue(const struct usch_fire *fire, enum sched_how how) {
	const struct usch_job *job = fire->job;
	size_t idx = job->index;
	if (job->scope != USCH_SCOPE_ONCE && rt.active[idx] >= job->max_running) {
		rt.counts[idx].skipped++;
		sched_counters_skipped(job);
		note(job, NOTE_SKIP, rt.active[idx]);
		return NULL;
	}
	struct pending *p = malloc(sizeof(*p));
	if (!p) {
		note(job, NOTE_DROPPED, 0);
		return NULL;
	}
	p->fire = *fire;
	p->later = NULL;
	p->nlater = 0;
	p->how = how;
	p->next = NULL;
	if (rt.tail)
		rt.tail->next = p;
	else
		rt.head = p;
	rt.tail = p;
	rt.active[idx]++;
	rt.queued[idx]++;
	pthread_cond_signal(&rt.work_cond);
	return p;
}

/* A paused job's fire (a run asked for now is not one) is dealt with:
 * nobody runs it, now or as a late fire after a restart. */
static int passed_over(const struct usch_fire *fire, enum sched_how how) {
	if (how == SCHED_HOW_MANUAL || !sched_flags_paused(fire->job))
		return 0;
	sched_claims_pass(fire->job, fire->covers_to);
	sched_runs_passed(fire->job, fire->covers_to, fire->scheduled_us);
	return 1;
}

/* Called by the schedule with rt.lock held. A once-job's fire is only
 * queued here (one at a time): the worker whose executor claims the
 * occurrence first runs it, skips it or counts its misfire, once. A
 * paused job's fire is passed over. */
static void enqueue_fire(void *ctx, const struct usch_fire *fire) {
	const struct usch_job *job = fire->job;
	int once = job->scope == USCH_SCOPE_ONCE;
	enum sched_how how = ctx ? SCHED_HOW_RERUN : SCHED_HOW_SCHEDULE;
	if (passed_over(fire, how))
		return;
	if (join_burst(fire))
		return;
	rt.open_burst = NULL;
	/* a busy worker holds one of a once-job's fires: a free one takes the
	 * others */
	if (once && how == SCHED_HOW_SCHEDULE && rt.queued[job->index])
		return;
	if (!once && fire->misfired) {
		count_misfire(fire, sched_clock_us(CLOCK_REALTIME));
		return;
	}
	struct pending *p = enqueue(fire, how);
	if (p && fire->burst)
		rt.open_burst = p;
}

/* Logs, once per run, every run past its timeout; returns the monotonic
 * instant of the next run that will pass it. rt.lock held. */
static int64_t watch_overruns(int64_t now) {
	int64_t soonest = INT64_MAX;
	for (int i = 0; i < rt.nexec; i++) {
		struct slot *sl = &rt.slots[i];
		if (!sl->job || sl->warned || sl->job->timeout_us <= 0)
			continue;
		int64_t due = sl->started_mono + sl->job->timeout_us;
		if (due <= now) {
			note(sl->job, NOTE_OVERRUN, 0);
			sched_counters_overran(sl->job);
			sl->warned = 1;
		}
		else if (due < soonest) {
			soonest = due;
		}
	}
	return soonest;
}

/* An occurrence to run again, as a late fire; rt.lock held. The rerun
 * flag (a non-NULL ctx) lets it past the claim of its occurrence. */
static void enqueue_rerun(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us) {
	struct usch_fire f = { .job = job,
		.occurrence = occurrence,
		.covers_to = occurrence,
		.scheduled_us = scheduled_us,
		.catch_up = 1 };
	enqueue_fire(&rt, &f);
}

/* interrupted=rerun once-jobs whose occurrence a dead worker left (one
 * worker takes each), and the runs asked for now (scheduler.run); rt.lock
 * held. */
static void take_asked(void) {
	for (size_t i = 0; i < rt.sched.n; i++) {
		const struct usch_job *job = rt.sched.entries[i].job;
		int64_t occ, at;
		if (rt.reruns && job->interrupted == USCH_INTERRUPTED_RERUN && sched_claims_rerun_take(job, &occ, &at))
			enqueue_rerun(job, occ, at);
		if (sched_flags_take_run(job, &at)) {
			struct usch_fire f = { .job = job, .occurrence = SCHED_OCCURRENCE_MANUAL, .scheduled_us = at };
			f.covers_to = f.occurrence;
			enqueue(&f, SCHED_HOW_MANUAL);
		}
	}
}

void sched_runtime_wake(void) {
	pthread_mutex_lock(&rt.lock);
	if (rt.started)
		pthread_cond_signal(&rt.timer_cond);
	pthread_mutex_unlock(&rt.lock);
}

/* Said once per worker: a step back quiets a cron job for as long as it
 * repeats, which nobody should have to guess from the runs. rt.lock held. */
static void note_clock_step(void) {
	if (rt.sched.steps == rt.steps_said)
		return;
	rt.steps_said = rt.sched.steps;
	note(NULL, NOTE_CLOCK_STEP, rt.sched.last_step);
}

static void *timer_main(void *arg) {
	sched_block_signals();
	pthread_mutex_lock(&rt.lock);
	while (!rt.stopping) {
		take_asked();
		int64_t deadline = usch_sched_run_due(&rt.sched, sched_clock_us(CLOCK_MONOTONIC),
				sched_clock_us(CLOCK_REALTIME), enqueue_fire, NULL);
		rt.open_burst = NULL; /* the executors may take it from now on */
		note_clock_step();
		int64_t now = sched_clock_us(CLOCK_MONOTONIC);
		/* reruns and runs asked for in another worker are looked for each second */
		if (now + 1000000 < deadline)
			deadline = now + 1000000;
		int64_t overrun = watch_overruns(now);
		if (overrun < deadline)
			deadline = overrun;
		/* logged unlocked, then look again: time has passed */
		if (flush_pending_notes())
			continue;
		/* wake at least once a minute to notice wall-clock steps */
		int64_t cap = now + 60 * 1000000LL;
		struct timespec ts = sched_timespec_at(deadline < cap ? deadline : cap);
		pthread_cond_timedwait(&rt.timer_cond, &rt.lock, &ts);
	}
	pthread_mutex_unlock(&rt.lock);
	return NULL;
}

/* Whether this executor runs p: not when its job was paused while it
 * waited; a once-job's occurrence (or burst) only if this executor claims
 * it. rt.lock held. Returns 1 to go on, with *after the last occurrence
 * another worker claimed (a burst's fires up to it are not run here). */
static int claim(const struct pending *p, int slot_no, int64_t *after) {
	const struct usch_job *job = p->fire.job;
	*after = INT64_MIN;
	/* paused while it waited for an executor */
	const struct usch_fire *last = p->nlater ? &p->later[p->nlater - 1] : &p->fire;
	if (passed_over(last, p->how))
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
		rt.counts[job->index].skipped++;
		sched_counters_skipped(job);
		note(job, NOTE_SKIP, job->max_running);
		return 0;
	default:
		return 0;
	}
}

/* A fire that waited for a busy executor past misfire-grace is counted,
 * not run; rt.lock held. Returns 1 to run it. */
static int in_grace(const struct usch_fire *f) {
	int64_t now = sched_clock_us(CLOCK_REALTIME);
	if (!usch_fire_misfired(f->job, f->scheduled_us, now))
		return 1;
	count_misfire(f, now);
	return 0;
}

/* Runs the fires of p that are this executor's, in order; rt.lock held
 * (released while each runs). */
static void run_pending(struct pending *p, struct slot *slot, int slot_no, int64_t after) {
	const struct usch_job *job = p->fire.job;
	for (int i = 0; i <= p->nlater && !(i && rt.stopping); i++) {
		const struct usch_fire *f = i ? &p->later[i - 1] : &p->fire;
		if (f->occurrence <= after || (p->how != SCHED_HOW_MANUAL && !in_grace(f)))
			continue;
		if (i && job->scope == USCH_SCOPE_ONCE)
			sched_claims_running(job, slot_no, f->occurrence, f->scheduled_us);
		slot->started_mono = sched_clock_us(CLOCK_MONOTONIC);
		slot->warned = 0;
		/* the timing thread sets its next wake-up by this run's timeout */
		if (job->timeout_us > 0)
			pthread_cond_signal(&rt.timer_cond);
		struct counts before = rt.counts[job->index];
		pthread_mutex_unlock(&rt.lock);
		int failed = sched_run_fire(f, p->how, before.runs, before.failures) < 0;
		pthread_mutex_lock(&rt.lock);
		rt.counts[job->index].runs++;
		rt.counts[job->index].failures += failed;
	}
}

static void free_pending(struct pending *p) {
	free(p->later);
	free(p);
}

static void *executor_main(void *arg) {
	struct slot *slot = arg;
	int slot_no = (int) (slot - rt.slots);
	sched_block_signals();
	sched_thread_mark();
	sched_init_language_thread(uwsgi.cores + slot_no);
	pthread_mutex_lock(&rt.lock);
	for (;;) {
		while (!rt.stopping && !rt.head)
			pthread_cond_wait(&rt.work_cond, &rt.lock);
		if (rt.stopping)
			break;
		struct pending *p = rt.head;
		rt.head = p->next;
		if (!rt.head)
			rt.tail = NULL;
		const struct usch_job *job = p->fire.job;
		rt.queued[job->index]--;
		int64_t after;
		if (claim(p, slot_no, &after)) {
			/* a run taken back from a dead worker is logged before this
			 * run, which may outlast this worker */
			flush_pending_notes();
			rt.running++;
			slot->job = job;
			run_pending(p, slot, slot_no, after);
			if (job->scope == USCH_SCOPE_ONCE)
				sched_claims_done(job, slot_no);
			slot->job = NULL;
			rt.running--;
			pthread_cond_broadcast(&rt.idle_cond);
		}
		rt.active[job->index]--;
		free_pending(p);
		flush_pending_notes();
	}
	pthread_mutex_unlock(&rt.lock);
	return NULL;
}

static int init_conds(void) {
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	int ret = pthread_cond_init(&rt.timer_cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&rt.work_cond, NULL);
	pthread_cond_init(&rt.idle_cond, NULL);
	return ret;
}

/* Undoes a start that failed half-way: the threads already started are
 * told to stop and joined (none has run anything yet), and everything
 * allocated is freed. */
static void release(int nstarted) {
	pthread_mutex_lock(&rt.lock);
	rt.stopping = 1;
	pthread_cond_broadcast(&rt.work_cond);
	pthread_mutex_unlock(&rt.lock);
	for (int i = 0; i < nstarted; i++)
		pthread_join(rt.executors[i], NULL);
	usch_sched_free(&rt.sched);
	free(rt.active);
	free(rt.queued);
	free(rt.counts);
	free(rt.executors);
	free(rt.slots);
	rt.active = NULL;
	rt.queued = NULL;
	rt.counts = NULL;
	rt.executors = NULL;
	rt.slots = NULL;
	rt.nexec = 0;
	rt.stopping = 0;
}

/* A run this worker id's predecessor left going (it died, or the
 * instance stopped): reported, and run again for interrupted=rerun;
 * rt.lock held. */
static void take_up_interrupted(const struct usch_job *job, struct sched_run *r) {
	if (r->outcome != SCHED_OUTCOME_RUNNING || (r->pid == (int) getpid() && !r->restored))
		return;
	note_pid(job, r->restored ? NOTE_INTERRUPTED_BEFORE : NOTE_INTERRUPTED, r->scheduled_us, r->pid);
	r->outcome = SCHED_OUTCOME_INTERRUPTED;
	sched_runs_put(job, uwsgi.mywid, r);
	sched_counters_interrupted(job, !r->restored);
	if (job->interrupted == USCH_INTERRUPTED_RERUN)
		enqueue_rerun(job, r->occurrence, r->scheduled_us);
}

/* A job continues from its last run, in this worker id (per-worker jobs)
 * or in any worker (the last occurrence claimed, scope=once), also across
 * a restart when the state file remembered it: the occurrences due since
 * (no worker was up) are late fires, unless catch-up=false. The runs that
 * the worker this one replaces left going are reported first. */
static void take_up(void) {
	sched_claims_worker_start();
	int64_t mono = sched_clock_us(CLOCK_MONOTONIC), wall = sched_clock_us(CLOCK_REALTIME);
	pthread_mutex_lock(&rt.lock);
	for (size_t i = 0; i < rt.sched.n; i++) {
		const struct usch_job *job = rt.sched.entries[i].job;
		rt.reruns |= job->scope == USCH_SCOPE_ONCE && job->interrupted == USCH_INTERRUPTED_RERUN;
		if (job->scope == USCH_SCOPE_ONCE) {
			int64_t last = sched_claims_last(job);
			if (job->catch_up && last != INT64_MIN)
				usch_sched_resume(&rt.sched, job, last, INT64_MIN, mono, wall);
			continue;
		}
		struct sched_run r;
		if (!sched_runs_get(job, uwsgi.mywid, &r))
			continue;
		take_up_interrupted(job, &r);
		int64_t at, anchor = sched_run_anchor(&r, &at);
		if (job->catch_up)
			usch_sched_resume(&rt.sched, job, anchor, at, mono, wall);
	}
	pthread_mutex_unlock(&rt.lock);
}

/* This worker's share of the jobs (scope=, workers=), or NULL when out of
 * memory. */
static struct usch_job **my_jobs(size_t *n) {
	struct usch_job **mine = calloc(sched_cfg.njobs ? sched_cfg.njobs : 1, sizeof(*mine));
	*n = 0;
	for (size_t i = 0; mine && i < sched_cfg.njobs; i++)
		if (usch_job_runs_on(sched_cfg.jobs[i], uwsgi.mywid))
			mine[(*n)++] = sched_cfg.jobs[i];
	return mine;
}

static int start_threads(char *err, size_t errlen) {
	int started = 0;
	for (; started < rt.nexec; started++)
		if (sched_spawn(&rt.executors[started], "sched-exec", executor_main, &rt.slots[started]))
			break;
	if (started < rt.nexec || sched_spawn(&rt.timer, "sched-timer", timer_main, NULL)) {
		snprintf(err, errlen, "cannot start the %s thread: %s", started < rt.nexec ? "executor" : "timing",
				strerror(errno));
		release(started);
		return -1;
	}
	return 0;
}

int sched_runtime_start(char *err, size_t errlen) {
	if (rt.started || !sched_cfg.njobs)
		return 0;
	size_t nmine;
	struct usch_job **mine = my_jobs(&nmine);
	if (!mine) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!nmine) {
		free(mine);
		sched_log("worker %d (pid %d): no job runs on this worker", uwsgi.mywid, (int) getpid());
		return 0;
	}
	/* rt.lock is statically initialised (the master never takes it, so a
	 * fork inherits it unlocked); the timing thread's condition waits on
	 * the monotonic clock, which needs an attribute */
	init_conds();
	rt.active = calloc(sched_cfg.njobs, sizeof(int));
	rt.queued = calloc(sched_cfg.njobs, sizeof(int));
	rt.counts = calloc(sched_cfg.njobs, sizeof(struct counts));
	rt.nexec = sched_cfg.threads;
	rt.executors = calloc((size_t) rt.nexec, sizeof(pthread_t));
	rt.slots = calloc((size_t) rt.nexec, sizeof(struct slot));
	int ok = rt.active && rt.queued && rt.counts && rt.executors && rt.slots;
	if (!ok)
		snprintf(err, errlen, "out of memory");
	else
		ok = usch_sched_init(&rt.sched, mine, nmine, sched_clock_us(CLOCK_MONOTONIC),
				     sched_clock_us(CLOCK_REALTIME), err, errlen) == 0;
	free(mine);
	if (!ok) {
		release(0);
		return -1;
	}
	take_up();
	if (start_threads(err, errlen) < 0)
		return -1;
	rt.started = 1;
	sched_log("worker %d (pid %d): scheduler thread started, %zu job%s, %d executor thread%s", uwsgi.mywid,
			(int) getpid(), nmine, nmine == 1 ? "" : "s", rt.nexec, rt.nexec == 1 ? "" : "s");
	return 0;
}

/* One line per job that did anything in this worker, when it stops. */
static void log_counts(void) {
	if (sched_log_level() == SCHED_LOG_NONE)
		return;
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		pthread_mutex_lock(&rt.lock);
		struct counts c = rt.counts[i];
		pthread_mutex_unlock(&rt.lock);
		if (c.runs || c.skipped || c.misfired)
			sched_log("worker %d: job %s: %llu runs, %llu failed, %llu skipped, %llu misfired", uwsgi.mywid,
					sched_cfg.jobs[i]->id, (unsigned long long) c.runs,
					(unsigned long long) c.failures, (unsigned long long) c.skipped,
					(unsigned long long) c.misfired);
	}
}

static struct timespec realtime_in(int64_t us) {
	return sched_timespec_at(sched_clock_us(CLOCK_REALTIME) + us);
}

/* Joins t unless it is still busy at the deadline (then it is left to the
 * process's exit). Returns 1 when joined. */
static int join_until(pthread_t t, const struct timespec *deadline) {
	if (pthread_timedjoin_np(t, NULL, deadline) == 0)
		return 1;
	pthread_detach(t);
	return 0;
}

/* Runs in the worker's main thread from uWSGI's atexit hook, before the
 * language plugins finalise: no new run may start after this returns, and
 * on graceful paths the runs in progress finish first (bounded).
 *
 * exit() may be called from a signal handler that interrupted the main
 * thread while it held the GIL (brutal paths, a request in progress): a
 * thread of ours that needs the GIL then cannot finish, so every wait here
 * is bounded and a GIL held by this thread skips the wait for runs. */
void sched_runtime_stop(int graceful) {
	if (!rt.started)
		return;
	rt.started = 0;
	sched_mainthread_abort();
	int gil_held = sched_python_gil_held();
	pthread_mutex_lock(&rt.lock);
	rt.stopping = 1;
	while (rt.head) {
		struct pending *p = rt.head;
		rt.head = p->next;
		rt.active[p->fire.job->index]--;
		free_pending(p);
	}
	rt.tail = NULL;
	pthread_cond_broadcast(&rt.timer_cond);
	pthread_cond_broadcast(&rt.work_cond);
	int running = rt.running;
	pthread_mutex_unlock(&rt.lock);

	int64_t budget = graceful && !gil_held ? sched_cfg.shutdown_timeout_us : 500000;
	struct timespec deadline = realtime_in(budget);
	if (graceful && running && gil_held)
		sched_log("worker %d: exiting while holding the GIL: not waiting for %d running job(s)", uwsgi.mywid,
				running);
	else if (graceful && running)
		sched_log("worker %d: waiting up to %.1f s for %d running job(s)", uwsgi.mywid, budget / 1e6, running);
	pthread_mutex_lock(&rt.lock);
	while (graceful && !gil_held && rt.running &&
			pthread_cond_timedwait(&rt.idle_cond, &rt.lock, &deadline) != ETIMEDOUT)
		;
	int left = rt.running;
	pthread_mutex_unlock(&rt.lock);
	if (graceful && !gil_held && left)
		sched_log("worker %d: shutdown timeout exceeded, %d job(s) still running", uwsgi.mywid, left);

	/* idle threads exit at once; a busy one is left to the process exit,
	 * and its command with it */
	if (left && sched_commands_stop_mine())
		deadline = realtime_in(300000);
	else if (left)
		deadline = realtime_in(100000);
	join_until(rt.timer, &deadline);
	for (int i = 0; i < rt.nexec; i++)
		join_until(rt.executors[i], &deadline);
	flush_notes();
	log_counts();
	if (left)
		sched_log("worker %d: exiting with %d job(s) still running", uwsgi.mywid, left);
	else
		sched_log("worker %d: scheduler stopped", uwsgi.mywid);
}
