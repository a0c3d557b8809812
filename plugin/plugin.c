/* plugin.c - the uWSGI plugin: its struct, its options (from config.c's
 * table), its lifecycle hooks, and the checks the master makes before
 * fork. The top of the adapter: it calls the rest, nothing calls it.
 *
 * Lifecycle: on_load hands uWSGI the option table; init (master, before
 * sockets) parses every option and declaration and refuses to start on
 * any error; postinit_apps (master, after eager app loading) checks that
 * Python targets import; post_fork (each worker, also after respawns)
 * starts the worker's scheduler; atexit (each worker, before the language
 * plugins finalise) stops it. */
#include <uwsgi.h>
#include "config.h"
#include "runtime.h"
#include "claims.h"
#include "wake.h"
#include "runs.h"
#include "state.h"
#include "counters.h"
#include "metrics.h"
#include "control.h"
#include "flags.h"
#include "history.h"
#include "commands.h"
#include "legion.h"
#include "attempts.h"
#include "mainthread.h"
#include "python.h"
#include "log.h"
#include "common.h"
#include "core/listing.h"
#include "core/trigger.h"

extern struct uwsgi_server uwsgi;

struct uwsgi_plugin scheduler_plugin;

static void sched_on_load(void) {
	scheduler_plugin.options = sched_config_options();
}

/* workers= beyond the instance's workers (cheaper's maximum included)
 * would never run there. */
static void check_worker_ids(const struct usch_job *job) {
	char decl[SCHED_CONFIG_DECL_MAX];
	for (int w = uwsgi.numproc + 1; w < USCH_MAX_WORKER_ID; w++)
		if (usch_job_runs_on(job, w))
			sched_fatal("%s: workers= names worker %d, but this instance has %d workers",
					sched_config_decl(job, decl, sizeof(decl)), w, uwsgi.numproc);
}

/* A date in the past, or an end= that has passed, is accepted (a state
 * file may remember its run) but said: nothing of it fires. */
static void warn_if_over(const struct usch_job *job, int64_t now) {
	if (job->start_on_boot)
		return;
	int ended = job->cold->end_us != INT64_MAX && job->cold->end_us <= now;
	int wall = usch_trigger_clock(job->trigger) == USCH_CLOCK_WALL;
	char decl[SCHED_CONFIG_DECL_MAX];
	if (ended || (wall && usch_trigger_next(job->trigger, now) == INT64_MAX))
		sched_log("job %s: %s: nothing is left to fire (%s passed): it will not run", job->id,
				sched_config_decl(job, decl, sizeof(decl)),
				ended ? "its end= has" : "its last instant has");
}

static void check_targets(void) {
	int64_t now = sched_clock_us(CLOCK_REALTIME);
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		struct usch_job *job = sched_cfg.jobs[i];
		char decl[SCHED_CONFIG_DECL_MAX];
		if (job->kind == USCH_TARGET_PYTHON && !sched_python_plugin_loaded())
			sched_fatal("%s: target \"%s\" is Python but no Python plugin is loaded: add plugins = python3",
					sched_config_decl(job, decl, sizeof(decl)), job->target);
		if (job->scope == USCH_SCOPE_ONCE)
			sched_log("job %s: scope=once: each occurrence runs in one worker (shared claims)", job->id);
		if (job->scope == USCH_SCOPE_WORKERS && uwsgi.numproc > 0)
			check_worker_ids(job);
		warn_if_over(job, now);
	}
}

/* Master, before fork: the memory every worker shares (claims, last
 * runs, counters, pauses, history, commands), seeded from the state file (readonly: the dry run). */
static void setup_shared(int readonly) {
	sched_claims_setup();
	sched_runs_setup();
	sched_counters_setup();
	sched_flags_setup();
	sched_history_setup();
	sched_wake_setup();
	if (!readonly)
		sched_commands_setup();
	sched_state_load(readonly);
}

/* The dry run: with a state file, each job's last run too (read only). */
static void list_and_exit(void) {
	json_t **last = NULL;
	if (sched_cfg.state_path && sched_cfg.njobs) {
		setup_shared(1);
		last = uwsgi_calloc(sizeof(json_t *) * sched_cfg.njobs);
		for (size_t i = 0; i < sched_cfg.njobs; i++)
			last[i] = sched_state_of(sched_cfg.jobs[i]);
	}
	/* uWSGI makes stdout line-buffered: a write(2) a line, 700,000 of them
	 * for 100,000 jobs */
	fflush(stdout);
	int fd = dup(STDOUT_FILENO);
	FILE *out = fd < 0 ? NULL : fdopen(fd, "w");
	if (!out)
		sched_fatal("scheduler-list: cannot write to stdout: %s", strerror(errno));
	setvbuf(out, NULL, _IOFBF, 1 << 16);
	int ok = sched_cfg.list_json > 0 ? usch_list_json(sched_cfg.jobs, sched_cfg.njobs, sched_cfg.list_json,
							   sched_cfg.list_from_us, last, out)
					 : usch_list_text(sched_cfg.jobs, sched_cfg.njobs, sched_cfg.list,
							   sched_cfg.list_from_us, last, out);
	if (fclose(out) != 0)
		ok = -1;
	exit(ok < 0 ? 1 : 0);
}

