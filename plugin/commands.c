/* commands.c - no exec: command outlives its worker (see commands.h).
 *
 * A command runs in a process group of its own (dispatch.c), so that its
 * timeout can kill all of it. A worker that dies (kill -9, harakiri, a
 * reload past its mercy) or leaves past its shutdown timeout would leave
 * that group running, reparented to init: nothing would stop it, and the
 * job's next run (in the respawned worker, or in another for a once-job)
 * would run next to it. So each executor notes its command's group in
 * memory the master shares, and the master stops the groups whose worker
 * is gone: SIGTERM first, as init systems do, SIGKILL 2 s later.
 *
 * A group id is not given to a new process while any process of the group
 * lives, so a group found alive is still the command's. Left open: a
 * worker killed between the spawn and the note leaves its command
 * unnoted. */
#include <uwsgi.h>
#include <stdatomic.h>
#include <dirent.h>
#include "commands.h"
#include "config.h"
#include "log.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

#define TERM_GRACE_US 2000000

/* pgid 0: free. The other fields are written before pgid is set;
 * term_at (monotonic µs, one clock for every process) is when the group
 * was sent SIGTERM, 0: not yet, -1: SIGKILL sent too. */
struct command_note {
	_Atomic int pgid;
	int worker_pid;
	int wid;
	int job;
	_Atomic int64_t term_at;
};

static struct {
	struct command_note *notes; /* [worker id][slot]; NULL: no command job */
	int nworkers, per_worker;
} cm;

/* Only this worker's executors take its notes: this keeps two of them
 * off the same free one. */
static pthread_mutex_t take_lock = PTHREAD_MUTEX_INITIALIZER;

void sched_commands_setup(void) {
	int any = 0;
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		any |= sched_cfg.jobs[i]->kind == USCH_TARGET_EXEC;
	if (!any)
		return;
	cm.nworkers = uwsgi.numproc > 0 ? uwsgi.numproc : 1;
	/* twice the executors: a respawned worker's commands start while its
	 * predecessor's may still be on their way out */
	cm.per_worker = 2 * sched_cfg.threads;
	cm.notes = sched_shared_zeroed(
			sizeof(struct command_note) * (size_t) (cm.nworkers + 1) * (size_t) cm.per_worker);
}

int sched_commands_started(const struct usch_job *job, pid_t pgid) {
	if (!cm.notes || uwsgi.mywid < 1 || uwsgi.mywid > cm.nworkers)
		return -1;
	int first = uwsgi.mywid * cm.per_worker, found = -1;
	pthread_mutex_lock(&take_lock);
	for (int i = first; i < first + cm.per_worker && found < 0; i++) {
		struct command_note *n = &cm.notes[i];
		if (atomic_load(&n->pgid))
			continue;
		n->worker_pid = (int) uwsgi.mypid;
		n->wid = uwsgi.mywid;
		n->job = (int) job->index;
		atomic_store(&n->term_at, 0);
		atomic_store(&n->pgid, (int) pgid);
		found = i;
	}
	pthread_mutex_unlock(&take_lock);
	return found;
}

void sched_commands_ended(int note) {
	if (note >= 0)
		atomic_store(&cm.notes[note].pgid, 0);
}

/* Whether a process of group pgid lives: zombies do not count (an init
 * that does not reap would keep them forever). */
static int group_alive(int pgid) {
	if (kill(-pgid, 0) < 0 && errno == ESRCH)
		return 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 1;
	int alive = 0;
	struct dirent *e;
	while (!alive && (e = readdir(d))) {
		int pid = atoi(e->d_name);
		char state;
		int pgrp;
		if (pid > 0 && sched_proc_stat(pid, &state, &pgrp) == 0 && pgrp == pgid)
			alive = state != 'Z' && state != 'X';
	}
	closedir(d);
	return alive;
}

static const char *job_id(const struct command_note *n) {
	return n->job >= 0 && (size_t) n->job < sched_cfg.njobs ? sched_cfg.jobs[n->job]->id : "?";
}

static int nnotes(void) {
	return (cm.nworkers + 1) * cm.per_worker;
}

static void send_term(struct command_note *n, int pgid, int64_t now, const char *why) {
	sched_log("job %s: stopping its command (process group %d) with SIGTERM: %s", job_id(n), pgid, why);
	kill(-pgid, SIGTERM);
	atomic_store(&n->term_at, now);
}

