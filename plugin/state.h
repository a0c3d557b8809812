/* state.h - the state file, scheduler-state = PATH (state.c): each job's
 * last run, kept across restarts of the whole instance, so that a job can
 * catch up on what it missed and a scope=once job never repeats an
 * occurrence. The master is its only reader and writer. */
#ifndef SCHED_STATE_H
#define SCHED_STATE_H

#include <jansson.h>
#include "core/job.h"

/* Master, before fork, after sched_runs_setup and sched_claims_setup:
 * reads the file and seeds the last runs and claims from it (moving the
 * anchors that continue from a remembered run). A symbolic link, a file
 * that cannot be read or a directory that cannot be written stops uWSGI
 * with a message; a corrupt file is kept aside and the instance starts
 * fresh. `readonly` (the dry run) changes nothing on disk. */
void sched_state_load(int readonly);

/* Master: writes the file when a run was recorded since the last write
 * (at most once a second unless `now`). A failure is logged and retried. */
void sched_state_write(int now);

/* What the file said about job when it was read (borrowed, NULL when
 * nothing or another schedule): the dry run lists it. */
json_t *sched_state_of(const struct usch_job *job);

#endif
