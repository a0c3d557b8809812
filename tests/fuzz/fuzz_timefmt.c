/* fuzz_timefmt.c - durations and date-times as the ini writes them: what
 * parses formats back to text that parses to the same value. */
#include "fuzz.h"
#include "timefmt.h"
#include "tz.h"

static usch_tz *paris;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
	char err[256];
	paris = usch_tz_load("Europe/Paris", err, sizeof(err));
	return 0;
}

static void duration(const char *s) {
	char err[256], text[64];
	int64_t us, again;
	if (usch_duration_parse(s, &us, err, sizeof(err)) < 0)
		return;
	FUZZ_CHECK(us >= 0, "\"%s\" = %lld", s, (long long) us);
	usch_duration_format(us, text, sizeof(text));
	FUZZ_CHECK(usch_duration_parse(text, &again, err, sizeof(err)) == 0 && again == us,
			"\"%s\" = %lld formats as \"%s\", which parses to %lld (%s)", s, (long long) us, text,
			(long long) again, err);
}

static void datetime(const char *s, const usch_tz *tz) {
	char err[256], text[USCH_RFC3339_MAX];
	int64_t us, again;
	if (!tz || usch_datetime_parse(s, tz, &us, err, sizeof(err)) < 0)
		return;
	usch_rfc3339_format(us, tz, text, sizeof(text));
	FUZZ_CHECK(usch_datetime_parse(text, tz, &again, err, sizeof(err)) == 0 && again == us,
			"\"%s\" = %lld formats as \"%s\", which parses to %lld (%s)", s, (long long) us, text,
			(long long) again, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char *s = fuzz_str(data, size);
	duration(s);
	datetime(s, usch_tz_utc());
	datetime(s, paris);
	free(s);
	return 0;
}
