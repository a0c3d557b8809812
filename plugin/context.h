/* context.h - the run's context (context.c): what a fire tells the code it
 * runs, as a Python job's context= dict and as an exec: command's
 * SCHEDULER_* environment variables. */
#ifndef SCHED_CONTEXT_H
#define SCHED_CONTEXT_H

#include <stdint.h>
#include "core/sched.h"
#include "core/timefmt.h"

struct sched_context {
	const char *job;                  /* the job's id */
	char scheduled[USCH_RFC3339_MAX]; /* the scheduled instant, RFC 3339 in the job's zone */
	int64_t scheduled_us;             /* the same, wall µs */
	int worker;                       /* uwsgi.mywid */
	int catch_up;                     /* fire->catch_up */
	int attempt;                      /* 1: the first attempt; retries count up */
	const char *error;                /* a hook's: what the failed run said; NULL otherwise */
	int hook;                         /* a hook's context (error is then given, NULL after a success) */
};

/* The context of a fire, in this worker; a hook's is its job's run's,
 * with error (NULL after a success). */
void sched_context_of(const struct usch_fire *fire, const char *error, struct sched_context *ctx);

/* The environment of an exec: command, for posix_spawn (the worker's own
 * is never changed): the worker's (environ), or with scheduler-exec-env =
 * clean cron's (HOME, LOGNAME, USER, SHELL, PATH), with ctx's SCHEDULER_JOB,
 * SCHEDULER_SCHEDULED, SCHEDULER_SCHEDULED_TS, SCHEDULER_WORKER,
 * SCHEDULER_CATCH_UP (true/false), SCHEDULER_ATTEMPT (and for a hook
 * SCHEDULER_ERROR, empty after a success) in place of any
 * of those names it has. One malloc'd block (free() it), or NULL when out
 * of memory. The worker's strings are borrowed: use it at once. */
char **sched_context_environ(const struct sched_context *ctx);

#endif
