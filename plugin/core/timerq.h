/* timerq.h - the timer queue: a binary heap of timers, in the order of a
 * compare function the caller gives (earliest deadline first, normally).
 *
 * Owns only the ordering of timers. A timer is a node the caller embeds in
 * its own struct (container_of style, see USCH_TIMER_ENTRY); the queue keeps
 * an array of pointers to the nodes and each node remembers its slot, so any
 * node is removed in O(log n). The array grows by doubling; after that no
 * operation allocates (usch_timerq_reserve makes insert infallible).
 *
 * Order: whatever the compare function given to usch_timerq_init says (as
 * libuv's heap_insert takes its less_than). usch_timer_fifo_less is
 * earliest deadline first, equal deadlines in insertion order; a caller
 * with its own tie order (the scheduler: declaration order) passes its
 * own, reading its struct through USCH_TIMER_ENTRY.
 *
 * Not thread-safe: the caller serialises access to one queue. */
#ifndef USCH_TIMERQ_H
#define USCH_TIMERQ_H

#include <stddef.h>
#include <stdint.h>

/* 16 bytes: a schedule embeds one per job (100,000 of them). */
struct usch_timer {
	int64_t deadline; /* µs on the caller's timeline; set by insert */
	uint32_t seq;     /* insertion sequence, breaks ties (FIFO); wraps: compare with usch_timer_seq_before */
	uint32_t slot;    /* 1-based heap slot; 0 = not queued */
};

/* Whether a was queued before b, the sequence wrapping past 2^32: right
 * while the two were queued fewer than 2^31 insertions apart. */
static inline int usch_timer_seq_before(const struct usch_timer *a, const struct usch_timer *b) {
	return (int32_t) (a->seq - b->seq) < 0;
}

/* A strict order: true when a must pop before b. It should end with the
 * seq tie-break, so that no two queued nodes compare equal and pops stay
 * deterministic. It must not change its answer while both are queued. */
typedef int (*usch_timer_less_fn)(const struct usch_timer *a, const struct usch_timer *b);

struct usch_timerq {
	struct usch_timer **heap;
	size_t count;
	size_t cap; /* at most UINT32_MAX - 1 nodes (a node's slot) */
	uint32_t next_seq;
	usch_timer_less_fn less;
};

/* The struct that embeds timer node `ptr` as member `member`. */
#define USCH_TIMER_ENTRY(ptr, type, member) ((type *) (void *) ((char *) (ptr) -offsetof(type, member)))

/* A zero-filled node is a valid unqueued node; this is the same. */
void usch_timer_init(struct usch_timer *t);
int usch_timer_is_queued(const struct usch_timer *t);

/* Earliest deadline first; equal deadlines by seq (insertion order). */
int usch_timer_fifo_less(const struct usch_timer *a, const struct usch_timer *b);

/* An empty queue ordered by less (NULL: usch_timer_fifo_less). */
void usch_timerq_init(struct usch_timerq *q, usch_timer_less_fn less);
/* Releases the array and leaves q empty, with the same order, ready for
 * reuse; the nodes are the caller's and are left as they are (still
 * marked queued: reinitialise them before reuse). */
void usch_timerq_free(struct usch_timerq *q);

/* Makes room for n nodes in total. Returns 0, or -1 when out of memory. */
int usch_timerq_reserve(struct usch_timerq *q, size_t n);

/* Queues t at deadline. Returns 0, or -1 when t is already queued or the
 * array cannot grow (t is then left unqueued). */
int usch_timerq_insert(struct usch_timerq *q, struct usch_timer *t, int64_t deadline);

/* Unqueues t. Returns 0, or -1 when t is not in q. */
int usch_timerq_remove(struct usch_timerq *q, struct usch_timer *t);

/* The earliest node (NULL when empty); peek leaves it queued. */
struct usch_timer *usch_timerq_peek(const struct usch_timerq *q);
struct usch_timer *usch_timerq_pop(struct usch_timerq *q);

size_t usch_timerq_count(const struct usch_timerq *q);

#endif
