/* decl.c - job declarations (see decl.h): tokenising a scheduler-* line,
 * its key=value options, the target, and building the job's trigger. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "decl.h"
#include "timefmt.h"
#include "trigger.h"

#define MAX_TOKENS 64

struct tok {
	const char *s;
	size_t len;
	int json;		/* the value after '=' is JSON */
};

struct ctx {
	const char *option;
	const char *line;
	const struct usch_decl_env *env;
	char *err;
	size_t errlen;
	struct usch_job *job;
	char trig_text[512];	/* the trigger tokens, joined by spaces */
	const char *kind;	/* "cron", "interval", "at", "every", "and", "or" */
	json_t *combo;		/* and/or: the JSON array of child triggers */
};

static const char *const KEYS[] = {
	"id", "args", "kwargs", "tz", "jitter", "misfire-grace", "coalesce", "max-running",
	"timeout", "start", "end", "paused", "scope", "workers", "app", NULL,
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ctx *c, const char *fmt, ...) {
	int n = snprintf(c->err, c->errlen, "%s \"%s\": ", c->option, c->line);
	if (n < 0 || (size_t) n >= c->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "id, args, ..." from KEYS, for messages. */
static const char *known_keys(char *buf, size_t len) {
	size_t k = 0;
	buf[0] = 0;
	for (int i = 0; KEYS[i] && k < len; i++)
		k += snprintf(buf + k, len - k, "%s%s", i ? ", " : "", KEYS[i]);
	return buf;
}

static int is_known_key(const char *s, size_t len) {
	for (int i = 0; KEYS[i]; i++)
		if (strlen(KEYS[i]) == len && !strncmp(KEYS[i], s, len))
			return 1;
	return 0;
}

/* A target is a (dotted) identifier followed by ':' - "app.tasks:f",
 * "rpc:name", "exec:cmd". Times ("09:00") start with a digit and are not. */
static int is_target(const struct tok *t) {
	size_t i = 0;
	if (!t->len || !(isalpha((unsigned char) t->s[0]) || t->s[0] == '_'))
		return 0;
	while (i < t->len && (isalnum((unsigned char) t->s[i]) || t->s[i] == '_' || t->s[i] == '.'))
		i++;
	return i < t->len && t->s[i] == ':';
}

/* key=value where key is a known key or at least looks like one. */
static const char *key_end(const struct tok *t) {
	for (size_t i = 0; i < t->len; i++) {
		char ch = t->s[i];
		if (ch == '=')
			return i ? t->s + i : NULL;
		if (!(isalnum((unsigned char) ch) || ch == '-' || ch == '_'))
			return NULL;
	}
	return NULL;
}

/* Splits the line into whitespace-separated tokens; a value after "key="
 * that starts with [ { or " is taken whole as JSON (spaces included). */
static int tokenize(struct ctx *c, struct tok *toks, int *ntok) {
	const char *p = c->line;
	int n = 0;
	for (;;) {
		while (isspace((unsigned char) *p))
			p++;
		if (!*p)
			break;
		if (n == MAX_TOKENS)
			return fail(c, "too many tokens (at most %d)", MAX_TOKENS);
		struct tok *t = &toks[n++];
		t->s = p;
		t->json = 0;
		const char *eq = NULL;
		while (*p && !isspace((unsigned char) *p)) {
			if (*p == '=' && !eq)
				eq = p;
			p++;
		}
		t->len = p - t->s;
		/* JSON after key= ([, { or "), or a quoted command: exec:"..." */
		const char *json = NULL;
		if (eq && eq[1] && strchr("[{\"", eq[1]) && key_end(t))
			json = eq + 1;
		else if (t->len > 5 && !strncmp(t->s, "exec:\"", 6))
			json = t->s + 5;
		if (json) {
			int name_len = (int) (json - t->s - 1);
			json_error_t jerr;
			json_t *v = json_loads(json, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &jerr);
			if (!v)
				return fail(c, "\"%.*s\": invalid JSON: %s", name_len, t->s, jerr.text);
			json_decref(v);
			p = json + jerr.position;
			if (*p && !isspace((unsigned char) *p))
				return fail(c, "\"%.*s\": unexpected text after the JSON value", name_len, t->s);
			t->len = p - t->s;
			t->json = 1;
		}
	}
	*ntok = n;
	return 0;
}

static int parse_duration_value(struct ctx *c, const char *key, const char *v, int64_t *out, int allow_zero) {
	char why[160];
	if (usch_duration_parse(v, out, why, sizeof(why)) < 0)
		return fail(c, "%s=%s: %s", key, v, why);
	if (!allow_zero && *out <= 0)
		return fail(c, "%s=%s: must be greater than 0", key, v);
	return 0;
}

static int parse_int_value(struct ctx *c, const char *key, const char *v, long min, long max, long *out) {
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return fail(c, "%s=%s: expected a whole number in %ld-%ld", key, v, min, max);
	*out = n;
	return 0;
}

static int parse_bool_value(struct ctx *c, const char *key, const char *v, int *out) {
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
		*out = 0;
	else
		return fail(c, "%s=%s: expected true or false", key, v);
	return 0;
}

static int parse_workers(struct ctx *c, const char *v) {
	struct usch_job *job = c->job;
	const char *p = v;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;
		if (end == p || a < 1 || a >= USCH_MAX_WORKER_ID)
			return fail(c, "workers=%s: expected worker ids (1-%d) like 1,3 or 2-4", v,
					USCH_MAX_WORKER_ID - 1);
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b >= USCH_MAX_WORKER_ID)
				return fail(c, "workers=%s: bad range after %ld", v, a);
			p = end;
		}
		for (long w = a; w <= b; w++)
			job->workers[w / 64] |= 1ULL << (w % 64);
		if (*p == ',') {
			if (!*++p)	/* a trailing comma */
				return fail(c, "workers=%s: expected worker ids (1-%d) like 1,3 or 2-4", v,
						USCH_MAX_WORKER_ID - 1);
		}
		else if (*p)
			return fail(c, "workers=%s: unexpected \"%c\"", v, *p);
	}
	return 0;
}

