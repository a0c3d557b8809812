/* attempts.c - every attempt at one fire, and what its outcome leads to
 * (see attempts.h): the run itself (run.c), its retries with backoff
 * (retries=, retry-delay=, retry-backoff=, retry-max-delay=), the hook
 * after the outcome (on-failure= after the last attempt, on-success=)
 * and the uWSGI alarm of scheduler-alarm on each failure and give-up.
 *
 * A retry waits in the executor that ran the attempt before it: it stays
 * in this worker (a once-job's claim with it), counts as the same run for
 * max-running, and is no new occurrence. A retry that would start after
 * the job's next fire here is dropped (the next fire is the better
 * attempt), and a stopping worker gives up waiting at once. A hook is run
 * once, in the same executor, never retried, and has no hook of its own. */
#include <uwsgi.h>
#include "attempts.h"
#include "run.h"
#include "overlap.h"
#include "claims.h"
#include "dispatch.h"
#include "wake.h"
#include "counters.h"
#include "config.h"
#include "log.h"
#include "common.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

void sched_attempts_check_alarm(void) {
	const char *name = sched_cfg.alarm;
	if (!name)
		return;
	if (!uwsgi.master_process)
		sched_fatal("scheduler-alarm \"%s\": uWSGI alarms need the master (master = true)", name);
	for (struct uwsgi_alarm_instance *a = uwsgi.alarm_instances; a; a = a->next)
		if (!strcmp(a->name, name))
			return;
	sched_fatal("scheduler-alarm \"%s\": no uWSGI alarm is named so (declare it: alarm = %s log:, or cmd:, "
		    "curl:, ...)",
			name, name);
}

/* uWSGI drops an alarm that repeats the one before within alarm-freq:
 * the scheduled instant and the attempt tell every failure apart. */
static void raise_alarm(const struct usch_fire *a, const char *what, const char *err) {
	if (!sched_cfg.alarm)
		return;
	const struct usch_job *job = a->job;
	char line[256], msg[640], when[USCH_RFC3339_MAX];
	sched_error_line(err, line, sizeof(line));
	usch_rfc3339_format(a->scheduled_us, job->tz, when, sizeof(when));
	int n = snprintf(msg, sizeof(msg), "[scheduler] job %s %s (worker %d, scheduled %s, attempt %d of %d): %s",
			job->id, what, uwsgi.mywid, when, a->attempt, job->retries + 1, line);
	if (n > 0)
		uwsgi_alarm_trigger(
				(char *) sched_cfg.alarm, msg, (size_t) n < sizeof(msg) ? (size_t) n : sizeof(msg) - 1);
}

/* Runs the job's hook for the outcome (err NULL: a success); unlocked. */
static void run_hook(const struct usch_fire *f, const char *err) {
	const struct usch_job *hook = err ? f->job->on_failure : f->job->on_success;
	if (!hook)
		return;
	struct usch_fire hf = *f;
	hf.job = hook;
	int64_t start = sched_clock_us(CLOCK_MONOTONIC);
	char *herr = sched_dispatch(&hf, err ? err : NULL);
	double ms = (sched_clock_us(CLOCK_MONOTONIC) - start) / 1e3;
	const char *key = err ? "on-failure" : "on-success";
	if (!herr) {
		sched_log_run(f->job, "%s %s%s: ok (%.1f ms)", key, usch_job_kind_prefix(hook), hook->target, ms);
		return;
	}
	sched_log("job %s: %s %s%s failed (%.1f ms; hooks are not retried):", f->job->id, key,
			usch_job_kind_prefix(hook), hook->target, ms);
	sched_log_block(f->job->id, herr);
	free(herr);
}

/* One attempt, unlocked; counted under the lock again. */
static char *attempt(const struct usch_fire *f, enum sched_how how, struct slot *slot, int64_t due_us) {
	const struct usch_job *job = f->job;
	slot->started_mono = sched_clock_us(CLOCK_MONOTONIC);
	slot->warned = 0;
	slot->attempt_seq++;
	slot->timeout_wanted = 0;
	slot->timeout_raised = 0;
	slot->hung_said = 0;
	/* the timing thread sets its next wake-up by this run's timeout */
	if (job->timeout_us > 0)
		sched_wake_self();
	pthread_mutex_unlock(&sched_rt.lock);
	char *err = sched_run_fire(f, how, due_us);
	if (err)
		raise_alarm(f, "failed", err);
	pthread_mutex_lock(&sched_rt.lock);
	return err;
}

