/* cron_bench.c - micro-benchmark of usch_cron_next.
 *
 * For each of a fixed set of typical expressions, times 1e6 next-fire
 * calls (10 batches of 1e5, each from pseudo-random instants in
 * 2025-2035 so that no call reuses the previous answer) in UTC and in
 * Europe/Paris, and prints the median ns per call over the batches.
 * "Chained" is how the Python peers are measured (bench/cron_peers.py):
 * each call asks for the fire after the previous answer, from 2026-01-01.
 *
 * With expressions as arguments it measures those instead and prints
 * tab-separated rows (expression, random UTC, random Paris, chained UTC)
 * for bench/run.sh.
 *
 * Build: cc -std=gnu11 -O2 -Iplugin/core bench/cron_bench.c
 *        plugin/core/cron.c plugin/core/civil.c plugin/core/tz.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cron.h"
#include "tz.h"

#define BATCHES 10
#define PER_BATCH 100000

static const char *const exprs[] = {
	"*/5 * * * *",
	"0 * * * *",
	"30 2 * * *",
	"0 9 * * mon-fri",
	"*/15 9-17 * * 1-5",
	"0 0 1 * *",
	"0 0 L * *",
	"0 12 * * fri#2",
	"*/10 * * * * *",
	"H H(0-5) * * *",
	"@yearly",
};

static int64_t instants[PER_BATCH];
static volatile int64_t sink;

static double now_ns(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
	double x = *(const double *) a, y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Median over batches: robust against a scheduler hiccup in one batch. */
static double median_ns(const usch_cron *c, const usch_tz *tz) {
	double per[BATCHES];
	int64_t acc = 0;

	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_ns();

		for (int i = 0; i < PER_BATCH; i++)
			acc += usch_cron_next(c, tz, instants[i]);
		per[b] = (now_ns() - t0) / PER_BATCH;
	}
	sink = acc;
	qsort(per, BATCHES, sizeof(per[0]), cmp_double);
	return (per[BATCHES / 2 - 1] + per[BATCHES / 2]) / 2;
}

static double chained_ns(const usch_cron *c, const usch_tz *tz) {
	double per[BATCHES];

	for (int b = 0; b < BATCHES; b++) {
		int64_t t = 1767225600; /* 2026-01-01T00:00:00Z */
		double t0 = now_ns();

		for (int i = 0; i < PER_BATCH; i++) {
			t = usch_cron_next(c, tz, t);
			if (t == INT64_MAX)
				t = 1767225600;
		}
		per[b] = (now_ns() - t0) / PER_BATCH;
		sink = t;
	}
	qsort(per, BATCHES, sizeof(per[0]), cmp_double);
	return (per[BATCHES / 2 - 1] + per[BATCHES / 2]) / 2;
}

int main(int argc, char **argv) {
	char err[256];
	usch_tz *paris = usch_tz_load("Europe/Paris", err, sizeof(err));
	uint64_t x = 88172645463325252u;

	if (!paris) {
		fprintf(stderr, "cron_bench: %s\n", err);
		return 1;
	}
	/* xorshift64: any instant from 2025-01-01 to 2035-01-01 */
	for (int i = 0; i < PER_BATCH; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		instants[i] = 1735689600 + (int64_t) (x % (10 * 365 * 86400u));
	}
	if (argc > 1) {
		printf("#size\t%zu\n", sizeof(struct usch_cron));
		for (int i = 1; i < argc; i++) {
			usch_cron c;

			if (usch_cron_parse(&c, argv[i], "bench", err, sizeof(err))) {
				fprintf(stderr, "cron_bench: %s: %s\n", argv[i], err);
				return 1;
			}
			printf("%s\t%.1f\t%.1f\t%.1f\n", argv[i], median_ns(&c, usch_tz_utc()), median_ns(&c, paris),
					chained_ns(&c, usch_tz_utc()));
		}
		usch_tz_free(paris);
		return 0;
	}
	printf("sizeof(struct usch_cron) = %zu bytes\n", sizeof(struct usch_cron));
	printf("%-22s %10s %14s\n", "expression", "UTC ns", "Paris ns");
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		usch_cron c;

		if (usch_cron_parse(&c, exprs[i], "bench", err, sizeof(err))) {
			fprintf(stderr, "cron_bench: %s: %s\n", exprs[i], err);
			return 1;
		}
		printf("%-22s %10.1f %14.1f\n", exprs[i], median_ns(&c, usch_tz_utc()), median_ns(&c, paris));
	}
	usch_tz_free(paris);
	return 0;
}
