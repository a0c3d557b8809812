/* jobs_file.h - scheduler-jobs-file: a file of declarations, read by the
 * master while uWSGI reads its options (so that they keep their place
 * among the ini's), into pages shared with the workers, where the jobs'
 * lines stay; and, for messages, in which file and on which line a
 * declaration is. Its lines never become uWSGI options: uWSGI keeps
 * about 260 bytes of each option line in every worker (its table and
 * uwsgi.opt), none of a jobs file's. */
#ifndef SCHED_JOBS_FILE_H
#define SCHED_JOBS_FILE_H

#include <stddef.h>
#include "core/decl.h"

struct sched_jobs_file;

/* Reads the whole file; a file that cannot be read stops uWSGI with a
 * message that names it (option: the option that gave it). */
struct sched_jobs_file *sched_jobs_file_read(const char *option, const char *path);

/* Its next declaration: 1 with it in line, 0 at the end. A bad line stops
 * uWSGI with "FILE:LINE: what is wrong". */
int sched_jobs_file_next(struct sched_jobs_file *f, struct usch_decl_file_line *line);

/* "FILE:LINE: " when line is a declaration's value read from a jobs file,
 * else "" (into buf, which is returned; SCHED_JOBS_FILE_WHERE_MAX fits a
 * long path). */
#define SCHED_JOBS_FILE_WHERE_MAX 1200
const char *sched_jobs_file_where(const char *line, char *buf, size_t len);

#endif
