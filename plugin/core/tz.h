/* tz.h - time zones from the system's TZif database, read thread-safely.
 *
 * Never touches the TZ environment variable, tzset() or localtime(): the
 * app's threads share that state. A loaded zone is immutable and may be
 * used from any thread. */
#ifndef USCH_TZ_H
#define USCH_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct usch_tz usch_tz;

/* name: an IANA name ("Europe/Paris"), "UTC", or NULL / "" / "localtime"
 * for the system zone (TZ environment variable read once here if set,
 * else /etc/localtime). Zone directory: $TZDIR if set, else
 * /usr/share/zoneinfo. Returns NULL and writes a message into err. */
usch_tz *usch_tz_load(const char *name, char *err, size_t errlen);
/* The same from memory: the contents of a TZif file (name is only its
 * name), or a POSIX TZ rule such as "CET-1CEST,M3.5.0,M10.5.0/3" (NULL
 * when it is not one). */
usch_tz *usch_tz_from_tzif(const char *name, const unsigned char *buf, size_t len, char *err, size_t errlen);
usch_tz *usch_tz_from_rule(const char *rule);
void usch_tz_free(usch_tz *tz);
const usch_tz *usch_tz_utc(void); /* static, never freed */
const char *usch_tz_name(const usch_tz *tz);

/* UTC offset (seconds east of Greenwich) in force at instant t. */
int32_t usch_tz_offset(const usch_tz *tz, int64_t t);

/* utc -> local seconds */
int64_t usch_tz_to_local(const usch_tz *tz, int64_t t);

/* local seconds -> instants. Returns how many instants show that wall
 * time: 1 (normal), 2 (fall back: out[0] < out[1]) or 0 (spring forward
 * gap: out[0] is the transition instant, the first instant after the gap). */
int usch_tz_from_local(const usch_tz *tz, int64_t local, int64_t out[2]);

/* First transition strictly after t, or INT64_MAX when the zone has none.
 * Only changes of the UTC offset count: a change of abbreviation or of the
 * isdst flag alone is not a transition here. */
int64_t usch_tz_next_transition(const usch_tz *tz, int64_t t);

#endif
