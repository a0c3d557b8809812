/* job.h - a declared job: what to run, when, and how.
 *
 * Built by decl.c from one scheduler-* option in the master before fork;
 * read-only afterwards (every worker sees the same copy). */
#ifndef USCH_JOB_H
#define USCH_JOB_H

#include <stddef.h>
#include <stdint.h>

struct usch_trigger;
struct usch_tz;

enum usch_coalesce {
	USCH_COALESCE_LATEST = 0,	/* late fires collapse into one run */
	USCH_COALESCE_EARLIEST,
	USCH_COALESCE_ALL,		/* every late fire runs */
};

enum usch_scope {
	USCH_SCOPE_ALL = 0,		/* every worker runs its own copy */
	USCH_SCOPE_ONCE,		/* exactly once across the workers */
	USCH_SCOPE_WORKERS,		/* only on the listed workers */
	USCH_SCOPE_CLUSTER,		/* once across a Legion cluster */
};

#define USCH_MAX_WORKER_ID 1024

enum usch_target_kind {
	USCH_TARGET_PYTHON = 1,	/* pkg.module:function */
	USCH_TARGET_RPC,	/* rpc:name */
	USCH_TARGET_SIGNAL,	/* signal:N */
	USCH_TARGET_EXEC,	/* exec:command line */
};

struct usch_job {
	char *id;
	size_t index;		/* position in declaration order */
	char *option;		/* the option that declared it, for messages */
	char *line;		/* the declaration as written */
	struct usch_trigger *trigger;
	int start_on_boot;	/* @start: once when the scheduler starts */
	int anchored;		/* an interval with an explicit start= */
	enum usch_target_kind kind;
	char *target;		/* without its kind prefix */
	char *args_json;	/* compact JSON array, or NULL */
	char *kwargs_json;	/* compact JSON object, or NULL */
	char *app;		/* app= mountpoint, or NULL */
	const struct usch_tz *tz;	/* the job's zone */
	struct usch_tz *own_tz;	/* set when tz= loaded a zone for this job */
	int paused;
	int max_running;	/* default 1 */
	enum usch_coalesce coalesce;
	enum usch_scope scope;
	int64_t jitter_us;
	int64_t misfire_grace_us;	/* -1: no limit */
	int64_t timeout_us;		/* 0: none */
	int64_t start_us, end_us;	/* window, INT64_MIN / INT64_MAX */
	uint64_t workers[USCH_MAX_WORKER_ID / 64];	/* scope=workers */
};

void usch_job_free(struct usch_job *job);

#endif
