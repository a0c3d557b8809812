"""The exactly-once soak: two scope=once jobs due every second (a cron and
an interval) in 4 workers with a state file, through about 80 s of kill -9
of random workers (and of the one running the cron job, mid-run), one
chain reload, one SIGHUP reload (the master re-executes itself: only the
state file carries the claims and the interval's grid over), and cheaper
taking workers away when idle while bursts of slow requests bring them
back.

Each run records its context's scheduled_ts. coalesce=all runs every late
fire (those due while no worker was up, as during the SIGHUP), so every
occurrence from the first run to the end must have run exactly once,
apart from the ones a kill interrupted (logged, and at most once: never
run again). No occurrence may run twice."""
import collections
import os
import random
import re
import signal
import threading
import time

from conftest import SPAWN_RE, app_ini as ini, get, wait_for
from test_once import SECOND, grid_index, interruptions, now_us, rfc, setup_app, stop_clean, wait_quietly

JOBS = '''
import time
from events import record

def run(name, seconds, ctx):
    record(name, phase="start", scheduled_ts=ctx["scheduled_ts"], catch_up=ctx["catch_up"])
    time.sleep(seconds)
    record(name, phase="end", scheduled_ts=ctx["scheduled_ts"])
'''

SOAK_SECONDS = 80


def occurrences(u, job):
    """{occurrence µs: [pids that started it]} from the jobs' own records."""
    by = collections.defaultdict(list)
    for r in u.events(job, phase="start"):
        by[int(round(r["scheduled_ts"] * SECOND))].append(r["pid"])
    return by


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


CHEAPED_RE = re.compile(r"^uWSGI worker (\d+) cheaped", re.M)


def up_workers(u):
    """{worker id: pid} of the workers whose latest spawn is alive and not
    being cheaped (cheaper logs that before it stops the worker)."""
    log = u.log()
    last_spawn = {}
    for m in SPAWN_RE.finditer(log):
        a, b, c, d = m.groups()
        last_spawn[int(a or c)] = (m.start(), int(b or d))
    last_cheaped = {int(m.group(1)): m.start() for m in CHEAPED_RE.finditer(log)}
    return {w: pid for w, (pos, pid) in last_spawn.items() if alive(pid) and last_cheaped.get(w, -1) < pos}


def kill_worker(u, w, pid, kills):
    """kill -9 of worker w (pid), then waits until the master respawned it
    or (cheaper) decided it stays down."""
    mark = u.mark()
    kills.append((w, pid, time.time()))
    os.kill(pid, signal.SIGKILL)

    def back():
        if any(m.group(1) == str(w) for m in CHEAPED_RE.finditer(u.log(mark))):
            return "cheaped"
        return "respawned" if w in dict(u.spawns(mark)) else None
    if wait_for(back, 40, what=lambda: "worker %d back after its kill:\n%s" % (w, u.log()[-3000:])) == "respawned":
        u.wait_workers([w], since=mark)
    else:
        u.workers.pop(w, None)
    return pid


def kill_random(u, rng, kills):
    up = up_workers(u)
    if not up:
        return None
    w = rng.choice(sorted(up))
    return kill_worker(u, w, up[w], kills)


def kill_cron_runner(u, kills, timeout=6):
    """kill -9 of the worker running the cron job, while it runs."""
    since = time.time()

    def running():
        up = {pid: w for w, pid in up_workers(u).items()}
        ended = {(r["pid"], r["scheduled_ts"]) for r in u.events("c", phase="end")}
        for r in reversed(u.events("c", phase="start")):
            if r["t"] <= since:
                return None
            if (r["pid"], r["scheduled_ts"]) not in ended and r["pid"] in up:
                return up[r["pid"]], r["pid"]
        return None
    found = wait_quietly(running, timeout)
    return kill_worker(u, found[0], found[1], kills) if found else None


def reload_chain(u, fifo):
    u.settle()
    mark = u.mark()
    with open(fifo, "w") as f:
        f.write("c")
    u.wait_log(r"chain reloading complete", since=mark, timeout=60)
    return time.time()


def reload_sighup(u):
    u.settle()
    mark = u.mark()
    t = time.time()
    os.kill(u.proc.pid, signal.SIGHUP)
    u.wait_log(r"binary reloading uWSGI", since=mark, timeout=60)
    u.wait_workers(since=mark, timeout=60)
    return t


