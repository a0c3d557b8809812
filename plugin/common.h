/* common.h - the small helpers every adapter file may use: clock
 * readings, telling uWSGI's python plugin apart, whether a process is
 * gone. Calls nothing of ours. */
#ifndef SCHED_COMMON_H
#define SCHED_COMMON_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>

struct uwsgi_plugin;
struct usch_tz;

/* A clock's reading in µs (CLOCK_MONOTONIC, CLOCK_REALTIME). */
int64_t sched_clock_us(clockid_t id);
/* An absolute deadline in µs as the timespec pthread's timed waits take. */
struct timespec sched_timespec_at(int64_t us);
/* An instant in µs as JSON: epoch seconds, or (in tz) RFC 3339 text;
 * null for 0 (none). */
json_t *sched_json_ts(int64_t us);
json_t *sched_json_instant(int64_t us, const struct usch_tz *tz);
/* Whether p is uWSGI's python plugin (python, python3, python311...). */
int sched_is_python_plugin(const struct uwsgi_plugin *p);
/* Whether any python plugin is loaded in this uWSGI. */
int sched_python_plugin_loaded(void);
/* The line of a failure's message that says what went wrong: a Python
 * traceback's last ("ValueError: ..."), otherwise the first; cut to len
 * on a character boundary. */
void sched_error_line(const char *err, char *out, size_t len);
/* From /proc/PID/stat: the process's state letter ('R', 'S', 'Z'...) and
 * its process group. 0, or -1 when it cannot be read (gone). */
int sched_proc_stat(int pid, char *state, int *pgrp);
/* size bytes of memory shared with the workers (made before fork), zero:
 * an anonymous shared mapping, as uwsgi_calloc_shared makes, but without
 * its memset, which makes every page resident in the master (100,000
 * jobs' history rings: 260 MB) where mmap already gives zeroed pages that
 * cost nothing until a process touches them. Exits when out of memory. */
void *sched_shared_zeroed(size_t size);
/* Whether process pid is gone, or a zombie nobody has reaped yet. */
int sched_pid_gone(int pid);

#endif
