/* python.h - Python callables in the worker's own interpreter (python.c),
 * through the C API resolved at run time. */
#ifndef SCHED_PYTHON_H
#define SCHED_PYTHON_H

#include "core/job.h"
#include "core/sched.h"

/* Whether an initialised Python is in this process (resolves the API the
 * first time: call it once before threads start). */
int sched_python_loaded(void);
/* True when the calling thread holds the GIL. */
int sched_python_gil_held(void);
/* Runs the fire's job's target in the interpreter of its app= (the main
 * one without), with its args= and kwargs=, and its context= when it
 * declares one. NULL on success, else a malloc'd message (a traceback). */
char *sched_python_call(const struct usch_fire *fire, const char *error);
/* The GIL for a thread of ours that runs no job (timeouts.c). */
int sched_python_gil_take(void);
void sched_python_gil_give(int state);
/* The GIL held: raises TimeoutError (a timeout) or InterruptedError
 * (overlap=replace) in thread (a pthread_t) if it is in a job's Python
 * call in the main interpreter; Python delivers it at the next bytecode.
 * Returns 1 when raised. */
enum sched_python_exc { SCHED_PY_TIMEOUT, SCHED_PY_REPLACED };
int sched_python_raise(unsigned long thread, enum sched_python_exc exc);
/* Whether a thread of ours can give its Python thread states back
 * (sched_python_thread_exit) before it exits; 1 without Python. */
int sched_python_thread_can_exit(void);
/* A thread of ours that ran Python is about to exit: its thread states
 * go (it must not hold the GIL). */
void sched_python_thread_exit(void);
/* NULL when the job's target imports and is callable, else why not
 * (malloc'd). */
char *sched_python_check(const struct usch_job *job);

#endif
