"""Running fires on their targets in real uwsgi masters: Python callables
(arguments, dotted targets, coroutines, exceptions), the execution
policies (max-running, coalesce, misfire-grace, jitter, timeout), uWSGI
RPC and signals, commands, plugin load order, scheduler-log and the JSON
declaration. Assertions read the log and the files the jobs write."""
import datetime
import os
import re
import signal
import time

from conftest import app_ini, assert_nothing_fatal, get, wait_for

JOBS = r'''
import asyncio, sys, time
from events import record

def tick(*args, **kwargs):
    record("tick")

def typed(*args, **kwargs):
    record("typed", args=repr(args), kwargs=repr(sorted(kwargs.items())),
           types=[type(a).__name__ for a in args],
           ktypes={k: type(v).__name__ for k, v in kwargs.items()})

async def coro(tag):
    record("coro", phase="begin", tag=tag)
    await asyncio.sleep(0.2)
    record("coro", phase="end", tag=tag, running=asyncio.get_running_loop() is not None)

def _deep_failure(n):
    raise ValueError("kaboom %d" % n)

def boom():
    record("boom")
    _deep_failure(42)

def bye():
    record("bye")
    sys.exit(3)

def keeps(items, **kwargs):
    # the arguments are decoded once per worker: the same values every run,
    # in a new tuple and dict each time
    record("keeps", items_id=id(items), items=list(items), kw=sorted(kwargs))
    items.append(len(items))
    kwargs["added"] = True


def named(name):
    record("named", name=name)

def slow(seconds=2, tag="slow"):
    record("slow", phase="start", tag=tag)
    time.sleep(seconds)
    record("slow", phase="end", tag=tag)
'''

APP = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''

PKG_MOD = '''
from events import record

class Helper:
    class Inner:
        @staticmethod
        def run(x):
            record("inner", x=x)

    def __init__(self, name):
        self.name = name

    def method(self, x, y=None):
        record("method", name=self.name, x=x, y=y)

obj = Helper("the-obj")
'''


def setup_app(u, app=APP):
    u.write("jobs.py", JOBS)
    u.write("app.py", app)


def ini(u, *extra, workers=2):
    return app_ini(u, *extra, workers=workers)


RUN_RE = re.compile(r"^\[scheduler\] job (\S+): start \(worker (\d+), scheduled (\S+), lag (-?[\d.]+) ms"
                    r"(?:, (\d+) late fires? coalesced)?\)", re.M)


def runs(u, job_id):
    """The logged starts of job_id: (worker id, scheduled epoch, lag ms, coalesced)."""
    out = []
    for jid, w, sched, lag, missed in RUN_RE.findall(u.log()):
        if jid == job_id:
            ts = datetime.datetime.fromisoformat(sched).timestamp()
            out.append((int(w), ts, float(lag), int(missed or 0)))
    return out


SUMMARY = re.compile(r"^\[scheduler\] worker \d+: job \S+: \d+ runs, \d+ failed, \d+ skipped, \d+ misfired$", re.M)


def activity(u):
    """The log without the per-job summaries a worker writes when it stops
    (they name failures, skips and misfires even when there were none)."""
    return SUMMARY.sub("", u.log())


def stop_clean(u):
    code, took = u.stop()
    assert_nothing_fatal(u.log())
    assert took < 15
    return code


def pids_in_proc(argv):
    """Pids of live processes whose command line is exactly argv."""
    want = "\0".join(argv) + "\0"
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name) as f:
                if f.read() == want:
                    with open("/proc/%s/stat" % name) as g:
                        if g.read().rsplit(")", 1)[1].split()[0] != "Z":
                            found.append(int(name))
        except OSError:
            pass
    return found


# ---- Python targets --------------------------------------------------------

