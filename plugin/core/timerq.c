/* timerq.c - the timer queue (binary min-heap of node pointers).
 *
 * Owns the heap array and the slot bookkeeping in each node. Same shape as
 * libuv's timer heap (src/timer.c, heap-inl.h) but array-backed: sift
 * operations touch contiguous memory and each node's slot gives O(log n)
 * removal without a parent pointer. */
#include <stdlib.h>
#include "timerq.h"

#define INITIAL_CAP 16

void usch_timer_init(struct usch_timer *t) {
	t->deadline = 0;
	t->seq = 0;
	t->slot = 0;
}

int usch_timer_is_queued(const struct usch_timer *t) {
	return t->slot != 0;
}

/* Strict order: seq is unique per queue, so no two queued nodes compare
 * equal and the heap order is a total one (deterministic pops). */
int usch_timer_fifo_less(const struct usch_timer *a, const struct usch_timer *b) {
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return usch_timer_seq_before(a, b);
}

void usch_timerq_init(struct usch_timerq *q, usch_timer_less_fn less) {
	q->heap = NULL;
	q->count = 0;
	q->cap = 0;
	q->next_seq = 0;
	q->less = less ? less : usch_timer_fifo_less;
}

void usch_timerq_free(struct usch_timerq *q) {
	free(q->heap);
	usch_timerq_init(q, q->less);
}

static void place(struct usch_timerq *q, size_t i, struct usch_timer *t) {
	q->heap[i] = t;
	t->slot = (uint32_t) (i + 1);
}

/* Moves the node at i towards the root; returns its final index. */
static size_t sift_up(struct usch_timerq *q, size_t i) {
	struct usch_timer *t = q->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!q->less(t, q->heap[parent]))
			break;
		place(q, i, q->heap[parent]);
		i = parent;
	}
	place(q, i, t);
	return i;
}

static void sift_down(struct usch_timerq *q, size_t i) {
	struct usch_timer *t = q->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= q->count)
			break;
		if (child + 1 < q->count && q->less(q->heap[child + 1], q->heap[child]))
			child++;
		if (!q->less(q->heap[child], t))
			break;
		place(q, i, q->heap[child]);
		i = child;
	}
	place(q, i, t);
}

int usch_timerq_reserve(struct usch_timerq *q, size_t n) {
	if (n <= q->cap)
		return 0;
	if (n >= UINT32_MAX)
		return -1;
	size_t cap = q->cap ? q->cap : INITIAL_CAP;
	while (cap < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*q->heap) || cap >= UINT32_MAX)
			return -1;
		cap *= 2;
	}
	if (cap >= UINT32_MAX)
		cap = UINT32_MAX - 1;
	struct usch_timer **heap = realloc(q->heap, cap * sizeof(*heap));
	if (!heap)
		return -1;
	q->heap = heap;
	q->cap = cap;
	return 0;
}

int usch_timerq_insert(struct usch_timerq *q, struct usch_timer *t, int64_t deadline) {
	if (t->slot != 0)
		return -1;
	if (q->count == q->cap && usch_timerq_reserve(q, q->count + 1) < 0)
		return -1;
	t->deadline = deadline;
	t->seq = q->next_seq++;
	q->heap[q->count] = t;
	q->count++;
	sift_up(q, q->count - 1);
	return 0;
}

/* The slot check guards against a node queued in another queue, or a
 * stale slot left by usch_timerq_free. */
static int owns(const struct usch_timerq *q, const struct usch_timer *t) {
	return t->slot != 0 && t->slot <= q->count && q->heap[t->slot - 1] == t;
}

int usch_timerq_remove(struct usch_timerq *q, struct usch_timer *t) {
	if (!owns(q, t))
		return -1;
	size_t i = t->slot - 1;
	struct usch_timer *last = q->heap[--q->count];
	t->slot = 0;
	if (last == t)
		return 0;
	/* The last node fills the hole; it may belong above or below it. */
	q->heap[i] = last;
	if (sift_up(q, i) == i)
		sift_down(q, i);
	return 0;
}

struct usch_timer *usch_timerq_peek(const struct usch_timerq *q) {
	return q->count ? q->heap[0] : NULL;
}

struct usch_timer *usch_timerq_pop(struct usch_timerq *q) {
	struct usch_timer *t = usch_timerq_peek(q);

	if (t)
		usch_timerq_remove(q, t);
	return t;
}

size_t usch_timerq_count(const struct usch_timerq *q) {
	return q->count;
}
