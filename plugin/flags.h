/* flags.h - what an operator sets on a job while the instance runs
 * (flags.c): whether it is paused, and the runs asked for now
 * (scheduler.run), in memory the master shares with every worker before
 * fork. So a pause holds on every worker at once and outlives worker
 * respawns and chain reloads; the state file (state.c) carries it over
 * reloads that re-execute the master and restarts. */
#ifndef SCHED_FLAGS_H
#define SCHED_FLAGS_H

#include <stdint.h>
#include "core/job.h"

/* Master, before fork: a job starts paused when declared paused=true. */
void sched_flags_setup(void);

int sched_flags_paused(const struct usch_job *job);
/* Returns what it was before. */
int sched_flags_set_paused(const struct usch_job *job, int paused);
/* Grows with every change of a pause: the master writes the state file
 * when it moved. */
uint64_t sched_flags_changes(void);

/* scheduler.run: a run of job asked for at at_us (wall µs). */
void sched_flags_ask_run(const struct usch_job *job, int64_t at_us);
/* Whether this worker takes a run asked for job, with the instant of the
 * latest ask. A once-job's asks are taken by one worker; the others' by
 * each worker that runs the job. Asks made before a worker looks are one
 * run. */
int sched_flags_take_run(const struct usch_job *job, int64_t *asked_us);

#endif
