/* fuzz.h - what the libFuzzer harnesses share: the input as a C string,
 * and a failed cross-check as a crash libFuzzer reports with its input. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The input up to its first NUL, NUL-terminated (free it). */
static inline char *fuzz_str(const uint8_t *data, size_t size) {
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "cross-check failed: " __VA_ARGS__); \
			fprintf(stderr, "\n"); \
			abort(); \
		} \
	} while (0)

#endif