def test_python_args_and_kwargs_arrive_with_their_types(uwsgi):
    u = uwsgi()
    setup_app(u)
    args = '[1, 2.5, true, false, null, [1, [2, "x"]], {"k": {"n": [false, null]}}, "a b  c", 9007199254740993, -7, ""]'
    kwargs = '{"name": "with spaces inside", "n": -3, "f": 0.001, "flag": true, "none": null, "nested": {"a": [1, 2.0]}}'
    u.start(ini=ini(u, "scheduler-interval = 400ms jobs:typed args=%s kwargs=%s id=typed" % (args, kwargs)))
    rows = u.wait_events("typed", 1, per_worker=True)
    u.wait_log(r"^\[scheduler\] job typed: ok \(worker \d+", count=2)
    stop_clean(u)
    for row in rows:
        assert row["args"] == ("(1, 2.5, True, False, None, [1, [2, 'x']], {'k': {'n': [False, None]}}, "
                               "'a b  c', 9007199254740993, -7, '')"), row
        assert row["types"] == ["int", "float", "bool", "bool", "NoneType", "list", "dict", "str", "int", "int", "str"]
        assert row["kwargs"] == ("[('f', 0.001), ('flag', True), ('n', -3), ('name', 'with spaces inside'), "
                                 "('nested', {'a': [1, 2.0]}), ('none', None)]"), row
        assert row["ktypes"] == {"name": "str", "n": "int", "f": "float", "flag": "bool", "none": "NoneType",
                                 "nested": "dict"}


def test_arguments_are_decoded_once_per_job(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 300ms jobs:keeps args=[[]] kwargs={\"k\": 1} id=one",
                    "scheduler-interval = 300ms jobs:keeps args=[[]] kwargs={\"k\": 1} id=two", workers=1))
    u.wait_events("keeps", 6)
    stop_clean(u)
    rows = u.events("keeps")
    by_list = {}
    for row in rows:
        by_list.setdefault(row["items_id"], []).append(row)
    # two jobs with the same JSON have their own values
    assert len(by_list) == 2, rows
    for runs_of_one in by_list.values():
        # one decoded list per job, kept from run to run (as APScheduler keeps a job's args)
        assert [r["items"] for r in runs_of_one] == [list(range(n)) for n in range(len(runs_of_one))]
        # the kwargs dict is each run's own: what a run adds to it is gone the next time
        assert all(r["kw"] == ["k"] for r in runs_of_one)


def test_dotted_attribute_and_python_prefix_targets(uwsgi):
    u = uwsgi()
    setup_app(u)
    os.makedirs(os.path.join(u.dir, "pkg"))
    u.write("pkg/__init__.py", "")
    u.write("pkg/mod.py", PKG_MOD)
    u.start(ini=ini(u, 'scheduler-interval = 400ms pkg.mod:obj.method args=[1] kwargs={"y": "why"}',
                    "scheduler-interval = 400ms pkg.mod:Helper.Inner.run args=[\"deep\"]",
                    "scheduler-interval = 400ms python:jobs:tick"))
    method = u.wait_events("method", 1, per_worker=True)
    inner = u.wait_events("inner", 1, per_worker=True)
    u.wait_events("tick", 1, per_worker=True)
    u.wait_log(r"^\[scheduler\] job pkg\.mod:obj\.method: ok ", count=2)
    u.wait_log(r"^\[scheduler\] job python:jobs:tick: ok ", count=2)
    stop_clean(u)
    assert {(r["name"], r["x"], r["y"]) for r in method} == {("the-obj", 1, "why")}
    assert {r["x"] for r in inner} == {"deep"}
    # the default id is the target as written, prefix included
    assert "failed" not in activity(u)


