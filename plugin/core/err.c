/* err.c - the core's error convention (see err.h). */
#include <stdio.h>
#include "err.h"

int usch_vfail(char *err, size_t errlen, const char *prefix, const char *fmt, va_list ap) {
	if (!err || !errlen)
		return -1;
	int n = snprintf(err, errlen, "%s", prefix ? prefix : "");
	if (n >= 0 && (size_t) n < errlen)
		vsnprintf(err + n, errlen - (size_t) n, fmt, ap);
	return -1;
}

int usch_fail(char *err, size_t errlen, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	usch_vfail(err, errlen, NULL, fmt, ap);
	va_end(ap);
	return -1;
}
