/* attempts.h - every attempt at one fire, and what its outcome leads to
 * (attempts.c): retries, hooks, the uWSGI alarm. */
#ifndef SCHED_ATTEMPTS_H
#define SCHED_ATTEMPTS_H

#include "runtime_state.h"

/* Runs fire f (how: why) on this executor (slot), retrying a failure as
 * its job's retries= says, then runs its hook; sched_rt.lock held
 * (released while it runs and waits). */
void sched_attempts_run(const struct usch_fire *f, enum sched_how how, struct slot *slot);

/* Master, before fork: scheduler-alarm names an alarm of this instance. */
void sched_attempts_check_alarm(void);

#endif
