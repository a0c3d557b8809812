"""The wall clock stepping an hour forward and back under a real uwsgi
(master, 2 workers), without touching the machine's clock: every uwsgi
process preloads shims/clock_offset.c, whose wall clock is the real one
plus an offset that the test rewrites in a shared file (one pwrite steps
the master and both workers at once); the monotonic clock does not move.

What ../shared/cron-semantics.md asks ("Wall clock, time zones and DST"):
cron and date jobs follow the new wall time; the fires a step forward
skips are late fires for the job's misfire-grace and coalesce (latest by
default: one run, for the latest); the fires a step back would repeat are
not repeated; intervals keep their pace on the monotonic clock. Each
worker says each step once:
`[scheduler] worker N: the wall clock stepped forward by 3600.0 s: ...`.

The jobs: `sec` every second (misfire-grace=5s, shorter than the step:
its catch-up run must be for the latest second, on time), `once` every
second with scope=once (one run per instant in the instance, across the
step too), `half` every 500 ms, and in the forward test `fixed`, a
fixed-time job due half-way through the hour the step skips. The runs come
from the log's start lines (test_once.starts)."""
import collections
import datetime
import os
import re
import signal
import struct
import subprocess
import time

import pytest

from conftest import compile_shim, app_ini as ini, get, wait_for
from test_once import SECOND, now_us, rfc, setup_app, starts, stop_clean
from test_overlap import runs as job_runs

HERE = os.path.dirname(os.path.abspath(__file__))
HOUR = 3600 * SECOND

STEP_LINE = (r"^\[scheduler\] worker (\d): the wall clock stepped %s by 3600\.0 s: cron and date jobs follow the "
             r"new time \(%s\), intervals keep their pace$")
FORWARD = STEP_LINE % ("forward", "the fires it skipped are late fires")
BACK = STEP_LINE % ("back", "no fire is repeated")
ANY_STEP = r"^\[scheduler\] worker \d: the wall clock stepped"
SUMMARY_RE = re.compile(r"^\[scheduler\] worker (\d): job (\S+): (\d+) runs, (\d+) failed, (\d+) skipped, "
                        r"(\d+) misfired$", re.M)
JOBS = ['scheduler-cron = * * * * * * jobs:quick args=["sec"] id=sec misfire-grace=5s',
        'scheduler-cron = * * * * * * jobs:quick args=["once"] id=once scope=once',
        'scheduler-interval = 500ms jobs:quick args=["half"] id=half']


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    return compile_shim(tmp_path_factory, "clock_offset")


class WallClock:
    """The offset (µs) every uwsgi process of the test adds to its wall clock."""

    def __init__(self, directory, shim):
        self.path = os.path.join(directory, "clock_offset")
        self.offset = 0
        with open(self.path, "wb") as f:
            f.write(struct.pack("<q", 0))
        self.env = {"LD_PRELOAD": shim, "USCH_CLOCK_OFFSET_FILE": self.path}

    def step(self, us):
        # in place: the processes have the file mapped
        self.offset += us
        fd = os.open(self.path, os.O_WRONLY)
        try:
            assert os.pwrite(fd, struct.pack("<q", self.offset), 0) == 8
        finally:
            os.close(fd)

    def now(self):
        """The wall clock uwsgi reads, µs."""
        return now_us() + self.offset


def by_worker(runs):
    out = collections.defaultdict(list)
    for s in runs:
        out[s.worker].append(s)
    return out


def start_stepping(u, shim, *extra):
    setup_app(u)
    clock = WallClock(u.dir, shim)
    u.start(ini=ini(u, *(JOBS + list(extra)), workers=2), env=clock.env)
    for job in ("sec", "half"):
        wait_for(lambda: all(len(by_worker(starts(u, job))[w]) >= 2 for w in (1, 2)), 20,
                 what=lambda: "two starts of %s in each worker:\n%s" % (job, u.log()[-3000:]))
    return clock


def wait_runs(u, job, n, since, per_worker=True):
    def enough():
        runs = starts(u, job, since)
        return all(len(by_worker(runs)[w]) >= n for w in (1, 2)) if per_worker else len(runs) >= n
    wait_for(enough, 20, what=lambda: "%d starts of %s after the step:\n%s" % (n, job, u.log(since)[-3000:]))


def assert_once_per_instant(u):
    """scope=once: no instant started twice, across the workers."""
    counts = collections.Counter(s.instant for s in starts(u, "once"))
    twice = sorted(rfc(t) for t, n in counts.items() if n > 1)
    assert not twice, "once-job instants started more than once: %s" % twice


def unstepped(t, real_us):
    """An instant read on a wall clock an hour off (either way) from the
    real one at real_us, back on the real one."""
    return t - HOUR if t > real_us + HOUR // 2 else t + HOUR if t < real_us - HOUR // 2 else t