/* SIGKILL for a group that outlived its SIGTERM; once, whoever comes
 * first (the master's sweep, or the worker that waits for it). */
static void kill_after_term(struct command_note *n, int pgid, int64_t term_at, int64_t now) {
	if (!atomic_compare_exchange_strong(&n->term_at, &term_at, -1))
		return;
	sched_log("job %s: its command (process group %d) outlived SIGTERM by %.0f s: SIGKILL", job_id(n), pgid,
			(now - term_at) / 1e6);
	kill(-pgid, SIGKILL);
}

/* One step of stopping a noted group: SIGTERM, SIGKILL once grace_us has
 * passed, the note freed once the group is gone. why says whose it was. */
static void stop_step(struct command_note *n, int64_t now, int64_t grace_us, const char *why) {
	int pgid = atomic_load(&n->pgid);
	if (!pgid)
		return;
	if (!group_alive(pgid)) {
		atomic_compare_exchange_strong(&n->pgid, &pgid, 0);
		return;
	}
	int64_t term_at = atomic_load(&n->term_at);
	if (!term_at) {
		send_term(n, pgid, now, why);
	}
	else if (term_at > 0 && now - term_at >= grace_us) {
		kill_after_term(n, pgid, term_at, now);
	}
}

void sched_commands_check(int note) {
	if (note < 0)
		return;
	struct command_note *n = &cm.notes[note];
	int64_t term_at = atomic_load(&n->term_at), now = sched_clock_us(CLOCK_MONOTONIC);
	if (term_at > 0 && now - term_at >= TERM_GRACE_US)
		kill_after_term(n, atomic_load(&n->pgid), term_at, now);
}

int sched_commands_replace(const struct usch_job *job, int only_pid) {
	if (!cm.notes)
		return 0;
	int stopped = 0;
	int64_t now = sched_clock_us(CLOCK_MONOTONIC);
	for (int i = 0; i < nnotes(); i++) {
		struct command_note *n = &cm.notes[i];
		int pgid = atomic_load(&n->pgid);
		if (!pgid || n->job != (int) job->index || (only_pid && n->worker_pid != only_pid) ||
				atomic_load(&n->term_at))
			continue;
		send_term(n, pgid, now, "the job's next run replaces it (overlap=replace)");
		stopped++;
	}
	return stopped;
}

void sched_commands_sweep(void) {
	if (!cm.notes)
		return;
	int64_t now = sched_clock_us(CLOCK_MONOTONIC);
	for (int i = 0; i < nnotes(); i++) {
		struct command_note *n = &cm.notes[i];
		if (!atomic_load(&n->pgid))
			continue;
		if (!atomic_load(&n->term_at) && !sched_pid_gone(n->worker_pid))
			continue;
		char why[96];
		snprintf(why, sizeof(why), "worker %d (pid %d) is gone", n->wid, n->worker_pid);
		stop_step(n, now, TERM_GRACE_US, why);
	}
}

void sched_commands_stop_all(void) {
	if (!cm.notes)
		return;
	/* the instance is going: 1 s of grace, then whatever is left goes */
	for (int round = 0; round < 30; round++) {
		int64_t now = sched_clock_us(CLOCK_MONOTONIC);
		int left = 0;
		for (int i = 0; i < nnotes(); i++) {
			stop_step(&cm.notes[i], now, 1000000, "the instance is stopping");
			left += atomic_load(&cm.notes[i].pgid) != 0;
		}
		if (!left)
			return;
		usleep(50000);
	}
}

int sched_commands_stop_mine(void) {
	if (!cm.notes || uwsgi.mywid < 1 || uwsgi.mywid > cm.nworkers)
		return 0;
	int stopped = 0, first = uwsgi.mywid * cm.per_worker;
	int64_t now = sched_clock_us(CLOCK_MONOTONIC);
	char why[64];
	snprintf(why, sizeof(why), "worker %d is leaving", uwsgi.mywid);
	for (int i = first; i < first + cm.per_worker; i++) {
		struct command_note *n = &cm.notes[i];
		int pgid = atomic_load(&n->pgid);
		if (!pgid || n->worker_pid != (int) uwsgi.mypid || atomic_load(&n->term_at))
			continue;
		send_term(n, pgid, now, why);
		stopped++;
	}
	return stopped;
}
