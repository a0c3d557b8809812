/* decl.c - job declarations (see decl.h): the entry points. The line
 * form is read by decl_line.c, the JSON form by decl_json.c; both end in
 * decl_target.c, which uses the key table (decl_keys.c) and builds the
 * trigger (decl_trigger.c). */
#include <stdlib.h>
#include <string.h>
#include "decl_impl.h"
#include "err.h"

static struct usch_job *new_job(const char *option, const char *line, const struct usch_decl_env *env) {
	struct usch_job *job = calloc(1, sizeof(*job));
	if (!job)
		return NULL;
	int known = usch_job_option_index(option);
	job->option = known < 0 ? UINT8_MAX : (uint8_t) known; /* another option is refused below */
	job->own_line = !env->borrow_line;
	job->line = job->own_line ? strdup(line) : line;
	job->tz = env->default_tz ? env->default_tz : usch_tz_utc();
	job->max_running = 1;
	job->catch_up = 1;
	/* the keys write into a copy of their own, shared again once parsed
	 * when they left every default (usch_job_cold_share) */
	job->cold = &usch_job_cold_default;
	if (!job->line || !usch_job_cold_own(job)) {
		usch_job_free(job);
		return NULL;
	}
	return job;
}

/* A tab is a space. */
static int is_control(char ch) {
	return ((unsigned char) ch < 0x20 && ch != '\t') || ch == 0x7f;
}

/* The first control character of text, or NULL. */
static const char *control_char(const char *text) {
	for (const char *p = text; *p; p++)
		if (is_control(*p))
			return p;
	return NULL;
}

/* A line with a control character is quoted with it escaped, so that the
 * message itself is one clean line of the log. */
static int refuse_control(const char *option, const char *line, const char *at, char *err, size_t errlen) {
	char shown[600];
	size_t k = 0;
	for (const char *p = line; *p && k + 5 < sizeof(shown); p++) {
		if (is_control(*p))
			k += (size_t) snprintf(shown + k, sizeof(shown) - k, "\\x%02x", (unsigned char) *p);
		else
			shown[k++] = *p;
	}
	shown[k] = 0;
	return usch_fail(err, errlen, "%s \"%s\": control character \\x%02x at byte %zu: a declaration is text", option,
			shown, (unsigned char) *at, (size_t) (at - line) + 1);
}

struct usch_job *usch_decl_parse(
		const char *option, const char *line, const struct usch_decl_env *env, char *err, size_t errlen) {
	struct decl_ctx c = {
		.option = option, .line = line, .env = env, .err = err, .errlen = errlen, .noun = "target"
	};
	const char *bad = control_char(line);
	if (bad) {
		refuse_control(option, line, bad, err, errlen);
		return NULL;
	}
	const char *suffix = strncmp(option, "scheduler-", 10) ? option : option + 10;
	int ret;
	c.job = new_job(option, line, env);
	if (!c.job) {
		usch_fail(err, errlen, "%s: out of memory", option);
		return NULL;
	}
	if (!strcmp(suffix, "job")) {
		ret = decl_parse_json(&c);
	}
	else if (!strcmp(suffix, "cron") || !strcmp(suffix, "interval") || !strcmp(suffix, "at")) {
		c.kind = suffix;
		ret = decl_parse_line(&c);
	}
	else {
		ret = usch_fail(err, errlen, "%s: not a job option", option);
	}
	decl_keys_free(&c);
	/* a JSON declaration's "\u0001" is not in its text */
	if (ret == 0 && control_char(c.job->id))
		ret = decl_fail(&c, "the job id has a control character: give it another id=");
	if (ret < 0) {
		usch_job_free(c.job);
		return NULL;
	}
	usch_job_cold_share(c.job);
	return c.job;
}

static const char *job_id(const void *jobs, size_t i) {
	return ((struct usch_job *const *) jobs)[i]->id;
}

static const char *nowhere(const struct usch_job *job, char *buf, size_t len) {
	(void) job;
	if (len)
		buf[0] = 0;
	return buf;
}

int usch_decl_finish(struct usch_job **jobs, size_t n, struct usch_idset *ids_out, usch_decl_where *where, char *err,
		size_t errlen) {
	struct usch_idset ids;
	if (usch_idset_init(&ids, n, job_id, jobs, err, errlen) < 0)
		return -1;
	if (!where)
		where = nowhere;
	for (size_t i = 0; i < n; i++) {
		jobs[i]->index = (uint32_t) i;
		long first = usch_idset_add(&ids, i);
		if (first < 0)
			continue;
		usch_idset_free(&ids);
		char here[512], there[512];
		return usch_fail(err, errlen,
				"%s%s \"%s\": duplicate job id \"%s\" (also %s%s \"%s\"): give one of them id=...",
				where(jobs[i], here, sizeof(here)), usch_job_option(jobs[i]), jobs[i]->line,
				jobs[i]->id, where(jobs[first], there, sizeof(there)), usch_job_option(jobs[first]),
				jobs[first]->line);
	}
	if (ids_out)
		*ids_out = ids;
	else
		usch_idset_free(&ids);
	return 0;
}
