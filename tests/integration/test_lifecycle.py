"""The plugin's lifecycle in real uwsgi masters: one scheduler thread per
worker (eager, lazy-apps, respawned, without master), the threads refusal,
and the stop of the scheduler on every way a worker ends."""
import os
import re
import signal
import time
import urllib.request

from conftest import assert_nothing_fatal, wait_for

JOBS = '''
import os, threading, time

def _record(event, extra=""):
    with open(os.path.join(os.path.dirname(__file__), "events.log"), "a") as f:
        f.write("%s %d %d %.3f %s\\n" % (event, os.getpid(), threading.get_ident(), time.time(), extra))

def tick():
    _record("tick")

def slow(seconds=3):
    _record("start")
    time.sleep(seconds)
    _record("end")
'''

APP = '''
import time
def application(environ, start_response):
    if environ.get("PATH_INFO") == "/hang":
        time.sleep(30)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def setup_app(u):
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)


def events(u, kind=None):
    path = os.path.join(u.dir, "events.log")
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and (kind is None or parts[0] == kind):
                rows.append((parts[0], int(parts[1]), int(parts[2]), float(parts[3])))
    return rows


def thread_names(pid):
    names = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names


def ini(u, *extra, workers=3):
    lines = ["[uwsgi]", "http-socket = 127.0.0.1:%d" % u.port, "master = true",
             "workers = %d" % workers, "wsgi-file = app.py", "enable-threads = true",
             "worker-reload-mercy = 30"]
    return "\n".join(lines + list(extra)) + "\n"


def pids_with_ticks(u, n):
    return wait_for(lambda: len({pid for _, pid, _, _ in events(u, "tick")}) >= n and
                    {pid for _, pid, _, _ in events(u, "tick")}, 30,
                    what="ticks from %d workers:\n%s" % (n, u.log()[-3000:]))


def test_one_scheduler_thread_per_worker(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 300ms jobs:tick"))
    pids = pids_with_ticks(u, 3)
    time.sleep(1.5)
    assert pids == set(u.worker_pids())
    # each worker runs its jobs on exactly one executor thread, and started
    # exactly one scheduler
    for pid in pids:
        tids = {tid for _, p, tid, _ in events(u, "tick") if p == pid}
        assert len(tids) == 1, tids
        assert u.count(r"\[scheduler\] worker \d+ \(pid %d\): scheduler thread started" % pid) == 1
        names = thread_names(pid)
        assert names.count("sched-timer") == 1, names
        assert names.count("sched-exec") == 1, names
    assert u.count(r"scheduler thread started") == 3
    # the master runs no scheduler
    assert "sched-timer" not in thread_names(u.proc.pid)
    code, took = u.stop()
    assert_nothing_fatal(u.log())
    assert took < 10


def test_lazy_apps_and_no_master(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "lazy-apps = true", "scheduler-interval = 300ms jobs:tick", workers=2))
    assert pids_with_ticks(u, 2) == set(u.worker_pids())
    u.stop()
    assert_nothing_fatal(u.log())

    v = uwsgi()
    setup_app(v)
    v.start("--http-socket", "127.0.0.1:%d" % v.port, "--wsgi-file", "app.py", "--enable-threads",
            "--scheduler-interval", "300ms jobs:tick", wait=False)
    wait_for(lambda: len(events(v, "tick")) >= 3, 20, what="ticks without a master:\n" + v.log())
    assert {pid for _, pid, _, _ in events(v, "tick")} == {v.proc.pid}
    code, took = v.stop()
    assert_nothing_fatal(v.log())
    assert took < 10


def test_killed_worker_is_respawned_with_its_scheduler(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 300ms jobs:tick", workers=2))
    first = pids_with_ticks(u, 2)
    victim = sorted(first)[0]
    os.kill(victim, signal.SIGKILL)
    u.wait_log(r"[Ss]pawned uWSGI worker", count=3)
    new_pid = u.worker_pids()[-1]
    wait_for(lambda: any(pid == new_pid for _, pid, _, _ in events(u, "tick")), 20,
             what="ticks from the respawned worker")
    assert u.count(r"scheduler thread started") == 3
    assert thread_names(new_pid).count("sched-timer") == 1
    u.stop()


def test_harakiri_worker_comes_back_with_its_scheduler(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "harakiri = 2", "scheduler-interval = 300ms jobs:tick", workers=1))
    pids_with_ticks(u, 1)
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/hang" % u.port, timeout=10).read()
    except Exception:
        pass
    u.wait_log(r"HARAKIRI", timeout=20)
    u.wait_log(r"[Ss]pawned uWSGI worker", count=2)
    new_pid = u.worker_pids()[-1]
    wait_for(lambda: any(pid == new_pid for _, pid, _, _ in events(u, "tick")), 20,
             what="ticks after harakiri")
    u.stop()


def test_refuses_without_threads_before_forking(uwsgi):
    u = uwsgi()
    setup_app(u)
    r = u.run("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2",
              "--wsgi-file", "app.py", "--scheduler-interval", "1s jobs:tick",
              "--scheduler-cron", "* * * * * jobs:tick id=two", "--scheduler-at", "2030-01-01T00:00:00Z jobs:tick id=three")
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert ("[scheduler] threads are disabled but 3 jobs are declared: add --enable-threads "
            "(ini: enable-threads = true) or --threads N") in out
    assert "spawned uWSGI worker" not in out
    assert "WSGI app 0" not in out  # refused before the app was even loaded


def test_threads_option_satisfies_the_check(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "1", "--threads", "2",
            "--wsgi-file", "app.py", "--scheduler-interval", "300ms jobs:tick")
    pids_with_ticks(u, 1)
    u.stop()
    assert_nothing_fatal(u.log())


def test_no_jobs_no_threads_needed(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "1", "--wsgi-file", "app.py")
    assert "[scheduler]" not in u.log()
    u.stop()


def slow_ini(u, *extra, workers=2):
    # one slow run per worker, starting about 1 s after the worker
    return ini(u, "scheduler-at = %s jobs:slow args=[3]" % at_in(2.0), *extra, workers=workers)


def at_in(seconds):
    t = time.time() + seconds
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def wait_started(u, n):
    return wait_for(lambda: len(events(u, "start")) >= n, 20, what="slow jobs to start:\n" + u.log()[-3000:])


def ends_by_pid(u):
    return {pid for _, pid, _, _ in events(u, "end")}


def test_sighup_reload_lets_running_jobs_finish(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=slow_ini(u))
    wait_started(u, 2)
    started = {pid for _, pid, _, _ in events(u, "start")}
    u.send(signal.SIGHUP)
    u.wait_log(r"[Ss]pawned uWSGI worker", count=4, timeout=30)
    # every run finished before its worker went away
    assert started <= ends_by_pid(u)
    assert u.count(r"waiting up to 10\.0 s for 1 running job") == 2
    assert_nothing_fatal(u.log())
    u.stop()


def test_chain_reload_lets_running_jobs_finish(uwsgi):
    u = uwsgi()
    setup_app(u)
    touch = u.write("chain.touch", "")
    u.start(ini=slow_ini(u, "touch-chain-reload = %s" % touch))
    wait_started(u, 2)
    time.sleep(0.2)
    os.utime(touch, (time.time() + 5, time.time() + 5))
    u.wait_log(r"chain reloading complete", timeout=40)
    assert {pid for _, pid, _, _ in events(u, "start")} <= ends_by_pid(u)
    assert_nothing_fatal(u.log())
    u.stop()


def test_graceful_shutdown_lets_running_jobs_finish(uwsgi):
    # uWSGI's graceful shutdown of the whole instance: 'q' on the master FIFO
    u = uwsgi()
    setup_app(u)
    fifo = os.path.join(u.dir, "master.fifo")
    u.start(ini=slow_ini(u, "master-fifo = %s" % fifo))
    wait_started(u, 2)
    t0 = time.monotonic()
    with open(fifo, "w") as f:
        f.write("q")
    u.proc.wait(timeout=20)
    assert time.monotonic() - t0 < 15
    assert {pid for _, pid, _, _ in events(u, "start")} <= ends_by_pid(u)
    assert u.count(r"waiting up to 10\.0 s for 1 running job") == 2
    assert_nothing_fatal(u.log())


def test_max_requests_recycle_is_graceful(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=slow_ini(u, "max-requests = 2", "min-worker-lifetime = 1", workers=1))
    wait_started(u, 1)
    for _ in range(3):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/" % u.port, timeout=10).read()
        except Exception:
            pass
    u.wait_log(r"[Ss]pawned uWSGI worker", count=2, timeout=30)
    assert {pid for _, pid, _, _ in events(u, "start")} <= ends_by_pid(u)
    assert_nothing_fatal(u.log())
    u.stop()


def test_shutdown_timeout_bounds_the_wait(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-at = %s jobs:slow args=[20]" % at_in(2.0),
                    "scheduler-shutdown-timeout = 1s", workers=1))
    wait_started(u, 1)
    t0 = time.monotonic()
    u.send(signal.SIGHUP)
    u.wait_log(r"shutdown timeout exceeded, 1 job\(s\) still running", timeout=15)
    u.wait_log(r"[Ss]pawned uWSGI worker", count=2, timeout=15)
    assert time.monotonic() - t0 < 10
    assert not events(u, "end")
    assert_nothing_fatal(u.log())
    u.stop()


def test_brutal_stops_are_prompt_and_clean(uwsgi):
    # uWSGI 2.0.21 stops workers with SIGINT on all of these: SIGINT and
    # SIGQUIT, and SIGTERM with die-on-term (core/master.c: kill_them_all)
    for sig, extra in ((signal.SIGINT, ()), (signal.SIGQUIT, ()), (signal.SIGTERM, ("die-on-term = true",))):
        u = uwsgi()
        setup_app(u)
        u.start(ini=ini(u, "scheduler-at = %s jobs:slow args=[20]" % at_in(2.0), *extra, workers=2))
        wait_started(u, 2)
        code, took = u.stop(sig)
        assert took < 8, "stop with %s took %.1fs" % (sig, took)
        assert_nothing_fatal(u.log())
        assert not events(u, "end")
        assert u.count(r"exiting with 1 job\(s\) still running") == 2, u.log()[-3000:]


def test_sigterm_without_die_on_term_reloads_brutally(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 300ms jobs:tick",
                    "scheduler-at = %s jobs:slow args=[20]" % at_in(2.0), workers=2))
    wait_started(u, 2)
    before = u.count(r"scheduler thread started")
    t0 = time.monotonic()
    u.send(signal.SIGTERM)  # uWSGI re-execs the master: a brutal reload
    u.wait_log(r"scheduler thread started", count=before + 2, timeout=30)
    assert time.monotonic() - t0 < 15
    assert_nothing_fatal(u.log())
    u.stop()


def test_scheduler_threads_and_worker_scopes(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 3",
                    "scheduler-interval = 300ms jobs:tick scope=workers workers=2-3",
                    "scheduler-interval = 300ms jobs:slow args=[0] scope=once id=once",
                    workers=3))
    pids = pids_with_ticks(u, 2)
    wait_for(lambda: events(u, "end"), 20, what="the scope=once job")
    time.sleep(1.0)
    workers = u.worker_pids()  # in spawn order: worker 1, 2, 3
    assert pids == set(workers[1:3])
    assert {pid for _, pid, _, _ in events(u, "start")} == {workers[0]}
    assert u.count(r"job once: scope=once runs on worker 1") == 1
    for pid in workers[1:]:
        names = thread_names(pid)
        assert names.count("sched-exec") == 3 and names.count("sched-timer") == 1, names
    u.stop()
    assert_nothing_fatal(u.log())


def test_workers_scope_naming_no_worker_is_refused(uwsgi):
    u = uwsgi()
    setup_app(u)
    r = u.run("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2", "--enable-threads",
              "--wsgi-file", "app.py", "--scheduler-interval", "1s jobs:tick scope=workers workers=5")
    assert r.returncode != 0
    assert ('[scheduler] scheduler-interval "1s jobs:tick scope=workers workers=5": '
            'workers= names no worker of this instance (workers = 2)') in r.stdout + r.stderr
    assert "spawned uWSGI worker" not in r.stdout + r.stderr


def test_options_from_env_yaml_and_json(uwsgi):
    # scheduler-* are ordinary uWSGI options: every config source works
    y = uwsgi()
    setup_app(y)
    y.write("app.yaml", "uwsgi:\n  http-socket: 127.0.0.1:%d\n  master: true\n  workers: 1\n"
                        "  wsgi-file: app.py\n  enable-threads: true\n"
                        "  scheduler-interval: 300ms jobs:tick\n" % y.port)
    y.start("--yaml", "app.yaml")
    pids_with_ticks(y, 1)
    y.stop()

    j = uwsgi()
    setup_app(j)
    j.write("app.json", '{"uwsgi": {"http-socket": "127.0.0.1:%d", "master": true, "workers": 1, '
                        '"wsgi-file": "app.py", "enable-threads": true, '
                        '"scheduler-cron": "* * * * * * jobs:tick"}}' % j.port)
    j.start("--json", "app.json")
    pids_with_ticks(j, 1)
    j.stop()

    e = uwsgi()
    setup_app(e)
    os.environ["UWSGI_SCHEDULER_INTERVAL"] = "300ms jobs:tick"
    try:
        e.start("--http-socket", "127.0.0.1:%d" % e.port, "--master", "--workers", "1",
                "--wsgi-file", "app.py", "--enable-threads")
    finally:
        del os.environ["UWSGI_SCHEDULER_INTERVAL"]
    pids_with_ticks(e, 1)
    e.stop()
    for u in (y, j, e):
        assert_nothing_fatal(u.log())


def test_cheaper_spawned_and_cheaped_workers(uwsgi):
    # cheaper: workers come and go with the load; each one that comes runs
    # its scheduler, each one that goes stops it cleanly
    import threading
    u = uwsgi()
    setup_app(u)
    u.write("app.py", APP.replace("time.sleep(30)", "time.sleep(3)"))
    u.start(ini=ini(u, "cheaper = 1", "cheaper-initial = 1", "cheaper-overload = 1",
                    "scheduler-interval = 300ms jobs:tick", workers=3))
    pids_with_ticks(u, 1)
    assert u.count(r"scheduler thread started") == 1

    def hang():
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/hang" % u.port, timeout=15).read()
        except Exception:
            pass
    load = [threading.Thread(target=hang) for _ in range(3)]
    for t in load:
        t.start()
    u.wait_log(r"scheduler thread started", count=2, timeout=20)
    for t in load:
        t.join()
    pids_with_ticks(u, 2)
    u.wait_log(r"uWSGI worker \d+ cheaped", timeout=30)
    assert u.count(r"worker \d+: scheduler stopped") >= 1
    assert_nothing_fatal(u.log())
    u.stop()