def test_coroutine_job_runs_to_completion(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-interval = 500ms jobs:coro args=["c1"] id=coro'))
    ends = u.wait_events("coro", 2, per_worker=True, phase="end")
    u.wait_log(r"^\[scheduler\] job coro: ok ", count=4)
    stop_clean(u)
    begins = u.events("coro", phase="begin")
    assert {r["tag"] for r in ends} == {"c1"}
    # every end follows a begin by about the await
    for pid in {r["pid"] for r in ends}:
        b = sorted(r["t"] for r in begins if r["pid"] == pid)
        e = sorted(r["t"] for r in ends if r["pid"] == pid)
        assert e[0] - b[0] >= 0.19
    assert "never awaited" not in u.log()
    assert "job coro: failed" not in u.log()


def test_exception_is_logged_with_traceback_and_worker_lives_on(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 400ms jobs:boom id=boom"))
    rows = u.wait_events("boom", 3, per_worker=True)
    u.wait_log(r"^\[scheduler\] job boom: \| ValueError: kaboom 42$", count=6)
    stop_clean(u)
    log = u.log()
    pids = u.worker_pids()
    assert len(pids) == 2, "a worker was respawned:\n" + log[-3000:]
    assert {r["pid"] for r in rows} == set(pids)
    assert "Respawned uWSGI worker" not in log
    assert re.search(r"^\[scheduler\] job boom: failed \(worker \d+, scheduled \S+, [\d.]+ ms; "
                     r"failure 1 of 1 runs here\):$", log, re.M)
    # failures are counted per worker, and summed up when the worker stops
    assert re.search(r"^\[scheduler\] job boom: failed \(worker \d+, scheduled \S+, [\d.]+ ms; "
                     r"failure 3 of 3 runs here\):$", log, re.M)
    assert len(re.findall(r"^\[scheduler\] worker \d+: job boom: (\d+) runs, \1 failed, 0 skipped, 0 misfired$",
                          log, re.M)) == 2
    prefix = "[scheduler] job boom: | "
    assert log.count(prefix + "Traceback (most recent call last):") >= 6
    assert log.count(prefix + "ValueError: kaboom 42") >= 6
    # the frames of the job's own code, each line prefixed
    frame_lines = [ln for ln in log.splitlines() if "jobs.py" in ln]
    assert frame_lines
    assert all(ln.startswith(prefix) for ln in frame_lines), frame_lines[:4]
    assert any(re.search(r'File ".*jobs\.py", line \d+, in _deep_failure$', ln) for ln in frame_lines)
    assert any(re.search(r'File ".*jobs\.py", line \d+, in boom$', ln) for ln in frame_lines)
    assert any(ln == prefix + '    raise ValueError("kaboom %d" % n)' for ln in log.splitlines())


def test_sys_exit_in_a_job_does_not_kill_the_worker(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 400ms jobs:bye id=bye"))
    rows = u.wait_events("bye", 3, per_worker=True)
    u.wait_log(r"^\[scheduler\] job bye: \| SystemExit: 3$", count=4)
    assert get(u) == b"ok"
    stop_clean(u)
    log = u.log()
    assert len(u.worker_pids()) == 2
    assert {r["pid"] for r in rows} == set(u.worker_pids())
    assert "[scheduler] job bye: | SystemExit: 3" in log
    assert "Respawned uWSGI worker" not in log
    assert "goodbye to uWSGI" not in log.split("SIGINT")[0]


# ---- max-running -----------------------------------------------------------

def concurrency(rows_start, rows_end, pid):
    """Largest number of runs of one worker in progress at once (from
    start/end records, paired in order)."""
    marks = [(r["t"], 1) for r in rows_start if r["pid"] == pid] + \
            [(r["t"], -1) for r in rows_end if r["pid"] == pid]
    level = peak = 0
    for _, d in sorted(marks, key=lambda m: (m[0], m[1])):
        level += d
        peak = max(peak, level)
    return peak


def test_max_running_one_skips_and_never_overlaps(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 300ms jobs:slow args=[2] id=slow"))
    u.wait_events("slow", 2, per_worker=True, timeout=40, phase="end")
    stop_clean(u)
    starts, ends = u.events("slow", phase="start"), u.events("slow", phase="end")
    for pid in u.worker_pids():
        assert concurrency(starts, ends, pid) == 1
        s = sorted(r["t"] for r in starts if r["pid"] == pid)
        e = sorted(r["t"] for r in ends if r["pid"] == pid)
        # each run starts after the previous one ended
        for i in range(1, len(s)):
            assert s[i] >= e[i - 1], (pid, s, e)
    assert u.count(r"^\[scheduler\] job slow: skipped, 1 run still going \(max-running=1, worker \d+\)$") >= 6


def test_max_running_two_allows_two_concurrent_runs(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 2",
                    "scheduler-interval = 300ms jobs:slow args=[2] id=slow max-running=2"))
    u.wait_events("slow", 3, per_worker=True, timeout=40, phase="end")
    stop_clean(u)
    starts, ends = u.events("slow", phase="start"), u.events("slow", phase="end")
    for pid in u.worker_pids():
        assert concurrency(starts, ends, pid) == 2, pid
        assert len({r["tid"] for r in starts if r["pid"] == pid}) == 2
    assert u.count(r"^\[scheduler\] job slow: skipped, 2 runs still going \(max-running=2, worker \d+\)$") >= 4
    assert "1 run still going" not in u.log()


# ---- coalesce / misfire-grace ---------------------------------------------

BLOCKER = "scheduler-cron = @start jobs:slow args=[3, \"blocker\"] id=blocker"


def blocker_window(u, pid):
    s = [r["t"] for r in u.events("slow", phase="start") if r["pid"] == pid and r["tag"] == "blocker"]
    e = [r["t"] for r in u.events("slow", phase="end") if r["pid"] == pid and r["tag"] == "blocker"]
    assert len(s) == 1 and len(e) == 1, (s, e)
    return s[0], e[0]


def tick_runs_by_worker(u, job_id):
    ids = u.workers
    by = {}
    for w, sched, lag, missed in runs(u, job_id):
        by.setdefault(ids[w], []).append((sched, lag, missed))
    return by


def test_busy_executor_queues_one_fire_and_skips_the_rest(uwsgi):
    # one executor, busy 3 s with the blocker: the tick's first fire waits
    # in the queue (max-running counts it), later fires are skipped
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 1", BLOCKER, "scheduler-interval = 500ms jobs:tick id=tick"))
    u.wait_events("slow", 1, per_worker=True, timeout=30, phase="end")
    u.wait_events("tick", 4, per_worker=True)
    stop_clean(u)
    by = tick_runs_by_worker(u, "tick")
    ticks = u.events("tick")
    for pid in u.worker_pids():
        b0, b1 = blocker_window(u, pid)
        assert not [r for r in ticks if r["pid"] == pid and b0 < r["t"] < b1]
        backlog = [(s, lag) for s, lag, _ in by[pid] if s < b1 - 0.05]
        assert len(backlog) == 1, by[pid]
        # the queued fire is the first one, run late, right after the blocker
        assert backlog[0][1] >= 1500
    assert u.count(r"^\[scheduler\] job tick: skipped, 1 run still going \(max-running=1, worker \d+\)$") >= 4
    assert "misfire" not in activity(u)


def test_misfire_grace_drops_a_fire_that_waited_for_the_executor(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 1", BLOCKER,
                    "scheduler-interval = 500ms jobs:tick id=tick misfire-grace=1s"))
    u.wait_events("slow", 1, per_worker=True, timeout=30, phase="end")
    u.wait_events("tick", 3, per_worker=True)
    stop_clean(u)
    by = tick_runs_by_worker(u, "tick")
    for pid in u.worker_pids():
        b0, b1 = blocker_window(u, pid)
        # nothing that waited more than the grace ran
        assert all(lag <= 1000 + 300 for _, lag, _ in by[pid]), by[pid]
        assert not [s for s, _, _ in by[pid] if s < b1 - 1.0], by[pid]
    ms = [float(m) for m in re.findall(r"^\[scheduler\] job tick: misfire, ([\d.]+) ms late is past "
                                       r"misfire-grace \(worker \d+\)$", u.log(), re.M)]
    assert len(ms) >= 2 and all(m > 1000 for m in ms), ms


def test_backlog_in_the_queue_runs_every_fire_with_max_running(uwsgi):
    # coalesce applies to fires the timing thread finds due together; the
    # fires queued behind a busy executor are separate runs (max-running 10)
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 1", BLOCKER,
                    "scheduler-interval = 500ms jobs:tick id=tick coalesce=all max-running=10"))
    u.wait_events("slow", 1, per_worker=True, timeout=30, phase="end")
    u.wait_events("tick", 6, per_worker=True)
    stop_clean(u)
    by = tick_runs_by_worker(u, "tick")
    for pid in u.worker_pids():
        b0, b1 = blocker_window(u, pid)
        backlog = [s for s, _, _ in by[pid] if s < b1 - 0.05]
        assert len(backlog) >= 4, by[pid]
        # in order, one interval apart
        gaps = [b - a for a, b in zip(backlog, backlog[1:])]
        assert all(0.45 < g < 0.55 for g in gaps), gaps
    assert "skipped" not in activity(u)


