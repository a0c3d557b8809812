/* overlap.h - overlap=queue|replace: a fire that finds max-running runs
 * of its job going waits for a place, after asking them to stop
 * (overlap.c). */
#ifndef SCHED_OVERLAP_H
#define SCHED_OVERLAP_H

#include "runtime_state.h"

/* A job of each worker: the executor that took f waits until a place is
 * free here. Returns 0 to run it, -1 when the worker is stopping (f is
 * dropped, and logged). sched_rt.lock held, released while it waits. */
int sched_overlap_wait_here(const struct usch_fire *f);

/* A once-job whose claim of occurrence found max-running runs going:
 * returns 1 when this executor has waited for and taken a place (run
 * it), 0 when the fire is to be skipped (overlap=skip, or another fire
 * waits already), -1 when the worker stopped while it waited (dropped,
 * and logged). sched_rt.lock held, released while it waits. */
int sched_overlap_wait_once(const struct usch_fire *f, int64_t occurrence, int slot_no);

/* Whether the run on slot was asked to stop for the next one; sched_rt.lock held. */
int sched_overlap_replaced(const struct slot *slot);

#endif
