/* decl_keys.c - the declaration keys: one table row per key (see decl.h)
 * and what each type of row does with a value. Both forms (line and JSON)
 * record values here; they are applied once all are known, so a key's
 * place on the line never matters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "chars.h"
#include "decl_impl.h"
#include "timefmt.h"

static const struct usch_key_name COALESCE[] = {
	{ "earliest", USCH_COALESCE_EARLIEST },
	{ "latest", USCH_COALESCE_LATEST },
	{ "all", USCH_COALESCE_ALL },
	{ NULL, 0 },
};
static const struct usch_key_name SCOPE[] = {
	{ "all", USCH_SCOPE_ALL },
	{ "once", USCH_SCOPE_ONCE },
	{ "workers", USCH_SCOPE_WORKERS },
	{ "cluster", USCH_SCOPE_CLUSTER },
	{ NULL, 0 },
};

static const struct usch_key_name OVERLAP[] = {
	{ "skip", USCH_OVERLAP_SKIP },
	{ "queue", USCH_OVERLAP_QUEUE },
	{ "replace", USCH_OVERLAP_REPLACE },
	{ NULL, 0 },
};

static const struct usch_key_name INTERRUPTED[] = {
	{ "skip", USCH_INTERRUPTED_SKIP },
	{ "rerun", USCH_INTERRUPTED_RERUN },
	{ NULL, 0 },
};

/* A row's field: where it is, how wide, and whether in the cold part. */
#define FIELD(f) offsetof(struct usch_job, f), sizeof(((struct usch_job *) 0)->f), 0
#define COLD(f) offsetof(struct usch_job_cold, f), sizeof(((struct usch_job_cold *) 0)->f), 1

