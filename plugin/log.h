/* log.h - every line the plugin logs: one "[scheduler] " prefix, through
 * uwsgi_log, filtered by scheduler-log. The bottom of the adapter: it
 * calls nothing of ours. */
#ifndef SCHED_LOG_H
#define SCHED_LOG_H

#include <jansson.h>
#include "core/job.h"

enum sched_log_level {
	SCHED_LOG_ALL = 0, /* a line at the start and end of every run */
	SCHED_LOG_ERRORS,  /* failures, skips and misfires only */
	SCHED_LOG_NONE,    /* nothing per run */
};

enum sched_log_format {
	SCHED_LOG_TEXT = 0,
	SCHED_LOG_JSON, /* runs' start and end lines as JSON objects */
};

void sched_log_set_level(enum sched_log_level level);
enum sched_log_level sched_log_level(void);
void sched_log_set_format(enum sched_log_format format);
enum sched_log_format sched_log_format(void);
/* One line: the object as compact JSON, nothing around it (log
 * shippers parse the whole line). Takes the reference. */
void sched_log_json(json_t *object);

void sched_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, then exit(1): a startup error, in the master before fork. */
void sched_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A multi-line text (a traceback), one prefixed log line per line. */
void sched_log_block(const char *job_id, const char *text);
/* Per-run detail, shown with scheduler-log = all. */
void sched_log_run(const struct usch_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Failures, skips, misfires: shown unless scheduler-log = none. */
void sched_log_event(const struct usch_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A run cut short by the death of its worker (pid), or (stopped) by
 * the stop of the previous instance, found after a restart. */
void sched_log_interrupted(const struct usch_job *job, int64_t scheduled_us, int wid, int pid, int stopped);
/* Worker wid saw the wall clock step by step_us (> 0: forward). */
void sched_log_clock_step(int wid, int64_t step_us);
/* A command's output tail, shown with scheduler-log = all or errors. */
void sched_log_output(const struct usch_job *job, const char *text);

#endif