def stopped_worker_runs(u, coalesce_keys, stop_for=3.0):
    """Freezes worker 1 (SIGSTOP: its timing thread too) for stop_for
    seconds, so that several fires fall due together when it resumes;
    returns worker 1's runs (scheduled, lag ms, coalesced) and the frozen
    window (t0, t1). The timing thread resumes after t1, a moment the test
    cannot know exactly: every fire scheduled before t1 was due then."""
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 500ms jobs:tick id=tick " + coalesce_keys))
    u.wait_events("tick", 2, per_worker=True)
    pid = u.workers[1]
    t0 = time.time()
    os.kill(pid, signal.SIGSTOP)
    time.sleep(stop_for)  # the frozen window itself, not a wait for an event
    t1 = time.time()
    os.kill(pid, signal.SIGCONT)
    wait_for(lambda: len([r for r in u.events("tick") if r["pid"] == pid and r["t"] > t1 + 1.2]) >= 1, 20,
             what="ticks after SIGCONT")
    stop_clean(u)
    return [(s, lag, m) for w, s, lag, m in runs(u, "tick") if w == 1], t0, t1


def coalesced_run(runs1, t0):
    """The one run of the frozen window that stands for several fires."""
    co = [r for r in runs1 if r[2] > 0 and r[0] > t0]
    assert len(co) == 1, runs1
    return co[0]


