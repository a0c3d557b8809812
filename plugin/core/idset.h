/* idset.h - job ids -> declaration index, in a hash table.
 *
 * Built once in the master from the declared jobs (usch_decl_finish finds
 * duplicate ids with it in linear time); read-only afterwards, so every
 * worker may look jobs up by id (state file, control) without locking.
 * Open addressing, linear probing, FNV-1a, at most half full. The ids are
 * borrowed: they must outlive the set. */
#ifndef USCH_IDSET_H
#define USCH_IDSET_H

#include <stddef.h>

struct usch_idset {
	struct usch_idslot {
		const char *id; /* NULL: empty */
		size_t index;
	} * slots;
	size_t cap; /* a power of two */
};

/* Room for n ids. Returns 0, or -1 with the reason in err. */
int usch_idset_init(struct usch_idset *set, size_t n, char *err, size_t errlen);
void usch_idset_free(struct usch_idset *set);

/* Adds id with its index. Returns -1 when added, else the index that id
 * already has (the set is left as it was). */
long usch_idset_add(struct usch_idset *set, const char *id, size_t index);

/* The index of id, or -1. */
long usch_idset_find(const struct usch_idset *set, const char *id);

#endif