def load_burst(u, n=4):
    """n slow requests at once: cheaper brings workers in for them."""
    def hang():
        try:
            get(u, "/hang", timeout=20)
        except Exception:
            pass
    threads = [threading.Thread(target=hang) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def account(by, interrupted, origin, end):
    window = range(0, (end - origin) // SECOND + 1)
    off = [rfc(t) for t in by if grid_index(t, origin, SECOND) is None]
    on = collections.defaultdict(list)
    for t, pids in by.items():
        k = grid_index(t, origin, SECOND)
        if k is not None:
            on[k].extend(pids)
    interrupted_k = {grid_index(t, origin, SECOND) for t in interrupted}
    return {
        "occurrences": len(window),
        "fires": sum(1 for k in window if on[k]),
        "duplicates": {rfc(origin + k * SECOND): on[k] for k in window if len(on[k]) > 1},
        "lost": [rfc(origin + k * SECOND) for k in window if not on[k] and k not in interrupted_k],
        "interrupted": sorted(k for k in interrupted_k if k is not None and k in window),
        "off_grid": off,
    }


def test_once_soak_kills_reloads_cheaper(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.write("jobs.py", JOBS)
    fifo = os.path.join(u.dir, "master.fifo")
    state = os.path.join(u.dir, "state.json")
    u.start(ini=ini(u, "master-fifo = %s" % fifo, "scheduler-state = %s" % state,
                    "cheaper = 2", "cheaper-initial = 4", "cheaper-overload = 1",
                    'scheduler-cron = * * * * * * jobs:run args=["c", 0.4] context=ctx scope=once coalesce=all '
                    'max-running=4 id=c',
                    'scheduler-interval = 1s jobs:run args=["i", 0] context=ctx scope=once coalesce=all id=i',
                    workers=4))
    u.wait_events("c", 2, phase="end")
    u.wait_events("i", 2, phase="end")
    seed = int(time.time())
    rng = random.Random(seed)
    kills, mid_run, bursts = [], [], []
    chain = sighup = None
    t0 = time.monotonic()
    n = 0
    while time.monotonic() < t0 + SOAK_SECONDS:
        elapsed = time.monotonic() - t0
        if chain is None and elapsed > 20:
            chain = reload_chain(u, fifo)
            continue
        if sighup is None and elapsed > 40:
            sighup = reload_sighup(u)
            continue
        if elapsed > 50 and len(bursts) < 2 and (not bursts or elapsed > 65):
            bursts.append(load_burst(u))
        next_kill = time.monotonic() + rng.uniform(2.0, 3.0)
        pid = kill_cron_runner(u, kills) if n % 2 else kill_random(u, rng, kills)
        n += 1
        if pid:
            ends = {(r["pid"], r["scheduled_ts"]) for r in u.events("c", phase="end")}
            if any(r["pid"] == pid and (pid, r["scheduled_ts"]) not in ends for r in u.events("c", phase="start")):
                mid_run.append(pid)
        time.sleep(max(0.0, next_kill - time.monotonic()))
    for threads in bursts:
        for t in threads:
            t.join()
    t_tail = now_us()
    wait_for(lambda: len([t for t in occurrences(u, "c") if t > t_tail]) >= 3, 30, what="3 runs of c at the end")
    wait_for(lambda: len([t for t in occurrences(u, "i") if t > t_tail]) >= 3, 30, what="3 runs of i at the end")
    wait_quietly(lambda: {p for _, _, _, p in interruptions(u, "c")} >= set(mid_run), 10)
    until = now_us() - int(1.5 * SECOND)
    stop_clean(u, kills)

    spawned = len(u.spawns())
    cheaped = u.count(r"uWSGI worker \d+ cheaped")
    report = ["soak (seed %d): %d s, %d kills (%d mid-run), chain reload at %s, SIGHUP at %s, %d spawns, %d cheaped"
              % (seed, SOAK_SECONDS, len(kills), len(mid_run), rfc(int(chain * SECOND)), rfc(int(sighup * SECOND)),
                 spawned, cheaped)]
    accs = {}
    for job in ("c", "i"):
        by = occurrences(u, job)
        inter = [t for _, t, _, _ in interruptions(u, job) if t < until]
        origin = min(by)
        end = max(t for t in by if t <= until)
        acc = accs[job] = account(by, inter, origin, end)
        late = sum(1 for r in u.events(job, phase="start") if r["catch_up"])
        report.append("%s: %d occurrences, %d fires, %d duplicates, %d lost, %d interrupted, %d off the grid, "
                      "%d late (catch_up)" % (job, acc["occurrences"], acc["fires"], len(acc["duplicates"]),
                                              len(acc["lost"]), len(acc["interrupted"]), len(acc["off_grid"]), late))
    print("\n" + "\n".join(report))
    assert chain and sighup
    assert cheaped >= 1, "cheaper never took a worker away"
    assert mid_run, "no kill landed while the cron job was running"
    for job, acc in accs.items():
        assert not acc["duplicates"], "%s ran twice: %s" % (job, acc["duplicates"])
        assert not acc["off_grid"], "%s off its grid (the SIGHUP lost the interval's anchor?): %s" % (
            job, acc["off_grid"])
        assert not acc["lost"], "%s never ran and was not interrupted: %s\n%s" % (job, acc["lost"], u.log()[-4000:])
    # the cron's occurrences are whole seconds; every kill mid-run is logged
    assert min(occurrences(u, "c")) % SECOND == 0
    logged = {p for _, _, _, p in interruptions(u, "c")}
    assert set(mid_run) <= logged, (sorted(set(mid_run) - logged), u.log()[-3000:])
