/* python.c - dispatch to Python callables in the worker's own interpreter.
 *
 * The Python C API is resolved at run time with dlsym() so the scheduler
 * plugin loads with or without a Python plugin, and in either order: uWSGI
 * dlopens plugins RTLD_GLOBAL, so libpython's symbols are visible once the
 * python3 plugin is loaded. A run is one call from C of the job's
 * callable, its arguments decoded once and its context= dict made here;
 * the rest (import, attribute walk, JSON, coroutines, tracebacks) is done
 * by a small Python module (pyhelper.c) compiled into each interpreter
 * that runs jobs. */
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
	PyObject *(*ObjectCall)(PyObject *, PyObject *, PyObject *);
	PyObject *(*TupleGetItem)(PyObject *, ssize_t);
	PyObject *(*DictNew)(void);
	PyObject *(*DictCopy)(PyObject *);
	int (*DictSetItem)(PyObject *, PyObject *, PyObject *);
	PyObject *(*UnicodeDecodeUTF8)(const char *, ssize_t, const char *);
	PyObject *(*UnicodeInternFromString)(const char *);
	PyObject *(*FloatFromDouble)(double);
	PyObject *(*LongFromLong)(long);
	PyObject *(*BoolFromLong)(long);
	void (*IncRef)(PyObject *);
	void (*ErrFetch)(PyObject **, PyObject **, PyObject **);
	void (*ErrNormalizeException)(PyObject **, PyObject **, PyObject **);
	int (*ExceptionSetTraceback)(PyObject *, PyObject *);
	PyObject *(*ErrNoMemory)(void);
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
		{ &py.ObjectCall, "PyObject_Call" },
		{ &py.TupleGetItem, "PyTuple_GetItem" },
		{ &py.DictNew, "PyDict_New" },
		{ &py.DictCopy, "PyDict_Copy" },
		{ &py.DictSetItem, "PyDict_SetItem" },
		{ &py.UnicodeDecodeUTF8, "PyUnicode_DecodeUTF8" },
		{ &py.UnicodeInternFromString, "PyUnicode_InternFromString" },
		{ &py.FloatFromDouble, "PyFloat_FromDouble" },
		{ &py.LongFromLong, "PyLong_FromLong" },
		{ &py.BoolFromLong, "PyBool_FromLong" },
		{ &py.IncRef, "Py_IncRef" },
		{ &py.ErrFetch, "PyErr_Fetch" },
		{ &py.ErrNormalizeException, "PyErr_NormalizeException" },
		{ &py.ExceptionSetTraceback, "PyException_SetTraceback" },
		{ &py.ErrNoMemory, "PyErr_NoMemory" },
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

/* The keys of a context= dict, in its order; error only in a hook's. */
enum { KEY_JOB, KEY_SCHEDULED, KEY_SCHEDULED_TS, KEY_WORKER, KEY_CATCH_UP, KEY_ATTEMPT, KEY_ERROR, NKEYS };
static const char *const KEY_NAMES[NKEYS] = { "job", "scheduled", "scheduled_ts", "worker", "catch_up", "attempt",
	"error" };

/* The helper module, compiled once per interpreter (the main one and
 * each app's sub-interpreter), and what it prepared of each job there.
 * Only touched under the GIL. */
