"""Stalls the scheduler keeps running through, in real uwsgi masters with
2 workers: each is logged once, clearly, and counted.

- A Python job that hangs past its timeout= (threads = 2): the overrun is
  logged once per hung run and counted (`overruns`), its later fires are
  skipped (max-running=1), the other job goes on on the second executor,
  requests are answered, and a stop is bounded and says what it left.
- A Python job that holds the GIL (a ctypes.PyDLL call keeps it): the
  timing thread, which needs no GIL, logs the overrun during the hog; an
  exec: job, which needs none either, keeps firing; a request sent during
  the hog is answered after it; Python jobs resume afterwards.
- A worker stopped (SIGSTOP) for 3 s, then continued: the other worker's
  jobs go on and take every instant of a scope=once job (never one
  twice); the stopped worker's per-worker job resumes with one start
  that coalesces what came due meanwhile (coalesce=latest, logged once),
  no burst of catch-up runs; the master leaves the worker alone.

The windows are generous (2 noisy cores): counts, order and presence are
asserted, never tight timings."""
import datetime
import json
import os
import re
import signal
import threading
import time
import urllib.parse

from conftest import app_ini as ini, assert_nothing_fatal, free_port, get, wait_for
from test_metrics import stats
from test_once import JOBS, RUN_RE, account, assert_exactly_once, instant, starts, stop_clean, summary

STALLS = JOBS + '''
import ctypes, os, threading

def hang(name):
    record(name, phase="start")
    threading.Event().wait()  # never set: hangs for good, without the GIL
    record(name, phase="end")

HOGGED = []

def hog(name, seconds):
    """Once per worker, when the file go exists: holds the GIL for seconds
    (a PyDLL call does not release it); otherwise returns at once."""
    if HOGGED or not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "go")):
        return
    HOGGED.append(1)
    record(name, phase="start")
    try:
        ctypes.PyDLL(None).sleep(seconds)
    finally:
        # the TimeoutError of timeout= lands once the C call is over, at any
        # bytecode after it: in the middle of this record too
        for _ in range(3):
            try:
                record(name, phase="end")
                break
            except TimeoutError:
                pass
'''

# "/call/<function>/<arg>...": uwsgi.call in this worker (its JSON answer);
# anything else: "<pid> <time the app ran>"
APP = '''
import json, os, time, urllib.parse
import uwsgi

def application(environ, start_response):
    path = environ["PATH_INFO"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    if path.startswith("/call/"):
        parts = [urllib.parse.unquote(p) for p in path.split("/")[2:]]
        return [uwsgi.call(*[p.encode() for p in parts])]
    return [("%d %.6f" % (os.getpid(), time.time())).encode()]
'''

# an exec: job's command: when it ran, in a file of its worker's
STAMP = 'date +%s.%N >> "exec.$SCHEDULER_WORKER.txt"\n'


def setup_app(u):
    u.write("jobs.py", STALLS)
    u.write("app.py", APP)
    u.write("stamp.sh", STAMP)


def overrun_re(job, timeout, worker=r"(\d+)"):
    return r"^\[scheduler\] job %s: overrunning, still running after its timeout of %s \(worker %s\)$" % (
        re.escape(job), re.escape(timeout), worker)


def skip_re(job):
    return r"^\[scheduler\] job %s: skipped, 1 run still going \(max-running=1, worker (\d+)\)$" % re.escape(job)


def metric(port, mid, name):
    return stats(port)["metrics"]["scheduler.%s.%s" % (mid, name)]["value"]


def listed(u, job_id):
    """scheduler.list <job_id>, from whichever worker takes the request."""
    return json.loads(get(u, "/call/scheduler.list/" + urllib.parse.quote(job_id)))["jobs"][0]


