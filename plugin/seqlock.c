/* seqlock.c - records shared across processes (see seqlock.h). A write is
 * a few stores; contention is a worker's executors, or two workers
 * finishing together. */
#include <sched.h>
#include <string.h>
#include "seqlock.h"

/* How long a writer waits on an odd sequence before it takes the record
 * over, and how often a reader retries: far longer than any write. */
#define SPINS 100000

void sched_seq_lock(_Atomic uint32_t *seq) {
	for (int spins = 0;; spins++) {
		uint32_t s = atomic_load(seq);
		if (s & 1) {
			if (spins < SPINS) {
				sched_yield();
				continue;
			}
			/* its writer died mid-write: the record is ours now */
			if (atomic_compare_exchange_strong(seq, &s, s + 2))
				return;
			continue;
		}
		if (atomic_compare_exchange_weak(seq, &s, s + 1))
			return;
	}
}

void sched_seq_unlock(_Atomic uint32_t *seq) {
	atomic_fetch_add(seq, 1);
}

int sched_seq_read(_Atomic uint32_t *seq, const void *record, void *out, size_t len) {
	for (int tries = 0; tries < SPINS; tries++) {
		uint32_t before = atomic_load(seq);
		if (before & 1) {
			sched_yield();
			continue;
		}
		memcpy(out, record, len);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load(seq) == before)
			return 1;
	}
	return 0;
}
