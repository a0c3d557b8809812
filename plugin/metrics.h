/* metrics.h - the jobs' counters as uWSGI metrics (metrics.c):
 * scheduler.<job id>.<name>, shown under "metrics" by the stats server and
 * pushed by uWSGI's pushers (statsd, carbon ...) when --enable-metrics is
 * on. */
#ifndef SCHED_METRICS_H
#define SCHED_METRICS_H

/* Master, before fork, after uWSGI set up its metrics (preinit_apps). Two
 * job ids that give the same metric name stop uWSGI with a message. */
void sched_metrics_register(void);

#include <stdint.h>
#include "core/job.h"

/* The next fire of job's trigger after now (wall µs), paused or not; 0
 * when there is none, or it is not known here: an interval on each
 * worker's elapsed time before its first run. Reads the trigger only. */
int64_t sched_next_due_us(const struct usch_job *job);

#endif
