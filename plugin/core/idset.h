/* idset.h - job ids -> declaration index, in a hash table.
 *
 * Built once in the master from the declared jobs (usch_decl_finish finds
 * duplicate ids with it in linear time); read-only afterwards, so every
 * worker may look jobs up by id (state file, control) without locking.
 * Open addressing, linear probing, FNV-1a, at most half full. A slot is
 * the index alone (4 bytes, not a pointer and a size_t: 100,000 jobs'
 * table is 1 MB, not 4): the set reads each id through id_of, from the
 * caller's array, which must outlive the set. */
#ifndef USCH_IDSET_H
#define USCH_IDSET_H

#include <stddef.h>
#include <stdint.h>

/* The id at index i of the caller's array ctx. */
typedef const char *(*usch_id_of_fn)(const void *ctx, size_t i);

struct usch_idset {
	uint32_t *slots; /* index + 1; 0: empty */
	size_t cap;      /* a power of two */
	usch_id_of_fn id_of;
	const void *ctx;
};

/* Room for n ids (fewer than 2^32 - 1), read through id_of(ctx, index).
 * Returns 0, or -1 with the reason in err. */
int usch_idset_init(struct usch_idset *set, size_t n, usch_id_of_fn id_of, const void *ctx, char *err, size_t errlen);
void usch_idset_free(struct usch_idset *set);

/* Adds index, whose id is id_of(ctx, index). Returns -1 when added, else
 * the index that id already has (the set is left as it was). */
long usch_idset_add(struct usch_idset *set, size_t index);

/* The index of id, or -1. */
long usch_idset_find(const struct usch_idset *set, const char *id);

#endif
