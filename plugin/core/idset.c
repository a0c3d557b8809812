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

int usch_idset_init(struct usch_idset *set, size_t n, char *err, size_t errlen) {
	size_t cap = 16;
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
static struct usch_idslot *slot_of(const struct usch_idset *set, const char *id) {
	size_t mask = set->cap - 1;
	for (size_t i = hash(id) & mask;; i = (i + 1) & mask) {
		struct usch_idslot *s = &set->slots[i];
		if (!s->id || !strcmp(s->id, id))
			return s;
	}
}

long usch_idset_add(struct usch_idset *set, const char *id, size_t index) {
	struct usch_idslot *s = slot_of(set, id);
	if (s->id)
		return (long) s->index;
	s->id = id;
	s->index = index;
	return -1;
}

long usch_idset_find(const struct usch_idset *set, const char *id) {
	if (!set->cap)
		return -1;
	struct usch_idslot *s = slot_of(set, id);
	return s->id ? (long) s->index : -1;
}
