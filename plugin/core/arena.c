/* arena.c - the declarations' bump allocator (see arena.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"

/* Every piece starts on this boundary: int64_t, double and pointers. */
#define ALIGN 8

/* The first words of a chunk: the one before, and its size. */
struct chunk {
	struct chunk *prev;
	size_t size;
};

#define HEAD ((sizeof(struct chunk) + ALIGN - 1) & ~(size_t) (ALIGN - 1))

void usch_arena_init(struct usch_arena *a, size_t chunk_size, usch_chunk_alloc_fn alloc, usch_chunk_free_fn release) {
	memset(a, 0, sizeof(*a));
	a->chunk_size = chunk_size > HEAD + ALIGN ? chunk_size : 4096;
	a->alloc = alloc;
	a->release = release;
}

static struct chunk *new_chunk(struct usch_arena *a, size_t size) {
	struct chunk *c = a->alloc ? a->alloc(size) : calloc(1, size);
	if (!c)
		return NULL;
	c->prev = a->chunks;
	c->size = size;
	a->chunks = c;
	return c;
}

/* size bytes on an align boundary (a power of two, at most ALIGN). */
static void *take(struct usch_arena *a, size_t size, size_t align) {
	if (size > SIZE_MAX - HEAD - ALIGN)
		return NULL;
	char *at = (char *) (((uintptr_t) a->next + align - 1) & ~(uintptr_t) (align - 1));
	if (!a->next || (size_t) (a->end - at) < size) {
		/* a piece past a quarter chunk gets its own: the room left in the
		 * current one stays for the small pieces that follow */
		if (size > (a->chunk_size - HEAD) / 4) {
			struct chunk *own = new_chunk(a, HEAD + size);
			if (!own)
				return NULL;
			a->used += size;
			return (char *) own + HEAD;
		}
		struct chunk *c = new_chunk(a, a->chunk_size);
		if (!c)
			return NULL;
		at = (char *) c + HEAD;
		a->end = (char *) c + a->chunk_size;
	}
	a->next = at + size;
	a->used += size;
	return at;
}

void *usch_arena_alloc(struct usch_arena *a, size_t size) {
	return take(a, size, ALIGN);
}

char *usch_arena_strdup(struct usch_arena *a, const char *s, int *failed) {
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = take(a, n, 1); /* text needs no alignment: packed end to end */
	if (!p) {
		*failed = 1;
		return NULL;
	}
	memcpy(p, s, n);
	return p;
}

void usch_arena_free(struct usch_arena *a) {
	struct chunk *c = a->chunks;
	while (c) {
		struct chunk *prev = c->prev;
		if (!a->alloc)
			free(c);
		else if (a->release)
			a->release(c, c->size);
		c = prev;
	}
	usch_arena_init(a, a->chunk_size, a->alloc, a->release);
}
