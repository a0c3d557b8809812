/* runtime.c - the scheduler inside one worker: its start (this worker's
 * jobs, what its predecessor left, the threads) and its orderly stop. The
 * timing thread that never runs job code is timing.c's, the executor
 * threads that do are executors.c's; their shared state and its locking
 * are in runtime_state.h. */
#include <uwsgi.h>
#include "runtime.h"
#include "runtime_state.h"
#include "wake.h"
#include "timing.h"
#include "handover.h"
#include "executors.h"
#include "timeouts.h"
#include "queue.h"
#include "notes.h"
#include "threads.h"
#include "python.h"
#include "mainthread.h"
#include "claims.h"
#include "runs.h"
#include "counters.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "common.h"
#include "core/sched.h"

extern struct uwsgi_server uwsgi;

struct sched_rt sched_rt = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

void sched_runtime_wake(void) {
	pthread_mutex_lock(&sched_rt.lock);
	if (sched_rt.started) {
		pthread_cond_signal(&sched_rt.timer_cond);
		sched_wake_self();
	}
	pthread_mutex_unlock(&sched_rt.lock);
}

static int init_conds(void) {
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	int ret = pthread_cond_init(&sched_rt.timer_cond, &attr);
	pthread_cond_init(&sched_rt.retry_cond, &attr);
	pthread_cond_init(&sched_rt.work_cond, &attr);
	pthread_cond_init(&sched_rt.spare_cond, &attr);
	pthread_cond_init(&sched_rt.idle_cond, &attr);
	pthread_condattr_destroy(&attr);
	return ret;
}

/* Every timed wait of the stop is on the monotonic clock (the joins too:
 * pthread_clockjoin_np): a wall-clock deadline that a step forward moved
 * an hour away made the stop an hour long, until uWSGI's mercy. */
static struct timespec monotonic_in(int64_t us) {
	return sched_timespec_at(sched_clock_us(CLOCK_MONOTONIC) + us);
}

/* Undoes a start that failed half-way: the threads already started are
 * told to stop and joined (none has run anything yet), and everything
 * allocated is freed. */
static void release(void) {
	pthread_mutex_lock(&sched_rt.lock);
	sched_rt.stopping = 1;
	pthread_cond_broadcast(&sched_rt.work_cond);
	pthread_cond_broadcast(&sched_rt.spare_cond);
	pthread_mutex_unlock(&sched_rt.lock);
	struct timespec soon = monotonic_in(1000000);
	sched_timeouts_stop(&soon);
	for (int i = 0; i < sched_rt.nexec; i++)
		if (sched_rt.slots[i].state != SLOT_FREE)
			pthread_join(sched_rt.executors[i], NULL);
	usch_sched_free(&sched_rt.sched);
	free(sched_rt.active);
	free(sched_rt.queued);
	sched_counters_worker_free();
	free(sched_rt.executors);
	free(sched_rt.slots);
	sched_rt.active = NULL;
	sched_rt.queued = NULL;
	sched_rt.executors = NULL;
	sched_rt.slots = NULL;
	sched_rt.nexec = 0;
	sched_rt.alive = 0;
	sched_rt.first_idle = sched_rt.spares_idle = sched_rt.spares_called = 0;
	sched_rt.stopping = 0;
}

/* A run this worker id's predecessor left going (it died, or the
 * instance stopped): reported, and run again for interrupted=rerun;
 * sched_rt.lock held. */
static void take_up_interrupted(const struct usch_job *job, struct sched_run *r) {
	if (r->outcome != SCHED_OUTCOME_RUNNING || (r->pid == (int) getpid() && !r->restored))
		return;
	sched_note_pid(job, r->restored ? NOTE_INTERRUPTED_BEFORE : NOTE_INTERRUPTED, r->scheduled_us, r->pid);
	r->outcome = SCHED_OUTCOME_INTERRUPTED;
	sched_runs_put(job, uwsgi.mywid, r);
	sched_counters_interrupted(job, !r->restored);
	if (job->interrupted == USCH_INTERRUPTED_RERUN)
		sched_handover_rerun(job, r->occurrence, r->scheduled_us);
}

/* A job continues from its last run, in this worker id (per-worker jobs)
 * or in any worker (the last occurrence claimed, scope=once), also across
 * a restart when the state file remembered it: the occurrences due since
 * (no worker was up) are late fires, unless catch-up=false. The runs that
 * the worker this one replaces left going are reported first. */
