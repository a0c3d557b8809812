/* notes.c - what the scheduler has to say while it holds its lock:
 * misfires, skips, overruns, interrupted runs, clock steps. Noted under
 * the lock, logged once it is released (see runtime_state.h). */
#include <uwsgi.h>
#include "notes.h"
#include "runtime_state.h"
#include "claims.h"
#include "counters.h"
#include "legion.h"
#include "log.h"
#include "core/timefmt.h"
#include "core/decl.h"

extern struct uwsgi_server uwsgi;

/* sched_rt.lock held. */
void sched_note_pid(const struct usch_job *job, enum note_kind kind, int64_t value, int pid) {
	if (sched_rt.nnotes == MAX_NOTES) {
		sched_rt.notes_lost++;
		return;
	}
	sched_rt.notes[sched_rt.nnotes++] = (struct note){ .job = job, .kind = kind, .value = value, .pid = pid };
}

void sched_note(const struct usch_job *job, enum note_kind kind, int64_t value) {
	sched_note_pid(job, kind, value, 0);
}

static void log_note(const struct note *n) {
	const struct usch_job *job = n->job;
	char dur[32], when[USCH_RFC3339_MAX];
	switch (n->kind) {
	case NOTE_MISFIRE:
		sched_log_event(job, "misfire, %.1f ms late is past misfire-grace (worker %d)", n->value / 1e3,
				uwsgi.mywid);
		return;
	case NOTE_SKIP:
		if (job->overlap != USCH_OVERLAP_SKIP)
			sched_log_event(job,
					"skipped, a fire waits already for a place (overlap=%s, max-running=%d, worker %d)",
					usch_key_value_name("overlap", (int) job->overlap), job->max_running,
					uwsgi.mywid);
		else
			sched_log_event(job, "skipped, %lld run%s still going (max-running=%d, worker %d)",
					(long long) n->value, n->value == 1 ? "" : "s", job->max_running, uwsgi.mywid);
		return;
	case NOTE_OVERRUN:
		usch_duration_format(job->timeout_us, dur, sizeof(dur));
		sched_log("job %s: overrunning, still running after its timeout of %s (worker %d)", job->id, dur,
				uwsgi.mywid);
		return;
	case NOTE_TIMEOUT:
		sched_log("job %s: TimeoutError raised in the run (worker %d)", job->id, uwsgi.mywid);
		return;
	case NOTE_REPLACE_RAISED:
		sched_log("job %s: InterruptedError raised in the run the next one replaces (overlap=replace, worker %d)",
				job->id, uwsgi.mywid);
		return;
	case NOTE_HUNG:
		sched_log("job %s: hung, still running %.0f s after its %s (code outside Python bytecode: a "
			  "C call, a blocking read, time.sleep); the other jobs go on (worker %d)",
				job->id, n->value / 1e6, n->pid ? "InterruptedError" : "TimeoutError", uwsgi.mywid);
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
	case NOTE_BEFORE_LORD:
		usch_rfc3339_format(n->value, job->tz, when, sizeof(when));
		sched_log_event(job,
				"occurrence %s came due before this instance became lord of legion %s: left to "
				"the previous lord (worker %d)",
				when, sched_legion_name(job), uwsgi.mywid);
		return;
	case NOTE_MASTER_GONE:
		sched_log("worker %d (pid %d): the master (pid %d) is gone: cluster jobs no longer run here (the "
			  "lordship is the master's to know)",
				uwsgi.mywid, (int) getpid(), uwsgi.workers[0].pid);
		return;
	}
}

/* Logs what was noted (and the interrupted runs claims took back).
 * Called without sched_rt.lock. */
void sched_notes_flush(void) {
	struct note notes[MAX_NOTES];
	struct sched_claims_report reports[SCHED_CLAIMS_MAX_REPORTS];
	pthread_mutex_lock(&sched_rt.lock);
	int nreports = sched_claims_reports(reports);
	int n = sched_rt.nnotes;
	uint64_t lost = sched_rt.notes_lost;
	memcpy(notes, sched_rt.notes, sizeof(notes[0]) * (size_t) n);
	sched_rt.nnotes = 0;
	sched_rt.notes_lost = 0;
	pthread_mutex_unlock(&sched_rt.lock);
	for (int i = 0; i < n; i++)
		log_note(&notes[i]);
	sched_claims_log_reports(reports, nreports);
	if (lost)
		sched_log("worker %d: %llu more skip/misfire lines not logged (counted in the totals)", uwsgi.mywid,
				(unsigned long long) lost);
}

/* With sched_rt.lock held: logs what waits, if anything, with the lock
 * released meanwhile. Returns 1 when it did (time has passed). */
int sched_notes_flush_pending(void) {
	if (!sched_rt.nnotes && !sched_rt.notes_lost && !sched_claims_pending_reports())
		return 0;
	pthread_mutex_unlock(&sched_rt.lock);
	sched_notes_flush();
	pthread_mutex_lock(&sched_rt.lock);
	return 1;
}

void sched_note_misfire(const struct usch_fire *fire, int64_t now_wall) {
	sched_counters_misfired(fire->job);
	sched_note(fire->job, NOTE_MISFIRE, now_wall - fire->scheduled_us);
}
