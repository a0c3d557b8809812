/* python.c - dispatch to Python callables in the worker's own interpreter.
 *
 * The Python C API is resolved at run time with dlsym() so the scheduler
 * plugin loads with or without a Python plugin, and in either order: uWSGI
 * dlopens plugins RTLD_GLOBAL, so libpython's symbols are visible once the
 * python3 plugin is loaded. The work (import, attribute walk, JSON
 * arguments, the run's context, coroutines, tracebacks) is done by a small
 * Python module (pyhelper.c) compiled into each interpreter that runs
 * jobs. */
#include <uwsgi.h>
#include <dlfcn.h>
#include "python.h"
#include "pyhelper.h"
#include "context.h"

extern struct uwsgi_server uwsgi;

typedef void PyObject;

static struct {
	int state; /* 0 unresolved, 1 ready, -1 unavailable */
	int (*IsInitialized)(void);
	int (*GILState_Ensure)(void);
	void (*GILState_Release)(int);
	PyObject *(*CompileString)(const char *, const char *, int);
	PyObject *(*ImportExecCodeModule)(const char *, PyObject *);
	PyObject *(*GetAttrString)(PyObject *, const char *);
	PyObject *(*CallFunction)(PyObject *, const char *, ...);
	const char *(*UnicodeAsUTF8)(PyObject *);
	void (*DecRef)(PyObject *);
	void (*ErrPrint)(void);
	void *(*ThreadStateUncheckedGet)(void);
	void *(*GILStateGetThisThreadState)(void);
	void *(*ThreadStateNew)(void *);
	void (*ThreadStateClear)(void *);
	void (*ThreadStateDelete)(void *);
	void *(*ThreadStateSwap)(void *);
	void *(*ThreadStateGetInterpreter)(void *);
	void *(*InterpreterStateMain)(void);
	void (*EvalRestoreThread)(void *);
	void *(*EvalSaveThread)(void);
	void (*ThreadStateDeleteCurrent)(void);
	void *(*ThreadStateGet)(void);
	void (*gil_get)(void); /* the python plugin's: takes the GIL with its thread state for this thread */
	int (*ThreadStateSetAsyncExc)(unsigned long, PyObject *);
	PyObject **TimeoutError;
	PyObject **InterruptedError;
	PyObject *none;
} py;

/* The threads of ours inside a job's Python call now, for timeouts, and
 * whether an exception was raised in each; guarded by the GIL. */
#define MAX_CALLS 256
static struct {
	unsigned long thread;
	int raised;
} in_call[MAX_CALLS];

enum { PY_FILE_INPUT = 257 }; /* Py_file_input, stable across 3.x */

