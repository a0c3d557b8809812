/* legion.h - scope=cluster (legion.c): whether this instance is, for the
 * scheduler, the lord of a job's uWSGI Legion. Asked by a worker each
 * time it claims an occurrence, by scheduler.list and by the metrics;
 * the master says when the lordship comes and goes. */
#ifndef SCHED_LEGION_H
#define SCHED_LEGION_H

#include <stdint.h>
#include "core/job.h"

enum sched_lordship {
	SCHED_LORD,        /* the occurrence is this instance's to claim */
	SCHED_NOT_LORD,    /* another instance is lord, or none is */
	SCHED_BEFORE_LORD, /* lord, but the occurrence came due before the lordship did: the previous lord's */
	SCHED_MASTER_GONE, /* this worker's master died: nothing here knows who is lord any more */
};

/* Master, before fork: each scope=cluster job's Legion (legion=, else
 * scheduler-legion), and the memory the master shares with the workers
 * about it. A job without one, or naming one this instance is not a
 * member of, stops startup. */
void sched_legion_setup(void);

/* Worker, when it claims occurrence (wall µs) of a scope=cluster job:
 * whether the occurrence is this instance's. *from is the first
 * occurrence the current lordship covers (with SCHED_LORD and
 * SCHED_BEFORE_LORD). */
enum sched_lordship sched_legion_claim(const struct usch_job *job, int64_t occurrence, int64_t *from);

/* Whether this instance is lord of job's Legion now, for the scheduler
 * (master or worker); 0 for a job that is not scope=cluster. */
int sched_legion_is_lord(const struct usch_job *job);

/* The name of job's Legion, NULL for a job that is not scope=cluster. */
const char *sched_legion_name(const struct usch_job *job);

/* Master, each cycle of its loop: the lordship of each Legion the jobs
 * use is logged when it comes and goes, and whether this instance still
 * sees legion-quorum members. */
void sched_legion_cycle(void);

#endif