struct helper {
	void *interp; /* PyInterpreterState *, NULL = not yet */
	PyObject *check_fn;
	PyObject *prepare_fn;
	PyObject *finish_fn;
	PyObject *failed_fn;
	PyObject *keys[NKEYS];
	PyObject **prepared; /* by job key: prepare()'s (fn, args, kwargs or None, context name or None) */
	size_t nprepared;
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
	h->prepare_fn = py.GetAttrString(mod, "prepare");
	h->finish_fn = py.GetAttrString(mod, "finish");
	h->failed_fn = py.GetAttrString(mod, "failed");
	py.DecRef(mod);
	for (int i = 0; i < NKEYS; i++)
		if (!(h->keys[i] = py.UnicodeInternFromString(KEY_NAMES[i])))
			return NULL;
	if (!h->check_fn || !h->prepare_fn || !h->finish_fn || !h->failed_fn)
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

/* The helper's answer: NULL for None, else its text (malloc'd). */
static char *text_of(PyObject *ret) {
	if (ret == py.none)
		return NULL;
	const char *text = py.UnicodeAsUTF8(ret);
	return uwsgi_str(text ? (char *) text : "unknown error");
}

/* The exception this thread has raised, as its traceback (malloc'd);
 * clears it. Fetched here, never printed: PyErr_Print of a SystemExit
 * would end the worker. */
static char *failure(struct helper *h) {
	PyObject *type, *value, *tb;
	py.ErrFetch(&type, &value, &tb);
	py.ErrNormalizeException(&type, &value, &tb);
	if (value && tb)
		py.ExceptionSetTraceback(value, tb);
	PyObject *text = value ? py.CallFunction(h->failed_fn, "(O)", value) : NULL;
	py.DecRef(type);
	py.DecRef(value);
	py.DecRef(tb);
	if (!text) {
		py.ErrPrint();
		return uwsgi_str("the scheduler's Python helper failed");
	}
	char *msg = text_of(text);
	py.DecRef(text);
	return msg ? msg : uwsgi_str("unknown error");
}

static PyObject *text(const char *s) {
	if (!s) {
		py.IncRef(py.none);
		return py.none;
	}
	return py.UnicodeDecodeUTF8(s, (ssize_t) strlen(s), "replace");
}

/* A new context= dict (a hook's has the error of the run it follows,
 * None after a success), or NULL with an exception raised. */
static PyObject *context_dict(struct helper *h, const struct sched_context *ctx) {
	PyObject *v[NKEYS] = {
		text(ctx->job),
		text(ctx->scheduled),
		py.FloatFromDouble((double) ctx->scheduled_us / 1e6),
		py.LongFromLong(ctx->worker),
		py.BoolFromLong(ctx->catch_up),
		py.LongFromLong(ctx->attempt),
		ctx->hook ? text(ctx->error) : NULL,
	};
	PyObject *d = py.DictNew();
	int ok = d != NULL;
	for (int i = 0; i < (ctx->hook ? NKEYS : KEY_ERROR); i++) {
		ok = ok && v[i] && py.DictSetItem(d, h->keys[i], v[i]) == 0;
		py.DecRef(v[i]);
	}
	if (ok)
		return d;
	py.DecRef(d);
	return NULL;
}

/* prepare()'s (fn, args, kwargs, context name) of the job in h's interpreter, made on
 * its first run there (again after a failure); NULL with an exception
 * raised. */
static PyObject *prepared(struct helper *h, const struct usch_job *job) {
	/* a hook has its own arguments: its own key */
	size_t key = (size_t) job->index * 3 + (size_t) job->hook;
	if (key < h->nprepared && h->prepared[key])
		return h->prepared[key];
	if (key >= h->nprepared) {
		size_t n = h->nprepared ? h->nprepared : 64;
		while (n <= key)
			n *= 2;
		PyObject **grown = realloc(h->prepared, n * sizeof(*grown));
		if (!grown)
			return py.ErrNoMemory();
		memset(grown + h->nprepared, 0, (n - h->nprepared) * sizeof(*grown));
		h->prepared = grown;
		h->nprepared = n;
	}
	h->prepared[key] = py.CallFunction(
			h->prepare_fn, "szzz", job->target, job->args_json, job->kwargs_json, job->context);
	return h->prepared[key];
}

/* The kwargs of a run into *out: a copy of the job's, with its context=
 * dict under its prepared name; NULL when it has neither. 0, or -1 with
 * an exception raised. */
static int run_kwargs(struct helper *h, PyObject *prep, const struct sched_context *ctx, PyObject **out) {
	PyObject *kw = py.TupleGetItem(prep, 2);
	*out = NULL;
	if (kw == py.none && !ctx)
		return 0;
	if (!(*out = kw != py.none ? py.DictCopy(kw) : py.DictNew()))
		return -1;
	if (!ctx)
		return 0;
	PyObject *c = context_dict(h, ctx);
	int ret = c && py.DictSetItem(*out, py.TupleGetItem(prep, 3), c) == 0 ? 0 : -1;
	py.DecRef(c);
	return ret;
}

/* One run of the job, the GIL held in h's interpreter: its callable
 * called with its arguments (and context=), an awaitable it returns run
 * to completion. NULL on success, else the traceback (malloc'd). */
static char *run_job(struct helper *h, const struct usch_job *job, const struct sched_context *ctx) {
	mark_call(1);
	PyObject *prep = prepared(h, job), *kwargs = NULL, *ret = NULL;
	if (prep && run_kwargs(h, prep, ctx, &kwargs) == 0)
		ret = py.ObjectCall(py.TupleGetItem(prep, 0), py.TupleGetItem(prep, 1), kwargs);
	py.DecRef(kwargs);
	if (ret && ret != py.none) {
		PyObject *done = py.CallFunction(h->finish_fn, "(O)", ret);
		py.DecRef(ret);
		ret = done;
	}
	mark_call(0);
	if (!ret)
		return failure(h);
	py.DecRef(ret);
	return NULL;
}

/* check(target, args, kwargs, name) at startup, or one run; with the GIL
 * held in the right interpreter. NULL on success, else a malloc'd message
 * (a traceback, the reason). */
static char *run_helper(void *interp, const struct usch_job *job, int check, const struct sched_context *ctx) {
	struct helper *h = bootstrap(interp);
	if (!h)
		return uwsgi_str("unable to set up the scheduler's Python helper");
	if (!check)
		return run_job(h, job, ctx);
	PyObject *ret = py.CallFunction(
			h->check_fn, "szzz", job->target, job->args_json, job->kwargs_json, job->context);
	if (!ret) {
		py.ErrPrint();
		return uwsgi_str("the scheduler's Python helper failed");
	}
	char *msg = text_of(ret);
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
