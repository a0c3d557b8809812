"""What happens when a job fails, in real uwsgi masters: retries with
growing delays (retries=, retry-delay=, retry-backoff=), in the worker
that ran the first attempt, with the attempt in the run's context; a retry
that would start after the job's next fire is dropped; the hooks
(on-failure= after the last attempt, with the error; on-success= after a
good run), in Python and as commands; the uWSGI alarm of scheduler-alarm
on each failure and give-up; the counters of it all; and a worker that
stops while a retry waits."""
import os
import re

from conftest import OK_APP, app_ini, free_port, wait_for
from test_metrics import job_metrics, metrics_when, stop_summaries, summed_summaries
from test_once import stop_clean

JOBS = '''
import os, time
from events import record

HERE = os.path.dirname(os.path.abspath(__file__))

def flaky(fails, ctx):
    """Fails its first `fails` attempts at each occurrence."""
    record("flaky", attempt=ctx["attempt"], scheduled=ctx["scheduled"])
    if ctx["attempt"] <= fails:
        raise ValueError("attempt %d went wrong" % ctx["attempt"])

def broken(ctx):
    record("broken", attempt=ctx["attempt"])
    raise ValueError("nope")

def hook(context):
    record("hook", context=context)

def spin(ctx):
    """Pure Python: stops at the TimeoutError of its timeout=."""
    record("spin", phase="start", attempt=ctx["attempt"])
    try:
        while True:
            pass
    finally:
        record("spin", phase="end", attempt=ctx["attempt"])

def nap(seconds):
    """In C (time.sleep): the TimeoutError waits for it."""
    record("nap", phase="start")
    time.sleep(seconds)
    record("nap", phase="end")

def tick():
    record("tick")
'''

def setup_app(u):
    u.write("jobs.py", JOBS)
    u.write("app.py", OK_APP)


def ini(u, *lines, workers=2):
    sport = free_port()
    return app_ini(u, "enable-metrics = true", "stats = 127.0.0.1:%d" % sport, *lines, workers=workers), sport


def test_a_job_that_fails_twice_succeeds_on_its_third_attempt(uwsgi):
    u = uwsgi()
    setup_app(u)
    text, sport = ini(u, 'scheduler-cron = @start jobs:flaky args=[2] context=ctx scope=once id=flaky retries=3 '
                         'retry-delay=500ms retry-backoff=2 on-success=jobs:hook on-failure=jobs:hook')
    u.start(ini=text)
    wait_for(lambda: len(u.events("hook")) == 1, 30, what="the on-success hook")
    runs = u.events("flaky")
    assert [r["attempt"] for r in runs] == [1, 2, 3]
    assert len({r["pid"] for r in runs}) == 1  # in the worker that ran the first attempt
    assert len({r["scheduled"] for r in runs}) == 1  # the same occurrence
    gaps = [b["t"] - a["t"] for a, b in zip(runs, runs[1:])]
    assert 0.45 <= gaps[0] < 5 and 0.95 <= gaps[1] < 6, gaps  # 500 ms, then twice that
    hook, = u.events("hook")
    ctx = hook["context"]
    assert ctx["job"] == "flaky" and ctx["attempt"] == 3 and ctx["error"] is None
    assert ctx["scheduled"] == runs[0]["scheduled"]
    assert hook["pid"] == runs[0]["pid"]
    w = runs[0]["worker"]
    assert u.count(r"^\[scheduler\] job flaky: attempt 1 of 4 failed: retrying in 500ms \(worker %d\)$" % w) == 1
    assert u.count(r"^\[scheduler\] job flaky: attempt 2 of 4 failed: retrying in 1s \(worker %d\)$" % w) == 1
    assert u.count(r"^\[scheduler\] job flaky: ok \(worker %d, scheduled \S+, attempt 3 of 4, [\d.]+ ms\)$" % w) == 1
    assert u.count(r"^\[scheduler\] job flaky: \| ValueError: attempt [12] went wrong$") == 2
    assert u.count(r"on-success jobs:hook: ok") == 1
    assert u.count(r"gave up") == 0
    m = metrics_when(sport, "flaky", lambda m: m["runs"] == 3)
    assert (m["failures"], m["retries"], m["gave_up"]) == (2, 2, 0), m
    stop_clean(u)
    # the worker that ran it says so when it stops, retries and all
    assert u.count(r"^\[scheduler\] worker %d: job flaky: 3 runs, 2 failed, 0 skipped, 0 misfired, 2 retried$" % w) == 1
    assert list(stop_summaries(u, "flaky")) == [w]


