/* context.c - the run's context: the values a fire hands to the code it
 * runs (the job's id, the scheduled instant in the job's zone and as
 * epoch seconds, the worker, whether it is a catch-up, the attempt), and
 * an exec: command's environment that carries them, on top of the
 * worker's or of cron's clean one (scheduler-exec-env; see context.h).
 *
 * Made per run, on the executor thread, and only for runs that use it: a
 * Python job without context= never asks. */
#include <uwsgi.h>
#include <pwd.h>
#include "context.h"
#include "config.h"

extern struct uwsgi_server uwsgi;
extern char **environ;

/* scheduler-exec-env = clean: what cron(8) gives a job, for the worker's
 * user (after --uid), made once per worker. */
#define NCLEAN 5
static char *clean_env[NCLEAN + 1];
static pthread_once_t clean_once = PTHREAD_ONCE_INIT;

static void make_clean_env(void) {
	struct passwd pw, *found = NULL;
	char buf[4096], uid[16];
	getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found);
	snprintf(uid, sizeof(uid), "%u", (unsigned) geteuid());
	/* a user without a passwd entry (a bare --uid number) still gets a name and a home */
	const char *name = found ? pw.pw_name : uid, *home = found && *pw.pw_dir ? pw.pw_dir : "/";
	clean_env[0] = uwsgi_concat2("HOME=", (char *) home);
	clean_env[1] = uwsgi_concat2("LOGNAME=", (char *) name);
	clean_env[2] = uwsgi_concat2("USER=", (char *) name);
	clean_env[3] = uwsgi_str("SHELL=/bin/sh");
	clean_env[4] = uwsgi_str("PATH=/usr/bin:/bin");
}

/* The environment a command starts from, before the run's context. */
static char **base_env(void) {
	if (sched_cfg.exec_env != SCHED_EXEC_ENV_CLEAN)
		return environ;
	pthread_once(&clean_once, make_clean_env);
	return clean_env;
}

void sched_context_of(const struct usch_fire *fire, const char *error, struct sched_context *ctx) {
	const struct usch_job *job = fire->job->parent ? fire->job->parent : fire->job;
	int64_t us = fire->scheduled_us;
	ctx->job = job->id;
	ctx->scheduled_us = us;
	if (usch_rfc3339_format(us, job->tz, ctx->scheduled, sizeof(ctx->scheduled)) < 0)
		ctx->scheduled[0] = 0; /* a year outside 0000-9999: no trigger makes one */
	ctx->worker = uwsgi.mywid;
	ctx->catch_up = fire->catch_up != 0;
	ctx->attempt = fire->attempt > 1 ? fire->attempt : 1;
	ctx->hook = fire->job->hook != 0;
	ctx->error = error;
}

#define NVARS 7
static const char *const NAMES[NVARS] = { "SCHEDULER_JOB", "SCHEDULER_SCHEDULED", "SCHEDULER_SCHEDULED_TS",
	"SCHEDULER_WORKER", "SCHEDULER_CATCH_UP", "SCHEDULER_ATTEMPT", "SCHEDULER_ERROR" };

/* Whether entry ("NAME=value") sets one of NAMES. */
static int is_ours(const char *entry) {
	if (strncmp(entry, "SCHEDULER_", 10))
		return 0;
	for (int i = 0; i < NVARS; i++) {
		size_t n = strlen(NAMES[i]);
		if (!strncmp(entry, NAMES[i], n) && entry[n] == '=')
			return 1;
	}
	return 0;
}

char **sched_context_environ(const struct sched_context *ctx) {
	char worker[16], attempt[16], scheduled_ts[32];
	int64_t us = ctx->scheduled_us;
	uint64_t mag = us < 0 ? -(uint64_t) us : (uint64_t) us;
	/* here, not in sched_context_of: a Python run takes the instant as a float */
	snprintf(scheduled_ts, sizeof(scheduled_ts), "%s%llu.%06llu", us < 0 ? "-" : "",
			(unsigned long long) (mag / 1000000), (unsigned long long) (mag % 1000000));
	snprintf(worker, sizeof(worker), "%d", ctx->worker);
	snprintf(attempt, sizeof(attempt), "%d", ctx->attempt);
	const char *values[NVARS] = { ctx->job, ctx->scheduled, scheduled_ts, worker, ctx->catch_up ? "true" : "false",
		attempt, ctx->error ? ctx->error : "" };
	/* SCHEDULER_ERROR is a hook's only */
	int nvars = ctx->hook ? NVARS : NVARS - 1;
	char **base = base_env();
	size_t n = 0, text = 0;
	while (base[n])
		n++;
	for (int i = 0; i < nvars; i++)
		text += strlen(NAMES[i]) + 1 + strlen(values[i]) + 1;
	/* the pointers, then the text of ours */
	char **env = malloc((n + NVARS + 1) * sizeof(char *) + text);
	if (!env)
		return NULL;
	char *p = (char *) (env + n + NVARS + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_ours(base[i]))
			env[k++] = base[i];
	for (int i = 0; i < nvars; i++) {
		env[k++] = p;
		p += sprintf(p, "%s=%s", NAMES[i], values[i]) + 1;
	}
	env[k] = NULL;
	return env;
}