def test_coalesce_latest_runs_once_for_fires_due_together(uwsgi):
    runs1, t0, t1 = stopped_worker_runs(uwsgi(), "coalesce=latest")
    sched, lag, missed = coalesced_run(runs1, t0)
    assert missed >= 3
    assert sched > t1 - 0.6  # the latest of them
    # none of the other fires of the window ran on its own
    assert not [r for r in runs1 if t0 + 0.05 < r[0] < sched], runs1


def test_coalesce_earliest_runs_once_at_the_first_due_fire(uwsgi):
    runs1, t0, t1 = stopped_worker_runs(uwsgi(), "coalesce=earliest")
    sched, lag, missed = coalesced_run(runs1, t0)
    assert missed >= 3
    assert sched < t0 + 0.6 and lag >= 2000
    assert not [r for r in runs1 if sched < r[0] < t1], runs1


def test_coalesce_all_runs_every_due_fire(uwsgi):
    u = uwsgi()
    runs1, t0, t1 = stopped_worker_runs(u, "coalesce=all max-running=10")
    inside = [r for r in runs1 if t0 + 0.05 < r[0] < t1]
    assert len(inside) >= 4, inside
    assert all(m == 0 for _, _, m in inside)
    assert "coalesced" not in u.log()


def test_coalesce_all_with_misfire_grace_drops_the_late_ones(uwsgi):
    u = uwsgi()
    runs1, t0, t1 = stopped_worker_runs(u, "coalesce=all max-running=10 misfire-grace=1s")
    inside = [r for r in runs1 if t0 + 0.05 < r[0] < t1]
    misfires = [float(m) for m in re.findall(r"^\[scheduler\] job tick: misfire, ([\d.]+) ms late is past "
                                             r"misfire-grace \(worker 1\)$", u.log(), re.M)]
    assert len(misfires) >= 2 and all(m > 1000 for m in misfires), misfires
    # what ran of the frozen window was within the grace
    assert inside and all(s > t1 - 1.3 for s, _, _ in inside), (inside, t1)


# ---- jitter and timeout ----------------------------------------------------

