/* common.h - the small helpers every adapter file may use: clock
 * readings and telling uWSGI's python plugin apart. Calls nothing of
 * ours. */
#ifndef SCHED_COMMON_H
#define SCHED_COMMON_H

#include <stdint.h>
#include <time.h>

struct uwsgi_plugin;

/* A clock's reading in µs (CLOCK_MONOTONIC, CLOCK_REALTIME). */
int64_t sched_clock_us(clockid_t id);
/* An absolute deadline in µs as the timespec pthread's timed waits take. */
struct timespec sched_timespec_at(int64_t us);
/* Whether p is uWSGI's python plugin (python, python3, python311...). */
int sched_is_python_plugin(const struct uwsgi_plugin *p);
/* Whether any python plugin is loaded in this uWSGI. */
int sched_python_plugin_loaded(void);

#endif
