"""A job target that names the file uWSGI loaded as the app (wsgi-file =,
file =, mount = /x=app.py) runs in the module uWSGI loaded, not in a second
copy that `import app` would make: uWSGI loads such files under a name of
its own (uwsgi_file_app), so a job filling a module-level cache fills the
one the requests read.

The app counts the job's runs in a module-level counter; each request
answers with that counter and the id of its module, and each run records
the id of the module it ran in."""
import json
import os
import re

import pytest

from conftest import assert_nothing_fatal, get_from_each_worker

APP = '''
import json, os, sys, time
from events import record

# a slow import before anything is defined: with lazy-apps the scheduler
# starts before uWSGI loads this file, and a first fire comes meanwhile
time.sleep(%(delay)s)

COUNTER = 0


def bump():
    global COUNTER
    COUNTER += 1
    record("bump", counter=COUNTER, module=id(sys.modules[__name__]), name=__name__, file=__file__)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"pid": os.getpid(), "counter": COUNTER, "module": id(sys.modules[__name__]),
                        "name": __name__}).encode()]
'''

OTHER = '''
def application(environ, start_response):
    start_response("200 OK", [])
    return [b"other"]
'''


def ini(u, *extra, workers=2):
    return "\n".join(["[uwsgi]", "http-socket = 127.0.0.1:%d" % u.port, "master = true",
                      "workers = %d" % workers, "enable-threads = true"] + list(extra)) + "\n"


def parse(body):
    doc = json.loads(body)
    return doc["pid"], doc


def check_shared(u, path="/", name="uwsgi_file_app", runs=3, subinterpreters=False):
    """Each worker's job runs and its requests see one module: the counter
    the requests read is the one the runs increment."""
    bumps = u.wait_events("bump", runs, per_worker=True)
    before = {pid: max(r["counter"] for r in bumps if r["pid"] == pid) for pid in u.pids()}
    pages = get_from_each_worker(u, parse, path=path)
    assert set(pages) == set(u.pids())
    for pid, doc in pages.items():
        mine = [r for r in u.events("bump") if r["pid"] == pid]
        assert {r["module"] for r in mine} == {doc["module"]}, (doc, mine)
        assert {r["name"] for r in mine} == {name} and doc["name"] == name, (doc, mine)
        # the request came after `before[pid]` runs of this worker
        assert doc["counter"] >= before[pid] >= runs, (doc, before)
    u.stop()
    assert u.count(r"^\[scheduler\] job \S+: failed") == 0, u.log()[-3000:]
    if subinterpreters:
        # uWSGI's own exit with mounts in sub-interpreters says "Fatal Python
        # error: PyInterpreterState_Delete: remaining subinterpreters"
        # (without this plugin too); a crash would show as a dead worker
        assert u.count(r"DAMN ! worker") == 0
    else:
        assert_nothing_fatal(u.log())


@pytest.mark.parametrize("option", ["wsgi-file", "file"])
@pytest.mark.parametrize("workers", [1, 2])
def test_job_runs_in_the_module_uwsgi_loaded(uwsgi, option, workers):
    u = uwsgi()
    u.write("app.py", APP % {"delay": 0})
    u.start(ini=ini(u, "%s = app.py" % option, "scheduler-interval = 300ms app:bump", workers=workers))
    check_shared(u)


@pytest.mark.parametrize("workers", [1, 2])
def test_job_runs_in_the_module_uwsgi_loaded_with_lazy_apps(uwsgi, workers):
    # @start fires as the worker's scheduler starts, while uWSGI is still
    # (about to be) loading app.py in that worker: the run waits for it
    u = uwsgi()
    u.write("app.py", APP % {"delay": 1.0})
    u.start(ini=ini(u, "lazy-apps = true", "wsgi-file = app.py", "scheduler-cron = @start app:bump id=first",
                    "scheduler-interval = 300ms app:bump", workers=workers))
    log = u.log()
    for w, pid in u.workers.items():
        # the first run started while the worker was still loading the app
        started = log.index("[scheduler] job first: start (worker %d," % w)
        loaded = re.search(r"^WSGI app 0 \(mountpoint=''\) ready .* pid: %d " % pid, log, re.M)
        assert loaded and started < loaded.start(), log[-3000:]
    check_shared(u)
    assert u.count(r"^\[scheduler\] job first: ok \(worker") == workers


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_job_runs_in_the_mounted_module(uwsgi, lazy):
    # the only app: mounted in the main interpreter, where jobs run by default
    u = uwsgi()
    u.write("app.py", APP % {"delay": 0})
    u.start(ini=ini(u, "mount = /x=app.py", "scheduler-interval = 300ms app:bump",
                    *(["lazy-apps = true"] if lazy else [])))
    check_shared(u, path="/x")


def test_job_runs_in_the_mounted_module_of_its_sub_interpreter(uwsgi):
    # the second mount has its own interpreter: app= runs the job there, in
    # the module uWSGI loaded into it
    u = uwsgi()
    u.write("app.py", APP % {"delay": 0})
    u.write("other.py", OTHER)
    u.start(ini=ini(u, "mount = /other=other.py", "mount = /x=app.py", "manage-script-name = true",
                    "scheduler-interval = 300ms app:bump app=/x"))
    check_shared(u, path="/x", subinterpreters=True)


def test_job_in_a_package_file(uwsgi):
    # wsgi-file = mysite/wsgi.py, target mysite.wsgi:bump: Python would
    # import that very file for mysite.wsgi, so the job runs in the one
    # uWSGI loaded
    u = uwsgi()
    u.write("mysite/__init__.py", "")
    u.write("mysite/wsgi.py", APP % {"delay": 0})
    u.start(ini=ini(u, "wsgi-file = mysite/wsgi.py", "scheduler-interval = 300ms mysite.wsgi:bump"))
    check_shared(u, name="uwsgi_file_mysite_wsgi")


def test_a_module_of_the_same_name_elsewhere_is_imported_as_usual(uwsgi):
    # uWSGI loads site/app.py, but `import app` finds ./app.py (the working
    # directory comes first on sys.path): the target names that other file
    u = uwsgi()
    u.write("site/app.py", APP % {"delay": 0})
    u.write("app.py", APP % {"delay": 0})
    u.start(ini=ini(u, "wsgi-file = site/app.py", "scheduler-interval = 300ms app:bump"))
    bumps = u.wait_events("bump", 2, per_worker=True)
    assert {r["name"] for r in bumps} == {"app"}
    assert {os.path.realpath(r["file"]) for r in bumps} == {os.path.realpath(os.path.join(u.dir, "app.py"))}
    pages = get_from_each_worker(u, parse)
    assert {doc["name"] for doc in pages.values()} == {"uwsgi_file_site_app"}
    assert {doc["counter"] for doc in pages.values()} == {0}
    u.stop()
    assert u.count(r"^\[scheduler\] job \S+: failed") == 0