/* JSON text of the value, compact; checks it is of the wanted type. */
static int json_value(struct ctx *c, const char *key, const char *v, int is_json, json_type want,
		char **out) {
	if (!is_json)
		return fail(c, "%s=%s: expected a JSON %s", key, v, want == JSON_ARRAY ? "array" : "object");
	json_error_t jerr;
	json_t *j = json_loads(v, JSON_DECODE_ANY, &jerr);
	if (!j || json_typeof(j) != want) {
		json_decref(j);
		return fail(c, "%s=%s: expected a JSON %s", key, v, want == JSON_ARRAY ? "array" : "object");
	}
	*out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return *out ? 0 : fail(c, "out of memory");
}

/* A plain string for a JSON-quoted value ("a b" -> a b). */
static char *unquote(const char *v, int is_json) {
	if (!is_json || v[0] != '"')
		return strdup(v);
	json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
	char *s = j && json_is_string(j) ? strdup(json_string_value(j)) : NULL;
	json_decref(j);
	return s;
}

static int set_key(struct ctx *c, const char *key, const char *v, int is_json) {
	struct usch_job *job = c->job;
	long n = 0;
	char why[200];
	if (!strcmp(key, "args"))
		return json_value(c, key, v, is_json, JSON_ARRAY, &job->args_json);
	if (!strcmp(key, "kwargs"))
		return json_value(c, key, v, is_json, JSON_OBJECT, &job->kwargs_json);
	char *s = unquote(v, is_json);
	if (!s)
		return fail(c, "%s=%s: expected a string", key, v);
	int ret = 0;
	if (!*s)
		ret = fail(c, "%s= needs a value", key);
	else if (!strcmp(key, "id")) {
		free(job->id);
		job->id = s;
		s = NULL;
	}
	else if (!strcmp(key, "app")) {
		free(job->app);
		job->app = s;
		s = NULL;
	}
	else if (!strcmp(key, "tz")) {
		usch_tz_free(job->own_tz);
		job->own_tz = usch_tz_load(s, why, sizeof(why));
		if (!job->own_tz)
			ret = fail(c, "tz=%s: %s", s, why);
		job->tz = job->own_tz;
	}
	else if (!strcmp(key, "jitter"))
		ret = parse_duration_value(c, key, s, &job->jitter_us, 1);
	else if (!strcmp(key, "misfire-grace"))
		ret = parse_duration_value(c, key, s, &job->misfire_grace_us, 0);
	else if (!strcmp(key, "timeout"))
		ret = parse_duration_value(c, key, s, &job->timeout_us, 0);
	else if (!strcmp(key, "max-running")) {
		ret = parse_int_value(c, key, s, 1, 1000, &n);
		job->max_running = (int) n;
	}
	else if (!strcmp(key, "coalesce")) {
		if (!strcmp(s, "latest"))
			job->coalesce = USCH_COALESCE_LATEST;
		else if (!strcmp(s, "earliest"))
			job->coalesce = USCH_COALESCE_EARLIEST;
		else if (!strcmp(s, "all"))
			job->coalesce = USCH_COALESCE_ALL;
		else
			ret = fail(c, "coalesce=%s: expected earliest, latest or all", s);
	}
	else if (!strcmp(key, "paused"))
		ret = parse_bool_value(c, key, s, &job->paused);
	else if (!strcmp(key, "scope")) {
		if (!strcmp(s, "all"))
			job->scope = USCH_SCOPE_ALL;
		else if (!strcmp(s, "once"))
			job->scope = USCH_SCOPE_ONCE;
		else if (!strcmp(s, "workers"))
			job->scope = USCH_SCOPE_WORKERS;
		else if (!strcmp(s, "cluster"))
			job->scope = USCH_SCOPE_CLUSTER;
		else
			ret = fail(c, "scope=%s: expected all, once, workers or cluster", s);
	}
	else if (!strcmp(key, "workers"))
		ret = parse_workers(c, s);
	free(s);
	return ret;
}

