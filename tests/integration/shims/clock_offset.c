/* clock_offset.c - an LD_PRELOAD shim for the tests: a wall clock that a
 * test steps without touching the machine's. Every process that loads it
 * reads its wall clock (clock_gettime's CLOCK_REALTIME and
 * CLOCK_REALTIME_COARSE, gettimeofday, time) that much ahead of the real
 * one: a little-endian int64 of µs, the first 8 bytes of the file named by
 * $USCH_CLOCK_OFFSET_FILE. The file is mapped shared once, at load, so a
 * test that rewrites those bytes in place (pwrite, never a truncate or a
 * rename, which would leave the mapping behind) steps the master and every
 * worker at the same moment. The monotonic clocks are left alone: a step
 * moves the wall clock only, as an NTP or manual step does. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static const int64_t *offset_us; /* NULL: no file, no offset */
static clock_gettime_fn real_clock_gettime;

/* Resolved and mapped before main (and again after an exec, which a
 * uwsgi reload is); a fork inherits the mapping, still shared. */
__attribute__((constructor)) static void setup(void) {
	real_clock_gettime = (clock_gettime_fn) dlsym(RTLD_NEXT, "clock_gettime");
	const char *path = getenv("USCH_CLOCK_OFFSET_FILE");
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return;
	void *p = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED)
		offset_us = p;
}

/* The page is aligned, so the 8-byte load is one access: a step is seen
 * whole or not at all. */
static int64_t offset(void) {
	return offset_us ? __atomic_load_n(offset_us, __ATOMIC_RELAXED) : 0;
}

static void shift(struct timespec *ts, int64_t us) {
	int64_t ns = ts->tv_nsec + (us % 1000000) * 1000;
	ts->tv_sec += us / 1000000 + (ns >= 1000000000) - (ns < 0);
	ts->tv_nsec = (ns % 1000000000 + 1000000000) % 1000000000;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
	if (!real_clock_gettime)
		real_clock_gettime = (clock_gettime_fn) dlsym(RTLD_NEXT, "clock_gettime");
	int r = real_clock_gettime(id, ts);
	if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		shift(ts, offset());
	return r;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
	struct timespec ts;
	(void) tz; /* obsolete: nobody passes one */
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t time(time_t *t) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