def test_jitter_delays_fires_within_its_bound(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-interval = 1s jobs:tick id=tick jitter=1s"))
    u.wait_events("tick", 5, per_worker=True, timeout=40)
    stop_clean(u)
    lags = [lag for _, _, lag, _ in runs(u, "tick")]
    assert len(lags) >= 10
    assert all(-5 <= lag <= 1000 + 1500 for lag in lags), lags
    # spread out, not the few ms of an unjittered fire
    assert max(lags) - min(lags) > 200, lags
    assert sum(1 for lag in lags if lag > 100) >= 3, lags
    # the schedule itself does not drift: fires stay on whole seconds from the start
    for w in u.workers:
        sched = sorted(s for ww, s, _, _ in runs(u, "tick") if ww == w)
        gaps = [b - a for a, b in zip(sched, sched[1:])]
        assert all(abs(g - round(g)) < 0.01 and round(g) >= 1 for g in gaps), gaps


def test_timeout_logs_an_overrunning_python_job(uwsgi):
    """time.sleep runs no bytecode: the TimeoutError of timeout= lands when
    it returns, and the run fails then (test_failures: a Python loop is
    stopped at once)."""
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-cron = @start jobs:slow args=[3] id=slow timeout=1s'))
    u.wait_log(r"job slow: overrunning", count=2, timeout=15)
    u.wait_log(r"^\[scheduler\] job slow: \| TimeoutError$", count=2)
    stop_clean(u)
    log = u.log()
    assert u.count(r"^\[scheduler\] job slow: overrunning, still running after its timeout of 1s "
                   r"\(worker [12]\)$") == 2
    assert u.count(r"^\[scheduler\] job slow: TimeoutError raised in the run \(worker [12]\)$") == 2
    # logged about 1 s into the run, not at its end
    assert log.index("job slow: overrunning") < log.index("job slow: failed")
    fails = re.findall(r"^\[scheduler\] job slow: failed \(worker \d, scheduled \S+, ([\d.]+) ms;", log, re.M)
    assert len(fails) == 2 and all(float(ms) >= 2900 for ms in fails), fails
    assert not u.events("slow", phase="end")


# ---- rpc and signals -------------------------------------------------------

RPC_APP = '''
import uwsgi
from events import record

def hello(*args):
    record("hello", args=repr(args))
    return b"hi!"

uwsgi.register_rpc("hello", hello)

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def test_rpc_target_calls_the_registered_function_with_bytes(uwsgi):
    u = uwsgi()
    setup_app(u, RPC_APP)
    u.start(ini=ini(u, 'scheduler-interval = 400ms rpc:hello args=["a", 2] id=hello',
                    "scheduler-interval = 400ms rpc:nope id=nope"))
    rows = u.wait_events("hello", 3, per_worker=True)
    u.wait_log(r'^\[scheduler\] job nope: \| no RPC function "nope" is registered in this worker$', count=4)
    u.wait_log(r"^\[scheduler\] job hello: rpc hello returned 3 bytes$", count=6)
    assert get(u) == b"ok"
    stop_clean(u)
    log = u.log()
    assert {r["args"] for r in rows} == {"(b'a', b'2')"}
    assert {r["pid"] for r in rows} == set(u.worker_pids())
    assert u.count(r"^\[scheduler\] job hello: rpc hello returned 3 bytes$") >= 6
    assert u.count(r'^\[scheduler\] job nope: \| no RPC function "nope" is registered in this worker$') >= 4
    assert len(u.worker_pids()) == 2 and "Respawned" not in log


def signal_app(target):
    return '''
import uwsgi
from events import record

def handler(signum):
    record("signal", signum=signum)

uwsgi.register_signal(17, "%s", handler)

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
''' % target


def test_signal_target_reaches_every_worker(uwsgi):
    u = uwsgi()
    setup_app(u, signal_app("workers"))
    u.start(ini=ini(u, "scheduler-interval = 700ms signal:17 id=sig", "scheduler-interval = 700ms signal:18 id=unreg"))
    rows = u.wait_events("signal", 3, per_worker=True)
    u.wait_log(r"^\[scheduler\] job unreg: \| no handler is registered for this uWSGI signal$", count=2)
    u.wait_log(r"^\[scheduler\] job sig: ok ", count=4)
    stop_clean(u)
    assert {r["signum"] for r in rows} == {17}
    assert {r["pid"] for r in rows} == set(u.worker_pids())
    assert u.count(r"^\[scheduler\] job sig: ok ") >= 4
    assert u.count(r"^\[scheduler\] job unreg: \| no handler is registered for this uWSGI signal$") >= 2


DECORATED_APP = '''
from uwsgidecorators import signal
from events import record

@signal(19, target="workers")
def refresh(signum):
    record("decorated", signum=signum)

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def test_signal_target_runs_a_uwsgidecorators_handler(uwsgi):
    u = uwsgi()
    setup_app(u, DECORATED_APP)
    u.start(ini=ini(u, "scheduler-interval = 500ms signal:19 scope=once id=deco"))
    rows = u.wait_events("decorated", 2, per_worker=True)
    stop_clean(u)
    assert {r["signum"] for r in rows} == {19}
    assert {r["pid"] for r in rows} == set(u.worker_pids())
    assert u.count(r"^\[scheduler\] job deco: failed") == 0


def test_signal_target_to_one_worker_of_the_pool(uwsgi):
    # "worker": the master hands each raise to one worker of the pool
    u = uwsgi()
    setup_app(u, signal_app("worker"))
    u.start(ini=ini(u, "scheduler-interval = 500ms signal:17 id=sig"))
    u.wait_log(r"^\[scheduler\] job sig: ok ", count=6)
    raised = u.count(r"^\[scheduler\] job sig: ok ")
    # every raise logged so far gets handled...
    u.wait_events("signal", raised)
    stop_clean(u)
    rows = u.events("signal")
    assert {r["pid"] for r in rows} <= set(u.worker_pids())
    # ...once, not once per worker: at most the raises logged, plus one
    # raised but not logged yet when its worker stopped
    raised_in_all = u.count(r"^\[scheduler\] job sig: ok ")
    assert raised <= len(rows) <= raised_in_all + 1, (raised, len(rows), raised_in_all)


# ---- jobs due at one instant ----------------------------------------------

def starts_by_instant(u, ids):
    """{scheduled instant (ms): [job ids in the order their runs started]}
    of worker 1, from the run log (one executor: one run after the other)."""
    by = {}
    for jid, w, sched, lag, missed in RUN_RE.findall(u.log()):
        if jid in ids and w == "1":
            ts = round(datetime.datetime.fromisoformat(sched).timestamp(), 3)
            by.setdefault(ts, []).append(jid)
    return by


def ties(u, ids, n, size=2):
    """The instants at which at least size of the jobs ran, once there are n."""
    def enough():
        shared = {ts: order for ts, order in starts_by_instant(u, ids).items() if len(order) >= size}
        return shared if len(shared) >= n else None
    return wait_for(enough, 20 + 4 * n, what=lambda: "%d instants where %d of %s ran:\n%s" % (
        n, size, ids, u.log()[-3000:]))


def test_jobs_due_together_run_in_declaration_order(uwsgi):
    # one worker, one executor: a (every 1 s) is declared before b (every
    # 2 s); at every even second both are due, and a goes first
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 1", 'scheduler-interval = 1s jobs:named args=["a"] id=a',
                    'scheduler-interval = 2s jobs:named args=["b"] id=b', workers=1))
    shared = ties(u, ("a", "b"), 6)
    stop_clean(u)
    assert all(order == ["a", "b"] for order in shared.values()), sorted(shared.items())
    # the jobs' own records agree with the run log: one executor, in turn
    # (the last run may have started without getting to record)
    started = [jid for jid, w, _, _, _ in RUN_RE.findall(u.log()) if jid in ("a", "b")]
    names = [r["name"] for r in u.events("named")]
    assert names in (started, started[:-1]), (names, started)