def rfc_in(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.replace(microsecond=0).isoformat()


def worker_of(u, pid):
    return next(w for w, p in u.workers.items() if p == pid)


# ---- a job that hangs -----------------------------------------------------------

def test_a_hung_job_is_logged_once_skipped_and_left_at_the_stop(uwsgi):
    u = uwsgi()
    setup_app(u)
    sport = free_port()
    # the hung job fires until end=, so that its skip counter is final
    # once the window is over and the metrics thread has polled since
    end = rfc_in(9)
    u.start(ini=ini(u, "enable-metrics = true", "stats = 127.0.0.1:%d" % sport, "scheduler-threads = 2",
                    "scheduler-shutdown-timeout = 1s",
                    'scheduler-interval = 400ms jobs:hang args=["hang"] id=hang timeout=1s start=%s end=%s'
                    % (rfc_in(0), end),
                    'scheduler-interval = 300ms jobs:quick args=["tick"] id=tick', workers=2))
    pids = u.pids()
    # each worker's run hangs: one overrun line each, about 1 s into it
    u.wait_events("hang", 1, per_worker=True, phase="start")
    u.wait_log(overrun_re("hang", "1s"), count=2, timeout=20)
    assert sorted(re.findall(overrun_re("hang", "1s"), u.log(), re.M)) == ["1", "2"]
    # its later fires find it running: skipped, each logged and counted
    wait_for(lambda: set(re.findall(skip_re("hang"), u.log(), re.M)) == {"1", "2"}, 20,
             what=lambda: "skip lines of hang from both workers:\n%s" % u.log()[-3000:])
    # the other job goes on in both workers, on the second executor
    after = {p: len(u.events("tick", pid=p)) for p in pids}
    wait_for(lambda: all(len(u.events("tick", pid=p)) >= after[p] + 5 for p in pids), 20,
             what=lambda: "5 more tick runs in each worker:\n%s" % u.log()[-3000:])
    for _ in range(4):
        assert get(u).split()[0].decode() in {str(p) for p in pids}
    # the window is over and polled: the counters are final
    end_ts = datetime.datetime.fromisoformat(end).timestamp()
    wait_for(lambda: time.time() > end_ts + 2.5, 20)
    log = u.log()
    skips = len(re.findall(skip_re("hang"), log, re.M))
    m = {n: metric(sport, "hang", n) for n in ("overruns", "running", "skipped", "runs", "failures")}
    print("\nhang: %d skip lines, metrics %s" % (skips, m))
    assert m == {"overruns": 2, "running": 2, "skipped": skips, "runs": 0, "failures": 0}, (m, skips)
    assert skips >= 6, skips
    tick = {n: metric(sport, "tick", n) for n in ("overruns", "skipped", "runs")}
    assert tick["overruns"] == 0 and tick["skipped"] == 0 and tick["runs"] >= 10, tick
    counters = listed(u, "hang")["counters"]
    assert (counters["overruns"], counters["running"], counters["skipped"]) == (2, 2, skips), counters
    # still once per hung run, long after
    assert u.count(overrun_re("hang", "1s")) == 2
    assert not re.search(r"^\[scheduler\] job hang: (?:ok|failed)", log, re.M)
    assert not u.events("hang", phase="end")
    # a stop is bounded, and says what it left running (SIGINT is a brutal
    # stop: it waits for no run; scheduler-shutdown-timeout bounds the
    # graceful ones, see test_lifecycle)
    code, took = u.stop()
    log = u.log()
    print("stop: exit %s in %.1f s" % (code, took))
    assert took < 10, took
    left = re.findall(r"^\[scheduler\] worker (\d+): exiting with 1 job\(s\) still running$", log, re.M)
    assert sorted(left) == ["1", "2"], log[-3000:]
    assert_nothing_fatal(log)


# ---- a job that holds the GIL ---------------------------------------------------

def stamps(u, wid):
    """When the exec: job ran in worker wid (epoch seconds)."""
    try:
        with open(os.path.join(u.dir, "exec.%d.txt" % wid)) as f:
            return [float(line) for line in f.read().split("\n")[:-1]]
    except FileNotFoundError:
        return []


def test_a_job_holding_the_gil_is_logged_during_the_hog_and_exec_jobs_go_on(uwsgi):
    u = uwsgi()
    setup_app(u)
    # executors: the hog, a Python job waiting for the GIL, the exec: job
    u.start(ini=ini(u, "scheduler-threads = 3",
                    'scheduler-interval = 300ms jobs:hog args=["hog", 3] id=hog timeout=1s',
                    'scheduler-interval = 300ms jobs:quick args=["tick"] id=tick',
                    "scheduler-interval = 300ms exec:sh stamp.sh id=ex", workers=2))
    pids = u.pids()
    u.wait_events("tick", 2, per_worker=True)
    wait_for(lambda: all(len(stamps(u, w)) >= 2 for w in u.workers), 20,
             what=lambda: "2 runs of the exec: job in each worker:\n%s" % u.log()[-3000:])
    u.write("go", "")
    began = {r["pid"]: r["t"] for r in u.wait_events("hog", 1, per_worker=True, phase="start")}
    # a request while both workers hog: whichever takes it answers after
    answer = {}

    def request():
        answer["sent"] = time.time()
        answer["body"] = get(u, timeout=30).decode()
        answer["received"] = time.time()
    asker = threading.Thread(target=request, daemon=True)
    asker.start()
    # the timing thread logs each overrun while its worker holds the GIL
    seen = {}

    def overruns_seen():
        for w in re.findall(overrun_re("hog", "1s"), u.log(), re.M):
            seen.setdefault(int(w), time.time())
        return len(seen) == 2
    wait_for(overruns_seen, 20, interval=0.02, what=lambda: "the overrun lines of hog:\n%s" % u.log()[-3000:])
    ends = {r["pid"]: r["t"] for r in u.wait_events("hog", 1, per_worker=True, phase="end")}
    asker.join(40)
    assert not asker.is_alive()
    for p in pids:
        w = worker_of(u, p)
        ran = [t for t in stamps(u, w) if began[p] < t < ends[p]]
        print("\nworker %d: hog %.2f s, overrun seen %.2f s into it, %d exec: runs during it" % (
            w, ends[p] - began[p], seen[w] - began[p], len(ran)))
        assert ends[p] - began[p] >= 2.9
        assert began[p] + 0.9 < seen[w] < ends[p], (began[p], seen[w], ends[p])
        assert len(ran) >= 2, (ran, began[p], ends[p])
    # the request: sent during the hog of the worker that took it, answered after it
    pid, t_app = answer["body"].split()
    pid, t_app = int(pid), float(t_app)
    print("request: sent %.2f s into the hog, app ran %.2f s into it, answered %.2f s after it was sent" % (
        answer["sent"] - began[pid], t_app - began[pid], answer["received"] - answer["sent"]))
    assert began[pid] < answer["sent"] < ends[pid]
    assert t_app >= began[pid] + 2.9
    # Python jobs resume in both workers
    last = max(ends.values())
    wait_for(lambda: all(len([r for r in u.events("tick", pid=p) if r["t"] > last]) >= 3 for p in pids), 20,
             what=lambda: "tick runs after the hog:\n%s" % u.log()[-3000:])
    log = u.log()
    # once per hogging run, and before the hog's end. The hog's TimeoutError,
    # asked for at its timeout, needs the GIL: it lands once the C call is
    # over and the hog drops the GIL, if the run is still going then (it
    # fails), else it is dropped (the run is ok)
    assert sorted(re.findall(overrun_re("hog", "1s"), log, re.M)) == ["1", "2"]
    ended = list(re.finditer(r"^\[scheduler\] job hog: (?:ok|failed) \(worker (\d+), scheduled \S+, ([\d.]+) ms"
                             r"[;)]", log, re.M))
    long_runs = [m for m in ended if float(m.group(2)) >= 2900]
    assert sorted(m.group(1) for m in long_runs) == ["1", "2"], [m.group(0) for m in ended]
    for m in long_runs:
        overrun = re.search(overrun_re("hog", "1s", m.group(1)), log, re.M)
        assert overrun.start() < m.start()
    assert u.count(r"^\[scheduler\] job hog: \| TimeoutError$") <= u.count(
        r"^\[scheduler\] job hog: TimeoutError raised in the run \(worker [12]\)$") <= 2
    counters = listed(u, "hog")["counters"]
    assert counters["overruns"] == 2, counters
    assert listed(u, "ex")["counters"]["overruns"] == 0
    stop_clean(u)


# ---- a stopped worker -----------------------------------------------------------

def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def stop_between_runs(u, wid, jobs):
    """SIGSTOPs worker wid just after one of its runs of jobs[0] ended and
    while it runs none of jobs (its log has an end for every start: else
    it is continued and tried again); returns when it was stopped."""
    pid = u.workers[wid]
    for _ in range(10):
        mark = u.mark()
        u.wait_log(r"^\[scheduler\] job %s: ok \(worker %d," % (jobs[0], wid), since=mark)
        os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: state(pid) == "T", 5, what="worker %d to stop" % wid)
        t = time.time()
        log = u.log()
        if all(len(re.findall(r"^\[scheduler\] job %s: start \(worker %d," % (j, wid), log, re.M)) ==
               len(re.findall(r"^\[scheduler\] job %s: ok \(worker %d," % (j, wid), log, re.M)) for j in jobs):
            return t
        os.kill(pid, signal.SIGCONT)
    raise AssertionError("worker %d was always in a run:\n%s" % (wid, u.log()[-3000:]))


