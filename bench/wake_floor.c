/* wake_floor.c - make bench: the machine's own floor under the rpc:/signal:
 * lag rows. A thread sleeps to instants PERIOD_MS apart with what the
 * scheduler's executor uses (clock_nanosleep to an absolute CLOCK_MONOTONIC
 * instant, 1 ns timer slack, the short EEVDF slice while it sleeps) and
 * waits the last SPIN_US on the clock, as a non-Python fire does; prints
 * how late it was: "n p50 p99 max" in ms, or with "all" each lateness in
 * ms, one a line (for pooling). Nothing of the plugin runs.
 *
 *   wake_floor N PERIOD_MS SPIN_US [all] */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "../plugin/slice.h"

static int64_t now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: wake_floor N PERIOD_MS SPIN_US [all]\n");
		return 2;
	}
	int n = atoi(argv[1]);
	int64_t period = atoll(argv[2]) * 1000000LL, spin = atoll(argv[3]) * 1000LL;
	int64_t *late = malloc(sizeof(*late) * (size_t) (n > 0 ? n : 1));
	if (n <= 0 || period <= 0 || !late)
		return 2;
	prctl(PR_SET_TIMERSLACK, 1);
	int64_t t = (now_ns() / period + 1) * period;
	for (int i = 0; i < n; i++, t += period) {
		int64_t wake = t - spin;
		struct timespec ts = { wake / 1000000000LL, wake % 1000000000LL };
		sched_slice_ask(SCHED_SLICE_SHORT_NS);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
			;
		sched_slice_ask(0);
		while (now_ns() < t)
			;
		late[i] = now_ns() - t;
	}
	if (argc == 5) {
		for (int i = 0; i < n; i++)
			printf("%.6f\n", late[i] / 1e6);
		free(late);
		return 0;
	}
	qsort(late, (size_t) n, sizeof(*late), by_value);
	printf("%d %.3f %.3f %.3f\n", n, late[n / 2] / 1e6, late[(n * 99) / 100] / 1e6, late[n - 1] / 1e6);
	free(late);
	return 0;
}
