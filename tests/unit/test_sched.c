/* test_sched.c - the per-worker schedule under a fake clock: first fires,
 * declaration-order ties, coalescing of late fires, wall-clock steps both
 * ways, intervals immune to them, @start, one-shot dates, paused jobs. */
#include <check.h>
#include "unit.h"
#include <stdlib.h>
#include <string.h>
#include "decl.h"
#include "sched.h"
#include "trigger.h"

#define SEC 1000000LL
/* 2026-11-24T09:00:00Z */
#define W0 (1795510800LL * SEC)

struct fake {
	int64_t mono, wall;
	struct usch_sched s;
	struct usch_job *jobs[8];
	size_t n;
	struct usch_fire fires[64];
	int nfires;
};

static void record(void *ctx, const struct usch_fire *f) {
	struct fake *fk = ctx;
	ck_assert_int_lt(fk->nfires, 64);
	fk->fires[fk->nfires++] = *f;
}

static void add(struct fake *fk, const char *option, const char *line) {
	char err[512];
	fk->jobs[fk->n++] = unit_parse_job(option, line, NULL, fk->wall);
	ck_assert_int_eq(usch_decl_finish(fk->jobs, fk->n, NULL, NULL, err, sizeof(err)), 0);
}

static void start(struct fake *fk) {
	ck_assert_int_eq(usch_sched_init(&fk->s, fk->jobs, fk->n, fk->mono, fk->wall, NULL, 0), 0);
}

static int64_t run(struct fake *fk) {
	return usch_sched_run_due(&fk->s, fk->mono, fk->wall, record, fk);
}

static void advance(struct fake *fk, int64_t us) {
	fk->mono += us;
	fk->wall += us;
}

static void done(struct fake *fk) {
	usch_sched_free(&fk->s);
	for (size_t i = 0; i < fk->n; i++)
		usch_job_free(fk->jobs[i]);
}

static struct fake *fresh(void) {
	static struct fake fk;
	memset(&fk, 0, sizeof(fk));
	fk.mono = 5000 * SEC;
	fk.wall = W0;
	return &fk;
}

START_TEST(interval_first_fire_one_period_after_start) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "30s app:f");
	start(fk);
	ck_assert_int_eq(run(fk), fk->mono + 30 * SEC);
	advance(fk, 30 * SEC - 1);
	run(fk);
	ck_assert_int_eq(fk->nfires, 0);
	advance(fk, 1);
	ck_assert_int_eq(run(fk), fk->mono + 30 * SEC);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 + 30 * SEC);
	ck_assert_int_eq(fk->fires[0].missed, 0);
	done(fk);
}
END_TEST

/* The timing thread hands an instant's fires over ahead of time: asked
 * with the clocks moved to that deadline, the schedule gives them as they
 * will be then (due_mono the deadline, on time even with a misfire-grace of 1 µs),
 * and nothing that is due later. */
START_TEST(fires_of_an_instant_ahead_of_time) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "50ms app:f misfire-grace=1us");
	add(fk, "scheduler-cron", "* * * * * * app:g misfire-grace=1us");
	start(fk);
	int64_t next = run(fk);
	ck_assert_int_eq(fk->nfires, 0);
	ck_assert_int_eq(next, fk->mono + 50000);
	int64_t ahead = next - fk->mono - 300; /* 300 µs before it */
	advance(fk, ahead);
	ck_assert_int_eq(run(fk), next);
	ck_assert_int_eq(fk->nfires, 0);
	int64_t after = usch_sched_run_due(&fk->s, next, fk->wall + (next - fk->mono), record, fk);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].due_mono, next);
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 + 50000);
	ck_assert_int_eq(fk->fires[0].misfired, 0);
	ck_assert_int_eq(fk->fires[0].missed, 0);
	ck_assert_int_eq(after, next + 50000);
	ck_assert_int_eq(usch_sched_next_deadline(&fk->s), next + 50000);
	done(fk);
}
END_TEST

START_TEST(same_instant_fires_in_declaration_order) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "1s app:a");
	add(fk, "scheduler-interval", "1s app:b");
	add(fk, "scheduler-interval", "1s app:c");
	start(fk);
	advance(fk, SEC);
	run(fk);
	ck_assert_int_eq(fk->nfires, 3);
	ck_assert_str_eq(fk->fires[0].job->id, "app:a");
	ck_assert_str_eq(fk->fires[1].job->id, "app:b");
	ck_assert_str_eq(fk->fires[2].job->id, "app:c");
	done(fk);
}
END_TEST

/* Jobs with different periods, declared in orders where re-queueing gives
 * the later-declared job the older queue entry (1s then 2s: at every even
 * second the 1s job was queued a second after the 2s one). Every instant
 * where several are due must emit exactly the due jobs, in declaration
 * order. The last combinations mix the monotonic and the wall timeline. */
