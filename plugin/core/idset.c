/* idset.c - the id hash table (see idset.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"
#include "idset.h"

static uint32_t hash(const char *s) {
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

int usch_idset_init(struct usch_idset *set, size_t n, usch_id_of_fn id_of, const void *ctx, char *err, size_t errlen) {
	size_t cap = 16;
	set->id_of = id_of;
	set->ctx = ctx;
	if (n >= UINT32_MAX)
		return usch_fail(err, errlen, "too many jobs");
	while (cap < 2 * n) {
		if (cap > SIZE_MAX / 4 / sizeof(*set->slots))
			return usch_fail(err, errlen, "too many jobs");
		cap *= 2;
	}
	set->slots = calloc(cap, sizeof(*set->slots));
	set->cap = set->slots ? cap : 0;
	return set->slots ? 0 : usch_fail(err, errlen, "out of memory");
}

void usch_idset_free(struct usch_idset *set) {
	free(set->slots);
	set->slots = NULL;
	set->cap = 0;
}

/* The slot of id, or the empty slot where it would go. */
static uint32_t *slot_of(const struct usch_idset *set, const char *id) {
	size_t mask = set->cap - 1;
	for (size_t i = hash(id) & mask;; i = (i + 1) & mask) {
		uint32_t *s = &set->slots[i];
		if (!*s || !strcmp(set->id_of(set->ctx, *s - 1), id))
			return s;
	}
}

long usch_idset_add(struct usch_idset *set, size_t index) {
	uint32_t *s = slot_of(set, set->id_of(set->ctx, index));
	if (*s)
		return (long) *s - 1;
	*s = (uint32_t) index + 1;
	return -1;
}

long usch_idset_find(const struct usch_idset *set, const char *id) {
	if (!set->cap)
		return -1;
	uint32_t *s = slot_of(set, id);
	return *s ? (long) *s - 1 : -1;
}
