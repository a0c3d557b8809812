"""A worker whose scheduler cannot start its threads (pthread_create
failing, as at a thread limit): it says so, undoes what it started (no
executor left waiting), keeps serving requests and stops cleanly."""
import os
import re
import subprocess

import pytest

from conftest import OK_APP, compile_shim, assert_nothing_fatal, get, thread_names

HERE = os.path.dirname(os.path.abspath(__file__))

JOBS = '''
import os
def tick():
    with open(os.path.join(os.path.dirname(__file__), "ticks.log"), "a") as f:
        f.write("%d\\n" % os.getpid())
'''



@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    return compile_shim(tmp_path_factory, "fail_pthread")


@pytest.mark.parametrize("nth, which, keys", [(2, "timing", ""), (1, "executor", ""), (1, "timeout", " timeout=5s"),
                                             (2, "executor", " timeout=5s")])
def test_failed_thread_start_is_undone_and_reported(uwsgi, shim, monkeypatch, nth, which, keys):
    # a worker's pthread_creates: the timeout thread (only for a Python job
    # with timeout=), its first executor (more start later, as fires need
    # them), then its timing thread
    monkeypatch.setenv("LD_PRELOAD", shim)
    monkeypatch.setenv("SCHED_TEST_FAIL_THREAD", str(nth))
    u = uwsgi()
    u.write("jobs.py", JOBS)
    u.write("app.py", OK_APP)
    u.start(ini="\n".join([
        "[uwsgi]", "http-socket = 127.0.0.1:%d" % u.port, "master = true", "workers = 2",
        "enable-threads = true", "wsgi-file = app.py", "scheduler-threads = 2",
        "scheduler-interval = 1s jobs:tick" + keys,
    ]) + "\n", wait=False)
    line = r"worker (\d) \(pid (\d+)\): the scheduler is not running: cannot start the %s thread: " \
           r"Resource temporarily unavailable" % which
    u.wait_log(line, count=2, timeout=30)
    log = u.log()
    assert "scheduler thread started" not in log
    pids = [int(p) for _, p in re.findall(line, log)]
    # nothing of ours is left in the workers: the executors that did start were joined
    for pid in pids:
        assert not [n for n in thread_names(pid) if n.startswith("sched-")], thread_names(pid)
    # the workers serve requests; no job runs
    for _ in range(4):
        assert get(u) == b"ok"
    assert not os.path.exists(os.path.join(u.dir, "ticks.log"))
    code, took = u.stop()
    assert took < 10
    assert_nothing_fatal(u.log())