static const struct tie_job {
	const char *option, *line;
	int period; /* seconds; due when it divides the elapsed time */
} tie_combos[][3] = {
	{ { "scheduler-interval", "1s app:a", 1 }, { "scheduler-interval", "2s app:b", 2 },
			{ "scheduler-interval", "3s app:c", 3 } },
	{ { "scheduler-interval", "1s app:a", 1 }, { "scheduler-interval", "3s app:b", 3 },
			{ "scheduler-interval", "2s app:c", 2 } },
	{ { "scheduler-interval", "2s app:a", 2 }, { "scheduler-interval", "1s app:b", 1 },
			{ "scheduler-interval", "3s app:c", 3 } },
	{ { "scheduler-interval", "2s app:a", 2 }, { "scheduler-interval", "3s app:b", 3 },
			{ "scheduler-interval", "1s app:c", 1 } },
	{ { "scheduler-interval", "3s app:a", 3 }, { "scheduler-interval", "1s app:b", 1 },
			{ "scheduler-interval", "2s app:c", 2 } },
	{ { "scheduler-interval", "3s app:a", 3 }, { "scheduler-interval", "2s app:b", 2 },
			{ "scheduler-interval", "1s app:c", 1 } },
	{ { "scheduler-interval", "1s app:a", 1 }, { "scheduler-cron", "*/2 * * * * * app:b", 2 },
			{ "scheduler-interval", "3s app:c", 3 } },
	{ { "scheduler-cron", "* * * * * * app:a", 1 }, { "scheduler-interval", "2s app:b", 2 },
			{ "scheduler-cron", "*/3 * * * * * app:c", 3 } },
};
#define N_TIE_COMBOS ((int) (sizeof(tie_combos) / sizeof(tie_combos[0])))

START_TEST(ties_across_periods_fire_in_declaration_order) {
	const struct tie_job *combo = tie_combos[_i];
	struct fake *fk = fresh();
	for (int j = 0; j < 3; j++)
		add(fk, combo[j].option, combo[j].line);
	start(fk);
	/* two full cycles of the periods' least common multiple (6 s) */
	for (int sec = 1; sec <= 12; sec++) {
		advance(fk, SEC);
		fk->nfires = 0;
		run(fk);
		int k = 0;
		for (int j = 0; j < 3; j++) {
			if (sec % combo[j].period)
				continue;
			ck_assert_msg(k < fk->nfires, "combo %d, second %d: job %d did not fire", _i, sec, j);
			ck_assert_msg(fk->fires[k].job == fk->jobs[j], "combo %d, second %d: fire %d is %s, want %s",
					_i, sec, k, fk->fires[k].job->id, fk->jobs[j]->id);
			ck_assert_int_eq(fk->fires[k].scheduled_us, W0 + sec * SEC);
			k++;
		}
		ck_assert_int_eq(fk->nfires, k);
	}
	done(fk);
}
END_TEST

START_TEST(late_fires_coalesce_into_one) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "10s app:f");
	start(fk);
	advance(fk, 55 * SEC);
	int64_t next = run(fk);
	/* coalesce=latest (the default): one run, for the latest due fire */
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 + 50 * SEC);
	ck_assert_int_eq(fk->fires[0].missed, 4);
	ck_assert_int_eq(fk->fires[0].covers_to, fk->fires[0].occurrence);
	ck_assert_int_eq(fk->fires[0].misfired, 0);
	ck_assert_int_eq(next, fk->mono + 5 * SEC); /* back on the 10 s grid */
	done(fk);
}
END_TEST

START_TEST(coalesce_earliest_and_all) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "10s app:early coalesce=earliest");
	add(fk, "scheduler-interval", "10s app:each coalesce=all");
	start(fk);
	advance(fk, 35 * SEC);
	run(fk);
	ck_assert_int_eq(fk->nfires, 4);
	ck_assert_str_eq(fk->fires[0].job->id, "app:early");
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 + 10 * SEC);
	ck_assert_int_eq(fk->fires[0].missed, 2);
	/* it stands for the three: a once-job's claim goes up to the latest */
	ck_assert_int_eq(fk->fires[0].covers_to, fk->fires[0].occurrence + 20 * SEC);
	for (int i = 1; i <= 3; i++) {
		ck_assert_str_eq(fk->fires[i].job->id, "app:each");
		ck_assert_int_eq(fk->fires[i].scheduled_us, W0 + i * 10 * SEC);
		ck_assert_int_eq(fk->fires[i].missed, 0);
		ck_assert_int_eq(fk->fires[i].covers_to, fk->fires[i].occurrence);
	}
	done(fk);
}
END_TEST

START_TEST(misfire_grace_marks_late_fires) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "10s app:strict misfire-grace=2s coalesce=all");
	start(fk);
	advance(fk, 31 * SEC); /* due: 10 (21 s late), 20 (11 s), 30 (1 s) */
	run(fk);
	ck_assert_int_eq(fk->nfires, 3);
	ck_assert_int_eq(fk->fires[0].misfired, 1);
	ck_assert_int_eq(fk->fires[1].misfired, 1);
	ck_assert_int_eq(fk->fires[2].misfired, 0);
	ck_assert(usch_fire_misfired(fk->jobs[0], W0, W0 + 2 * SEC) == 0);
	ck_assert(usch_fire_misfired(fk->jobs[0], W0, W0 + 2 * SEC + 1) == 1);
	done(fk);
}
END_TEST

