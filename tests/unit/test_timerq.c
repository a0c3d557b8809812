/* test_timerq.c - the timer queue: order, FIFO ties, caller-supplied
 * compare functions, arbitrary removal, and 100k random operations (with
 * each compare) checked against a naive linear reference. */
#include <check.h>
#include "unit.h"
#include <stdlib.h>
#include "timerq.h"

struct job {
	int id;
	int rank; /* the tie order of by_rank */
	struct usch_timer node;
};

static struct job *job_of(struct usch_timer *t) {
	return t ? USCH_TIMER_ENTRY(t, struct job, node) : NULL;
}

static const struct job *cjob_of(const struct usch_timer *t) {
	return USCH_TIMER_ENTRY(t, const struct job, node);
}

/* Deadline, then the embedding struct's rank, then seq: the shape of the
 * scheduler's declaration-order compare. */
static int by_rank(const struct usch_timer *a, const struct usch_timer *b) {
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	if (cjob_of(a)->rank != cjob_of(b)->rank)
		return cjob_of(a)->rank < cjob_of(b)->rank;
	return usch_timer_seq_before(a, b);
}

/* Latest deadline first: the queue must not assume a min-heap of its own. */
static int latest_first(const struct usch_timer *a, const struct usch_timer *b) {
	if (a->deadline != b->deadline)
		return a->deadline > b->deadline;
	return usch_timer_seq_before(a, b);
}

START_TEST(empty_queue) {
	struct usch_timerq q;
	usch_timerq_init(&q, usch_timer_fifo_less);
	ck_assert_ptr_null(usch_timerq_peek(&q));
	ck_assert_ptr_null(usch_timerq_pop(&q));
	ck_assert_uint_eq(usch_timerq_count(&q), 0);
	usch_timerq_free(&q);
	usch_timerq_free(&q);
}
END_TEST

START_TEST(pops_in_deadline_order) {
	static const int64_t dl[] = { 50, -3, 7, INT64_MAX, 0, INT64_MIN, 12, 7 + 1 };
	static const int order[] = { 5, 1, 4, 2, 7, 6, 0, 3 };
	enum { N = sizeof(dl) / sizeof(dl[0]) };
	struct job jobs[N];
	struct usch_timerq q;

	usch_timerq_init(&q, usch_timer_fifo_less);
	for (int i = 0; i < N; i++) {
		jobs[i].id = i;
		usch_timer_init(&jobs[i].node);
		ck_assert_int_eq(usch_timerq_insert(&q, &jobs[i].node, dl[i]), 0);
		ck_assert(usch_timer_is_queued(&jobs[i].node));
	}
	ck_assert_uint_eq(usch_timerq_count(&q), N);
	ck_assert_int_eq(job_of(usch_timerq_peek(&q))->id, 5);
	for (int i = 0; i < N; i++) {
		struct job *j = job_of(usch_timerq_pop(&q));
		ck_assert_int_eq(j->id, order[i]);
		ck_assert(!usch_timer_is_queued(&j->node));
	}
	ck_assert_ptr_null(usch_timerq_pop(&q));
	usch_timerq_free(&q);
}
END_TEST

START_TEST(equal_deadlines_are_fifo) {
	enum { N = 100 };
	struct job jobs[N];
	struct usch_timerq q;

	usch_timerq_init(&q, usch_timer_fifo_less);
	/* Interleave two deadlines so ties are spread through the heap. */
	for (int i = 0; i < N; i++) {
		jobs[i].id = i;
		usch_timer_init(&jobs[i].node);
		ck_assert_int_eq(usch_timerq_insert(&q, &jobs[i].node, i % 2 ? 1000 : 2000), 0);
	}
	for (int i = 1; i < N; i += 2)
		ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, i);
	for (int i = 0; i < N; i += 2)
		ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, i);
	usch_timerq_free(&q);
}
END_TEST

/* The insertion sequence is 32 bits and wraps: ties stay FIFO across
 * the wrap. */
START_TEST(equal_deadlines_stay_fifo_across_the_wrap) {
	enum { N = 6 };
	struct job jobs[N];
	struct usch_timerq q;
	usch_timerq_init(&q, NULL);
	q.next_seq = UINT32_MAX - 2;
	for (int i = 0; i < N; i++) {
		jobs[i].id = i;
		usch_timer_init(&jobs[i].node);
		ck_assert_int_eq(usch_timerq_insert(&q, &jobs[i].node, 42), 0);
	}
	ck_assert_uint_eq(jobs[N - 1].node.seq, 2);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, i);
	usch_timerq_free(&q);
}
END_TEST