static void take_up(void) {
	sched_claims_worker_start();
	int64_t mono = sched_clock_us(CLOCK_MONOTONIC), wall = sched_clock_us(CLOCK_REALTIME);
	/* no run recorded yet anywhere (a first start): the records are not
	 * read, and their pages stay out of this worker's memory; nor are the
	 * jobs then, without a once-job to look up */
	int any_run = sched_runs_changes() != 0;
	if (!any_run && !sched_cfg.any_claimed)
		return;
	pthread_mutex_lock(&sched_rt.lock);
	for (size_t i = 0; i < sched_rt.sched.n; i++) {
		const struct usch_job *job = sched_rt.sched.entries[i].job;
		sched_rt.reruns |= usch_job_claimed(job) && job->interrupted == USCH_INTERRUPTED_RERUN;
		if (usch_job_claimed(job)) {
			int64_t last = sched_claims_last(job);
			if (job->catch_up && last != INT64_MIN)
				usch_sched_resume(&sched_rt.sched, job, last, INT64_MIN, mono, wall);
			continue;
		}
		struct sched_run r;
		if (!any_run || !sched_runs_get(job, uwsgi.mywid, &r))
			continue;
		take_up_interrupted(job, &r);
		int64_t at, anchor = sched_run_anchor(&r, &at);
		if (job->catch_up)
			usch_sched_resume(&sched_rt.sched, job, anchor, at, mono, wall);
	}
	pthread_mutex_unlock(&sched_rt.lock);
}

/* Every job as a worker's schedule reads it when it starts, with its first
 * fire after the master's instant view_at (usch_sched_view), in pages
 * shared before fork: a worker starting reads these 24 bytes a job, not
 * the job's record nor its trigger (while that first fire stands). */
static struct usch_sched_job *view;
static int64_t view_at = INT64_MIN;

void sched_runtime_prepare(void) {
	if (!sched_cfg.njobs)
		return;
	view = sched_shared_zeroed(sizeof(*view) * sched_cfg.njobs);
	view_at = sched_clock_us(CLOCK_REALTIME);
	usch_sched_view(sched_cfg.jobs, sched_cfg.njobs, view_at, view);
}

/* This worker's share of the jobs (scope=, workers=), as its schedule
 * reads them, or NULL when out of memory: the view itself when it runs
 * them all (no job read, nor a copy to leave in the heap), else a copy to
 * free (*copied). */
static struct usch_sched_job *my_jobs(size_t *n, int *copied) {
	*n = sched_cfg.njobs;
	*copied = 0;
	if (!view) {
		/* no view made (no master: a worker of its own) */
		view = calloc(sched_cfg.njobs, sizeof(*view));
		if (!view)
			return NULL;
		usch_sched_view(sched_cfg.jobs, sched_cfg.njobs, INT64_MIN, view);
	}
	if (!sched_cfg.any_workers_scope)
		return view;
	struct usch_sched_job *mine = calloc(sched_cfg.njobs, sizeof(*mine));
	*copied = mine != NULL;
	*n = 0;
	for (size_t i = 0; mine && i < sched_cfg.njobs; i++)
		if (usch_job_runs_on(sched_cfg.jobs[i], uwsgi.mywid))
			mine[(*n)++] = view[i];
	return mine;
}

/* One executor to begin with (the timing thread starts more as fires
 * need them), then the timing thread. */
static int start_threads(char *err, size_t errlen) {
	if (sched_timeouts_start() < 0) {
		snprintf(err, errlen, "cannot start the timeout thread: %s", strerror(errno));
		release();
		return -1;
	}
	pthread_mutex_lock(&sched_rt.lock);
	int ok = sched_executors_add() == 0;
	pthread_mutex_unlock(&sched_rt.lock);
	if (!ok || sched_spawn(&sched_rt.timer, "sched-timer", sched_timing_main, NULL)) {
		snprintf(err, errlen, "cannot start the %s thread: %s", ok ? "timing" : "executor", strerror(errno));
		release();
		return -1;
	}
	return 0;
}

