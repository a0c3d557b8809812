/* timefmt.h - text <-> time: durations ("1h30m") and RFC 3339 / ISO 8601
 * date-times ("2026-11-24T09:00:00+01:00").
 *
 * All values are int64 microseconds: durations are elapsed time, instants
 * are microseconds since the Unix epoch (UTC). Error messages written to
 * err do not repeat the input text (callers quote it themselves), e.g.
 * "unknown unit \"x\" (use us, ms, s, m, h, d, w)". */
#ifndef USCH_TIMEFMT_H
#define USCH_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include "tz.h"

/* Parses a duration: one or more <number><unit> with units from largest to
 * smallest, each at most once: w (7 days), d (24 h), h, m, s, ms, us.
 * Numbers are decimal and may have a fraction ("1.5s", "0.25h") as long as
 * the result is a whole number of microseconds. No sign, no spaces.
 * Examples: "250ms", "30s", "5m", "1h30m", "2d", "1w", "1.5s", "0s".
 * Zero is accepted (returns 0 with *out_us = 0): the caller decides
 * whether it makes sense. A bare number ("30") is an error, as are
 * unknown units, units out of order and values beyond INT64_MAX us.
 * Returns 0, or -1 with a message in err. */
int usch_duration_parse(const char *s, int64_t *out_us, char *err, size_t errlen);

/* Writes the canonical form of a duration: integer components from weeks
 * down to microseconds, zero components left out ("1h30m", "250ms",
 * "1s500ms", "1w1d", "0s"); negative values get a leading '-'. The output
 * parses back to the same value (non-negative values). Returns the length
 * written, or -1 (buf then holds a truncated string) if len is too small;
 * 32 bytes always suffice. */
int usch_duration_format(int64_t us, char *buf, size_t len);

/* Parses an RFC 3339 / ISO 8601 date-time:
 *   2026-11-24T09:00:00+01:00   2026-11-24T08:00:00Z   2026-11-24T09:00:00.250+01:00
 *   2026-11-24 09:00:00          (space for T; no offset: a wall time in tz)
 *   2026-11-24T09:00             (seconds may be left out)
 *   2026-11-24                   (date only: midnight in tz)
 * T and Z may be lower case; offsets are +hh:mm, +hhmm or +hh, at most
 * 23:59. Fractions have 1-9 digits; digits past microseconds are dropped.
 * Without an offset the wall time is read in tz (NULL: UTC): a wall time
 * that a spring-forward gap skips gives the transition instant (the first
 * instant after the gap), one that a fall-back fold repeats gives its
 * first occurrence. Years 0000-9999; leap seconds (:60) are refused.
 * Returns 0, or -1 with a message in err. */
int usch_datetime_parse(const char *s, const usch_tz *tz, int64_t *out_us, char *err, size_t errlen);

/* Writes instant us as RFC 3339 with the UTC offset tz (NULL: UTC) has at
 * that instant: "2026-03-29T03:00:00+02:00". UTC is written "+00:00",
 * never "Z". A fraction is written only when the instant has one: ".250"
 * for whole milliseconds, else six digits (".250001"). An offset that is
 * not whole minutes (local mean time before ~1900), which RFC 3339 cannot
 * express, makes the instant be written in UTC. Returns the length
 * written, or -1 when the year is outside 0000-9999 or len is too small
 * (USCH_RFC3339_MAX bytes always suffice). */
#define USCH_RFC3339_MAX 40
int usch_rfc3339_format(int64_t us, const usch_tz *tz, char *buf, size_t len);

#endif
