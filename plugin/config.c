/* config.c - the plugin's options (see config.h). */
#include <uwsgi.h>
#include "config.h"
#include "jobs_file.h"
#include "log.h"
#include "common.h"
#include "core/arena.h"
#include "core/decl.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

struct sched_config sched_cfg;

enum setting_type {
	SET_JOB,       /* declares a job: kept in order, parsed by core/decl */
	SET_JOBS_FILE, /* declares the jobs of a file, in order with the others */
	SET_ZONE,
	SET_DURATION,
	SET_INT,
	SET_ENUM,
	SET_INSTANT, /* read in scheduler-timezone: after it in the table */
	SET_PATH,
	SET_TEXT,
};

struct setting {
	const char *name;
	enum setting_type type;
	size_t field;                      /* offsetof(struct sched_config, ...) */
	const char *help;                  /* uwsgi --help */
	long min, max, dflt;               /* INT; DURATION default (µs) */
	const char *what;                  /* INT: what the number is, for messages */
	const struct usch_key_name *names; /* ENUM; the default is the first */
	char *text;                        /* the value given (the last one), or NULL */
};

static const struct usch_key_name LOG_FORMATS[] = {
	{ "text", SCHED_LOG_TEXT },
	{ "json", SCHED_LOG_JSON },
	{ NULL, 0 },
};

static const struct usch_key_name BOOLS[] = {
	{ "false", 0 },
	{ "true", 1 },
	{ NULL, 0 },
};

static const struct usch_key_name LOG_LEVELS[] = {
	{ "all", SCHED_LOG_ALL },
	{ "errors", SCHED_LOG_ERRORS },
	{ "none", SCHED_LOG_NONE },
	{ NULL, 0 },
};

static const struct usch_key_name EXEC_ENVS[] = {
	{ "inherit", SCHED_EXEC_ENV_INHERIT },
	{ "clean", SCHED_EXEC_ENV_CLEAN },
	{ NULL, 0 },
};

#define FIELD(f) offsetof(struct sched_config, f)