/* start= and end= need the job's zone, so they are read after tz=. */
static int set_window_key(struct ctx *c, const char *key, const char *v, int is_json) {
	char why[200];
	int64_t *dst = !strcmp(key, "start") ? &c->job->start_us : &c->job->end_us;
	/* start="2026-11-24 09:00", and every string of a scheduler-job */
	char *s = unquote(v, is_json);
	if (!s)
		return fail(c, "%s=%s: expected a string", key, v);
	int ret = 0;
	if (usch_datetime_parse(s, c->job->tz, dst, why, sizeof(why)) < 0)
		ret = fail(c, "%s=%s: %s", key, s, why);
	free(s);
	return ret;
}

static int parse_target(struct ctx *c, const char *text) {
	struct usch_job *job = c->job;
	const char *colon = strchr(text, ':');
	size_t plen = colon - text;
	const char *rest = colon + 1;
	if (plen == 3 && !strncmp(text, "rpc", 3)) {
		job->kind = USCH_TARGET_RPC;
		if (!*rest)
			return fail(c, "target \"%s\": rpc: needs a function name", text);
	}
	else if (plen == 6 && !strncmp(text, "signal", 6)) {
		char *end;
		long n = strtol(rest, &end, 10);
		job->kind = USCH_TARGET_SIGNAL;
		if (!*rest || *end || n < 0 || n > 255)
			return fail(c, "target \"%s\": signal: needs a uWSGI signal number 0-255", text);
	}
	else if (plen == 4 && !strncmp(text, "exec", 4)) {
		job->kind = USCH_TARGET_EXEC;
		while (isspace((unsigned char) *rest))	/* "exec: cmd" */
			rest++;
		if (*rest == '"') {
			char *cmd = unquote(rest, 1);
			if (!cmd || !*cmd) {
				free(cmd);
				return fail(c, "target \"%s\": exec: needs a command", text);
			}
			job->target = cmd;
			return 0;
		}
		if (!*rest)
			return fail(c, "target \"%s\": exec: needs a command", text);
	}
	else {
		const char *written = text;	/* messages quote the target as written */
		job->kind = USCH_TARGET_PYTHON;
		if (plen == 6 && !strncmp(text, "python", 6)) {
			text = rest;
			colon = strchr(text, ':');
			if (!colon)
				return fail(c, "target \"%s\": expected python:module:function", written);
		}
		rest = text;
		/* module:attr[.attr...]: dotted identifiers, one ':' */
		if (colon == text || !colon[1] || strchr(colon + 1, ':'))
			return fail(c, "target \"%s\": expected module:function (e.g. app.tasks:cleanup)", written);
		for (const char *p = text; *p; p++) {
			if (p == colon)
				continue;
			if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '.'))
				return fail(c, "target \"%s\": \"%c\" cannot appear in a Python module:function", written, *p);
		}
		for (const char *p = text; *p; p++) {
			int first = p == text || p[-1] == '.' || p[-1] == ':';
			if (*p == '.' || *p == ':' ? first || !p[1] : first && isdigit((unsigned char) *p))
				return fail(c, "target \"%s\": expected module:function (e.g. app.tasks:cleanup)", written);
		}
	}
	job->target = strdup(rest);
	return job->target ? 0 : fail(c, "out of memory");
}

