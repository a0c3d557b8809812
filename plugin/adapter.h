/* adapter.h - what the uWSGI adapter's files share (plugin.c, runtime.c,
 * python.c). Nothing here is seen by the pure core. */
#ifndef SCHED_ADAPTER_H
#define SCHED_ADAPTER_H

#include <stdint.h>
#include "core/job.h"

struct sched_config {
	struct usch_job **jobs;
	size_t njobs;
	int64_t shutdown_timeout_us;
	int threads;		/* executor threads per worker */
};

extern struct sched_config sched_cfg;

/* Every line of ours goes through uwsgi_log with this prefix. */
void sched_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A multi-line text (a traceback), one prefixed log line per line. */
void sched_log_block(const char *job_id, const char *text);

int sched_runtime_start(void);
void sched_runtime_stop(int graceful);

int sched_python_loaded(void);
/* True when the calling thread holds the GIL. */
int sched_python_gil_held(void);
/* NULL on success, else a malloc'd message (a job's traceback). */
char *sched_python_call(const char *target, const char *args_json, const char *kwargs_json);
char *sched_python_check(const char *target);

#endif
