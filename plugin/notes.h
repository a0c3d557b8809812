/* notes.h - what is logged once the runtime's lock is released
 * (notes.c). */
#ifndef SCHED_NOTES_H
#define SCHED_NOTES_H

#include "runtime_state.h"

/* sched_rt.lock held. */
void sched_note_pid(const struct usch_job *job, enum note_kind kind, int64_t value, int pid);
void sched_note(const struct usch_job *job, enum note_kind kind, int64_t value);
/* A fire past misfire-grace: counted and noted, not run. */
void sched_note_misfire(const struct usch_fire *fire, int64_t now_wall);
/* Logs what was noted (and the interrupted runs claims took back);
 * without sched_rt.lock. */
void sched_notes_flush(void);
/* With sched_rt.lock held: logs what waits, if anything, with the lock
 * released meanwhile. Returns 1 when it did (time has passed). */
int sched_notes_flush_pending(void);

#endif
