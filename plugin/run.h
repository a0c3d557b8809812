/* run.h - one run of one fire (run.c): its log lines, its record in the
 * last runs (runs.c), its dispatch to the target. */
#ifndef SCHED_RUN_H
#define SCHED_RUN_H

#include <stdint.h>
#include "history.h"
#include "core/sched.h"

/* Runs f (one attempt at it) in the calling executor thread (how: why it
 * runs; due_us: when it was to start, 0: its scheduled instant), counted
 * in counters.c. Returns NULL, or the failure's malloc'd message. */
char *sched_run_fire(const struct usch_fire *f, enum sched_how how, int64_t due_us);

#endif