static struct setting settings[] = {
	{ "scheduler-cron", SET_JOB, 0, "declare a cron job: <expression> <target> [key=value ...]" },
	{ "scheduler-interval", SET_JOB, 0, "declare an interval job: <duration> <target> [key=value ...]" },
	{ "scheduler-at", SET_JOB, 0, "declare a one-shot job: <RFC 3339 instant> <target> [key=value ...]" },
	{ "scheduler-job", SET_JOB, 0, "declare a job as a JSON object" },
	{ "scheduler-jobs-file", SET_JOBS_FILE, 0,
			"declare the jobs of a file: a line each, as in the ini (scheduler-cron = ...), # and ; comments" },
	{ "scheduler-timezone", SET_ZONE, FIELD(default_tz),
			"default time zone of cron and date jobs (default: the system's)" },
	{ "scheduler-shutdown-timeout", SET_DURATION, FIELD(shutdown_timeout_us),
			"how long a stopping worker waits for running jobs (default 10s)", 0, 0, 10 * 1000000L },
	{ "scheduler-threads", SET_INT, FIELD(threads),
			"the most executor threads per worker (default 8): one to start, another whenever a fire finds "
			"them all busy",
			1, 64, 8, "a number of threads" },
	{ "scheduler-threads-idle", SET_DURATION, FIELD(threads_idle_us),
			"how long an executor beyond the first stays idle before it exits (default 1m)", 0, 0,
			60 * 1000000L },
	{ "scheduler-rpc-signal", SET_INT, FIELD(rpc_signal),
			"uWSGI signal that runs rpc: jobs of Perl/Ruby/Lua apps in the worker (default 254)", 0, 255,
			254, "a uWSGI signal number" },
	{ "scheduler-log", SET_ENUM, FIELD(log_level), "what runs log: all (default), errors or none", 0, 0, 0, NULL,
			LOG_LEVELS },
	{ "scheduler-log-format", SET_ENUM, FIELD(log_format),
			"runs' start and end lines: text (default) or json (one object a line, for log shippers)", 0, 0,
			0, NULL, LOG_FORMATS },
	{ "scheduler-state", SET_PATH, FIELD(state_path),
			"file that remembers each job's last run across restarts (written by the master)" },
	{ "scheduler-history", SET_INT, FIELD(history), "runs kept per job for scheduler.list (default 10, 0: none)", 0,
			1000, 10, "a number of runs" },
	{ "scheduler-rpc-remote", SET_ENUM, FIELD(rpc_remote),
			"let remote nodes run, pause and resume jobs over RPC: false (default) or true", 0, 0, 0, NULL,
			BOOLS },
	{ "scheduler-exec-env", SET_ENUM, FIELD(exec_env),
			"exec: commands' environment: inherit (the worker's, default) or clean (cron's: HOME, LOGNAME, "
			"USER, SHELL=/bin/sh, PATH=/usr/bin:/bin)",
			0, 0, 0, NULL, EXEC_ENVS },
	{ "scheduler-alarm", SET_TEXT, FIELD(alarm),
			"uWSGI alarm (alarm = NAME plugin:args) raised on every failed run and every give-up" },
	{ "scheduler-legion", SET_TEXT, FIELD(legion),
			"the uWSGI Legion (legion = NAME ...) whose lord runs the scope=cluster jobs that name none "
			"with legion=" },
	{ "scheduler-list", SET_INT, FIELD(list), "print every job with its next N fire times and exit", 1, 10000, 0,
			"a number of fire times" },
	{ "scheduler-list-json", SET_INT, FIELD(list_json), "the same as scheduler-list, as one JSON document", 1,
			10000, 0, "a number of fire times" },
	{ "scheduler-list-from", SET_INSTANT, FIELD(list_from_us),
			"base instant of scheduler-list (RFC 3339; default: now)" },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Declarations in the order given, whatever option declared them. */
struct decl {
	const char *option;
	char *line;
	struct decl *next;
};

static struct decl *decls, **decls_tail = &decls;

/* The list's nodes in chunks of their own, unmapped once the declarations
 * are parsed: from the heap they would sit between uWSGI's own pieces,
 * whose pages stay (and count in every worker) after they are freed. */
static void *private_chunk(size_t size) {
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		sched_fatal("out of memory for %zu bytes of declarations", size);
	return p;
}

static void unmap_chunk(void *chunk, size_t size) {
	munmap(chunk, size);
}

static struct usch_arena decl_nodes = { .chunk_size = 64u << 10, .alloc = private_chunk, .release = unmap_chunk };

static void append_decl(const char *option, char *line) {
	struct decl *d = usch_arena_alloc(&decl_nodes, sizeof(*d));
	if (!d)
		sched_fatal("%s: out of memory", option);
	d->option = option;
	d->line = line;
	*decls_tail = d;
	decls_tail = &d->next;
}

static void add_decl(char *option, char *value, void *data) {
	struct setting *s = data;
	append_decl(s->name, value);
}

/* Read here, while uWSGI reads its options: its declarations come between
 * the lines before and after it. */
static void add_jobs_file(char *option, char *value, void *data) {
	struct setting *s = data;
	s->text = value;
	if (!*value)
		sched_fatal("%s: needs a path", s->name);
	struct sched_jobs_file *f = sched_jobs_file_read(s->name, value);
	struct usch_decl_file_line line;
	while (sched_jobs_file_next(f, &line))
		append_decl(line.option, line.value);
}

static void set_text(char *option, char *value, void *data) {
	struct setting *s = data;
	s->text = value;
}

typedef void option_handler(char *option, char *value, void *data);

static option_handler *option_func(const struct setting *s) {
	switch (s->type) {
	case SET_JOB:
		return add_decl;
	case SET_JOBS_FILE:
		return add_jobs_file;
	default:
		return set_text;
	}
}

struct uwsgi_option *sched_config_options(void) {
	static struct uwsgi_option options[NSETTINGS + 1];
	for (size_t i = 0; i < NSETTINGS; i++) {
		struct setting *s = &settings[i];
		options[i] = (struct uwsgi_option){
			.name = (char *) s->name,
			.type = required_argument,
			.help = (char *) s->help,
			.func = option_func(s),
			.data = s,
		};
	}
	return options;
}

int sched_config_given(void) {
	if (decls)
		return 1;
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].text)
			return 1;
	return 0;
}

