/* test_tz.c - the TZif/POSIX reader against Python's zoneinfo (oracle
 * build/oracle/tz_transitions.tsv), synthetic TZif files for the footer
 * forms and the corrupt cases, TZ environment forms and error messages. */
#include <check.h>
#include "unit.h"
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "civil.h"
#include "tz.h"

/* ---- oracle --------------------------------------------------------------- */

static int failures;
#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) { \
			if (failures++ < 25) \
				fprintf(stderr, __VA_ARGS__); \
		} \
	} while (0)

/* Each kind of record checks one function; counts make sure the oracle
 * was not empty. */
START_TEST(oracle_records) {
	FILE *f = unit_oracle_open("tz_transitions.tsv");
	char line[512], kind[4], name[64];
	long long a, b, c, d;
	int counts[128] = { 0 };
	failures = 0;
	while (fgets(line, sizeof line, f)) {
		int n = sscanf(line, "%3s %63s %lld %lld %lld %lld", kind, name, &a, &b, &c, &d);
		ck_assert_int_ge(n, 3);
		usch_tz *tz = unit_zone(name);
		counts[(unsigned char) kind[0]]++;
		switch (kind[0]) {
		case 'O':
			EXPECT(usch_tz_offset(tz, a) == b, "%s offset(%lld) = %d, want %lld\n", name, a,
					usch_tz_offset(tz, a), b);
			EXPECT(usch_tz_to_local(tz, a) == a + b, "%s to_local(%lld)\n", name, a);
			break;
		case 'N':
			EXPECT(usch_tz_next_transition(tz, a) == b, "%s next(%lld) = %lld, want %lld\n", name, a,
					(long long) usch_tz_next_transition(tz, a), b);
			break;
		case 'L': {
			int64_t out[2] = { -1, -1 };
			int r = usch_tz_from_local(tz, a, out);
			EXPECT(r == b && out[0] == c && (r != 2 || out[1] == d),
					"%s from_local(%lld) = %d %lld %lld, want %lld %lld %lld\n", name, a, r,
					(long long) out[0], (long long) out[1], b, c, d);
			break;
		}
		case 'T':
			EXPECT(usch_tz_offset(tz, a - 1) == b && usch_tz_offset(tz, a) == c,
					"%s transition %lld: %d -> %d, want %lld -> %lld\n", name, a,
					usch_tz_offset(tz, a - 1), usch_tz_offset(tz, a), b, c);
			break;
		case 'R':
			break;
		default:
			ck_abort_msg("bad oracle line %s", line);
		}
	}
	fclose(f);
	unit_free_zones();
	ck_assert_int_gt(counts['T'], 1000);
	ck_assert_int_gt(counts['O'], 5000);
	ck_assert_int_gt(counts['L'], 5000);
	ck_assert_int_gt(counts['N'], 5000);
	ck_assert_msg(failures == 0, "%d oracle mismatches (first ones on stderr)", failures);
}
END_TEST

/* Walking next_transition from the start of the range must produce the
 * oracle's T list exactly: nothing missing, nothing extra. */
START_TEST(oracle_transition_lists) {
	FILE *f = unit_oracle_open("tz_transitions.tsv");
	char line[512], kind[4], name[64], cur[64] = "";
	long long a, b, c;
	int64_t t = 0, end = 0;
	int checked = 0;
	failures = 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%3s %63s %lld %lld %lld", kind, name, &a, &b, &c) < 3)
			continue;
		if (kind[0] == 'R') {
			/* the previous zone must have no transition left in range */
			if (cur[0])
				EXPECT(usch_tz_next_transition(unit_zone(cur), t) >= end,
						"%s: extra transition after %lld\n", cur, (long long) t);
			snprintf(cur, sizeof cur, "%s", name);
			t = a;
			end = b;
		}
		else if (kind[0] == 'T') {
			int64_t got = usch_tz_next_transition(unit_zone(name), t);
			EXPECT(got == a, "%s: next(%lld) = %lld, want %lld\n", name, (long long) t, (long long) got, a);
			t = a;
			checked++;
		}
	}
	if (cur[0])
		EXPECT(usch_tz_next_transition(unit_zone(cur), t) >= end, "%s: extra\n", cur);
	fclose(f);
	unit_free_zones();
	ck_assert_int_gt(checked, 1000);
	ck_assert_msg(failures == 0, "%d mismatches", failures);
}
END_TEST

