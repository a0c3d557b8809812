/* tz.c - time zones read from TZif files (RFC 8536, versions 1 to 4)
 * without libc's time zone state.
 *
 * Owns: locating and validating zone files, parsing TZif, and the three
 * questions the scheduler asks of a zone (offset at an instant, instants
 * of a wall time, next transition), answered from the transition table
 * and, past its end, from the footer's POSIX TZ rule (tz_posix.c). A
 * loaded zone is immutable, so lookups need no locks; every lookup is
 * O(log n) or O(1). */
#include "tz.h"
#include "tz_impl.h"
#include "chars.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TZDIR "/usr/share/zoneinfo"
#define MAX_TZIF_BYTES (4u << 20)
/* RFC 8536 says utoff SHOULD be within [-89999, 93599]; allow a little
 * slack, and nothing that could overflow the window arithmetic. */
#define MAX_ABS_OFF (26 * 3600)

static const usch_tz utc_zone = {
	.name = (char *) "UTC",
	.footer_from = INT64_MIN,
};

const usch_tz *usch_tz_utc(void) {
	return &utc_zone;
}

const char *usch_tz_name(const usch_tz *tz) {
	return tz->name;
}

void usch_tz_free(usch_tz *tz) {
	if (!tz || tz == &utc_zone)
		return;
	free(tz->name);
	free(tz->at);
	free(tz->off);
	free(tz);
}