START_TEST(jitter_delays_within_bound) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "10s app:j jitter=3s");
	start(fk);
	usch_sched_seed(&fk->s, 42);
	int64_t seen_min = INT64_MAX, seen_max = INT64_MIN;
	for (int i = 0; i < 50; i++) {
		int64_t deadline = run(fk);
		fk->wall += deadline - fk->mono;
		fk->mono = deadline;
		int before = fk->nfires;
		run(fk);
		ck_assert_int_eq(fk->nfires, before + 1);
		int64_t delay = fk->wall - fk->fires[fk->nfires - 1].scheduled_us;
		ck_assert_int_ge(delay, 0);
		ck_assert_int_le(delay, 3 * SEC);
		seen_min = delay < seen_min ? delay : seen_min;
		seen_max = delay > seen_max ? delay : seen_max;
		fk->nfires = 0;
	}
	ck_assert_int_lt(seen_min, SEC); /* spread over the range */
	ck_assert_int_gt(seen_max, 2 * SEC);
	done(fk);
}
END_TEST

START_TEST(cron_follows_the_wall_clock) {
	struct fake *fk = fresh();
	add(fk, "scheduler-cron", "*/15 * * * * * app:f"); /* seconds 0,15,30,45 */
	fk->wall += 7 * SEC;
	start(fk);
	ck_assert_int_eq(run(fk), fk->mono + 8 * SEC);
	advance(fk, 8 * SEC);
	run(fk);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 + 15 * SEC);
	done(fk);
}
END_TEST

START_TEST(clock_step_forward_is_a_misfire_run_once) {
	struct fake *fk = fresh();
	add(fk, "scheduler-cron", "0 * * * * app:hourly");
	add(fk, "scheduler-interval", "1m app:elapsed");
	start(fk);
	fk->wall += 3 * 3600 * SEC + 30 * SEC; /* NTP step: 3h30s forward */
	fk->mono += SEC;
	int64_t next = run(fk);
	/* the skipped 10:00 fire runs now, once; the interval did not move */
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_str_eq(fk->fires[0].job->id, "app:hourly");
	/* coalesce=latest: the run is for 12:00, the last fire the step skipped */
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 + 3 * 3600 * SEC);
	ck_assert_int_eq(fk->fires[0].missed, 2);
	ck_assert_int_eq(next, fk->mono + 59 * SEC);
	done(fk);
}
END_TEST

START_TEST(clock_step_back_does_not_repeat_fires) {
	struct fake *fk = fresh();
	add(fk, "scheduler-cron", "*/10 * * * * * app:f");
	fk->wall += 5 * SEC;
	start(fk);
	advance(fk, 5 * SEC);
	run(fk); /* fires 09:00:10 */
	ck_assert_int_eq(fk->nfires, 1);
	fk->wall -= 60 * SEC; /* step back a minute */
	fk->mono += 1;
	int64_t next = run(fk);
	ck_assert_int_eq(fk->nfires, 1);
	/* next is 09:00:20 on the new wall clock: 70 s away, not 08:59:20 */
	ck_assert_int_eq(next, fk->mono + 70 * SEC);
	done(fk);
}
END_TEST

/* Steps of exactly one hour, with a job of each kind: one that follows
 * the clock (every second: an hour is 3600 fires), a fixed-time one and
 * an interval. Started half-way through a second so that the interval
 * never ties with the cron job. */
static int64_t add_three(struct fake *fk, int64_t wall) {
	fk->wall = wall;
	add(fk, "scheduler-cron", "* * * * * * app:follow");
	add(fk, "scheduler-cron", "30 9 * * * app:fixed");
	add(fk, "scheduler-interval", "1m app:elapsed");
	start(fk);
	return fk->mono;
}

/* Advances the fake to the schedule's next deadline and runs what is due
 * there; returns how many fires that made. */
static int run_next(struct fake *fk) {
	int before = fk->nfires;
	int64_t deadline = run(fk);
	advance(fk, deadline - fk->mono);
	run(fk);
	return fk->nfires - before;
}

START_TEST(clock_step_forward_by_an_hour) {
	struct fake *fk = fresh();
	int64_t mono0 = add_three(fk, W0 + 5 * SEC + SEC / 2);
	advance(fk, SEC / 2);
	run(fk); /* 09:00:06 */
	ck_assert_int_eq(fk->nfires, 1);
	advance(fk, SEC / 2);
	fk->wall += 3600 * SEC; /* 09:00:06.5 -> 10:00:06.5 */
	ck_assert_int_eq(run(fk), fk->mono + SEC / 2);
	ck_assert_int_eq(fk->s.steps, 1); /* for the adapter to say */
	ck_assert_int_eq(fk->s.last_step, 3600 * SEC);
	/* the 3600 fires 09:00:07 .. 10:00:06 make one run, for the latest
	 * (coalesce=latest), and the skipped 09:30 one late run */
	ck_assert_int_eq(fk->nfires, 3);
	ck_assert_str_eq(fk->fires[1].job->id, "app:follow");
	ck_assert_int_eq(fk->fires[1].scheduled_us, W0 + 3606 * SEC);
	ck_assert_int_eq(fk->fires[1].missed, 3599);
	ck_assert_int_eq(fk->fires[1].misfired, 0);
	ck_assert_str_eq(fk->fires[2].job->id, "app:fixed");
	ck_assert_int_eq(fk->fires[2].scheduled_us, W0 + 1800 * SEC);
	ck_assert_int_eq(fk->fires[2].missed, 0);
	/* then each second on the new wall clock, until the interval fires a
	 * minute after its start, as if nothing had happened */
	fk->nfires = 0;
	while (run_next(fk) == 1 && fk->fires[fk->nfires - 1].job == fk->jobs[0]) {
		ck_assert_int_eq(fk->fires[fk->nfires - 1].scheduled_us, fk->wall);
		ck_assert_int_eq(fk->fires[fk->nfires - 1].missed, 0);
	}
	ck_assert_int_eq(fk->nfires, 59 + 1); /* 10:00:07 .. 10:01:05, then the interval */
	ck_assert_str_eq(fk->fires[59].job->id, "app:elapsed");
	ck_assert_int_eq(fk->mono, mono0 + 60 * SEC);
	ck_assert_int_eq(fk->fires[59].scheduled_us, fk->wall);
	done(fk);
}
END_TEST

