/* flags.c - pauses and runs asked for now, shared (see flags.h).
 *
 * A worker's timing thread looks at the asks of its jobs when it is woken
 * for a change (wake.c: an ask wakes every worker's at once). A worker
 * id's taken asks are kept here, not in the worker: the worker that
 * replaces a dead one takes what it left. */
#include <uwsgi.h>
#include <stdatomic.h>
#include "flags.h"
#include "wake.h"
#include "config.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

struct job_flags {
	_Atomic int paused;
	_Atomic uint64_t asked;   /* runs asked for, ever */
	_Atomic uint64_t taken;   /* scope=once: the asks a worker has taken */
	_Atomic int64_t asked_us; /* wall µs of the latest ask */
};

static struct {
	struct job_flags *jobs;    /* shared, by job index */
	_Atomic uint64_t *seen;    /* shared, [job][worker id]: the asks that worker has taken */
	_Atomic uint64_t *changes; /* shared */
	_Atomic uint64_t *asks;    /* shared: runs asked for, of every job, ever */
	int nworkers;
} fl;

void sched_flags_setup(void) {
	if (!sched_cfg.njobs)
		return;
	fl.nworkers = uwsgi.numproc > 0 ? uwsgi.numproc : 1;
	fl.jobs = sched_shared_zeroed(sizeof(struct job_flags) * sched_cfg.njobs);
	fl.seen = sched_shared_zeroed(sizeof(*fl.seen) * sched_cfg.njobs * (size_t) (fl.nworkers + 1));
	fl.changes = sched_shared_zeroed(sizeof(*fl.changes));
	fl.asks = sched_shared_zeroed(sizeof(*fl.asks));
	/* the pages stay untouched (zero) unless a job starts paused */
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		if (sched_cfg.jobs[i]->paused)
			atomic_store(&fl.jobs[i].paused, 1);
}

int sched_flags_paused(const struct usch_job *job) {
	return fl.jobs ? atomic_load(&fl.jobs[job->index].paused) : job->paused;
}

int sched_flags_set_paused(const struct usch_job *job, int paused) {
	if (!fl.jobs)
		return job->paused;
	int was = atomic_exchange(&fl.jobs[job->index].paused, paused);
	if (was != paused)
		atomic_fetch_add(fl.changes, 1);
	return was;
}

uint64_t sched_flags_changes(void) {
	return fl.changes ? atomic_load(fl.changes) : 0;
}

void sched_flags_ask_run(const struct usch_job *job, int64_t at_us) {
	if (!fl.jobs)
		return;
	struct job_flags *f = &fl.jobs[job->index];
	atomic_store(&f->asked_us, at_us);
	atomic_fetch_add(&f->asked, 1);
	atomic_fetch_add(fl.asks, 1);
	sched_wake_all();
}

int sched_flags_take_run(const struct usch_job *job, int64_t *asked_us) {
	/* no run asked for yet anywhere (the timing thread looks at every job
	 * when it starts): the records are not read, and their pages stay out
	 * of this worker's memory */
	if (!fl.jobs || uwsgi.mywid < 1 || uwsgi.mywid > fl.nworkers || !atomic_load(fl.asks))
		return 0;
	struct job_flags *f = &fl.jobs[job->index];
	uint64_t asked = atomic_load(&f->asked);
	_Atomic uint64_t *taken = usch_job_claimed(job)
			? &f->taken
			: &fl.seen[job->index * (size_t) (fl.nworkers + 1) + (size_t) uwsgi.mywid];
	uint64_t had = atomic_load(taken);
	do {
		if (had >= asked)
			return 0;
	} while (!atomic_compare_exchange_weak(taken, &had, asked));
	*asked_us = atomic_load(&f->asked_us);
	return 1;
}
