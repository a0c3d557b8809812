/* err.h - the core's one error convention.
 *
 * A function that can fail returns 0 (or a pointer) on success and -1 (or
 * NULL) on failure, with the reason as text in a buffer the caller passes
 * as its last two parameters (char *err, size_t errlen). The text never
 * repeats the input the caller already quotes; the caller adds its own
 * context in front ("scheduler-cron \"...\": " + reason). errno is not
 * part of the convention. */
#ifndef USCH_ERR_H
#define USCH_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* Writes the formatted reason into err (when err and errlen are set) and
 * returns -1, so that `return usch_fail(err, errlen, ...);` fails. */
int usch_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same with a prefix (NULL or "" for none) and a va_list, for the
 * wrappers that add their own context. */
int usch_vfail(char *err, size_t errlen, const char *prefix, const char *fmt, va_list ap)
		__attribute__((format(printf, 4, 0)));

#endif
