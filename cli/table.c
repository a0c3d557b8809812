/* The `list` table: one row a job (next and last run as local times, the
 * spans to and since them, the last outcome, where it runs, its id), sorted
 * by next run like systemctl list-timers, columns as wide as their content. */
#define _GNU_SOURCE
#include "table.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { COL_NEXT, COL_LEFT, COL_LAST, COL_PASSED, COL_OUTCOME, COL_SCOPE, COL_JOB, NCOLS };

static const char *const HEADER[NCOLS] = { "NEXT", "LEFT", "LAST", "PASSED", "OUTCOME", "SCOPE", "JOB" };

/* spaces between columns */
#define GAP 2

struct row {
	char *cell[NCOLS];
	double next; /* the sort key: INFINITY for a job with no next run shown */
	size_t index;
};

__attribute__((format(printf, 1, 2))) static char *cell_printf(const char *fmt, ...) {
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		fputs("uwsgi-scheduler: out of memory\n", stderr);
		exit(1);
	}
	return s;
}

static double number_or_nan(json_t *obj, const char *key) {
	json_t *v = json_object_get(obj, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *string_or(json_t *obj, const char *key, const char *otherwise) {
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : otherwise;
}

/* Whole seconds, coarser as they grow: "42s", "8min 3s", "2h 5min",
 * "1 day 3h", "3 days". */
static char *span_cell(double seconds, const char *suffix) {
	long s = (long) floor(seconds);
	if (s < 60)
		return cell_printf("%lds%s", s, suffix);
	if (s < 3600)
		return s % 60 ? cell_printf("%ldmin %lds%s", s / 60, s % 60, suffix)
			      : cell_printf("%ldmin%s", s / 60, suffix);
	if (s < 86400) {
		long min = s % 3600 / 60;
		return min ? cell_printf("%ldh %ldmin%s", s / 3600, min, suffix)
			   : cell_printf("%ldh%s", s / 3600, suffix);
	}
	if (s < 2 * 86400)
		return s % 86400 >= 3600 ? cell_printf("1 day %ldh%s", s % 86400 / 3600, suffix)
					 : cell_printf("1 day%s", suffix);
	return cell_printf("%ld days%s", s / 86400, suffix);
}

static char *time_cell(double ts) {
	time_t t = (time_t) floor(ts);
	struct tm tm;
	char buf[80];
	if (!localtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%a %Y-%m-%d %H:%M:%S %Z", &tm))
		return cell_printf("-");
	return cell_printf("%s", buf);
}

static void next_cells(struct row *r, json_t *job, double now) {
	double next = number_or_nan(job, "next_due_ts");
	r->next = INFINITY;
	if (json_is_true(json_object_get(job, "paused"))) {
		r->cell[COL_NEXT] = cell_printf("-");
		r->cell[COL_LEFT] = cell_printf("paused");
		return;
	}
	if (isnan(next)) {
		r->cell[COL_NEXT] = cell_printf("-");
		r->cell[COL_LEFT] = cell_printf("-");
		return;
	}
	r->next = next;
	r->cell[COL_NEXT] = time_cell(next);
	/* due, but not started yet as the answer was made */
	r->cell[COL_LEFT] = next - now < 1 ? cell_printf("now") : span_cell(next - now, "");
}

/* LAST is when the run started, not when it was due: a late run shows late. */
static void last_cells(struct row *r, json_t *job, double now) {
	double started = number_or_nan(json_object_get(job, "last"), "started_ts");
	if (isnan(started)) {
		r->cell[COL_LAST] = cell_printf("-");
		r->cell[COL_PASSED] = cell_printf("-");
		return;
	}
	r->cell[COL_LAST] = time_cell(started);
	/* a clock that went back must not print a negative span */
	r->cell[COL_PASSED] = span_cell(fmax(now - started, 0), " ago");
}

static char *scope_cell(json_t *job) {
	const char *scope = string_or(job, "scope", "-");
	if (strcmp(scope, "worker") == 0)
		return cell_printf("every worker");
	if (strcmp(scope, "workers") == 0)
		return cell_printf("workers %s", string_or(job, "workers", "?"));
	/* the instance asked runs a cluster job only while it is lord */
	if (strcmp(scope, "cluster") == 0)
		return cell_printf("cluster, %s", json_is_true(json_object_get(job, "lord")) ? "lord" : "not lord");
	return cell_printf("%s", scope);
}

static void fill_row(struct row *r, json_t *job, double now) {
	next_cells(r, job, now);
	last_cells(r, job, now);
	r->cell[COL_OUTCOME] = cell_printf("%s", string_or(job, "outcome", "-"));
	r->cell[COL_SCOPE] = scope_cell(job);
	r->cell[COL_JOB] = cell_printf("%s", string_or(job, "id", "?"));
}

static int by_next(const void *a, const void *b) {
	const struct row *x = a, *y = b;
	if (x->next != y->next)
		return x->next < y->next ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Display width of UTF-8 text: job ids may be any text, and counting bytes
 * would push the columns after a non-ASCII id out of line. */
static size_t text_width(const char *s) {
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char) *s & 0xc0) != 0x80;
	return n;
}

static void print_line(FILE *out, const char *const *cells, const size_t *width) {
	for (int i = 0; i < NCOLS; i++) {
		fputs(cells[i], out);
		if (i == NCOLS - 1)
			break;
		fprintf(out, "%*s", (int) (width[i] - text_width(cells[i]) + GAP), "");
	}
	fputc('\n', out);
}

static void print_rows(FILE *out, struct row *rows, size_t n) {
	size_t width[NCOLS];
	for (int c = 0; c < NCOLS; c++) {
		width[c] = text_width(HEADER[c]);
		for (size_t i = 0; i < n; i++)
			if (text_width(rows[i].cell[c]) > width[c])
				width[c] = text_width(rows[i].cell[c]);
	}
	print_line(out, HEADER, width);
	for (size_t i = 0; i < n; i++)
		print_line(out, (const char *const *) rows[i].cell, width);
}

static double answer_now(json_t *doc) {
	/* the instance's clock: next_due_ts was computed against it */
	double now = number_or_nan(doc, "now_ts");
	if (!isnan(now))
		return now;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int ctl_print_jobs(FILE *out, json_t *doc) {
	json_t *jobs = json_object_get(doc, "jobs");
	if (!json_is_array(jobs))
		return -1;
	size_t n = json_array_size(jobs);
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		fputs("uwsgi-scheduler: out of memory\n", stderr);
		exit(1);
	}
	double now = answer_now(doc);
	for (size_t i = 0; i < n; i++) {
		rows[i].index = i;
		fill_row(&rows[i], json_array_get(jobs, i), now);
	}
	qsort(rows, n, sizeof(*rows), by_next);
	print_rows(out, rows, n);
	fprintf(out, "\n%zu %s listed.\n", n, n == 1 ? "job" : "jobs");
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < NCOLS; c++)
			free(rows[i].cell[c]);
	free(rows);
	return (int) n;
}
