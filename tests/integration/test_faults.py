"""Faults the scheduler keeps running through, each logged once, clearly,
and counted: an exec: child that dies of a signal; a worker killed by
harakiri or kill -9 while its command runs (the command does not outlive
it: the master stops its process group); a command that ignores SIGTERM
at the instance's stop; and a state file whose file system fills up or
turns read-only (a small tmpfs mounted for the test: the writes fail,
runs go on in memory, the file is written again once there is room)."""
import os
import re
import signal
import subprocess
import threading

import pytest

from conftest import alive, app_ini as ini, free_port, get, wait_for
from test_metrics import job_metrics
from test_once import interruptions, setup_app, stop_clean


def test_an_exec_child_killed_by_a_signal_is_a_failure(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, """scheduler-interval = 300ms exec:"kill -SEGV $$" id=crash""",
                    'scheduler-interval = 200ms jobs:quick args=["q"] id=q', workers=2))
    u.wait_log(r"^\[scheduler\] job crash: \| command killed by signal 11$", count=4)
    # the workers and the other job go on
    n = len(u.events("q"))
    u.wait_events("q", n + 4)
    assert get(u) == b"ok"
    assert re.search(r"^\[scheduler\] job crash: failed \(worker \d, scheduled \S+, [\d.]+ ms; failure \d+ of \d+ "
                     r"runs here\):$", u.log(), re.M)
    stop_clean(u)


HANGING_APP = '''
import time
def application(environ, start_response):
    if environ.get("PATH_INFO") == "/hang":
        time.sleep(30)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''

# The command notes its background child (in its process group) and waits:
# the child is what would be left running, reparented to init.
LONG_COMMAND = 'exec:"sleep 300 & echo $! >> children; wait" id=long'
STOPPING = (r"^\[scheduler\] job long: stopping its command \(process group (\d+)\) with SIGTERM: "
            r"worker 1 \(pid %d\) is gone$")


def children(u, n):
    """The pids of the first n commands' children, once n have started."""
    path = os.path.join(u.dir, "children")
    def started():
        try:
            pids = [int(x) for x in open(path).read().split()]
        except OSError:
            return None
        return pids if len(pids) >= n else None
    return wait_for(started, 30, what="%d command(s) to start" % n)[:n]


@pytest.mark.parametrize("how", ["harakiri", "kill9"])
def test_no_command_outlives_its_worker(uwsgi, how):
    u = uwsgi()
    setup_app(u)
    u.write("app.py", HANGING_APP)
    # scope=once: the next occurrence runs in the respawned worker, not
    # next to the command its predecessor left
    sport = free_port()
    u.start(ini=ini(u, "harakiri = 3", "enable-metrics = true", "stats = 127.0.0.1:%d" % sport,
                    "scheduler-interval = 1s %s scope=once" % LONG_COMMAND, workers=1))
    first = children(u, 1)[0]
    victim = u.workers[1]
    mark = u.mark()
    if how == "harakiri":
        threading.Thread(target=lambda: _quietly(get, u, "/hang", timeout=30), daemon=True).start()
        u.wait_log(r"HARAKIRI", since=mark, timeout=30)
    else:
        os.kill(victim, signal.SIGKILL)
    u.wait_workers([1], since=mark)
    m = u.wait_log(STOPPING % victim, since=mark, timeout=20)
    wait_for(lambda: not alive(first), 10, what="the dead worker's command to be gone")
    assert u.count(STOPPING % victim) == 1
    assert [w for _, _, w, p in interruptions(u, "long") if p == victim] == [1]
    wait_for(lambda: job_metrics(sport, "long")["interrupted"] == 1, 10, what="the interrupted counter")
    # the job goes on in the new worker; its command is stopped with the instance
    second = children(u, 2)[1]
    assert alive(second)
    stop_clean(u, [(1, victim, None)])
    wait_for(lambda: not alive(second), 10, what="the last command to be gone")
    assert re.search(r"^\[scheduler\] job long: stopping its command \(process group \d+\) with SIGTERM: "
                     r"(worker 1 is leaving|the instance is stopping)$", u.log(), re.M)


def _quietly(f, *args, **kw):
    try:
        f(*args, **kw)
    except Exception:
        pass


def test_a_command_ignoring_sigterm_is_killed_at_the_stop(uwsgi):
    u = uwsgi()
    setup_app(u)
    # trap '' TERM: sh and its children ignore SIGTERM
    u.start(ini=ini(u, "scheduler-shutdown-timeout = 1s",
                    'scheduler-cron = @start exec:"trap \\"\\" TERM; sleep 300 & echo $! >> children; wait" id=long',
                    workers=2))
    pids = children(u, 2)
    stop_clean(u)
    for pid in pids:
        wait_for(lambda: not alive(pid), 10, what="command child %d to be gone" % pid)
    assert u.count(r"^\[scheduler\] job long: stopping its command \(process group \d+\) with SIGTERM: ") == 2
    assert u.count(r"^\[scheduler\] job long: its command \(process group \d+\) outlived SIGTERM by \d s: "
                   r"SIGKILL$") == 2


@pytest.fixture
def small_fs(tmp_path):
    """A 64 KiB tmpfs of the test's own (root only: CI and make test run as root)."""
    where = tmp_path / "small"
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.strip())
    yield str(where)
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(path):
    """Fills the file system of path; returns the filler's name."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"x" * 4096):
            pass
    except OSError:
        pass
    os.close(fd)
    return filler


def test_state_file_system_full_then_read_only(uwsgi, small_fs):
    u = uwsgi()
    setup_app(u)
    path = os.path.join(small_fs, "state.json")
    u.start(ini=ini(u, "scheduler-state = %s" % path,
                    'scheduler-cron = * * * * * * jobs:quick args=["t"] id=t scope=once'))
    u.wait_events("t", 2)
    # full: the writes fail (said once), the runs go on
    filler = fill(small_fs)
    full = r"^\[scheduler\] state: cannot (?:create|write) %s: %s \(retrying every second; runs are still recorded in memory\)$" % (
        re.escape(path + ".tmp"), re.escape(os.strerror(28)))
    u.wait_log(full, timeout=15)
    n = len(u.events("t"))
    u.wait_events("t", n + 3)
    assert u.count(full) == 1
    # room again: written again, with the newer runs
    os.unlink(filler)
    again = r"^\[scheduler\] state: %s written again$" % re.escape(path)
    u.wait_log(again, timeout=15)
    # read-only: the same, said once
    subprocess.run(["mount", "-o", "remount,ro", small_fs], check=True)
    ro = r"^\[scheduler\] state: cannot create %s: %s \(retrying every second; runs are still recorded in memory\)$" % (
        re.escape(path + ".tmp"), re.escape(os.strerror(30)))
    try:
        u.wait_log(ro, timeout=15)
        n = len(u.events("t"))
        u.wait_events("t", n + 3)
        assert u.count(ro) == 1
    finally:
        subprocess.run(["mount", "-o", "remount,rw", small_fs], check=True)
    u.wait_log(again, count=2, timeout=15)
    stop_clean(u)
    assert os.path.exists(path)