/* ---- synthetic TZif files ------------------------------------------------- */

static char tmpdir[64];

static void setup_tmp(void) {
	snprintf(tmpdir, sizeof tmpdir, "/tmp/usch_tz_test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	setenv("TZDIR", tmpdir, 1);
}

static void teardown_tmp(void) {
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	unsetenv("TZDIR");
}

static void put32(FILE *f, uint32_t v) {
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };
	fwrite(b, 1, 4, f);
}

static void put64(FILE *f, int64_t v) {
	put32(f, (uint32_t) ((uint64_t) v >> 32));
	put32(f, (uint32_t) v);
}

struct zdef {
	char version; /* 0, '2', '3' */
	int ntrans;
	const int64_t *at;
	const unsigned char *idx;
	int ntypes;
	const int32_t *utoff;
	const char *footer; /* NULL: none (v1) */
	int leap;           /* write one leap second record */
};

static void header(FILE *f, const struct zdef *z) {
	fwrite("TZif", 1, 4, f);
	fputc(z->version, f);
	for (int i = 0; i < 15; i++)
		fputc(0, f);
	put32(f, 0);       /* isutcnt */
	put32(f, 0);       /* isstdcnt */
	put32(f, z->leap); /* leapcnt */
	put32(f, z->ntrans);
	put32(f, z->ntypes);
	put32(f, 4); /* charcnt: "ABC\0" */
}

static void block(FILE *f, const struct zdef *z, int wide) {
	for (int i = 0; i < z->ntrans; i++)
		wide ? put64(f, z->at[i]) : put32(f, (uint32_t) z->at[i]);
	for (int i = 0; i < z->ntrans; i++)
		fputc(z->idx[i], f);
	for (int i = 0; i < z->ntypes; i++) {
		put32(f, (uint32_t) z->utoff[i]);
		fputc(0, f);
		fputc(0, f);
	}
	fwrite("ABC", 1, 4, f);
	for (int i = 0; i < z->leap; i++) {
		wide ? put64(f, 78796800) : put32(f, 78796800);
		put32(f, 1);
	}
}

static void write_zone(const char *name, const struct zdef *z) {
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	header(f, z);
	block(f, z, 0);
	if (z->version) {
		header(f, z);
		block(f, z, 1);
		fprintf(f, "\n%s\n", z->footer ? z->footer : "");
	}
	fclose(f);
}

static usch_tz *footer_zone(const char *footer) {
	static const int32_t utoff[1] = { 0 };
	struct zdef z = { '2', 0, NULL, NULL, 1, utoff, footer, 0 };
	char err[256];
	write_zone("F", &z);
	usch_tz *tz = usch_tz_load("F", err, sizeof err);
	ck_assert_msg(tz != NULL, "footer %s: %s", footer, err);
	return tz;
}

