/* decl_ctx.c - the declaration parser's context: how its messages are
 * made (`<option> "<line>": <reason>`). The bottom of the parser. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "decl_impl.h"
#include "err.h"

#define LONG_LINE 400
#define LONG_LINE_SHOWN 120

int decl_fail(struct decl_ctx *c, const char *fmt, ...) {
	/* the line may be longer than any prefix buffer: write it in place; a
	 * very long one is cut, so that what is wrong still follows it */
	size_t len = strlen(c->line);
	int n = len <= LONG_LINE ? snprintf(c->err, c->errlen, "%s \"%s\": ", c->option, c->line)
				 : snprintf(c->err, c->errlen, "%s \"%.*s...\" (%zu characters): ", c->option,
						   LONG_LINE_SHOWN, c->line, len);
	if (n < 0 || (size_t) n >= c->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	usch_vfail(c->err + n, c->errlen - (size_t) n, NULL, fmt, ap);
	va_end(ap);
	return -1;
}