def test_a_stopped_worker_resumes_without_a_burst_and_once_jobs_stay_once(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-interval = 300ms jobs:quick args=["pw"] id=pw',
                    'scheduler-interval = 500ms jobs:quick args=["once"] id=once scope=once', workers=2))
    u.wait_events("pw", 3, per_worker=True)
    u.wait_events("once", 3)
    spawned = u.spawns()
    victim, other = u.workers[1], u.workers[2]
    t_stop = stop_between_runs(u, 1, ["pw", "once"])
    try:
        # the other worker goes on, takes every instant of the once-job, answers
        wait_for(lambda: len([r for r in u.events("pw", pid=other) if r["t"] > t_stop]) >= 5, 20,
                 what=lambda: "pw runs of worker 2 while worker 1 is stopped:\n%s" % u.log()[-3000:])
        wait_for(lambda: len([r for r in u.events("once") if r["t"] > t_stop]) >= 3, 20,
                 what=lambda: "once runs while worker 1 is stopped:\n%s" % u.log()[-3000:])
        assert int(get(u).split()[0]) == other
        wait_for(lambda: time.time() > t_stop + 3, 10)
        assert state(victim) == "T"
        assert not [r for r in u.events() if r["pid"] == victim and r["t"] > t_stop]
    finally:
        mark = u.mark()
        t_cont = time.time()
        os.kill(victim, signal.SIGCONT)
    # it resumes: its per-worker job first with one start for what came due
    wait_for(lambda: len([r for r in u.events("pw", pid=victim) if r["t"] > t_cont]) >= 4, 20,
             what=lambda: "pw runs of worker 1 after SIGCONT:\n%s" % u.log()[-3000:])
    wait_for(lambda: len([r for r in u.events("once") if r["t"] > t_cont]) >= 4, 20,
             what=lambda: "once runs after SIGCONT:\n%s" % u.log()[-3000:])
    after = [m for m in RUN_RE.finditer(u.log(mark)) if m.group(1) == "pw" and m.group(2) == "1"]
    missed = [int(m.group(5) or 0) for m in after]
    print("\nworker 1 after SIGCONT: pw starts %s" % [m.group(0)[len("[scheduler] job pw: "):] for m in after[:3]])
    assert missed[0] >= 3 and not any(missed[1:]), missed  # about 3 s / 300 ms - 1
    logged = [m.group(0) for m in re.finditer(r"^\[scheduler\] job pw: .*worker 1\b.*late fires? coalesced.*$",
                                              u.log(mark), re.M)]
    assert len(logged) == 1, logged
    # no burst: the instants it runs after that one are one period apart, or more
    instants = [instant(m.group(3)) for m in after]
    gaps = [b - a for a, b in zip(instants, instants[1:])]
    assert all(g >= 300000 - 1000 for g in gaps), gaps
    assert instants[0] > t_stop * 1e6 + 2000000, (instants[0], t_stop)  # the latest of those due
    # the once-job: exactly once across the instance; the other worker took
    # the instants while worker 1 was stopped
    once = starts(u, "once")
    acc = account(once, [], 500000)
    print(summary("once", acc))
    assert_exactly_once("once", acc)
    during = [s for s in once if t_stop * 1e6 < s.instant < t_cont * 1e6 - 500000]
    assert len(during) >= 4 and {s.worker for s in during} == {2}, during
    # nothing else to say: no misfire, no skip, no respawn, nothing fatal
    log = u.log()
    assert not re.search(r"^\[scheduler\] job \S+: (?:misfire|skipped)", log, re.M), log[-3000:]
    assert u.spawns() == spawned and state(victim) not in ("T", "Z")
    assert int(get(u).split()[0]) in (victim, other)
    stop_clean(u)
