/* decl.h - job declarations: one scheduler-* option line -> a usch_job.
 *
 *   scheduler-cron     = <cron expression> <target> [key=value ...]
 *   scheduler-interval = <duration | N days|weeks|months|years> <target> [key=value ...]
 *   scheduler-at       = <RFC 3339 instant> <target> [key=value ...]
 *   scheduler-job      = {"cron"|"interval"|"at"|"every"|"and"|"or": ..., "target": ..., key: value}
 *
 * The trigger ends at the first token that is a target (an identifier or
 * dotted name followed by ':'). A value starting with [ { or " is JSON and
 * may hold spaces. Errors name the option, quote the line and say which
 * token is wrong and why. */
#ifndef USCH_DECL_H
#define USCH_DECL_H

#include <stddef.h>
#include <stdint.h>
#include "job.h"
#include "tz.h"

struct usch_decl_env {
	const usch_tz *default_tz;	/* scheduler-timezone, else the system zone */
	int64_t now_us;			/* wall instant calendar triggers start from */
};

/* Parses one declaration. Returns the job (index 0), or NULL with the
 * whole message in err. */
struct usch_job *usch_decl_parse(const char *option, const char *line,
		const struct usch_decl_env *env, char *err, size_t errlen);

/* Checks ids across the declared jobs and numbers them. Returns 0, or -1
 * with a message naming both declarations of a duplicate id. */
int usch_decl_finish(struct usch_job **jobs, size_t n, char *err, size_t errlen);

#endif
