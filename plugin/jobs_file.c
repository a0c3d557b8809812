/* jobs_file.c - scheduler-jobs-file (see jobs_file.h). The text and the
 * index of its declarations' lines are in shared anonymous pages, made
 * before fork: a worker's memory counts those it reads (a job's line,
 * when it is listed or named in a message), not every page the master
 * filled, as it would for the master's heap. Never released: the jobs
 * point into the text for the life of the process. */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jobs_file.h"
#include "log.h"

/* Where one declaration's value starts in the text, and its line. */
struct line_at {
	uint32_t offset;
	uint32_t lineno;
};

struct sched_jobs_file {
	const char *path;
	char *text;
	size_t len;
	struct usch_decl_file lines;
	struct line_at *index; /* in text order: found by bisection */
	size_t n, cap;
	struct sched_jobs_file *next;
};

static struct sched_jobs_file *files;

static void *shared_pages(const char *path, size_t size) {
	void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		sched_fatal("scheduler-jobs-file \"%s\": out of memory for %zu bytes", path, size);
	return p;
}

static size_t count_lines(const char *text, size_t len) {
	size_t n = 1;
	for (const char *p = text; (p = memchr(p, '\n', len - (size_t) (p - text))); p++)
		n++;
	return n;
}

/* Up to the end of the file, whatever its size said (a file of /proc says
 * 0): read into private pages, then copied to shared ones of its own size.
 * Not the heap: a freed block of megabytes would raise malloc's threshold
 * for mmap, and what the master allocates and frees after it would stay
 * in pages every worker inherits. */
static char *read_to_end(const char *option, const char *path, int fd, size_t hint, size_t *len) {
	size_t cap = hint + 1 > 4096 ? hint + 1 : 4096, got = 0;
	char *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (;;) {
		if (buf == MAP_FAILED)
			sched_fatal("%s \"%s\": out of memory", option, path);
		if (got + 1 == cap) {
			if (cap >= UINT32_MAX)
				sched_fatal("%s \"%s\": over 4 GiB: a jobs file is smaller", option, path);
			buf = mremap(buf, cap, cap * 2, MREMAP_MAYMOVE);
			cap *= 2;
			continue;
		}
		ssize_t r = read(fd, buf + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			sched_fatal("%s \"%s\": cannot read it: %s", option, path, strerror(errno));
		if (r == 0)
			break;
		got += (size_t) r;
	}
	char *text = shared_pages(path, got + 1);
	memcpy(text, buf, got);
	text[got] = 0;
	munmap(buf, cap);
	*len = got;
	return text;
}

/* The whole file, NUL-terminated, or a startup error. Only a regular
 * file: a reload reads it again, which a pipe would not survive. */
static char *read_all(const char *option, const char *path, size_t *len) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		sched_fatal("%s \"%s\": cannot open it: %s", option, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		sched_fatal("%s \"%s\": not a regular file", option, path);
	char *text = read_to_end(option, path, fd, (size_t) st.st_size, len);
	close(fd);
	return text;
}

struct sched_jobs_file *sched_jobs_file_read(const char *option, const char *path) {
	struct sched_jobs_file *f = calloc(1, sizeof(*f));
	if (!f)
		sched_fatal("%s \"%s\": out of memory", option, path);
	f->path = path;
	f->text = read_all(option, path, &f->len);
	/* at most a declaration a line; the pages past the last stay unmade */
	f->cap = count_lines(f->text, f->len);
	f->index = shared_pages(path, f->cap * sizeof(*f->index));
	usch_decl_file_init(&f->lines, f->text, f->len);
	f->next = files;
	files = f;
	return f;
}

int sched_jobs_file_next(struct sched_jobs_file *f, struct usch_decl_file_line *line) {
	char err[512];
	int ret = usch_decl_file_next(&f->lines, line, err, sizeof(err));
	if (ret < 0)
		sched_fatal("%s:%u: %s", f->path, line->lineno, err);
	if (ret == 0 || f->n == f->cap)
		return ret;
	f->index[f->n++] = (struct line_at){ (uint32_t) (line->value - f->text), line->lineno };
	return 1;
}

static const struct line_at *line_of(const struct sched_jobs_file *f, uint32_t offset) {
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->index[mid].offset == offset)
			return &f->index[mid];
		if (f->index[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *sched_jobs_file_where(const char *line, char *buf, size_t len) {
	buf[0] = 0;
	uintptr_t p = (uintptr_t) line;
	for (const struct sched_jobs_file *f = files; f; f = f->next) {
		uintptr_t text = (uintptr_t) f->text;
		if (p < text || p > text + f->len)
			continue;
		const struct line_at *at = line_of(f, (uint32_t) (p - text));
		if (at)
			snprintf(buf, len, "%s:%u: ", f->path, at->lineno);
		break;
	}
	return buf;
}
