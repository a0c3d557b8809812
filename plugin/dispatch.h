/* dispatch.h - running one fire of a job on its target (dispatch.c). */
#ifndef SCHED_DISPATCH_H
#define SCHED_DISPATCH_H

#include "core/sched.h"

/* Runs fire on its job's target. NULL on success, else a malloc'd
 * message. Called from an executor thread, without the GIL. */
char *sched_dispatch(const struct usch_fire *fire, const char *error);

#endif
