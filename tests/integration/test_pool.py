"""The executor pool grows on demand: a worker starts with one executor,
and when fires wait behind a slow or hung run another is called (started
if none waits), up to scheduler-threads (8), so a slow or hung job never
holds up the others; an executor beyond the first not called for
scheduler-threads-idle exits (its Python thread states with it), and the
pool grows again later."""
import time

from conftest import app_ini as ini, thread_names, wait_for
from test_once import stop_clean

JOBS = '''
import threading, time
from events import record

def slow(name, seconds):
    record(name, phase="start")
    time.sleep(seconds)
    record(name, phase="end")

def hang():
    record("hang", phase="start")
    threading.Event().wait()

def tick(ctx):
    record("tick", scheduled=ctx["scheduled_ts"])
'''

APP = '''
import uwsgi
from events import record

def ping(*args):
    record("rpc")
    return b"pong"

uwsgi.register_rpc("ping", ping)

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def setup_app(u):
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)


def executors(pid):
    return thread_names(pid).count("sched-exec")


def test_a_hung_job_does_not_hold_up_the_others(uwsgi):
    u = uwsgi()
    setup_app(u)
    # no scheduler-threads: the default pool
    u.start(ini=ini(u, "scheduler-cron = @start jobs:hang", "scheduler-interval = 200ms jobs:tick context=ctx",
                    "scheduler-interval = 300ms jobs:slow args=[\"s\", 0.5]", "scheduler-shutdown-timeout = 1s",
                    workers=2))
    u.wait_events("hang", 1, per_worker=True)
    n = len(u.events("tick"))
    u.wait_events("tick", n + 20, per_worker=True)
    u.wait_events("s", 4, per_worker=True, phase="end")
    # ticks start on time next to the hung job and the slow one
    lags = [r["t"] - r["scheduled"] for r in u.events("tick")[n:]]
    assert max(lags) < 1.0, sorted(lags)[-5:]
    for pid in u.workers.values():
        assert 2 <= executors(pid) <= 8, thread_names(pid)
    assert u.count(r"job jobs:tick: skipped") == 0
    u.stop()


def test_the_pool_is_bounded_by_scheduler_threads(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 2", "scheduler-shutdown-timeout = 1s",
                    *['scheduler-interval = 200ms jobs:slow args=["s%d", 1] id=s%d' % (i, i) for i in range(4)],
                    workers=1))
    for i in range(4):
        u.wait_events("s%d" % i, 2, phase="end", timeout=40)
    assert executors(u.workers[1]) == 2
    # four jobs, two executors: fires find them busy and wait (or are late), none runs twice at once
    assert "up to 2 executor threads" in u.log()
    u.stop()


def test_idle_executors_exit_and_the_pool_grows_again(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.write("go", "")
    # bursts of three 1 s jobs (Python and rpc: into Python), every 6 s
    u.start(ini=ini(u, "scheduler-threads-idle = 1s",
                    *['scheduler-cron = */6 * * * * * jobs:slow args=["b%d", 1] id=b%d' % (i, i) for i in range(3)],
                    "scheduler-cron = */6 * * * * * rpc:ping id=ping",
                    workers=1))
    pid = u.workers[1]
    u.wait_events("b0", 1, phase="start", timeout=20)
    wait_for(lambda: executors(pid) >= 3, 10, what=lambda: "3 executors: %s" % thread_names(pid))
    u.wait_events("b0", 1, phase="end")
    # idle for a second: back to one
    wait_for(lambda: executors(pid) == 1, 10, what=lambda: "1 executor: %s" % thread_names(pid))
    # the next burst grows it again, on the slots the others left
    n = len(u.events("b2", phase="end"))
    u.wait_events("b2", n + 2, phase="end", timeout=30)
    assert len(u.events("rpc")) >= 2
    for i in range(3):
        starts = [r["t"] for r in u.events("b%d" % i, phase="start")]
        assert len(starts) >= 2
    stop_clean(u)