/* What the tokens before the target are, for messages. */
static const char *trigger_noun(const struct ctx *c) {
	return !strcmp(c->kind, "cron") ? "cron expression" : !strcmp(c->kind, "at") ? "date and time" : "interval";
}

/* "N unit" with a calendar unit: a calendar interval. Returns 1 and sets
 * *out (NULL: the failure is already in c->err), or 0 when text is not of
 * that form. */
static int calendar_trigger(struct ctx *c, const char *text, usch_trigger **out) {
	static const struct { const char *name; enum usch_cal_unit unit; } cal[] = {
		{"day", USCH_CAL_DAYS}, {"days", USCH_CAL_DAYS}, {"week", USCH_CAL_WEEKS},
		{"weeks", USCH_CAL_WEEKS}, {"month", USCH_CAL_MONTHS}, {"months", USCH_CAL_MONTHS},
		{"year", USCH_CAL_YEARS}, {"years", USCH_CAL_YEARS},
	};
	struct usch_job *job = c->job;
	char *end;
	long n = strtol(text, &end, 10);
	*out = NULL;
	if (end == text || !isspace((unsigned char) *end))
		return 0;
	while (isspace((unsigned char) *end))
		end++;
	for (size_t i = 0; i < sizeof(cal) / sizeof(cal[0]); i++) {
		if (strcasecmp(end, cal[i].name))
			continue;
		if (n < 1 || n > 100000) {
			fail(c, "\"%s\": the count must be 1-100000", text);
			return 1;
		}
		int64_t anchor = job->start_us != INT64_MIN ? job->start_us : c->env->now_us;
		*out = usch_trigger_calendar((int) n, cal[i].unit, anchor, job->tz, NULL, 0);
		if (!*out)
			fail(c, "out of memory");
		return 1;
	}
	/* "30 s" is a duration with a space: leave it to interval_trigger */
	char compact[64];
	int64_t ignored;
	char why[128];
	snprintf(compact, sizeof(compact), "%ld%s", n, end);
	if (usch_duration_parse(compact, &ignored, why, sizeof(why)) == 0)
		return 0;
	fail(c, "\"%s\": unknown unit \"%s\" (use us, ms, s, m, h, d, w, or days, weeks, months, years)",
			text, end);
	return 1;
}

