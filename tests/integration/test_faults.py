"""Faults the scheduler keeps running through, each logged once, clearly,
and counted: an exec: child that dies of a signal, and a state file whose
file system fills up or turns read-only (a small tmpfs mounted for the
test: the writes fail, runs go on in memory, the file is written again
once there is room)."""
import os
import re
import subprocess

import pytest

from conftest import app_ini as ini, get
from test_once import setup_app, stop_clean


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
