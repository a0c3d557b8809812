/* state.c - the state file (see state.h).
 *
 * One JSON document, written whole by the master: a temporary file next
 * to PATH (mode 0600, never through a symbolic link), fsync, rename over
 * PATH, fsync of the directory. A reader therefore sees the old file or
 * the new one, never half of one. Workers never touch it: they record
 * runs in shared memory (runs.c, claims.c), and the master writes what it
 * finds there once a second when something changed, and once more on its
 * way out (or before it re-executes itself for a reload). A kill -9 of the
 * master can thus forget the runs of its last second.
 *
 *   {"format": "uwsgi-scheduler-state", "version": 1, "written": "...",
 *    "jobs": {"<id>": {"schedule": "...", "claimed": <occurrence>,
 *                      "last": {run}}                      scope=once
 *             "<id>": {"schedule": "...", "workers": {"1": {run}, ...}}}}
 *   run: {"occurrence": <µs on the trigger's timeline>, "scheduled": "<RFC 3339>",
 *         "scheduled_ts", "started_ts", "ended_ts": <epoch s>, "outcome": "ok",
 *         "worker": 2, "pid": 1234[, "through": <occurrence>, "through_ts"]}
 *   and in any job: "paused": true|false, "declared_paused": <its paused=>
 *   (only when scheduler.pause/resume changed it), "history": [{past run}, ...]
 *   (oldest first, as scheduler.list shows them).
 *
 * "schedule" is usch_job_schedule(): a job whose trigger changed starts
 * from its new schedule (its pause and its history stay). A pause holds
 * while the declaration's paused= is the one it was set against. Jobs no
 * longer declared are not written again. */
#include <uwsgi.h>
#include <jansson.h>
#include "state.h"
#include "runs.h"
#include "claims.h"
#include "counters.h"
#include "flags.h"
#include "history.h"
#include "config.h"
#include "log.h"
#include "common.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

#define FORMAT "uwsgi-scheduler-state"
#define VERSION 1
#define WRITE_EVERY_US 1000000

static struct {
	json_t *jobs;        /* the "jobs" read at start (the dry run lists them) */
	uint64_t written;    /* the change count the last write saw */
	int wrote;           /* a write succeeded */
	int64_t last_try_us; /* monotonic */
	int failing;         /* errno of the failing writes, or 0 */
	char **schedule;     /* per job: usch_job_schedule(), made once at load */
} st;

/* What decides each job's occurrences never changes once loaded (a moved
 * anchor is not part of it): described once, not at every write. */
static void describe_schedules(void) {
	char text[1400];
	st.schedule = uwsgi_calloc(sizeof(char *) * sched_cfg.njobs);
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		usch_job_schedule(sched_cfg.jobs[i], text, sizeof(text));
		st.schedule[i] = uwsgi_str(text);
	}
}

static int64_t us_of(json_t *v) {
	return json_is_number(v) ? (int64_t) llround(json_number_value(v) * 1e6) : 0;
}

static json_t *run_json(const struct usch_job *job, const struct sched_run *r) {
	char when[USCH_RFC3339_MAX];
	usch_rfc3339_format(r->scheduled_us, job->tz, when, sizeof(when));
	enum sched_outcome o = r->outcome;
	if (o == SCHED_OUTCOME_RUNNING && sched_runs_gone(r->worker, r->pid, r->restored))
		o = SCHED_OUTCOME_INTERRUPTED;
	json_t *run = json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:i, s:i}", "occurrence", (json_int_t) r->occurrence,
			"scheduled", when, "scheduled_ts", sched_json_ts(r->scheduled_us), "started_ts",
			sched_json_ts(r->started_us), "ended_ts", sched_json_ts(r->ended_us), "outcome",
			sched_outcome_name(o), "worker", r->worker, "pid", r->pid);
	if (run && r->through > r->occurrence) {
		json_object_set_new(run, "through", json_integer((json_int_t) r->through));
		json_object_set_new(run, "through_ts", sched_json_ts(r->through_us));
	}
	return run;
}

