/* claims.c - scope=once across the workers (see claims.h), and the
 * claims of scope=cluster jobs in the instance that is lord (legion.c).
 *
 * Every worker schedules a once-job; the one whose executor is free first
 * when an occurrence is due wins a compare-and-swap on the job's last
 * claimed occurrence and runs it; the others find it taken and drop it.
 * So a busy worker leaves the occurrence to a free one, and a killed one
 * loses nothing that is not yet claimed. Occurrences are instants on the
 * trigger's timeline, which every worker computes alike (see
 * core/sched.h).
 *
 * The memory is the master's (shared, made before fork), so it
 * lasts while the master does: kills, harakiri, max-requests, cheaper and
 * chain reloads keep it; a reload that re-executes the master starts
 * afresh. Each executor of each worker also notes the run it has claimed:
 * when its worker dies, the master (or the worker that replaces it) finds
 * the note, reports the occurrence as interrupted and frees its place in
 * max-running, which counts runs across the instance. At most once: an
 * interrupted occurrence is not run again. */
#include <uwsgi.h>
#include <stdatomic.h>
#include "claims.h"
#include "wake.h"
#include "config.h"
#include "counters.h"
#include "legion.h"
#include "log.h"
#include "common.h"
#include "core/sched.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

struct job_claim {
	_Atomic int64_t last; /* the last occurrence claimed, INT64_MIN: none */
	_Atomic int running;  /* claimed runs going on, in every worker */
	/* interrupted=rerun: an interrupted occurrence waiting for a worker to
	 * run it again (rerun INT64_MIN: none; rerun_us written before it) */
	_Atomic int64_t rerun;
	_Atomic int64_t rerun_us;
	_Atomic int waiter; /* overlap=queue|replace: the pid whose executor waits for a place, 0: none */
};

/* The run an executor has claimed; pid 0 when none. The other fields are
 * written before pid is set, and read only by whoever takes pid back. */
struct run_note {
	_Atomic int pid;
	int job;
	int64_t occurrence, scheduled_us;
	_Atomic int replace; /* overlap=replace: 1 asked to stop for the next run, 2 and the ask taken */
};

static struct {
	struct job_claim *jobs; /* by job index; NULL: no once-job */
	struct run_note *runs;  /* [worker id][executor] */
	int nworkers;           /* worker ids 1..nworkers */
	int nexec;
	struct sched_claims_report reports[SCHED_CLAIMS_MAX_REPORTS];
	int nreports;
} cl;

void sched_claims_setup(void) {
	int any = 0;
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		any |= usch_job_claimed(sched_cfg.jobs[i]);
	if (!any)
		return;
	cl.nworkers = uwsgi.numproc > 0 ? uwsgi.numproc : 1;
	cl.nexec = sched_cfg.threads;
	cl.jobs = sched_shared_zeroed(sizeof(struct job_claim) * sched_cfg.njobs);
	cl.runs = sched_shared_zeroed(sizeof(struct run_note) * (size_t) (cl.nworkers + 1) * (size_t) cl.nexec);
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		atomic_store(&cl.jobs[i].last, INT64_MIN);
		atomic_store(&cl.jobs[i].rerun, INT64_MIN);
	}
}

void sched_claims_seed(const struct usch_job *job, int64_t last) {
	if (cl.jobs && usch_job_claimed(job))
		atomic_store(&cl.jobs[job->index].last, last);
}

void sched_claims_pass(const struct usch_job *job, int64_t occurrence) {
	if (!cl.jobs || !usch_job_claimed(job))
		return;
	struct job_claim *c = &cl.jobs[job->index];
	int64_t seen = atomic_load(&c->last);
	while (seen < occurrence && !atomic_compare_exchange_weak(&c->last, &seen, occurrence))
		;
}

void sched_claims_rerun_put(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us) {
	/* a run asked for now is not asked for again */
	if (!cl.jobs || !usch_job_claimed(job) || job->interrupted != USCH_INTERRUPTED_RERUN ||
			occurrence == SCHED_OCCURRENCE_MANUAL)
		return;
	struct job_claim *c = &cl.jobs[job->index];
	atomic_store(&c->rerun_us, scheduled_us);
	atomic_store(&c->rerun, occurrence);
	sched_wake_all();
}

int sched_claims_rerun_take(const struct usch_job *job, int64_t *occurrence, int64_t *scheduled_us) {
	if (!cl.jobs || !usch_job_claimed(job))
		return 0;
	struct job_claim *c = &cl.jobs[job->index];
	int64_t occ = atomic_load(&c->rerun);
	if (occ == INT64_MIN)
		return 0;
	*scheduled_us = atomic_load(&c->rerun_us);
	if (!atomic_compare_exchange_strong(&c->rerun, &occ, INT64_MIN))
		return 0;
	*occurrence = occ;
	return 1;
}

static struct run_note *note_of(int wid, int slot) {
	if (!cl.runs || wid < 1 || wid > cl.nworkers || slot < 0 || slot >= cl.nexec)
		return NULL;
	return &cl.runs[(size_t) wid * (size_t) cl.nexec + (size_t) slot];
}