static int64_t sat_add(int64_t a, int64_t b) {
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* ---- lookups ------------------------------------------------------------ */

/* Number of table transitions at or before t. */
static size_t upto(const usch_tz *tz, int64_t t) {
	size_t lo = 0, hi = tz->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int32_t usch_tz_offset(const usch_tz *tz, int64_t t) {
	if (tz->has_footer && t >= tz->footer_from)
		return usch_tz_rule_offset(tz, t);
	size_t i = upto(tz, t);
	return i == 0 ? tz->off0 : tz->off[i - 1];
}

int64_t usch_tz_to_local(const usch_tz *tz, int64_t t) {
	return sat_add(t, usch_tz_offset(tz, t));
}

int64_t usch_tz_next_transition(const usch_tz *tz, int64_t t) {
	if (!tz->has_footer || t < tz->footer_from) {
		size_t i = upto(tz, t);
		if (i < tz->n)
			return tz->at[i];
		if (!tz->has_footer)
			return INT64_MAX;
		/* only a footer inconsistent with the table gets here */
		int32_t cur = usch_tz_offset(tz, t);
		if (usch_tz_rule_offset(tz, tz->footer_from) != cur)
			return tz->footer_from;
		return usch_tz_rule_next(tz, tz->footer_from, cur);
	}
	return usch_tz_rule_next(tz, t, usch_tz_rule_offset(tz, t));
}

/* Walk the constant-offset segments that can hold an instant showing
 * wall time `local`: with offsets in [min_off, max_off] such an instant
 * lies in [local - max_off, local - min_off]. */
int usch_tz_from_local(const usch_tz *tz, int64_t local, int64_t out[2]) {
	if (local > T_LIMIT || local < -T_LIMIT) {
		out[0] = out[1] = sat_add(local, -(int64_t) usch_tz_offset(tz, local));
		return 1;
	}
	int64_t cur = local - tz->max_off, last = local - tz->min_off;
	int32_t off = usch_tz_offset(tz, cur);
	int64_t gap = INT64_MIN;
	int cnt = 0;
	/* a window of at most ~2 days holds a handful of transitions; the
	 * bound only guards against a pathological file */
	for (int guard = 0; guard < 64; guard++) {
		int64_t nx = usch_tz_next_transition(tz, cur);
		int64_t t = local - off;
		if (t >= cur && t < nx) {
			if (cnt < 2)
				out[cnt] = t;
			cnt++;
		}
		if (nx == INT64_MAX || nx > last)
			break;
		int32_t noff = usch_tz_offset(tz, nx);
		if (gap == INT64_MIN && noff > off && local >= nx + off && local < nx + noff)
			gap = nx;
		cur = nx;
		off = noff;
	}
	if (cnt == 0) {
		out[0] = out[1] = gap != INT64_MIN ? gap : local - usch_tz_offset(tz, local);
		return 0;
	}
	if (cnt == 1)
		out[1] = out[0];
	return cnt > 2 ? 2 : cnt;
}

/* ---- TZif --------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) {
	return (int64_t) ((uint64_t) be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
	char version;
	uint32_t isut, isstd, leap, time, type, chr;
};

static int read_hdr(const unsigned char *p, size_t len, struct tzif_hdr *h) {
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = (char) p[4];
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chr = be32(p + 40);
	if (h->type == 0 || h->type > 256 || h->chr > 65536 || (h->isut && h->isut != h->type) ||
			(h->isstd && h->isstd != h->type) || h->time > (1u << 24) || h->leap > (1u << 16))
		return -1;
	return 0;
}

static size_t block_size(const struct tzif_hdr *h, size_t tsize) {
	return (size_t) h->time * (tsize + 1) + (size_t) h->type * 6 + h->chr + (size_t) h->leap * (tsize + 4) +
			h->isstd + h->isut;
}

enum { TZIF_OK, TZIF_BAD, TZIF_LEAP, TZIF_NOMEM };

static int parse_tzif(const unsigned char *buf, size_t len, usch_tz *tz) {
	struct tzif_hdr h;
	size_t tsize = 4;
	const unsigned char *p = buf;
	if (read_hdr(p, len, &h) != 0)
		return TZIF_BAD;
	if (h.version >= '2') {
		size_t skip = 44 + block_size(&h, 4);
		if (skip > len || read_hdr(p + skip, len - skip, &h) != 0)
			return TZIF_BAD;
		p += skip;
		len -= skip;
		tsize = 8;
	}
	else if (h.version != 0) {
		return TZIF_BAD;
	}
	size_t body = block_size(&h, tsize);
	if (body > len - 44)
		return TZIF_BAD;
	if (h.leap)
		return TZIF_LEAP;
	const unsigned char *times = p + 44;
	const unsigned char *idx = times + (size_t) h.time * tsize;
	const unsigned char *types = idx + h.time;

	int32_t utoff[256];
	tz->min_off = INT32_MAX;
	tz->max_off = INT32_MIN;
	for (uint32_t i = 0; i < h.type; i++) {
		int32_t o = (int32_t) be32(types + 6 * i);
		if (o < -MAX_ABS_OFF || o > MAX_ABS_OFF || types[6 * i + 4] > 1 || types[6 * i + 5] >= h.chr)
			return TZIF_BAD;
		utoff[i] = o;
		if (o < tz->min_off)
			tz->min_off = o;
		if (o > tz->max_off)
			tz->max_off = o;
	}
	tz->off0 = utoff[0];
	if (h.time) {
		tz->at = malloc(h.time * sizeof *tz->at);
		tz->off = malloc(h.time * sizeof *tz->off);
		if (!tz->at || !tz->off)
			return TZIF_NOMEM;
	}
	/* keep only transitions that move the clock: an abbreviation or
	 * isdst change is invisible to the scheduler */
	int32_t prev = tz->off0;
	int64_t prev_t = INT64_MIN;
	for (uint32_t i = 0; i < h.time; i++) {
		int64_t t = tsize == 8 ? be64(times + 8 * i) : (int64_t) (int32_t) be32(times + 4 * i);
		if (idx[i] >= h.type || (i && t <= prev_t))
			return TZIF_BAD;
		prev_t = t;
		if (utoff[idx[i]] == prev)
			continue;
		prev = utoff[idx[i]];
		tz->at[tz->n] = t;
		tz->off[tz->n++] = prev;
	}
	tz->footer_from = h.time ? prev_t : INT64_MIN;

	if (tsize == 8) {
		const unsigned char *f = p + 44 + body, *e = p + len;
		if (f >= e || *f != '\n')
			return TZIF_BAD;
		const unsigned char *nl = memchr(f + 1, '\n', (size_t) (e - f - 1));
		if (!nl || nl - f - 1 > 255)
			return TZIF_BAD;
		char footer[256];
		memcpy(footer, f + 1, (size_t) (nl - f - 1));
		footer[nl - f - 1] = '\0';
		if (footer[0]) {
			if (usch_tz_posix_parse(footer, tz) != 0)
				return TZIF_BAD;
			tz->has_footer = 1;
			if (tz->std_off < tz->min_off)
				tz->min_off = tz->std_off;
			if (tz->std_off > tz->max_off)
				tz->max_off = tz->std_off;
			if (tz->dst_off < tz->min_off)
				tz->min_off = tz->dst_off;
			if (tz->dst_off > tz->max_off)
				tz->max_off = tz->dst_off;
		}
	}
	return TZIF_OK;
}

/* ---- loading ------------------------------------------------------------ */

static usch_tz *new_zone(const char *name) {
	usch_tz *tz = calloc(1, sizeof *tz);
	if (tz && !(tz->name = strdup(name))) {
		free(tz);
		return NULL;
	}
	if (tz)
		tz->footer_from = INT64_MIN;
	return tz;
}

/* Reads a whole file; 0, or an errno value (EISDIR, EFBIG for misuse). */
static int slurp(const char *path, unsigned char **out, size_t *len) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t) MAX_TZIF_BYTES) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
		close(fd);
		return e;
	}
	unsigned char *buf = malloc((size_t) st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t) st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t) st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t) r;
	}
	close(fd);
	if (!buf)
		return ENOMEM;
	*out = buf;
	*len = got;
	return 0;
}

