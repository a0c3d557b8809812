/* python.h - Python callables in the worker's own interpreter (python.c),
 * through the C API resolved at run time. */
#ifndef SCHED_PYTHON_H
#define SCHED_PYTHON_H

/* Whether an initialised Python is in this process (resolves the API the
 * first time: call it once before threads start). */
int sched_python_loaded(void);
/* True when the calling thread holds the GIL. */
int sched_python_gil_held(void);
/* app: the mountpoint of the app whose interpreter runs it, NULL for the
 * main one. NULL on success, else a malloc'd message (a traceback). */
char *sched_python_call(const char *app, const char *target, const char *args_json, const char *kwargs_json);
/* NULL when target imports and is callable, else why not (malloc'd). */
char *sched_python_check(const char *app, const char *target);

#endif
