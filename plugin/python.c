/* python.c - dispatch to Python callables in the worker's own interpreter.
 *
 * The Python C API is resolved at run time with dlsym() so the scheduler
 * plugin loads with or without a Python plugin, and in either order: uWSGI
 * dlopens plugins RTLD_GLOBAL, so libpython's symbols are visible once the
 * python3 plugin is loaded. The work (import, attribute walk, JSON
 * arguments, coroutines, tracebacks) is done by a small Python module
 * compiled from BOOTSTRAP below: the C side only passes strings. */
#include <uwsgi.h>
#include <dlfcn.h>
#include "adapter.h"

typedef void PyObject;

static const char BOOTSTRAP[] =
	"import importlib, inspect, json, traceback\n"
	"_cache = {}\n"
	"def resolve(target):\n"
	"    fn = _cache.get(target)\n"
	"    if fn is None:\n"
	"        modname, _, path = target.partition(':')\n"
	"        obj = importlib.import_module(modname)\n"
	"        for name in path.split('.'):\n"
	"            obj = getattr(obj, name)\n"
	"        if not callable(obj):\n"
	"            raise TypeError('%s is not callable' % target)\n"
	"        _cache[target] = fn = obj\n"
	"    return fn\n"
	"def check(target):\n"
	"    try:\n"
	"        resolve(target)\n"
	"    except BaseException as e:\n"
	"        return '%s: %s' % (type(e).__name__, e)\n"
	"def call(target, args, kwargs):\n"
	"    try:\n"
	"        fn = resolve(target)\n"
	"        result = fn(*(json.loads(args) if args else ()), **(json.loads(kwargs) if kwargs else {}))\n"
	"        if inspect.isawaitable(result):\n"
	"            import asyncio\n"
	"            async def _wait(aw):\n"
	"                return await aw\n"
	"            asyncio.run(_wait(result))\n"
	"    except BaseException:\n"
	"        return traceback.format_exc()\n";

static struct {
	int state;		/* 0 unresolved, 1 ready, -1 unavailable */
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
	int (*GILState_Check)(void);
	PyObject *none;
	PyObject *check_fn;
	PyObject *call_fn;
} py;

enum { PY_FILE_INPUT = 257 };	/* Py_file_input, stable across 3.x */

static int resolve_symbols(void) {
	if (py.state)
		return py.state;
	py.state = -1;
	struct { void *dst; const char *name; } syms[] = {
		{&py.IsInitialized, "Py_IsInitialized"},
		{&py.GILState_Ensure, "PyGILState_Ensure"},
		{&py.GILState_Release, "PyGILState_Release"},
		{&py.CompileString, "Py_CompileString"},
		{&py.ImportExecCodeModule, "PyImport_ExecCodeModule"},
		{&py.GetAttrString, "PyObject_GetAttrString"},
		{&py.CallFunction, "PyObject_CallFunction"},
		{&py.UnicodeAsUTF8, "PyUnicode_AsUTF8"},
		{&py.DecRef, "Py_DecRef"},
		{&py.ErrPrint, "PyErr_Print"},
		{&py.GILState_Check, "PyGILState_Check"},
		{&py.none, "_Py_NoneStruct"},
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
	py.state = 1;
	return 1;
}

int sched_python_loaded(void) {
	return resolve_symbols() == 1 && py.IsInitialized();
}

int sched_python_gil_held(void) {
	return sched_python_loaded() && py.GILState_Check();
}

/* Compiles the bootstrap module once; the caller holds the GIL. */
static int bootstrap(void) {
	if (py.call_fn)
		return 0;
	PyObject *code = py.CompileString(BOOTSTRAP, "<uwsgi-scheduler>", PY_FILE_INPUT);
	PyObject *mod = code ? py.ImportExecCodeModule("_uwsgi_scheduler", code) : NULL;
	if (code)
		py.DecRef(code);
	if (!mod) {
		py.ErrPrint();
		return -1;
	}
	py.check_fn = py.GetAttrString(mod, "check");
	py.call_fn = py.GetAttrString(mod, "call");
	py.DecRef(mod);
	return py.call_fn && py.check_fn ? 0 : -1;
}

/* Runs the helper's call(target, args, kwargs) - or check(target) when
 * check is set - under the GIL; returns NULL on success, else a malloc'd
 * message (the traceback for a job, the reason for a check). */
static char *invoke(int check, const char *target, const char *a, const char *b) {
	char *msg = NULL;
	int gil = py.GILState_Ensure();
	if (bootstrap() < 0) {
		msg = uwsgi_str("unable to set up the scheduler's Python helper");
		goto out;
	}
	PyObject *ret = check ? py.CallFunction(py.check_fn, "s", target) :
		py.CallFunction(py.call_fn, "szz", target, a, b);
	if (!ret) {
		py.ErrPrint();
		msg = uwsgi_str("the scheduler's Python helper failed");
		goto out;
	}
	if (ret != py.none) {
		const char *text = py.UnicodeAsUTF8(ret);
		msg = uwsgi_str(text ? (char *) text : "unknown error");
	}
	py.DecRef(ret);
out:
	py.GILState_Release(gil);
	return msg;
}

char *sched_python_call(const char *target, const char *args_json, const char *kwargs_json) {
	if (!sched_python_loaded())
		return uwsgi_str("no Python plugin is loaded");
	return invoke(0, target, args_json, kwargs_json);
}

char *sched_python_check(const char *target) {
	if (!sched_python_loaded())
		return uwsgi_str("no Python plugin is loaded");
	return invoke(1, target, NULL, NULL);
}
