/* scheduler.c - the uWSGI plugin: options, lifecycle hooks, and the
 * master-side work done before fork (parsing, validation, the threads
 * check, the dry-run listing).
 *
 * Lifecycle: init (master, before sockets) parses every declaration and
 * refuses to start on any error; postinit_apps (master, after eager app
 * loading) checks that Python targets import; post_fork (each worker,
 * also after respawns) starts the worker's scheduler; atexit (each worker,
 * before the language plugins finalise) stops it. */
#include <uwsgi.h>
#include "adapter.h"
#include "core/decl.h"
#include "core/timefmt.h"
#include "core/trigger.h"
#include "core/listing.h"
#include "core/sched.h"

extern struct uwsgi_server uwsgi;

struct sched_config sched_cfg;

/* Declarations in the order given, whatever option declared them. */
struct decl {
	const char *option;
	char *line;
	struct decl *next;
};

static struct {
	struct decl *decls, **tail;
	char *timezone;
	char *shutdown_timeout;
	char *list_from;
	char *log;
	char *threads;
	char *rpc_signal;
	char *list;
	char *list_json;
	usch_tz *default_tz;
} opt = {
	.tail = &opt.decls,
};

static void add_decl(char *option, char *value, void *data) {
	struct decl *d = uwsgi_calloc(sizeof(*d));
	d->option = data;
	d->line = value;
	*opt.tail = d;
	opt.tail = &d->next;
}

static struct uwsgi_option sched_options[] = {
	{"scheduler-cron", required_argument, 0,
	 "declare a cron job: <expression> <target> [key=value ...]", add_decl, "scheduler-cron", 0},
	{"scheduler-interval", required_argument, 0,
	 "declare an interval job: <duration> <target> [key=value ...]", add_decl, "scheduler-interval", 0},
	{"scheduler-at", required_argument, 0,
	 "declare a one-shot job: <RFC 3339 instant> <target> [key=value ...]", add_decl, "scheduler-at", 0},
	{"scheduler-job", required_argument, 0,
	 "declare a job as a JSON object", add_decl, "scheduler-job", 0},
	{"scheduler-timezone", required_argument, 0,
	 "default time zone of cron and date jobs (default: the system's)", uwsgi_opt_set_str, &opt.timezone, 0},
	{"scheduler-shutdown-timeout", required_argument, 0,
	 "how long a stopping worker waits for running jobs (default 10s)", uwsgi_opt_set_str, &opt.shutdown_timeout, 0},
	{"scheduler-threads", required_argument, 0,
	 "executor threads per worker (default 1)", uwsgi_opt_set_str, &opt.threads, 0},
	{"scheduler-rpc-signal", required_argument, 0,
	 "uWSGI signal that runs rpc: jobs of Perl/Ruby/Lua apps in the worker (default 254)",
	 uwsgi_opt_set_str, &opt.rpc_signal, 0},
	{"scheduler-log", required_argument, 0,
	 "what runs log: all (default), errors or none", uwsgi_opt_set_str, &opt.log, 0},
	{"scheduler-list", required_argument, 0,
	 "print every job with its next N fire times and exit", uwsgi_opt_set_str, &opt.list, 0},
	{"scheduler-list-json", required_argument, 0,
	 "the same as scheduler-list, as one JSON document", uwsgi_opt_set_str, &opt.list_json, 0},
	{"scheduler-list-from", required_argument, 0,
	 "base instant of scheduler-list (RFC 3339; default: now)", uwsgi_opt_set_str, &opt.list_from, 0},
	UWSGI_END_OF_OPTIONS
};

/* One log line: "[scheduler] " + prefix + the formatted text. */
static void vlog(const char *prefix, const char *fmt, va_list ap) {
	char buf[4096];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	uwsgi_log("[scheduler] %s%s\n", prefix, buf);
}

void sched_log(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void sched_log_block(const char *job_id, const char *text) {
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int) (nl - p) : (int) strlen(p);
		uwsgi_log("[scheduler] job %s: | %.*s\n", job_id, len, p);
		p += len + (nl ? 1 : 0);
	}
}

void sched_log_run(const struct usch_job *job, const char *fmt, ...) {
	if (sched_cfg.log_level != SCHED_LOG_ALL)
		return;
	char prefix[512];
	snprintf(prefix, sizeof(prefix), "job %s: ", job->id);
	va_list ap;
	va_start(ap, fmt);
	vlog(prefix, fmt, ap);
	va_end(ap);
}