static int run_of(json_t *o, struct sched_run *r) {
	json_t *occ = json_object_get(o, "occurrence");
	json_t *outcome = json_object_get(o, "outcome");
	if (!json_is_integer(occ) || !json_is_string(outcome))
		return 0;
	*r = (struct sched_run){
		.occurrence = (int64_t) json_integer_value(occ),
		.scheduled_us = us_of(json_object_get(o, "scheduled_ts")),
		.started_us = us_of(json_object_get(o, "started_ts")),
		.ended_us = us_of(json_object_get(o, "ended_ts")),
		.outcome = sched_outcome_parse(json_string_value(outcome)),
		.worker = (int) json_integer_value(json_object_get(o, "worker")),
		.pid = (int) json_integer_value(json_object_get(o, "pid")),
	};
	json_t *through = json_object_get(o, "through");
	if (json_is_integer(through) && json_integer_value(through) > r->occurrence) {
		r->through = (int64_t) json_integer_value(through);
		r->through_us = us_of(json_object_get(o, "through_ts"));
	}
	return r->outcome != SCHED_OUTCOME_NONE;
}

static int past_run_of(json_t *o, struct sched_hist_run *r) {
	json_t *outcome = json_object_get(o, "outcome");
	json_t *how = json_object_get(o, "how");
	const char *error = json_string_value(json_object_get(o, "error"));
	if (!json_is_string(outcome) || !json_is_string(how))
		return 0;
	*r = (struct sched_hist_run){
		.scheduled_us = us_of(json_object_get(o, "scheduled_ts")),
		.started_us = us_of(json_object_get(o, "started_ts")),
		.ended_us = us_of(json_object_get(o, "ended_ts")),
		.outcome = sched_outcome_parse(json_string_value(outcome)),
		.how = (enum sched_how) sched_how_parse(json_string_value(how)),
		.worker = (int) json_integer_value(json_object_get(o, "worker")),
		.pid = (int) json_integer_value(json_object_get(o, "pid")),
		.attempt = (int) json_integer_value(json_object_get(o, "attempt")),
	};
	if (error)
		snprintf(r->error, sizeof(r->error), "%s", error);
	return r->outcome != SCHED_OUTCOME_NONE && (int) r->how >= 0;
}

/* The runs kept, oldest first; those still going are interrupted for
 * the instance that reads them (history.c says so when it lists them). */
static json_t *history_json(const struct usch_job *job) {
	int depth = sched_history_depth();
	if (!depth)
		return NULL;
	struct sched_hist_run *runs = uwsgi_calloc(sizeof(*runs) * (size_t) depth);
	int n = sched_history_get(job, runs, depth);
	json_t *a = n ? json_array() : NULL;
	for (int i = n - 1; i >= 0; i--)
		json_array_append_new(a, sched_history_json(job, &runs[i]));
	free(runs);
	return a;
}

static void add_runs(json_t *o, const struct usch_job *job) {
	struct sched_run r;
	if (usch_job_claimed(job)) {
		int64_t claimed = sched_claims_last(job);
		if (claimed != INT64_MIN)
			json_object_set_new(o, "claimed", json_integer((json_int_t) claimed));
		if (sched_runs_get(job, 0, &r))
			json_object_set_new(o, "last", run_json(job, &r));
		return;
	}
	json_t *workers = json_object();
	for (int w = 1; w <= uwsgi.numproc; w++) {
		char key[16];
		snprintf(key, sizeof(key), "%d", w);
		if (sched_runs_get(job, w, &r))
			json_object_set_new(workers, key, run_json(job, &r));
	}
	if (json_object_size(workers))
		json_object_set_new(o, "workers", workers);
	else
		json_decref(workers);
}

static json_t *job_json(const struct usch_job *job) {
	json_t *o = json_pack("{s:s}", "schedule", st.schedule[job->index]);
	add_runs(o, job);
	int paused = sched_flags_paused(job);
	if (paused != job->paused) {
		json_object_set_new(o, "paused", json_boolean(paused));
		json_object_set_new(o, "declared_paused", json_boolean(job->paused));
	}
	json_t *history = history_json(job);
	if (history)
		json_object_set_new(o, "history", history);
	return json_object_size(o) > 1 ? o : (json_decref(o), NULL);
}

