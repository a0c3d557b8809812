/* test_pack.c - packed jobs (usch_job_pack, usch_trigger_pack, arena.c):
 * a job copied into arenas, its original freed, lists, fires and answers
 * as the job parsed afresh does; nothing of it points into what was
 * freed (ASan). */
#include "unit.h"
#include "arena.h"
#include "job.h"
#include "listing.h"
#include "trigger.h"

#define SEC 1000000LL
#define W0 (1795510800LL * SEC) /* 2026-11-24T09:00:00Z */

static const char *const DECLS[][2] = {
	{ "scheduler-cron", "0 9 * * mon-fri app.tasks:cleanup" },
	{ "scheduler-cron", "H H(0-5) * * * app:h id=hashed max-running=3 overlap=queue timeout=5m" },
	{ "scheduler-cron", "*/5 * * * * * rpc:poll args=[1, \"two\", {\"x\": 3}] scope=once jitter=1s" },
	{ "scheduler-interval", "90s exec:echo hi there timeout=10s retries=2 retry-delay=2s" },
	{ "scheduler-interval", "1 month app:monthly start=2026-01-31T08:00:00Z tz=Europe/Paris" },
	{ "scheduler-interval", "2 weeks signal:17 end=2027-12-31T00:00:00Z coalesce=all" },
	{ "scheduler-at", "2026-12-31T23:59:00+01:00 app:happy kwargs={\"a\": [1, 2]} context=ctx" },
	{ "scheduler-cron", "0 3 * * * app:purge on-failure=rpc:alert on-success=\"exec:true --ok\" app=/b" },
	{ "scheduler-cron", "@start app:warm scope=workers workers=1,3-4 paused=true" },
	{ "scheduler-job", "{\"and\": [{\"interval\": \"1h\"}, {\"cron\": \"0 * * * *\"}], \"target\": \"app:both\"}" },
	{ "scheduler-job",
			"{\"or\": [{\"cron\": \"0 9 * * *\"}, {\"every\": \"1 day\"}], \"target\": \"app:either\"}" },
	{ "scheduler-cron", "0 8 * * * app:digest scope=cluster legion=app misfire-grace=10m catch-up=false" },
	{ "scheduler-interval", "10m app:once scope=once interrupted=rerun" },
};
#define NDECLS (sizeof(DECLS) / sizeof(DECLS[0]))

static struct usch_job *parse(size_t i, int borrow) {
	char err[1024];
	struct usch_decl_env env = { .default_tz = usch_tz_utc(), .now_us = W0, .borrow_line = borrow };
	struct usch_job *job = usch_decl_parse(DECLS[i][0], DECLS[i][1], &env, err, sizeof(err));
	ck_assert_msg(job != NULL, "%s \"%s\": %s", DECLS[i][0], DECLS[i][1], err);
	return job;
}

static char *listing(struct usch_job *const *jobs, int json) {
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(json ? usch_list_json(jobs, NDECLS, 5, W0, NULL, f)
			      : usch_list_text(jobs, NDECLS, 5, W0, NULL, f),
			0);
	fclose(f);
	return text;
}

static void assert_same_job(const struct usch_job *a, const struct usch_job *b) {
	char sa[2048], sb[2048];
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->target, b->target);
	ck_assert_str_eq(a->line, b->line);
	ck_assert_str_eq(usch_job_option(a), usch_job_option(b));
	ck_assert(!a->trigger == !b->trigger); /* a hook has none */
	if (a->trigger) {
		usch_job_schedule(a, sa, sizeof(sa));
		usch_job_schedule(b, sb, sizeof(sb));
		ck_assert_str_eq(sa, sb);
	}
	ck_assert_str_eq(usch_tz_name(a->tz), usch_tz_name(b->tz));
	ck_assert(!a->args_json == !b->args_json);
	if (a->args_json)
		ck_assert_str_eq(a->args_json, b->args_json);
	if (a->kwargs_json)
		ck_assert_str_eq(a->kwargs_json, b->kwargs_json);
	if (a->context)
		ck_assert_str_eq(a->context, b->context);
	if (a->app)
		ck_assert_str_eq(a->app, b->app);
	ck_assert(!a->cold->legion == !b->cold->legion);
	if (a->cold->legion)
		ck_assert_str_eq(a->cold->legion, b->cold->legion);
	ck_assert_int_eq(a->cold->rpc.argc, b->cold->rpc.argc);
	ck_assert(!a->cold->rpc.argv == !b->cold->rpc.argv);
	for (int i = 0; i < a->cold->rpc.argc; i++) {
		ck_assert_str_eq(a->cold->rpc.argv[i], b->cold->rpc.argv[i]);
		ck_assert_uint_eq(a->cold->rpc.argvs[i], b->cold->rpc.argvs[i]);
	}
	for (int w = 0; w < 8; w++)
		ck_assert_int_eq(usch_job_runs_on(a, w), usch_job_runs_on(b, w));
	ck_assert_int_eq(usch_job_retry_delay(a, 2), usch_job_retry_delay(b, 2));
	ck_assert_int_eq(a->timeout_us, b->timeout_us);
	ck_assert_int_eq(a->max_running, b->max_running);
	if (a->trigger) {
		ck_assert_int_eq(usch_trigger_kind(a->trigger), usch_trigger_kind(b->trigger));
		for (int64_t ta = W0, tb = W0, k = 0; k < 20; k++) {
			ta = usch_trigger_next(a->trigger, ta);
			tb = usch_trigger_next(b->trigger, tb);
			ck_assert_int_eq(ta, tb);
			if (ta == INT64_MAX)
				break;
		}
	}
}

