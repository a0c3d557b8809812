"""rpc: targets into apps of other languages: a PSGI (Perl) app registers
an RPC sub; the scheduler gets it called in the worker's own request
thread (Perl keeps an interpreter per request core)."""
import os
import re
import signal

from conftest import assert_nothing_fatal, wait_for

PSGI = r'''
my $dir = '%(dir)s';
my $ok = uwsgi::register_rpc('remember', sub {
    open(my $f, '>>', "$dir/calls.txt") or die;
    print $f "$$ @_\n";
    close $f;
    return "done";
});
my $app = sub { return [200, ['Content-Type' => 'text/plain'], ["hello"]]; };
'''


def calls(u):
    path = os.path.join(u.dir, "calls.txt")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def psgi_ini(u, *extra):
    return "\n".join(["[uwsgi]", "http-socket = 127.0.0.1:%d" % u.port, "master = true", "workers = 2",
                      "enable-threads = true", "psgi = app.psgi"] + list(extra)) + "\n"


def test_rpc_into_a_perl_app_runs_in_each_worker(uwsgi):
    u = uwsgi()
    u.write("app.psgi", PSGI % {"dir": u.dir})
    u.start(ini=psgi_ini(u, 'scheduler-interval = 300ms rpc:remember args=["a b", 7]'), plugins=("psgi",))
    wait_for(lambda: len({c[0] for c in calls(u)}) == 2, 20,
             what="calls from both workers:\n" + u.log()[-3000:])
    pids = {int(c[0]) for c in calls(u)}
    assert pids == set(u.worker_pids())
    # arguments arrive as strings, in order
    assert all(c[1:] == ["a", "b", "7"] for c in calls(u)), calls(u)
    assert u.count(r"signum 254 registered .*target: workers") == 1
    assert u.count(r"job rpc:remember: ok \(worker") >= 2
    assert u.count(r"job rpc:remember: failed") == 0
    u.stop()
    assert_nothing_fatal(u.log())


def test_rpc_into_perl_without_master_fails_cleanly(uwsgi):
    u = uwsgi()
    u.write("app.psgi", PSGI % {"dir": u.dir})
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--enable-threads", "--psgi", "app.psgi",
            "--scheduler-interval", "300ms rpc:remember", plugins=("psgi",), wait=False)
    u.wait_log(r"job rpc:remember: \| cannot call RPC functions of this language: needs --master", count=2)
    assert not calls(u)
    assert u.count(r"rpc: jobs can call Python RPC functions only: needs --master") == 1
    code, took = u.stop()
    assert took < 10
    assert_nothing_fatal(u.log())


def test_rpc_signal_taken_by_the_app_is_reported(uwsgi):
    u = uwsgi()
    u.write("app.psgi", "uwsgi::register_signal(254, 'workers', sub { });\n" + PSGI % {"dir": u.dir})
    u.start(ini=psgi_ini(u, "scheduler-interval = 300ms rpc:remember"), plugins=("psgi",))
    assert u.count(r"rpc: jobs can call Python RPC functions only: uWSGI signal 254 is already "
                   r"registered by the app: choose a free one with scheduler-rpc-signal") == 1
    u.wait_log(r"job rpc:remember: \| cannot call RPC functions of this language: uWSGI signal 254 is "
               r"already registered", count=2)
    assert not calls(u)
    u.stop()

    v = uwsgi()
    v.write("app.psgi", "uwsgi::register_signal(254, 'workers', sub { });\n" + PSGI % {"dir": v.dir})
    v.start(ini=psgi_ini(v, "scheduler-interval = 300ms rpc:remember", "scheduler-rpc-signal = 200"),
            plugins=("psgi",))
    wait_for(lambda: len(calls(v)) >= 2, 20, what="calls with scheduler-rpc-signal = 200")
    v.stop()
    assert_nothing_fatal(v.log())


def test_psgi_example_runs(uwsgi, tmp_path):
    import shutil
    import urllib.request
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "examples", "psgi")
    u = uwsgi()
    for name in ("app.psgi", "app.ini"):
        shutil.copy(os.path.join(src, name), u.dir)
    with open(os.path.join(u.dir, "app.ini")) as f:
        text = f.read()
    assert "plugins = psgi,scheduler\n" in text and "127.0.0.1:9094" in text
    text = text.replace("plugins = psgi,scheduler\n", "").replace("127.0.0.1:9094", "127.0.0.1:%d" % u.port)
    text = text.replace("scheduler-interval = 10s rpc:refresh_cache", "scheduler-interval = 1s rpc:refresh_cache")
    u.write("app.ini", text)
    u.start("--ini", os.path.join(u.dir, "app.ini"), plugins=("psgi",))
    u.wait_log(r"refresh_cache\(boot\) in worker pid \d+", count=2)
    u.wait_log(r"refresh_cache\(timer\) in worker pid \d+", count=4)
    pids = {int(p) for p in re.findall(r"refresh_cache\(timer\) in worker pid (\d+)", u.log())}
    assert pids == set(u.worker_pids())
    body = urllib.request.urlopen("http://127.0.0.1:%d/" % u.port, timeout=10).read().decode()
    m = re.match(r"worker (\d+): cache refreshed (\d+) times", body)
    assert m and int(m.group(1)) in pids and int(m.group(2)) >= 1, body
    assert u.count(r"job \S+: failed") == 0
    u.stop()
    assert_nothing_fatal(u.log())
