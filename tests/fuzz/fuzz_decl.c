/* fuzz_decl.c - the declaration parser, line and JSON forms: the first
 * byte picks the option, the rest is its value; a first byte with its top
 * bit set makes the rest a jobs file, whose lines come out in order,
 * trimmed, each a job option's, and are parsed in turn. Whatever it
 * accepts is a job whose trigger answers next() later than asked, whose
 * listing text can be made, whose retry delays never shrink nor pass
 * retry-max-delay, and whose hooks belong to it. */
#include <string.h>
#include "fuzz.h"
#include "chars.h"
#include "decl.h"
#include "job.h"
#include "trigger.h"
#include "tz.h"

static const char *const OPTIONS[] = { "scheduler-cron", "scheduler-interval", "scheduler-at", "scheduler-job" };

static void check_retries(const struct usch_job *job, const char *line) {
	int64_t before = 0;
	for (int n = 1; n <= job->retries; n++) {
		int64_t d = usch_job_retry_delay(job, n);
		FUZZ_CHECK(d > 0 && d >= before, "\"%s\": retry delay %d is %lld after %lld", line, n, (long long) d,
				(long long) before);
		FUZZ_CHECK(!job->cold->retry_max_delay_us || d <= job->cold->retry_max_delay_us,
				"\"%s\": delay %d past the cap", line, n);
		before = d;
	}
}

/* borrow: the job points into line (a jobs file's), else keeps a copy */
static void check_job(const char *option, const char *line, int borrow) {
	char err[2048], text[1400];
	struct usch_decl_env env = { .default_tz = usch_tz_utc(), .now_us = 1796150000000000LL, .borrow_line = borrow };
	struct usch_job *job = usch_decl_parse(option, line, &env, err, sizeof(err));
	if (!job)
		return;
	int64_t from = env.now_us;
	int64_t next = usch_trigger_next(job->trigger, from);
	FUZZ_CHECK(next > from, "\"%s\": next(%lld) = %lld", line, (long long) from, (long long) next);
	usch_job_schedule(job, text, sizeof(text));
	check_retries(job, line);
	FUZZ_CHECK(!job->on_failure ||
					(job->on_failure->parent == job && job->on_failure->hook == USCH_HOOK_FAILURE &&
							!job->on_failure->trigger),
			"\"%s\": on-failure", line);
	FUZZ_CHECK(!job->on_success || (job->on_success->parent == job && job->on_success->hook == USCH_HOOK_SUCCESS),
			"\"%s\": on-success", line);
	usch_job_free(job);
}

static int is_option(const char *option) {
	for (size_t i = 0; i < sizeof(OPTIONS) / sizeof(OPTIONS[0]); i++)
		if (!strcmp(option, OPTIONS[i]))
			return 1;
	return 0;
}

static void check_file(char *text, size_t len) {
	char err[1024];
	struct usch_decl_file f;
	struct usch_decl_file_line line;
	unsigned last = 0;
	int ret;
	usch_decl_file_init(&f, text, len);
	while ((ret = usch_decl_file_next(&f, &line, err, sizeof(err))) == 1) {
		FUZZ_CHECK(line.lineno > last, "line %u after %u", line.lineno, last);
		FUZZ_CHECK(is_option(line.option), "option \"%s\"", line.option);
		FUZZ_CHECK(line.value >= text && line.value <= text + len, "a value outside the text");
		size_t n = strlen(line.value);
		FUZZ_CHECK(!n || (!usch_is_space(line.value[0]) && !usch_is_space(line.value[n - 1])),
				"\"%s\": not trimmed", line.value);
		last = line.lineno;
		check_job(line.option, line.value, 1);
	}
	FUZZ_CHECK(ret == 0 || line.lineno > last, "refused line %u after %u", line.lineno, last);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (!size)
		return 0;
	char *text = fuzz_str(data + 1, size - 1);
	if (data[0] & 0x80)
		check_file(text, size - 1);
	else
		check_job(OPTIONS[data[0] % 4], text, 0);
	free(text);
	return 0;
}