def test_a_give_up_calls_on_failure_once_with_the_error_and_raises_the_alarm(uwsgi):
    u = uwsgi()
    setup_app(u)
    text, sport = ini(u, "alarm = jobs log:", "scheduler-alarm = jobs",
                      'scheduler-cron = @start jobs:broken context=ctx scope=once id=broken retries=2 '
                      'retry-delay=200ms on-failure=jobs:hook on-success=jobs:hook')
    u.start(ini=text)
    wait_for(lambda: len(u.events("hook")) == 1, 30, what="the on-failure hook")
    assert [r["attempt"] for r in u.events("broken")] == [1, 2, 3]
    ctx = u.events("hook")[0]["context"]
    assert ctx["job"] == "broken" and ctx["attempt"] == 3
    assert ctx["error"].startswith("Traceback ") and ctx["error"].rstrip().endswith("ValueError: nope")
    w = u.events("broken")[0]["worker"]
    assert u.count(r"^\[scheduler\] job broken: gave up after 3 attempts \(worker %d\): ValueError: nope$" % w) == 1
    # uWSGI's log alarm: each failure, then the give-up
    alarm = r"ALARM: \[scheduler\] job broken %s \(worker %d, scheduled \S+, attempt %d of 3\): ValueError: nope$"
    u.wait_log(alarm % ("gave up", w, 3), timeout=10)
    for n in (1, 2, 3):
        assert u.count(alarm % ("failed", w, n)) == 1
    m = metrics_when(sport, "broken", lambda m: m["runs"] == 3)
    assert (m["failures"], m["retries"], m["gave_up"]) == (3, 2, 1), m
    stop_clean(u)
    assert u.count(r"^\[scheduler\] worker %d: job broken: 3 runs, 3 failed, 0 skipped, 0 misfired, 2 retried, "
                   r"1 gave up$" % w) == 1
    assert len(u.events("hook")) == 1


def test_a_retry_due_after_the_next_fire_is_dropped(uwsgi):
    u = uwsgi()
    setup_app(u)
    text, sport = ini(u, 'scheduler-interval = 1s jobs:broken context=ctx scope=once id=broken retries=3 '
                         'retry-delay=5s', workers=1)
    u.start(ini=text)
    u.wait_log(r"job broken: attempt 1 of 4 failed: retry dropped, it would start in 5s, after the next fire "
               r"\(in [\d.]+ s\) \(worker 1\)$", count=3)
    assert {r["attempt"] for r in u.events("broken")} == {1}
    # the metrics thread polls once a second
    m = metrics_when(sport, "broken", lambda m: m["gave_up"] >= 3)
    assert m["retries"] == 0, m
    stop_clean(u)


def test_command_hooks_get_the_error_and_the_output(uwsgi):
    u = uwsgi()
    setup_app(u)
    out = os.path.join(u.dir, "hooks")
    text, _ = ini(u, 'scheduler-cron = @start exec:"echo disk is full; exit 4" scope=once id=cmd '
                     'on-failure="exec:printf \'%%%%s|%%%%s|%%%%s\\\\n\' \\"$SCHEDULER_JOB\\" \\"$SCHEDULER_ATTEMPT\\" '
                     '\\"$SCHEDULER_ERROR\\" >> %s"' % out,
                  'scheduler-cron = @start exec:true scope=once id=good '
                  'on-success="exec:echo \\"$SCHEDULER_JOB:${SCHEDULER_ERROR-unset}:$SCHEDULER_ERROR.\\" >> %s"' % out)
    u.start(ini=text)
    wait_for(lambda: os.path.exists(out) and len(open(out).read().splitlines()) >= 3, 30, what="both hooks")
    lines = open(out).read().splitlines()
    assert "cmd|1|command exited with status 4" in lines
    assert "disk is full" in lines  # the output's tail, the error's second line
    assert "good::." in lines  # after a success SCHEDULER_ERROR is set, empty
    # the failure's message has the output too, after the status
    log = u.log()
    assert re.search(r"^\[scheduler\] job cmd: \| command exited with status 4\n\[scheduler\] job cmd: \| disk is full$",
                     log, re.M), log[-2000:]
    stop_clean(u)


def test_a_stop_during_a_retry_wait_is_prompt(uwsgi):
    u = uwsgi()
    setup_app(u)
    text, _ = ini(u, 'scheduler-cron = @start jobs:broken context=ctx id=broken retries=3 retry-delay=1m',
                  workers=2)
    u.start(ini=text)
    u.wait_log(r"job broken: attempt 1 of 4 failed: retrying in 1m", count=2)
    code, took = u.stop()
    assert took < 10
    assert u.count(r"^\[scheduler\] job broken: attempt 2 of 4 not run: worker [12] is stopping$") == 2


