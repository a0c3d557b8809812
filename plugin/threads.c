/* threads.c - our threads inside a uWSGI worker (see threads.h). */
#include <uwsgi.h>
#include <sys/prctl.h>
#include "threads.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

static __thread int ours;

void sched_thread_mark(void) {
	ours = 1;
}

int sched_thread_ours(void) {
	return ours;
}

void sched_thread_exact_timers(void) {
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

void sched_block_signals(void) {
	static const int FAULTS[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	sigset_t mask;
	sigfillset(&mask);
	for (size_t i = 0; i < sizeof(FAULTS) / sizeof(FAULTS[0]); i++)
		sigdelset(&mask, FAULTS[i]);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

/* Only python's hook is called: other language plugins index per-core
 * interpreters with the core id, which a thread of ours does not have
 * (their RPC functions run in the worker's request thread instead, see
 * mainthread.c). */
void sched_init_language_thread(int core_id) {
	for (int i = 0; i < 256; i++) {
		struct uwsgi_plugin *p = uwsgi.p[i];
		if (p && p->init_thread && sched_is_python_plugin(p))
			p->init_thread(core_id);
	}
}

int sched_spawn(pthread_t *t, const char *name, void *(*fn)(void *), void *arg) {
	pthread_attr_t attr;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	int ret = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ret)
		pthread_setname_np(*t, name);
	return ret;
}