START_TEST(footer_forms) {
	/* Mm.w.d with a time: EU rules */
	usch_tz *tz = footer_zone("CET-1CEST,M3.5.0,M10.5.0/3");
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2030, 1, 1, 0, 0, 0)), unit_utc(2030, 3, 31, 1, 0, 0));
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2030, 3, 31, 1, 0, 0)), 7200);
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2030, 3, 31, 0, 59, 0)), 3600);
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2030, 3, 31, 1, 0, 0)), unit_utc(2030, 10, 27, 1, 0, 0));
	usch_tz_free(tz);

	/* Jn never counts Feb 29: J60 is March 1 also in leap years */
	tz = footer_zone("XST-1XDT,J60/2,J300/2");
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2032, 1, 1, 0, 0, 0)), unit_utc(2032, 3, 1, 1, 0, 0));
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2031, 1, 1, 0, 0, 0)), unit_utc(2031, 3, 1, 1, 0, 0));
	usch_tz_free(tz);

	/* n is zero-based and counts Feb 29 */
	tz = footer_zone("XST-1XDT,59/2,299/2");
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2032, 1, 1, 0, 0, 0)), unit_utc(2032, 2, 29, 1, 0, 0));
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2031, 1, 1, 0, 0, 0)), unit_utc(2031, 3, 1, 1, 0, 0));
	usch_tz_free(tz);

	/* negative hours (America/Nuuk): 2031-03-30 is the last Sunday,
	 * -1 is Saturday 23:00 local standard time (-02) = 01:00 UTC Sunday */
	tz = footer_zone("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2031, 1, 1, 0, 0, 0)), unit_utc(2031, 3, 30, 1, 0, 0));
	usch_tz_free(tz);

	/* hours beyond 24 (Asia/Jerusalem): Thursday + 26h = Friday 02:00 */
	tz = footer_zone("IST-2IDT,M3.4.4/26,M10.5.0");
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2031, 1, 1, 0, 0, 0)), unit_utc(2031, 3, 28, 0, 0, 0));
	usch_tz_free(tz);

	/* 30-minute DST and <> names (Australia/Lord_Howe), southern */
	tz = footer_zone("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2040, 1, 15, 0, 0, 0)), 39600);
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2040, 7, 15, 0, 0, 0)), 37800);
	/* 2040-04-01 is a Sunday; 02:00 at +11 = 15:00 UTC on Mar 31 */
	ck_assert_int_eq(usch_tz_next_transition(tz, unit_utc(2040, 1, 1, 0, 0, 0)), unit_utc(2040, 3, 31, 15, 0, 0));
	int64_t out[2];
	/* fold: 01:30-01:59 local on Apr 1 happen twice, 30 min apart */
	int64_t l = unit_utc(2040, 4, 1, 1, 45, 0);
	ck_assert_int_eq(usch_tz_from_local(tz, l, out), 2);
	ck_assert_int_eq(out[1] - out[0], 1800);
	usch_tz_free(tz);

	/* negative DST (Europe/Dublin): winter is the "DST" of the rule */
	tz = footer_zone("IST-1GMT0,M10.5.0,M3.5.0/1");
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2040, 1, 15, 0, 0, 0)), 0);
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2040, 7, 15, 0, 0, 0)), 3600);
	usch_tz_free(tz);

	/* DST all year (RFC 8536 3.3.1): no transitions at all */
	tz = footer_zone("EST5EDT4,0/0,J365/25");
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2040, 1, 1, 0, 0, 0)), -4 * 3600);
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2040, 12, 31, 23, 0, 0)), -4 * 3600);
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2041, 1, 1, 4, 30, 0)), -4 * 3600);
	ck_assert(usch_tz_next_transition(tz, 0) == INT64_MAX);
	usch_tz_free(tz);

	/* no DST: a fixed offset, never a transition */
	tz = footer_zone("<+0530>-5:30");
	ck_assert_int_eq(usch_tz_offset(tz, 0), 19800);
	ck_assert(usch_tz_next_transition(tz, 0) == INT64_MAX);
	ck_assert_int_eq(usch_tz_from_local(tz, 19800, out), 1);
	ck_assert_int_eq(out[0], 0);
	usch_tz_free(tz);

	/* DST with no rule: the US default */
	tz = footer_zone("EST5EDT");
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2040, 7, 1, 0, 0, 0)), -4 * 3600);
	usch_tz_free(tz);
}
END_TEST