/* An interval: on each worker's elapsed time from its start, or - with
 * start=, or inside and/or (wall) - anchored at start (or now) on the wall
 * clock. */
static usch_trigger *interval_trigger(struct ctx *c, const char *text, int wall) {
	struct usch_job *job = c->job;
	char why[256], compact[512];
	int64_t period;
	size_t k = 0;
	for (const char *p = text; *p && k + 1 < sizeof(compact); p++)
		if (!isspace((unsigned char) *p))
			compact[k++] = *p;
	compact[k] = 0;
	if (usch_duration_parse(compact, &period, why, sizeof(why)) < 0) {
		fail(c, "\"%s\": %s", text, why);
		return NULL;
	}
	if (period <= 0) {
		fail(c, "\"%s\": the interval must be greater than 0", text);
		return NULL;
	}
	int64_t anchor = job->start_us != INT64_MIN ? job->start_us : wall ? c->env->now_us + period : period;
	usch_trigger *t = usch_trigger_interval(period, anchor, why, sizeof(why));
	if (!t)
		fail(c, "%s", why);
	return t;
}

/* One trigger of the given kind from its text; NULL with c->err set. */
static usch_trigger *make_trigger(struct ctx *c, const char *kind, const char *text, int wall) {
	struct usch_job *job = c->job;
	char why[256];
	usch_trigger *t = NULL;
	if (!strcmp(kind, "cron")) {
		t = usch_trigger_cron(text, job->id, job->tz, why, sizeof(why));
		if (!t)
			fail(c, "%s", why);
		return t;
	}
	if (!strcmp(kind, "at")) {
		int64_t at;
		if (usch_datetime_parse(text, job->tz, &at, why, sizeof(why)) < 0) {
			fail(c, "\"%s\": %s", text, why);
			return NULL;
		}
		t = usch_trigger_date(at, job->tz, why, sizeof(why));
		if (!t)
			fail(c, "%s", why);
		return t;
	}
	if (calendar_trigger(c, text, &t))
		return t;
	return interval_trigger(c, text, wall);
}

/* and/or: every element is an object with one trigger key. */
static usch_trigger *combo_trigger(struct ctx *c) {
	static const char *const child_kinds[] = {"cron", "interval", "every", "at", NULL};
	size_t n = json_array_size(c->combo), i;
	if (n < 1)
		return fail(c, "\"%s\" needs an array of one or more triggers", c->kind), NULL;
	usch_trigger **kids = calloc(n, sizeof(*kids));
	if (!kids)
		return fail(c, "out of memory"), NULL;
	json_t *el;
	int ok = 1;
	json_array_foreach(c->combo, i, el) {
		const char *kind = NULL, *text = NULL;
		for (int k = 0; ok && child_kinds[k]; k++) {
			json_t *v = json_object_get(el, child_kinds[k]);
			if (v && json_is_string(v) && !kind) {
				kind = child_kinds[k];
				text = json_string_value(v);
			}
		}
		if (!json_is_object(el) || json_object_size(el) != 1 || !kind) {
			fail(c, "\"%s\" element %zu: expected an object with one of \"cron\", \"interval\", "
					"\"every\" or \"at\"", c->kind, i + 1);
			ok = 0;
			break;
		}
		kids[i] = make_trigger(c, kind, text, 1);
		if (!kids[i]) {
			ok = 0;
			break;
		}
	}
	usch_trigger *t = NULL;
	if (ok) {
		/* takes the children, also when it fails */
		t = !strcmp(c->kind, "and") ? usch_trigger_and(kids, n, NULL, 0) : usch_trigger_or(kids, n, NULL, 0);
		if (!t)
			fail(c, "out of memory");
	}
	else {
		for (size_t k = 0; k < n; k++)
			if (kids[k])
				usch_trigger_free(kids[k]);
	}
	free(kids);
	return t;
}

