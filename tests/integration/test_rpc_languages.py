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
            "--scheduler-interval", "300ms rpc:remember", plugins=("psgi",), wait_ready=False)
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
