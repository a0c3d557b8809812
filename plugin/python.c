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
#include "python.h"

extern struct uwsgi_server uwsgi;

typedef void PyObject;

static const char BOOTSTRAP[] =
	"import importlib, importlib.util, inspect, json, os, sys, time, traceback\n"
	"_cache = {}\n"
	"_LOAD_WAIT = 30.0\n"
	"# the Python app options of uWSGI that load a default app (app 0)\n"
	"_DEFAULT_APPS = ('module', 'wsgi', 'wsgi-file', 'file', 'paste', 'eval', 'pecan', 'web3', 'pump', 'wsgi-lite')\n"
	"def _opt(key):\n"
	"    try:\n"
	"        import uwsgi\n"
	"        v = uwsgi.opt.get(key)\n"
	"    except Exception:\n"
	"        return []\n"
	"    if v is None:\n"
	"        return []\n"
	"    return [x.decode() if isinstance(x, bytes) else x for x in (v if isinstance(v, list) else [v])]\n"
	"def _flag(key):\n"
	"    return any(v is True or (isinstance(v, str) and v.lower() not in ('', '0', 'false', 'no', 'off')) for v in _opt(key))\n"
	"def _origin(mod):\n"
	"    f = getattr(getattr(mod, '__spec__', None), 'origin', None) or getattr(mod, '__file__', None)\n"
	"    return os.path.realpath(f) if isinstance(f, str) else None\n"
	"def _stem(path):\n"
	"    base = os.path.basename(path)\n"
	"    if base == '__init__.py':\n"
	"        base = os.path.basename(os.path.dirname(path))\n"
	"    return os.path.splitext(base)[0]\n"
	"def _loaded():\n"
	"    # the files uWSGI loaded as apps in this interpreter (wsgi-file, file,\n"
	"    # mount): it names their modules uwsgi_file_<path>\n"
	"    out = {}\n"
	"    for name, mod in list(sys.modules.items()):\n"
	"        if name.startswith('uwsgi_file_') and '.' not in name and mod is not None:\n"
	"            f = _origin(mod)\n"
	"            if f:\n"
	"                out.setdefault(f, mod)\n"
	"    return out\n"
	"def _in_main():\n"
	"    for name in ('_interpreters', '_xxsubinterpreters'):\n"
	"        try:\n"
	"            m = importlib.import_module(name)\n"
	"            return m.get_current() == m.get_main()\n"
	"        except Exception:\n"
	"            pass\n"
	"    return True\n"
	"def _coming():\n"
	"    # with lazy-apps, the files uWSGI has yet to load in this worker's main\n"
	"    # interpreter: the default app's, every mount's with single-interpreter,\n"
	"    # else the first mount's when it is the first app (the others get their\n"
	"    # own interpreter, loaded before an app= job can run in it)\n"
	"    if not (_flag('lazy-apps') or _flag('lazy')) or not _in_main():\n"
	"        return []\n"
	"    files = _opt('wsgi-file')[-1:] + _opt('file')[-1:]\n"
	"    mounts = [m.partition('=')[2] for m in _opt('mount') if isinstance(m, str)]\n"
	"    if not _flag('single-interpreter'):\n"
	"        mounts = mounts[:1] if not any(_opt(k) for k in _DEFAULT_APPS) else []\n"
	"    files += [m for m in mounts if m.endswith('.py') or m.endswith('.wsgi')]\n"
	"    return [os.path.realpath(f) for f in files if isinstance(f, str)]\n"
	"def _executing(mod):\n"
	"    # whether a thread is still running the module's body (uWSGI loading it)\n"
	"    d = mod.__dict__\n"
	"    for frame in sys._current_frames().values():\n"
	"        while frame is not None:\n"
	"            if frame.f_globals is d and frame.f_code.co_name == '<module>':\n"
	"                return True\n"
	"            frame = frame.f_back\n"
	"    return False\n"
	"def _app_module(modname):\n"
	"    # The module uWSGI loaded from the file modname names, or None to\n"
	"    # import modname as usual: modname is not imported yet, the file's stem\n"
	"    # is modname's last part, and Python would import that very file for\n"
	"    # modname (or, for a top-level name, nothing at all).\n"
	"    if modname in sys.modules:\n"
	"        return None\n"
	"    loaded = _loaded()\n"
	"    files = set(loaded) | set(_coming())\n"
	"    last = modname.rpartition('.')[2]\n"
	"    cands = sorted(f for f in files if _stem(f) == last)\n"
	"    if not cands:\n"
	"        return None\n"
	"    try:\n"
	"        spec = importlib.util.find_spec(modname)\n"
	"    except Exception:\n"
	"        spec = None\n"
	"    if spec is not None:\n"
	"        if not (spec.has_location and spec.origin) or os.path.realpath(spec.origin) not in cands:\n"
	"            return None\n"
	"        path = os.path.realpath(spec.origin)\n"
	"    elif '.' in modname:\n"
	"        return None\n"
	"    elif len(cands) == 1:\n"
	"        path = cands[0]\n"
	"    else:\n"
	"        raise ImportError('%s could be any of the files uWSGI loaded: %s' % (modname, ', '.join(cands)))\n"
	"    deadline = time.monotonic() + _LOAD_WAIT\n"
	"    while True:\n"
	"        mod = _loaded().get(path)\n"
	"        if mod is not None and not _executing(mod):\n"
	"            return mod\n"
	"        if path not in _coming() or time.monotonic() > deadline:\n"
	"            if mod is not None:\n"
	"                return mod\n"
	"            raise ImportError('uWSGI has not loaded %s in this worker (after %.0f s)' % (path, _LOAD_WAIT))\n"
	"        time.sleep(0.01)\n"
	"def resolve(target):\n"
	"    fn = _cache.get(target)\n"
	"    if fn is None:\n"
	"        modname, _, path = target.partition(':')\n"
	"        mod = _app_module(modname)\n"
	"        obj = mod or importlib.import_module(modname)\n"
	"        for name in path.split('.'):\n"
	"            if obj is mod and not hasattr(mod, name):\n"
	"                raise AttributeError(\"module '%s' has no attribute '%s' (the module uWSGI loaded from %s)\"\n"
	"                                     % (modname, name, _origin(mod)))\n"
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
	PyObject *none;
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
		{&py.ThreadStateUncheckedGet, "_PyThreadState_UncheckedGet"},
		{&py.GILStateGetThisThreadState, "PyGILState_GetThisThreadState"},
		{&py.ThreadStateNew, "PyThreadState_New"},
		{&py.ThreadStateClear, "PyThreadState_Clear"},
		{&py.ThreadStateDelete, "PyThreadState_Delete"},
		{&py.ThreadStateSwap, "PyThreadState_Swap"},
		{&py.ThreadStateGetInterpreter, "PyThreadState_GetInterpreter"},
		{&py.InterpreterStateMain, "PyInterpreterState_Main"},
		{&py.EvalRestoreThread, "PyEval_RestoreThread"},
		{&py.EvalSaveThread, "PyEval_SaveThread"},
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
	void *interp;		/* PyInterpreterState *, NULL = not yet */
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
	PyObject *code = py.CompileString(BOOTSTRAP, "<uwsgi-scheduler>", PY_FILE_INPUT);
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

