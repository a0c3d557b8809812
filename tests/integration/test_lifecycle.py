"""The plugin's lifecycle in real uwsgi masters: one scheduler thread per
worker (eager, lazy-apps, respawned, without master), the threads refusal,
and the stop of the scheduler on every way a worker ends."""
import os
import re
import signal
import time
import urllib.request

from conftest import app_ini as ini, assert_nothing_fatal, get, thread_names, wait_for

JOBS = '''
import time
from events import record

def tick():
    record("tick")

def slow(seconds=3):
    record("slow", phase="start")
    time.sleep(seconds)
    record("slow", phase="end")
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




def tick_pids(u):
    return {r["pid"] for r in u.events("tick")}


def test_one_scheduler_thread_per_worker(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 300ms jobs:tick"))
    u.wait_events("tick", 3, per_worker=True)
    pids = set(u.pids())
    assert len(pids) == 3
    assert tick_pids(u) == pids
    # each worker runs its jobs on exactly one executor thread, and started
    # exactly one scheduler
    for pid in pids:
        tids = {r["tid"] for r in u.events("tick", pid=pid)}
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
    u.wait_events("tick", 1, per_worker=True)
    assert tick_pids(u) == set(u.pids())
    u.stop()
    assert_nothing_fatal(u.log())

    # without a master the process itself is the (only) worker
    v = uwsgi()
    setup_app(v)
    v.start("--http-socket", "127.0.0.1:%d" % v.port, "--wsgi-file", "app.py", "--enable-threads",
            "--scheduler-interval", "300ms jobs:tick")
    assert v.workers == {1: v.proc.pid}
    v.wait_events("tick", 3)
    assert tick_pids(v) == {v.proc.pid}
    code, took = v.stop()
    assert_nothing_fatal(v.log())
    assert took < 10


def test_killed_worker_is_respawned_with_its_scheduler(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 300ms jobs:tick", workers=2))
    u.wait_events("tick", 1, per_worker=True)
    victim = u.workers[1]
    mark = u.mark()
    os.kill(victim, signal.SIGKILL)
    new_pid = u.wait_workers([1], since=mark)[1]
    assert new_pid != victim
    u.wait_events("tick", 1, pid=new_pid)
    assert u.count(r"scheduler thread started") == 3
    assert thread_names(new_pid).count("sched-timer") == 1
    u.stop()


def test_harakiri_worker_comes_back_with_its_scheduler(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "harakiri = 2", "scheduler-interval = 300ms jobs:tick", workers=1))
    u.wait_events("tick", 1, per_worker=True)
    old = u.workers[1]
    mark = u.mark()
    try:
        get(u, "/hang")
    except Exception:
        pass
    u.wait_log(r"HARAKIRI", since=mark, timeout=20)
    new_pid = u.wait_workers([1], since=mark)[1]
    assert new_pid != old
    u.wait_events("tick", 1, pid=new_pid)
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
    u.wait_events("tick", 1, per_worker=True)
    u.stop()
    assert_nothing_fatal(u.log())


def test_no_jobs_no_threads_needed(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "1", "--wsgi-file", "app.py")
    assert get(u) == b"ok"
    u.stop()
    # the worker has come and gone: nothing of the scheduler in all of it
    assert "[scheduler]" not in u.log()


# A slow run in each worker from its start (@start): tests of the ways a
# worker stops send their signal while it runs. u.send() and u.settle()
# first wait for the workers to reach their request loop (see settle()).
def slow_ini(u, *extra, seconds=4, workers=2):
    return ini(u, "scheduler-cron = @start jobs:slow args=[%d]" % seconds, *extra, workers=workers)


def wait_started(u):
    """Waits for the slow run of each worker that is up; returns their pids."""
    u.wait_events("slow", 1, per_worker=True, phase="start")
    return set(u.pids())


def ends_by_pid(u):
    return {r["pid"] for r in u.events("slow", phase="end")}


def test_sighup_reload_lets_running_jobs_finish(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=slow_ini(u))
    started = wait_started(u)
    mark = u.mark()
    u.send(signal.SIGHUP)
    # the master re-execs once every old worker is gone, and spawns anew
    new = u.wait_workers(since=mark, timeout=40)
    assert not started & set(new.values())
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
    started = wait_started(u)
    u.settle()
    mark = u.mark()
    os.utime(touch, (time.time() + 5, time.time() + 5))
    u.wait_log(r"chain reloading complete", since=mark, timeout=40)
    new = u.wait_workers(since=mark)
    assert not started & set(new.values())
    assert started <= ends_by_pid(u)
    # one worker at a time: worker 1 goes first, while its run is going (the
    # next one's may have ended by its turn)
    assert u.count(r"waiting up to 10\.0 s for 1 running job") >= 1
    assert_nothing_fatal(u.log())
    u.stop()


def test_graceful_shutdown_lets_running_jobs_finish(uwsgi):
    # uWSGI's graceful shutdown of the whole instance: 'q' on the master FIFO
    u = uwsgi()
    setup_app(u)
    fifo = os.path.join(u.dir, "master.fifo")
    u.start(ini=slow_ini(u, "master-fifo = %s" % fifo))
    started = wait_started(u)
    u.settle()
    t0 = time.monotonic()
    with open(fifo, "w") as f:
        f.write("q")
    u.proc.wait(timeout=20)
    assert time.monotonic() - t0 < 15
    assert started <= ends_by_pid(u)
    assert u.count(r"waiting up to 10\.0 s for 1 running job") == 2
    assert_nothing_fatal(u.log())


def test_max_requests_recycle_is_graceful(uwsgi):
    # max-requests recycles only after min-worker-lifetime: requests go on
    # until the worker goes, which happens while its 6 s run is going
    u = uwsgi()
    setup_app(u)
    u.start(ini=slow_ini(u, "max-requests = 2", "min-worker-lifetime = 1", seconds=6, workers=1))
    started = wait_started(u)
    mark = u.mark()

    def recycled():
        if u.spawns(since=mark):
            return True
        try:
            get(u)
        except Exception:
            pass
        return False
    wait_for(recycled, 30, interval=0.2, what=lambda: "the worker to be recycled:\n" + u.log()[-3000:])
    u.wait_workers([1], since=mark)
    assert started <= ends_by_pid(u)
    assert u.count(r"waiting up to 10\.0 s for 1 running job") == 1
    assert_nothing_fatal(u.log())
    u.stop()


def test_shutdown_timeout_bounds_the_wait(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=slow_ini(u, "scheduler-shutdown-timeout = 1s", seconds=20, workers=1))
    wait_started(u)
    mark = u.mark()
    t0 = time.monotonic()
    u.send(signal.SIGHUP)
    u.wait_log(r"shutdown timeout exceeded, 1 job\(s\) still running", since=mark, timeout=15)
    u.wait_workers(since=mark, timeout=15)
    assert time.monotonic() - t0 < 10
    assert not u.events("slow", phase="end")
    assert_nothing_fatal(u.log())
    u.stop()


def test_brutal_stops_are_prompt_and_clean(uwsgi):
    # uWSGI 2.0.21 stops workers with SIGINT on all of these: SIGINT and
    # SIGQUIT, and SIGTERM with die-on-term (core/master.c: kill_them_all)
    for sig, extra in ((signal.SIGINT, ()), (signal.SIGQUIT, ()), (signal.SIGTERM, ("die-on-term = true",))):
        u = uwsgi()
        setup_app(u)
        u.start(ini=slow_ini(u, *extra, seconds=20))
        wait_started(u)
        code, took = u.stop(sig)
        assert took < 8, "stop with %s took %.1fs" % (sig, took)
        assert_nothing_fatal(u.log())
        assert not u.events("slow", phase="end")
        assert u.count(r"exiting with 1 job\(s\) still running") == 2, u.log()[-3000:]


def test_sigterm_without_die_on_term_reloads_brutally(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=slow_ini(u, "scheduler-interval = 300ms jobs:tick", seconds=20))
    started = wait_started(u)
    mark = u.mark()
    t0 = time.monotonic()
    u.send(signal.SIGTERM)  # uWSGI re-execs the master: a brutal reload
    new = u.wait_workers(since=mark, timeout=30)
    assert time.monotonic() - t0 < 15
    assert not started & set(new.values())
    assert u.count(r"exiting with 1 job\(s\) still running", since=mark) == 2
    u.wait_events("tick", 1, per_worker=True)  # the new workers' schedulers run
    assert_nothing_fatal(u.log())
    u.stop()


def test_scheduler_threads_and_worker_scopes(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 3",
                    "scheduler-interval = 300ms jobs:tick scope=workers workers=2-3",
                    "scheduler-interval = 300ms jobs:slow args=[0] scope=once id=once",
                    workers=3))
    w = u.workers
    for pid in (w[2], w[3]):
        u.wait_events("tick", 3, pid=pid)
    u.wait_events("slow", 3, phase="end")
    # 3 ticks in each of workers 2 and 3, 3 runs of once: in all that time
    # worker 1 never ticked, and each occurrence of once ran in one worker
    assert tick_pids(u) == {w[2], w[3]}
    assert {r["pid"] for r in u.events("slow")} <= set(w.values())
    assert u.count(r"job once: scope=once: each occurrence runs in one worker \(shared claims\)") == 1
    scheduled = re.findall(r"job once: start \(worker \d+, scheduled (\S+),", u.log())
    assert len(scheduled) >= 3 and len(scheduled) == len(set(scheduled)), scheduled
    for pid in (w[2], w[3]):
        names = thread_names(pid)
        # executors start as fires need them, up to scheduler-threads
        assert 1 <= names.count("sched-exec") <= 3 and names.count("sched-timer") == 1, names
    u.stop()
    assert_nothing_fatal(u.log())


def test_workers_scope_naming_no_worker_is_refused(uwsgi):
    u = uwsgi()
    setup_app(u)
    r = u.run("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2", "--enable-threads",
              "--wsgi-file", "app.py", "--scheduler-interval", "1s jobs:tick scope=workers workers=5")
    assert r.returncode != 0
    assert ('[scheduler] scheduler-interval "1s jobs:tick scope=workers workers=5": '
            'workers= names worker 5, but this instance has 2 workers') in r.stdout + r.stderr
    assert "spawned uWSGI worker" not in r.stdout + r.stderr


def test_options_from_env_yaml_and_json(uwsgi):
    # scheduler-* are ordinary uWSGI options: every config source works
    y = uwsgi()
    setup_app(y)
    y.write("app.yaml", "uwsgi:\n  http-socket: 127.0.0.1:%d\n  master: true\n  workers: 1\n"
                        "  wsgi-file: app.py\n  enable-threads: true\n"
                        "  scheduler-interval: 300ms jobs:tick\n" % y.port)
    y.start("--yaml", "app.yaml")
    y.wait_events("tick", 1, per_worker=True)
    y.stop()

    j = uwsgi()
    setup_app(j)
    j.write("app.json", '{"uwsgi": {"http-socket": "127.0.0.1:%d", "master": true, "workers": 1, '
                        '"wsgi-file": "app.py", "enable-threads": true, '
                        '"scheduler-cron": "* * * * * * jobs:tick"}}' % j.port)
    j.start("--json", "app.json")
    j.wait_events("tick", 1, per_worker=True)
    j.stop()

    e = uwsgi()
    setup_app(e)
    e.start("--http-socket", "127.0.0.1:%d" % e.port, "--master", "--workers", "1",
            "--wsgi-file", "app.py", "--enable-threads", env={"UWSGI_SCHEDULER_INTERVAL": "300ms jobs:tick"})
    e.wait_events("tick", 1, per_worker=True)
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
    assert list(u.workers) == [1]  # cheaper-initial
    u.wait_events("tick", 1, per_worker=True)
    assert u.count(r"scheduler thread started") == 1

    def hang():
        try:
            get(u, "/hang", timeout=15)
        except Exception:
            pass
    load = [threading.Thread(target=hang) for _ in range(3)]
    for t in load:
        t.start()
    # the load brings at least one more worker, whose scheduler starts
    u.wait_log(r"scheduler thread started", count=2, timeout=20)
    extra = [(w, p) for w, p in u.scheduler_started() if w != 1]
    assert extra, u.log()[-3000:]
    for t in load:
        t.join()
    w, pid = extra[0]
    u.wait_events("tick", 1, pid=pid)
    # once idle again, cheaper takes a worker away: its scheduler stops first
    u.wait_log(r"uWSGI worker \d+ cheaped", timeout=30)
    cheaped = {int(c) for c in re.findall(r"uWSGI worker (\d+) cheaped", u.log())}
    for c in cheaped:
        assert u.count(r"^\[scheduler\] worker %d: scheduler stopped$" % c) >= 1, u.log()[-3000:]
    assert_nothing_fatal(u.log())
    u.stop()
