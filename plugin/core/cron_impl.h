/* cron_impl.h - what cron_parse.c and cron.c share and nobody else sees:
 * the meaning of struct usch_cron's flags and the zone-free search the
 * parser uses to refuse expressions that never fire. */
#ifndef USCH_CRON_IMPL_H
#define USCH_CRON_IMPL_H

#include <stdint.h>
#include "cron.h"

#define FL_DOM_STAR 0x0001u /* day-of-month unrestricted (Vixie rule) */
#define FL_DOW_STAR 0x0002u /* day-of-week unrestricted */
#define FL_FOLLOWS 0x0004u  /* second, minute or hour begins with '*' */
#define FL_START 0x0008u    /* @start */
#define FL_YEARS 0x0010u    /* year field present and not '*' */
#define FL_LW 0x0020u       /* "LW" in day-of-month */
#define FL_QUARTZ 0x0040u   /* some L/W/# form: day masks need the slow path */
#define FL_ALLDAYS 0x0080u  /* every day matches: day masks need no weekday */

#define YEAR0 1970 /* bit 0 of usch_cron.years */

/* Smallest local time (seconds on the zone-free time line of civil.h) at
 * or after w that matches c, or INT64_MAX. Skips whole years, months and
 * days by bitmask; without a year field it searches 401 years, enough for
 * the 400-year calendar cycle. */
int64_t usch_cron_next_local(const struct usch_cron *c, int64_t w);

#endif
