"""The run's context in real uwsgi masters: a Python job with context=NAME
gets keyword argument NAME, a new dict each run (job, scheduled in the
job's zone, scheduled_ts, worker, catch_up, attempt), in every worker and
in the one that claims a scope=once occurrence; a job without context=
gets nothing more; an exec: command gets the same as SCHEDULER_*
variables in its own environment only; catch_up is true for the run
that catches up occurrences due while no worker was up. Assertions tie
each context to the run the scheduler logged (same worker, same
scheduled instant)."""
import datetime
import math
import os
import re
import signal
import time
from zoneinfo import ZoneInfo

from conftest import alive, app_ini, assert_nothing_fatal, wait_for

KEYS = {"job", "scheduled", "scheduled_ts", "worker", "catch_up", "attempt"}
TYPES = {"job": "str", "scheduled": "str", "scheduled_ts": "float", "worker": "int", "catch_up": "bool",
         "attempt": "int"}

JOBS = r'''
import os
from events import record

def with_ctx(tag, ctx):
    record(tag, ctx=dict(ctx), types={k: type(v).__name__ for k, v in ctx.items()},
           env=os.environ.get("SCHEDULER_JOB"))
    # the dict is the run's own: the next run must not see this
    ctx["mutated"] = True
    ctx["job"] = "changed"

def plain(*args, **kwargs):
    record("plain", args=list(args), kwargs=sorted(kwargs))

async def coro(run):
    record("coro", ctx=run, types={k: type(v).__name__ for k, v in run.items()})
'''

APP = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def write_app(u):
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)


def started(u, job_id):
    """{(worker id, scheduled as logged)} of every logged start of job_id."""
    pat = r"^\[scheduler\] job %s: start \(worker (\d+), scheduled (\S+), lag " % re.escape(job_id)
    return {(int(w), s) for w, s in re.findall(pat, u.log(), re.M)}


def check_context(u, row, job_id, tz, whole_seconds, catch_up=False):
    """One recorded context: its keys, types and values, and the run it
    came from (the worker that recorded it, the start the log shows)."""
    ctx = row["ctx"]
    assert set(ctx) == KEYS, row
    assert row["types"] == TYPES, row
    assert ctx["job"] == job_id, row
    assert ctx["catch_up"] is catch_up and ctx["attempt"] == 1, row
    # the worker that ran it, which is the process that recorded it
    assert ctx["worker"] == row["worker"] and u.workers[ctx["worker"]] == row["pid"], (row, u.workers)
    # RFC 3339 in the job's zone, the same instant as scheduled_ts
    when = datetime.datetime.fromisoformat(ctx["scheduled"])
    assert when.utcoffset() == datetime.datetime.fromtimestamp(ctx["scheduled_ts"], ZoneInfo(tz)).utcoffset(), row
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?[+-]\d\d:\d\d", ctx["scheduled"]), row
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    micros = (when - epoch) // datetime.timedelta(microseconds=1)
    assert abs(ctx["scheduled_ts"] * 1e6 - micros) < 1, row
    if whole_seconds:
        assert ctx["scheduled_ts"] == int(ctx["scheduled_ts"]), row
    # it ran at (or after) its scheduled instant
    assert row["t"] >= ctx["scheduled_ts"] - 0.05, row
    return ctx


