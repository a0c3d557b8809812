/* fuzz_tz.c - the TZif reader (the input as a zone file) and the POSIX TZ
 * rule parser (the input as a rule), then the questions the scheduler asks
 * of a zone: transitions come in order, and a local time maps back to
 * instants that show it. */
#include "fuzz.h"
#include "tz.h"

static const int64_t AT[] = { -2208988800LL, -1, 0, 1774746000, 1792371600, 4102444800LL, 253402300799LL };

static void ask(const usch_tz *tz) {
	for (size_t i = 0; i < sizeof(AT) / sizeof(AT[0]); i++) {
		int64_t t = AT[i];
		int64_t next = usch_tz_next_transition(tz, t);
		FUZZ_CHECK(next > t, "next transition after %lld is %lld", (long long) t, (long long) next);
		int64_t local = usch_tz_to_local(tz, t), back[2];
		int n = usch_tz_from_local(tz, local, back);
		FUZZ_CHECK(n >= 0 && n <= 2, "from_local gave %d instants", n);
		/* every instant given shows that local time (a crafted file can
		 * fold one local time more than twice, so t itself may be one
		 * of those left out: found by fuzz_tz) */
		for (int k = 0; k < n; k++)
			FUZZ_CHECK(usch_tz_to_local(tz, back[k]) == local,
					"%lld locally maps back to %lld, which shows %lld", (long long) local,
					(long long) back[k], (long long) usch_tz_to_local(tz, back[k]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char err[256];
	usch_tz *tz = usch_tz_from_tzif("Fuzz/Zone", data, size, err, sizeof(err));
	if (tz) {
		ask(tz);
		usch_tz_free(tz);
	}
	char *rule = fuzz_str(data, size);
	tz = usch_tz_from_rule(rule);
	if (tz) {
		ask(tz);
		usch_tz_free(tz);
	}
	free(rule);
	return 0;
}