const struct usch_key usch_keys[] = {
	{ "id", USCH_KEY_STRING, FIELD(id), USCH_PHASE_REST, 0, 0, NULL,
			"job name in logs and listings; duplicates are an error", "the target as written" },
	{ "args", USCH_KEY_ARRAY, FIELD(args_json), USCH_PHASE_REST, 0, 0, NULL,
			"positional arguments (rpc: each as a string)", "none" },
	{ "kwargs", USCH_KEY_OBJECT, FIELD(kwargs_json), USCH_PHASE_REST, 0, 0, NULL,
			"keyword arguments of a Python target", "none" },
	{ "context", USCH_KEY_IDENT, FIELD(context), USCH_PHASE_REST, 0, 0, NULL,
			"the keyword argument (Python targets) that gets the run's context, a dict: `job` (id), `scheduled` "
			"(RFC 3339 in the job's zone), `scheduled_ts` (epoch seconds), `worker` (id), `catch_up` (bool), "
			"`attempt` (1)",
			"none" },
	{ "tz", USCH_KEY_ZONE, FIELD(tz), USCH_PHASE_ZONE, 0, 0, NULL,
			"zone of cron, date and calendar triggers and of `start`/`end` without an offset",
			"`scheduler-timezone`, else the system zone" },
	{ "jitter", USCH_KEY_DURATION, COLD(jitter_us), USCH_PHASE_REST, 0, 0, NULL,
			"random delay in [0, D] added to each fire", "0" },
	{ "misfire-grace", USCH_KEY_DURATION, COLD(misfire_grace_us), USCH_PHASE_REST, 1, 0, NULL,
			"a fire later than this is not run, only logged", "no limit" },
	{ "coalesce", USCH_KEY_ENUM, FIELD(coalesce), USCH_PHASE_REST, 0, 0, COALESCE,
			"late fires: run once for the earliest or the latest, or run each", "latest" },
	{ "max-running", USCH_KEY_INT, FIELD(max_running), USCH_PHASE_REST, 1, 1000, NULL,
			"concurrent runs per worker (scope=once and cluster: across the instance); a fire that finds them "
			"going does what `overlap` says",
			"1" },
	{ "overlap", USCH_KEY_ENUM, FIELD(overlap), USCH_PHASE_REST, 0, 0, OVERLAP,
			"a fire that finds max-running runs going: `skip` it (logged); `queue` it, to start when one ends "
			"(at most one waits, later fires are skipped); `replace`: stop the running one (SIGTERM to a "
			"command's process group, `InterruptedError` raised in a Python run), then start",
			"skip" },
	{ "timeout", USCH_KEY_DURATION, FIELD(timeout_us), USCH_PHASE_REST, 1, 0, NULL,
			"a run longer than this is logged as overrunning and stopped: TimeoutError is raised in a Python run "
			"(one that does not stop within 5 s is reported hung), a command is killed",
			"none" },
	{ "start", USCH_KEY_INSTANT, COLD(start_us), USCH_PHASE_WINDOW, 0, 0, NULL,
			"no fire before; an interval with `start` is anchored there", "none" },
	{ "end", USCH_KEY_INSTANT, COLD(end_us), USCH_PHASE_WINDOW, 0, 0, NULL, "no fire after", "none" },
	{ "paused", USCH_KEY_BOOL, FIELD(paused), USCH_PHASE_REST, 0, 0, NULL,
			"starts paused: never fired until scheduler.resume", "false" },
	{ "scope", USCH_KEY_ENUM, FIELD(scope), USCH_PHASE_REST, 0, 0, SCOPE,
			"`all`: every worker runs its own copy; `workers`: only those of `workers`; `once`: each occurrence "
			"in one worker, the first with a free executor (see *How many times a job runs*); `cluster`: each "
			"occurrence once across the instances of a uWSGI Legion, in one worker of its lord (see *Once per "
			"cluster*)",
			"all" },
	{ "workers", USCH_KEY_WORKERS, COLD(workers), USCH_PHASE_REST, 0, 0, NULL, "the workers of `scope=workers`",
			"none" },
	{ "legion", USCH_KEY_STRING, COLD(legion), USCH_PHASE_REST, 0, 0, NULL,
			"the Legion (`legion = NAME ...`) whose lord runs a `scope=cluster` job",
			"`scheduler-legion`" },
	{ "app", USCH_KEY_STRING, FIELD(app), USCH_PHASE_REST, 0, 0, NULL,
			"the mountpoint of the app whose Python interpreter runs the job (`mount = /b=b.py`)",
			"the main app" },
	{ "catch-up", USCH_KEY_BOOL, FIELD(catch_up), USCH_PHASE_REST, 0, 0, NULL,
			"occurrences missed while no worker was up (restart, all workers down) run late, as `coalesce` "
			"says; `false`: skip them",
			"true" },
	{ "interrupted", USCH_KEY_ENUM, FIELD(interrupted), USCH_PHASE_REST, 0, 0, INTERRUPTED,
			"a run whose worker died: `skip` it (at most once) or `rerun` it, late (at least once)",
			"skip" },
	{ "retries", USCH_KEY_INT, FIELD(retries), USCH_PHASE_REST, 0, 100, NULL,
			"a failed run (exception, non-zero exit, RPC failure, timeout) is tried again up to N times, in "
			"the same worker; a retry that would start after the job's next fire is dropped",
			"0" },
	{ "retry-delay", USCH_KEY_DURATION, COLD(retry_delay_us), USCH_PHASE_REST, 1, 0, NULL,
			"wait before the first retry", "1s" },
	{ "retry-backoff", USCH_KEY_NUMBER, COLD(retry_backoff), USCH_PHASE_REST, 1, 100, NULL,
			"each later retry waits this many times longer", "2" },
	{ "retry-max-delay", USCH_KEY_DURATION, COLD(retry_max_delay_us), USCH_PHASE_REST, 1, 0, NULL,
			"the longest wait between attempts", "no limit" },
	{ "on-failure", USCH_KEY_STRING, COLD(on_failure_text), USCH_PHASE_REST, 0, 0, NULL,
			"a target run once after the last attempt failed: a Python callable gets `context=` (the run's "
			"context and `error`), a command `SCHEDULER_ERROR`; quote one with spaces "
			"(`on-failure=\"exec:curl -fsS https://...\"`)",
			"none" },
	{ "on-success", USCH_KEY_STRING, COLD(on_success_text), USCH_PHASE_REST, 0, 0, NULL,
			"a target run after each run that succeeded (a dead man's switch), as `on-failure`", "none" },
};

const size_t usch_nkeys = sizeof(usch_keys) / sizeof(usch_keys[0]);

_Static_assert(sizeof(usch_keys) / sizeof(usch_keys[0]) <= DECL_MAX_KEYS, "DECL_MAX_KEYS is too small");

