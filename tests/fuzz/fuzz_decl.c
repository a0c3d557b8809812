/* fuzz_decl.c - the declaration parser, line and JSON forms: the first
 * byte picks the option, the rest is its value. Whatever it accepts is a
 * job whose trigger answers next() later than asked, and whose listing
 * text can be made. */
#include "fuzz.h"
#include "decl.h"
#include "job.h"
#include "trigger.h"
#include "tz.h"

static const char *const OPTIONS[] = { "scheduler-cron", "scheduler-interval", "scheduler-at", "scheduler-job" };

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
		usch_job_free(job);
	}
	free(line);
	return 0;
}
