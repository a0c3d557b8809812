/* threads.h - our threads inside a uWSGI worker (threads.c): started with
 * every signal blocked, and given what the language plugins keep per
 * thread. */
#ifndef SCHED_THREADS_H
#define SCHED_THREADS_H

#include <pthread.h>

/* Our threads never take signals sent to the worker: uWSGI's handlers
 * (which may call exit()) must run in the worker's own threads, as
 * uwsgi_setup_thread_req does. A fault of the thread itself (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL) stays unblocked: blocked, the kernel kills the
 * worker without running uWSGI's handler, which logs the crash and a
 * backtrace of the faulting thread. */
void sched_block_signals(void);

/* Gives the calling thread the per-thread state the python plugin keeps,
 * so that Python calls and Python RPC functions work from it. */
void sched_init_language_thread(int core_id);

/* pthread_create with every signal blocked (inherited by the thread, so
 * none can land on it before it blocks them itself), a 512 KiB stack and
 * a name (top -H, ps -L, gdb). Returns pthread_create's result. */
int sched_spawn(pthread_t *t, const char *name, void *(*fn)(void *), void *arg);

/* Sets the calling thread's timer slack to 1 ns: its timed waits end at
 * their deadline, not up to the kernel's default 50 µs after it (most of
 * a fire's lag). For the threads that wait for an instant: the timing
 * thread, the executors. */
void sched_thread_exact_timers(void);

/* Marks the calling thread as one of ours; whether the caller is one. */
void sched_thread_mark(void);
int sched_thread_ours(void);

#endif
