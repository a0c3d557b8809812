"""overlap= in real uwsgi masters: what a fire does when max-running runs of
its job are still going. `queue`: it waits and starts when the run ends (at
most one waits; later fires are skipped), in each worker for a job of each
worker and across the workers for a once-job. `replace`: the running one is
stopped (SIGTERM to a command's process group, SIGKILL if it outlives it by
2 s; InterruptedError in a Python run, also from another worker for a
once-job), is neither retried nor followed by its hook, and the new run
starts. A fire that waits when its worker stops is dropped and logged.

Runs are recorded with their start and end; the assertions are about
order (no two runs of a job at once, a queued run starts after the one it
waited for) and presence, in generous windows."""
import os

from conftest import OK_APP, app_ini, free_port, wait_for
from test_metrics import job_metrics, metrics_when, stop_summaries, summed_summaries
from test_once import stop_clean
from test_control import job_of, rpc

JOBS = '''
import time
from events import record

def slow(seconds, ctx):
    record("slow", phase="start", scheduled_ts=ctx["scheduled_ts"])
    time.sleep(seconds)
    record("slow", phase="end")

def busy(ctx):
    """Runs until it is stopped: InterruptedError lands at the bytecode after a sleep."""
    record("busy", phase="start", scheduled_ts=ctx["scheduled_ts"])
    try:
        while True:
            time.sleep(0.05)
    except BaseException as e:
        record("busy", phase="end", exc=type(e).__name__)
        raise
'''

# a command that says when it starts and when it gets SIGTERM
COMMAND = '''#!/bin/sh
echo "start $$ $SCHEDULER_WORKER" >> "$1"
trap 'echo "term $$ $SCHEDULER_WORKER" >> "$1"; exit 143' TERM
sleep 60 &
wait
'''

# one that ignores SIGTERM (and its sleep inherits that): SIGKILL ends it
STUBBORN = '''#!/bin/sh
echo "start $$ $SCHEDULER_WORKER" >> "$1"
trap '' TERM
sleep 60
'''


def start(u, *lines, workers=2, after=()):
    u.write("jobs.py", JOBS)
    u.write("app.py", OK_APP)
    sport = free_port()
    u.start(ini=app_ini(u, "enable-metrics = true", "stats = 127.0.0.1:%d" % sport, *lines, workers=workers),
            after=after)
    return sport


def runs(u, job, pid=None, since_n=0):
    """[(start event, end event or None)] of job, in start order (of one
    worker when pid), from its since_n-th event on."""
    out, open_ = [], {}
    for e in u.events(job)[since_n:]:
        if pid is not None and e["pid"] != pid:
            continue
        if e["phase"] == "start":
            open_[e["pid"]] = len(out)
            out.append([e, None])
        elif e["pid"] in open_:
            out[open_.pop(e["pid"])][1] = e
    return out


def assert_one_at_a_time(rs):
    """No run starts before the one before it has ended."""
    for (a, a_end), (b, _) in zip(rs, rs[1:]):
        assert a_end is not None and a_end["t"] <= b["t"], (a, a_end, b)


def waited(rs):
    """The runs that started late because they waited for the one before:
    more than a second after their scheduled instant, and soon after that
    one ended (a run that was skipped and fired again would start on time)."""
    return [b for (a, a_end), (b, _) in zip(rs, rs[1:])
            if b["t"] - b["scheduled_ts"] > 1.0 and a_end and b["t"] - a_end["t"] < 0.9]