def test_python_context_in_every_worker(uwsgi):
    u = uwsgi()
    write_app(u)
    u.start(ini=app_ini(
        u,
        "scheduler-timezone = America/St_Johns",
        # every worker, cron in a zone with a half-hour offset, beside kwargs
        'scheduler-cron = * * * * * * jobs:with_ctx kwargs={"tag": "cron"} context=ctx tz=Asia/Kolkata',
        # every worker, an interval (scheduled instants with fractions) in scheduler-timezone
        'scheduler-job = {"interval": "700ms", "target": "jobs:with_ctx", "id": "iv", "args": ["iv"], '
        '"context": "ctx"}',
        # one worker per occurrence
        'scheduler-cron = * * * * * * jobs:with_ctx id=once args=["once"] context=ctx scope=once',
        "scheduler-cron = * * * * * * jobs:coro id=coro context=run tz=UTC",
        "scheduler-interval = 500ms jobs:plain id=plain",
        "scheduler-threads = 4",
        workers=3))
    assert len(u.workers) == 3
    cron = u.wait_events("cron", 3, per_worker=True, timeout=40)
    iv = u.wait_events("iv", 3, per_worker=True, timeout=40)
    once = u.wait_events("once", 6, timeout=40)
    coro = u.wait_events("coro", 2, per_worker=True, timeout=40)
    plain = u.wait_events("plain", 2, per_worker=True, timeout=40)

    for tag, job_id, tz, rows, whole in (
            ("cron", "jobs:with_ctx", "Asia/Kolkata", cron, True),
            ("iv", "iv", "America/St_Johns", iv, False),
            ("once", "once", "America/St_Johns", once, True),
            ("coro", "coro", "UTC", coro, True)):
        runs = started(u, job_id)
        for row in rows:
            ctx = check_context(u, row, job_id, tz, whole)
            assert (ctx["worker"], ctx["scheduled"]) in runs, (tag, row, sorted(runs)[-10:])
        # each worker's own runs, each occurrence once per worker
        seen = [(r["ctx"]["worker"], r["ctx"]["scheduled_ts"]) for r in rows]
        assert len(seen) == len(set(seen)), (tag, seen)
    assert all(r["ctx"]["scheduled"].endswith("+05:30") for r in cron), cron
    assert all(r["ctx"]["scheduled"].endswith("+00:00") for r in coro), coro
    # an interval's instants have fractions; the dict carries them to the µs
    assert any(r["ctx"]["scheduled_ts"] != int(r["ctx"]["scheduled_ts"]) for r in iv), iv
    # scope=once: each occurrence in one worker, and the context says which
    once_ts = [r["ctx"]["scheduled_ts"] for r in once]
    assert len(once_ts) == len(set(once_ts)), once
    # the worker's environment is not the command's: no SCHEDULER_* here
    assert all(r["env"] is None for r in cron + iv + once), cron
    # without context= nothing is added
    assert all(r["args"] == [] and r["kwargs"] == [] for r in plain), plain
    assert "Traceback" not in u.log(), u.log()[-3000:]
    u.stop()
    assert_nothing_fatal(u.log())


ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def env_files(u, prefix):
    """{file name: [(name, value)]} of the complete files prefix.*.env in u.dir."""
    out = {}
    for name in sorted(os.listdir(u.dir)):
        if name.startswith(prefix + ".") and name.endswith(".env"):
            with open(os.path.join(u.dir, name)) as f:
                out[name] = [m.groups() for m in map(ENV_LINE.match, f.read().splitlines()) if m]
    return out


def test_exec_gets_scheduler_variables(uwsgi):
    u = uwsgi()
    write_app(u)
    # the worker's environment: one variable that goes through, one stale
    # SCHEDULER_JOB that the command must not see
    env = {"MY_SETTING": "kept", "SCHEDULER_JOB": "stale", "SCHEDULER_OTHER": "other"}
    cmd = "(env; echo PPID=$PPID) > {0}.$$.tmp && mv {0}.$$.tmp {0}.$$.env"
    u.start(ini=app_ini(
        u,
        "scheduler-cron = * * * * * * exec:%s id=cron tz=Australia/Adelaide" % cmd.format("cron"),
        'scheduler-job = {"interval": "700ms", "target": "exec:%s", "id": "iv job", "tz": "Europe/Paris"}'
        % cmd.format("iv"),
        "scheduler-interval = 400ms jobs:with_ctx args=[\"py\"] context=ctx",
        "scheduler-threads = 3",
        workers=2), env=env)
    wait_for(lambda: len(env_files(u, "cron")) >= 4 and len(env_files(u, "iv")) >= 4, 40,
             what=lambda: "4 env files of each job:\n%s" % u.log()[-3000:])
    u.wait_events("py", 2, per_worker=True)
    for prefix, job_id, tz, whole in (("cron", "cron", "Australia/Adelaide", True),
                                      ("iv", "iv job", "Europe/Paris", False)):
        files = env_files(u, prefix)
        runs = started(u, job_id)
        fractions = 0
        for name, pairs in files.items():
            names = [k for k, _ in pairs]
            ours = {k: v for k, v in pairs if k.startswith("SCHEDULER_") and k != "SCHEDULER_OTHER"}
            assert sorted(ours) == ["SCHEDULER_ATTEMPT", "SCHEDULER_CATCH_UP", "SCHEDULER_JOB", "SCHEDULER_SCHEDULED",
                                    "SCHEDULER_SCHEDULED_TS", "SCHEDULER_WORKER"], (name, pairs)
            assert all(names.count(k) == 1 for k in ours), (name, pairs)
            assert ours["SCHEDULER_JOB"] == job_id, (name, ours)
            assert ours["SCHEDULER_CATCH_UP"] == "false" and ours["SCHEDULER_ATTEMPT"] == "1", (name, ours)
            # the worker's own variables come through
            assert ("MY_SETTING", "kept") in pairs and ("SCHEDULER_OTHER", "other") in pairs, (name, pairs)
            # the command's parent is the worker the variable names
            worker = int(ours["SCHEDULER_WORKER"])
            assert u.workers[worker] == int(dict(pairs)["PPID"]), (name, ours, u.workers)
            # seconds with 6 decimals, the instant SCHEDULER_SCHEDULED writes in the job's zone
            ts = ours["SCHEDULER_SCHEDULED_TS"]
            assert re.fullmatch(r"\d+\.\d{6}", ts), (name, ts)
            when = datetime.datetime.fromisoformat(ours["SCHEDULER_SCHEDULED"])
            assert when.utcoffset() == datetime.datetime.fromtimestamp(float(ts), ZoneInfo(tz)).utcoffset()
            epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            micros = (when - epoch) // datetime.timedelta(microseconds=1)
            assert int(ts.replace(".", "")) == micros, (name, ts, ours["SCHEDULER_SCHEDULED"])
            fractions += not ts.endswith(".000000")
            if whole:
                assert ts.endswith(".000000"), (name, ts)
            # the very run the scheduler logged
            assert (worker, ours["SCHEDULER_SCHEDULED"]) in runs, (name, ours, sorted(runs)[-10:])
        if not whole:
            assert fractions, files
    # the worker's environment is untouched: a Python job there still sees the stale value
    assert all(r["env"] == "stale" for r in u.events("py")), u.events("py")
    assert not re.search(r"job (cron|iv job): failed", u.log()), u.log()[-3000:]
    u.stop()
    assert_nothing_fatal(u.log())


