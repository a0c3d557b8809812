/* The `list` table: a scheduler.list answer shown as systemctl list-timers
 * shows timers (times, spans, column widths, the footer). */
#ifndef CTL_TABLE_H
#define CTL_TABLE_H

#include <jansson.h>
#include <stdio.h>

/* Prints doc's jobs (a scheduler.list answer) and the "N jobs listed."
 * footer; spans are counted from the answer's now_ts. -1 when doc has no
 * "jobs" array (nothing is printed). */
int ctl_print_jobs(FILE *out, json_t *doc);

#endif
