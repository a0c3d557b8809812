/* control.c - the RPC control functions (see control.h).
 *
 * They run in whatever thread calls them: a request thread serving an
 * RPC request (uWSGI's rpc plugin, modifier1 173), the app's own thread
 * (uwsgi.call), a job. They read the shared memory (flags, history, runs,
 * counters) and change only flags: the workers' timing threads act on a
 * pause or an ask within a second, this worker's at once.
 *
 * Who may steer: a caller in the instance (no RPC request behind the
 * call), or one on a UNIX socket whose peer is root or the instance's own
 * user; anyone else is a remote node (TCP, loopback included: any local
 * user can reach it). */
#include <uwsgi.h>
#include <jansson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include "control.h"
#include "runtime.h"
#include "threads.h"
#include "flags.h"
#include "history.h"
#include "runs.h"
#include "claims.h"
#include "counters.h"
#include "metrics.h"
#include "legion.h"
#include "config.h"
#include "log.h"
#include "common.h"
#include "core/decl.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

#define MODIFIER_RPC 173

enum action {
	ACT_LIST,
	ACT_RUN,
	ACT_PAUSE,
	ACT_RESUME,
};

struct function {
	const char *name;
	enum action action;
	int steers; /* refused to remote nodes unless scheduler-rpc-remote */
};

static const struct function FUNCTIONS[] = {
	{ "scheduler.list", ACT_LIST, 0 },
	{ "scheduler.run", ACT_RUN, 1 },
	{ "scheduler.pause", ACT_PAUSE, 1 },
	{ "scheduler.resume", ACT_RESUME, 1 },
};

#define NFUNCTIONS (sizeof(FUNCTIONS) / sizeof(FUNCTIONS[0]))

/* Who called, for the log and for the refusal. */
struct caller {
	int remote;
	char who[128];
};

static void peer_text(int fd, char *out, size_t len) {
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (getpeername(fd, (struct sockaddr *) &ss, &sl) < 0)
		ss.ss_family = AF_UNSPEC;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *) &ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	}
	else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, len, "from %s port %d, worker %d", host, port, uwsgi.mywid);
}

static void identify(struct caller *c) {
	c->remote = 0;
	snprintf(c->who, sizeof(c->who), "from the instance, worker %d", uwsgi.mywid);
	struct wsgi_request *req = sched_thread_ours() || !uwsgi.current_wsgi_req ? NULL : current_wsgi_req();
	if (!req || !req->uh || req->uh->modifier1 != MODIFIER_RPC)
		return;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(req->fd, (struct sockaddr *) &ss, &sl) == 0 && ss.ss_family == AF_UNIX) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		if (getsockopt(req->fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
			cred.uid = (uid_t) -1;
		c->remote = !(cred.uid == 0 || cred.uid == getuid());
		snprintf(c->who, sizeof(c->who), "over a UNIX socket, uid %d, worker %d", (int) cred.uid, uwsgi.mywid);
		return;
	}
	c->remote = 1;
	peer_text(req->fd, c->who, sizeof(c->who));
}

/* Without history (scheduler-history = 0, or none since a restart): the
 * last run record, the latest of the workers' for per-worker jobs. */
static int last_record(const struct usch_job *job, struct sched_hist_run *out) {
	struct sched_run r;
	if (!sched_runs_latest(job, &r))
		return 0;
	*out = (struct sched_hist_run){ .scheduled_us = r.scheduled_us,
		.started_us = r.started_us,
		.ended_us = r.ended_us,
		.worker = r.worker,
		.pid = r.pid,
		.outcome = r.outcome,
		.restored = r.restored };
	if (out->outcome == SCHED_OUTCOME_RUNNING && sched_runs_gone(out->worker, out->pid, out->restored))
		out->outcome = SCHED_OUTCOME_INTERRUPTED;
	return 1;
}

/* Every counter by its name; a time is "<name>_ts", null for never. */
static json_t *counters_json(const struct usch_job *job) {
	struct sched_counters *c = sched_counters_of(job);
	json_t *o = json_object();
	for (size_t r = 0; c && o && r < sched_ncounter_rows; r++) {
		const struct sched_counter_row *row = &sched_counter_rows[r];
		int64_t v = sched_counter_value(c, row);
		if (row->kind != SCHED_COUNTER_TIME) {
			json_object_set_new(o, row->name, json_integer((json_int_t) v));
			continue;
		}
		char key[64];
		snprintf(key, sizeof(key), "%s_ts", row->name);
		json_object_set_new(o, key, v ? json_integer((json_int_t) v) : json_null());
	}
	return o ? o : json_object();
}