START_TEST(clock_step_back_by_an_hour) {
	struct fake *fk = fresh();
	int64_t mono0 = add_three(fk, W0 + 1799 * SEC + SEC / 2);
	advance(fk, SEC / 2);
	run(fk); /* 09:30:00: follow and fixed */
	ck_assert_int_eq(fk->nfires, 2);
	advance(fk, SEC / 2);
	fk->wall -= 3600 * SEC; /* 09:30:00.5 -> 08:30:00.5 */
	ck_assert_int_eq(run(fk), mono0 + 60 * SEC);
	ck_assert_int_eq(fk->s.steps, 1);
	ck_assert_int_eq(fk->s.last_step, -3600 * SEC);
	/* for the hour the step repeats, only the interval fires, on its pace:
	 * neither the cron job's seconds nor 09:30 fire a second time */
	fk->nfires = 0;
	int minutes = 0;
	while (run_next(fk) == 1 && fk->fires[0].job == fk->jobs[2]) {
		ck_assert_int_eq(fk->mono, mono0 + ++minutes * 60 * SEC);
		fk->nfires = 0;
	}
	ck_assert_int_eq(minutes, 60);
	/* the cron job goes on with the second after its last fire, on the new
	 * wall clock */
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_str_eq(fk->fires[0].job->id, "app:follow");
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 + 1801 * SEC);
	ck_assert_int_eq(fk->fires[0].missed, 0);
	ck_assert_int_eq(fk->wall, W0 + 1801 * SEC);
	ck_assert_int_eq(run(fk), fk->mono + SEC);
	done(fk);
}
END_TEST

START_TEST(at_start_and_date_fire_once) {
	struct fake *fk = fresh();
	add(fk, "scheduler-cron", "@start app:boot");
	add(fk, "scheduler-at", "2026-11-24T09:00:02Z app:once");
	start(fk);
	run(fk);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_str_eq(fk->fires[0].job->id, "app:boot");
	advance(fk, 2 * SEC);
	ck_assert_int_eq(run(fk), INT64_MAX);
	ck_assert_int_eq(fk->nfires, 2);
	ck_assert_str_eq(fk->fires[1].job->id, "app:once");
	advance(fk, 3600 * SEC);
	run(fk);
	ck_assert_int_eq(fk->nfires, 2);
	done(fk);
}
END_TEST

START_TEST(paused_jobs_are_scheduled_like_the_others) {
	/* paused=true is the adapter's to hold (flags.c, so that
	 * scheduler.resume can let it go): the schedule fires it */
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "1s app:f paused=true");
	start(fk);
	ck_assert_int_ne(run(fk), INT64_MAX);
	advance(fk, SEC);
	run(fk);
	ck_assert_int_eq(fk->nfires, 1);
	done(fk);
}
END_TEST

START_TEST(interval_with_start_keeps_its_wall_anchor) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "1h app:f start=2026-11-24T08:30:00Z");
	start(fk);
	/* anchored at 08:30: next fire 09:30, 30 min from now */
	ck_assert_int_eq(run(fk), fk->mono + 1800 * SEC);
	done(fk);
}
END_TEST

/* scope=once: every worker computes the same occurrences, whenever it
 * started; the master parsed the job at W0. */