const struct usch_key *decl_key_find(const char *name, size_t len) {
	for (size_t i = 0; i < usch_nkeys; i++)
		if (strlen(usch_keys[i].name) == len && !strncmp(usch_keys[i].name, name, len))
			return &usch_keys[i];
	return NULL;
}

const char *decl_known_keys(char *buf, size_t len) {
	size_t k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < usch_nkeys && k < len; i++)
		k += snprintf(buf + k, len - k, "%s%s", i ? ", " : "", usch_keys[i].name);
	return buf;
}

const char *usch_key_value_name(const char *key, int value) {
	const struct usch_key *k = decl_key_find(key, strlen(key));
	for (const struct usch_key_name *n = k ? k->names : NULL; n && n->name; n++)
		if (n->value == value)
			return n->name;
	return "?";
}

void usch_key_names_text(const struct usch_key_name *names, char *buf, size_t len) {
	size_t k = 0, n = 0;
	while (names[n].name)
		n++;
	buf[0] = 0;
	for (size_t i = 0; i < n && k < len; i++)
		k += snprintf(buf + k, len - k, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i].name);
}

int decl_key_given(struct decl_ctx *c, const struct usch_key *key, char *raw, json_t *json) {
	struct decl_value *v = &c->values[key - usch_keys];
	if (v->raw) {
		free(raw);
		json_decref(json);
		return decl_fail(c, "duplicate key \"%s\"", key->name);
	}
	if (!raw) {
		json_decref(json);
		return decl_fail(c, "out of memory");
	}
	v->raw = raw;
	v->json = json;
	return 0;
}

void decl_keys_free(struct decl_ctx *c) {
	for (size_t i = 0; i < usch_nkeys; i++) {
		free(c->values[i].raw);
		json_decref(c->values[i].json);
		c->values[i].raw = NULL;
		c->values[i].json = NULL;
	}
}

/* The value as text: a JSON string's contents, else what was written. */
static const char *text_of(const struct decl_value *v) {
	return json_is_string(v->json) ? json_string_value(v->json) : v->raw;
}

/* During the parse the job owns its cold part (decl.c). */
static void *field_of(struct decl_ctx *c, const struct usch_key *key) {
	return key->cold ? (char *) c->job->cold + key->field : (char *) c->job + key->field;
}

/* A whole number into a field of the row's width (its bounds fit it). */
static void store_int(void *field, size_t size, int value) {
	if (size == sizeof(uint8_t))
		*(uint8_t *) field = (uint8_t) value;
	else if (size == sizeof(uint16_t))
		*(uint16_t *) field = (uint16_t) value;
	else
		*(int *) field = value;
}

static int set_json(struct decl_ctx *c, const struct usch_key *key, const struct decl_value *v) {
	json_type want = key->type == USCH_KEY_ARRAY ? JSON_ARRAY : JSON_OBJECT;
	if (!v->json || json_typeof(v->json) != want)
		return decl_fail(c, "%s=%s: expected a JSON %s", key->name, v->raw,
				want == JSON_ARRAY ? "array" : "object");
	char *text = json_dumps(v->json, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return decl_fail(c, "out of memory");
	*(char **) field_of(c, key) = text;
	return 0;
}

static int set_int(struct decl_ctx *c, const struct usch_key *key, const char *s) {
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < key->min || n > key->max)
		return decl_fail(c, "%s=%s: expected a whole number in %ld-%ld", key->name, s, key->min, key->max);
	store_int(field_of(c, key), key->size, (int) n);
	return 0;
}

static int set_number(struct decl_ctx *c, const struct usch_key *key, const char *s) {
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	/* not inf, nan or hex floats: a plain decimal number */
	int plain = strspn(s, "0123456789.") == strlen(s);
	if (errno || end == s || *end || !plain || d < (double) key->min || d > (double) key->max)
		return decl_fail(c, "%s=%s: expected a number in %ld-%ld", key->name, s, key->min, key->max);
	*(double *) field_of(c, key) = d;
	return 0;
}

static int set_bool(struct decl_ctx *c, const struct usch_key *key, const char *s) {
	void *out = field_of(c, key);
	if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes"))
		store_int(out, key->size, 1);
	else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no"))
		store_int(out, key->size, 0);
	else
		return decl_fail(c, "%s=%s: expected true or false", key->name, s);
	return 0;
}

