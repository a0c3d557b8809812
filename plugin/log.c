/* log.c - the plugin's log lines (see log.h). */
#include <uwsgi.h>
#include "log.h"
#include "core/timefmt.h"

static enum sched_log_level level = SCHED_LOG_ALL;
static enum sched_log_format format = SCHED_LOG_TEXT;

void sched_log_set_level(enum sched_log_level l) {
	level = l;
}

enum sched_log_level sched_log_level(void) {
	return level;
}

void sched_log_set_format(enum sched_log_format f) {
	format = f;
}

enum sched_log_format sched_log_format(void) {
	return format;
}

void sched_log_json(json_t *object) {
	char *text = object ? json_dumps(object, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(16)) : NULL;
	if (text)
		uwsgi_log("%s\n", text);
	free(text);
	json_decref(object);
}

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

void sched_fatal(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
	exit(1);
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

static void vlog_job(const struct usch_job *job, const char *fmt, va_list ap) {
	char prefix[512];
	snprintf(prefix, sizeof(prefix), "job %s: ", job->id);
	vlog(prefix, fmt, ap);
}

void sched_log_run(const struct usch_job *job, const char *fmt, ...) {
	if (level != SCHED_LOG_ALL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog_job(job, fmt, ap);
	va_end(ap);
}

void sched_log_event(const struct usch_job *job, const char *fmt, ...) {
	if (level == SCHED_LOG_NONE)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog_job(job, fmt, ap);
	va_end(ap);
}

void sched_log_output(const struct usch_job *job, const char *text) {
	if (level != SCHED_LOG_NONE)
		sched_log_block(job->id, text);
}

void sched_log_interrupted(const struct usch_job *job, int64_t scheduled_us, int wid, int pid, int stopped) {
	char when[USCH_RFC3339_MAX];
	usch_rfc3339_format(scheduled_us, job->tz, when, sizeof(when));
	sched_log("job %s: occurrence %s interrupted: %sworker %d (pid %d) %s%s", job->id, when,
			stopped ? "the instance stopped while " : "", wid, pid,
			stopped ? "ran it" : "died while running it",
			job->interrupted == USCH_INTERRUPTED_RERUN ? ": it runs again (interrupted=rerun)" : "");
}

void sched_log_clock_step(int wid, int64_t step_us) {
	sched_log("worker %d: the wall clock stepped %s by %.1f s: cron and date jobs follow the new time (%s), "
		  "intervals keep their pace",
			wid, step_us > 0 ? "forward" : "back", llabs(step_us) / 1e6,
			step_us > 0 ? "the fires it skipped are late fires" : "no fire is repeated");
}