int sched_runtime_start(char *err, size_t errlen) {
	if (sched_rt.started || !sched_cfg.njobs)
		return 0;
	size_t nmine;
	int copied;
	struct usch_sched_job *mine = my_jobs(&nmine, &copied);
	if (!mine) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!nmine) {
		if (copied)
			free(mine);
		sched_log("worker %d (pid %d): no job runs on this worker", uwsgi.mywid, (int) getpid());
		return 0;
	}
	/* sched_rt.lock is statically initialised (the master never takes it, so a
	 * fork inherits it unlocked); the timing thread's condition waits on
	 * the monotonic clock, which needs an attribute */
	init_conds();
	sched_wake_setup(); /* made by the master before fork; here when there was none */
	sched_rt.active = calloc(sched_cfg.njobs, sizeof(int));
	sched_rt.queued = calloc(sched_cfg.njobs, sizeof(int));
	sched_rt.nexec = sched_cfg.threads;
	sched_rt.executors = calloc((size_t) sched_rt.nexec, sizeof(pthread_t));
	sched_rt.slots = calloc((size_t) sched_rt.nexec, sizeof(struct slot));
	int ok = sched_rt.active && sched_rt.queued && sched_counters_worker_setup() == 0 && sched_rt.executors &&
			sched_rt.slots;
	if (!ok)
		snprintf(err, errlen, "out of memory");
	else
		ok = usch_sched_init_view(&sched_rt.sched, mine, nmine, view_at, sched_clock_us(CLOCK_MONOTONIC),
				     sched_clock_us(CLOCK_REALTIME), err, errlen) == 0;
	if (copied)
		free(mine);
	if (!ok) {
		release();
		return -1;
	}
	sched_rt.can_exit = sched_python_thread_can_exit();
	take_up();
	if (start_threads(err, errlen) < 0)
		return -1;
	sched_rt.started = 1;
	sched_log("worker %d (pid %d): scheduler thread started, %zu job%s, up to %d executor thread%s", uwsgi.mywid,
			(int) getpid(), nmine, nmine == 1 ? "" : "s", sched_rt.nexec, sched_rt.nexec == 1 ? "" : "s");
	return 0;
}

/* One line per job that did anything in this worker, when it stops. */
static void log_counts(void) {
	if (sched_log_level() == SCHED_LOG_NONE)
		return;
	char line[SCHED_COUNTERS_SUMMARY_MAX];
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		if (sched_counters_summary(sched_cfg.jobs[i], line, sizeof(line)))
			sched_log("worker %d: job %s: %s", uwsgi.mywid, sched_cfg.jobs[i]->id, line);
}

/* Joins t unless it is still busy at the deadline (then it is left to the
 * process's exit). Returns 1 when joined. */
static int join_until(pthread_t t, const struct timespec *deadline) {
	if (pthread_clockjoin_np(t, NULL, CLOCK_MONOTONIC, deadline) == 0)
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
	if (!sched_rt.started)
		return;
	sched_rt.started = 0;
	sched_mainthread_abort();
	int gil_held = sched_python_gil_held();
	pthread_mutex_lock(&sched_rt.lock);
	sched_rt.stopping = 1;
	while (sched_rt.head) {
		struct pending *p = sched_rt.head;
		sched_rt.head = p->next;
		sched_rt.active[p->fire.job->index]--;
		sched_pending_free(p);
	}
	sched_rt.tail = NULL;
	pthread_cond_broadcast(&sched_rt.timer_cond);
	sched_wake_self();
	pthread_cond_broadcast(&sched_rt.work_cond);
	pthread_cond_broadcast(&sched_rt.spare_cond);
	pthread_cond_broadcast(&sched_rt.retry_cond);
	int running = sched_rt.running;
	pthread_mutex_unlock(&sched_rt.lock);

	int64_t budget = graceful && !gil_held ? sched_cfg.shutdown_timeout_us : 500000;
	struct timespec deadline = monotonic_in(budget);
	if (graceful && running && gil_held)
		sched_log("worker %d: exiting while holding the GIL: not waiting for %d running job(s)", uwsgi.mywid,
				running);
	else if (graceful && running)
		sched_log("worker %d: waiting up to %.1f s for %d running job(s)", uwsgi.mywid, budget / 1e6, running);
	pthread_mutex_lock(&sched_rt.lock);
	while (graceful && !gil_held && sched_rt.running &&
			pthread_cond_timedwait(&sched_rt.idle_cond, &sched_rt.lock, &deadline) != ETIMEDOUT)
		;
	int left = sched_rt.running;
	pthread_mutex_unlock(&sched_rt.lock);
	if (graceful && !gil_held && left)
		sched_log("worker %d: shutdown timeout exceeded, %d job(s) still running", uwsgi.mywid, left);

	/* idle threads exit at once; a busy one is left to the process exit,
	 * and its command with it */
	if (left && sched_commands_stop_mine())
		deadline = monotonic_in(300000);
	else if (left)
		deadline = monotonic_in(100000);
	join_until(sched_rt.timer, &deadline);
	sched_timeouts_stop(&deadline);
	for (int i = 0; i < sched_rt.nexec; i++)
		if (sched_rt.slots[i].state != SLOT_FREE)
			join_until(sched_rt.executors[i], &deadline);
	sched_notes_flush();
	log_counts();
	if (left)
		sched_log("worker %d: exiting with %d job(s) still running", uwsgi.mywid, left);
	else
		sched_log("worker %d: scheduler stopped", uwsgi.mywid);
}
