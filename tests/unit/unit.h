/* unit.h - what the Check programs share: a main that runs one suite,
 * the oracle files the Makefile writes, a cache of loaded zones, UTC
 * instants from civil fields, and one seeded random sequence. */
#ifndef USCH_UNIT_H
#define USCH_UNIT_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "civil.h"
#include "tz.h"
#include "decl.h"
#include "timefmt.h"

/* Runs the suite; the exit status of the program. */
static inline int unit_run(Suite *s) {
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* $USCH_ORACLE_DIR/name (default build/oracle), written by the oracle
 * script tests/unit/oracle/<name without .tsv>.py. */
static inline FILE *unit_oracle_open(const char *name) {
	const char *dir = getenv("USCH_ORACLE_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir ? dir : "build/oracle", name);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s (make build/oracle/%s)", path, name);
	return f;
}

/* Zones by name, loaded once per program and freed by unit_free_zones. */
#define UNIT_MAX_ZONES 64
static struct {
	char name[64];
	usch_tz *tz;
} unit_zones[UNIT_MAX_ZONES];
static int unit_nzones;

static inline usch_tz *unit_zone(const char *name) {
	for (int i = 0; i < unit_nzones; i++)
		if (strcmp(unit_zones[i].name, name) == 0)
			return unit_zones[i].tz;
	char err[256];
	usch_tz *tz = usch_tz_load(name, err, sizeof err);
	ck_assert_msg(tz != NULL, "%s: %s", name, err);
	ck_assert_int_lt(unit_nzones, UNIT_MAX_ZONES);
	snprintf(unit_zones[unit_nzones].name, sizeof unit_zones[unit_nzones].name, "%s", name);
	unit_zones[unit_nzones++].tz = tz;
	return tz;
}

static inline void unit_free_zones(void) {
	for (int i = 0; i < unit_nzones; i++)
		usch_tz_free(unit_zones[i].tz);
	unit_nzones = 0;
}

/* The instant a UTC wall clock shows as y-mo-d h:mi:s, in Unix seconds;
 * out-of-range fields carry as civil.h says. Built on civil.c, which
 * test_civil checks against a day-by-day walk and glibc's timegm. */
static inline int64_t unit_utc(int y, int mo, int d, int h, int mi, int s) {
	struct usch_civil c = { y, mo, d, h, mi, s };
	return usch_civil_to_secs(&c);
}

/* The same instant in microseconds. */
static inline int64_t unit_utc_us(int y, int mo, int d, int h, int mi, int s) {
	return unit_utc(y, mo, d, h, mi, s) * 1000000;
}

/* One xorshift64 sequence per program, so that random tests draw the same
 * values on every machine and run; a test that wants its own values
 * whatever ran before seeds it first. Not for threads. */
static uint64_t unit_rng_state = 0x9E3779B97F4A7C15ull;

/* seed != 0 (xorshift stays at 0 forever); 0 is taken as 1. */
static inline void unit_rng_seed(uint64_t seed) {
	unit_rng_state = seed ? seed : 1;
}

static inline uint64_t unit_rng(void) {
	uint64_t x = unit_rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return unit_rng_state = x;
}

/* An instant from RFC 3339 text, in µs (UTC when it has no offset). */
static inline int64_t unit_instant(const char *text) {
	int64_t us;
	char why[200];
	ck_assert_msg(usch_datetime_parse(text, NULL, &us, why, sizeof(why)) == 0, "%s: %s", text, why);
	return us;
}

/* One declaration parsed as the master parses it at wall instant now_us,
 * in zone tz (NULL: UTC); a refusal fails the test with its message. */
static inline struct usch_job *unit_parse_job(const char *option, const char *line, const usch_tz *tz, int64_t now_us) {
	char err[1024];
	struct usch_decl_env env = { .default_tz = tz ? tz : usch_tz_utc(), .now_us = now_us };
	struct usch_job *job = usch_decl_parse(option, line, &env, err, sizeof(err));
	ck_assert_msg(job != NULL, "%s \"%s\" refused: %s", option, line, err);
	return job;
}

#endif