START_TEST(versions_and_table) {
	/* a table of two transitions then a footer taking over */
	static const int64_t at[2] = { 1000000, 2000000 };
	static const unsigned char idx[2] = { 1, 0 };
	static const int32_t utoff[2] = { 3600, 7200 };
	char err[256];
	int64_t out[2];
	for (char v = '2'; v <= '4'; v++) {
		struct zdef z = { v, 2, at, idx, 2, utoff, "CET-1CEST,M3.5.0,M10.5.0/3", 0 };
		write_zone("T", &z);
		usch_tz *tz = usch_tz_load("T", err, sizeof err);
		ck_assert_msg(tz != NULL, "%s", err);
		ck_assert_str_eq(usch_tz_name(tz), "T");
		ck_assert_int_eq(usch_tz_offset(tz, -5), 3600);
		ck_assert_int_eq(usch_tz_offset(tz, 1000000), 7200);
		ck_assert_int_eq(usch_tz_offset(tz, 1999999), 7200);
		ck_assert_int_eq(usch_tz_offset(tz, 2000000), 3600);
		ck_assert_int_eq(usch_tz_next_transition(tz, 0), 1000000);
		ck_assert_int_eq(usch_tz_next_transition(tz, 1000000), 2000000);
		/* footer range: 1970-03-29 01:00 UTC */
		ck_assert_int_eq(usch_tz_next_transition(tz, 2000000), unit_utc(1970, 3, 29, 1, 0, 0));
		ck_assert_int_eq(usch_tz_from_local(tz, 1000000 + 3600 + 1800, out), 0);
		ck_assert_int_eq(out[0], 1000000);
		ck_assert_int_eq(usch_tz_from_local(tz, 2000000 + 3600 + 1800, out), 2);
		ck_assert_int_eq(out[0], 2000000 - 1800);
		ck_assert_int_eq(out[1], 2000000 + 1800);
		usch_tz_free(tz);
	}
	/* v1: 32-bit data only, the last type holds forever */
	struct zdef z1 = { 0, 2, at, idx, 2, utoff, NULL, 0 };
	write_zone("V1", &z1);
	usch_tz *tz = usch_tz_load("V1", err, sizeof err);
	ck_assert_msg(tz != NULL, "%s", err);
	ck_assert_int_eq(usch_tz_offset(tz, 1500000), 7200);
	ck_assert_int_eq(usch_tz_offset(tz, INT64_C(5000000000)), 3600);
	ck_assert(usch_tz_next_transition(tz, 2000000) == INT64_MAX);
	usch_tz_free(tz);
	/* v2 with an empty footer behaves the same */
	struct zdef z2 = { '2', 2, at, idx, 2, utoff, "", 0 };
	write_zone("E", &z2);
	tz = usch_tz_load("E", err, sizeof err);
	ck_assert_msg(tz != NULL, "%s", err);
	ck_assert_int_eq(usch_tz_offset(tz, INT64_C(5000000000)), 3600);
	ck_assert(usch_tz_next_transition(tz, 2000000) == INT64_MAX);
	usch_tz_free(tz);
}
END_TEST

/* Damaged copies of a real file must load or fail cleanly: ASan/valgrind
 * watch for any read outside the buffer. */
START_TEST(mutated_files) {
	FILE *f = fopen("/usr/share/zoneinfo/Australia/Lord_Howe", "rb");
	ck_assert_ptr_nonnull(f);
	unsigned char orig[8192], buf[8192];
	size_t len = fread(orig, 1, sizeof orig, f);
	fclose(f);
	ck_assert_int_gt(len, 100);
	unit_rng_seed(8536);
	int loaded = 0;
	char path[256], err[512];
	snprintf(path, sizeof path, "%s/M", tmpdir);
	for (int i = 0; i < 600; i++) {
		memcpy(buf, orig, len);
		size_t n = len;
		int kind = i % 3;
		if (kind == 0) { /* flip a few bytes */
			for (int k = 0; k < 1 + i % 4; k++)
				buf[unit_rng() % n] ^= (unsigned char) (1 + unit_rng() % 255);
		}
		else if (kind == 1) { /* truncate */
			n = (size_t) unit_rng() % n;
		}
		else { /* damage the counts of a header */
			size_t h = (i & 8) ? 0 : 44 + (size_t) unit_rng() % (n - 44);
			if (h + 44 <= n)
				buf[h + 20 + unit_rng() % 24] = (unsigned char) unit_rng();
		}
		f = fopen(path, "wb");
		fwrite(buf, 1, n, f);
		fclose(f);
		usch_tz *tz = usch_tz_load("M", err, sizeof err);
		if (tz) {
			int64_t out[2];
			loaded++;
			for (int64_t t = 0; t < INT64_C(3000000000); t += 86400 * 97) {
				(void) usch_tz_offset(tz, t);
				(void) usch_tz_from_local(tz, t, out);
				(void) usch_tz_next_transition(tz, t);
			}
			usch_tz_free(tz);
		}
		else {
			ck_assert_msg(strstr(err, "is not a TZif file") || strstr(err, "leap seconds"), "%s", err);
		}
	}
	ck_assert_int_gt(loaded, 0);
}
END_TEST