START_TEST(once_interval_occurrences_agree_across_workers) {
	struct usch_job *job = unit_parse_job("scheduler-interval", "1s app:o scope=once", NULL, W0);
	char err[256];
	ck_assert_int_eq(usch_decl_finish(&job, 1, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(job->anchored, 1);
	/* worker A starts 0.3 s after the master, worker B 2.7 s after, on other mono bases */
	static struct fake a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.mono = 100 * SEC, a.wall = W0 + 300000;
	b.mono = 7777 * SEC, b.wall = W0 + 2700000;
	ck_assert_int_eq(usch_sched_init(&a.s, &job, 1, a.mono, a.wall, NULL, 0), 0);
	ck_assert_int_eq(usch_sched_init(&b.s, &job, 1, b.mono, b.wall, NULL, 0), 0);
	for (int i = 0; i < 5; i++) {
		advance(&a, SEC);
		advance(&b, SEC);
		usch_sched_run_due(&a.s, a.mono, a.wall, record, &a);
		usch_sched_run_due(&b.s, b.mono, b.wall, record, &b);
	}
	ck_assert_int_eq(a.nfires, 5);
	ck_assert_int_eq(b.nfires, 5);
	for (int i = 0; i < 5; i++) {
		/* on one grid from the master's instant: A from W0+1s, B from W0+3s */
		ck_assert_int_eq(a.fires[i].occurrence, W0 + (i + 1) * SEC);
		ck_assert_int_eq(b.fires[i].occurrence, W0 + (i + 3) * SEC);
		ck_assert_int_eq(a.fires[i].scheduled_us, a.fires[i].occurrence);
	}
	usch_sched_free(&a.s);
	usch_sched_free(&b.s);
	usch_job_free(job);
}
END_TEST

START_TEST(once_jitter_is_the_same_in_every_worker) {
	struct usch_job *job = unit_parse_job("scheduler-interval", "10s app:j scope=once jitter=3s", NULL, W0);
	static struct fake a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.mono = 100 * SEC, a.wall = W0 + 1000;
	b.mono = 9000 * SEC, b.wall = W0 + 2000;
	ck_assert_int_eq(usch_sched_init(&a.s, &job, 1, a.mono, a.wall, NULL, 0), 0);
	ck_assert_int_eq(usch_sched_init(&b.s, &job, 1, b.mono, b.wall, NULL, 0), 0);
	usch_sched_seed(&a.s, 1);
	usch_sched_seed(&b.s, 987654321);
	int spread = 0;
	for (int i = 0; i < 20; i++) {
		int64_t da = usch_sched_run_due(&a.s, a.mono, a.wall, record, &a);
		int64_t db = usch_sched_run_due(&b.s, b.mono, b.wall, record, &b);
		/* the same wall instant in both, whatever their seeds */
		ck_assert_int_eq(a.wall + (da - a.mono), b.wall + (db - b.mono));
		int64_t delay = a.wall + (da - a.mono) - (W0 + (i + 1) * 10 * SEC);
		ck_assert_int_ge(delay, 0);
		ck_assert_int_le(delay, 3 * SEC);
		spread |= delay > SEC;
		advance(&a, da - a.mono);
		advance(&b, db - b.mono);
		usch_sched_run_due(&a.s, a.mono, a.wall, record, &a);
		usch_sched_run_due(&b.s, b.mono, b.wall, record, &b);
		ck_assert_int_eq(a.fires[a.nfires - 1].occurrence, b.fires[b.nfires - 1].occurrence);
		a.nfires = b.nfires = 0;
	}
	ck_assert(spread);
	usch_sched_free(&a.s);
	usch_sched_free(&b.s);
	usch_job_free(job);
}
END_TEST

/* A worker's schedule, built from the view of its jobs (what it reads
 * of them at start), finds a job by its index: next_due and resume answer
 * for the job asked, among many, in declaration order or out of it. */
START_TEST(jobs_found_among_many_by_index) {
	enum { N = 40 };
	struct usch_job *jobs[N];
	char line[64], err[256];
	for (int i = 0; i < N; i++) {
		snprintf(line, sizeof(line), "%ds app:j%d", 10 + i, i);
		jobs[i] = unit_parse_job("scheduler-interval", line, NULL, W0);
	}
	ck_assert_int_eq(usch_decl_finish(jobs, N, NULL, NULL, err, sizeof(err)), 0);
	struct usch_sched_job view[N];
	usch_sched_view(jobs, N, INT64_MIN, view);
	ck_assert_ptr_eq(view[7].job, jobs[7]);
	ck_assert_uint_eq(view[7].index, 7);
	struct usch_sched in_order, reversed;
	int64_t mono = 5000 * SEC;
	ck_assert_int_eq(usch_sched_init_view(&in_order, view, N, INT64_MIN, mono, W0, NULL, 0), 0);
	struct usch_sched_job back[N];
	for (int i = 0; i < N; i++)
		back[i] = view[N - 1 - i];
	ck_assert_int_eq(usch_sched_init_view(&reversed, back, N, INT64_MIN, mono, W0, NULL, 0), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(usch_sched_next_due(&in_order, jobs[i]), mono + (10 + i) * SEC);
		ck_assert_int_eq(usch_sched_next_due(&reversed, jobs[i]), mono + (10 + i) * SEC);
	}
	/* the last run was 5 s ago: the next one period after it */
	ck_assert_int_eq(usch_sched_resume(&in_order, jobs[23], INT64_MIN, W0 - 5 * SEC, mono, W0), 0);
	ck_assert_int_eq(usch_sched_next_due(&in_order, jobs[23]), mono + 28 * SEC);
	ck_assert_int_eq(usch_sched_next_due(&in_order, jobs[22]), mono + 32 * SEC);
	ck_assert_int_eq(usch_sched_next_due(&in_order, jobs[24]), mono + 34 * SEC);
	struct usch_job *stranger = unit_parse_job("scheduler-interval", "1s app:x", NULL, W0);
	stranger->index = 23;
	ck_assert_int_eq(usch_sched_next_due(&in_order, stranger), INT64_MAX);
	ck_assert_int_eq(usch_sched_resume(&in_order, stranger, INT64_MIN, W0, mono, W0), -1);
	usch_job_free(stranger);
	usch_sched_free(&in_order);
	usch_sched_free(&reversed);
	for (int i = 0; i < N; i++)
		usch_job_free(jobs[i]);
}
END_TEST

/* The master's view carries each wall job's first fire after its instant:
 * a schedule starting later takes it while it stands (no trigger read),
 * computes afresh once it has passed or when the clock is behind the
 * view's instant, and an elapsed-time interval counts from its own start. */
START_TEST(first_fires_from_the_view) {
	struct usch_job *jobs[3];
	char err[256];
	jobs[0] = unit_parse_job("scheduler-cron", "0 * * * * app:hourly", NULL, W0);
	jobs[1] = unit_parse_job("scheduler-interval", "10m app:anchored start=2026-11-24T08:55:00Z", NULL, W0);
	jobs[2] = unit_parse_job("scheduler-interval", "10m app:elapsed", NULL, W0);
	ck_assert_int_eq(usch_decl_finish(jobs, 3, NULL, NULL, err, sizeof(err)), 0);
	struct usch_sched_job view[3];
	usch_sched_view(jobs, 3, W0, view);
	ck_assert_int_eq(view[0].first, W0 + 3600 * SEC);
	ck_assert_int_eq(view[1].first, W0 + 300 * SEC);
	ck_assert_int_eq(view[2].first, 600 * SEC); /* elapsed time: after each schedule's start */
	/* markers in place of the hourly fire and of the elapsed interval's:
	 * taken while they stand */
	view[0].first = W0 + 1234 * SEC;
	view[2].first = 777 * SEC;
	int64_t mono = 7000 * SEC;
	struct usch_sched s;
	ck_assert_int_eq(usch_sched_init_view(&s, view, 3, W0, mono, W0 + 60 * SEC, NULL, 0), 0);
	ck_assert_int_eq(usch_sched_next_due(&s, jobs[0]), mono + (1234 - 60) * SEC);
	ck_assert_int_eq(usch_sched_next_due(&s, jobs[1]), mono + (300 - 60) * SEC);
	ck_assert_int_eq(usch_sched_next_due(&s, jobs[2]), mono + 777 * SEC);
	usch_sched_free(&s);
	/* passed: from the trigger (the next hour after 09:25 is 10:00) */
	ck_assert_int_eq(usch_sched_init_view(&s, view, 3, W0, mono, W0 + 1500 * SEC, NULL, 0), 0);
	ck_assert_int_eq(usch_sched_next_due(&s, jobs[0]), mono + (3600 - 1500) * SEC);
	ck_assert_int_eq(usch_sched_next_due(&s, jobs[1]), mono + (2100 - 1500) * SEC); /* 09:35 */
	usch_sched_free(&s);
	/* the clock is behind the view's instant: from the trigger too */
	ck_assert_int_eq(usch_sched_init_view(&s, view, 3, W0, mono, W0 - 1800 * SEC, NULL, 0), 0);
	ck_assert_int_eq(usch_sched_next_due(&s, jobs[0]), mono + 1800 * SEC);
	usch_sched_free(&s);
	for (int i = 0; i < 3; i++)
		usch_job_free(jobs[i]);
}
END_TEST

START_TEST(resume_takes_up_from_the_last_claimed_occurrence) {
	struct fake *fk = fresh();
	fk->jobs[fk->n++] = unit_parse_job("scheduler-interval", "1s app:o scope=once", NULL, W0);
	/* this worker starts 5.5 s after the master; the last occurrence any
	 * worker claimed is W0+1s: W0+2s .. W0+5s are due, late */
	advance(fk, 5500000);
	start(fk);
	ck_assert_int_eq(usch_sched_resume(&fk->s, fk->jobs[0], W0 + SEC, INT64_MIN, fk->mono, fk->wall), 0);
	run(fk);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].occurrence, W0 + 5 * SEC);
	ck_assert_int_eq(fk->fires[0].missed, 3);
	/* then on its grid */
	ck_assert_int_eq(run(fk), fk->mono + 500000);
	/* a claim at or after where the entry stands changes nothing */
	ck_assert_int_eq(usch_sched_resume(&fk->s, fk->jobs[0], W0 + 6 * SEC, INT64_MIN, fk->mono, fk->wall), 0);
	ck_assert_int_eq(run(fk), fk->mono + 500000);
	ck_assert_int_eq(usch_sched_resume(&fk->s, fk->jobs[0], INT64_MIN, INT64_MIN, fk->mono, fk->wall), 0);
	ck_assert_int_eq(fk->nfires, 1);
	done(fk);
}
END_TEST