static void *field_of(const struct setting *s) {
	return (char *) &sched_cfg + s->field;
}

/* A whole number in [min, max]. Not uwsgi_opt_set_int, which reads "abc"
 * as 0. */
static void load_int(const struct setting *s) {
	int *out = field_of(s);
	*out = (int) s->dflt;
	if (!s->text)
		return;
	char *end;
	errno = 0;
	long n = strtol(s->text, &end, 10);
	if (errno || end == s->text || *end || n < s->min || n > s->max)
		sched_fatal("%s \"%s\": expected %s, %ld-%ld", s->name, s->text, s->what, s->min, s->max);
	*out = (int) n;
}

static void load_enum(const struct setting *s) {
	int *out = field_of(s);
	*out = s->names[0].value;
	if (!s->text)
		return;
	for (const struct usch_key_name *n = s->names; n->name; n++) {
		if (!strcmp(n->name, s->text)) {
			*out = n->value;
			return;
		}
	}
	char expected[128];
	usch_key_names_text(s->names, expected, sizeof(expected));
	sched_fatal("%s \"%s\": expected %s", s->name, s->text, expected);
}

static void load_setting(const struct setting *s) {
	char err[512];
	switch (s->type) {
	case SET_JOB:
	case SET_JOBS_FILE:
		return;
	case SET_ZONE:
		*(usch_tz **) field_of(s) = usch_tz_load(s->text, err, sizeof(err));
		if (!*(usch_tz **) field_of(s))
			sched_fatal("%s \"%s\": %s", s->name, s->text ? s->text : "", err);
		return;
	case SET_DURATION:
		*(int64_t *) field_of(s) = s->dflt;
		if (s->text && usch_duration_parse(s->text, field_of(s), err, sizeof(err)) < 0)
			sched_fatal("%s \"%s\": %s", s->name, s->text, err);
		return;
	case SET_INT:
		load_int(s);
		return;
	case SET_ENUM:
		load_enum(s);
		return;
	case SET_PATH:
	case SET_TEXT:
		if (s->text && !*s->text)
			sched_fatal("%s: needs a %s", s->name, s->type == SET_PATH ? "path" : "value");
		*(char **) field_of(s) = s->text;
		return;
	case SET_INSTANT:
		*(int64_t *) field_of(s) = INT64_MIN;
		if (s->text && usch_datetime_parse(s->text, sched_cfg.default_tz, field_of(s), err, sizeof(err)) < 0)
			sched_fatal("%s \"%s\": %s", s->name, s->text, err);
		return;
	}
}

/* Past worker-reload-mercy the master SIGKILLs a stopping worker mid-wait. */
static void cap_shutdown_timeout(void) {
	int64_t mercy = (int64_t) uwsgi.worker_reload_mercy * 1000000LL;
	if (mercy <= 0 || sched_cfg.shutdown_timeout_us < mercy)
		return;
	int64_t capped = mercy > 2000000 ? mercy - 1000000 : mercy / 2;
	sched_log("scheduler-shutdown-timeout %.1fs is not below worker-reload-mercy (%ds): using %.1fs",
			sched_cfg.shutdown_timeout_us / 1e6, uwsgi.worker_reload_mercy, capped / 1e6);
	sched_cfg.shutdown_timeout_us = capped;
}

/* The declarations, packed (usch_job_pack) in pages shared with the
 * workers, made before fork and only read after it: a worker's memory
 * counts the pages it reads, not every one the master filled, as it would
 * for the master's heap (its pages are the worker's from the fork). A
 * worker's start reads the view of the jobs (runtime.c), not the records,
 * the triggers nor the text (ids, targets, arguments), each in arenas of
 * their own: a job's pages are read when it fires, lists or is steered.
 * Never released. */
