/* decl.h - job declarations: one scheduler-* option line -> a usch_job.
 *
 *   scheduler-cron     = <cron expression> <target> [key=value ...]
 *   scheduler-interval = <duration | N days|weeks|months|years> <target> [key=value ...]
 *   scheduler-at       = <RFC 3339 instant> <target> [key=value ...]
 *   scheduler-job      = {"cron"|"interval"|"at"|"every"|"and"|"or": ..., "target": ..., key: value}
 *
 * The trigger ends at the first token that is a target (an identifier or
 * dotted name followed by ':'). A value starting with [ { or " is JSON and
 * may hold spaces. Each key may be given once. Errors name the option,
 * quote the line and say which token is wrong and why.
 *
 * The keys are rows of one table (usch_keys, decl_keys.c): name, type,
 * the job field it fills, bounds or value names, the phase it is read in,
 * and its README text. Parsing, range checks, messages, the duplicate
 * check, the listing's value names and the README's key table all come
 * from it. */
#ifndef USCH_DECL_H
#define USCH_DECL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "idset.h"
#include "job.h"
#include "tz.h"

struct usch_decl_env {
	const usch_tz *default_tz; /* scheduler-timezone, else the system zone */
	int64_t now_us;            /* wall instant calendar triggers start from */
	int borrow_line;           /* the line outlives the job (uWSGI keeps every option's value for the
	                              life of the process): the job points to it instead of a copy */
};

/* Parses one declaration. Returns the job (index 0), or NULL with the
 * whole message in err. */
struct usch_job *usch_decl_parse(
		const char *option, const char *line, const struct usch_decl_env *env, char *err, size_t errlen);

/* Where a job was declared, for messages: "jobs.ini:12: ", or "" (into
 * buf, which is returned). */
typedef const char *usch_decl_where(const struct usch_job *job, char *buf, size_t len);

/* Numbers the declared jobs and checks that their ids are unique (in
 * linear time: a hash set). Returns 0, or -1 with a message naming both
 * declarations of a duplicate id, each after where it is (where may be
 * NULL). With ids set, the set of ids is left there for the caller (to
 * free) on success. */
int usch_decl_finish(struct usch_job **jobs, size_t n, struct usch_idset *ids, usch_decl_where *where, char *err,
		size_t errlen);

/* A jobs file (scheduler-jobs-file): one declaration a line, written as
 * in the ini ("scheduler-cron = 0 3 * * * app.tasks:purge"), with blank
 * lines and # or ; comments, so that lines move freely between the two.
 * Split in place: each value is NUL-terminated where it is, the text
 * outlives the jobs that borrow their lines from it. */
struct usch_decl_file {
	char *p, *end;
	unsigned lineno; /* of the line p starts */
};

struct usch_decl_file_line {
	const char *option; /* the job option (in the text) */
	char *value;        /* trimmed of spaces both sides */
	unsigned lineno;    /* from 1; also set when a line is refused */
};

/* text[len] must be 0. */
void usch_decl_file_init(struct usch_decl_file *f, char *text, size_t len);

/* The next declaration: 1 with it in out, 0 at the end, -1 with out's
 * lineno and, in err, what is wrong with that line. */
int usch_decl_file_next(struct usch_decl_file *f, struct usch_decl_file_line *out, char *err, size_t errlen);

enum usch_key_type {
	USCH_KEY_STRING,   /* any non-empty text */
	USCH_KEY_ARRAY,    /* a JSON array, kept as compact JSON */
	USCH_KEY_OBJECT,   /* a JSON object, kept as compact JSON */
	USCH_KEY_ZONE,     /* an IANA zone name */
	USCH_KEY_DURATION, /* min 0: zero allowed; min 1: must be > 0 */
	USCH_KEY_INT,      /* a whole number in [min, max] */
	USCH_KEY_BOOL,
	USCH_KEY_ENUM,    /* one of names */
	USCH_KEY_INSTANT, /* RFC 3339, read in the job's zone */
	USCH_KEY_WORKERS, /* worker ids: 1,3-4 */
	USCH_KEY_IDENT,   /* a Python identifier (ASCII), not a keyword */
	USCH_KEY_NUMBER,  /* a decimal number in [min, max], kept as a double */
};

/* Keys are applied phase by phase: the zone first, then what is read in
 * it (start=, end=), then the rest. */
enum usch_key_phase {
	USCH_PHASE_ZONE,
	USCH_PHASE_WINDOW,
	USCH_PHASE_REST,
};

struct usch_key_name {
	const char *name;
	int value;
};

struct usch_key {
	const char *name;
	enum usch_key_type type;
	size_t field; /* offsetof(struct usch_job, ...), or of struct usch_job_cold when cold */
	size_t size;  /* the field's width: INT, BOOL and ENUM fields take the bytes their values need */
	int cold;     /* the field is in the job's cold part */
	enum usch_key_phase phase;
	long min, max;                     /* INT and NUMBER bounds; DURATION min */
	const struct usch_key_name *names; /* ENUM: NULL-terminated */
	const char *meaning;               /* README */
	const char *dflt;                  /* README */
};

extern const struct usch_key usch_keys[];
extern const size_t usch_nkeys;

/* The name key gives value (e.g. "scope", USCH_SCOPE_ONCE -> "once"), or
 * "?" when it has none. */
const char *usch_key_value_name(const char *key, int value);

/* The names as messages list them: "earliest, latest or all". */
void usch_key_names_text(const struct usch_key_name *names, char *buf, size_t len);

/* The README's key table, in Markdown, from usch_keys. */
void usch_keys_markdown(FILE *f);

#endif
