/* slice.h - the scheduler slice a thread asks the kernel for (EEVDF,
 * Linux 6.6 on) while it sleeps until an instant: header-only and free of
 * uWSGI, so that bench/wake_floor.c, the machine's floor, sleeps exactly
 * as an executor does (punctual.c says why the slice is asked for). */
#ifndef SCHED_SLICE_H
#define SCHED_SLICE_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The slice asked for while a thread sleeps until an instant. */
#define SCHED_SLICE_SHORT_NS 100000

/* sched_setattr(2)'s argument (glibc 2.36 has no wrapper). */
struct sched_slice_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

/* Asks for a slice of runtime_ns (0: the default) under SCHED_OTHER at
 * the thread's own nice: no privilege needed. Older kernels take it as a
 * hint they do not use. */
static inline void sched_slice_ask(uint64_t runtime_ns) {
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	if (nice == -1 && errno)
		return;
	struct sched_slice_attr a = { .size = sizeof(a), .policy = SCHED_OTHER, .nice = nice, .runtime = runtime_ns };
	syscall(SYS_sched_setattr, 0, &a, 0);
}

#endif
