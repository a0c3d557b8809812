"""scope=once in real uwsgi masters: each occurrence (scheduled instant) of
a once-job runs in exactly one worker of the instance, whichever is alive
and has a free executor when it is due; never in two; not lost to kill -9,
chain reloads or cheaper. An interval once-job is anchored by the master
before fork, so every worker computes the same occurrences. max-running
counts the runs of the whole instance.

A job cannot see its scheduled instant (no context= in this release): the
occurrences come from the run log's start lines, `[scheduler] job ID:
start (worker N, scheduled T, lag X ms)`; the jobs' events say which pid
ran, and when a run started and ended. Instants are compared on the job's
grid (whole periods from its first start, within 1 ms: each worker turns
its monotonic schedule into wall time itself)."""
import collections
import datetime
import os
import random
import re
import signal
import threading
import time

from conftest import app_ini as ini, assert_nothing_fatal, get, wait_for

JOBS = '''
import time
from events import record

def quick(name):
    record(name)

def held(name, seconds):
    record(name, phase="start")
    time.sleep(seconds)
    record(name, phase="end")
'''

APP = '''
import time
def application(environ, start_response):
    if environ.get("PATH_INFO") == "/hang":
        time.sleep(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def setup_app(u):
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)




SECOND = 1000000  # instants and periods in µs
GRID_TOLERANCE = 1000

RUN_RE = re.compile(r"^\[scheduler\] job (\S+): start \(worker (\d+), scheduled (\S+), lag (-?[\d.]+) ms"
                    r"(?:, (\d+) late fires? coalesced)?\)", re.M)
INTERRUPTED_RE = re.compile(r"^\[scheduler\] job (\S+): occurrence (\S+) interrupted: worker (\d+) \(pid (\d+)\) "
                            r"died while running it$", re.M)
SKIP_RE = re.compile(r"^\[scheduler\] job (\S+): skipped, 1 run still going \(max-running=1, worker (\d+)\)$", re.M)
STARTUP_LINE = "[scheduler] job %s: scope=once: each occurrence runs in one worker (shared claims)"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

Start = collections.namedtuple("Start", "worker instant lag coalesced pos")


def instant(text):
    """An RFC 3339 time of the log, in µs since the epoch (exactly)."""
    return (datetime.datetime.fromisoformat(text) - EPOCH) // datetime.timedelta(microseconds=1)


def rfc(us):
    return datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc).isoformat()


def starts(u, job_id, since=0):
    """The logged starts of job_id, in log order."""
    return [Start(int(w), instant(t), float(lag), int(missed or 0), since + m.start())
            for m in RUN_RE.finditer(u.log(since))
            for jid, w, t, lag, missed in [m.groups()] if jid == job_id]


def interruptions(u, job_id=None):
    """(job id, instant, worker id, pid) of every `occurrence T interrupted` line."""
    return [(j, instant(t), int(w), int(p)) for j, t, w, p in INTERRUPTED_RE.findall(u.log())
            if job_id is None or j == job_id]


def now_us():
    return int(time.time() * SECOND)


def wait_starts(u, job_id, n, after_us, timeout=20):
    """Waits for n starts of job_id scheduled after after_us (µs)."""
    return wait_for(lambda: len([s for s in starts(u, job_id) if s.instant > after_us]) >= n, timeout,
                    what=lambda: "%d starts of %s scheduled after %s:\n%s" % (n, job_id, rfc(after_us),
                                                                               u.log()[-3000:]))


def grid_index(t, origin, period):
    """Which occurrence t is (whole periods from origin), None off the grid."""
    k, r = divmod(t - origin, period)
    if r > period // 2:
        k, r = k + 1, r - period
    return k if abs(r) <= GRID_TOLERANCE else None


def account(runs, interrupted, period, until_us=None):
    """What became of each occurrence of a job, from its first logged
    start to its last one scheduled at or before until_us.

    runs: its Starts; interrupted: the instants of its `interrupted` lines.
    Every occurrence of that stretch must have started exactly once, or be
    one that a killed worker was running (interrupted: at most once, never
    again), or a late fire that a start coalesced (documented coalesce=
    latest; its start says how many). Returns the figures and the lists."""
    assert runs, "no start at all"
    origin = runs[0].instant
    last = max(s.instant for s in runs if until_us is None or s.instant <= until_us)
    by = collections.defaultdict(list)
    off_grid = []
    for s in runs:
        k = grid_index(s.instant, origin, period)
        if k is None:
            off_grid.append(s)
        else:
            by[k].append(s)
    end = grid_index(last, origin, period)
    if end is None:  # the last start is off the grid: count up to the occurrence before it
        end = (last - origin) // period
    interrupted_k = {grid_index(t, origin, period) for t in interrupted}
    coalesced_k = set()
    for k, ss in by.items():
        for s in ss:
            coalesced_k.update(range(k - s.coalesced, k))
    window = range(0, end + 1)
    duplicates = {rfc(origin + k * period): [s.worker for s in by[k]] for k in window if len(by[k]) > 1}
    lost = [rfc(origin + k * period) for k in window if not by[k] and k not in interrupted_k and k not in coalesced_k]
    return {
        "occurrences": len(window),
        "fires": sum(1 for k in window if by[k]),
        "duplicates": duplicates,
        "lost": lost,
        "interrupted": sorted(k for k in interrupted_k if k is not None and 0 <= k <= end),
        "coalesced": sorted(k for k in coalesced_k if 0 <= k <= end and not by[k]),
        "off_grid": [(rfc(s.instant), s.worker) for s in off_grid],
        "workers": collections.Counter(s.worker for k in window for s in by[k]),
        "origin": origin,
        "by": by,
    }


def summary(name, acc):
    return ("%s: %d occurrences, %d fires, %d duplicates, %d lost, %d interrupted, %d coalesced, %d off the grid, "
            "runs by worker %s" % (name, acc["occurrences"], acc["fires"], len(acc["duplicates"]), len(acc["lost"]),
                                   len(acc["interrupted"]), len(acc["coalesced"]), len(acc["off_grid"]),
                                   dict(sorted(acc["workers"].items()))))


def assert_exactly_once(name, acc):
    assert not acc["duplicates"], "%s: occurrences started more than once (by workers): %s" % (name, acc["duplicates"])
    assert not acc["off_grid"], "%s: starts off the job's grid: %s" % (name, acc["off_grid"])
    assert not acc["lost"], "%s: occurrences never started (and not interrupted): %s" % (name, acc["lost"])


def wid_of(u, pid):
    for w, p in u.workers.items():
        if p == pid:
            return w
    return None


def kill9(u, wid, kills):
    """kill -9 worker wid and wait for its respawn; kills gets (wid, pid, t)."""
    pid = u.workers[wid]
    mark = u.mark()
    kills.append((wid, pid, time.time()))
    os.kill(pid, signal.SIGKILL)
    u.wait_workers([wid], since=mark)
    return pid


def unfinished_run(u, job, pid):
    """The start event of pid's last run of job when it has no end."""
    rows = [r for r in u.events(job) if r["pid"] == pid]
    return rows[-1] if rows and rows[-1].get("phase") == "start" else None


def kill_runner(u, job, kills, timeout=15):
    """Waits for a run of job (held) that starts from now on and kill -9s
    its worker while it runs; returns the pid."""
    since = time.time()

    def running():
        for r in reversed(u.events(job, phase="start")):
            if r["t"] <= since:
                return None
            w = wid_of(u, r["pid"])
            if w is not None and unfinished_run(u, job, r["pid"]):
                return w
        return None
    w = wait_for(running, timeout, interval=0.02, what=lambda: "a run of %s to start:\n%s" % (job, u.log()[-3000:]))
    return kill9(u, w, kills)


def assert_nothing_fatal_but_kills(u, kills):
    """assert_nothing_fatal, but for uWSGI's line about each worker the test killed."""
    ours = {pid for _, pid, _ in kills}
    text = re.sub(r"^DAMN ! worker \d+ \(pid: (\d+)\) died, killed by signal 9\b.*$",
                  lambda m: "" if int(m.group(1)) in ours else m.group(0), u.log(), flags=re.M)
    assert_nothing_fatal(text)


def stop_clean(u, kills=()):
    code, took = u.stop()
    assert_nothing_fatal_but_kills(u, kills)
    assert took < 15
    return code


def wait_quietly(predicate, timeout):
    try:
        return wait_for(predicate, timeout)
    except AssertionError:
        return None


# ---- kill -9 and chain reload ------------------------------------------------

def test_once_soak_kills_and_chain_reload(uwsgi):
    # 4 workers, a cron once-job (each second, runs 0.5 s) and an interval
    # once-job (1 s); for ~28 s a worker is kill -9'd every 2-3 s, in turn a
    # random one (each worker in a shuffled cycle) and the one running the
    # cron job (mid-run: its occurrence must be logged as interrupted), with
    # one chain reload (master FIFO c) in the middle.
    u = uwsgi()
    setup_app(u)
    fifo = os.path.join(u.dir, "master.fifo")
    u.start(ini=ini(u, "master-fifo = %s" % fifo,
                    'scheduler-cron = * * * * * * jobs:held args=["c", 0.5] scope=once id=c',
                    'scheduler-interval = 1s jobs:quick args=["i"] scope=once id=i', workers=4))
    u.wait_events("c", 2, phase="end")
    seed = int(time.time())
    rng = random.Random(seed)
    kills, mid_run, cycle = [], [], []
    chain = None
    t_begin = time.monotonic()
    n = 0
    while time.monotonic() < t_begin + 28:
        if chain is None and time.monotonic() > t_begin + 12:
            u.settle()
            mark = u.mark()
            chain = time.time()
            with open(fifo, "w") as f:
                f.write("c")
            u.wait_log(r"chain reloading complete", since=mark, timeout=60)
            u.wait_workers(since=mark)
            continue
        next_kill = time.monotonic() + rng.uniform(2.0, 3.0)
        if n % 2:
            pid = kill_runner(u, "c", kills)
        else:
            if not cycle:
                cycle = sorted(u.workers)
                rng.shuffle(cycle)
            pid = kill9(u, cycle.pop(), kills)
        n += 1
        if unfinished_run(u, "c", pid):
            mid_run.append(pid)
        time.sleep(max(0.0, next_kill - time.monotonic()))
    t_tail = now_us()
    wait_starts(u, "c", 3, t_tail)
    wait_starts(u, "i", 3, t_tail)
    # the interrupted lines of the runs killed mid-run (bounded; checked below)
    wait_quietly(lambda: {p for _, _, _, p in interruptions(u, "c")} >= set(mid_run), 10)
    until = now_us() - int(1.5 * SECOND)  # every occurrence before this was due well before the stop
    stop_clean(u, kills)

    c = account(starts(u, "c"), [t for _, t, _, _ in interruptions(u, "c")], SECOND, until)
    i = account(starts(u, "i"), [t for _, t, _, _ in interruptions(u, "i")], SECOND, until)
    print("\nsoak (seed %d): %d kills (%d mid-run of c), chain reload at %s, workers spawned %d" % (
        seed, len(kills), len(mid_run), rfc(int(chain * SECOND)) if chain else None, len(u.spawns())))
    print(summary("cron c", c))
    print(summary("interval i", i))
    print("interrupted lines:", [(j, rfc(t), w, p) for j, t, w, p in interruptions(u)])
    assert chain is not None
    assert_exactly_once("cron c", c)
    # the cron job's occurrences are whole seconds
    assert c["origin"] % SECOND == 0, rfc(c["origin"])
    assert_exactly_once("interval i", i)
    # each run killed mid-run is logged as interrupted, with its worker's pid
    logged = {p for _, _, _, p in interruptions(u, "c")}
    assert set(mid_run) <= logged, "no interrupted line for the runs killed mid-run by pid %s:\n%s" % (
        sorted(set(mid_run) - logged), u.log()[-3000:])
    assert mid_run, "no kill landed while the cron job was running"
    # an interrupted occurrence was run by the killed worker only, and only then
    killed = {pid: w for w, pid, _ in kills}
    for job, t, w, pid in interruptions(u):
        if t >= until:
            continue  # SIGINT stops brutally: the master reports what the stop itself interrupted
        assert killed.get(pid) == w, ("interrupted line for a worker the test did not kill", job, rfc(t), w, pid)
        acc = c if job == "c" else i
        k = grid_index(t, acc["origin"], SECOND)
        assert k is not None, ("interrupted occurrence off the grid", job, rfc(t))
        assert [s.worker for s in acc["by"][k]] in ([], [w]), (job, rfc(t), acc["by"][k])
    for job in ("c", "i"):
        assert u.count(r"^%s$" % re.escape(STARTUP_LINE % job)) == 1, STARTUP_LINE % job


# ---- busy executors --------------------------------------------------------------

def test_once_busy_worker_leaves_the_occurrence(uwsgi):
    # worker 1's only executor is held 6 s from its start by a scope=workers
    # job; meanwhile the once-job runs every second on workers 2 and 3
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "scheduler-threads = 1",
                    'scheduler-cron = @start jobs:held args=["blocker", 6] scope=workers workers=1 id=blocker',
                    'scheduler-interval = 1s jobs:quick args=["tick"] scope=once id=tick'))
    ends = u.wait_events("blocker", 1, phase="end", timeout=30)
    wait_starts(u, "tick", 3, int(ends[0]["t"] * SECOND))
    until = now_us() - int(1.5 * SECOND)
    stop_clean(u)
    blocker = u.events("blocker")
    assert {r["pid"] for r in blocker} == {u.workers[1]}
    b0, b1 = (int(r["t"] * SECOND) for r in blocker)
    runs = starts(u, "tick")
    acc = account(runs, [], SECOND, until)
    inside = [s for s in runs if b0 + SECOND // 10 < s.instant < b1 - SECOND // 10]
    print("\nbusy worker 1 from %s to %s; tick inside: %s" % (rfc(b0), rfc(b1), [(rfc(s.instant), s.worker) for s in inside]))
    print(summary("tick", acc))
    # every occurrence of the window ran, in another worker, on time
    assert len(inside) >= 4, "the occurrences due while worker 1 was busy did not run elsewhere: %s\n%s" % (
        [(rfc(s.instant), s.worker, s.lag) for s in inside], u.log()[-3000:])
    assert all(s.worker != 1 for s in inside), [(rfc(s.instant), s.worker) for s in inside]
    assert all(s.lag < 900 for s in inside), [(rfc(s.instant), s.worker, s.lag) for s in inside]
    assert_exactly_once("tick", acc)
    # the busy worker left them without a word: no skip, no misfire
    assert not re.search(r"^\[scheduler\] job tick: (skipped|misfire)", u.log(), re.M), u.log()[-3000:]


# ---- max-running across workers ------------------------------------------------

def test_once_max_running_is_instance_wide(uwsgi):
    # a 2.5 s once-job every second, max-running=1 (default), 3 workers of
    # one executor each: a run in one worker leaves the others free, and
    # they must skip; once, the worker running it is kill -9'd mid-run
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-interval = 1s jobs:held args=["slow", 2.5] scope=once id=slow'))
    u.wait_events("slow", 3, phase="end", timeout=30)
    kills = []
    victim = kill_runner(u, "slow", kills)
    t_kill = kills[0][2]
    assert unfinished_run(u, "slow", victim), "the kill did not land while the run was going"
    wait_for(lambda: len([r for r in u.events("slow", phase="end") if r["t"] > t_kill]) >= 2, 20,
             what=lambda: "two runs after the kill:\n" + u.log()[-3000:])
    wait_quietly(lambda: [x for x in interruptions(u, "slow") if x[3] == victim], 10)
    stop_clean(u, kills)

    # the runs, from the events: [start, end] by pid; the killed one ended at the kill
    spans = []
    for pid in {r["pid"] for r in u.events("slow")}:
        rows = [r for r in u.events("slow") if r["pid"] == pid]
        for a, b in zip(rows, rows[1:] + [None]):
            if a["phase"] != "start":
                continue
            end = b["t"] if b and b["phase"] == "end" else (t_kill if pid == victim else float("inf"))
            spans.append((a["t"], end, pid))
    spans.sort()
    print("\nslow runs (start, seconds, pid):", [(round(s, 2), round(e - s, 2), p) for s, e, p in spans])
    print("slow runs by pid:", dict(collections.Counter(p for _, _, p in spans)))
    for (s0, e0, p0), (s1, e1, p1) in zip(spans, spans[1:]):
        assert s1 >= e0, "runs overlap: %s (pid %d) to %s, and %s (pid %d)" % (s0, p0, e0, s1, p1)
    assert len(spans) >= 5, spans

    # the killed run's occurrence is logged as interrupted, and not run again
    lines = [x for x in interruptions(u, "slow") if x[3] == victim]
    assert len(lines) == 1, "no interrupted line for pid %d:\n%s" % (victim, u.log()[-3000:])
    runs = starts(u, "slow")
    acc = account(runs, [t for _, t, _, _ in lines], SECOND)
    print(summary("slow", acc))
    assert not acc["duplicates"] and not acc["off_grid"], (acc["duplicates"], acc["off_grid"])
    (_, t_int, w_int, _), = lines
    assert [s.worker for s in runs if s.instant == t_int] == [w_int], (rfc(t_int), w_int, runs)
    assert interruptions(u) == lines, interruptions(u)

    # every other occurrence found it running: exactly one skip line each,
    # between the start before it and the start after it
    log = u.log()
    skips = [m.start() for m in SKIP_RE.finditer(log) if m.group(1) == "slow"]
    order = sorted(runs, key=lambda s: s.pos)
    gaps = []
    for a, b in zip(order, order[1:]):
        ka, kb = grid_index(a.instant, acc["origin"], SECOND), grid_index(b.instant, acc["origin"], SECOND)
        between = sum(1 for p in skips if a.pos < p < b.pos)
        gaps.append((kb - ka - 1, between))
    print("skipped occurrences / skip lines between consecutive starts:", gaps)
    assert all(expected == logged for expected, logged in gaps), gaps
    assert sum(expected for expected, _ in gaps) >= 4, gaps  # a 2.5 s run covers the next two
    assert not re.search(r"^\[scheduler\] job slow: misfire", log, re.M)


# ---- the interval anchor ---------------------------------------------------------

def test_once_interval_agrees_across_workers(uwsgi):
    # the worker that ran the last occurrence is kill -9'd, 4 times: the
    # others (and the respawned one) go on with the same occurrences
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-interval = 1s jobs:quick args=["iv"] scope=once id=iv'))
    wait_starts(u, "iv", 2, 0)
    kills = []
    for _ in range(4):
        mark = u.mark()
        new = wait_for(lambda: starts(u, "iv", since=mark), 20, what=lambda: "a start of iv:\n" + u.log()[-3000:])
        kill9(u, new[-1].worker, kills)
    wait_starts(u, "iv", 3, now_us())
    until = now_us() - int(1.5 * SECOND)
    stop_clean(u, kills)
    runs = starts(u, "iv")
    acc = account(runs, [t for _, t, _, _ in interruptions(u, "iv")], SECOND, until)
    print("\nkills:", [(w, p) for w, p, _ in kills])
    print(summary("iv", acc))
    print("iv starts (instant, worker):", [(rfc(s.instant)[11:23], s.worker) for s in runs])
    assert_exactly_once("iv", acc)
    killed = {pid: w for w, pid, _ in kills}
    assert all(killed.get(p) == w for _, _, w, p in interruptions(u)), interruptions(u)


# ---- cheaper ------------------------------------------------------------------------

def test_once_cheaper(uwsgi):
    # cheaper = 1 of 3 workers: two rounds of load bring workers in, idleness
    # takes them away, while a cron and an interval once-job run each second
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, "cheaper = 1", "cheaper-initial = 1", "cheaper-overload = 1",
                    'scheduler-interval = 1s jobs:quick args=["iv"] scope=once id=iv',
                    'scheduler-cron = * * * * * * jobs:quick args=["cr"] scope=once id=cr'))
    assert list(u.workers) == [1]
    wait_starts(u, "iv", 2, 0)
    wait_starts(u, "cr", 2, 0)

    def hang():
        try:
            get(u, "/hang", timeout=20)
        except Exception:
            pass
    for _ in range(2):
        mark = u.mark()
        load = [threading.Thread(target=hang) for _ in range(4)]
        for t in load:
            t.start()
        u.wait_log(r"scheduler thread started", since=mark, timeout=20)
        for t in load:
            t.join()
        u.wait_log(r"uWSGI worker \d+ cheaped", since=mark, timeout=30)
    t_tail = now_us()
    wait_starts(u, "iv", 3, t_tail)
    wait_starts(u, "cr", 3, t_tail)
    until = now_us() - int(1.5 * SECOND)
    stop_clean(u)
    spawned = [w for w, _ in u.spawns()]
    cheaped = re.findall(r"uWSGI worker (\d+) cheaped", u.log())
    iv = account(starts(u, "iv"), [], SECOND, until)
    cr = account(starts(u, "cr"), [], SECOND, until)
    print("\nspawns (worker ids): %s; cheaped: %s" % (spawned, cheaped))
    print(summary("iv", iv))
    print(summary("cr", cr))
    assert len(spawned) >= 3 and len(cheaped) >= 2, (spawned, cheaped)
    assert_exactly_once("iv", iv)
    assert_exactly_once("cr", cr)
    assert not interruptions(u), interruptions(u)