START_TEST(resumed_fires_are_catch_up_and_later_ones_not) {
	struct fake *fk = fresh();
	add(fk, "scheduler-cron", "* * * * * * app:c coalesce=all");
	start(fk);
	/* the state says the last run was 3 s before this start */
	ck_assert_int_eq(usch_sched_resume(&fk->s, fk->jobs[0], W0 - 3 * SEC, INT64_MIN, fk->mono, fk->wall), 0);
	run(fk);
	ck_assert_int_eq(fk->nfires, 3); /* W0-2s, W0-1s, W0 */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(fk->fires[i].occurrence, W0 + (i - 2) * SEC);
		ck_assert(fk->fires[i].catch_up);
		ck_assert_int_eq(fk->fires[i].dropped, 0);
		ck_assert_int_eq(fk->fires[i].burst, i + 1); /* one burst, in order */
	}
	advance(fk, SEC);
	run(fk);
	ck_assert_int_eq(fk->nfires, 4);
	ck_assert(!fk->fires[3].catch_up);
	ck_assert_int_eq(fk->fires[3].burst, 0);
	done(fk);
}
END_TEST

/* More fires than the fake holds. */
struct capture {
	struct usch_fire f[128];
	int n;
};

static void capture_fire(void *ctx, const struct usch_fire *f) {
	struct capture *c = ctx;
	ck_assert_int_lt(c->n, 128);
	c->f[c->n++] = *f;
}

