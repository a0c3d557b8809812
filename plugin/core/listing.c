/* listing.c - the dry run (see listing.h). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "decl.h"
#include "listing.h"
#include "timefmt.h"
#include "trigger.h"
#include "tz.h"

int usch_list_next(const struct usch_job *job, int64_t base_us, int n, int64_t *out) {
	if (job->paused || job->start_on_boot)
		return 0;
	/* an interval without start= counts from a worker started at base_us */
	int64_t shift = base_us - usch_job_timeline_at_start(job, base_us);
	int64_t t = base_us - shift;
	int k = 0;
	while (k < n) {
		t = usch_trigger_next(job->trigger, t);
		if (t == INT64_MAX)
			break;
		out[k++] = t + shift;
	}
	return k;
}

static const char *scope_text(const struct usch_job *job) {
	return usch_key_value_name("scope", (int) job->scope);
}

static void last_run_line(const char *who, json_t *run, FILE *f) {
	const char *when = json_string_value(json_object_get(run, "scheduled"));
	const char *outcome = json_string_value(json_object_get(run, "outcome"));
	fprintf(f, "  last     %s%s %s (worker %d)\n", who, when ? when : "?", outcome ? outcome : "?",
			(int) json_integer_value(json_object_get(run, "worker")));
}

static void last_runs_text(json_t *entry, FILE *f) {
	json_t *last = json_object_get(entry, "last"), *workers = json_object_get(entry, "workers");
	if (last)
		last_run_line("", last, f);
	const char *key;
	json_t *run;
	char who[32];
	json_object_foreach(workers, key, run) {
		snprintf(who, sizeof(who), "worker %s: ", key);
		last_run_line(who, run, f);
	}
}

int usch_list_text(struct usch_job *const *jobs, size_t njobs, int n, int64_t base_us, json_t *const *last, FILE *f) {
	int64_t *next = calloc(n > 0 ? n : 1, sizeof(int64_t));
	if (!next)
		return -1;
	char base[64], trig[1024], when[64], utc[64], workers[USCH_WORKERS_TEXT_MAX];
	usch_rfc3339_format(base_us, usch_tz_utc(), base, sizeof(base));
	fprintf(f, "%zu job%s, next %d fire%s after %s\n", njobs, njobs == 1 ? "" : "s", n, n == 1 ? "" : "s", base);
	for (size_t i = 0; i < njobs; i++) {
		const struct usch_job *job = jobs[i];
		usch_trigger_describe(job->trigger, trig, sizeof(trig));
		usch_workers_format(&job->cold->workers, workers, sizeof(workers));
		fprintf(f, "\n%s\n  trigger  %s\n  target   %s%s\n  scope    %s%s%s\n  tz       %s\n", job->id, trig,
				usch_job_kind_prefix(job), job->target, scope_text(job), *workers ? " " : "", workers,
				usch_tz_name(job->tz));
		if (last && last[i])
			last_runs_text(last[i], f);
		if (job->paused) {
			fprintf(f, "  next     (paused)\n");
			continue;
		}
		if (job->start_on_boot) {
			fprintf(f, "  next     when each worker's scheduler starts\n");
			continue;
		}
		int k = usch_list_next(job, base_us, n, next);
		if (!k)
			fprintf(f, "  next     (none)\n");
		for (int j = 0; j < k; j++) {
			usch_rfc3339_format(next[j], job->tz, when, sizeof(when));
			usch_rfc3339_format(next[j], usch_tz_utc(), utc, sizeof(utc));
			fprintf(f, "  %s  %-32s %s UTC\n", j ? "       " : "next   ", when, utc);
		}
	}
	free(next);
	return 0;
}

static json_t *job_json(const struct usch_job *job, int n, int64_t base_us, int64_t *next, json_t *last) {
	char trig[1024], when[64], workers[USCH_WORKERS_TEXT_MAX];
	usch_trigger_describe(job->trigger, trig, sizeof(trig));
	size_t tlen = strlen(job->target) + 16;
	char *target = malloc(tlen);
	if (!target)
		return NULL;
	snprintf(target, tlen, "%s%s", usch_job_kind_prefix(job), job->target);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", job->id, "trigger", trig, "target", target,
			"scope", scope_text(job), "tz", usch_tz_name(job->tz), "paused", job->paused);
	free(target);
	if (!o)
		return NULL;
	usch_workers_format(&job->cold->workers, workers, sizeof(workers));
	if (*workers)
		json_object_set_new(o, "workers", json_string(workers));
	if (job->start_on_boot)
		json_object_set_new(o, "at_start", json_true());
	json_t *arr = json_array(), *arr_utc = json_array();
	int k = usch_list_next(job, base_us, n, next);
	for (int j = 0; j < k; j++) {
		usch_rfc3339_format(next[j], job->tz, when, sizeof(when));
		json_array_append_new(arr, json_string(when));
		usch_rfc3339_format(next[j], usch_tz_utc(), when, sizeof(when));
		json_array_append_new(arr_utc, json_string(when));
	}
	json_object_set_new(o, "next", arr);
	json_object_set_new(o, "next_utc", arr_utc);
	if (last && json_object_get(last, "last"))
		json_object_set(o, "last_run", json_object_get(last, "last"));
	if (last && json_object_get(last, "workers"))
		json_object_set(o, "last_runs", json_object_get(last, "workers"));
	return o;
}

int usch_list_json(struct usch_job *const *jobs, size_t njobs, int n, int64_t base_us, json_t *const *last, FILE *f) {
	int64_t *next = calloc(n > 0 ? n : 1, sizeof(int64_t));
	json_t *list = json_array();
	char base[64];
	int ret = next && list ? 0 : -1;
	for (size_t i = 0; i < njobs && !ret; i++) {
		json_t *o = job_json(jobs[i], n, base_us, next, last ? last[i] : NULL);
		ret = o ? json_array_append_new(list, o) : -1;
	}
	usch_rfc3339_format(base_us, usch_tz_utc(), base, sizeof(base));
	json_t *doc = ret ? NULL : json_pack("{s:s, s:o}", "from", base, "jobs", list);
	if (doc) {
		ret = json_dumpf(doc, f, JSON_INDENT(2)) < 0 ? -1 : 0;
		fputc('\n', f);
		json_decref(doc);
	}
	else {
		json_decref(list);
		ret = -1;
	}
	free(next);
	return ret;
}
