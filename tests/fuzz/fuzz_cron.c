/* fuzz_cron.c - the cron parser, and next() on what it accepts: in UTC
 * and in a zone with DST, each next fire is later than the instant it is
 * asked from, and a second fire follows the first. */
#include "fuzz.h"
#include "cron.h"
#include "tz.h"

static usch_tz *paris;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
	char err[256];
	paris = usch_tz_load("Europe/Paris", err, sizeof(err));
	return 0;
}

/* Instants around the epoch, a DST change, and the end of the range. */
static const int64_t FROM[] = { 0, 1774746000, 1796150000, 1792371600, 4102444799 }; /* Unix seconds */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char *expr = fuzz_str(data, size);
	char err[512];
	usch_cron *c = malloc(usch_cron_size());
	if (c && usch_cron_parse(c, expr, "fuzz-job", err, sizeof(err)) == 0 && !usch_cron_is_start(c)) {
		for (size_t i = 0; i < sizeof(FROM) / sizeof(FROM[0]); i++) {
			const usch_tz *zones[] = { usch_tz_utc(), paris };
			for (size_t z = 0; z < 2; z++) {
				if (!zones[z])
					continue;
				int64_t next = usch_cron_next(c, zones[z], FROM[i]);
				if (next == INT64_MAX)
					continue;
				FUZZ_CHECK(next > FROM[i], "\"%s\": next(%lld) = %lld", expr, (long long) FROM[i],
						(long long) next);
				int64_t after = usch_cron_next(c, zones[z], next);
				FUZZ_CHECK(after == INT64_MAX || after > next, "\"%s\": next(%lld) = %lld", expr,
						(long long) next, (long long) after);
			}
		}
	}
	free(c);
	free(expr);
	return 0;
}
