/* workers.c - sets of worker ids (see workers.h). */
#include <stdio.h>
#include <stdlib.h>
#include "err.h"
#include "workers.h"

#define EXPECTED "expected worker ids (1-%d) like 1,3 or 2-4"

#define WORDS (USCH_MAX_WORKER_ID / 64)

static int add(struct usch_workers *set, long id) {
	if (!set->bits && !(set->bits = calloc(WORDS, sizeof(*set->bits))))
		return -1;
	set->bits[id / 64] |= 1ULL << (id % 64);
	return 0;
}

void usch_workers_free(struct usch_workers *set) {
	free(set->bits);
	set->bits = NULL;
}

int usch_workers_parse(struct usch_workers *set, const char *text, char *err, size_t errlen) {
	const char *p = text;
	if (!*p)
		return usch_fail(err, errlen, EXPECTED, USCH_MAX_WORKER_ID - 1);
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;
		if (end == p || *p == '-' || *p == '+' || a < 1 || a >= USCH_MAX_WORKER_ID)
			return usch_fail(err, errlen, EXPECTED, USCH_MAX_WORKER_ID - 1);
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || p[1] == '-' || p[1] == '+' || b < a || b >= USCH_MAX_WORKER_ID)
				return usch_fail(err, errlen, "bad range after %ld", a);
			p = end;
		}
		for (long w = a; w <= b; w++)
			if (add(set, w) < 0)
				return usch_fail(err, errlen, "out of memory");
		if (*p == ',') {
			if (!*++p) /* a trailing comma */
				return usch_fail(err, errlen, EXPECTED, USCH_MAX_WORKER_ID - 1);
		}
		else if (*p) {
			return usch_fail(err, errlen, "unexpected \"%c\"", *p);
		}
	}
	return 0;
}

int usch_workers_has(const struct usch_workers *set, int id) {
	return set->bits && id > 0 && id < USCH_MAX_WORKER_ID && (set->bits[id / 64] >> (id % 64)) & 1;
}

int usch_workers_empty(const struct usch_workers *set) {
	for (size_t i = 0; set->bits && i < WORDS; i++)
		if (set->bits[i])
			return 0;
	return 1;
}

void usch_workers_format(const struct usch_workers *set, char *buf, size_t len) {
	size_t k = 0;
	if (!len)
		return;
	buf[0] = 0;
	if (!set->bits)
		return; /* no workers= (the dry run asks this of every job) */
	for (int w = 1; w < USCH_MAX_WORKER_ID && k + 12 < len; w++) {
		if (!set->bits[w / 64]) {
			w |= 63; /* the next word's first */
			continue;
		}
		if (!usch_workers_has(set, w))
			continue;
		int last = w;
		while (usch_workers_has(set, last + 1))
			last++;
		if (last > w)
			k += snprintf(buf + k, len - k, "%s%d-%d", k ? "," : "", w, last);
		else
			k += snprintf(buf + k, len - k, "%s%d", k ? "," : "", w);
		w = last;
	}
}
