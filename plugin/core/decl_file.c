/* decl_file.c - a jobs file's lines (see decl.h): split in place into
 * the job options and their values, the way uWSGI's ini reader splits
 * its lines (key, '=', value, spaces trimmed), so that a line means the
 * same in either. Only the ini's four job options are lines of a jobs
 * file: a setting there would take effect in an order nobody could see. */
#include <string.h>
#include "chars.h"
#include "decl.h"
#include "decl_impl.h"
#include "err.h"
#include "job.h"

#define UTF8_BOM "\xef\xbb\xbf"

void usch_decl_file_init(struct usch_decl_file *f, char *text, size_t len) {
	f->p = text;
	f->end = text + len;
	f->lineno = 1;
	/* editors on Windows start a UTF-8 file with one */
	if (len >= 3 && !memcmp(text, UTF8_BOM, 3))
		f->p += 3;
}

static char *skip_space(char *p) {
	while (usch_is_space(*p))
		p++;
	return p;
}

static void trim_end(char *s) {
	size_t n = strlen(s);
	while (n && usch_is_space(s[n - 1]))
		s[--n] = 0;
}

/* The ini's job options: not the short names a JSON declaration's keys
 * also go by. */
static int is_job_option(const char *key) {
	return !strncmp(key, "scheduler-", 10) && usch_job_option_index(key) >= 0;
}

/* One line that is neither blank nor a comment: "option = value". */
static int split_line(char *line, struct usch_decl_file_line *out, char *err, size_t errlen) {
	if (*line == '[')
		return usch_fail(err, errlen, "a section header: a jobs file holds job lines only, without [sections]");
	char *key = line, *p = line;
	while (decl_is_key_char(*p))
		p++;
	size_t klen = (size_t) (p - key);
	p = skip_space(p);
	if (!klen || *p != '=')
		return usch_fail(err, errlen,
				"expected OPTION = VALUE (scheduler-cron, scheduler-interval, scheduler-at "
				"or scheduler-job)");
	char *value = p + 1;
	key[klen] = 0; /* a space or the '=' */
	if (!is_job_option(key))
		return usch_fail(err, errlen,
				"\"%s\" is not a job option: a jobs file takes scheduler-cron, scheduler-interval, "
				"scheduler-at and scheduler-job (settings go in the ini)",
				key);
	out->option = key;
	out->value = skip_space(value);
	trim_end(out->value);
	return 0;
}

int usch_decl_file_next(struct usch_decl_file *f, struct usch_decl_file_line *out, char *err, size_t errlen) {
	while (f->p < f->end) {
		char *line = f->p;
		char *nl = memchr(line, '\n', (size_t) (f->end - line));
		char *stop = nl ? nl : f->end;
		out->lineno = f->lineno++;
		f->p = nl ? nl + 1 : f->end;
		if (memchr(line, 0, (size_t) (stop - line)))
			return usch_fail(err, errlen, "a NUL byte: a jobs file is text");
		*stop = 0;
		line = skip_space(line);
		if (!*line || *line == '#' || *line == ';')
			continue;
		return split_line(line, out, err, errlen) < 0 ? -1 : 1;
	}
	return 0;
}