/* Builds the job's trigger from c->trig_text (or c->combo) by c->kind,
 * then applies the start/end window. */
static int build_trigger(struct ctx *c) {
	struct usch_job *job = c->job;
	const char *text = c->trig_text;
	int implicit_start = 0;
	if (c->combo) {
		job->trigger = combo_trigger(c);
		/* children live on the wall timeline, whatever their kind */
		job->anchored = 1;
		if (!job->trigger)
			return -1;
	}
	else {
		if (!*text)
			return fail(c, "missing the %s before the target", trigger_noun(c));
		int interval = !strcmp(c->kind, "interval") || !strcmp(c->kind, "every");
		job->trigger = make_trigger(c, interval ? "interval" : c->kind, text, 0);
		if (!job->trigger)
			return -1;
		if (usch_trigger_kind(job->trigger) == USCH_TRIGGER_INTERVAL && job->start_us == INT64_MIN &&
		    job->end_us != INT64_MAX)
			/* an unanchored interval runs on each worker's elapsed time,
			 * where a wall-clock end= would never be reached */
			return fail(c, "end= on an interval needs start= too (without start= the interval "
					"counts from each worker's start)");
		job->start_on_boot = usch_trigger_is_start(job->trigger);
		int calendar = usch_trigger_kind(job->trigger) == USCH_TRIGGER_CALENDAR;
		if (calendar && job->start_us == INT64_MIN) {
			job->start_us = c->env->now_us + 1;	/* first fire one interval on */
			implicit_start = 1;
		}
		job->anchored = usch_trigger_kind(job->trigger) == USCH_TRIGGER_INTERVAL && job->start_us != INT64_MIN;
	}
	if (usch_trigger_set_window(job->trigger, job->start_us, job->end_us) < 0)
		return fail(c, implicit_start ? "end= is in the past" : "start= is after end=");
	return 0;
}

static struct usch_job *new_job(const char *option, const char *line, const struct usch_decl_env *env) {
	struct usch_job *job = calloc(1, sizeof(*job));
	if (!job)
		return NULL;
	job->option = strdup(option);
	job->line = strdup(line);
	job->tz = env->default_tz ? env->default_tz : usch_tz_utc();
	job->max_running = 1;
	job->misfire_grace_us = -1;
	job->start_us = INT64_MIN;
	job->end_us = INT64_MAX;
	if (!job->option || !job->line) {
		usch_job_free(job);
		return NULL;
	}
	return job;
}

/* Applies the key=value tokens: tz first (start/end are read in it), then
 * the rest in order. */
static int apply_keys(struct ctx *c, struct tok *toks, int from, int n) {
	char key[32];
	for (int pass = 0; pass < 3; pass++) {
		for (int i = from; i < n; i++) {
			const char *eq = key_end(&toks[i]);
			if (!eq)
				return fail(c, "\"%.*s\": expected key=value after the target", (int) toks[i].len, toks[i].s);
			size_t klen = eq - toks[i].s;
			if (!is_known_key(toks[i].s, klen)) {
				char known[256];
				return fail(c, "unknown key \"%.*s\" (known: %s)", (int) klen, toks[i].s,
						known_keys(known, sizeof(known)));
			}
			snprintf(key, sizeof(key), "%.*s", (int) klen, toks[i].s);
			char *v = strndup(eq + 1, toks[i].s + toks[i].len - eq - 1);
			int is_tz = !strcmp(key, "tz"), is_window = !strcmp(key, "start") || !strcmp(key, "end");
			int ret = 0;
			if (pass == 0 && is_tz)
				ret = set_key(c, key, v, toks[i].json);
			else if (pass == 1 && is_window)
				ret = set_window_key(c, key, v, toks[i].json);
			else if (pass == 2 && !is_tz && !is_window)
				ret = set_key(c, key, v, toks[i].json);
			free(v);
			if (ret < 0)
				return -1;
		}
	}
	if (c->job->scope == USCH_SCOPE_WORKERS) {
		int any = 0;
		for (size_t i = 0; i < sizeof(c->job->workers) / sizeof(c->job->workers[0]); i++)
			any |= c->job->workers[i] != 0;
		if (!any)
			return fail(c, "scope=workers needs workers=<ids>, e.g. workers=1");
	}
	return 0;
}