static void expect_load_error(const char *name, const char *want) {
	char err[512];
	usch_tz *tz = usch_tz_load(name, err, sizeof err);
	ck_assert_msg(tz == NULL, "%s loaded", name);
	ck_assert_msg(strcmp(err, want) == 0, "%s: got '%s', want '%s'", name, err, want);
}

START_TEST(corrupt_files) {
	char want[512], path[256];
	FILE *f;
	snprintf(path, sizeof path, "%s/Garbage", tmpdir);
	f = fopen(path, "w");
	fputs("this is not a zone\n", f);
	fclose(f);
	snprintf(want, sizeof want, "time zone \"Garbage\": %s is not a TZif file", path);
	expect_load_error("Garbage", want);

	/* truncated: a good header promising data that is not there */
	static const int32_t utoff[1] = { 0 };
	struct zdef z = { '2', 0, NULL, NULL, 1, utoff, "UTC0", 0 };
	write_zone("Trunc", &z);
	snprintf(path, sizeof path, "%s/Trunc", tmpdir);
	ck_assert_int_eq(truncate(path, 50), 0);
	snprintf(want, sizeof want, "time zone \"Trunc\": %s is not a TZif file", path);
	expect_load_error("Trunc", want);

	/* a footer that is not a POSIX TZ string */
	z.footer = "CET-1CEST,M13.5.0,M10.5.0";
	write_zone("BadFooter", &z);
	snprintf(path, sizeof path, "%s/BadFooter", tmpdir);
	snprintf(want, sizeof want, "time zone \"BadFooter\": %s is not a TZif file", path);
	expect_load_error("BadFooter", want);

	/* a transition naming a type that does not exist */
	static const int64_t at[1] = { 100 };
	static const unsigned char idx[1] = { 3 };
	struct zdef zi = { '2', 1, at, idx, 1, utoff, "UTC0", 0 };
	write_zone("BadIdx", &zi);
	snprintf(path, sizeof path, "%s/BadIdx", tmpdir);
	snprintf(want, sizeof want, "time zone \"BadIdx\": %s is not a TZif file", path);
	expect_load_error("BadIdx", want);

	/* leap-second ("right/") files are refused, not misread */
	struct zdef zl = { '2', 0, NULL, NULL, 1, utoff, "UTC0", 1 };
	write_zone("Leap", &zl);
	snprintf(path, sizeof path, "%s/Leap", tmpdir);
	snprintf(want, sizeof want,
			"time zone \"Leap\": %s counts leap seconds "
			"(\"right/\" zones are not supported)",
			path);
	expect_load_error("Leap", want);

	/* an empty file */
	snprintf(path, sizeof path, "%s/Empty", tmpdir);
	fclose(fopen(path, "w"));
	snprintf(want, sizeof want, "time zone \"Empty\": %s is not a TZif file", path);
	expect_load_error("Empty", want);
}
END_TEST

START_TEST(name_errors) {
	expect_load_error(
			"Europe/Pariss", "unknown time zone \"Europe/Pariss\" (no /usr/share/zoneinfo/Europe/Pariss)");
	expect_load_error("Europe", "unknown time zone \"Europe\" (/usr/share/zoneinfo/Europe is a directory)");
	expect_load_error("../../etc/passwd",
			"invalid time zone name \"../../etc/passwd\" (want an IANA name like Europe/Paris)");
	expect_load_error("Europe/../../etc/passwd",
			"invalid time zone name \"Europe/../../etc/passwd\" (want an IANA name like Europe/Paris)");
	expect_load_error("/usr/share/zoneinfo/Europe/Paris",
			"invalid time zone name \"/usr/share/zoneinfo/Europe/Paris\" (want an IANA name like Europe/Paris)");
	expect_load_error("Europe//Paris",
			"invalid time zone name \"Europe//Paris\" (want an IANA name like Europe/Paris)");
	expect_load_error("Europe/Paris/",
			"invalid time zone name \"Europe/Paris/\" (want an IANA name like Europe/Paris)");
	expect_load_error("Europe/Paris X",
			"invalid time zone name \"Europe/Paris X\" (want an IANA name like Europe/Paris)");
	/* a small buffer truncates, never overflows; NULL err is allowed */
	char small[8];
	ck_assert_ptr_null(usch_tz_load("Nowhere/Else", small, sizeof small));
	ck_assert_str_eq(small, "unknown");
	ck_assert_ptr_null(usch_tz_load("Nowhere/Else", NULL, 0));
}
END_TEST

