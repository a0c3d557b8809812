/* seqlock.h - records in memory shared by processes that may die at any
 * instant (seqlock.c): a sequence number per record, odd while it is
 * written, so that no process ever waits on another's lock. A writer
 * killed mid-write leaves an odd number: the next writer takes the record
 * over after a bounded wait, and a reader gives up on it for that round. */
#ifndef SCHED_SEQLOCK_H
#define SCHED_SEQLOCK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

void sched_seq_lock(_Atomic uint32_t *seq);
void sched_seq_unlock(_Atomic uint32_t *seq);
/* Copies len bytes of the record guarded by seq into out. Returns 1, or 0
 * when it stayed odd (a writer died in it, or is slow beyond reason). */
int sched_seq_read(_Atomic uint32_t *seq, const void *record, void *out, size_t len);

#endif