START_TEST(reinsert_goes_after_equal_peers) {
	struct job a = { .id = 0 }, b = { .id = 1 };
	struct usch_timerq q;

	usch_timerq_init(&q, usch_timer_fifo_less);
	ck_assert_int_eq(usch_timerq_insert(&q, &a.node, 10), 0);
	ck_assert_int_eq(usch_timerq_insert(&q, &b.node, 10), 0);
	ck_assert_int_eq(usch_timerq_remove(&q, &a.node), 0);
	ck_assert_int_eq(usch_timerq_insert(&q, &a.node, 10), 0);
	ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, 1);
	ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, 0);
	usch_timerq_free(&q);
}
END_TEST

START_TEST(null_compare_is_fifo) {
	struct job a = { .id = 0 }, b = { .id = 1 }, c = { .id = 2 };
	struct usch_timerq q;

	usch_timerq_init(&q, NULL);
	ck_assert_int_eq(usch_timerq_insert(&q, &a.node, 10), 0);
	ck_assert_int_eq(usch_timerq_insert(&q, &b.node, 5), 0);
	ck_assert_int_eq(usch_timerq_insert(&q, &c.node, 10), 0);
	ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, 1);
	ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, 0);
	ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, 2);
	usch_timerq_free(&q);
}
END_TEST

/* Equal deadlines pop by rank whatever the insertion order, and a node
 * re-queued later keeps its place among its peers. */
START_TEST(custom_compare_orders_ties) {
	enum { N = 40 };
	struct job jobs[N];
	struct usch_timerq q;

	usch_timerq_init(&q, by_rank);
	for (int i = 0; i < N; i++) {
		jobs[i].id = i;
		jobs[i].rank = (i * 17) % N; /* a permutation of 0..N-1 */
		usch_timer_init(&jobs[i].node);
		ck_assert_int_eq(usch_timerq_insert(&q, &jobs[i].node, i % 2 ? 100 : 200), 0);
	}
	/* the lowest-ranked job of each deadline, re-queued: still first */
	ck_assert_int_eq(usch_timerq_remove(&q, &jobs[0].node), 0);
	ck_assert_int_eq(usch_timerq_insert(&q, &jobs[0].node, 200), 0);
	int64_t prev_dl = INT64_MIN;
	int prev_rank = -1;
	for (int i = 0; i < N; i++) {
		struct job *j = job_of(usch_timerq_pop(&q));
		ck_assert_ptr_nonnull(j);
		if (j->node.deadline != prev_dl)
			prev_rank = -1;
		ck_assert_int_ge(j->node.deadline, prev_dl);
		ck_assert_int_gt(j->rank, prev_rank);
		prev_dl = j->node.deadline;
		prev_rank = j->rank;
	}
	ck_assert_ptr_null(usch_timerq_pop(&q));
	usch_timerq_free(&q);
}
END_TEST

START_TEST(compare_drives_the_whole_order) {
	static const int64_t dl[] = { 5, -1, 9, 9, 0 };
	static const int order[] = { 2, 3, 0, 4, 1 };
	struct job jobs[5];
	struct usch_timerq q;

	usch_timerq_init(&q, latest_first);
	for (int i = 0; i < 5; i++) {
		jobs[i].id = i;
		usch_timer_init(&jobs[i].node);
		ck_assert_int_eq(usch_timerq_insert(&q, &jobs[i].node, dl[i]), 0);
	}
	ck_assert_int_eq(usch_timerq_remove(&q, &jobs[3].node), 0);
	ck_assert_int_eq(usch_timerq_insert(&q, &jobs[3].node, 9), 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, order[i]);
	usch_timerq_free(&q);
}
END_TEST

/* usch_timerq_free leaves the queue reusable with its compare. */
START_TEST(free_keeps_the_compare) {
	struct job a = { .id = 0, .rank = 1 }, b = { .id = 1, .rank = 0 };
	struct usch_timerq q;

	usch_timerq_init(&q, by_rank);
	ck_assert_int_eq(usch_timerq_insert(&q, &a.node, 1), 0);
	usch_timerq_free(&q);
	usch_timer_init(&a.node);
	ck_assert_int_eq(usch_timerq_insert(&q, &a.node, 7), 0);
	ck_assert_int_eq(usch_timerq_insert(&q, &b.node, 7), 0);
	ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, 1);
	ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, 0);
	usch_timerq_free(&q);
}
END_TEST

