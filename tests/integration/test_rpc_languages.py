"""rpc: targets into apps of other languages: a PSGI (Perl) app registers
an RPC sub; the scheduler gets it called in the worker's own request
thread (Perl keeps an interpreter per request core)."""
import os
import re

from conftest import assert_nothing_fatal

PSGI = r'''
use JSON::PP ();
use Time::HiRes ();
my $dir = '%(dir)s';
# an event in the harness's format (conftest.EVENTS_MODULE), from Perl
my $ok = uwsgi::register_rpc('remember', sub {
    open(my $f, '>>', "$dir/events.jsonl") or die;
    print $f JSON::PP::encode_json({job => 'remember', worker => uwsgi::worker_id() + 0, pid => $$ + 0,
                                    t => Time::HiRes::time(), args => [@_]}) . "\n";
    close $f;
    return "done";
});
my $app = sub { return [200, ['Content-Type' => 'text/plain'], ["hello"]]; };
'''


def psgi_ini(u, *extra):
    return "\n".join(["[uwsgi]", "http-socket = 127.0.0.1:%d" % u.port, "master = true", "workers = 2",
                      "enable-threads = true", "psgi = app.psgi"] + list(extra)) + "\n"


def test_rpc_into_a_perl_app_runs_in_each_worker(uwsgi):
    u = uwsgi()
    u.write("app.psgi", PSGI % {"dir": u.dir})
    u.start(ini=psgi_ini(u, 'scheduler-interval = 300ms rpc:remember args=["a b", 7]'), plugins=("psgi",))
    rows = u.wait_events("remember", 1, per_worker=True)
    assert {r["pid"] for r in rows} == set(u.pids())
    assert {r["worker"] for r in rows} == {1, 2}
    # arguments arrive as strings, in order
    assert all(r["args"] == ["a b", "7"] for r in rows), rows
    assert u.count(r"signum 254 registered .*target: workers") == 1
    # the outcome is logged once the call has returned
    u.wait_log(r"job rpc:remember: ok \(worker 1,")
    u.wait_log(r"job rpc:remember: ok \(worker 2,")
    u.stop()
    assert u.count(r"job rpc:remember: failed") == 0
    assert_nothing_fatal(u.log())


def test_rpc_into_perl_without_master_fails_cleanly(uwsgi):
    u = uwsgi()
    u.write("app.psgi", PSGI % {"dir": u.dir})
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--enable-threads", "--psgi", "app.psgi",
            "--scheduler-interval", "300ms rpc:remember", plugins=("psgi",))
    assert u.workers == {1: u.proc.pid}
    u.wait_log(r"job rpc:remember: \| cannot call RPC functions of this language: needs --master", count=2)
    assert not u.events("remember")
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
    assert not u.events("remember")
    u.stop()

    v = uwsgi()
    v.write("app.psgi", "uwsgi::register_signal(254, 'workers', sub { });\n" + PSGI % {"dir": v.dir})
    v.start(ini=psgi_ini(v, "scheduler-interval = 300ms rpc:remember", "scheduler-rpc-signal = 200"),
            plugins=("psgi",))
    v.wait_events("remember", 1, per_worker=True)
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
    pids = set(u.pids())
    for pid in pids:
        u.wait_log(r"refresh_cache\(boot\) in worker pid %d:" % pid)
        u.wait_log(r"refresh_cache\(timer\) in worker pid %d:" % pid, count=2)
    assert {int(p) for p in re.findall(r"refresh_cache\(timer\) in worker pid (\d+)", u.log())} == pids
    body = urllib.request.urlopen("http://127.0.0.1:%d/" % u.port, timeout=10).read().decode()
    m = re.match(r"worker (\d+): cache refreshed (\d+) times", body)
    assert m and int(m.group(1)) in pids and int(m.group(2)) >= 1, body
    assert u.count(r"job \S+: failed") == 0
    u.stop()
    assert_nothing_fatal(u.log())
