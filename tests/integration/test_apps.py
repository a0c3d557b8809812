"""app= runs a job in the interpreter of the app mounted there: uWSGI gives
each mounted Python app its own sub-interpreter."""
from conftest import wait_for

APP = '''
import builtins
builtins.WHO = "%s"
def application(environ, start_response):
    start_response("200 OK", [])
    return [builtins.WHO.encode()]
'''

JOBS = '''
import builtins
from events import record

def who(tag):
    record("who", tag=tag, who=builtins.WHO)
'''


def seen(u, pid=None):
    return {(r["tag"], r["who"]) for r in u.events("who") if pid is None or r["pid"] == pid}


def run(uwsgi, *extra, lazy=False):
    u = uwsgi()
    u.write("a.py", APP % "a")
    u.write("b.py", APP % "b")
    u.write("jobs.py", JOBS)
    u.start(ini="\n".join([
        "[uwsgi]", "http-socket = 127.0.0.1:%d" % u.port, "master = true", "workers = 2",
        "enable-threads = true", "pythonpath = %s" % u.dir, "mount = /a=a.py", "mount = /b=b.py",
        'scheduler-interval = 300ms jobs:who args=["main"] id=main',
        'scheduler-interval = 300ms jobs:who args=["in-b"] app=/b id=b',
        'scheduler-interval = 300ms jobs:who args=["in-a"] app=/a id=a',
    ] + list(extra)) + "\n")
    want = {("main", "a"), ("in-b", "b"), ("in-a", "a")}
    for pid in u.pids():
        wait_for(lambda: seen(u, pid) >= want, 20, what=lambda: "jobs in each interpreter of worker %d:\n%s" % (
            pid, u.log()[-3000:]))
    u.stop()
    assert seen(u) == want
    failures = u.count(r"^\[scheduler\] job \w+: failed")
    if lazy:
        # with lazy-apps a worker mounts its apps after its scheduler has
        # started: a fire before that finds no app there (and says so)
        assert failures == u.count(r'^\[scheduler\] job (a|b): \| no Python app is mounted at "/\1" in this process$')
    else:
        assert failures == 0
    # uWSGI itself reports remaining sub-interpreters when a master with
    # mounts exits; a crash of ours would show as a dead worker instead
    assert u.count(r"DAMN ! worker") == 0


def test_app_selects_the_mounted_interpreter(uwsgi):
    run(uwsgi)


def test_app_selects_the_mounted_interpreter_with_lazy_apps(uwsgi):
    run(uwsgi, "lazy-apps = true", lazy=True)


def test_unknown_app_is_a_startup_error(uwsgi):
    u = uwsgi()
    u.write("a.py", APP % "a")
    u.write("jobs.py", JOBS)
    r = u.run("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "1", "--enable-threads",
              "--pythonpath", u.dir, "--mount", "/a=a.py", "--scheduler-interval", "1s jobs:who app=/c")
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert ('[scheduler] scheduler-interval "1s jobs:who app=/c": cannot load target "jobs:who": '
            'no Python app is mounted at "/c" in this process') in out
    assert "spawned uWSGI worker" not in out