START_TEST(coalesce_all_runs_the_latest_hundred) {
	struct fake *fk = fresh();
	add(fk, "scheduler-cron", "* * * * * * app:c coalesce=all");
	start(fk);
	struct capture c = { .n = 0 };
	ck_assert_int_eq(usch_sched_resume(&fk->s, fk->jobs[0], W0 - 150 * SEC, INT64_MIN, fk->mono, fk->wall), 0);
	usch_sched_run_due(&fk->s, fk->mono, fk->wall, capture_fire, &c);
	int n = c.n;
	struct usch_fire *many = c.f;
	/* W0-149s .. W0 were due: the earliest 50 are dropped */
	ck_assert_int_eq(n, USCH_ALL_MAX);
	ck_assert_int_eq(many[0].dropped, 150 - USCH_ALL_MAX);
	ck_assert_int_eq(many[0].occurrence, W0 - (USCH_ALL_MAX - 1) * SEC);
	ck_assert_int_eq(many[n - 1].occurrence, W0);
	for (int i = 1; i < n; i++)
		ck_assert_int_eq(many[i].dropped, 0);
	done(fk);
}
END_TEST

/* Two days of a job that fires each second are more late fires than are
 * counted one by one: still the latest ones run, on time. */
START_TEST(clock_step_past_the_count_runs_the_latest_fires) {
	struct fake *fk = fresh();
	add(fk, "scheduler-cron", "* * * * * * app:latest misfire-grace=5s");
	add(fk, "scheduler-cron", "* * * * * * app:each coalesce=all");
	start(fk);
	fk->wall += 2 * 86400 * SEC + SEC / 2;
	fk->mono += SEC / 2;
	struct capture c = { .n = 0 };
	usch_sched_run_due(&fk->s, fk->mono, fk->wall, capture_fire, &c);
	int64_t now = W0 + 2 * 86400 * SEC;
	ck_assert_int_eq(c.n, 1 + USCH_ALL_MAX);
	ck_assert_str_eq(c.f[0].job->id, "app:latest");
	ck_assert_int_eq(c.f[0].scheduled_us, now);
	ck_assert_int_eq(c.f[0].misfired, 0);
	ck_assert_int_ge(c.f[0].missed, USCH_MISSED_WALK - 1);
	ck_assert_int_ge(c.f[1].dropped, USCH_MISSED_WALK - USCH_ALL_MAX);
	for (int i = 1; i <= USCH_ALL_MAX; i++) {
		ck_assert_str_eq(c.f[i].job->id, "app:each");
		ck_assert_int_eq(c.f[i].scheduled_us, now - (USCH_ALL_MAX - i) * SEC);
		ck_assert_int_eq(c.f[i].burst, i);
	}
	ck_assert_int_eq(run(fk), fk->mono + SEC / 2);
	done(fk);
}
END_TEST

START_TEST(elapsed_interval_resumes_one_period_after_its_last_run) {
	struct fake *fk = fresh();
	add(fk, "scheduler-interval", "10s app:i");
	start(fk);
	/* last run 4 s before this start: next at +6 s, not +10 s */
	ck_assert_int_eq(usch_sched_resume(&fk->s, fk->jobs[0], INT64_MIN, W0 - 4 * SEC, fk->mono, fk->wall), 0);
	ck_assert_int_eq(run(fk), fk->mono + 6 * SEC);
	advance(fk, 6 * SEC);
	ck_assert_int_eq(run(fk), fk->mono + 10 * SEC);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 + 6 * SEC);
	ck_assert(!fk->fires[0].catch_up);
	/* a last run 25 s ago: two periods were missed, one late run */
	done(fk);
	fk = fresh();
	add(fk, "scheduler-interval", "10s app:i");
	start(fk);
	ck_assert_int_eq(usch_sched_resume(&fk->s, fk->jobs[0], INT64_MIN, W0 - 25 * SEC, fk->mono, fk->wall), 0);
	ck_assert_int_eq(run(fk), fk->mono + 5 * SEC);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].missed, 1);
	ck_assert_int_eq(fk->fires[0].scheduled_us, W0 - 5 * SEC);
	ck_assert(fk->fires[0].catch_up);
	done(fk);
}
END_TEST

