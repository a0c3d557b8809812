/* common.c - the adapter's small shared helpers (see common.h). */
#include <uwsgi.h>
#include "common.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

int64_t sched_clock_us(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct timespec sched_timespec_at(int64_t us) {
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
	return ts;
}

void *sched_shared_zeroed(size_t size) {
	return uwsgi_malloc_shared(size ? size : 1);
}

json_t *sched_json_ts(int64_t us) {
	return us ? json_real((double) us / 1e6) : json_null();
}

json_t *sched_json_instant(int64_t us, const struct usch_tz *tz) {
	char when[USCH_RFC3339_MAX];
	if (!us)
		return json_null();
	usch_rfc3339_format(us, tz, when, sizeof(when));
	return json_string(when);
}

int sched_is_python_plugin(const struct uwsgi_plugin *p) {
	return p && p->name && !strncmp(p->name, "python", 6);
}

int sched_python_plugin_loaded(void) {
	for (int i = 0; i < 256; i++)
		if (sched_is_python_plugin(uwsgi.p[i]))
			return 1;
	return 0;
}

void sched_error_line(const char *err, char *out, size_t len) {
	const char *line = err, *end;
	if (!strncmp(err, "Traceback ", 10)) {
		for (const char *p = err; *p; p++)
			if (p[0] == '\n' && p[1] && p[1] != '\n')
				line = p + 1;
	}
	end = strchr(line, '\n');
	size_t n = end ? (size_t) (end - line) : strlen(line);
	if (n >= len) {
		n = len - 1;
		while (n && ((unsigned char) line[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, line, n);
	out[n] = 0;
}

int sched_proc_stat(int pid, char *state, int *pgrp) {
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t len = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[len] = 0;
	/* pid (comm) state ppid pgrp ...: comm may hold anything, the last ')' ends it */
	const char *p = strrchr(stat, ')');
	int ppid;
	return p && sscanf(p + 1, " %c %d %d", state, &ppid, pgrp) == 3 ? 0 : -1;
}

int sched_pid_gone(int pid) {
	if (kill(pid, 0) < 0)
		return errno == ESRCH;
	char state;
	int pgrp;
	if (sched_proc_stat(pid, &state, &pgrp) < 0)
		return 1;
	return state == 'Z' || state == 'X';
}