static int resolve_symbols(void) {
	if (py.state)
		return py.state;
	py.state = -1;
	struct {
		void *dst;
		const char *name;
	} syms[] = {
		{ &py.IsInitialized, "Py_IsInitialized" },
		{ &py.GILState_Ensure, "PyGILState_Ensure" },
		{ &py.GILState_Release, "PyGILState_Release" },
		{ &py.CompileString, "Py_CompileString" },
		{ &py.ImportExecCodeModule, "PyImport_ExecCodeModule" },
		{ &py.GetAttrString, "PyObject_GetAttrString" },
		{ &py.CallFunction, "PyObject_CallFunction" },
		{ &py.UnicodeAsUTF8, "PyUnicode_AsUTF8" },
		{ &py.DecRef, "Py_DecRef" },
		{ &py.ErrPrint, "PyErr_Print" },
		{ &py.ThreadStateUncheckedGet, "_PyThreadState_UncheckedGet" },
		{ &py.GILStateGetThisThreadState, "PyGILState_GetThisThreadState" },
		{ &py.ThreadStateNew, "PyThreadState_New" },
		{ &py.ThreadStateClear, "PyThreadState_Clear" },
		{ &py.ThreadStateDelete, "PyThreadState_Delete" },
		{ &py.ThreadStateSwap, "PyThreadState_Swap" },
		{ &py.ThreadStateGetInterpreter, "PyThreadState_GetInterpreter" },
		{ &py.InterpreterStateMain, "PyInterpreterState_Main" },
		{ &py.EvalRestoreThread, "PyEval_RestoreThread" },
		{ &py.EvalSaveThread, "PyEval_SaveThread" },
		{ &py.none, "_Py_NoneStruct" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(RTLD_DEFAULT, syms[i].name);
		if (!p)
			return -1;
		if (syms[i].dst == &py.none)
			py.none = p;
		else
			memcpy(syms[i].dst, &p, sizeof(p));
	}
	/* for executors that exit (sched_python_thread_exit); without them
	 * they stay */
	*(void **) &py.ThreadStateDeleteCurrent = dlsym(RTLD_DEFAULT, "PyThreadState_DeleteCurrent");
	*(void **) &py.ThreadStateGet = dlsym(RTLD_DEFAULT, "PyThreadState_Get");
	*(void **) &py.gil_get = dlsym(RTLD_DEFAULT, "gil_real_get");
	*(void **) &py.ThreadStateSetAsyncExc = dlsym(RTLD_DEFAULT, "PyThreadState_SetAsyncExc");
	py.TimeoutError = dlsym(RTLD_DEFAULT, "PyExc_TimeoutError");
	py.InterruptedError = dlsym(RTLD_DEFAULT, "PyExc_InterruptedError");
	py.state = 1;
	return 1;
}

int sched_python_loaded(void) {
	return resolve_symbols() == 1 && py.IsInitialized();
}

/* Whether this thread holds the GIL in the main interpreter. Not
 * PyGILState_Check(): it answers yes to everyone once a sub-interpreter
 * exists (uWSGI mounts make them). */
static int holds_gil(void) {
	void *current = py.ThreadStateUncheckedGet();
	return current && current == py.GILStateGetThisThreadState();
}

int sched_python_gil_held(void) {
	return sched_python_loaded() && holds_gil();
}

/* The helper module, compiled once per interpreter (the main one and
 * each app's sub-interpreter). Only touched under the GIL. */
struct helper {
	void *interp; /* PyInterpreterState *, NULL = not yet */
	PyObject *check_fn;
	PyObject *call_fn;
};

#define MAX_INTERPRETERS 64
static struct helper helpers[MAX_INTERPRETERS];

/* The caller holds the GIL in interp. */
static struct helper *bootstrap(void *interp) {
	struct helper *h = NULL;
	for (int i = 0; i < MAX_INTERPRETERS && !h; i++)
		if (helpers[i].interp == interp || !helpers[i].interp)
			h = &helpers[i];
	if (!h)
		return NULL;
	if (h->interp)
		return h;
	PyObject *code = py.CompileString(sched_pyhelper_source, "<uwsgi-scheduler>", PY_FILE_INPUT);
	PyObject *mod = code ? py.ImportExecCodeModule("_uwsgi_scheduler", code) : NULL;
	if (code)
		py.DecRef(code);
	if (!mod) {
		py.ErrPrint();
		return NULL;
	}
	h->check_fn = py.GetAttrString(mod, "check");
	h->call_fn = py.GetAttrString(mod, "call");
	py.DecRef(mod);
	if (!h->check_fn || !h->call_fn)
		return NULL;
	h->interp = interp;
	return h;
}

/* The GIL held: this thread enters (on) or leaves a job's call. On the
 * way out a TimeoutError raised too late to land in the call is dropped,
 * so that it never lands in the next one. */
static void mark_call(int on) {
	unsigned long me = (unsigned long) pthread_self();
	for (int i = 0; i < MAX_CALLS; i++) {
		if (on && !in_call[i].thread) {
			in_call[i].thread = me;
			in_call[i].raised = 0;
			return;
		}
		if (!on && in_call[i].thread == me) {
			in_call[i].thread = 0;
			/* only then: it walks every thread state under the runtime's lock */
			if (in_call[i].raised && py.ThreadStateSetAsyncExc)
				py.ThreadStateSetAsyncExc(me, NULL);
			return;
		}
	}
}

int sched_python_gil_take(void) {
	return py.GILState_Ensure();
}

void sched_python_gil_give(int state) {
	py.GILState_Release(state);
}

int sched_python_raise(unsigned long thread, enum sched_python_exc exc) {
	PyObject **type = exc == SCHED_PY_TIMEOUT ? py.TimeoutError : py.InterruptedError;
	if (!py.ThreadStateSetAsyncExc || !type)
		return 0;
	for (int i = 0; i < MAX_CALLS; i++) {
		if (in_call[i].thread != thread)
			continue;
		in_call[i].raised = 1;
		return py.ThreadStateSetAsyncExc(thread, *type) > 0;
	}
	return 0;
}

/* Runs the helper's call(target, job, args, kwargs), with the context's
 * name and values after them when ctx is given, or check(target, args,
 * kwargs, name) when check is set, with the GIL held in the right interpreter; returns NULL
 * on success, else a malloc'd message (a traceback, the reason). */
static char *run_helper(void *interp, const struct usch_job *job, int check, const struct sched_context *ctx) {
	struct helper *h = bootstrap(interp);
	if (!h)
		return uwsgi_str("unable to set up the scheduler's Python helper");
	/* the helper keeps each job's arguments by this key: a hook has its own */
	ssize_t key = (ssize_t) job->index * 3 + job->hook;
	PyObject *ret;
	if (!check)
		mark_call(1);
	if (check)
		ret = py.CallFunction(h->check_fn, "szzz", job->target, job->args_json, job->kwargs_json, job->context);
	else if (!ctx)
		ret = py.CallFunction(h->call_fn, "snzz", job->target, key, job->args_json, job->kwargs_json);
	else if (!ctx->hook)
		ret = py.CallFunction(h->call_fn, "snzzsssdiii", job->target, key, job->args_json, job->kwargs_json,
				job->context, ctx->job, ctx->scheduled, (double) ctx->scheduled_us / 1e6, ctx->worker,
				ctx->catch_up, ctx->attempt);
	else
		ret = py.CallFunction(h->call_fn, "snzzsssdiiiz", job->target, key, job->args_json, job->kwargs_json,
				job->context, ctx->job, ctx->scheduled, (double) ctx->scheduled_us / 1e6, ctx->worker,
				ctx->catch_up, ctx->attempt, ctx->error);
	if (!check)
		mark_call(0);
	if (!ret) {
		py.ErrPrint();
		return uwsgi_str("the scheduler's Python helper failed");
	}
	char *msg = NULL;
	if (ret != py.none) {
		const char *text = py.UnicodeAsUTF8(ret);
		msg = uwsgi_str(text ? (char *) text : "unknown error");
	}
	py.DecRef(ret);
	return msg;
}

/* The main thread state of the Python app mounted at `app` in this
 * process (uwsgi_apps: the worker's, or the master's before fork). */
static void *app_thread_state(const char *app) {
	size_t len = strlen(app);
	for (int i = 0; i < uwsgi_apps_cnt; i++) {
		struct uwsgi_app *wi = &uwsgi_apps[i];
		if (wi->modifier1 == 0 && wi->mountpoint_len == len && !memcmp(wi->mountpoint, app, len))
			return wi->interpreter;
	}
	return NULL;
}

/* A thread state of this executor thread in a sub-interpreter, made on
 * first use: the GILState API only knows the main interpreter. */
static __thread struct {
	void *interp;
	void *ts;
} sub_states[MAX_INTERPRETERS];

static void *thread_state_in(void *interp) {
	for (int i = 0; i < MAX_INTERPRETERS; i++) {
		if (sub_states[i].interp == interp)
			return sub_states[i].ts;
		if (!sub_states[i].interp) {
			void *ts = py.ThreadStateNew(interp);
			if (!ts)
				return NULL;
			sub_states[i].interp = interp;
			sub_states[i].ts = ts;
			return ts;
		}
	}
	return NULL;
}

static char *invoke(const struct usch_job *job, int check, const struct sched_context *ctx) {
	const char *app = job->app;
	void *app_ts = app ? app_thread_state(app) : NULL;
	if (app && !app_ts)
		return uwsgi_concat3("no Python app is mounted at \"", (char *) app, "\" in this process");
	void *interp = app_ts ? py.ThreadStateGetInterpreter(app_ts) : NULL;
	if (!interp || interp == py.InterpreterStateMain()) {
		int gil = py.GILState_Ensure();
		char *msg = run_helper(py.InterpreterStateMain(), job, check, ctx);
		py.GILState_Release(gil);
		return msg;
	}
	if (holds_gil()) {
		/* the master before fork, holding the GIL: visit the app's
		 * interpreter on a temporary thread state */
		void *ts = py.ThreadStateNew(interp);
		void *old = py.ThreadStateSwap(ts);
		char *msg = run_helper(interp, job, check, ctx);
		py.ThreadStateClear(ts);
		py.ThreadStateSwap(old);
		py.ThreadStateDelete(ts);
		return msg;
	}
	void *ts = thread_state_in(interp);
	if (!ts)
		return uwsgi_str("cannot create a Python thread state for the app's interpreter");
	py.EvalRestoreThread(ts);
	char *msg = run_helper(interp, job, check, ctx);
	py.EvalSaveThread();
	return msg;
}

int sched_python_thread_can_exit(void) {
	return !sched_python_loaded() || (py.ThreadStateDeleteCurrent && py.ThreadStateGet && py.gil_get);
}

/* Each thread state of this thread: ours in sub-interpreters, and the one
 * the python plugin's init_thread made (rpc: calls into Python take it). */
void sched_python_thread_exit(void) {
	if (!sched_python_loaded() || !sched_python_thread_can_exit())
		return;
	for (int i = 0; i < MAX_INTERPRETERS && sub_states[i].interp; i++) {
		py.EvalRestoreThread(sub_states[i].ts);
		py.ThreadStateClear(sub_states[i].ts);
		py.ThreadStateDeleteCurrent();
		sub_states[i].interp = NULL;
	}
	py.gil_get();
	py.ThreadStateClear(py.ThreadStateGet());
	py.ThreadStateDeleteCurrent();
}

char *sched_python_call(const struct usch_fire *fire, const char *error) {
	if (!sched_python_loaded())
		return uwsgi_str("no Python plugin is loaded");
	if (!fire->job->context)
		return invoke(fire->job, 0, NULL);
	/* made before taking the GIL, for the jobs that ask only */
	struct sched_context ctx;
	sched_context_of(fire, error, &ctx);
	return invoke(fire->job, 0, &ctx);
}

char *sched_python_check(const struct usch_job *job) {
	if (!sched_python_loaded())
		return uwsgi_str("no Python plugin is loaded");
	return invoke(job, 1, NULL);
}