static void log_interrupted(const struct sched_claims_report *r) {
	sched_log_interrupted(sched_cfg.jobs[r->job], r->scheduled_us, r->wid, r->pid, 0);
}

/* The run noted for pid is over without it: whoever takes the note back
 * first reports it, at once or (defer) when the runtime takes the reports
 * (sched_claims_reports).
 * Returns 1 when it was this caller. */
static int interrupted(int wid, struct run_note *n, int pid, int defer) {
	/* the note is free for the next run once pid is 0 */
	struct sched_claims_report r = {
		.wid = wid, .pid = pid, .job = n->job, .scheduled_us = n->scheduled_us, .occurrence = n->occurrence
	};
	int expected = pid;
	if (!atomic_compare_exchange_strong(&n->pid, &expected, 0))
		return 0;
	atomic_fetch_sub(&cl.jobs[r.job].running, 1);
	sched_counters_interrupted(sched_cfg.jobs[r.job], 1);
	/* the rerun is put up once the interruption is logged: another
	 * worker's timing thread is woken by it at once, and its run must
	 * not come before the line that says why */
	if (!defer)
		sched_claims_log_reports(&r, 1);
	else if (cl.nreports < SCHED_CLAIMS_MAX_REPORTS)
		cl.reports[cl.nreports++] = r;
	else
		sched_claims_rerun_put(sched_cfg.jobs[r.job], r.occurrence, r.scheduled_us); /* unsaid, as before */
	return 1;
}

int sched_claims_pending_reports(void) {
	return cl.nreports;
}

int sched_claims_reports(struct sched_claims_report *out) {
	int n = cl.nreports;
	memcpy(out, cl.reports, sizeof(out[0]) * (size_t) n);
	cl.nreports = 0;
	return n;
}

void sched_claims_log_reports(const struct sched_claims_report *r, int n) {
	for (int i = 0; i < n; i++) {
		log_interrupted(&r[i]);
		sched_claims_rerun_put(sched_cfg.jobs[r[i].job], r[i].occurrence, r[i].scheduled_us);
	}
}

/* A once-job at max-running: the runs of workers that died since (their
 * master has yet to notice) do not count. Returns how many it took back. */
static int take_back_dead_runs(const struct usch_job *job) {
	int taken = 0;
	for (int w = 1; w <= cl.nworkers; w++) {
		for (int s = 0; s < cl.nexec; s++) {
			struct run_note *n = note_of(w, s);
			int pid = atomic_load(&n->pid);
			if (pid && n->job == (int) job->index && pid != (int) uwsgi.mypid && sched_pid_gone(pid))
				taken += interrupted(w, n, pid, 1);
		}
	}
	return taken;
}

void sched_claims_worker_start(void) {
	int me = (int) uwsgi.mypid;
	for (int s = 0; s < cl.nexec; s++) {
		struct run_note *n = note_of(uwsgi.mywid, s);
		int pid = n ? atomic_load(&n->pid) : 0;
		if (pid && pid != me)
			interrupted(uwsgi.mywid, n, pid, 0);
	}
}

int64_t sched_claims_last(const struct usch_job *job) {
	if (!cl.jobs || !usch_job_claimed(job))
		return INT64_MIN;
	int64_t last = atomic_load(&cl.jobs[job->index].last);
	return last == USCH_OCCURRENCE_START ? INT64_MIN : last;
}

/* A place in max-running across the instance, and the note of the run
 * on this executor. */
static enum sched_claim start_run(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us, int slot) {
	struct job_claim *c = &cl.jobs[job->index];
	if (atomic_fetch_add(&c->running, 1) >= job->max_running) {
		atomic_fetch_sub(&c->running, 1);
		if (!take_back_dead_runs(job))
			return SCHED_CLAIM_BUSY;
		if (atomic_fetch_add(&c->running, 1) >= job->max_running) {
			atomic_fetch_sub(&c->running, 1);
			return SCHED_CLAIM_BUSY;
		}
	}
	struct run_note *n = note_of(uwsgi.mywid, slot);
	if (n) {
		n->job = (int) job->index;
		n->occurrence = occurrence;
		n->scheduled_us = scheduled_us;
		atomic_store(&n->replace, 0);
		atomic_store(&n->pid, (int) uwsgi.mypid);
	}
	return SCHED_CLAIM_WON;
}

/* scope=cluster: an occurrence is only the lord's, and only if it came
 * due after the lordship did (*from: the first that did). */
static enum sched_claim lordship(const struct usch_job *job, int64_t occurrence, int64_t *from) {
	*from = INT64_MIN;
	if (job->scope != USCH_SCOPE_CLUSTER)
		return SCHED_CLAIM_WON;
	switch (sched_legion_claim(job, occurrence, from)) {
	case SCHED_LORD:
		return SCHED_CLAIM_WON;
	case SCHED_BEFORE_LORD:
		return SCHED_CLAIM_BEFORE_LORD;
	case SCHED_MASTER_GONE:
		return SCHED_CLAIM_MASTER_GONE;
	default:
		return SCHED_CLAIM_NOT_LORD;
	}
}