static usch_tz *load_with_tz(const char *env) {
	char err[256];
	if (env)
		setenv("TZ", env, 1);
	else
		unsetenv("TZ");
	usch_tz *tz = usch_tz_load(NULL, err, sizeof err);
	ck_assert_msg(tz != NULL, "TZ=%s: %s", env ? env : "(unset)", err);
	return tz;
}

START_TEST(system_zone) {
	const char *saved = getenv("TZ");
	char *keep = saved ? strdup(saved) : NULL;
	int64_t summer = unit_utc(2026, 7, 1, 12, 0, 0);

	usch_tz *tz = load_with_tz(":Europe/Paris");
	ck_assert_str_eq(usch_tz_name(tz), "Europe/Paris");
	ck_assert_int_eq(usch_tz_offset(tz, summer), 7200);
	usch_tz_free(tz);

	tz = load_with_tz("America/New_York");
	ck_assert_str_eq(usch_tz_name(tz), "America/New_York");
	ck_assert_int_eq(usch_tz_offset(tz, summer), -4 * 3600);
	usch_tz_free(tz);

	/* a path is allowed from TZ (the admin's choice), not from a job */
	tz = load_with_tz("/usr/share/zoneinfo/Asia/Kolkata");
	ck_assert_str_eq(usch_tz_name(tz), "Asia/Kolkata");
	ck_assert_int_eq(usch_tz_offset(tz, summer), 19800);
	usch_tz_free(tz);

	tz = load_with_tz(":/usr/share/zoneinfo/Asia/Tokyo");
	ck_assert_int_eq(usch_tz_offset(tz, summer), 9 * 3600);
	usch_tz_free(tz);

	tz = load_with_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	ck_assert_str_eq(usch_tz_name(tz), "CET-1CEST,M3.5.0,M10.5.0/3");
	ck_assert_int_eq(usch_tz_offset(tz, summer), 7200);
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(2026, 1, 1, 0, 0, 0)), 3600);
	usch_tz_free(tz);

	tz = load_with_tz("");
	ck_assert_str_eq(usch_tz_name(tz), "UTC");
	ck_assert_int_eq(usch_tz_offset(tz, summer), 0);
	usch_tz_free(tz);

	/* unset: /etc/localtime, whatever this machine has */
	tz = load_with_tz(NULL);
	ck_assert_ptr_nonnull(usch_tz_name(tz));
	usch_tz_free(tz);

	char err[256];
	setenv("TZ", ":No/Such_Zone", 1);
	ck_assert_ptr_null(usch_tz_load("localtime", err, sizeof err));
	ck_assert_str_eq(err, "unknown time zone \"No/Such_Zone\" (no /usr/share/zoneinfo/No/Such_Zone)");
	setenv("TZ", "garbage,,", 1);
	ck_assert_ptr_null(usch_tz_load("", err, sizeof err));
	ck_assert_str_eq(err, "TZ=\"garbage,,\" is neither a zone name nor a POSIX TZ rule");

	if (keep) {
		setenv("TZ", keep, 1);
		free(keep);
	}
	else {
		unsetenv("TZ");
	}
}
END_TEST

