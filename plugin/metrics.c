/* metrics.c - the jobs' counters as uWSGI metrics (see metrics.h).
 *
 * Each metric reads its counter through uWSGI's "ptr" collector, which the
 * master's metrics thread polls once a second: nothing here runs per fire.
 * uWSGI allocates the metrics' values at the end of uwsgi_setup_metrics,
 * after the plugins' init and before any hook of ours that can see
 * --enable-metrics' metrics list: ours bring their own shared values.
 * A job id becomes one name component: every character outside
 * [A-Za-z0-9_-] turns into '_' ("app.tasks:poll" -> scheduler.app_tasks_poll.runs). */
#include <uwsgi.h>
#include "metrics.h"
#include "counters.h"
#include "runs.h"
#include "flags.h"
#include "legion.h"
#include "common.h"
#include "core/trigger.h"
#include "config.h"
#include "log.h"

extern struct uwsgi_server uwsgi;

/* A counter's uWSGI metric type. */
static uint8_t metric_type(enum sched_counter_kind kind) {
	switch (kind) {
	case SCHED_COUNTER_COUNT:
		return UWSGI_METRIC_COUNTER;
	case SCHED_COUNTER_GAUGE:
		return UWSGI_METRIC_GAUGE;
	default:
		return UWSGI_METRIC_ABSOLUTE;
	}
}

#define NROWS sched_ncounter_rows
#define NMETRICS (NROWS + 2) /* and next_due, computed; lord, for scope=cluster jobs */

int64_t sched_next_due_us(const struct usch_job *job) {
	if (job->start_on_boot)
		return 0;
	int64_t now = sched_clock_us(CLOCK_REALTIME), next;
	if (usch_trigger_clock(job->trigger) == USCH_CLOCK_WALL || job->anchored) {
		next = usch_trigger_next(job->trigger, now);
	}
	else {
		/* one interval after the latest run, on that run's own timeline */
		struct sched_run r = { 0 };
		if (!sched_runs_latest(job, &r))
			return 0;
		int64_t step = usch_trigger_next(job->trigger, r.occurrence);
		next = step == INT64_MAX ? INT64_MAX : r.scheduled_us + (step - r.occurrence);
		if (next < now)
			next = now;
	}
	return next == INT64_MAX ? 0 : next;
}

/* next_due, in the master's metrics thread once a second; 0 while the
 * job is paused. */
static int64_t next_due(struct uwsgi_metric *m) {
	const struct usch_job *job = (const struct usch_job *) m->ptr;
	return sched_flags_paused(job) ? 0 : sched_next_due_us(job) / 1000000;
}

/* lord: 1 while this instance is lord of a scope=cluster job's Legion. */
static int64_t lord(struct uwsgi_metric *m) {
	return sched_legion_is_lord((const struct usch_job *) m->ptr);
}

/* A metric the master's metrics thread computes once a second by fn. */
static void register_func(const char *id, const char *what, const struct usch_job *job,
		int64_t (*fn)(struct uwsgi_metric *), int64_t *value) {
	char *name = uwsgi_concat4("scheduler.", (char *) id, ".", (char *) what);
	struct uwsgi_metric *m = uwsgi_register_metric(
			name, NULL, UWSGI_METRIC_ABSOLUTE, "func", (void *) job, 0, (void *) fn);
	if (m) {
		m->value = value;
		m->arg1 = (char *) what; /* the func collector wants a name; custom is the function */
	}
	free(name);
}

static void metric_id(const char *id, char *out, size_t len) {
	size_t k = 0;
	for (; *id && k + 1 < len; id++) {
		char ch = *id;
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				ch == '_' || ch == '-';
		out[k++] = ok ? ch : '_';
	}
	out[k] = 0;
}

/* Two ids that sanitise alike would share (and overwrite) one name. */
static const char *name_at(const void *names, size_t i) {
	return ((char *const *) names)[i];
}

static void check_unique(char **names) {
	struct usch_idset seen;
	char err[128];
	if (usch_idset_init(&seen, sched_cfg.njobs, name_at, names, err, sizeof(err)) < 0)
		sched_fatal("metrics: %s", err);
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		long first = usch_idset_add(&seen, i);
		if (first >= 0)
			sched_fatal("job ids \"%s\" and \"%s\" give the same metric names scheduler.%s.*: give one of "
				    "them another id=",
					sched_cfg.jobs[first]->id, sched_cfg.jobs[i]->id, names[i]);
	}
	usch_idset_free(&seen);
}

void sched_metrics_register(void) {
	if (!uwsgi.has_metrics || !sched_cfg.njobs)
		return;
	char **names = uwsgi_calloc(sizeof(char *) * sched_cfg.njobs);
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		size_t len = strlen(sched_cfg.jobs[i]->id) + 1;
		names[i] = uwsgi_malloc(len);
		metric_id(sched_cfg.jobs[i]->id, names[i], len);
	}
	check_unique(names);
	/* uwsgi_setup_metrics gave shared values only to the metrics it knew
	 * then: ours get theirs here (the collector thread writes them) */
	int64_t *values = sched_shared_zeroed(sizeof(int64_t) * NMETRICS * sched_cfg.njobs);
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		char *c = (char *) sched_counters_of(sched_cfg.jobs[i]);
		for (size_t r = 0; c && r < NROWS; r++) {
			const struct sched_counter_row *row = &sched_counter_rows[r];
			char *name = uwsgi_concat4("scheduler.", names[i], ".", (char *) row->name);
			struct uwsgi_metric *m = uwsgi_register_metric(
					name, NULL, metric_type(row->kind), "ptr", c + row->field, 0, NULL);
			if (m)
				m->value = &values[i * NMETRICS + r];
			free(name);
		}
		register_func(names[i], "next_due", sched_cfg.jobs[i], next_due, &values[i * NMETRICS + NROWS]);
		if (sched_cfg.jobs[i]->scope == USCH_SCOPE_CLUSTER)
			register_func(names[i], "lord", sched_cfg.jobs[i], lord, &values[i * NMETRICS + NROWS + 1]);
		free(names[i]);
	}
	free(names);
	char listed[512];
	size_t k = 0;
	for (size_t r = 0; r < NROWS && k < sizeof(listed); r++)
		k += snprintf(listed + k, sizeof(listed) - k, "%s, ", sched_counter_rows[r].name);
	sched_log("metrics: %zu per job (scheduler.<id>.%snext_due), and lord for scope=cluster jobs", NMETRICS - 1,
			listed);
}