START_TEST(insert_twice_and_foreign_remove_fail) {
	struct job a = { .id = 0 }, b = { .id = 1 };
	struct usch_timerq q, r;

	usch_timerq_init(&q, usch_timer_fifo_less);
	usch_timerq_init(&r, usch_timer_fifo_less);
	ck_assert_int_eq(usch_timerq_insert(&q, &a.node, 1), 0);
	ck_assert_int_eq(usch_timerq_insert(&q, &a.node, 2), -1);
	ck_assert_int_eq(usch_timerq_insert(&r, &a.node, 2), -1);
	ck_assert_int_eq(usch_timerq_remove(&r, &a.node), -1);
	ck_assert_int_eq(usch_timerq_remove(&q, &b.node), -1);
	ck_assert_int_eq(a.node.deadline, 1);
	ck_assert_int_eq(usch_timerq_remove(&q, &a.node), 0);
	ck_assert_int_eq(usch_timerq_remove(&q, &a.node), -1);
	ck_assert_uint_eq(usch_timerq_count(&q), 0);
	usch_timerq_free(&q);
	usch_timerq_free(&r);
}
END_TEST

/* Removing every node position (root, inner, leaf, last) keeps the rest
 * in order; the replacement node must sift up as well as down. */
START_TEST(remove_each_position) {
	enum { N = 31 };
	for (int victim = 0; victim < N; victim++) {
		struct job jobs[N];
		struct usch_timerq q;
		usch_timerq_init(&q, usch_timer_fifo_less);
		for (int i = 0; i < N; i++) {
			jobs[i].id = i;
			usch_timer_init(&jobs[i].node);
			/* A pattern where a leaf from the far subtree is smaller than
			 * the removed node's parent. */
			int64_t d = (i * 7919) % 37;
			ck_assert_int_eq(usch_timerq_insert(&q, &jobs[i].node, d), 0);
		}
		struct usch_timer *target = q.heap[victim];
		ck_assert_int_eq(usch_timerq_remove(&q, target), 0);
		ck_assert_uint_eq(usch_timerq_count(&q), N - 1);
		int64_t prev = INT64_MIN;
		uint64_t prev_seq = 0;
		for (int i = 0; i < N - 1; i++) {
			struct usch_timer *t = usch_timerq_pop(&q);
			ck_assert_ptr_ne(t, target);
			ck_assert(t->deadline > prev || (t->deadline == prev && t->seq > prev_seq));
			prev = t->deadline;
			prev_seq = t->seq;
		}
		usch_timerq_free(&q);
	}
}
END_TEST

START_TEST(remove_sifts_replacement_up) {
	/* Heap by deadline: [0] 1, [1] 100, [2] 2, [3] 101, [4] 102, [5] 3,
	 * [6] 4. Removing [3] moves the last node (4) under 100: it must rise. */
	static const int64_t dl[] = { 1, 100, 2, 101, 102, 3, 4 };
	struct job jobs[7];
	struct usch_timerq q;

	usch_timerq_init(&q, usch_timer_fifo_less);
	for (int i = 0; i < 7; i++) {
		jobs[i].id = i;
		usch_timer_init(&jobs[i].node);
		ck_assert_int_eq(usch_timerq_insert(&q, &jobs[i].node, dl[i]), 0);
	}
	ck_assert_ptr_eq(q.heap[3], &jobs[3].node);
	ck_assert_int_eq(usch_timerq_remove(&q, &jobs[3].node), 0);
	static const int order[] = { 0, 2, 5, 6, 1, 4 };
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(job_of(usch_timerq_pop(&q))->id, order[i]);
	usch_timerq_free(&q);
}
END_TEST

START_TEST(reserve_then_no_growth) {
	enum { N = 1000 };
	static struct job jobs[N];
	struct usch_timerq q;

	usch_timerq_init(&q, usch_timer_fifo_less);
	ck_assert_int_eq(usch_timerq_reserve(&q, N), 0);
	struct usch_timer **arr = q.heap;
	size_t cap = q.cap;
	ck_assert_uint_ge(cap, N);
	for (int i = 0; i < N; i++) {
		usch_timer_init(&jobs[i].node);
		ck_assert_int_eq(usch_timerq_insert(&q, &jobs[i].node, N - i), 0);
	}
	ck_assert_ptr_eq(q.heap, arr);
	ck_assert_uint_eq(q.cap, cap);
	ck_assert_int_eq(usch_timerq_reserve(&q, 10), 0);
	ck_assert_uint_eq(q.cap, cap);
	ck_assert_int_eq(usch_timerq_reserve(&q, SIZE_MAX), -1);
	ck_assert_uint_eq(usch_timerq_count(&q), N);
	usch_timerq_free(&q);
}
END_TEST

