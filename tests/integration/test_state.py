"""scheduler-state = PATH in real uwsgi masters: the master writes each
job's last run (per scope=once job, per worker id otherwise) atomically,
mode 0600, never through a symbolic link; a restart catches up on what was
missed as coalesce says (or not, catch-up=false); an interval continues
from its last run; a changed schedule starts fresh; a corrupt file is kept
as PATH.corrupt; a write that fails is retried; interrupted=rerun runs
again what a dead worker or a stopped instance left; the dry run lists the
last runs.

A job cannot see its scheduled instant yet (no context=): the occurrences
come from the run log's start lines, `job ID: start (worker N, scheduled T,
lag X ms[, N late fires coalesced])` (test_once.starts), and the state
file itself. Stops are SIGINT (brutal: SIGTERM would re-exec the master);
a restart reuses the directory, the port, the log and the state file.

coalesce=all hands its late fires over as one burst, run one after the
other by the executor that claims it: max-running counts the burst once
(two tests below take it through a restart)."""
import errno
import json
import os
import re
import signal
import time
import types

import pytest

from conftest import Uwsgi, app_ini as ini, assert_nothing_fatal, get, wait_for
from test_once import (SECOND, account, assert_nothing_fatal_but_kills, grid_index, instant,
                       kill_runner, rfc, setup_app, starts, summary, unfinished_run)

FORMAT = "uwsgi-scheduler-state"


# ---- helpers -------------------------------------------------------------------------

def read_state(path):
    with open(path) as f:
        return json.load(f)


def mode(path):
    return os.stat(path, follow_symlinks=False).st_mode & 0o7777


def state_ini(u, path, *lines, workers=3):
    return ini(u, "scheduler-state = %s" % path, *lines, workers=workers)


def cron(job, keys="", expr="* * * * * *", target="jobs:quick"):
    """A scheduler-cron line for job (its id, and the name its runs record)."""
    return 'scheduler-cron = %s %s args=["%s"] id=%s %s' % (expr, target, job, job, keys)


def restart(u, ini_text):
    """Starts u again after a stop: same directory, port, log and state
    file. Returns (log mark, wall time before the start, wall time once
    every worker is up)."""
    u.logf.close()
    mark = u.mark()
    t0 = time.time()
    u.workers = {}
    u.start(ini=ini_text, wait=False)
    u.wait_workers(since=mark)
    return mark, t0, time.time()


def split(u, job, mark, worker=None):
    """The starts of job before and after mark (of one worker id when
    given), each sorted by scheduled instant."""
    runs = [s for s in starts(u, job) if worker is None or s.worker == worker]
    old = sorted((s for s in runs if s.pos < mark), key=lambda s: s.instant)
    new = sorted((s for s in runs if s.pos >= mark), key=lambda s: s.instant)
    return old, new


def us(t):
    return int(t * SECOND)


def floor_s(t_us):
    return t_us - t_us % SECOND


def consecutive(runs, first, period=SECOND):
    """Whether runs (sorted) are first, first + period, ... with no gap and no repeat."""
    return [s.instant for s in runs] == [first + k * period for k in range(len(runs))]


def fmt(runs):
    return [(rfc(s.instant)[11:26], s.worker, s.coalesced) for s in runs]


# ---- one restart, many jobs (cases 1-4 and 8 share it) -------------------------------
#
# One instance runs every job below for a few seconds and is stopped
# (SIGINT); the dry run lists the file while it is down; after at least 3
# due times it starts again with the ini edited (`changed` goes from */2 to
# */3 seconds, `gone` is removed) and runs a few seconds more.

EVERY_SECOND = [  # (id, keys) of the cron jobs that fire each second
    ("once-latest", "scope=once coalesce=latest"),
    ("once-earliest", "scope=once coalesce=earliest"),
    ("once-all", "scope=once coalesce=all"),
    ("each-latest", "coalesce=latest"),
    ("each-earliest", "coalesce=earliest"),
    ("each-all", "coalesce=all"),
    ("once-nocatch", "scope=once catch-up=false"),
    ("each-nocatch", "catch-up=false"),
]
ONCE = [j for j, keys in EVERY_SECOND if "scope=once" in keys] + ["interval", "changed", "gone"]
EACH = [j for j, keys in EVERY_SECOND if "scope=once" not in keys]
WIDS = (1, 2, 3)


def cycle_lines(path, first):
    lines = ["scheduler-state = %s" % path]
    lines += [cron(j, keys) for j, keys in EVERY_SECOND]
    lines.append('scheduler-interval = 1s jobs:quick args=["interval"] id=interval scope=once')
    lines.append(cron("changed", "scope=once", expr="*/2 * * * * *" if first else "*/3 * * * * *"))
    if first:
        lines.append(cron("gone", "scope=once"))
    return lines