static json_t *snapshot(void) {
	char now[USCH_RFC3339_MAX];
	usch_rfc3339_format(sched_clock_us(CLOCK_REALTIME), usch_tz_utc(), now, sizeof(now));
	json_t *jobs = json_object();
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		json_t *j = job_json(sched_cfg.jobs[i]);
		if (j)
			json_object_set_new(jobs, sched_cfg.jobs[i]->id, j);
	}
	return json_pack("{s:s, s:i, s:s, s:o}", "format", FORMAT, "version", VERSION, "written", now, "jobs", jobs);
}

static int fail_at(const char *what, const char *path, char *err, size_t errlen) {
	int e = errno;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
	errno = e;
	return -1;
}

static int write_all(int fd, const char *buf, size_t len) {
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/* The directory of path (malloc'd). */
static char *dir_of(const char *path) {
	char *dir = uwsgi_str((char *) path);
	char *slash = strrchr(dir, '/');
	if (!slash) {
		free(dir);
		return uwsgi_str(".");
	}
	slash[slash == dir ? 1 : 0] = 0;
	return dir;
}

static void fsync_dir(const char *path) {
	char *dir = dir_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Anyone who can write in the directory can replace the file between two
 * writes, or plant a link where it is read: only the instance's own. */
static void check_directory(const char *path) {
	char *dir = dir_of(path);
	struct stat sb;
	if (stat(dir, &sb) < 0 || (!S_ISDIR(sb.st_mode) && (errno = ENOTDIR)))
		sched_fatal("scheduler-state %s: cannot use its directory %s: %s", path, dir, strerror(errno));
	if (sb.st_mode & S_IWOTH)
		sched_fatal("scheduler-state %s: its directory %s is writable by every user (mode %04o): keep the state "
			    "file in a directory only the instance can write in",
				path, dir, (unsigned) (sb.st_mode & 07777));
	free(dir);
}

/* The whole document into PATH, atomically. */
static int write_file(json_t *doc, char *err, size_t errlen) {
	const char *path = sched_cfg.state_path;
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *tmp = uwsgi_concat2((char *) path, ".tmp");
	/* O_EXCL: a link planted at the temporary name is not followed */
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int ret = fd < 0 ? fail_at("cannot create", tmp, err, errlen) : 0;
	if (!ret &&
			(fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 ||
					fsync(fd) < 0))
		ret = fail_at("cannot write", tmp, err, errlen);
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = fail_at("cannot write", tmp, err, errlen);
	if (!ret && rename(tmp, path) < 0)
		ret = fail_at("cannot rename it to", path, err, errlen);
	if (ret && fd >= 0)
		unlink(tmp);
	if (!ret)
		fsync_dir(path);
	free(tmp);
	free(text);
	return ret;
}

/* Moves whenever the file would say something else. A claim that did
 * not run (max-running, misfire) changes no run record, only the claim. */
static uint64_t change_count(void) {
	uint64_t changes = sched_runs_changes() + sched_flags_changes() + sched_history_changes();
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		changes += (uint64_t) sched_claims_last(sched_cfg.jobs[i]);
	return changes;
}

/* The file as memory has it now; what it saw is remembered on success. */
static int write_snapshot(char *err, size_t errlen) {
	uint64_t changes = change_count();
	st.last_try_us = sched_clock_us(CLOCK_MONOTONIC);
	json_t *doc = snapshot();
	int ret = doc ? write_file(doc, err, errlen) : (snprintf(err, errlen, "out of memory"), -1);
	json_decref(doc);
	if (ret == 0) {
		st.wrote = 1;
		st.written = changes;
	}
	return ret;
}

void sched_state_write(int now) {
	if (!sched_cfg.state_path)
		return;
	if (!now && sched_clock_us(CLOCK_MONOTONIC) - st.last_try_us < WRITE_EVERY_US)
		return;
	if (st.wrote && change_count() == st.written)
		return;
	char err[600];
	int ret = write_snapshot(err, sizeof(err));
	if (ret < 0) {
		int e = errno ? errno : ENOMEM;
		if (e != st.failing)
			sched_log("state: %s (retrying every second; runs are still recorded in memory)", err);
		st.failing = e;
		return;
	}
	if (st.failing)
		sched_log("state: %s written again", sched_cfg.state_path);
	st.failing = 0;
}

/* A file that is not ours is kept aside, and the instance starts fresh. */
static void set_aside(const char *why, int readonly) {
	const char *path = sched_cfg.state_path;
	if (readonly) {
		sched_log("state: %s: %s: ignored", path, why);
		return;
	}
	char *aside = uwsgi_concat2((char *) path, ".corrupt");
	if (rename(path, aside) < 0)
		sched_fatal("scheduler-state %s: %s, and it cannot be kept as %s: %s", path, why, aside,
				strerror(errno));
	sched_log("state: %s: %s: kept as %s, starting fresh", path, why, aside);
	free(aside);
}

static const char *foreign(json_t *doc, const json_error_t *e, char *buf, size_t len) {
	if (!doc) {
		snprintf(buf, len, "not JSON (%s, line %d)", e->text, e->line);
		return buf;
	}
	json_t *format = json_object_get(doc, "format");
	if (!json_is_string(format) || strcmp(json_string_value(format), FORMAT))
		return "not a scheduler state file (no \"format\": \"" FORMAT "\")";
	if (json_integer_value(json_object_get(doc, "version")) != VERSION)
		return "a state file of another version";
	if (!json_is_object(json_object_get(doc, "jobs")))
		return "no \"jobs\" object";
	return NULL;
}

/* A run the previous instance left going: it was cut short when that
 * instance stopped. */
static void interrupted_by_stop(const struct usch_job *job, struct sched_run *r) {
	sched_log_interrupted(job, r->scheduled_us, r->worker, r->pid, 1);
	sched_counters_interrupted(job, 0);
	r->outcome = SCHED_OUTCOME_INTERRUPTED;
}

static void continue_from(struct usch_job *job, int64_t last) {
	char err[200];
	if (job->catch_up && usch_job_continue_from(job, last, err, sizeof(err)) < 0)
		sched_log("job %s: cannot continue from its last run: %s", job->id, err);
}

static void seed_once(struct usch_job *job, json_t *entry) {
	json_t *claimed = json_object_get(entry, "claimed");
	int64_t last = json_is_integer(claimed) ? (int64_t) json_integer_value(claimed) : INT64_MIN;
	struct sched_run r;
	int have = run_of(json_object_get(entry, "last"), &r);
	/* nothing to carry over: an @start job has one occurrence per instance
	 * start; a cluster job's next occurrences are the lord's, and another
	 * instance may have been lord since (its last run is shown, never
	 * taken up) */
	int cluster = job->scope == USCH_SCOPE_CLUSTER;
	if (have && (job->start_on_boot || cluster)) {
		if (cluster && r.outcome == SCHED_OUTCOME_RUNNING)
			interrupted_by_stop(job, &r);
		r.restored = 1;
		sched_runs_put(job, 0, &r);
		return;
	}
	if (cluster)
		return;
	if (have) {
		if (r.outcome == SCHED_OUTCOME_RUNNING) {
			interrupted_by_stop(job, &r);
			sched_claims_rerun_put(job, r.occurrence, r.scheduled_us);
		}
		r.restored = 1;
		sched_runs_put(job, 0, &r);
		int64_t at, anchor = sched_run_anchor(&r, &at);
		if (anchor > last)
			last = anchor;
	}
	if (last == INT64_MIN)
		return;
	sched_claims_seed(job, last);
	continue_from(job, last);
}

/* Each worker id's last run; a worker that starts takes up from it
 * (runtime.c), and reports a run left going as interrupted. */
static void seed_per_worker(struct usch_job *job, json_t *entry) {
	json_t *workers = json_object_get(entry, "workers");
	const char *key;
	json_t *v;
	int64_t latest = INT64_MIN;
	json_object_foreach(workers, key, v) {
		struct sched_run r;
		int wid = atoi(key);
		if (wid < 1 || wid > uwsgi.numproc || !run_of(v, &r))
			continue;
		r.restored = 1; /* its pid is not a process of this instance, whatever its number */
		sched_runs_put(job, wid, &r);
		int64_t at, anchor = sched_run_anchor(&r, &at);
		if (anchor > latest)
			latest = anchor;
	}
	/* the workers of an instance share one calendar anchor */
	continue_from(job, latest);
}

/* scheduler.pause/resume outlast a restart, unless the declaration's
 * paused= changed since (then the declaration says what is meant now). */
static void seed_pause(const struct usch_job *job, json_t *entry) {
	json_t *paused = json_object_get(entry, "paused");
	json_t *declared = json_object_get(entry, "declared_paused");
	if (!json_is_boolean(paused))
		return;
	if (!json_is_boolean(declared) || json_is_true(declared) != job->paused) {
		sched_log("job %s: paused=%s is declared now: the %s it had before is not kept", job->id,
				job->paused ? "true" : "false", json_is_true(paused) ? "pause" : "resume");
		return;
	}
	sched_flags_set_paused(job, json_is_true(paused));
	sched_log("job %s: %s, as scheduler.%s left it", job->id, json_is_true(paused) ? "paused" : "not paused",
			json_is_true(paused) ? "pause" : "resume");
}

static void seed_history(const struct usch_job *job, json_t *entry) {
	json_t *v;
	size_t k;
	struct sched_hist_run r;
	json_array_foreach(json_object_get(entry, "history"), k, v) {
		if (past_run_of(v, &r))
			sched_history_put(job, &r);
	}
}

/* Returns how many jobs the file remembered. */
static int seed(json_t *jobs) {
	int n = 0;
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		struct usch_job *job = sched_cfg.jobs[i];
		json_t *entry = json_object_get(jobs, job->id);
		if (!entry)
			continue;
		seed_pause(job, entry);
		seed_history(job, entry);
		const char *was = json_string_value(json_object_get(entry, "schedule"));
		if (!was || strcmp(was, st.schedule[i])) {
			sched_log("job %s: its schedule changed since the state was written (was: %s): starting from the "
				  "new one",
					job->id, was ? was : "?");
			json_object_del(jobs, job->id);
			continue;
		}
		n++;
		if (usch_job_claimed(job))
			seed_once(job, entry);
		else
			seed_per_worker(job, entry);
	}
	return n;
}

static void read_file(int readonly) {
	const char *path = sched_cfg.state_path;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		sched_log("state: %s does not exist yet: starting fresh", path);
		return;
	}
	if (fd < 0 && errno == ELOOP)
		sched_fatal("scheduler-state %s: is a symbolic link; the state file is never written through one "
			    "(name the file itself)",
				path);
	if (fd < 0)
		sched_fatal("scheduler-state %s: cannot open it: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		sched_fatal("scheduler-state %s: not a regular file", path);
	json_error_t e;
	json_t *doc = json_loadfd(fd, JSON_REJECT_DUPLICATES, &e);
	close(fd);
	char buf[300];
	const char *why = foreign(doc, &e, buf, sizeof(buf));
	if (why) {
		json_decref(doc);
		set_aside(why, readonly);
		return;
	}
	st.jobs = json_incref(json_object_get(doc, "jobs"));
	json_decref(doc);
	int n = seed(st.jobs);
	sched_log("state: %s: last runs of %d job%s remembered", path, n, n == 1 ? "" : "s");
}

void sched_state_load(int readonly) {
	if (!sched_cfg.state_path)
		return;
	check_directory(sched_cfg.state_path);
	describe_schedules();
	read_file(readonly);
	if (readonly)
		return;
	/* written once now: a directory we cannot write in is a startup error */
	char err[600];
	if (write_snapshot(err, sizeof(err)) < 0)
		sched_fatal("scheduler-state %s: %s", sched_cfg.state_path, err);
}

json_t *sched_state_of(const struct usch_job *job) {
	return st.jobs ? json_object_get(st.jobs, job->id) : NULL;
}