/* Runs the helper's call(target, args, kwargs) - or check(target) when
 * check is set - with the GIL held in the right interpreter; returns NULL
 * on success, else a malloc'd message (a traceback, the reason). */
static char *run_helper(void *interp, int check, const char *target, const char *a, const char *b) {
	struct helper *h = bootstrap(interp);
	if (!h)
		return uwsgi_str("unable to set up the scheduler's Python helper");
	PyObject *ret = check ? py.CallFunction(h->check_fn, "s", target) :
		py.CallFunction(h->call_fn, "szz", target, a, b);
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

static char *invoke(const char *app, int check, const char *target, const char *a, const char *b) {
	void *app_ts = app ? app_thread_state(app) : NULL;
	if (app && !app_ts)
		return uwsgi_concat3("no Python app is mounted at \"", (char *) app, "\" in this process");
	void *interp = app_ts ? py.ThreadStateGetInterpreter(app_ts) : NULL;
	if (!interp || interp == py.InterpreterStateMain()) {
		int gil = py.GILState_Ensure();
		char *msg = run_helper(py.InterpreterStateMain(), check, target, a, b);
		py.GILState_Release(gil);
		return msg;
	}
	if (holds_gil()) {
		/* the master before fork, holding the GIL: visit the app's
		 * interpreter on a temporary thread state */
		void *ts = py.ThreadStateNew(interp);
		void *old = py.ThreadStateSwap(ts);
		char *msg = run_helper(interp, check, target, a, b);
		py.ThreadStateClear(ts);
		py.ThreadStateSwap(old);
		py.ThreadStateDelete(ts);
		return msg;
	}
	void *ts = thread_state_in(interp);
	if (!ts)
		return uwsgi_str("cannot create a Python thread state for the app's interpreter");
	py.EvalRestoreThread(ts);
	char *msg = run_helper(interp, check, target, a, b);
	py.EvalSaveThread();
	return msg;
}

char *sched_python_call(const char *app, const char *target, const char *args_json, const char *kwargs_json) {
	if (!sched_python_loaded())
		return uwsgi_str("no Python plugin is loaded");
	return invoke(app, 0, target, args_json, kwargs_json);
}

char *sched_python_check(const char *app, const char *target) {
	if (!sched_python_loaded())
		return uwsgi_str("no Python plugin is loaded");
	return invoke(app, 1, target, NULL, NULL);
}
