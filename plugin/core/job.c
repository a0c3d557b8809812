/* job.c - a declared job's lifetime and the questions asked of it at run
 * time (see job.h). */
#include <stdlib.h>
#include "job.h"
#include "trigger.h"
#include "tz.h"

void usch_job_free(struct usch_job *job) {
	if (!job)
		return;
	if (job->trigger)
		usch_trigger_free(job->trigger);
	usch_tz_free(job->own_tz);
	for (int i = 0; i < job->rpc.argc; i++)
		free(job->rpc.argv[i]);
	free(job->rpc.argv);
	free(job->rpc.argvs);
	free(job->id);
	free(job->option);
	free(job->line);
	free(job->target);
	free(job->args_json);
	free(job->kwargs_json);
	free(job->app);
	free(job);
}

int usch_job_runs_on(const struct usch_job *job, int wid) {
	switch (job->scope) {
	case USCH_SCOPE_ALL:
		return 1;
	case USCH_SCOPE_WORKERS:
		return usch_workers_has(&job->workers, wid);
	case USCH_SCOPE_ONCE:
		return wid > 0;
	default:
		return 0;
	}
}

int64_t usch_job_timeline_at_start(const struct usch_job *job, int64_t start_wall) {
	if (usch_trigger_clock(job->trigger) == USCH_CLOCK_MONO && !job->anchored)
		return 0;
	return start_wall;
}
