/* cron.h - cron expressions: parsing and next fire time.
 *
 * Semantics: see README "Cron expressions" and shared cron-semantics
 * (Vixie DOM/DOW rule, Quartz L/W/#, Jenkins H, cronie's DST rules). */
#ifndef USCH_CRON_H
#define USCH_CRON_H

#include <stddef.h>
#include <stdint.h>
#include "tz.h"

/* A compiled expression; plain data, no pointers, sizeof <= 128. */
typedef struct usch_cron usch_cron;
size_t usch_cron_size(void);

/* Parses expr (5, 6 or 7 fields, or a macro). job_id seeds H. Returns 0, or
 * -1 with a message like "field 2 (hour): 24 is out of range 0-23". */
int usch_cron_parse(usch_cron *out, const char *expr, const char *job_id,
		char *err, size_t errlen);

/* True for @start: fires once when the scheduler starts, never by clock. */
int usch_cron_is_start(const usch_cron *c);

/* Next fire instant strictly after t (Unix seconds), evaluated in tz.
 * Returns INT64_MAX when there is none (year field exhausted, @start). */
int64_t usch_cron_next(const usch_cron *c, const usch_tz *tz, int64_t t);

#endif
