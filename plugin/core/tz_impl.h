/* tz_impl.h - what tz.c and tz_posix.c share and nobody else sees: the
 * layout of a loaded zone and the entry points of the POSIX TZ rule code
 * (the footer of a TZif file, or a TZ variable that holds a rule). */
#ifndef USCH_TZ_IMPL_H
#define USCH_TZ_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "tz.h"

/* Footer arithmetic works on years that fit an int; beyond ~142 million
 * years nobody schedules anything, so instants are clamped there. */
#define T_LIMIT ((int64_t) 1 << 52)

/* A POSIX TZ rule date: Jn (1-365, no Feb 29), n (0-365), Mm.w.d */
struct rule_date {
	char kind; /* 'J', 'D' or 'M' */
	int m, w, d, n;
	int32_t secs; /* local time of day, may be negative or > 24h */
};

struct usch_tz {
	char *name;
	size_t n;     /* table transitions that change the offset */
	int64_t *at;  /* ascending */
	int32_t *off; /* offset from at[i] until at[i+1] */
	int32_t off0; /* before at[0] (time type 0, RFC 8536) */
	int32_t min_off, max_off;
	int has_footer;      /* the rule governs t >= footer_from */
	int64_t footer_from; /* last raw transition, INT64_MIN if none */
	int has_dst;
	int32_t std_off, dst_off;
	struct rule_date start, end;
};

/* Fills the rule fields of tz (std_off, dst_off, has_dst, start, end)
 * from a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". Returns 0,
 * or -1 when s is not one. */
int usch_tz_posix_parse(const char *s, usch_tz *tz);

/* The offset the rule gives at instant t. */
int32_t usch_tz_rule_offset(const usch_tz *tz, int64_t t);

/* The first instant after t where the rule moves the offset away from
 * cur, or INT64_MAX. */
int64_t usch_tz_rule_next(const usch_tz *tz, int64_t t, int32_t cur);

#endif