START_TEST(once_interval_continues_from_a_remembered_run) {
	struct fake *fk = fresh();
	/* declared now (W0): its own grid would be W0+10s, W0+20s ... */
	struct usch_job *job = unit_parse_job("scheduler-interval", "10s app:o scope=once", NULL, W0);
	ck_assert(job->implicit_anchor);
	char before[512], after[512], err[128];
	usch_job_schedule(job, before, sizeof(before));
	/* the state remembers a run at W0-3s */
	ck_assert_int_eq(usch_job_continue_from(job, W0 - 3 * SEC, err, sizeof(err)), 0);
	usch_job_schedule(job, after, sizeof(after));
	ck_assert_str_eq(before, after);
	fk->jobs[fk->n++] = job;
	start(fk);
	ck_assert_int_eq(usch_sched_resume(&fk->s, job, W0 - 3 * SEC, INT64_MIN, fk->mono, fk->wall), 0);
	ck_assert_int_eq(run(fk), fk->mono + 7 * SEC);
	advance(fk, 7 * SEC);
	run(fk);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].occurrence, W0 + 7 * SEC);
	done(fk);
}
END_TEST

START_TEST(calendar_continues_from_a_remembered_run) {
	struct usch_job *job = unit_parse_job("scheduler-interval", "1 day app:d", NULL, W0);
	ck_assert(job->implicit_anchor);
	char err[128];
	ck_assert_int_eq(usch_job_continue_from(job, W0 - 3600 * SEC, err, sizeof(err)), 0);
	ck_assert_int_eq(usch_trigger_next(job->trigger, W0 - 3600 * SEC), W0 + 23 * 3600 * SEC);
	usch_job_free(job);
	/* an explicit start= is the user's anchor: kept */
	job = unit_parse_job("scheduler-interval", "10s app:o scope=once start=2026-11-24T08:00:00Z", NULL, W0);
	ck_assert(!job->implicit_anchor);
	ck_assert_int_eq(usch_job_continue_from(job, W0 - 3 * SEC, err, sizeof(err)), 0);
	ck_assert_int_eq(usch_trigger_next(job->trigger, W0 - 3 * SEC), W0);
	usch_job_free(job);
}
END_TEST

START_TEST(schedule_text_changes_with_the_trigger_only) {
	char a[512], b[512], c[512];
	struct usch_job *j1 = unit_parse_job("scheduler-cron", "*/5 * * * * app:f tz=Europe/Paris", NULL, W0);
	struct usch_job *j2 = unit_parse_job("scheduler-cron", "*/5 * * * * app:g args=[1] tz=Europe/Paris", NULL, W0);
	struct usch_job *j3 = unit_parse_job("scheduler-cron", "*/10 * * * * app:f tz=Europe/Paris", NULL, W0);
	usch_job_schedule(j1, a, sizeof(a));
	usch_job_schedule(j2, b, sizeof(b));
	usch_job_schedule(j3, c, sizeof(c));
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_ptr_nonnull(strstr(a, "Europe/Paris"));
	usch_job_free(j1);
	usch_job_free(j2);
	usch_job_free(j3);
}
END_TEST

START_TEST(once_at_start_has_one_occurrence) {
	struct fake *fk = fresh();
	add(fk, "scheduler-cron", "@start app:s scope=once");
	start(fk);
	run(fk);
	ck_assert_int_eq(fk->nfires, 1);
	ck_assert_int_eq(fk->fires[0].occurrence, USCH_OCCURRENCE_START);
	done(fk);
}
END_TEST

int main(void) {
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("sched");
	tcase_add_test(tc, interval_first_fire_one_period_after_start);
	tcase_add_test(tc, fires_of_an_instant_ahead_of_time);
	tcase_add_test(tc, same_instant_fires_in_declaration_order);
	tcase_add_loop_test(tc, ties_across_periods_fire_in_declaration_order, 0, N_TIE_COMBOS);
	tcase_add_test(tc, late_fires_coalesce_into_one);
	tcase_add_test(tc, coalesce_earliest_and_all);
	tcase_add_test(tc, misfire_grace_marks_late_fires);
	tcase_add_test(tc, jitter_delays_within_bound);
	tcase_add_test(tc, cron_follows_the_wall_clock);
	tcase_add_test(tc, clock_step_forward_is_a_misfire_run_once);
	tcase_add_test(tc, clock_step_back_does_not_repeat_fires);
	tcase_add_test(tc, clock_step_forward_by_an_hour);
	tcase_add_test(tc, clock_step_back_by_an_hour);
	tcase_add_test(tc, at_start_and_date_fire_once);
	tcase_add_test(tc, paused_jobs_are_scheduled_like_the_others);
	tcase_add_test(tc, interval_with_start_keeps_its_wall_anchor);
	tcase_add_test(tc, once_interval_occurrences_agree_across_workers);
	tcase_add_test(tc, once_jitter_is_the_same_in_every_worker);
	tcase_add_test(tc, resume_takes_up_from_the_last_claimed_occurrence);
	tcase_add_test(tc, jobs_found_among_many_by_index);
	tcase_add_test(tc, first_fires_from_the_view);
	tcase_add_test(tc, once_at_start_has_one_occurrence);
	tcase_add_test(tc, resumed_fires_are_catch_up_and_later_ones_not);
	tcase_add_test(tc, coalesce_all_runs_the_latest_hundred);
	tcase_add_test(tc, clock_step_past_the_count_runs_the_latest_fires);
	tcase_add_test(tc, elapsed_interval_resumes_one_period_after_its_last_run);
	tcase_add_test(tc, once_interval_continues_from_a_remembered_run);
	tcase_add_test(tc, calendar_continues_from_a_remembered_run);
	tcase_add_test(tc, schedule_text_changes_with_the_trigger_only);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
