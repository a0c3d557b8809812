/* listing.h - the dry run: every declared job with its next N fire times,
 * as text or as one JSON document (what systemd-analyze calendar gives
 * systemd users). */
#ifndef USCH_LISTING_H
#define USCH_LISTING_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "job.h"

/* Next n fires of job strictly after base_us (wall µs); an interval
 * without start= counts from base_us as a worker started then would.
 * Returns how many were written to out (fewer when the job ends). */
int usch_list_next(const struct usch_job *job, int64_t base_us, int n, int64_t *out);

/* last (NULL, or one per job, each NULL or borrowed): what the state file
 * remembers of the job ({"last": run} or {"workers": {"1": run, ...}}),
 * listed with it. */
int usch_list_text(struct usch_job *const *jobs, size_t njobs, int n, int64_t base_us, json_t *const *last, FILE *f);
int usch_list_json(struct usch_job *const *jobs, size_t njobs, int n, int64_t base_us, json_t *const *last, FILE *f);

#endif
