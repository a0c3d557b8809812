/* punctual.h - a fire handed over ahead of its instant (timing.c) starts
 * at the instant: its executor sleeps until then, and a Python job of the
 * main interpreter takes the GIL shortly before and sleeps holding it, so
 * that it does not queue for the GIL behind the requests at the instant.
 * The Python fires that follow in the queue run under that one
 * acquisition (see sched_punctual_next). */
#ifndef SCHED_PUNCTUAL_H
#define SCHED_PUNCTUAL_H

#include "core/sched.h"

/* How long before its instant a fire is handed over (timing.c): a
 * thread's wake-up and the hand-off to an executor (100-300 µs on a busy
 * machine) are paid before the instant, not after it. */
#define SCHED_AHEAD_US 500

/* How long before its instant a non-Python fire stops sleeping and waits
 * on the clock (punctual.c). */
#define SCHED_SPIN_US 80

/* How long before the instant the GIL is taken, and the most GIL time
 * that costs in a second, process-wide (requests lose at most that
 * share). */
#define SCHED_GIL_AHEAD_US 200
#define SCHED_GIL_AHEAD_BUDGET_US 5000

/* How long the GIL is kept from one Python run to the next at most: the
 * requests get it back at least that often while many fires wait. */
#define SCHED_GIL_KEEP_US 2000

/* Before (1) and after (0) the calling thread sleeps until an instant:
 * it asks the kernel for a short scheduler slice meanwhile, so that it
 * runs at once when it wakes (punctual.c says why). */
void sched_punctual_wake_soon(int sleeping);

/* Before a run starts: waits for f's instant (see above); unlocked. */
void sched_punctual_wait(const struct usch_fire *f);

/* Gives the GIL back if this thread keeps it between runs. Never blocks. */
void sched_punctual_release(void);

/* After a run, sched_rt.lock held: keeps the GIL for the next fire of
 * the queue when it is a Python one of the main interpreter that cannot
 * wait for a place, due within SCHED_GIL_AHEAD_US; gives it back
 * otherwise (next NULL: the queue is empty). */
void sched_punctual_next(const struct usch_fire *next);

#endif
