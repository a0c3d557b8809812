/* fail_pthread.c - an LD_PRELOAD shim for the tests: in every process,
 * the Nth call of pthread_create (N = $SCHED_TEST_FAIL_THREAD) fails with
 * EAGAIN, as it does when a worker hits its thread limit. Counted per
 * process (a fork starts again at 0). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*) (void *), void *);

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
	static pid_t owner;
	static int calls;
	create_fn real = (create_fn) dlsym(RTLD_NEXT, "pthread_create");
	const char *n = getenv("SCHED_TEST_FAIL_THREAD");
	if (owner != getpid()) {
		owner = getpid();
		calls = 0;
	}
	if (n && ++calls == atoi(n))
		return EAGAIN;
	return real(t, attr, fn, arg);
}