static int set_enum(struct decl_ctx *c, const struct usch_key *key, const char *s) {
	for (const struct usch_key_name *n = key->names; n->name; n++) {
		if (!strcmp(n->name, s)) {
			store_int(field_of(c, key), key->size, n->value);
			return 0;
		}
	}
	char expected[256];
	usch_key_names_text(key->names, expected, sizeof(expected));
	return decl_fail(c, "%s=%s: expected %s", key->name, s, expected);
}

static int set_duration(struct decl_ctx *c, const struct usch_key *key, const char *s) {
	char why[160];
	int64_t *out = field_of(c, key);
	if (usch_duration_parse(s, out, why, sizeof(why)) < 0)
		return decl_fail(c, "%s=%s: %s", key->name, s, why);
	if (key->min > 0 && *out <= 0)
		return decl_fail(c, "%s=%s: must be greater than 0", key->name, s);
	return 0;
}

static int set_zone(struct decl_ctx *c, const struct usch_key *key, const char *s) {
	char why[200];
	struct usch_job *job = c->job;
	usch_tz *tz = usch_tz_load(s, why, sizeof(why));
	if (!tz)
		return decl_fail(c, "%s=%s: %s", key->name, s, why);
	job->tz = tz;
	job->own_tz = 1;
	return 0;
}

static int set_text(struct decl_ctx *c, const struct usch_key *key, const char *s) {
	char **out = field_of(c, key);
	*out = strdup(s);
	return *out ? 0 : decl_fail(c, "out of memory");
}

/* Python's keywords (3.7 and later): valid identifiers that cannot name a
 * parameter. Soft keywords (match, case, type, _) can. */
static const char *const PY_KEYWORDS[] = { "False", "None", "True", "and", "as", "assert", "async", "await", "break",
	"class", "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
	"in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
	NULL };

/* A name a Python function can take as a keyword argument: an ASCII
 * identifier that is not a keyword. */
static int set_ident(struct decl_ctx *c, const struct usch_key *key, const char *s) {
	int ok = usch_is_alpha(*s) || *s == '_';
	for (const char *p = s; ok && *p; p++)
		ok = usch_is_alnum(*p) || *p == '_';
	if (!ok)
		return decl_fail(c, "%s=%s: expected a Python identifier (ASCII letters, digits, _)", key->name, s);
	for (const char *const *k = PY_KEYWORDS; *k; k++)
		if (!strcmp(*k, s))
			return decl_fail(c, "%s=%s: expected a Python identifier, not a keyword", key->name, s);
	return set_text(c, key, s);
}

static int set_value(struct decl_ctx *c, const struct usch_key *key, const struct decl_value *v) {
	char why[200];
	if (key->type == USCH_KEY_ARRAY || key->type == USCH_KEY_OBJECT)
		return set_json(c, key, v);
	const char *s = text_of(v);
	if (key->type == USCH_KEY_INSTANT) {
		/* in the job's zone: the zone phase has run */
		if (usch_datetime_parse(s, c->job->tz, field_of(c, key), why, sizeof(why)) < 0)
			return decl_fail(c, "%s=%s: %s", key->name, s, why);
		return 0;
	}
	if (!*s)
		return decl_fail(c, "%s= needs a value", key->name);
	switch (key->type) {
	case USCH_KEY_STRING:
		return set_text(c, key, s);
	case USCH_KEY_IDENT:
		return set_ident(c, key, s);
	case USCH_KEY_ZONE:
		return set_zone(c, key, s);
	case USCH_KEY_DURATION:
		return set_duration(c, key, s);
	case USCH_KEY_INT:
		return set_int(c, key, s);
	case USCH_KEY_NUMBER:
		return set_number(c, key, s);
	case USCH_KEY_BOOL:
		return set_bool(c, key, s);
	case USCH_KEY_ENUM:
		return set_enum(c, key, s);
	case USCH_KEY_WORKERS:
		if (usch_workers_parse(field_of(c, key), s, why, sizeof(why)) < 0)
			return decl_fail(c, "%s=%s: %s", key->name, s, why);
		return 0;
	default:
		return decl_fail(c, "%s: unhandled key type", key->name);
	}
}

static const struct decl_value *given(struct decl_ctx *c, const char *name) {
	const struct usch_key *key = decl_key_find(name, strlen(name));
	return c->values[key - usch_keys].raw ? &c->values[key - usch_keys] : NULL;
}

