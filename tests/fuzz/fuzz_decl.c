/* fuzz_decl.c - the declaration parser, line and JSON forms: the first
 * byte picks the option, the rest is its value. Whatever it accepts is a
 * job whose trigger answers next() later than asked, whose listing text
 * can be made, whose retry delays never shrink nor pass retry-max-delay,
 * and whose hooks belong to it. */
#include "fuzz.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (!size)
		return 0;
	char *line = fuzz_str(data + 1, size - 1);
	char err[2048], text[1400];
	struct usch_decl_env env = { .default_tz = usch_tz_utc(), .now_us = 1796150000000000LL };
	struct usch_job *job = usch_decl_parse(OPTIONS[data[0] % 4], line, &env, err, sizeof(err));
	if (job) {
		int64_t from = env.now_us;
		int64_t next = usch_trigger_next(job->trigger, from);
		FUZZ_CHECK(next > from, "\"%s\": next(%lld) = %lld", line, (long long) from, (long long) next);
		usch_job_schedule(job, text, sizeof(text));
		check_retries(job, line);
		FUZZ_CHECK(!job->on_failure ||
						(job->on_failure->parent == job &&
								job->on_failure->hook == USCH_HOOK_FAILURE &&
								!job->on_failure->trigger),
				"\"%s\": on-failure", line);
		FUZZ_CHECK(!job->on_success ||
						(job->on_success->parent == job &&
								job->on_success->hook == USCH_HOOK_SUCCESS),
				"\"%s\": on-success", line);
		usch_job_free(job);
	}
	free(line);
	return 0;
}
