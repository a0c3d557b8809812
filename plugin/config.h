/* config.h - the plugin's options: one table row per option (declaring
 * a job, or a setting with its type and bounds), from which the uWSGI
 * option table, parsing, range checks and messages all come; and the
 * values parsed once, in the master before fork, that every worker
 * inherits. */
#ifndef SCHED_CONFIG_H
#define SCHED_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "core/job.h"
#include "core/idset.h"
#include "core/tz.h"

struct uwsgi_option;

enum sched_exec_env { SCHED_EXEC_ENV_INHERIT, SCHED_EXEC_ENV_CLEAN };

struct sched_config {
	struct usch_job **jobs; /* in declaration order */
	size_t njobs;
	/* what the jobs contain, summed up once in the master: a worker's start
	 * asks these, not each job (whose pages it would then read in) */
	int any_workers_scope;       /* scope=workers: not every worker runs every job */
	int any_claimed;             /* scope=once or cluster */
	int any_rpc;                 /* rpc: targets */
	int any_python_stopped;      /* Python targets with timeout= or overlap=replace (sched-watch stops them) */
	struct usch_idset ids;       /* job id -> index in jobs */
	usch_tz *default_tz;         /* scheduler-timezone */
	int64_t shutdown_timeout_us; /* scheduler-shutdown-timeout */
	int threads;                 /* the most executor threads per worker */
	int64_t threads_idle_us;     /* scheduler-threads-idle */
	int log_level;               /* enum sched_log_level */
	int log_format;              /* enum sched_log_format */
	int rpc_signal;              /* uWSGI signal for RPC in request threads */
	const char *state_path;      /* scheduler-state, or NULL */
	int history;                 /* scheduler-history: runs kept per job */
	int rpc_remote;              /* scheduler-rpc-remote: remote nodes may steer jobs */
	int exec_env;                /* scheduler-exec-env: enum sched_exec_env */
	const char *alarm;           /* scheduler-alarm: a uWSGI alarm's name, or NULL */
	const char *legion;          /* scheduler-legion: the Legion of scope=cluster jobs without legion=, or NULL */
	int list, list_json;         /* dry run: fires per job, 0 = none */
	int64_t list_from_us;        /* dry run base (and calendar triggers' now) */
};

extern struct sched_config sched_cfg;

/* The uWSGI option table made from the rows (the plugin's on_load). */
struct uwsgi_option *sched_config_options(void);

/* Whether any scheduler option was given. */
int sched_config_given(void);

/* How messages name a job's declaration: [FILE:LINE: ]option "line". */
#define SCHED_CONFIG_DECL_MAX 4096
const char *sched_config_decl(const struct usch_job *job, char *buf, size_t len);

/* Parses every setting and declaration into sched_cfg; a bad one stops
 * uWSGI with a message naming the option and what is wrong. */
void sched_config_load(void);

#endif