enum sched_claim sched_claims_take(const struct usch_job *job, int64_t occurrence, int64_t covers_to,
		int64_t scheduled_us, int slot, int64_t *after) {
	*after = INT64_MIN;
	if (!cl.jobs)
		return SCHED_CLAIM_WON;
	int64_t from;
	enum sched_claim lord = lordship(job, occurrence, &from);
	if (lord != SCHED_CLAIM_WON)
		return lord;
	struct job_claim *c = &cl.jobs[job->index];
	int64_t seen = atomic_load(&c->last);
	if (covers_to < occurrence)
		covers_to = occurrence;
	do {
		if (seen >= occurrence)
			return SCHED_CLAIM_TAKEN;
	} while (!atomic_compare_exchange_weak(&c->last, &seen, covers_to));
	/* the fires of a burst from before the lordship are the old lord's */
	*after = from != INT64_MIN && from - 1 > seen ? from - 1 : seen;
	return start_run(job, occurrence, scheduled_us, slot);
}

void sched_claims_running(const struct usch_job *job, int slot, int64_t occurrence, int64_t scheduled_us) {
	struct run_note *n = cl.jobs ? note_of(uwsgi.mywid, slot) : NULL;
	if (!n || atomic_load(&n->pid) != (int) uwsgi.mypid)
		return;
	n->occurrence = occurrence;
	n->scheduled_us = scheduled_us;
}

enum sched_claim sched_claims_take_again(
		const struct usch_job *job, int64_t occurrence, int64_t scheduled_us, int slot) {
	if (!cl.jobs)
		return SCHED_CLAIM_WON;
	/* a run asked for here runs here; a rerun only on the lord that ran it */
	int64_t from;
	enum sched_claim lord = occurrence == SCHED_OCCURRENCE_MANUAL ? SCHED_CLAIM_WON
								      : lordship(job, occurrence, &from);
	if (lord != SCHED_CLAIM_WON)
		return lord;
	enum sched_claim r = start_run(job, occurrence, scheduled_us, slot);
	if (r == SCHED_CLAIM_BUSY)
		sched_claims_rerun_put(job, occurrence, scheduled_us); /* for the next free executor */
	return r;
}

int sched_claims_wait_begin(const struct usch_job *job) {
	if (!cl.jobs)
		return 0;
	struct job_claim *c = &cl.jobs[job->index];
	int me = (int) uwsgi.mypid, seen = atomic_load(&c->waiter);
	/* a waiter whose worker died waits no more */
	if (seen && seen != me && !sched_pid_gone(seen))
		return 0;
	return atomic_compare_exchange_strong(&c->waiter, &seen, me);
}

void sched_claims_wait_end(const struct usch_job *job) {
	int me = (int) uwsgi.mypid;
	if (cl.jobs)
		atomic_compare_exchange_strong(&cl.jobs[job->index].waiter, &me, 0);
}

enum sched_claim sched_claims_turn(const struct usch_job *job, int64_t occurrence, int64_t scheduled_us, int slot) {
	return cl.jobs ? start_run(job, occurrence, scheduled_us, slot) : SCHED_CLAIM_WON;
}

int sched_claims_replace(const struct usch_job *job) {
	int asked = 0;
	for (int w = 1; cl.runs && w <= cl.nworkers; w++) {
		for (int s = 0; s < cl.nexec; s++) {
			struct run_note *n = note_of(w, s);
			int none = 0;
			if (atomic_load(&n->pid) && n->job == (int) job->index)
				asked += atomic_compare_exchange_strong(&n->replace, &none, 1);
		}
	}
	return asked;
}

static struct run_note *mine(int slot) {
	struct run_note *n = cl.runs ? note_of(uwsgi.mywid, slot) : NULL;
	return n && atomic_load(&n->pid) == (int) uwsgi.mypid ? n : NULL;
}

int sched_claims_replace_asked(int slot) {
	struct run_note *n = mine(slot);
	int asked = 1;
	return n && atomic_compare_exchange_strong(&n->replace, &asked, 2);
}

int sched_claims_replaced(int slot) {
	struct run_note *n = mine(slot);
	return n && atomic_load(&n->replace);
}

void sched_claims_done(const struct usch_job *job, int slot) {
	if (!cl.jobs)
		return;
	struct run_note *n = note_of(uwsgi.mywid, slot);
	int expected = (int) uwsgi.mypid;
	/* a note taken back by someone else was reported (and counted) there */
	if (n && !atomic_compare_exchange_strong(&n->pid, &expected, 0))
		return;
	atomic_fetch_sub(&cl.jobs[job->index].running, 1);
}

void sched_claims_check(void) {
	if (!cl.runs || !uwsgi.workers)
		return;
	for (int w = 1; w <= cl.nworkers; w++) {
		for (int s = 0; s < cl.nexec; s++) {
			struct run_note *n = note_of(w, s);
			int pid = atomic_load(&n->pid);
			/* the master forks and records workers' pids in this same thread */
			if (pid && uwsgi.workers[w].pid != pid)
				interrupted(w, n, pid, 0);
		}
	}
}
