/* adapter.h - what the uWSGI adapter's files share (plugin.c, runtime.c,
 * python.c). Nothing here is seen by the pure core. */
#ifndef SCHED_ADAPTER_H
#define SCHED_ADAPTER_H

#include <stdint.h>
#include <time.h>
#include "core/job.h"
#include "core/timefmt.h"

struct uwsgi_plugin;

enum sched_log_level {
	SCHED_LOG_ALL = 0,	/* a line at the start and end of every run */
	SCHED_LOG_ERRORS,	/* failures, skips and misfires only */
	SCHED_LOG_NONE,		/* nothing per run */
};

struct sched_config {
	struct usch_job **jobs;
	size_t njobs;
	int64_t shutdown_timeout_us;
	int threads;		/* executor threads per worker */
	enum sched_log_level log_level;
	int rpc_signal;		/* uWSGI signal for RPC in request threads */
};

extern struct sched_config sched_cfg;

/* Every line of ours goes through uwsgi_log with this prefix. */
void sched_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A multi-line text (a traceback), one prefixed log line per line. */
void sched_log_block(const char *job_id, const char *text);
/* Per-run detail, shown with scheduler-log = all. */
void sched_log_run(const struct usch_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A command's output tail, shown with scheduler-log = all or errors. */
void sched_log_output(const struct usch_job *job, const char *text);

/* Runs one fire of job on its target (dispatch.c). NULL on success, else
 * a malloc'd message. */
char *sched_dispatch(const struct usch_job *job);
/* RPC functions of languages with per-core interpreters, run by the
 * worker's request thread (mainthread.c). */
int sched_mainthread_setup(int signum, char *err, size_t errlen);
char *sched_mainthread_rpc(const char *name, uint8_t argc, char **argv, uint16_t *argvs, uint64_t *len);
void sched_mainthread_abort(void);

/* The plugin that registered RPC function name in this worker, or NULL. */
struct uwsgi_plugin *sched_rpc_owner(const char *name);

/* A clock's reading in µs (CLOCK_MONOTONIC, CLOCK_REALTIME). */
int64_t sched_clock_us(clockid_t id);
/* Whether p is uWSGI's python plugin (python, python3, python311...). */
int sched_is_python_plugin(const struct uwsgi_plugin *p);

int sched_runtime_start(void);
void sched_runtime_stop(int graceful);

int sched_python_loaded(void);
/* True when the calling thread holds the GIL. */
int sched_python_gil_held(void);
/* NULL on success, else a malloc'd message (a job's traceback). */
/* app: the mountpoint of the app whose interpreter runs it, NULL for the
 * main one. */
char *sched_python_call(const char *app, const char *target, const char *args_json, const char *kwargs_json);
char *sched_python_check(const char *app, const char *target);

#endif
