"""The plugin built with ASan+UBSan (make builds it next to the plain one,
in build/sanitized/) loaded into a real uwsgi with the sanitizer runtimes
preloaded, and driven through every path a long-running instance takes:
start, fires of every target kind (a Python callable with its context, one
that raises, rpc:, signal:, exec:), the RPC control functions through the
operator's command, a kill -9 of a worker mid-run (its command stopped by
the master), a SIGHUP reload with the state file, and the stop. Any report fails the test (leaks are not looked
for: uWSGI and Python keep their memory until exit, by design)."""
import glob
import os
import signal
import subprocess

from conftest import ROOT, app_ini as ini, assert_nothing_fatal, wait_for

SANITIZED = os.path.join(ROOT, "build", "sanitized", "scheduler_plugin.so")
CLI = os.path.join(ROOT, "uwsgi-scheduler")

APP = '''
import time
import uwsgi
from events import record

def hello(*args):
    record("rpc")
    return b"hi"

def on_signal(num):
    record("signal")

uwsgi.register_rpc("hello", hello)
uwsgi.register_signal(5, "workers", on_signal)

def tick(ctx):
    record("py", scheduled=ctx["scheduled_ts"])

def held():
    record("held", phase="start")
    time.sleep(2)
    record("held", phase="end")

def bad():
    raise ValueError("sanitized")

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def runtime(name):
    return subprocess.check_output(["gcc", "-print-file-name=" + name], text=True).strip()


def test_sanitized_plugin_reports_nothing(uwsgi):
    assert os.path.exists(SANITIZED), "make builds %s" % SANITIZED
    u = uwsgi()
    u.write("app.py", APP)
    sock = os.path.join(u.dir, "uwsgi.sock")
    state = os.path.join(u.dir, "state", "state.json")
    os.makedirs(os.path.dirname(state))
    reports = os.path.join(u.dir, "report")
    env = {"LD_PRELOAD": "%s %s" % (runtime("libasan.so"), runtime("libubsan.so")),
           "ASAN_OPTIONS": "detect_leaks=0:log_path=%s.asan" % reports,
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:log_path=%s.ubsan" % reports}
    u.start(ini=ini(u, "socket = %s" % sock, "scheduler-state = %s" % state, "enable-metrics = true",
                    "scheduler-interval = 300ms app:tick id=py scope=once context=ctx",
                    "scheduler-interval = 700ms app:bad id=bad",
                    "scheduler-interval = 500ms rpc:hello id=rpc",
                    "scheduler-interval = 600ms signal:5 id=sig",
                    "scheduler-interval = 800ms exec:true id=ex",
                    "scheduler-interval = 1s app:held id=held scope=once",
                    # a command in each worker that outlives its runs: stopped by the master
                    'scheduler-cron = @start exec:"sleep 300" id=long', "scheduler-shutdown-timeout = 1s", "scheduler-threads = 3",
                    workers=2),
            after=("rpc",), env=env, plugin=SANITIZED, timeout=90)
    u.wait_events("py", 3, timeout=60)
    u.wait_events("rpc", 1, per_worker=True, timeout=60)
    u.wait_events("signal", 1, timeout=60)
    u.wait_log(r"job bad: failed", timeout=60)
    u.wait_log(r"job ex: ok", timeout=60)

    def cli(*args):
        r = subprocess.run([CLI, "-s", sock] + list(args), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout
    assert "py" in cli("list")
    cli("pause", "py")
    cli("run", "py")
    cli("resume", "py")
    # a kill -9 of the worker running the held job
    start = wait_for(lambda: next((e for e in reversed(u.events("held", phase="start"))
                                   if not any(x["pid"] == e["pid"] and x["t"] > e["t"]
                                              for x in u.events("held", phase="end"))), None), 30,
                     what="a run of held")
    wid = next(w for w, p in u.workers.items() if p == start["pid"])
    mark = u.mark()
    os.kill(start["pid"], signal.SIGKILL)
    u.wait_workers([wid], since=mark, timeout=90)
    u.wait_log(r"job held: occurrence \S+ interrupted", since=mark, timeout=60)
    u.wait_log(r"job long: stopping its command \(process group \d+\) with SIGTERM: worker %d \(pid %d\) is gone"
               % (wid, start["pid"]), since=mark, timeout=60)
    # a reload that re-executes the master: the state file carries the runs over
    mark = u.mark()
    u.send(signal.SIGHUP)
    u.wait_workers(since=mark, timeout=90)
    n = len(u.events("py"))
    u.wait_events("py", n + 2, timeout=60)
    code, _ = u.stop(timeout=60)
    found = glob.glob(reports + ".*")
    assert not found, "".join(open(f).read()[-6000:] for f in found)
    text = u.log()
    for line in text.splitlines():
        assert "runtime error:" not in line and "AddressSanitizer" not in line, line
    ours = "DAMN ! worker %d (pid: %d) died, killed by signal 9" % (wid, start["pid"])
    assert_nothing_fatal(text.replace(ours, ""))