START_TEST(utc_and_extremes) {
	const usch_tz *u = usch_tz_utc();
	int64_t out[2];
	ck_assert_ptr_eq(u, usch_tz_utc());
	ck_assert_str_eq(usch_tz_name(u), "UTC");
	ck_assert_int_eq(usch_tz_offset(u, 123), 0);
	ck_assert(usch_tz_next_transition(u, 0) == INT64_MAX);
	ck_assert_int_eq(usch_tz_from_local(u, 42, out), 1);
	ck_assert_int_eq(out[0], 42);
	ck_assert_int_eq(out[1], 42);
	usch_tz_free((usch_tz *) u); /* a no-op, not a crash */
	usch_tz_free(NULL);

	char err[256];
	usch_tz *tz = usch_tz_load("Australia/Lord_Howe", err, sizeof err);
	ck_assert_msg(tz != NULL, "%s", err);
	/* far-away instants neither overflow nor trip UBSan */
	ck_assert(usch_tz_to_local(tz, INT64_MAX) == INT64_MAX);
	ck_assert(usch_tz_to_local(tz, INT64_MIN) == INT64_MIN + usch_tz_offset(tz, INT64_MIN));
	ck_assert(usch_tz_next_transition(tz, INT64_MAX) == INT64_MAX);
	ck_assert(usch_tz_next_transition(tz, INT64_MIN) != INT64_MAX);
	ck_assert_int_eq(usch_tz_from_local(tz, INT64_MAX, out), 1);
	ck_assert_int_eq(usch_tz_from_local(tz, INT64_MIN, out), 1);
	int32_t o = usch_tz_offset(tz, INT64_C(1) << 50);
	ck_assert(o == 37800 || o == 39600);
	/* year 3000 is still computed from the rule */
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(3000, 1, 15, 0, 0, 0)), 39600);
	ck_assert_int_eq(usch_tz_offset(tz, unit_utc(3000, 7, 15, 0, 0, 0)), 37800);
	usch_tz_free(tz);
}
END_TEST

/* Midnight transitions: the gap swallows 00:00, so a day "starts" at
 * 01:00. America/Havana 2026-03-08 (footer M3.2.0/0): 00:00 -> 01:00. */
START_TEST(midnight_gap) {
	char err[256];
	int64_t out[2];
	usch_tz *tz = usch_tz_load("America/Havana", err, sizeof err);
	ck_assert_msg(tz != NULL, "%s", err);
	int64_t local = unit_utc(2026, 3, 8, 0, 0, 0);
	ck_assert_int_eq(usch_tz_from_local(tz, local, out), 0);
	ck_assert_int_eq(out[0], unit_utc(2026, 3, 8, 5, 0, 0));
	ck_assert_int_eq(usch_tz_to_local(tz, out[0]), unit_utc(2026, 3, 8, 1, 0, 0));
	usch_tz_free(tz);
}
END_TEST

/* A loaded zone is shared by threads without locks. */
struct job {
	const usch_tz *tz;
	int64_t sum;
};

static void *hammer(void *arg) {
	struct job *j = arg;
	int64_t out[2];
	for (int64_t t = 1700000000; t < 1700000000 + 400 * 86400; t += 3307) {
		j->sum += usch_tz_offset(j->tz, t);
		j->sum += usch_tz_from_local(j->tz, t, out);
		j->sum += usch_tz_next_transition(j->tz, t) % 1000;
	}
	return NULL;
}

START_TEST(threads) {
	char err[256];
	usch_tz *tz = usch_tz_load("Europe/Paris", err, sizeof err);
	ck_assert_msg(tz != NULL, "%s", err);
	struct job ref = { tz, 0 }, jobs[4];
	pthread_t th[4];
	hammer(&ref);
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct job){ tz, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert(jobs[i].sum == ref.sum);
	}
	usch_tz_free(tz);
}
END_TEST

static Suite *tz_suite(void) {
	Suite *s = suite_create("tz");
	TCase *tc = tcase_create("oracle");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, oracle_records);
	tcase_add_test(tc, oracle_transition_lists);
	suite_add_tcase(s, tc);

	tc = tcase_create("synthetic");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, footer_forms);
	tcase_add_test(tc, versions_and_table);
	tcase_add_test(tc, corrupt_files);
	tcase_add_test(tc, mutated_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, name_errors);
	tcase_add_test(tc, system_zone);
	tcase_add_test(tc, utc_and_extremes);
	tcase_add_test(tc, midnight_gap);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) {
	return unit_run(tz_suite());
}