/* retry-* without retries= would be silently ignored. */
static int retries_check(struct decl_ctx *c) {
	static const char *const needs[] = { "retry-delay", "retry-backoff", "retry-max-delay" };
	const struct usch_job *job = c->job;
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]) && !job->retries; i++) {
		const struct decl_value *v = given(c, needs[i]);
		if (v)
			return decl_fail(c, "%s=%s: there are no retries to space (add retries=N, or drop %s=)",
					needs[i], v->raw, needs[i]);
	}
	if (job->cold->retry_max_delay_us && job->cold->retry_max_delay_us < job->cold->retry_delay_us)
		return decl_fail(c, "retry-max-delay=%s: shorter than retry-delay (%s)",
				given(c, "retry-max-delay")->raw,
				given(c, "retry-delay") ? given(c, "retry-delay")->raw : "1s");
	return 0;
}

/* Only a command or a Python run can be stopped for the next one. */
static int overlap_check(struct decl_ctx *c) {
	const struct usch_job *job = c->job;
	if (job->overlap != USCH_OVERLAP_REPLACE || job->kind == USCH_TARGET_PYTHON || job->kind == USCH_TARGET_EXEC)
		return 0;
	return decl_fail(c,
			"overlap=replace: a running %s call cannot be stopped, only a Python run or an exec: "
			"command (use overlap=queue or skip)",
			job->kind == USCH_TARGET_RPC ? "rpc:" : "signal:");
}

int decl_keys_apply(struct decl_ctx *c) {
	for (int phase = USCH_PHASE_ZONE; phase <= USCH_PHASE_REST; phase++) {
		for (size_t i = 0; i < usch_nkeys; i++) {
			const struct usch_key *key = &usch_keys[i];
			if (key->phase == (enum usch_key_phase) phase && c->values[i].raw &&
					set_value(c, key, &c->values[i]) < 0)
				return -1;
		}
	}
	const struct usch_job_cold *cold = c->job->cold;
	if (c->job->scope == USCH_SCOPE_WORKERS && usch_workers_empty(&cold->workers))
		return decl_fail(c, "scope=workers needs workers=<ids>, e.g. workers=1");
	/* silently ignored, it would run the job where it was meant not to */
	if (c->job->scope != USCH_SCOPE_WORKERS && !usch_workers_empty(&cold->workers))
		return decl_fail(c, "workers= is for scope=workers (add it, or drop workers=)");
	if (c->job->scope != USCH_SCOPE_CLUSTER && cold->legion)
		return decl_fail(c, "legion=%s is for scope=cluster (add it, or drop legion=)", cold->legion);
	if (retries_check(c) < 0)
		return -1;
	return overlap_check(c);
}

/* What a value of the row looks like, for the README. */
static void value_text(const struct usch_key *key, char *buf, size_t len) {
	static const char *const what[] = {
		[USCH_KEY_STRING] = "text",
		[USCH_KEY_ARRAY] = "JSON array",
		[USCH_KEY_OBJECT] = "JSON object",
		[USCH_KEY_ZONE] = "zone name",
		[USCH_KEY_DURATION] = "duration",
		[USCH_KEY_BOOL] = "`true` \\| `false`",
		[USCH_KEY_INSTANT] = "RFC 3339",
		[USCH_KEY_WORKERS] = "ids: `1,3-4`",
		[USCH_KEY_IDENT] = "Python name",
	};
	size_t k = 0;
	if (key->type == USCH_KEY_INT || key->type == USCH_KEY_NUMBER) {
		snprintf(buf, len, "%ld-%ld", key->min, key->max);
		return;
	}
	if (key->type != USCH_KEY_ENUM) {
		snprintf(buf, len, "%s", what[key->type]);
		return;
	}
	buf[0] = 0;
	for (const struct usch_key_name *n = key->names; n->name && k < len; n++)
		k += snprintf(buf + k, len - k, "%s`%s`", n == key->names ? "" : " \\| ", n->name);
}

void usch_keys_markdown(FILE *f) {
	fprintf(f, "| key | value | meaning | default |\n|---|---|---|---|\n");
	for (size_t i = 0; i < usch_nkeys; i++) {
		char value[128];
		value_text(&usch_keys[i], value, sizeof(value));
		fprintf(f, "| `%s` | %s | %s | %s |\n", usch_keys[i].name, value, usch_keys[i].meaning,
				usch_keys[i].dflt);
	}
}