/* Master, before sockets are bound and before any fork. */
static int sched_init(void) {
	if (!sched_config_given())
		return 0;
	sched_config_load();
	if (sched_cfg.list > 0 || sched_cfg.list_json > 0)
		list_and_exit();
	if (!sched_cfg.njobs)
		return 0;
	check_targets();
	sched_legion_setup();
	sched_attempts_check_alarm();
	if (!uwsgi.has_threads)
		sched_fatal("threads are disabled but %zu job%s declared: add --enable-threads "
			    "(ini: enable-threads = true) or --threads N",
				sched_cfg.njobs, sched_cfg.njobs == 1 ? " is" : "s are");
	setup_shared(0);
	sched_runtime_prepare();
	sched_log("%zu job%s declared, shutdown timeout %.1fs, up to %d executor thread%s per worker", sched_cfg.njobs,
			sched_cfg.njobs == 1 ? "" : "s", sched_cfg.shutdown_timeout_us / 1e6, sched_cfg.threads,
			sched_cfg.threads > 1 ? "s" : "");
	return 0;
}

/* Master, after eager app loading: a Python target that cannot be
 * imported is a startup error, found before any worker forks. */
static void check_python_target(const struct usch_job *job, const char *what, const struct usch_job *target) {
	if (!target || target->kind != USCH_TARGET_PYTHON)
		return;
	char *why = sched_python_check(target);
	char decl[SCHED_CONFIG_DECL_MAX];
	if (why)
		sched_fatal("%s: cannot load %s \"%s\": %s", sched_config_decl(job, decl, sizeof(decl)), what,
				target->target, why);
}

static void check_python_targets(void) {
	if (uwsgi.lazy || uwsgi.lazy_apps || !sched_python_loaded())
		return;
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		struct usch_job *job = sched_cfg.jobs[i];
		check_python_target(job, "target", job);
		check_python_target(job, "on-failure", job->on_failure);
		check_python_target(job, "on-success", job->on_success);
	}
}

/* rpc: jobs may target Perl/Ruby/Lua functions (known only once the
 * apps register them): set up their way into the request threads. Python
 * ones do not need it, so a failure here is a warning. */
static void setup_rpc_signal(void) {
	/* with lazy-apps this runs in every worker: the master's sum, not the jobs */
	if (!sched_cfg.any_rpc)
		return;
	char err[256];
	if (sched_mainthread_setup(sched_cfg.rpc_signal, err, sizeof(err)) < 0)
		sched_log("rpc: jobs can call Python RPC functions only: %s", err);
}

/* Master, after uWSGI set up its metrics subsystem, before fork. */
static void sched_preinit_apps(void) {
	sched_metrics_register();
	sched_control_register(&scheduler_plugin);
}

static void sched_postinit_apps(void) {
	check_python_targets();
	setup_rpc_signal();
}

static void sched_post_fork(void) {
	if (uwsgi.mywid <= 0 || !sched_cfg.njobs)
		return;
	/* resolve the Python API here, once, before our threads can race on it */
	sched_python_loaded();
	char err[256];
	if (sched_runtime_start(err, sizeof(err)) < 0)
		sched_log("worker %d (pid %d): the scheduler is not running: %s", uwsgi.mywid, (int) getpid(), err);
}

/* Master, every cycle of its loop. */
static void sched_master_cycle(void) {
	sched_legion_cycle();
	sched_claims_check();
	sched_commands_sweep();
	sched_state_write(0);
}

/* Master, on its way out and before it re-executes itself (SIGHUP or
 * SIGTERM reload): the last runs, whatever the last cycle wrote. */
static void sched_master_cleanup(void) {
	sched_claims_check();
	sched_commands_stop_all();
	sched_state_write(1);
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
	.on_load = sched_on_load,
	.init = sched_init,
	.preinit_apps = sched_preinit_apps,
	.postinit_apps = sched_postinit_apps,
	.post_fork = sched_post_fork,
	.master_cycle = sched_master_cycle,
	.master_cleanup = sched_master_cleanup,
	.atexit = sched_atexit,
	.rpc = sched_control_call,
};