/* Waits until monotonic instant at, the stop, or (overlap=replace) the
 * next run's ask to stop, which for a once-job comes from any worker
 * through shared memory: looked for every SCHED_CLAIMS_POLL_US. sched_rt.lock held.
 * Returns 0 when it is time, -1 when the worker is stopping or the run
 * is replaced. */
static int wait_until(int64_t at, const struct slot *slot) {
	int poll = slot->job->overlap == USCH_OVERLAP_REPLACE && usch_job_claimed(slot->job);
	int64_t now;
	while (!sched_rt.stopping && !sched_overlap_replaced(slot) && (now = sched_clock_us(CLOCK_MONOTONIC)) < at) {
		int64_t slice = SCHED_CLAIMS_POLL_US;
		struct timespec ts = sched_timespec_at(poll && at - now > slice ? now + slice : at);
		pthread_cond_timedwait(&sched_rt.retry_cond, &sched_rt.lock, &ts);
	}
	return sched_rt.stopping || sched_overlap_replaced(slot) ? -1 : 0;
}

/* A run that the next one replaced (overlap=replace) ends here: its
 * failure was asked for. */
static void stopped_for_next(const struct usch_fire *a) {
	pthread_mutex_unlock(&sched_rt.lock);
	sched_counters_replaced(a->job);
	sched_log_event(a->job, "stopped for the next run (overlap=replace): not retried, no hook (worker %d)",
			uwsgi.mywid);
	pthread_mutex_lock(&sched_rt.lock);
}

/* Whether to try again after the failed attempt a.attempt; sched_rt.lock
 * held, released to log. Sets *at (monotonic) and *due (wall) of the next
 * attempt. */
static int retry_due(const struct usch_fire *a, int64_t *at, int64_t *due) {
	const struct usch_job *job = a->job;
	int n = a->attempt, total = job->retries + 1;
	int64_t delay = usch_job_retry_delay(job, n), now = sched_clock_us(CLOCK_MONOTONIC);
	int64_t next = usch_sched_next_due(&sched_rt.sched, job);
	*at = now + delay;
	*due = sched_clock_us(CLOCK_REALTIME) + delay;
	char dur[32];
	usch_duration_format(delay, dur, sizeof(dur));
	pthread_mutex_unlock(&sched_rt.lock);
	int go = *at < next;
	if (go)
		sched_log_event(job, "attempt %d of %d failed: retrying in %s (worker %d)", n, total, dur, uwsgi.mywid);
	else
		sched_log_event(job,
				"attempt %d of %d failed: retry dropped, it would start in %s, after the next fire "
				"(in %.1f s) (worker %d)",
				n, total, dur, (next - now) / 1e6, uwsgi.mywid);
	pthread_mutex_lock(&sched_rt.lock);
	return go;
}

static void give_up(const struct usch_fire *a, const char *err) {
	const struct usch_job *job = a->job;
	pthread_mutex_unlock(&sched_rt.lock);
	if (job->retries) {
		sched_counters_gave_up(job);
		char line[256];
		sched_error_line(err, line, sizeof(line));
		sched_log_event(job, "gave up after %d attempt%s (worker %d): %s", a->attempt,
				a->attempt == 1 ? "" : "s", uwsgi.mywid, line);
		raise_alarm(a, "gave up", err);
	}
	run_hook(a, err);
	pthread_mutex_lock(&sched_rt.lock);
}

void sched_attempts_run(const struct usch_fire *f, enum sched_how how, struct slot *slot) {
	const struct usch_job *job = f->job;
	struct usch_fire a = *f;
	a.attempt = 1;
	int64_t due = 0;
	for (;;) {
		char *err = attempt(&a, how, slot, due);
		if (!err) {
			pthread_mutex_unlock(&sched_rt.lock);
			run_hook(&a, NULL);
			pthread_mutex_lock(&sched_rt.lock);
			return;
		}
		int64_t at;
		if (sched_overlap_replaced(slot)) {
			stopped_for_next(&a);
			free(err);
			return;
		}
		if (a.attempt > job->retries || sched_rt.stopping || !retry_due(&a, &at, &due)) {
			give_up(&a, err);
			free(err);
			return;
		}
		free(err);
		if (wait_until(at, slot) < 0) {
			if (!sched_rt.stopping) {
				stopped_for_next(&a);
				return;
			}
			pthread_mutex_unlock(&sched_rt.lock);
			sched_log_event(job, "attempt %d of %d not run: worker %d is stopping", a.attempt + 1,
					job->retries + 1, uwsgi.mywid);
			pthread_mutex_lock(&sched_rt.lock);
			return;
		}
		a.attempt++;
		sched_counters_retried(job);
	}
}