def test_python_hooks_are_checked_at_startup(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.write("jobs.py", JOBS + "\ndef no_context():\n    pass\n")
    for hook, why in [("jobs:nothere", r"module 'jobs' has no attribute 'nothere'"),
                      ("jobs:no_context", r"the job's arguments do not fit jobs:no_context\(\)")]:
        text, _ = ini(u, "scheduler-cron = 0 3 * * * jobs:flaky args=[0] context=ctx on-failure=%s" % hook)
        u.start(ini=text, wait=False)
        assert u.proc.wait(30) != 0
        assert re.search(r'^\[scheduler\] scheduler-cron "0 3 \* \* \* jobs:flaky args=\[0\] context=ctx '
                         r'on-failure=%s": cannot load on-failure "%s": .*%s' % (hook, hook, why), u.log(), re.M), \
            u.log()[-2000:]
        assert "spawned uWSGI worker" not in u.log()


def test_a_python_loop_is_stopped_at_its_timeout_and_retried(uwsgi):
    u = uwsgi()
    setup_app(u)
    text, sport = ini(u, "scheduler-interval = 3s jobs:spin context=ctx scope=once id=spin timeout=1s retries=1 "
                         "retry-delay=100ms", workers=2)
    u.start(ini=text)
    ends = u.wait_events("spin", 2, phase="end", timeout=30)
    starts = u.events("spin", phase="start")
    assert [r["attempt"] for r in starts[:2]] == [1, 2]
    for a, b in zip(starts, ends):
        assert 0.9 <= b["t"] - a["t"] < 5, (a, b)  # stopped at its timeout, not left spinning
    u.wait_log(r"^\[scheduler\] job spin: gave up after 2 attempts \(worker \d\): TimeoutError$")
    assert u.count(r"^\[scheduler\] job spin: TimeoutError raised in the run \(worker \d\)$") >= 2
    # the next fire runs
    u.wait_events("spin", 3, phase="start", timeout=20)
    m = metrics_when(sport, "spin", lambda m: m["gave_up"] >= 1)
    assert m["overruns"] >= 2 and m["hung"] == 0, m
    stop_clean(u)
    # the workers' stop summaries add up to at least what the metrics said before
    said = summed_summaries(u, "spin")
    assert all(said[n] >= m[n] for n in said) and said["hung"] == 0, (said, m)


def test_a_job_stuck_in_c_code_is_reported_hung_and_the_others_go_on(uwsgi):
    u = uwsgi()
    setup_app(u)
    text, sport = ini(u, "scheduler-cron = @start jobs:nap args=[60] scope=once id=nap timeout=1s",
                      "scheduler-interval = 300ms jobs:tick scope=once id=tick", "scheduler-shutdown-timeout = 1s",
                      workers=1)
    u.start(ini=text)
    u.wait_events("nap", 1, phase="start")
    hung = u.wait_log(r"^\[scheduler\] job nap: hung, still running 5 s after its TimeoutError \(code outside "
                      r"Python bytecode: a C call, a blocking read, time.sleep\); the other jobs go on \(worker 1\)$",
                      timeout=20)
    n = len(u.events("tick"))
    u.wait_events("tick", n + 5)
    wait_for(lambda: job_metrics(sport, "nap")["hung"] == 1, 10, what="the hung counter")
    assert job_metrics(sport, "nap")["running"] == 1
    assert u.count(r"job nap: hung") == 1
    assert not u.events("nap", phase="end")
    u.stop()
    # still going at the stop: no run ended, one overran and hung
    assert u.count(r"^\[scheduler\] worker 1: job nap: 0 runs, 0 failed, 0 skipped, 0 misfired, 1 overran, 1 hung$") == 1


def test_the_attempts_of_a_retried_run_survive_a_restart_in_the_state_file(uwsgi):
    import json
    from test_control import job_of, rpc
    u = uwsgi()
    setup_app(u)
    state = os.path.join(u.dir, "state.json")
    sock = os.path.join(u.dir, "ctl.sock")
    text, _ = ini(u, "scheduler-state = %s" % state, "socket = %s" % sock,
                  "scheduler-cron = @start jobs:flaky args=[2] context=ctx scope=once id=flaky retries=3 "
                  "retry-delay=300ms")
    u.start(ini=text, after=("rpc",))
    u.wait_log(r"job flaky: ok \(worker \d, scheduled \S+, attempt 3 of 4")
    first = u.pids()
    stop_clean(u)
    saved = json.load(open(state))["jobs"]["flaky"]["history"]
    assert [(h["outcome"], h.get("attempt", 1)) for h in saved[-3:]] == [("failed", 1), ("failed", 2), ("ok", 3)]
    assert "ValueError: attempt 2 went wrong" in saved[-2]["error"]

    u.logf.close()
    mark = u.mark()
    u.workers = {}
    u.start(ini=text, after=("rpc",), wait=False)
    u.wait_workers(since=mark)
    # the @start job runs again in this instance; the runs before the restart are listed with it
    history = job_of(rpc(sock, "scheduler.list", "flaky"), "flaky")["history"]
    before = [h for h in history if h["pid"] in first]
    assert sorted((h.get("attempt", 1), h["outcome"]) for h in before) == [(1, "failed"), (2, "failed"), (3, "ok")]
    assert len({h["scheduled"] for h in before}) == 1
    stop_clean(u)
