/* workers.h - a set of worker ids (1 .. USCH_MAX_WORKER_ID-1), as
 * `workers=1,3-4` writes it: parsed by the declarations, asked by the
 * scheduler (does worker N run this job?), written back by the listing.
 * The bits are allocated when the first id is added: most jobs have no
 * workers=, and 100,000 of them should not carry 128 bytes each. */
#ifndef USCH_WORKERS_H
#define USCH_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#define USCH_MAX_WORKER_ID 1024

struct usch_workers {
	uint64_t *bits; /* USCH_MAX_WORKER_ID / 64 words, NULL: empty */
};

/* Adds the ids of text ("1,3", "2-4", "1,5-7") to set. Returns 0, or -1
 * with the reason in err (not repeating text, or out of memory); what was
 * added is freed by usch_workers_free either way. */
int usch_workers_parse(struct usch_workers *set, const char *text, char *err, size_t errlen);

void usch_workers_free(struct usch_workers *set);

int usch_workers_has(const struct usch_workers *set, int id);
int usch_workers_empty(const struct usch_workers *set);

/* The ids as workers= takes them, runs as ranges ("1,3-5"); "" for an
 * empty set. Even every other id (the longest text) fits
 * USCH_WORKERS_TEXT_MAX. */
#define USCH_WORKERS_TEXT_MAX 4096
void usch_workers_format(const struct usch_workers *set, char *buf, size_t len);

#endif
