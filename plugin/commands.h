/* commands.h - the process groups of running exec: commands (commands.c),
 * noted in memory the master shares before fork, so that no command
 * outlives its worker. */
#ifndef SCHED_COMMANDS_H
#define SCHED_COMMANDS_H

#include <sys/types.h>
#include "core/job.h"

/* Master, before fork (nothing when no job runs a command). */
void sched_commands_setup(void);

/* An executor of this worker started job's command as process group
 * pgid: returns the note to give back to ended(), or -1 when every note
 * of this worker is taken (the command then goes unnoted). */
int sched_commands_started(const struct usch_job *job, pid_t pgid);
void sched_commands_ended(int note);
/* While the command of note runs: SIGKILL it when it has outlived a
 * SIGTERM by 2 s (a replace or a stop asked for it), so it ends even
 * without a master's sweep. */
void sched_commands_check(int note);

/* overlap=replace: SIGTERM the running commands of job (of the worker
 * only_pid, or 0: of every worker), SIGKILL 2 s later; returns how many. */
int sched_commands_replace(const struct usch_job *job, int only_pid);

/* Master, every cycle: SIGTERM the groups whose worker is gone, SIGKILL
 * those still there 2 s later. */
void sched_commands_sweep(void);
/* Master, on its way out: every group still noted, SIGTERM, then SIGKILL
 * what is left after 1 s. */
void sched_commands_stop_all(void);
/* A worker leaving with runs still going: SIGTERM its own groups (the
 * master's sweep kills what survives). Returns how many. */
int sched_commands_stop_mine(void);

#endif