def snapshot(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        return f.read(), (st.st_ino, st.st_mtime_ns, st.st_size)


def run_cycle(u):
    setup_app(u)
    path = os.path.join(u.dir, "state.json")
    c = types.SimpleNamespace(u=u, path=path)
    u.start(ini=ini(u, *cycle_lines(path, True)))
    c.first_pids = dict(u.workers)

    def ran_twice():
        return (all(len(starts(u, j)) >= 2 for j in ONCE if j != "changed") and starts(u, "changed")
                and all(sum(1 for s in starts(u, j) if s.worker == w) >= 2 for j in EACH for w in WIDS))
    wait_for(ran_twice, 20, what=lambda: "two runs of every job:\n" + u.log()[-3000:])

    # the file as the master writes it while the instance runs (once a second)
    def complete():
        try:
            doc = read_state(path)
        except (OSError, ValueError):
            return None
        jobs = doc.get("jobs", {})
        if not all("last" in jobs.get(j, {}) for j in ONCE):
            return None
        if not all(set(jobs.get(j, {}).get("workers", {})) == {"1", "2", "3"} for j in EACH):
            return None
        return doc
    c.live = wait_for(complete, 10, what=lambda: "a state file with every job:\n" + u.log()[-3000:])
    c.live_mode = mode(path)

    u.stop()
    c.t_stopped = time.time()
    assert_nothing_fatal(u.log())
    c.stopped = read_state(path)
    c.stopped_mode = mode(path)
    before = snapshot(path)

    # the dry run, while the instance is down (case 8)
    c.list_text = u.run("--ini", os.path.join(u.dir, "app.ini"), "--scheduler-list", "2")
    c.list_json = u.run("--ini", os.path.join(u.dir, "app.ini"), "--scheduler-list-json", "2")
    c.list_unchanged = snapshot(path) == before
    c.leftovers_after_list = sorted(n for n in os.listdir(u.dir) if n.startswith("state.json"))

    # at least 3 due times pass while no instance is up
    time.sleep(max(0.0, c.t_stopped + 3.3 - time.time()))
    c.mark, c.t_restart, c.t_up = restart(u, ini(u, *cycle_lines(path, False)))

    def ran_on(j, w=None):
        return sum(1 for s in starts(u, j, since=c.mark) if (w is None or s.worker == w) and s.instant > us(c.t_up))

    def caught_up():
        return (all(ran_on(j) >= 3 for j in ONCE if j not in ("changed", "gone")) and ran_on("changed") >= 2
                and all(ran_on(j, w) >= 3 for j in EACH for w in WIDS))
    wait_for(caught_up, 25, what=lambda: "three runs of every job after the restart:\n" + u.log(c.mark)[-4000:])
    c.second_pids = dict(u.workers)
    u.stop()
    assert_nothing_fatal(u.log())
    c.final = read_state(path)
    c.final_mode = mode(path)
    c.files = sorted(n for n in os.listdir(u.dir) if n.startswith("state.json"))
    return c


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    u = Uwsgi(tmp_path_factory.mktemp("cycle"))
    try:
        yield run_cycle(u)
    finally:
        u.cleanup()


def last_of(c, job, worker=None):
    """The occurrence the stopped instance's file says ran last, checked
    against the log: the latest start of job (of worker) before the stop."""
    entry = c.stopped["jobs"][job]
    old, _ = split(c.u, job, c.mark, worker)
    if worker is None:
        last = entry["last"]["occurrence"]
        assert entry["claimed"] == last, entry
    else:
        last = entry["workers"][str(worker)]["occurrence"]
    assert last == old[-1].instant, (job, worker, rfc(last), fmt(old[-3:]))
    return last



@pytest.mark.parametrize("scope, coalesce", [
    ("once", "latest"), ("once", "earliest"), ("once", "all"), ("each", "latest"), ("each", "earliest"),
    ("each", "all"),
])
def test_restart_catches_up_per_coalesce(cycle, scope, coalesce):
    c, u = cycle, cycle.u
    job = "%s-%s" % (scope, coalesce)
    for w in ([None] if scope == "once" else WIDS):
        last = last_of(c, job, w)
        old, new = split(u, job, c.mark, w)
        who = "%s%s" % (job, "" if w is None else " on worker %d" % w)
        print("\n%s: last before the stop %s; after the restart: %s" % (who, rfc(last), fmt(new[:8])))
        # the occurrences due while the instance was down: after the last
        # run, up to the worker's start (between t_restart and t_up)
        assert c.t_restart - c.t_stopped >= 3.3
        missed_from = last + SECOND
        assert floor_s(us(c.t_restart)) - last >= 3 * SECOND, (rfc(last), c.t_restart)
        # nothing that ran before the stop runs again
        assert all(s.instant > last for s in new), (who, fmt(new))
        assert len({s.instant for s in new}) == len(new), ("an occurrence ran twice", who, fmt(new))
        if coalesce == "latest":
            late = new[0]
            assert late.coalesced >= 2, (who, fmt(new))
            # one run, for the latest missed occurrence: the ones before it are
            # the coalesced ones, the next one runs on time
            assert late.instant == last + (late.coalesced + 1) * SECOND, (who, rfc(last), fmt(new))
            assert floor_s(us(c.t_restart)) <= late.instant <= us(c.t_up), (who, fmt(new), c.t_restart, c.t_up)
            assert consecutive(new[1:], late.instant + SECOND), (who, fmt(new))
            assert all(s.coalesced == 0 for s in new[1:]), (who, fmt(new))
        elif coalesce == "earliest":
            late = new[0]
            assert late.coalesced >= 2, (who, fmt(new))
            assert late.instant == missed_from, (who, rfc(last), fmt(new))
            # the others it stood for never run; the next run is the first due
            # after them, on time
            after = late.instant + (late.coalesced + 1) * SECOND
            assert new[1].instant == after, (who, fmt(new))
            assert after > us(c.t_restart) - SECOND
            assert consecutive(new[1:], after), (who, fmt(new))
            assert all(s.coalesced == 0 for s in new[1:]), (who, fmt(new))
        else:
            # each missed occurrence once, in order, then on time
            assert consecutive(new, missed_from), (who, rfc(last), fmt(new))
            assert all(s.coalesced == 0 for s in new), (who, fmt(new))
            assert len([s for s in new if s.instant < us(c.t_restart)]) >= 3, (who, fmt(new))
    log = u.log(c.mark)
    assert not re.search(r"^\[scheduler\] job %s: (skipped|misfire)" % job, log, re.M), log[-4000:]
    assert not re.search(r"^\[scheduler\] job %s: .*dropped" % job, log, re.M)


def test_restart_catches_up_all_runs_that_take_time(uwsgi):
    u = uwsgi()
    setup_app(u)
    path = os.path.join(u.dir, "state.json")
    text = state_ini(u, path, 'scheduler-cron = * * * * * * jobs:held args=["slow", 0.3] id=slow scope=once '
                              'coalesce=all')
    u.start(ini=text)
    u.wait_events("slow", 2, phase="end")
    u.stop()
    t_stopped = time.time()
    last = read_state(path)["jobs"]["slow"]["claimed"]
    time.sleep(max(0.0, t_stopped + 3.3 - time.time()))
    mark, t_restart, t_up = restart(u, text)
    wait_for(lambda: len([s for s in starts(u, "slow", since=mark) if s.instant > us(t_up)]) >= 2, 20,
             what=lambda: "two runs after the restart:\n" + u.log(mark)[-3000:])
    u.stop()
    assert_nothing_fatal(u.log())
    _, new = split(u, "slow", mark)
    print("\nslow: last before the stop %s; after the restart %s" % (rfc(last), fmt(new)))
    # each occurrence due while the instance was down runs once (an on-time
    # one that comes while they run may be skipped: max-running=1)
    missed = range(last + SECOND, floor_s(us(t_restart)) + SECOND, SECOND)
    assert len(missed) >= 3, (rfc(last), t_restart)
    ran = [s.instant for s in new]
    assert len(ran) == len(set(ran)), fmt(new)
    assert all(t in ran for t in missed), (rfc(last), fmt(new), u.count(r"^\[scheduler\] job slow: skipped", since=mark))


@pytest.mark.parametrize("scope", ["once", "each"])
def test_restart_without_catch_up(cycle, scope):
    # catch-up=false: no late run; the next run is the next due occurrence
    c, u = cycle, cycle.u
    job = "%s-nocatch" % scope
    for w in ([None] if scope == "once" else WIDS):
        last = last_of(c, job, w)
        _, new = split(u, job, c.mark, w)
        who = "%s%s" % (job, "" if w is None else " on worker %d" % w)
        print("\n%s: last before the stop %s; after the restart: %s" % (who, rfc(last), fmt(new[:5])))
        first = new[0]
        assert first.instant > us(c.t_restart), (who, fmt(new), c.t_restart)
        assert first.instant <= us(c.t_up) + SECOND, (who, fmt(new), c.t_up)
        assert first.coalesced == 0 and first.lag < 900, (who, new[0])
        assert consecutive(new, first.instant), (who, fmt(new))


def test_interval_continues_from_its_last_run(cycle):
    # an interval once-job without start= is anchored where the master
    # started: after a restart it goes on on the same grid, from the
    # state's "claimed", catching up as coalesce=latest says
    c, u = cycle, cycle.u
    last = last_of(c, "interval")
    assert last % SECOND, "the test needs an interval grid off the whole seconds: %s" % rfc(last)
    old, new = split(u, "interval", c.mark)
    print("\ninterval: last before the stop %s; after the restart: %s" % (rfc(last), fmt(new[:6])))
    assert [grid_index(s.instant, last, SECOND) for s in old][-2:] == [-1, 0], fmt(old)
    late = new[0]
    assert late.coalesced >= 2, fmt(new)
    assert grid_index(late.instant, last, SECOND) == late.coalesced + 1, (rfc(last), fmt(new))
    ks = [grid_index(s.instant, last, SECOND) for s in new]
    assert ks == list(range(ks[0], ks[0] + len(ks))), (rfc(last), fmt(new))
    assert all(s.coalesced == 0 for s in new[1:]), fmt(new)
    # and the file goes on with that grid
    assert grid_index(c.final["jobs"]["interval"]["claimed"], last, SECOND) is not None


def test_changed_schedule_starts_fresh(cycle):
    c, u = cycle, cycle.u
    was = c.stopped["jobs"]["changed"]["schedule"]
    assert was.startswith('cron "*/2 * * * * *"; tz '), was
    line = ('[scheduler] job changed: its schedule changed since the state was written (was: %s): starting from '
            'the new one' % was)
    assert u.log(c.mark).count(line) == 1, u.log(c.mark)[-4000:]
    old, new = split(u, "changed", c.mark)
    print("\nchanged: before the stop %s; after the restart %s" % (fmt(old), fmt(new)))
    assert all(s.instant % (2 * SECOND) == 0 for s in old), fmt(old)
    # no catch-up: the first run is the first */3 instant after the start
    first = new[0]
    assert first.instant > us(c.t_restart) and first.instant <= us(c.t_up) + 3 * SECOND, (fmt(new), c.t_restart)
    assert first.coalesced == 0 and first.lag < 900, new[0]
    assert consecutive(new, first.instant, 3 * SECOND) and first.instant % (3 * SECOND) == 0, fmt(new)
    assert c.final["jobs"]["changed"]["schedule"].startswith('cron "*/3 * * * * *"; tz ')
    # the jobs whose schedule is the same were remembered: every one but
    # `changed` (and `gone`, no longer declared)
    remembered = "[scheduler] state: %s: last runs of %d jobs remembered" % (c.path, len(ONCE) + len(EACH) - 2)
    assert u.log(c.mark).count(remembered) == 1, u.log(c.mark)[:3000]


def assert_run(run, pids, worker=None):
    assert run["outcome"] == "ok", run
    if worker is not None:
        assert run["worker"] == worker, run
    assert run["pid"] == pids[run["worker"]], (run, pids)
    assert instant(run["scheduled"]) == run["occurrence"], run
    assert abs(run["scheduled_ts"] * SECOND - run["occurrence"]) < 2, run
    assert run["scheduled_ts"] - 0.001 <= run["started_ts"] <= run["ended_ts"], run


def test_state_file_contents(cycle):
    c, u = cycle, cycle.u
    assert c.live_mode == 0o600 and c.stopped_mode == 0o600 and c.final_mode == 0o600, (
        oct(c.live_mode), oct(c.stopped_mode), oct(c.final_mode))
    for doc in (c.live, c.stopped, c.final):
        assert doc["format"] == FORMAT and doc["version"] == 1, {k: doc[k] for k in doc if k != "jobs"}
    # while it runs: every job, and the last run of each (per worker id for
    # per-worker jobs), by the real workers of the instance
    assert set(c.live["jobs"]) == set(ONCE) | set(EACH)
    for j in ONCE:
        entry = c.live["jobs"][j]
        assert_run(entry["last"], c.first_pids)
        assert entry["claimed"] >= entry["last"]["occurrence"], entry
        assert entry["last"]["occurrence"] in {s.instant for s in starts(u, j) if s.pos < c.mark}, entry
    for j in EACH:
        for key, run in c.live["jobs"][j]["workers"].items():
            assert_run(run, c.first_pids, int(key))
            assert run["occurrence"] in {s.instant for s in starts(u, j) if s.pos < c.mark and s.worker == int(key)}
    assert c.live["jobs"]["once-latest"]["schedule"].startswith('cron "* * * * * *"; tz ')
    assert c.live["jobs"]["once-latest"]["schedule"].endswith("; scope once")
    assert c.live["jobs"]["each-latest"]["schedule"].endswith("; scope per worker")
    # after the restart without `gone` in the ini: it dropped out of the file;
    # the others' last runs are the new workers'
    assert "gone" in c.stopped["jobs"]
    assert set(c.final["jobs"]) == (set(ONCE) | set(EACH)) - {"gone"}, sorted(c.final["jobs"])
    for j in ONCE:
        if j != "gone":
            assert_run(c.final["jobs"][j]["last"], c.second_pids)
    for j in EACH:
        for key, run in c.final["jobs"][j]["workers"].items():
            assert_run(run, c.second_pids, int(key))
    # written by rename: no temporary file, nothing set aside
    assert c.files == ["state.json"], c.files


def test_dry_run_lists_last_runs(cycle):
    c = cycle
    for r in (c.list_text, c.list_json):
        out = r.stdout + r.stderr
        assert r.returncode == 0, out[-3000:]
        assert "spawned uWSGI worker" not in out
    # the dry run read the file and left it as it was
    assert c.list_unchanged
    assert c.leftovers_after_list == ["state.json"], c.leftovers_after_list
    stopped = c.stopped["jobs"]

    blocks = {b.split("\n", 1)[0]: b for b in c.list_text.stdout.split("\n\n")[1:]}
    assert set(blocks) == set(ONCE) | set(EACH)
    for j in ONCE:
        run = stopped[j]["last"]
        lines = re.findall(r"^  last     .*$", blocks[j], re.M)
        assert lines == ["  last     %s ok (worker %d)" % (run["scheduled"], run["worker"])], (j, lines, run)
    for j in EACH:
        lines = re.findall(r"^  last     .*$", blocks[j], re.M)
        want = ["  last     worker %d: %s ok (worker %d)" % (w, stopped[j]["workers"][str(w)]["scheduled"], w)
                for w in WIDS]
        assert sorted(lines) == want, (j, lines)

    doc = json.loads(c.list_json.stdout)
    jobs = {o["id"]: o for o in doc["jobs"]}
    assert set(jobs) == set(ONCE) | set(EACH)
    for j in ONCE:
        assert jobs[j]["last_run"] == stopped[j]["last"], j
        assert "last_runs" not in jobs[j]
    for j in EACH:
        assert jobs[j]["last_runs"] == stopped[j]["workers"], j
        assert sorted(jobs[j]["last_runs"]) == ["1", "2", "3"]
        assert "last_run" not in jobs[j]
    # the interval's next fires continue its grid from the remembered run
    last = stopped["interval"]["last"]["occurrence"]
    nxt = [instant(t) for t in jobs["interval"]["next"]]
    assert len(nxt) == 2 and all(grid_index(t, last, SECOND) is not None for t in nxt), (rfc(last), jobs["interval"]["next"])


# ---- a file that is not ours --------------------------------------------------------

def tick_ini(u, path, *extra):
    return state_ini(u, path, cron("tick", "scope=once"), *extra)


@pytest.mark.parametrize("kind", ["garbage", "foreign"])
def test_corrupt_file_is_kept_aside(uwsgi, kind):
    u = uwsgi()
    setup_app(u)
    path = os.path.join(u.dir, "state.json")
    text = tick_ini(u, path)
    if kind == "garbage":
        content = b'{"format": "uwsgi-scheduler-state", "version": 1, "jobs": {"tick": \x00\xff\xfe truncated'
        why = r"not JSON \(.*\)"
    else:
        # another program's JSON that looks like ours but for its format, and
        # says `tick` ran far in the future: read as ours, tick would never run
        u.write("app.ini", text)
        r = u.run("--ini", os.path.join(u.dir, "app.ini"), "--scheduler-list-json", "1")
        listed = json.loads(r.stdout)["jobs"][0]
        schedule = "%s; tz %s; scope once" % (listed["trigger"], listed["tz"])
        future = (int(time.time()) + 86400) * SECOND
        content = json.dumps({"format": "another-scheduler", "version": 1, "jobs": {"tick": {
            "schedule": schedule, "claimed": future,
            "last": {"occurrence": future, "scheduled": rfc(future), "scheduled_ts": future / SECOND,
                     "started_ts": future / SECOND, "ended_ts": future / SECOND, "outcome": "ok", "worker": 1,
                     "pid": 1}}}}).encode()
        why = re.escape('not a scheduler state file (no "format": "%s")' % FORMAT)
    with open(path, "wb") as f:
        f.write(content)
    t0 = time.time()
    u.start(ini=text)
    warning = r"^\[scheduler\] state: %s: %s: kept as %s\.corrupt, starting fresh$" % (
        re.escape(path), why, re.escape(path))
    assert u.count(warning) == 1, u.log()[-3000:]
    with open(path + ".corrupt", "rb") as f:
        assert f.read() == content
    # fresh: no catch-up, no remembered run
    u.wait_events("tick", 2)
    assert "remembered" not in u.log()
    first = min(starts(u, "tick"), key=lambda s: s.instant)
    assert first.coalesced == 0 and first.instant > us(t0), first

    def good():
        try:
            doc = read_state(path)
        except (OSError, ValueError):
            return None
        return doc if "last" in doc["jobs"].get("tick", {}) else None
    doc = wait_for(good, 10, what=lambda: "a good state file:\n" + u.log()[-3000:])
    assert doc["format"] == FORMAT and doc["version"] == 1
    assert doc["jobs"]["tick"]["last"]["occurrence"] in {s.instant for s in starts(u, "tick")}
    assert mode(path) == 0o600
    u.stop()
    assert_nothing_fatal(u.log())


# ---- where the file cannot be ---------------------------------------------------------

@pytest.mark.parametrize("target", ["a file", "nothing"])
def test_symlink_at_path_is_refused(uwsgi, target):
    u = uwsgi()
    setup_app(u)
    path = os.path.join(u.dir, "state.json")
    aim = os.path.join(u.dir, "elsewhere.json")
    if target == "a file":
        u.write("elsewhere.json", "precious\n")
        aim_mode = mode(aim)
    os.symlink(aim, path)
    r = u.run("--ini", u.write("app.ini", tick_ini(u, path)), timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    assert "[scheduler] scheduler-state %s: is a symbolic link" % path in out, out[-3000:]
    assert "spawned uWSGI worker" not in out
    assert os.path.islink(path) and os.readlink(path) == aim
    if target == "a file":
        with open(aim) as f:
            assert f.read() == "precious\n"
        assert mode(aim) == aim_mode
    else:
        assert not os.path.lexists(aim)
    assert sorted(os.listdir(u.dir)) == sorted(["app.ini", "app.py", "jobs.py", "state.json"] +
                                               (["elsewhere.json"] if target == "a file" else []))


@pytest.mark.parametrize("where", ["missing directory", "parent is a file"])
def test_unwritable_location_is_a_startup_error(uwsgi, where):
    u = uwsgi()
    setup_app(u)
    if where == "missing directory":
        path = os.path.join(u.dir, "no-such-dir", "state.json")
        code = errno.ENOENT
    else:
        u.write("plain", "a regular file\n")
        path = os.path.join(u.dir, "plain", "state.json")
        code = errno.ENOTDIR
    r = u.run("--ini", u.write("app.ini", tick_ini(u, path)), timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    lines = [line for line in out.splitlines() if line.startswith("[scheduler] scheduler-state %s: " % path)]
    assert len(lines) == 1 and lines[0].endswith(": " + os.strerror(code)), (lines, out[-3000:])
    assert "spawned uWSGI worker" not in out
    assert not os.path.exists(os.path.join(u.dir, "no-such-dir"))


def test_a_directory_every_user_can_write_in_is_refused(uwsgi):
    """Another user could replace the file there, or plant a link where it
    is read (a sticky /tmp too): the state file wants the instance's own."""
    u = uwsgi()
    setup_app(u)
    shared = os.path.join(u.dir, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    path = os.path.join(shared, "state.json")
    r = u.run("--ini", u.write("app.ini", tick_ini(u, path)), timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    assert ("[scheduler] scheduler-state %s: its directory %s is writable by every user (mode 1777): keep the state "
            "file in a directory only the instance can write in" % (path, shared)) in out.splitlines(), out[-3000:]
    assert "spawned uWSGI worker" not in out and not os.path.exists(path)


# ---- a write that fails later -------------------------------------------------------

def test_failing_write_is_retried(uwsgi):
    u = uwsgi()
    setup_app(u)
    path = os.path.join(u.dir, "state.json")
    u.start(ini=tick_ini(u, path, cron("each")))
    u.wait_events("tick", 2)
    wait_for(lambda: "last" in read_state(path)["jobs"].get("tick", {}), 10)
    # a directory at the writer's temporary name: every write fails
    os.mkdir(path + ".tmp")
    t_fail = time.time()
    failing = r"^\[scheduler\] state: cannot create %s: %s \(retrying every second; runs are still recorded in memory\)$" % (
        re.escape(path + ".tmp"), re.escape(os.strerror(errno.EEXIST)))
    u.wait_log(failing, timeout=10)
    frozen = snapshot(path)
    frozen_last = read_state(path)["jobs"]["tick"]["last"]["occurrence"]
    # jobs keep running and workers keep serving while the writes fail
    t1 = time.time()
    wait_for(lambda: len([s for s in starts(u, "tick") if s.instant > us(t1)]) >= 3, 15,
             what=lambda: "runs while the writes fail:\n" + u.log()[-3000:])
    for _ in range(6):
        assert get(u) == b"ok"
    assert snapshot(path) == frozen
    assert u.count(failing) == 1, u.log()[-3000:]   # said once, not once a second
    assert os.path.isdir(path + ".tmp")
    # the way clear: written again, with the newer runs
    mark = u.mark()
    os.rmdir(path + ".tmp")
    u.wait_log(r"^\[scheduler\] state: %s written again$" % re.escape(path), since=mark, timeout=10)
    doc = read_state(path)
    assert doc["jobs"]["tick"]["last"]["occurrence"] > frozen_last
    assert doc["jobs"]["tick"]["last"]["occurrence"] > us(t1)
    assert set(doc["jobs"]["each"]["workers"]) == {"1", "2", "3"}
    assert mode(path) == 0o600
    assert not os.path.exists(path + ".tmp")
    assert u.count(failing) == 1
    assert u.count(r"written again") == 1
    print("\nwrites failed for %.1f s" % (time.time() - t_fail))
    u.stop()
    assert_nothing_fatal(u.log())


# ---- interrupted runs ---------------------------------------------------------------

INTERRUPTED_RE = re.compile(r"^\[scheduler\] job (\S+): occurrence (\S+) interrupted: (?:worker (\d+) \(pid (\d+)\) "
                            r"died while running it|the instance stopped while worker (\d+) \(pid (\d+)\) ran it)"
                            r"(: it runs again \(interrupted=rerun\))?$", re.M)


def interrupted_lines(u, job, since=0):
    """(instant, worker, pid, how, rerun, position in the log) of job's
    `interrupted` lines; how: "died" or "stopped"."""
    out = []
    for m in INTERRUPTED_RE.finditer(u.log(since)):
        j, t, w1, p1, w2, p2, again = m.groups()
        if j == job:
            out.append((instant(t), int(w1 or w2), int(p1 or p2), "died" if w1 else "stopped", bool(again),
                        since + m.start()))
    return out


OK_RE = re.compile(r"^\[scheduler\] job (\S+): ok \(worker \d+, scheduled (\S+),", re.M)


def oks(u, job, since=0):
    """The scheduled instants of job's runs that ended ok."""
    return [instant(t) for j, t in OK_RE.findall(u.log(since)) if j == job]


def held_ini(u, path):
    # a run takes 1.5 s; an occurrence each second; max-running=1 across
    # the instance, so a run starts about every 2 s
    return state_ini(u, path,
                     'scheduler-interval = 1s jobs:held args=["rerun", 1.5] id=rerun scope=once interrupted=rerun',
                     'scheduler-interval = 1s jobs:held args=["skip", 1.5] id=skip scope=once')


def test_killed_run_reruns_or_is_skipped(uwsgi):
    u = uwsgi()
    setup_app(u)
    path = os.path.join(u.dir, "state.json")
    u.start(ini=held_ini(u, path))
    u.wait_events("rerun", 1, phase="end", timeout=20)
    kills = []
    for job in ("rerun", "skip"):
        victim = kill_runner(u, job, kills)
        wid = kills[-1][0]
        assert unfinished_run(u, job, victim), "the kill did not land while %s was running" % job
        # the master (or the worker that replaces it) says so, once
        lines = wait_for(lambda: [x for x in interrupted_lines(u, job) if x[2] == victim], 10,
                         what=lambda: "the interrupted line of %s:\n%s" % (job, u.log()[-3000:]))
        (t, w, _, how, again, pos), = lines
        assert (w, how, again) == (wid, "died", job == "rerun"), lines
        ran = [s for s in starts(u, job) if s.instant == t]
        assert ran[0].worker == wid and ran[0].pos < pos, (job, rfc(t), fmt(ran))
        if job == "rerun":
            # the same occurrence starts again, in some worker, late
            ran = wait_for(lambda: [s for s in starts(u, job) if s.instant == t][1:] and
                           [s for s in starts(u, job) if s.instant == t], 15,
                           what=lambda: "the rerun of %s:\n%s" % (rfc(t), u.log()[-3000:]))
            assert len(ran) == 2 and ran[1].pos > pos and ran[1].lag > 0, fmt(ran)
            wait_for(lambda: t in oks(u, job), 15, what=lambda: "the rerun to end:\n" + u.log()[-3000:])
            print("\nrerun: %s killed in worker %d, run again in worker %d" % (rfc(t), wid, ran[1].worker))
            t_rerun = t
        else:
            t_skip = t
    # the skipped one never ran again: two more runs of skip after it
    wait_for(lambda: len([s for s in starts(u, "skip") if s.instant > t_skip]) >= 2, 15,
             what=lambda: "two runs of skip after the kill:\n" + u.log()[-3000:])
    assert len([s for s in starts(u, "skip") if s.instant == t_skip]) == 1
    assert len([s for s in starts(u, "rerun") if s.instant == t_rerun]) == 2
    for job in ("rerun", "skip"):
        acc = account(starts(u, job), [], SECOND)
        assert not acc["off_grid"], acc["off_grid"]
        # only an interrupted occurrence of rerun runs twice: the one killed
        # above, and any the kill of skip's runner cut too (a worker runs
        # both jobs at once on its executors)
        again = {instant(t) for t in re.findall(r"^\[scheduler\] job rerun: occurrence (\S+) interrupted: ", u.log(),
                                                re.M)} if job == "rerun" else set()
        dup = {k: v for k, v in acc["duplicates"].items() if instant(k) != t_rerun and instant(k) not in again}
        assert not dup, (job, dup)

    u.stop()
    assert_nothing_fatal_but_kills(u, kills)


def test_run_cut_by_a_stop_reruns_after_restart(uwsgi):
    # two once-jobs due once, at the same instant, running a minute: the
    # instance is stopped (SIGINT) while both run, and started again
    u = uwsgi()
    setup_app(u)
    path = os.path.join(u.dir, "state.json")
    at = (int(time.time()) + 4) * SECOND
    text = state_ini(u, path,
                     'scheduler-at = %s jobs:held args=["rerun", 60] id=rerun scope=once interrupted=rerun' % rfc(at),
                     'scheduler-at = %s jobs:held args=["skip", 60] id=skip scope=once' % rfc(at))
    u.start(ini=text)
    u.wait_events("rerun", 1, phase="start", timeout=20)
    u.wait_events("skip", 1, phase="start", timeout=20)
    # the master's last write, on its way out, records both running
    u.stop()
    assert_nothing_fatal(u.log())
    doc = read_state(path)
    cut = {}
    for job in ("rerun", "skip"):
        run = doc["jobs"][job]["last"]
        assert (run["outcome"], run["ended_ts"], run["occurrence"]) == ("running", None, at), (job, run)
        assert run["pid"] == u.workers[run["worker"]], (job, run, u.workers)
        cut[job] = run
    mark, _, t_up = restart(u, text)
    for job in ("rerun", "skip"):
        run = cut[job]
        lines = interrupted_lines(u, job, since=mark)
        assert [x[:5] for x in lines] == [(at, run["worker"], run["pid"], "stopped", job == "rerun")], (
            job, lines, u.log(mark)[-3000:])
    # rerun: the same occurrence starts again (late) in a new worker
    again = wait_for(lambda: starts(u, "rerun", since=mark), 15,
                     what=lambda: "the rerun after the restart:\n" + u.log(mark)[-3000:])
    assert [s.instant for s in again] == [at] and again[0].lag > 1000, fmt(again)
    rows = u.wait_events("rerun", 1, phase="start", timeout=10, pid=u.workers[again[0].worker])
    assert len(rows) == 1
    # skip: never again; its record says interrupted (reruns are taken at
    # each worker's start and then once a second: 2 s is plenty)
    wait_for(lambda: time.time() > t_up + 2, 5)
    assert not starts(u, "skip", since=mark), u.log(mark)[-3000:]
    assert not u.events("skip", phase="start", pid=u.workers[cut["skip"]["worker"]])
    wait_for(lambda: read_state(path)["jobs"]["rerun"]["last"]["pid"] == u.workers[again[0].worker], 10)
    doc = read_state(path)
    assert doc["jobs"]["skip"]["last"]["outcome"] == "interrupted", doc["jobs"]["skip"]
    assert doc["jobs"]["skip"]["last"]["occurrence"] == at
    assert doc["jobs"]["rerun"]["last"]["outcome"] == "running" and doc["jobs"]["rerun"]["last"]["occurrence"] == at
    u.stop()
    assert_nothing_fatal(u.log())


# ---- per-worker jobs and pins -----------------------------------------------------

def test_each_worker_runs_each_occurrence_once(uwsgi):
    u = uwsgi()
    setup_app(u)
    path = os.path.join(u.dir, "state.json")
    u.start(ini=state_ini(u, path, cron("pinned", "scope=workers workers=1,3"), cron("every")))
    t_up = us(time.time())
    wait_for(lambda: len([s for s in starts(u, "every") if s.instant > t_up]) >= 6 * 3, 20,
             what=lambda: "six occurrences of every:\n" + u.log()[-3000:])
    until = us(time.time()) - int(1.5 * SECOND)
    u.stop()
    assert_nothing_fatal(u.log())
    for job, wids in (("pinned", [1, 3]), ("every", [1, 2, 3])):
        runs = starts(u, job)
        # the window: from the first occurrence after every worker was up, to
        # one every worker had time to run before the stop
        window = range(floor_s(t_up) + SECOND, floor_s(until) + SECOND, SECOND)
        assert len(window) >= 4, (rfc(t_up), rfc(until))
        by = {t: sorted(s.worker for s in runs if s.instant == t) for t in window}
        bad = {rfc(t): ws for t, ws in by.items() if ws != wids}
        print("\n%s: %d occurrences, runs by worker %s" % (job, len(window), {w: sum(1 for s in runs if s.worker == w)
                                                                          for w in (1, 2, 3)}))
        assert not bad, (job, wids, bad)
        assert all(s.instant % SECOND == 0 and s.coalesced == 0 for s in runs), fmt(runs)
        assert set(read_state(path)["jobs"][job]["workers"]) == {str(w) for w in wids}


# ---- SIGHUP reload ----------------------------------------------------------------

SLOW_IMPORT_APP = '''
import os, time
# the test creates this file before the reload: a new master takes longer
# to load the app than two occurrences of the job
if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "slow-import")):
    time.sleep(2.3)
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


@pytest.mark.parametrize("with_state", [True, False], ids=["state", "no-state"])
def test_sighup_reload(uwsgi, with_state):
    u = uwsgi()
    setup_app(u)
    u.write("app.py", SLOW_IMPORT_APP)
    path = os.path.join(u.dir, "state.json")
    lines = [cron("tick", "scope=once")]
    u.start(ini=state_ini(u, path, *lines) if with_state else ini(u, *lines))
    u.wait_events("tick", 3)
    u.write("slow-import", "")
    mark = u.mark()
    t_hup = time.time()
    u.send(signal.SIGHUP)
    u.wait_workers(since=mark, timeout=40)
    t_up = time.time()
    wait_for(lambda: len([s for s in starts(u, "tick", since=mark) if s.instant > us(t_up)]) >= 3, 20,
             what=lambda: "three runs after the reload:\n" + u.log(mark)[-3000:])
    until = us(time.time()) - int(1.5 * SECOND)
    u.stop()
    assert_nothing_fatal(u.log())
    assert u.count(r"^\[scheduler\] worker \d+ \(pid \d+\): scheduler thread started") == 6
    runs = starts(u, "tick")
    old = [s for s in runs if s.pos < mark]
    new = sorted((s for s in runs if s.pos >= mark), key=lambda s: s.instant)
    acc = account(runs, [], SECOND, until)
    print("\nSIGHUP (%s): last before %s, after: %s" % ("state" if with_state else "no state", rfc(old[-1].instant),
                                                      fmt(new[:5])))
    print(summary("tick", acc))
    assert not acc["duplicates"] and not acc["off_grid"], (acc["duplicates"], acc["off_grid"])
    assert all(s.instant > max(o.instant for o in old) for s in new)
    gap = [t for t in range(max(o.instant for o in old) + SECOND, new[0].instant, SECOND)]
    if with_state:
        # the occurrences due while no worker was up: coalesced into the first
        # run after the reload (the latest of them), then on time
        assert new[0].coalesced >= 1, fmt(new)
        assert not acc["lost"], acc["lost"]
        assert len(gap) == new[0].coalesced, (fmt(old[-2:]), fmt(new[:3]))
        assert u.count(r"^\[scheduler\] state: %s: last runs of 1 job remembered$" % re.escape(path), since=mark) == 1
    else:
        # the new instance starts with the next occurrence after it starts:
        # those due during the reload are not run
        assert new[0].coalesced == 0 and new[0].instant > us(t_hup), fmt(new)
        assert len(gap) >= 2 and acc["lost"] == [rfc(t) for t in gap], (acc["lost"], [rfc(t) for t in gap])
    assert consecutive(new, new[0].instant) and all(s.coalesced == 0 and s.lag < 900 for s in new[1:]), fmt(new)