/* The reference: a flat list scanned for the compare's minimum. */
struct ref {
	struct job *items[512];
	size_t n;
	usch_timer_less_fn less;
};

static size_t ref_min(const struct ref *r) {
	size_t best = 0;
	for (size_t i = 1; i < r->n; i++)
		if (r->less(&r->items[i]->node, &r->items[best]->node))
			best = i;
	return best;
}

static void ref_drop(struct ref *r, size_t i) {
	r->items[i] = r->items[--r->n];
}

static size_t ref_find(const struct ref *r, const struct job *j) {
	for (size_t i = 0; i < r->n; i++)
		if (r->items[i] == j)
			return i;
	return r->n;
}

static const usch_timer_less_fn random_compares[] = {
	usch_timer_fifo_less,
	by_rank,
	latest_first,
};

START_TEST(random_ops_match_reference) {
	enum { POOL = 512, OPS = 100000 };
	static struct job jobs[POOL];
	static struct ref ref;
	struct usch_timerq q;

	unit_rng_seed(0x9E3779B97F4A7C15ull);
	ref.n = 0;
	ref.less = random_compares[_i];
	usch_timerq_init(&q, ref.less);
	for (int i = 0; i < POOL; i++) {
		jobs[i].id = i;
		/* few ranks, so that rank ties fall back to seq */
		jobs[i].rank = (i * 7) % 5;
		usch_timer_init(&jobs[i].node);
	}
	for (int op = 0; op < OPS; op++) {
		uint64_t r = unit_rng();
		struct job *j = &jobs[(r >> 8) % POOL];
		/* Small deadline range so ties are frequent. */
		int64_t d = (int64_t) ((r >> 32) % 64) - 16;
		switch (r % 8) {
		case 0:
		case 1:
		case 2:
			if (usch_timer_is_queued(&j->node)) {
				ck_assert_int_eq(usch_timerq_insert(&q, &j->node, d), -1);
				break;
			}
			ck_assert_int_eq(usch_timerq_insert(&q, &j->node, d), 0);
			ref.items[ref.n++] = j;
			break;
		case 3:
		case 4: {
			size_t i = ref_find(&ref, j);
			int want = i < ref.n ? 0 : -1;
			ck_assert_int_eq(usch_timerq_remove(&q, &j->node), want);
			if (want == 0)
				ref_drop(&ref, i);
			break;
		}
		case 5:
		case 6: {
			struct job *got = job_of(usch_timerq_pop(&q));
			if (ref.n == 0) {
				ck_assert_ptr_null(got);
				break;
			}
			size_t i = ref_min(&ref);
			ck_assert_ptr_eq(got, ref.items[i]);
			ref_drop(&ref, i);
			break;
		}
		default: {
			struct job *got = job_of(usch_timerq_peek(&q));
			ck_assert_ptr_eq(got, ref.n ? ref.items[ref_min(&ref)] : NULL);
		}
		}
		ck_assert_uint_eq(usch_timerq_count(&q), ref.n);
	}
	while (ref.n) {
		size_t i = ref_min(&ref);
		ck_assert_ptr_eq(job_of(usch_timerq_pop(&q)), ref.items[i]);
		ref_drop(&ref, i);
	}
	ck_assert_uint_eq(usch_timerq_count(&q), 0);
	usch_timerq_free(&q);
}
END_TEST

static Suite *timerq_suite(void) {
	Suite *s = suite_create("timerq");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, empty_queue);
	tcase_add_test(tc, pops_in_deadline_order);
	tcase_add_test(tc, equal_deadlines_are_fifo);
	tcase_add_test(tc, equal_deadlines_stay_fifo_across_the_wrap);
	tcase_add_test(tc, reinsert_goes_after_equal_peers);
	tcase_add_test(tc, insert_twice_and_foreign_remove_fail);
	tcase_add_test(tc, remove_each_position);
	tcase_add_test(tc, remove_sifts_replacement_up);
	tcase_add_test(tc, reserve_then_no_growth);
	tcase_add_test(tc, null_compare_is_fifo);
	tcase_add_test(tc, custom_compare_orders_ties);
	tcase_add_test(tc, compare_drives_the_whole_order);
	tcase_add_test(tc, free_keeps_the_compare);
	tcase_add_loop_test(tc, random_ops_match_reference, 0, sizeof(random_compares) / sizeof(random_compares[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void) {
	return unit_run(timerq_suite());
}