/* The default id is the target as written ("app.tasks:cleanup"). */
static int default_id(struct ctx *c, const char *target_text) {
	if (c->job->id)
		return 0;
	c->job->id = strdup(target_text);
	return c->job->id ? 0 : fail(c, "out of memory");
}

static int parse_line(struct ctx *c) {
	struct tok toks[MAX_TOKENS];
	int n = 0, t = -1;
	if (tokenize(c, toks, &n) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (is_target(&toks[i]) && !key_end(&toks[i])) {
			t = i;
			break;
		}
	}
	if (t < 0)
		return fail(c, "no target: expected module:function, rpc:name, signal:N or exec:command after the %s",
				c->kind);
	size_t k = 0;
	c->trig_text[0] = 0;
	for (int i = 0; i < t; i++) {
		int w = snprintf(c->trig_text + k, sizeof(c->trig_text) - k, "%s%.*s", i ? " " : "",
				(int) toks[i].len, toks[i].s);
		if (w < 0 || (size_t) w >= sizeof(c->trig_text) - k)
			return fail(c, "the %s is too long", trigger_noun(c));
		k += w;
	}
	/* exec: takes every token up to the first known key= as its command,
	 * unless the command is quoted (exec:"... key=value ...") */
	int end = t + 1;
	if (toks[t].len >= 5 && !strncmp(toks[t].s, "exec:", 5) && !toks[t].json) {
		while (end < n) {
			const char *eq = key_end(&toks[end]);
			if (eq && is_known_key(toks[end].s, eq - toks[end].s))
				break;
			end++;
		}
	}
	char *target = strndup(toks[t].s, toks[end - 1].s + toks[end - 1].len - toks[t].s);
	int ret = target ? parse_target(c, target) : fail(c, "out of memory");
	if (!ret)
		ret = apply_keys(c, toks, end, n);
	if (!ret)
		ret = default_id(c, target);
	free(target);
	if (!ret)
		ret = build_trigger(c);
	return ret;
}

/* scheduler-job: a JSON object; rebuilt as the equivalent line so both
 * forms share one parser and one set of messages. */
