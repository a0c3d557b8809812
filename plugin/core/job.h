/* job.h - a declared job: what to run, when, and how.
 *
 * Built by the declaration parser (decl.c) from one scheduler-* option in
 * the master before fork, with every value parsed once there; read-only
 * afterwards (every worker sees the same copy). job.c owns freeing it and
 * the questions asked of it at run time. */
#ifndef USCH_JOB_H
#define USCH_JOB_H

#include <stddef.h>
#include <stdint.h>
#include "workers.h"

struct usch_trigger;
struct usch_tz;

enum usch_coalesce {
	USCH_COALESCE_LATEST = 0, /* late fires collapse into one run */
	USCH_COALESCE_EARLIEST,
	USCH_COALESCE_ALL, /* every late fire runs */
};

enum usch_scope {
	USCH_SCOPE_ALL = 0, /* every worker runs its own copy */
	USCH_SCOPE_ONCE,    /* exactly once across the workers */
	USCH_SCOPE_WORKERS, /* only on the listed workers */
	USCH_SCOPE_CLUSTER, /* once across a Legion cluster */
};

/* What a fire does when max-running runs of its job are going (the
 * Kubernetes CronJob concurrencyPolicy set). */
enum usch_overlap {
	USCH_OVERLAP_SKIP = 0, /* it is skipped and logged */
	USCH_OVERLAP_QUEUE,    /* it starts when one ends; at most one waits, later ones are skipped */
	USCH_OVERLAP_REPLACE,  /* the running ones are stopped, then it starts */
};

/* What a run cut short by its worker's death leaves behind. */
enum usch_interrupted {
	USCH_INTERRUPTED_SKIP = 0, /* at most once: the occurrence is not run again */
	USCH_INTERRUPTED_RERUN,    /* at least once: it runs again, late */
};

enum usch_hook_kind {
	USCH_HOOK_FAILURE = 1,
	USCH_HOOK_SUCCESS,
};

enum usch_target_kind {
	USCH_TARGET_PYTHON = 1, /* pkg.module:function */
	USCH_TARGET_RPC,        /* rpc:name */
	USCH_TARGET_SIGNAL,     /* signal:N */
	USCH_TARGET_EXEC,       /* exec:command line */
};

/* uwsgi_rpc() takes a uint8_t count and uint16_t lengths. */
#define USCH_RPC_MAX_ARGS 255
#define USCH_RPC_MAX_ARG_LEN 65535

/* The arguments of an rpc: job, as uwsgi_rpc() takes them: JSON strings
 * as they are, anything else as its compact JSON text. */
struct usch_rpc_args {
	uint8_t argc;
	char **argv;
	uint16_t *argvs;
};

/* What most jobs leave at its default: jobs that do share one copy
 * (usch_job_cold_default), the others own theirs. 100,000 jobs then carry
 * no window, retry policy, worker set, Legion or rpc: arguments each. */
struct usch_job_cold {
	int64_t jitter_us;
	int64_t misfire_grace_us;    /* -1: no limit */
	int64_t start_us, end_us;    /* window, INT64_MIN / INT64_MAX */
	int64_t retry_delay_us;      /* before the first retry (default 1 s) */
	int64_t retry_max_delay_us;  /* 0: no cap */
	double retry_backoff;        /* each later delay is the one before times this (default 2) */
	struct usch_workers workers; /* workers= (scope=workers runs there) */
	char *legion;                /* legion=: the Legion whose lord runs a scope=cluster job, or NULL
	                                (scheduler-legion then names it) */
	struct usch_rpc_args rpc;    /* rpc: the arguments */
	char *on_failure_text;       /* on-failure= / on-success= as written, or NULL */
	char *on_success_text;
};

extern const struct usch_job_cold usch_job_cold_default;

/* Read by every fire; the small values in the bytes their bounds need
 * (decl_keys.c's table). */