def test_queue_starts_the_next_run_when_the_one_going_on_ends_in_each_worker(uwsgi):
    u = uwsgi()
    sport = start(u, "scheduler-interval = 1s jobs:slow args=[2.5] context=ctx id=slow overlap=queue")
    u.wait_workers()
    pids = u.pids()
    mark = u.mark()
    # a worker that never gets there: the whole story from its start
    wait_for(lambda: all(sum(1 for _, e in runs(u, "slow", p) if e) >= 3 for p in pids), 40,
             what=lambda: "3 runs in each worker (%s):\n%s\n...\n%s" % (
                 {p: len(runs(u, "slow", p)) for p in pids}, u.log(mark)[:4000], u.log()[-3000:]))
    for p in pids:
        rs = runs(u, "slow", p)
        assert_one_at_a_time(rs)
        assert len(waited(rs)) >= 2, rs
    u.wait_log(r"job slow: the run scheduled \S+ waits for a run going on to end \(overlap=queue, "
                   r"max-running=1, worker \d\)", count=4)
    # a fire that finds one waiting already is skipped: at most one waits
    u.wait_log(r"job slow: skipped, a fire waits already for a place \(overlap=queue", count=2)
    m = metrics_when(sport, "slow", lambda m: m["queued"] >= 4 and m["skipped"] >= 2)
    assert m["replaced"] == 0
    stop_clean(u)
    # each worker's stop summary has its own queued and skipped fires
    each = stop_summaries(u, "slow")
    assert sorted(each) == sorted(u.workers) and all(c["queued"] >= 2 for c in each.values()), each
    said = summed_summaries(u, "slow")
    assert all(said[n] >= m[n] for n in said) and said["replaced"] == 0, (said, m)


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_fire_that_waits_for_a_place_sleeps(uwsgi):
    # it looks for a place every 100 ms on a condition variable: it once
    # spun on the runtime's lock instead (a monotonic deadline on a
    # wall-clock condition), taking most of a core for as long as it waited
    u = uwsgi()
    start(u, "scheduler-interval = 1s jobs:slow args=[30] context=ctx id=slow overlap=queue", workers=1)
    u.wait_workers()
    u.wait_log(r"job slow: the run scheduled \S+ waits for a run going on to end", timeout=30)
    pid = u.pids()[0]
    before = cpu_seconds(pid)
    u.wait_log(r"job slow: skipped, a fire waits already", count=4, timeout=30)
    used = cpu_seconds(pid) - before
    # 4 s and more of waiting: a spin takes most of them, sleeping next to none
    assert used < 1.0, used
    stop_clean(u)


def test_queue_of_a_once_job_waits_across_the_workers(uwsgi):
    u = uwsgi()
    start(u, "scheduler-interval = 1s jobs:slow args=[2.5] context=ctx id=slow overlap=queue scope=once",
          workers=3)
    u.wait_workers()
    wait_for(lambda: sum(1 for _, e in runs(u, "slow") if e) >= 4, 40,
             what=lambda: "4 runs:\n" + u.log()[-3000:])
    rs = runs(u, "slow")
    assert_one_at_a_time(rs)  # across the instance: max-running counts every worker's runs
    assert len(waited(rs)) >= 2, rs
    u.wait_log(r"job slow: skipped, a fire waits already for a place \(overlap=queue", count=1)
    stop_clean(u)


def test_replace_stops_the_running_command_and_neither_retries_it_nor_runs_its_hook(uwsgi):
    u = uwsgi()
    u.write("cmd.sh", COMMAND)
    out = os.path.join(u.dir, "cmd.txt")
    hook = os.path.join(u.dir, "hook.txt")
    sport = start(u, "scheduler-interval = 2s exec:sh cmd.sh %s id=cmd overlap=replace retries=2 "
                     "on-failure=\"exec:echo hook >> %s\"" % (out, hook))
    u.wait_workers()

    def lines():
        try:
            with open(out) as f:
                return [l.split() for l in f.read().splitlines()]
        except FileNotFoundError:
            return []

    def starts_per_worker():
        n = {}
        for kind, _, w in lines():
            n[w] = n.get(w, 0) + (kind == "start")
        return n

    wait_for(lambda: len(starts_per_worker()) == 2 and min(starts_per_worker().values()) >= 3, 40,
             what=lambda: "3 starts in each worker: %s\n%s" % (lines(), u.log()[-3000:]))
    # in each worker, every command got its SIGTERM before the next one started
    for w in starts_per_worker():
        mine = [(kind, pid) for kind, pid, ww in lines() if ww == w]
        started = [pid for kind, pid in mine if kind == "start"]
        for prev, nxt in zip(started, started[1:]):
            assert mine.index(("term", prev)) < mine.index(("start", nxt)), mine
    u.wait_log(r"job cmd: the run scheduled \S+ replaces 1 run going on \(overlap=replace\): stopping it, "
                   r"then it starts \(worker \d\)", count=4)
    u.wait_log(r"job cmd: stopping its command \(process group \d+\) with SIGTERM: the job's next run "
                   r"replaces it \(overlap=replace\)", count=4)
    u.wait_log(r"job cmd: stopped for the next run \(overlap=replace\): not retried, no hook", count=4)
    assert u.count(r"job cmd: attempt \d of 3 failed: retrying") == 0
    assert not os.path.exists(hook)
    m = metrics_when(sport, "cmd", lambda m: m["replaced"] >= 4)
    assert m["retries"] == 0 and m["gave_up"] == 0
    stop_clean(u)