void sched_log_output(const struct usch_job *job, const char *text) {
	if (sched_cfg.log_level != SCHED_LOG_NONE)
		sched_log_block(job->id, text);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
	exit(1);
}

/* A whole number option in [min, max], or dflt when not given. Not
 * uwsgi_opt_set_int, which reads "abc" as 0. */
static int int_option(const char *name, const char *text, long min, long max, int dflt, const char *what) {
	if (!text)
		return dflt;
	char *end;
	long n = strtol(text, &end, 10);
	if (end == text || *end || n < min || n > max)
		die("%s \"%s\": expected %s, %ld-%ld", name, text, what, min, max);
	return (int) n;
}

static void load_settings(void) {
	char err[512];
	const char *tzname = opt.timezone;
	opt.default_tz = usch_tz_load(tzname, err, sizeof(err));
	if (!opt.default_tz)
		die("scheduler-timezone \"%s\": %s", tzname ? tzname : "", err);
	sched_cfg.shutdown_timeout_us = 10 * 1000000LL;
	if (opt.shutdown_timeout &&
	    usch_duration_parse(opt.shutdown_timeout, &sched_cfg.shutdown_timeout_us, err, sizeof(err)) < 0)
		die("scheduler-shutdown-timeout \"%s\": %s", opt.shutdown_timeout, err);
	/* past worker-reload-mercy the master SIGKILLs the worker mid-wait */
	int64_t mercy = (int64_t) uwsgi.worker_reload_mercy * 1000000LL;
	if (mercy > 0 && sched_cfg.shutdown_timeout_us >= mercy) {
		int64_t capped = mercy > 2000000 ? mercy - 1000000 : mercy / 2;
		sched_log("scheduler-shutdown-timeout %.1fs is not below worker-reload-mercy (%ds): using %.1fs",
				sched_cfg.shutdown_timeout_us / 1e6, uwsgi.worker_reload_mercy, capped / 1e6);
		sched_cfg.shutdown_timeout_us = capped;
	}
	if (!opt.log || !strcmp(opt.log, "all"))
		sched_cfg.log_level = SCHED_LOG_ALL;
	else if (!strcmp(opt.log, "errors"))
		sched_cfg.log_level = SCHED_LOG_ERRORS;
	else if (!strcmp(opt.log, "none"))
		sched_cfg.log_level = SCHED_LOG_NONE;
	else
		die("scheduler-log \"%s\": expected all, errors or none", opt.log);
	sched_cfg.rpc_signal = int_option("scheduler-rpc-signal", opt.rpc_signal, 0, 255, 254,
			"a uWSGI signal number");
	sched_cfg.threads = int_option("scheduler-threads", opt.threads, 1, 64, 1, "a number of threads");
}

static void parse_declarations(int64_t now_us) {
	char err[1024];
	struct usch_decl_env env = {.default_tz = opt.default_tz, .now_us = now_us};
	size_t n = 0;
	for (struct decl *d = opt.decls; d; d = d->next)
		n++;
	sched_cfg.jobs = uwsgi_calloc(sizeof(struct usch_job *) * (n ? n : 1));
	for (struct decl *d = opt.decls; d; d = d->next) {
		struct usch_job *job = usch_decl_parse(d->option, d->line, &env, err, sizeof(err));
		if (!job)
			die("%s", err);
		sched_cfg.jobs[sched_cfg.njobs++] = job;
	}
	if (usch_decl_finish(sched_cfg.jobs, sched_cfg.njobs, err, sizeof(err)) < 0)
		die("%s", err);
}

static int python_plugin_loaded(void) {
	for (int i = 0; i < 256; i++)
		if (sched_is_python_plugin(uwsgi.p[i]))
			return 1;
	return 0;
}

static void check_targets(void) {
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		struct usch_job *job = sched_cfg.jobs[i];
		if (job->kind == USCH_TARGET_PYTHON && !python_plugin_loaded())
			die("%s \"%s\": target \"%s\" is Python but no Python plugin is loaded: add plugins = python3",
					job->option, job->line, job->target);
		if (job->scope == USCH_SCOPE_CLUSTER)
			die("%s \"%s\": scope=cluster (once across a Legion cluster) is not available in this "
					"release", job->option, job->line);
		if (job->scope == USCH_SCOPE_ONCE)
			sched_log("job %s: scope=once runs on worker 1", job->id);
		if (job->scope == USCH_SCOPE_WORKERS && uwsgi.numproc > 0) {
			int any = 0;
			for (int w = 1; w <= uwsgi.numproc && w < USCH_MAX_WORKER_ID; w++)
				any |= usch_job_runs_on(job, w);
			if (!any)
				die("%s \"%s\": workers= names no worker of this instance (workers = %d)",
						job->option, job->line, uwsgi.numproc);
		}
	}
}