struct usch_job {
	char *id;         /* may be target itself (the default id of a Python target): freed once */
	const char *line; /* the declaration as written (the caller's when not own_line) */
	struct usch_trigger *trigger;
	char *target;                     /* without its kind prefix */
	const struct usch_tz *tz;         /* the job's zone (its own when own_tz) */
	const struct usch_job_cold *cold; /* never NULL: usch_job_cold_default, or the job's own */
	char *args_json;                  /* compact JSON array, or NULL */
	char *kwargs_json;                /* compact JSON object, or NULL */
	char *context;                    /* context=: the keyword argument that gets the run's context, or NULL */
	char *app;                        /* app= mountpoint, or NULL */
	/* hooks: a target and no trigger, run after the last attempt failed /
	   after a run succeeded; they have no hooks and no retries of their own */
	struct usch_job *on_failure, *on_success;
	const struct usch_job *parent; /* a hook's job, else NULL */
	int64_t timeout_us;            /* 0: none */
	uint32_t index;                /* position in declaration order */
	uint16_t max_running;          /* 1-1000, default 1 */
	uint8_t kind;                  /* enum usch_target_kind */
	uint8_t signum;                /* signal: the uWSGI signal number */
	uint8_t overlap;               /* enum usch_overlap */
	uint8_t coalesce;              /* enum usch_coalesce */
	uint8_t scope;                 /* enum usch_scope */
	uint8_t interrupted;           /* enum usch_interrupted */
	uint8_t retries;               /* a failed run is tried again up to this many times (0-100, default 0) */
	uint8_t paused;
	uint8_t catch_up;        /* occurrences missed while no scheduler was up run late (default 1) */
	uint8_t start_on_boot;   /* @start: once when the scheduler starts */
	uint8_t anchored;        /* an interval with an explicit start= */
	uint8_t hook;            /* 0: a job; USCH_HOOK_FAILURE / USCH_HOOK_SUCCESS: a hook */
	uint8_t implicit_anchor; /* an interval (scope=once) or calendar trigger anchored at the master's start,
	                            not by start=: a run remembered across a restart may move the anchor */
	uint8_t own_tz;          /* tz= loaded a zone for this job: freed with it */
	uint8_t own_line;        /* line is a copy: freed with the job */
	uint8_t option;          /* the option that declared it (usch_job_option says its name) */
	uint8_t packed;          /* in arenas (usch_job_pack): usch_job_free frees only its zone */
	uint8_t cold_heap;       /* cold was malloc'd (usch_job_cold_own): freed with the job */
};

void usch_job_free(struct usch_job *job);

/* The job's own copy of its cold part, made (from the shared one) when it
 * has none: a change to one job's window or policy is its own. NULL when
 * out of memory. */
struct usch_job_cold *usch_job_cold_own(struct usch_job *job);

/* Where usch_job_pack puts a job: its record and cold part, its trigger,
 * its text. Three arenas, so that the adapter can keep apart what a
 * worker's start reads (the triggers, for the first fires) from what it
 * reads only when the job runs or is listed (records and text). */
struct usch_arena;
struct usch_pack {
	struct usch_arena *records, *triggers, *text;
};

/* A copy of job, its hooks, trigger, cold part and text in the arenas of
 * to. The zone of tz= moves to the copy; on-failure= and on-success= as
 * written (read only while parsing) are left behind. Returns the copy, or
 * NULL when out of memory; free job itself with usch_job_free either way. */
struct usch_job *usch_job_pack(struct usch_job *job, const struct usch_pack *to);

/* Drops the job's own cold part (and its hooks') when it holds only
 * defaults: the job then shares usch_job_cold_default. */
void usch_job_cold_share(struct usch_job *job);

/* The job options' names, "scheduler-cron" ... and "cron" ...: a job
 * keeps the index of its own. -1 for any other text. */
int usch_job_option_index(const char *option);
/* The name of the option that declared the job, for messages. */
const char *usch_job_option(const struct usch_job *job);

/* How long after a failed attempt (1, 2 ...) the next one starts:
 * retry-delay, times retry-backoff per attempt before, capped by
 * retry-max-delay. */
int64_t usch_job_retry_delay(const struct usch_job *job, int attempt);

/* Whether worker `wid` (1-based) schedules the job: scope=all on every
 * worker, scope=workers on the listed ones, scope=once and scope=cluster
 * on every worker too (each occurrence then runs where it is claimed
 * first). */
int usch_job_runs_on(const struct usch_job *job, int wid);

/* Whether each occurrence of the job is claimed by one worker: scope=once,
 * and scope=cluster (once in the instance that is lord, the same claims). */
int usch_job_claimed(const struct usch_job *job);

/* The prefix of the job's target as written: "rpc:", "signal:", "exec:",
 * or "" for a Python callable. */
const char *usch_job_kind_prefix(const struct usch_job *job);

/* What decides the job's occurrences, as text: its trigger, zone, explicit
 * window and scope (a run remembered under another schedule is not this
 * job's). snprintf-like. */
size_t usch_job_schedule(const struct usch_job *job, char *buf, size_t len);

/* The job continues from occurrence `last`, remembered from a previous
 * start: an anchor the master took from its own start moves there (the
 * next fire is then last + interval), any other trigger is unchanged.
 * Before the job is shared. Returns 0, or -1 with the reason in err. */
int usch_job_continue_from(struct usch_job *job, int64_t last, char *err, size_t errlen);

/* Where the job's trigger timeline stands when a scheduler starts at wall
 * instant start_wall: wall triggers and intervals anchored by start= read
 * the wall clock (start_wall); an interval without start= counts elapsed
 * time from the scheduler's start (0). */
int64_t usch_job_timeline_at_start(const struct usch_job *job, int64_t start_wall);

#endif
