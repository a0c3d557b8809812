/* arena.h - memory for what lives as long as the declarations: a bump
 * allocator over chunks the caller provides.
 *
 * A packed job (usch_job_pack) is one run of bytes in an arena, with no
 * malloc header and no size-class rounding per piece (100,000 jobs: some
 * 60 bytes each), and its pages are wherever the chunk function takes
 * them from: the adapter gives pages shared with the workers (made before
 * fork), which count in a worker's memory only once it reads them.
 * Nothing is freed one by one: usch_arena_free releases every chunk. Not
 * thread-safe; filled before the jobs are shared, read-only afterwards. */
#ifndef USCH_ARENA_H
#define USCH_ARENA_H

#include <stddef.h>

/* A chunk of size bytes, zeroed, or NULL; and its release. */
typedef void *(*usch_chunk_alloc_fn)(size_t size);
typedef void (*usch_chunk_free_fn)(void *chunk, size_t size);

struct usch_arena {
	char *next, *end; /* the room left in the current chunk */
	size_t chunk_size;
	usch_chunk_alloc_fn alloc;  /* NULL: calloc */
	usch_chunk_free_fn release; /* NULL: free; with alloc set and release NULL, chunks are never released */
	void *chunks;               /* the chunks, linked through their first word */
	size_t used;                /* bytes handed out, for the figures */
};

/* An empty arena taking chunks of chunk_size bytes (a larger piece gets
 * a chunk of its own) from alloc (NULL: calloc, released by free). */
void usch_arena_init(struct usch_arena *a, size_t chunk_size, usch_chunk_alloc_fn alloc, usch_chunk_free_fn release);

/* size zeroed bytes aligned for any object, or NULL when out of memory. */
void *usch_arena_alloc(struct usch_arena *a, size_t size);

/* A copy of s (NULL for NULL), or NULL when out of memory (then *failed
 * is set, so that a NULL s and a failure can be told apart). */
char *usch_arena_strdup(struct usch_arena *a, const char *s, int *failed);

/* Releases every chunk; a is then empty, ready for reuse. */
void usch_arena_free(struct usch_arena *a);

#endif