/* scope= as written, but "worker" for every worker (the default "all"
 * reads as every job of the instance) */
static const char *scope_name(const struct usch_job *job) {
	return job->scope == USCH_SCOPE_ALL ? "worker" : usch_key_value_name("scope", (int) job->scope);
}

static json_t *job_json(const struct usch_job *job) {
	char text[1400], workers[256];
	int depth = sched_history_depth();
	struct sched_hist_run *runs = uwsgi_calloc(sizeof(*runs) * (size_t) (depth ? depth : 1));
	usch_job_schedule(job, text, sizeof(text));
	if (job->scope == USCH_SCOPE_WORKERS)
		usch_workers_format(&job->cold->workers, workers, sizeof(workers));
	else
		snprintf(workers, sizeof(workers), "all");
	int64_t next = sched_next_due_us(job);
	struct sched_counters *c = sched_counters_of(job);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:i, s:I}", "id", job->id, "target", "",
			"schedule", text, "scope", scope_name(job), "workers", workers, "paused",
			sched_flags_paused(job), "next_due", sched_json_instant(next, job->tz), "next_due_ts",
			sched_json_ts(next), "max_running", job->max_running, "running",
			(json_int_t) (c ? atomic_load(&c->running) : 0));
	if (!o) {
		free(runs);
		return NULL;
	}
	snprintf(text, sizeof(text), "%s%s", usch_job_kind_prefix(job), job->target);
	json_object_set_new(o, "target", json_string(text));
	json_object_set_new(o, "overlap", json_string(usch_key_value_name("overlap", (int) job->overlap)));
	int n = sched_history_get(job, runs, depth);
	json_t *history = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(history, sched_history_json(job, &runs[i]));
	int last = n > 0 || last_record(job, &runs[0]);
	json_object_set_new(o, "outcome", last ? json_string(sched_outcome_name(runs[0].outcome)) : json_null());
	json_object_set_new(o, "last", last ? sched_history_json(job, &runs[0]) : json_null());
	json_object_set_new(o, "counters", counters_json(job));
	if (job->scope == USCH_SCOPE_CLUSTER) {
		json_object_set_new(o, "legion", json_string(sched_legion_name(job)));
		json_object_set_new(o, "lord", json_boolean(sched_legion_is_lord(job)));
	}
	json_object_set_new(o, "history", history);
	free(runs);
	return o;
}

static json_t *list(const struct usch_job *only) {
	int64_t now = sched_clock_us(CLOCK_REALTIME);
	char when[USCH_RFC3339_MAX];
	usch_rfc3339_format(now, usch_tz_utc(), when, sizeof(when));
	json_t *jobs = json_array();
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		if (!only || only == sched_cfg.jobs[i])
			json_array_append_new(jobs, job_json(sched_cfg.jobs[i]));
	return json_pack("{s:s, s:i, s:s, s:f, s:i, s:i, s:o}", "scheduler", "list", "version", 1, "now", when,
			"now_ts", now / 1e6, "worker", uwsgi.mywid, "pid", (int) getpid(), "jobs", jobs);
}

static json_t *answer(const struct usch_job *job, const char *id, const char *action, int ok, const char *text) {
	json_t *o = json_pack("{s:b, s:s, s:s}", "ok", ok, "job", job ? job->id : id, "action", action);
	json_object_set_new(o, ok ? "message" : "error", json_string(text));
	return o;
}

/* How many workers of the instance run job. */
static int workers_of(const struct usch_job *job) {
	int n = 0;
	for (int w = 1; w <= uwsgi.numproc && w < USCH_MAX_WORKER_ID; w++)
		n += usch_job_runs_on(job, w);
	return n;
}