def assert_interval_kept_its_pace(u, real_us):
    """Each worker's `half` runs, their scheduled instants taken back to
    the real clock (those of the stepped one read it), are 500 ms apart
    (a coalesced run stands for its late fires too): none lost, none
    repeated, the grid unmoved by the steps."""
    for w, runs in sorted(by_worker(starts(u, "half")).items()):
        real = [unstepped(s.instant, real_us) for s in runs]
        gaps = [(b - a) / SECOND for a, b in zip(real, real[1:])]
        wrong = [(i, g) for i, (g, s) in enumerate(zip(gaps, runs[1:])) if abs(g - 0.5 * (1 + s.coalesced)) > 0.02]
        assert not wrong, "worker %d: half's runs %s apart (index, s):\n%s" % (w, wrong, [rfc(s.instant) for s in runs])


def assert_counters(u, elapsed_s):
    """The workers' summaries at the stop: a skipped hour counted as one
    run, not thousands; nothing failed, skipped or misfired."""
    rows = SUMMARY_RE.findall(u.log())
    assert {(w, j) for w, j, *_ in rows} >= {(w, j) for w in "12" for j in ("sec", "half")}, rows
    for w, job, runs, failed, skipped, misfired in rows:
        assert (failed, skipped, misfired) == ("0", "0", "0"), (w, job, runs, failed, skipped, misfired)
        per_second = {"half": 2}.get(job, 1)
        assert int(runs) <= per_second * (elapsed_s + 3), (w, job, runs, elapsed_s)