START_TEST(packed_jobs_answer_as_parsed_ones) {
	struct usch_job *fresh[NDECLS], *packed[NDECLS];
	struct usch_arena records, triggers, text;
	usch_arena_init(&records, 4096, NULL, NULL);
	usch_arena_init(&triggers, 4096, NULL, NULL);
	usch_arena_init(&text, 4096, NULL, NULL);
	struct usch_pack to = { &records, &triggers, &text };
	for (size_t i = 0; i < NDECLS; i++) {
		fresh[i] = parse(i, 0);
		/* the original owns its line and zone: the copy must not point to them */
		struct usch_job *job = parse(i, 0);
		packed[i] = usch_job_pack(job, &to);
		ck_assert_ptr_nonnull(packed[i]);
		usch_job_free(job);
		ck_assert(packed[i]->packed);
	}
	for (size_t i = 0; i < NDECLS; i++) {
		assert_same_job(fresh[i], packed[i]);
		const struct usch_job *hooks[][2] = { { fresh[i]->on_failure, packed[i]->on_failure },
			{ fresh[i]->on_success, packed[i]->on_success } };
		for (int h = 0; h < 2; h++) {
			ck_assert(!hooks[h][0] == !hooks[h][1]);
			if (!hooks[h][0])
				continue;
			assert_same_job(hooks[h][0], hooks[h][1]);
			ck_assert_ptr_eq(hooks[h][1]->parent, packed[i]);
			ck_assert_int_eq(hooks[h][1]->hook, hooks[h][0]->hook);
		}
	}
	char *a = listing(fresh, 0), *b = listing(packed, 0);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	a = listing(fresh, 1);
	b = listing(packed, 1);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	/* end to end, no header and no size class: the records one after the
	 * other (a plain job has no cold part of its own), the triggers apart */
	ck_assert_ptr_eq((void *) packed[1], (void *) (packed[0] + 1));
	ck_assert_ptr_eq(packed[0]->id, packed[0]->target);
	for (size_t i = 0; i < NDECLS; i++) {
		usch_job_free(fresh[i]);
		usch_job_free(packed[i]); /* its zone, nothing in the arenas */
	}
	usch_arena_free(&records);
	usch_arena_free(&triggers);
	usch_arena_free(&text);
}
END_TEST

/* A restart's take-up moves an anchor after packing: the packed job gets
 * a cold part of its own outside the arenas, freed with it. */
START_TEST(packed_job_continues_from_a_remembered_run) {
	struct usch_arena records, text;
	usch_arena_init(&records, 4096, NULL, NULL);
	usch_arena_init(&text, 4096, NULL, NULL);
	struct usch_pack to = { &records, &records, &text };
	struct usch_job *job = parse(NDECLS - 1, 1);
	struct usch_job *p = usch_job_pack(job, &to);
	usch_job_free(job);
	ck_assert_ptr_eq(p->cold, &usch_job_cold_default);
	char err[128];
	ck_assert_int_eq(usch_job_continue_from(p, W0 + 7 * SEC, err, sizeof(err)), 0);
	ck_assert_ptr_ne(p->cold, &usch_job_cold_default);
	ck_assert_int_eq(p->cold->start_us, W0 + 7 * SEC);
	ck_assert_int_eq(usch_trigger_next(p->trigger, W0 + 7 * SEC), W0 + 7 * SEC + 600 * SEC);
	usch_job_free(p);
	usch_arena_free(&records);
	usch_arena_free(&text);
}
END_TEST

/* Small pieces fill a chunk end to end, text unaligned; a large one gets
 * its own chunk and leaves the current one's room to the next. */
START_TEST(arena_pieces) {
	struct usch_arena a;
	usch_arena_init(&a, 256, NULL, NULL);
	int failed = 0;
	char *s1 = usch_arena_strdup(&a, "abc", &failed), *s2 = usch_arena_strdup(&a, "de", &failed);
	ck_assert_ptr_eq(s2, s1 + 4);
	ck_assert_ptr_null(usch_arena_strdup(&a, NULL, &failed));
	ck_assert_int_eq(failed, 0);
	int64_t *n = usch_arena_alloc(&a, sizeof(*n));
	ck_assert_uint_eq((uintptr_t) n % 8, 0);
	ck_assert_int_eq(*n, 0);
	char *big = usch_arena_alloc(&a, 1000);
	memset(big, 1, 1000);
	char *after = usch_arena_alloc(&a, 8);
	ck_assert_ptr_eq(after, (char *) (n + 1));
	ck_assert_str_eq(s1, "abc");
	ck_assert_str_eq(s2, "de");
	usch_arena_free(&a);
	ck_assert_ptr_null(a.chunks);
}
END_TEST

int main(void) {
	Suite *s = suite_create("pack");
	TCase *tc = tcase_create("pack");
	tcase_add_test(tc, packed_jobs_answer_as_parsed_ones);
	tcase_add_test(tc, packed_job_continues_from_a_remembered_run);
	tcase_add_test(tc, arena_pieces);
	suite_add_tcase(s, tc);
	int ret = unit_run(s);
	unit_free_zones();
	return ret;
}