static json_t *run_now(const struct usch_job *job, const struct caller *c) {
	char text[200];
	struct sched_counters *k = sched_counters_of(job);
	if (usch_job_claimed(job) && k && atomic_load(&k->running) >= job->max_running) {
		snprintf(text, sizeof(text), "already running (max-running=%d): not run again", job->max_running);
		return answer(job, NULL, "run", 0, text);
	}
	sched_flags_ask_run(job, sched_clock_us(CLOCK_REALTIME));
	sched_runtime_wake();
	sched_log("job %s: run asked for by scheduler.run (%s)", job->id, c->who);
	int n = workers_of(job);
	if (job->scope == USCH_SCOPE_CLUSTER)
		snprintf(text, sizeof(text), "run asked for: one worker of this instance runs it now, lord or not");
	else if (job->scope == USCH_SCOPE_ONCE)
		snprintf(text, sizeof(text), "run asked for: one worker runs it now");
	else
		snprintf(text, sizeof(text), "run asked for: %s runs it once",
				n == 1 ? "its worker" : "each of its workers");
	return answer(job, NULL, "run", 1, text);
}

static json_t *set_paused(const struct usch_job *job, int pause, const struct caller *c) {
	const char *action = pause ? "pause" : "resume";
	int was = sched_flags_set_paused(job, pause);
	if (was == pause)
		return answer(job, NULL, action, 1, pause ? "already paused" : "not paused");
	sched_runtime_wake();
	char text[200];
	if (pause) {
		sched_log("job %s: paused by scheduler.pause (%s): its occurrences are passed over until "
			  "scheduler.resume",
				job->id, c->who);
		return answer(job, NULL, action, 1, "paused on every worker");
	}
	sched_log("job %s: resumed by scheduler.resume (%s)", job->id, c->who);
	char when[USCH_RFC3339_MAX] = "unknown";
	int64_t next = sched_next_due_us(job);
	if (next)
		usch_rfc3339_format(next, job->tz, when, sizeof(when));
	snprintf(text, sizeof(text), "resumed on every worker: next due %s", when);
	return answer(job, NULL, action, 1, text);
}

/* The job named by argument 0, or NULL with *why set. */
static const struct usch_job *job_arg(
		uint8_t argc, char **argv, uint16_t *argvs, char *id, size_t len, char *why, size_t whylen) {
	id[0] = 0;
	if (argc < 1) {
		if (why)
			snprintf(why, whylen, "needs a job id");
		return NULL;
	}
	size_t n = argvs[0] < len - 1 ? argvs[0] : len - 1;
	memcpy(id, argv[0], n);
	id[n] = 0;
	long i = usch_idset_find(&sched_cfg.ids, id);
	if (i < 0) {
		if (why)
			snprintf(why, whylen, "no job \"%s\" in this instance", id);
		return NULL;
	}
	return sched_cfg.jobs[i];
}

static json_t *call(const struct function *fn, uint8_t argc, char **argv, uint16_t *argvs) {
	const char *action = fn->name + strlen("scheduler.");
	char id[256], why[300];
	struct caller c;
	identify(&c);
	if (fn->steers && c.remote && !sched_cfg.rpc_remote) {
		snprintf(why, sizeof(why),
				"%s refused to a remote node (%s): set scheduler-rpc-remote = true to allow it",
				fn->name, c.who);
		sched_log("%s", why);
		job_arg(argc, argv, argvs, id, sizeof(id), NULL, 0);
		return answer(NULL, id, action, 0, why);
	}
	if (fn->action == ACT_LIST && argc == 0)
		return list(NULL);
	const struct usch_job *job = job_arg(argc, argv, argvs, id, sizeof(id), why, sizeof(why));
	if (!job)
		return answer(NULL, id, action, 0, why);
	switch (fn->action) {
	case ACT_LIST:
		return list(job);
	case ACT_RUN:
		return run_now(job, &c);
	case ACT_PAUSE:
		return set_paused(job, 1, &c);
	case ACT_RESUME:
		return set_paused(job, 0, &c);
	}
	return NULL;
}

uint64_t sched_control_call(void *func, uint8_t argc, char **argv, uint16_t *argvs, char **out) {
	json_t *o = call((const struct function *) func, argc, argv, argvs);
	*out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!*out) {
		*out = uwsgi_str("{\"ok\": false, \"error\": \"out of memory\"}");
	}
	return strlen(*out);
}

void sched_control_register(struct uwsgi_plugin *plugin) {
	if (!sched_cfg.njobs)
		return;
	for (size_t i = 0; i < NFUNCTIONS; i++)
		if (uwsgi_register_rpc((char *) FUNCTIONS[i].name, plugin, 0, (void *) &FUNCTIONS[i]))
			sched_fatal("cannot register the RPC function %s (rpc-max: %llu)", FUNCTIONS[i].name,
					(unsigned long long) uwsgi.rpc_max);
}