static int parse_json_job(struct ctx *c) {
	json_error_t jerr;
	json_t *obj = json_loads(c->line, 0, &jerr);
	if (!obj || !json_is_object(obj)) {
		json_decref(obj);
		return fail(c, "expected a JSON object: %s", obj ? "not an object" : jerr.text);
	}
	static const char *const kinds[] = {"cron", "interval", "every", "at", "and", "or", NULL};
	const char *kind = NULL, *trig = NULL, *target = NULL;
	size_t cap = strlen(c->line) * 2 + 64, len = 0;
	char *line = malloc(cap);
	int ret = line ? 0 : fail(c, "out of memory");
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (ret)
			break;
		int is_kind = 0;
		for (int i = 0; kinds[i]; i++)
			is_kind |= !strcmp(key, kinds[i]);
		int is_combo = !strcmp(key, "and") || !strcmp(key, "or");
		if (is_combo) {
			if (!json_is_array(v)) {
				ret = fail(c, "\"%s\" must be an array of triggers", key);
				break;
			}
			if (kind) {
				ret = fail(c, "\"%s\" and \"%s\" both given: one trigger per job", kind, key);
				break;
			}
			kind = key;
			trig = "-";
			c->combo = v;
			continue;
		}
		if (is_kind || !strcmp(key, "target")) {
			if (!json_is_string(v)) {
				ret = fail(c, "\"%s\" must be a string", key);
				break;
			}
			if (!strcmp(key, "target"))
				target = json_string_value(v);
			else if (kind)
				ret = fail(c, "\"%s\" and \"%s\" both given: one trigger per job", kind, key);
			else {
				kind = key;
				trig = json_string_value(v);
			}
			continue;
		}
		if (!is_known_key(key, strlen(key))) {
			ret = fail(c, "unknown key \"%s\"", key);
			break;
		}
	}
	if (!ret && !kind)
		ret = fail(c, "needs one of \"cron\", \"interval\", \"every\", \"at\", \"and\" or \"or\"");
	if (!ret && !target)
		ret = fail(c, "needs a \"target\"");
	if (!ret)
		len = snprintf(line, cap, "%s %s", trig, target);
	json_object_foreach(obj, key, v) {
		if (ret)
			break;
		if (!is_known_key(key, strlen(key)))
			continue;
		/* strings stay quoted (the line parser unquotes JSON strings),
		 * everything else is its compact JSON text: true, 2, [1, "a"] */
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		size_t need = len + strlen(key) + (text ? strlen(text) : 0) + 3;
		if (text && need > cap) {
			char *bigger = realloc(line, need * 2);
			if (bigger) {
				line = bigger;
				cap = need * 2;
			}
		}
		if (!text || need > cap) {
			free(text);
			ret = fail(c, "out of memory");
			break;
		}
		len += snprintf(line + len, cap - len, " %s=%s", key, text);
		free(text);
	}
	if (!ret) {
		c->kind = kind;
		const char *orig = c->line;
		c->line = line;
		ret = parse_line(c);
		size_t off = strlen(c->option) + strlen(line) + 5;
		if (ret && off < strlen(c->err)) {
			/* report against the JSON the user wrote */
			char *why = strdup(c->err + off);
			c->line = orig;
			fail(c, "%s", why ? why : "invalid job");
			free(why);
		}
		c->line = orig;
	}
	free(line);
	json_decref(obj);
	return ret;
}

struct usch_job *usch_decl_parse(const char *option, const char *line,
		const struct usch_decl_env *env, char *err, size_t errlen) {
	struct ctx c = {.option = option, .line = line, .env = env, .err = err, .errlen = errlen};
	c.job = new_job(option, line, env);
	if (!c.job) {
		snprintf(err, errlen, "%s: out of memory", option);
		return NULL;
	}
	const char *suffix = strncmp(option, "scheduler-", 10) ? option : option + 10;
	int ret;
	if (!strcmp(suffix, "job")) {
		ret = parse_json_job(&c);
	}
	else if (!strcmp(suffix, "cron") || !strcmp(suffix, "interval") || !strcmp(suffix, "at")) {
		c.kind = suffix;
		ret = parse_line(&c);
	}
	else {
		snprintf(err, errlen, "%s: not a job option", option);
		ret = -1;
	}
	if (ret < 0) {
		usch_job_free(c.job);
		return NULL;
	}
	return c.job;
}

int usch_decl_finish(struct usch_job **jobs, size_t n, char *err, size_t errlen) {
	for (size_t i = 0; i < n; i++) {
		jobs[i]->index = i;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(jobs[i]->id, jobs[j]->id))
				continue;
			snprintf(err, errlen, "%s \"%s\": duplicate job id \"%s\" (also %s \"%s\"): give one of them id=...",
					jobs[i]->option, jobs[i]->line, jobs[i]->id, jobs[j]->option, jobs[j]->line);
			return -1;
		}
	}
	return 0;
}

void usch_job_free(struct usch_job *job) {
	if (!job)
		return;
	if (job->trigger)
		usch_trigger_free(job->trigger);
	usch_tz_free(job->own_tz);
	free(job->id);
	free(job->option);
	free(job->line);
	free(job->target);
	free(job->args_json);
	free(job->kwargs_json);
	free(job->app);
	free(job);
}