def fixed_time_job(at_us):
    """A fixed-time job of the wall time at at_us (UTC), once a day."""
    t = datetime.datetime.fromtimestamp(at_us // SECOND, datetime.timezone.utc)
    return "scheduler-cron = %d %d %d * * * jobs:quick args=[\"fixed\"] id=fixed tz=UTC" % (t.second, t.minute, t.hour)


def test_step_forward_an_hour_is_one_late_run(uwsgi, shim):
    u = uwsgi()
    t0 = time.monotonic()
    fixed_at = (now_us() // SECOND + 1800) * SECOND
    clock = start_stepping(u, shim, fixed_time_job(fixed_at))
    mark = u.mark()
    clock.step(HOUR)
    stepped = clock.now()
    t_step = time.monotonic()
    u.wait_log(FORWARD, count=2, since=mark)
    assert sorted(re.findall(FORWARD, u.log(since=mark), re.M)) == ["1", "2"]
    wait_runs(u, "sec", 4, mark)
    wait_runs(u, "once", 4, mark, per_worker=False)
    assert get(u) == b"ok"
    window = time.monotonic() - t_step

    # sec: in each worker one run for the hour, for its latest second, on
    # time (within misfire-grace), then each second again: no burst
    for w, runs in sorted(by_worker(starts(u, "sec", mark)).items()):
        late = [s for s in runs if s.coalesced]
        assert len(late) == 1, (w, late)
        s = late[0]
        print("\nworker %d: sec ran for %s, lag %.1f ms, %d late fires coalesced" % (w, rfc(s.instant), s.lag,
                                                                                       s.coalesced))
        assert 3599 <= s.coalesced <= 3600, s
        assert stepped - 1500000 <= s.instant <= stepped + 1500000 and s.lag < 1500, (rfc(s.instant), s.lag)
        assert all(r.lag < 1000 for r in runs if r is not s), runs
        assert len(runs) <= window + 2, (len(runs), window)
    # once: the same catch-up, in the worker that claims it; a worker that
    # noticed the step a second later counts the hour into its next fire
    # too (its own schedule's count), but runs no instant twice
    late = [s for s in starts(u, "once", mark) if s.coalesced]
    assert 1 <= len(late) <= 2 and all(3599 <= s.coalesced <= 3601 for s in late), late
    assert len(late) == 1 or late[1].instant == late[0].instant + SECOND, late
    assert_once_per_instant(u)
    # fixed: its time was skipped: it runs once, late, in each worker
    fixed = starts(u, "fixed")
    assert sorted(s.worker for s in fixed) == [1, 2], fixed
    assert all(s.instant == fixed_at and s.coalesced == 0 for s in fixed), [(rfc(s.instant), s.coalesced) for s in fixed]
    assert not re.search(r"^\[scheduler\] job \S+: (misfire|skipped)", u.log(), re.M), u.log()[-3000:]

    stop_clean(u)
    assert u.count(ANY_STEP) == 2, u.log()[-3000:]
    assert_interval_kept_its_pace(u, stepped - HOUR)
    assert_counters(u, time.monotonic() - t0)


def test_step_back_an_hour_repeats_no_fire(uwsgi, shim):
    u = uwsgi()
    t0 = time.monotonic()
    clock = start_stepping(u, shim)
    mark = u.mark()
    before = {w: runs[-1].instant for w, runs in by_worker([s for s in starts(u, "sec") if s.pos < mark]).items()}
    clock.step(-HOUR)
    t_step = time.monotonic()
    stepped = clock.now()
    u.wait_log(BACK, count=2, since=mark)
    assert sorted(re.findall(BACK, u.log(since=mark), re.M)) == ["1", "2"]
    # for 3 s more (six half runs in each worker) the cron jobs are quiet,
    # the interval is not: what starts after the mark was due before the
    # step (one fire at most), and is not a repeat
    wait_runs(u, "half", 6, u.mark())
    assert get(u) == b"ok"
    for w, runs in by_worker(starts(u, "sec", mark)).items():
        assert len(runs) <= 1 and all(s.instant > before[w] for s in runs), (w, runs, u.log(mark)[-3000:])
    assert len(starts(u, "once", mark)) <= 1, u.log(mark)[-3000:]

    # the clock comes back: the jobs go on from their last fire, the
    # seconds the clock was back being late fires of one run
    mark = u.mark()
    clock.step(HOUR)
    restored = clock.now()
    away = time.monotonic() - t_step + 2
    u.wait_log(FORWARD, count=2, since=mark)
    wait_runs(u, "sec", 2, mark)
    for w, runs in sorted(by_worker(starts(u, "sec", mark)).items()):
        s = runs[0]
        print("\nworker %d: the clock back where it was: sec ran for %s, lag %.1f ms, %d late fires coalesced" % (
            w, rfc(s.instant), s.lag, s.coalesced))
        assert 1 <= s.coalesced <= away and abs(s.instant - restored) < 1500000, (w, runs, away)
    assert_once_per_instant(u)
    assert not re.search(r"^\[scheduler\] job \S+: (misfire|skipped)", u.log(), re.M), u.log()[-3000:]

    stop_clean(u)
    assert u.count(ANY_STEP) == 4, u.log()[-3000:]
    # no instant ran twice in a worker, and their order never went back
    for w, runs in by_worker(starts(u, "sec")).items():
        instants = [s.instant for s in runs]
        assert instants == sorted(set(instants)), (w, [rfc(t) for t in instants])
    assert_interval_kept_its_pace(u, stepped + HOUR)
    assert_counters(u, time.monotonic() - t0)


def test_a_fire_waiting_for_a_place_across_workers_is_not_held_up_by_a_step_forward(uwsgi, shim):
    """scope=once, overlap=queue: the fire waits in one worker for the run
    going on in the other, looking again every 100 ms. Those looks are
    timed on the monotonic clock: on the wall clock, an hour's step forward
    made the next look an hour away, and the job stopped running."""
    u = uwsgi()
    setup_app(u)
    clock = WallClock(u.dir, shim)
    # one executor in each worker: the worker running the job cannot take
    # its next fire, the other one claims it and waits
    u.start(ini=ini(u, "scheduler-threads = 1",
                    'scheduler-interval = 1s jobs:held args=["slow", 2.5] id=slow scope=once overlap=queue',
                    workers=2), env=clock.env)
    u.wait_log(r"job slow: the run scheduled \S+ waits for a run going on to end \(overlap=queue", timeout=20)
    clock.step(HOUR)
    mark_n = len(u.events("slow"))
    wait_for(lambda: sum(1 for _, e in job_runs(u, "slow", since_n=mark_n) if e) >= 3, 30,
             what=lambda: "3 runs of slow after the step:\n" + u.log()[-3000:])
    rs = [r for r in job_runs(u, "slow", since_n=mark_n) if r[1]]
    # one at a time, each started soon after the one before it ended
    for (a, a_end), (b, _) in zip(rs, rs[1:]):
        assert a_end["t"] <= b["t"] < a_end["t"] + 1.5, (a_end, b)
    stop_clean(u)


def test_a_stop_after_a_step_forward_keeps_its_shutdown_timeout(uwsgi, shim):
    """A graceful reload waits scheduler-shutdown-timeout for the runs going
    on, then leaves them; a brutal stop waits a fixed half second: both on
    the monotonic clock. On the wall clock an hour's step forward made each
    of those waits an hour long (until uWSGI's mercy killed the worker)."""
    u = uwsgi()
    setup_app(u)
    clock = WallClock(u.dir, shim)
    u.start(ini=ini(u, "scheduler-shutdown-timeout = 1s",
                    'scheduler-cron = @start jobs:held args=["slow", 120] id=slow', workers=2), env=clock.env)
    u.wait_events("slow", 2, phase="start", timeout=20)
    clock.step(HOUR)
    mark = u.mark()
    t0 = time.monotonic()
    u.send(signal.SIGHUP)
    u.wait_log(r"^\[scheduler\] worker \d: shutdown timeout exceeded, 1 job\(s\) still running$", count=2,
               since=mark, timeout=40)
    u.wait_workers(since=mark, timeout=40)
    assert time.monotonic() - t0 < 10, u.log(mark)[-3000:]
    u.wait_events("slow", 4, phase="start", timeout=20)
    code, took = u.stop(timeout=40)
    assert took < 10, (took, u.log()[-3000:])
    assert u.count(r"^\[scheduler\] worker \d: exiting with 1 job\(s\) still running$", since=mark) == 4, \
        u.log(mark)[-3000:]
    assert not u.events("slow", phase="end")