#define ARENA_CHUNK (4u << 20)
static struct usch_arena records, triggers, text;

static void *shared_chunk(size_t size) {
	return sched_shared_zeroed(size);
}

static void sum_up(const struct usch_job *job) {
	sched_cfg.any_workers_scope |= job->scope == USCH_SCOPE_WORKERS;
	sched_cfg.any_claimed |= usch_job_claimed(job);
	sched_cfg.any_rpc |= job->kind == USCH_TARGET_RPC;
	sched_cfg.any_python_stopped |= job->kind == USCH_TARGET_PYTHON &&
			(job->timeout_us > 0 || job->overlap == USCH_OVERLAP_REPLACE);
}

/* The id table's slots move to the shared pages too. */
static void share_ids(void) {
	size_t bytes = sched_cfg.ids.cap * sizeof(*sched_cfg.ids.slots);
	uint32_t *slots = sched_shared_zeroed(bytes);
	memcpy(slots, sched_cfg.ids.slots, bytes);
	free(sched_cfg.ids.slots);
	sched_cfg.ids.slots = slots;
}

static const char *where_declared(const struct usch_job *job, char *buf, size_t len) {
	return sched_jobs_file_where(job->line, buf, len);
}

const char *sched_config_decl(const struct usch_job *job, char *buf, size_t len) {
	char where[SCHED_JOBS_FILE_WHERE_MAX];
	snprintf(buf, len, "%s%s \"%s\"", where_declared(job, where, sizeof(where)), usch_job_option(job), job->line);
	return buf;
}

static void load_declarations(int64_t now_us) {
	char err[1024];
	struct usch_decl_env env = { .default_tz = sched_cfg.default_tz, .now_us = now_us, .borrow_line = 1 };
	size_t n = 0;
	for (struct decl *d = decls; d; d = d->next)
		n++;
	usch_arena_init(&records, ARENA_CHUNK, shared_chunk, NULL);
	usch_arena_init(&triggers, ARENA_CHUNK, shared_chunk, NULL);
	usch_arena_init(&text, ARENA_CHUNK, shared_chunk, NULL);
	struct usch_pack to = { &records, &triggers, &text };
	sched_cfg.jobs = sched_shared_zeroed(sizeof(struct usch_job *) * (n ? n : 1));
	/* each parsed job freed once packed: the next one's allocations reuse it */
	for (struct decl *d = decls, *next; d; d = next) {
		struct usch_job *job = usch_decl_parse(d->option, d->line, &env, err, sizeof(err));
		char where[SCHED_JOBS_FILE_WHERE_MAX];
		if (!job)
			sched_fatal("%s%s", sched_jobs_file_where(d->line, where, sizeof(where)), err);
		struct usch_job *packed = usch_job_pack(job, &to);
		if (!packed)
			sched_fatal("%s \"%s\": out of memory", d->option, d->line);
		usch_job_free(job);
		sched_cfg.jobs[sched_cfg.njobs++] = packed;
		sum_up(packed);
		next = d->next;
	}
	usch_arena_free(&decl_nodes);
	decls = NULL;
	decls_tail = &decls;
	if (usch_decl_finish(sched_cfg.jobs, sched_cfg.njobs, &sched_cfg.ids, where_declared, err, sizeof(err)) < 0)
		sched_fatal("%s", err);
	share_ids();
}

void sched_config_load(void) {
	for (size_t i = 0; i < NSETTINGS; i++)
		load_setting(&settings[i]);
	cap_shutdown_timeout();
	sched_log_set_level((enum sched_log_level) sched_cfg.log_level);
	sched_log_set_format((enum sched_log_format) sched_cfg.log_format);
	if (sched_cfg.list_from_us == INT64_MIN)
		sched_cfg.list_from_us = sched_clock_us(CLOCK_REALTIME);
	load_declarations(sched_cfg.list_from_us);
}