def test_three_jobs_due_together_run_in_declaration_order(uwsgi):
    # declared c (3 s), a (1 s), b (2 s): not by interval, not by name, but
    # in the order of the ini, whichever of them fall due together (one
    # executor: with more they start together)
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 1", 'scheduler-interval = 3s jobs:named args=["c"] id=c',
                    'scheduler-interval = 1s jobs:named args=["a"] id=a',
                    'scheduler-interval = 2s jobs:named args=["b"] id=b', workers=1))
    ties(u, ("a", "b", "c"), 1, size=3)  # second 6: all three
    shared = ties(u, ("a", "b", "c"), 4)  # seconds 2, 3, 4, 6 (and on)
    stop_clean(u)
    rank = {"c": 0, "a": 1, "b": 2}
    for ts, order in sorted(shared.items()):
        assert order == sorted(order, key=rank.get), (ts, order, sorted(shared.items()))
    assert ["c", "a", "b"] in shared.values()
    assert ["a", "b"] in shared.values() and ["c", "a"] in shared.values()


# ---- exec ------------------------------------------------------------------

def test_exec_logs_the_output_tail(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-cron = @start exec:echo hello; echo oops >&2 id=echo",
                    "scheduler-cron = @start exec:exit 3 id=three"))
    u.wait_log(r"job echo: ok ", count=2)  # a command's output is logged before its outcome
    # a failure's reason is logged after its "failed" line
    u.wait_log(r"^\[scheduler\] job three: \| command exited with status 3$", count=2)
    stop_clean(u)
    assert u.count(r"^\[scheduler\] job echo: \| hello$") == 2
    assert u.count(r"^\[scheduler\] job echo: \| oops$") == 2
    assert u.count(r"^\[scheduler\] job three: \| command exited with status 3$") == 2