def test_replace_kills_a_command_that_ignores_sigterm(uwsgi):
    u = uwsgi()
    u.write("stubborn.sh", STUBBORN)
    out = os.path.join(u.dir, "stubborn.txt")
    start(u, "scheduler-interval = 5s exec:sh stubborn.sh %s id=stubborn overlap=replace" % out)
    u.wait_workers()
    u.wait_log(r"job stubborn: its command \(process group \d+\) outlived SIGTERM by \d s: SIGKILL", count=2,
               timeout=40)

    def starts():
        with open(out) as f:
            return f.read().count("start")
    # the next runs start once the killed ones are gone: the job goes on
    wait_for(lambda: starts() >= 5, 40, what="the runs after the SIGKILLs")
    u.wait_log(r"job stubborn: stopped for the next run \(overlap=replace\)", count=2)
    stop_clean(u)


def test_replace_raises_interrupted_error_in_a_python_run_of_another_worker(uwsgi):
    u = uwsgi()
    # one executor per worker: the worker running the job cannot take its
    # next occurrence, so the other one claims it and replaces the run
    # from its own process, through shared memory
    sock = os.path.join(u.dir, "ctl.sock")
    sport = start(u, "scheduler-threads = 1", "socket = %s" % sock,
                  "scheduler-interval = 2s jobs:busy context=ctx id=busy overlap=replace scope=once retries=1",
                  after=("rpc",))
    assert job_of(rpc(sock, "scheduler.list"), "busy")["overlap"] == "replace"
    u.wait_workers()
    wait_for(lambda: sum(1 for _, e in runs(u, "busy") if e) >= 3, 40,
             what=lambda: "3 replaced runs:\n" + u.log()[-3000:])
    rs = [r for r in runs(u, "busy") if r[1]]
    assert_one_at_a_time(runs(u, "busy"))
    assert all(end["exc"] == "InterruptedError" for _, end in rs), rs
    # each run was replaced by one in the other worker
    whole = runs(u, "busy")
    assert all(a["pid"] != b["pid"] for (a, _), (b, _) in zip(whole, whole[1:])), whole
    u.wait_log(r"job busy: InterruptedError raised in the run the next one replaces \(overlap=replace, "
                   r"worker \d\)", count=3)
    u.wait_log(r"job busy: stopped for the next run \(overlap=replace\): not retried", count=3)
    m = metrics_when(sport, "busy", lambda m: m["replaced"] >= 3)
    assert m["retries"] == 0
    stop_clean(u)
    said = summed_summaries(u, "busy")
    assert said["replaced"] >= 3 and said["retries"] == 0, said


def test_a_fire_waiting_for_a_place_is_dropped_when_its_worker_stops(uwsgi):
    u = uwsgi()
    start(u, "scheduler-shutdown-timeout = 1s",
          "scheduler-interval = 1s jobs:slow args=[120] context=ctx id=slow overlap=queue")
    u.wait_workers()
    u.wait_log(r"job slow: the run scheduled \S+ waits for a run going on to end", count=2, timeout=30)
    wait_for(lambda: len({l for l in u.log().splitlines()
                          if "waits for a run going on to end" in l and "worker 1)" in l}) and
             len({l for l in u.log().splitlines()
                  if "waits for a run going on to end" in l and "worker 2)" in l}), 30,
             what="a waiting fire in each worker")
    stop_clean(u)
    for w in (1, 2):
        assert u.count(r"job slow: the run scheduled \S+ waited for a place and is dropped: worker %d is "
                       r"stopping" % w) == 1