def test_catch_up_after_no_worker_was_up(uwsgi):
    # One worker. With the master stopped (SIGSTOP) the worker is killed,
    # so that no scheduler is up for two whole seconds; when the master
    # goes on it respawns the worker, which catches up the once-jobs'
    # occurrences of the gap (coalesce=latest: one run, for the latest)
    # with catch_up true, then runs the next ones as usual.
    u = uwsgi()
    write_app(u)
    u.start(ini=app_ini(
        u,
        'scheduler-cron = * * * * * * jobs:with_ctx id=once args=["once"] context=ctx scope=once tz=Europe/Paris',
        "scheduler-cron = * * * * * * exec:echo ctx $SCHEDULER_CATCH_UP $SCHEDULER_SCHEDULED_TS id=ex scope=once",
        workers=1))
    u.wait_events("once", 2)
    u.wait_log(r"^\[scheduler\] job ex: \| ctx false \d+\.000000$", count=2)
    old = u.workers[1]
    u.settle()
    os.kill(u.proc.pid, signal.SIGSTOP)
    try:
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: not alive(old), 10, what="the killed worker to be gone")
        gone = time.time()
        mark = u.mark()  # from here on the log is the new worker's
        # the gap itself: no event can tell it has lasted long enough
        time.sleep(math.floor(gone) + 2.2 - gone)
    finally:
        os.kill(u.proc.pid, signal.SIGCONT)
    new = u.wait_workers([1], since=mark)[1]
    assert new != old
    u.wait_events("once", 3, pid=new)
    rows = u.events("once", pid=new)
    before = [r for r in u.events("once") if r["pid"] == old]
    assert before and all(r["ctx"]["catch_up"] is False for r in before), before
    first, later = rows[0], rows[1:]
    for r in rows:
        check_context(u, r, "once", "Europe/Paris", True, catch_up=r is first)
    # the catch-up: the latest occurrence of the gap, late, with catch_up true
    assert math.floor(gone) + 2 <= first["ctx"]["scheduled_ts"] < first["t"], (gone, first)
    assert all(r["ctx"]["scheduled_ts"] > first["ctx"]["scheduled_ts"] for r in later), rows
    # the command's environment says the same
    u.wait_log(r"^\[scheduler\] job ex: \| ctx false \d+\.000000$", count=2, since=mark)
    lines = re.findall(r"^\[scheduler\] job ex: \| ctx (true|false) (\d+)\.000000$", u.log(mark), re.M)
    assert lines[0][0] == "true" and int(lines[0][1]) >= math.floor(gone) + 2, lines
    assert all(flag == "false" and int(ts) > int(lines[0][1]) for flag, ts in lines[1:]), lines
    u.stop()
    text = re.sub(r"^DAMN ! worker 1 \(pid: %d\) died, killed by signal 9\b.*$" % old, "", u.log(), flags=re.M)
    assert_nothing_fatal(text)