/* Master, before sockets are bound and before any fork. */
static int sched_init(void) {
	int list_n = int_option("scheduler-list", opt.list, 1, 10000, 0, "a number of fire times");
	int list_json_n = int_option("scheduler-list-json", opt.list_json, 1, 10000, 0, "a number of fire times");
	int listing = list_n > 0 || list_json_n > 0;
	if (!opt.decls && !listing)
		return 0;
	load_settings();
	int64_t base = sched_clock_us(CLOCK_REALTIME);
	if (opt.list_from) {
		char err[256];
		if (usch_datetime_parse(opt.list_from, opt.default_tz, &base, err, sizeof(err)) < 0)
			die("scheduler-list-from \"%s\": %s", opt.list_from, err);
	}
	parse_declarations(base);
	if (listing) {
		int ok = list_json_n > 0 ?
			usch_list_json(sched_cfg.jobs, sched_cfg.njobs, list_json_n, base, stdout) :
			usch_list_text(sched_cfg.jobs, sched_cfg.njobs, list_n, base, stdout);
		fflush(stdout);
		exit(ok < 0 ? 1 : 0);
	}
	check_targets();
	if (sched_cfg.njobs && !uwsgi.has_threads)
		die("threads are disabled but %zu job%s declared: add --enable-threads "
				"(ini: enable-threads = true) or --threads N", sched_cfg.njobs,
				sched_cfg.njobs == 1 ? " is" : "s are");
	sched_log("%zu job%s declared, shutdown timeout %.1fs, %d executor thread%s per worker",
			sched_cfg.njobs, sched_cfg.njobs == 1 ? "" : "s", sched_cfg.shutdown_timeout_us / 1e6,
			sched_cfg.threads, sched_cfg.threads > 1 ? "s" : "");
	return 0;
}

/* Master, after eager app loading: a Python target that cannot be
 * imported is a startup error, found before any worker forks. */
static void check_python_targets(void) {
	if (uwsgi.lazy || uwsgi.lazy_apps || !sched_python_loaded())
		return;
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		struct usch_job *job = sched_cfg.jobs[i];
		if (job->kind != USCH_TARGET_PYTHON)
			continue;
		char *why = sched_python_check(job->app, job->target);
		if (why)
			die("%s \"%s\": cannot load target \"%s\": %s", job->option, job->line, job->target, why);
	}
}

/* rpc: jobs may target Perl/Ruby/Lua functions (known only once the
 * apps register them): set up their way into the request threads. Python
 * ones do not need it, so a failure here is a warning. */
static void setup_rpc_signal(void) {
	int any = 0;
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		any |= sched_cfg.jobs[i]->kind == USCH_TARGET_RPC;
	if (!any)
		return;
	char err[256];
	if (sched_mainthread_setup(sched_cfg.rpc_signal, err, sizeof(err)) < 0)
		sched_log("rpc: jobs can call Python RPC functions only: %s", err);
}
static void sched_postinit_apps(void) {
	check_python_targets();
	setup_rpc_signal();
}

static void sched_post_fork(void) {
	if (uwsgi.mywid <= 0)
		return;
	/* resolve the Python API here, once, before our threads can race on it */
	sched_python_loaded();
	sched_runtime_start();
}

/* Graceful paths (SIGHUP reload, chain reload, max-requests, die-on-term)
 * clear manage_next_request before exit(); the brutal ones (SIGINT,
 * SIGQUIT, SIGTERM without die-on-term) leave it set. */
static void sched_atexit(void) {
	if (uwsgi.mywid <= 0 || !uwsgi.workers)
		return;
	sched_runtime_stop(uwsgi.workers[uwsgi.mywid].manage_next_request == 0);
}

struct uwsgi_plugin scheduler_plugin = {
	.name = "scheduler",
	.options = sched_options,
	.init = sched_init,
	.postinit_apps = sched_postinit_apps,
	.post_fork = sched_post_fork,
	.atexit = sched_atexit,
};