def test_exec_timeout_kills_the_command_group(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-cron = @start exec:sleep 31.25 timeout=1s id=sleeper"))
    t0 = time.monotonic()
    u.wait_log(r"job sleeper: \| command killed after its timeout of 1s", count=2, timeout=20)
    assert time.monotonic() - t0 < 8
    # no sh or sleep left anywhere (SIGKILLed: gone once the kernel has reaped them)
    wait_for(lambda: not pids_in_proc(["sleep", "31.25"]) and not pids_in_proc(["/bin/sh", "-c", "sleep 31.25"]),
             10, what="the killed command group to be gone")
    stop_clean(u)


def test_exec_does_not_inherit_the_workers_fds(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-cron = @start exec:ls -l /proc/self/fd > fds.$$.txt id=fds"))
    u.wait_log(r"job fds: ok ", count=2)
    stop_clean(u)
    files = [f for f in os.listdir(u.dir) if f.startswith("fds.")]
    assert len(files) == 2
    for name in files:
        with open(os.path.join(u.dir, name)) as f:
            text = f.read()
        fds = dict(re.findall(r" (\d+) -> (.*)$", text, re.M))
        assert sorted(fds) == ["0", "1", "2", "3"], text
        assert fds["0"] == "/dev/null"
        assert fds["1"].endswith(name)
        assert fds["2"].startswith("pipe:")  # stderr: the output the plugin collects
        assert re.match(r"/proc/\d+/fd$", fds["3"]), text  # ls's own directory
        assert "socket:" not in text


# ---- plugin load order, scheduler-log, JSON form ---------------------------

def test_python_job_with_either_plugin_order(uwsgi):
    for before, after in ((("python3",), ()), ((), ("python3",))):
        u = uwsgi()
        setup_app(u)
        u.start(ini=ini(u, "scheduler-interval = 300ms jobs:typed args=[1] id=typed"), plugins=before, after=after)
        rows = u.wait_events("typed", 2, per_worker=True)
        u.wait_log(r"^\[scheduler\] job typed: ok ", count=4)
        stop_clean(u)
        assert {r["args"] for r in rows} == {"(1,)"}
        assert "failed" not in activity(u)


LOG_JOBS = ("scheduler-interval = 300ms jobs:tick id=tick", "scheduler-interval = 300ms jobs:boom id=boom",
            "scheduler-cron = @start exec:echo from-exec id=echo")


def test_scheduler_log_errors_shows_only_failures(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-log = errors", *LOG_JOBS))
    u.wait_events("tick", 3, per_worker=True)
    u.wait_events("boom", 3, per_worker=True)
    u.wait_log(r"^\[scheduler\] job boom: \| ValueError: kaboom 42$", count=6)
    stop_clean(u)
    log = activity(u)
    assert "job tick:" not in log
    assert not re.search(r"job \S+: (start|ok) \(", log)
    # the summaries still come, as errors-level lines
    assert re.search(r"^\[scheduler\] worker \d+: job tick: \d+ runs, 0 failed", u.log(), re.M)
    assert u.count(r"^\[scheduler\] job boom: failed \(worker") >= 6
    assert u.count(r"^\[scheduler\] job boom: \| ValueError: kaboom 42$") >= 6
    assert u.count(r"^\[scheduler\] job echo: \| from-exec$") == 2
    assert u.count(r"scheduler thread started") == 2


def test_scheduler_log_none_shows_no_runs(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-log = none", *LOG_JOBS))
    u.wait_events("tick", 3, per_worker=True)
    u.wait_events("boom", 3, per_worker=True)
    stop_clean(u)
    log = u.log()
    assert not re.search(r"\[scheduler\] job ", log), [ln for ln in log.splitlines() if "job " in ln][:5]
    assert u.count(r"scheduler thread started") == 2


def test_scheduler_job_json_form_end_to_end(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-job = {"interval": "300ms", "target": "jobs:typed", "id": "json job", '
                       '"args": [1, "two words", null], "kwargs": {"k": [true, 2.5]}, "max-running": 1}',
                    'scheduler-job = {"cron": "@start", "target": "exec:echo json-exec", "id": "jx"}'))
    rows = u.wait_events("typed", 2, per_worker=True)
    u.wait_log(r"job jx: ok ", count=2)
    u.wait_log(r"^\[scheduler\] job json job: ok \(worker", count=4)
    stop_clean(u)
    assert {r["args"] for r in rows} == {"(1, 'two words', None)"}
    assert {r["kwargs"] for r in rows} == {"[('k', [True, 2.5])]"}
    assert u.count(r"^\[scheduler\] job json job: ok \(worker") >= 4
    assert u.count(r"^\[scheduler\] job jx: \| json-exec$") == 2