/* An IANA name: components of [A-Za-z0-9._+-], none empty, "." or "..";
 * never absolute, so that a job's tz= cannot read arbitrary files. */
static int valid_name(const char *s) {
	size_t len = strlen(s);
	if (len == 0 || len > 255 || s[0] == '/')
		return 0;
	const char *c = s;
	while (*c) {
		const char *e = c;
		while (*e && *e != '/') {
			if (!(usch_is_alnum(*e) || strchr("._+-", *e)))
				return 0;
			e++;
		}
		if (e == c || (e - c == 1 && c[0] == '.') || (e - c == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c = *e ? e + 1 : e;
		if (*e && !*c)
			return 0; /* trailing slash */
	}
	return 1;
}

static usch_tz *from_tzif(
		const char *name, const char *path, const unsigned char *buf, size_t len, char *err, size_t errlen) {
	usch_tz *tz = new_zone(name);
	int r = tz ? parse_tzif(buf, len, tz) : TZIF_NOMEM;
	if (r == TZIF_OK)
		return tz;
	usch_tz_free(tz);
	if (r == TZIF_LEAP)
		usch_fail(err, errlen,
				"time zone \"%s\": %s counts leap seconds "
				"(\"right/\" zones are not supported)",
				name, path);
	else if (r == TZIF_NOMEM)
		usch_fail(err, errlen, "time zone \"%s\": out of memory", name);
	else
		usch_fail(err, errlen, "time zone \"%s\": %s is not a TZif file", name, path);
	return NULL;
}

usch_tz *usch_tz_from_tzif(const char *name, const unsigned char *buf, size_t len, char *err, size_t errlen) {
	return from_tzif(name, "the data", buf, len, err, errlen);
}

static usch_tz *load_file(const char *name, const char *path, char *err, size_t errlen) {
	unsigned char *buf = NULL;
	size_t len = 0;
	int e = slurp(path, &buf, &len);
	if (e == ENOENT || e == ENOTDIR) {
		usch_fail(err, errlen, "unknown time zone \"%s\" (no %s)", name, path);
		return NULL;
	}
	if (e == EISDIR) {
		usch_fail(err, errlen, "unknown time zone \"%s\" (%s is a directory)", name, path);
		return NULL;
	}
	if (e) {
		usch_fail(err, errlen, "time zone \"%s\": cannot read %s (%s)", name, path,
				e == EACCES                   ? "permission denied"
						: e == EFBIG  ? "not a regular file of sane size"
						: e == ENOMEM ? "out of memory"
							      : "I/O error");
		return NULL;
	}
	usch_tz *tz = from_tzif(name, path, buf, len, err, errlen);
	free(buf);
	return tz;
}

static usch_tz *utc_copy(const char *name, char *err, size_t errlen) {
	usch_tz *tz = new_zone(name);
	if (!tz)
		usch_fail(err, errlen, "time zone \"%s\": out of memory", name);
	return tz;
}

static usch_tz *load_named(const char *name, const char *tzdir, char *err, size_t errlen) {
	char path[PATH_MAX];
	if (!valid_name(name)) {
		usch_fail(err, errlen,
				"invalid time zone name \"%s\" (want an IANA "
				"name like Europe/Paris)",
				name);
		return NULL;
	}
	if ((size_t) snprintf(path, sizeof path, "%s/%s", tzdir, name) >= sizeof path) {
		usch_fail(err, errlen, "time zone \"%s\": path too long", name);
		return NULL;
	}
	if (strcmp(name, "UTC") == 0 && access(path, F_OK) != 0)
		return utc_copy(name, err, errlen);
	return load_file(name, path, err, errlen);
}

/* The display name of a zone file: "Area/City" when the path lies in a
 * zoneinfo tree, else the path itself. */
static const char *name_of_path(const char *path, const char *tzdir) {
	size_t n = strlen(tzdir);
	if (strncmp(path, tzdir, n) == 0 && path[n] == '/' && path[n + 1])
		return path + n + 1;
	const char *z = strstr(path, "zoneinfo/");
	return z && z[9] ? z + 9 : path;
}

usch_tz *usch_tz_from_rule(const char *rule) {
	usch_tz *tz = new_zone(rule);
	if (!tz || usch_tz_posix_parse(rule, tz) != 0) {
		usch_tz_free(tz);
		return NULL;
	}
	tz->has_footer = 1;
	tz->off0 = tz->std_off;
	tz->min_off = tz->std_off < tz->dst_off ? tz->std_off : tz->dst_off;
	tz->max_off = tz->std_off > tz->dst_off ? tz->std_off : tz->dst_off;
	return tz;
}

/* TZ from the environment: ":Area/City", "Area/City", an absolute path,
 * or a POSIX rule string such as "CET-1CEST,M3.5.0,M10.5.0/3". */
static usch_tz *load_env(const char *env, const char *tzdir, char *err, size_t errlen) {
	const char *v = env[0] == ':' ? env + 1 : env;
	if (v[0] == '\0')
		return utc_copy("UTC", err, errlen); /* as glibc: TZ="" is UTC */
	if (v[0] == '/')
		return load_file(name_of_path(v, tzdir), v, err, errlen);
	if (valid_name(v)) {
		usch_tz *tz = load_named(v, tzdir, err, errlen);
		if (tz || v != env)
			return tz;
	}
	usch_tz *tz = v == env ? usch_tz_from_rule(env) : NULL;
	if (tz)
		return tz;
	if (!valid_name(v))
		usch_fail(err, errlen,
				"TZ=\"%s\" is neither a zone name nor a "
				"POSIX TZ rule",
				env);
	return NULL;
}

usch_tz *usch_tz_load(const char *name, char *err, size_t errlen) {
	const char *tzdir = getenv("TZDIR");
	if (!tzdir || !*tzdir)
		tzdir = DEFAULT_TZDIR;
	if (err && errlen)
		err[0] = '\0';
	if (name && *name && strcmp(name, "localtime") != 0)
		return load_named(name, tzdir, err, errlen);

	const char *env = getenv("TZ");
	if (env)
		return load_env(env, tzdir, err, errlen);

	char link[PATH_MAX];
	ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
	const char *display = "localtime";
	if (n > 0) {
		link[n] = '\0';
		const char *z = strstr(link, "zoneinfo/");
		if (z && valid_name(z + 9))
			display = z + 9;
	}
	if (access("/etc/localtime", F_OK) != 0)
		return utc_copy("UTC", err, errlen); /* as glibc */
	return load_file(display, "/etc/localtime", err, errlen);
}
