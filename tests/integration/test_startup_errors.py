"""Every declaration or setting the plugin refuses stops uwsgi before any
worker is spawned, with one message that quotes what was written and says
what is wrong; a target that cannot be imported is refused too when apps
load eagerly, and is a failure of each fire with lazy-apps."""
import re

from conftest import assert_nothing_fatal, wait_for

JOBS = "def f():\n    pass\n\ndef purge(days, *, dry_run=False):\n    pass\n\ndef anything(*a, **kw):\n    pass\n"
APP = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def refused(uwsgi, *args, plugins=("python3",), app=True, status=None):
    u = uwsgi()
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)
    base = ["--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2", "--enable-threads"]
    if app:
        base += ["--wsgi-file", "app.py"]
    r = u.run(*(base + list(args)), plugins=plugins)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    if status is not None:
        assert r.returncode == status, (r.returncode, out[-3000:])
    assert "spawned uWSGI worker" not in out, out[-3000:]
    assert_nothing_fatal(out)
    return out


def lines(out):
    return out.splitlines()


def test_bad_cron_field(uwsgi):
    out = refused(uwsgi, "--scheduler-cron", "*/0 * * * * jobs:f")
    assert '[scheduler] scheduler-cron "*/0 * * * * jobs:f": field 1 (minute): step 0 must be >= 1' in lines(out)


def test_unknown_key(uwsgi):
    out = refused(uwsgi, "--scheduler-interval", "1s jobs:f bogus=1")
    assert ('[scheduler] scheduler-interval "1s jobs:f bogus=1": unknown key "bogus" (known: id, args, kwargs, '
            'context, tz, jitter, misfire-grace, coalesce, max-running, overlap, timeout, start, end, paused, scope, workers, '
            'legion, app, catch-up, interrupted, retries, retry-delay, retry-backoff, retry-max-delay, on-failure, '
            'on-success)') in lines(out)


def test_bad_json_args(uwsgi):
    out = refused(uwsgi, "--scheduler-interval", "1s jobs:f args=[1,")
    assert ('[scheduler] scheduler-interval "1s jobs:f args=[1,": "args": invalid JSON: '
            "']' expected near end of file") in lines(out)


def test_args_that_are_not_an_array(uwsgi):
    out = refused(uwsgi, "--scheduler-interval", '1s jobs:f args={"a": 1}')
    assert ('[scheduler] scheduler-interval "1s jobs:f args={"a": 1}": args={"a": 1}: expected a JSON array'
            ) in lines(out)


def test_duplicate_id_names_both_declarations(uwsgi):
    out = refused(uwsgi, "--scheduler-interval", "1s jobs:f", "--scheduler-cron", "*/5 * * * * jobs:f")
    assert ('[scheduler] scheduler-cron "*/5 * * * * jobs:f": duplicate job id "jobs:f" '
            '(also scheduler-interval "1s jobs:f"): give one of them id=...') in lines(out)


def test_duplicate_key(uwsgi):
    out = refused(uwsgi, "--scheduler-cron", "*/5 * * * * app:f timeout=1s timeout=5s", status=1)
    assert ('[scheduler] scheduler-cron "*/5 * * * * app:f timeout=1s timeout=5s": duplicate key "timeout"'
            ) in lines(out)


def test_duplicate_id_key(uwsgi):
    out = refused(uwsgi, "--scheduler-cron", "*/5 * * * * app:f id=a id=b", status=1)
    assert '[scheduler] scheduler-cron "*/5 * * * * app:f id=a id=b": duplicate key "id"' in lines(out)


def test_duplicate_key_in_the_json_form(uwsgi):
    decl = '{"cron": "* * * * *", "target": "app:f", "timeout": "1s", "timeout": "5s"}'
    out = refused(uwsgi, "--scheduler-job", decl, status=1)
    assert '[scheduler] scheduler-job "%s": duplicate key "timeout"' % decl in lines(out)


def test_bad_tz(uwsgi):
    out = refused(uwsgi, "--scheduler-cron", "0 9 * * * jobs:f tz=Mars/Olympus")
    assert ('[scheduler] scheduler-cron "0 9 * * * jobs:f tz=Mars/Olympus": tz=Mars/Olympus: '
            'unknown time zone "Mars/Olympus" (no /usr/share/zoneinfo/Mars/Olympus)') in lines(out)


def test_bad_scheduler_timezone(uwsgi):
    out = refused(uwsgi, "--scheduler-timezone", "Mars/Olympus", "--scheduler-interval", "1s jobs:f")
    assert ('[scheduler] scheduler-timezone "Mars/Olympus": unknown time zone "Mars/Olympus" '
            '(no /usr/share/zoneinfo/Mars/Olympus)') in lines(out)


def test_bad_shutdown_timeout(uwsgi):
    out = refused(uwsgi, "--scheduler-shutdown-timeout", "10q", "--scheduler-interval", "1s jobs:f")
    assert '[scheduler] scheduler-shutdown-timeout "10q": unknown unit "q" (use us, ms, s, m, h, d, w)' in lines(out)


def test_bad_scheduler_log(uwsgi):
    out = refused(uwsgi, "--scheduler-log", "loud", "--scheduler-interval", "1s jobs:f")
    assert '[scheduler] scheduler-log "loud": expected all, errors or none' in lines(out)


def test_bad_scheduler_threads(uwsgi):
    out = refused(uwsgi, "--scheduler-threads", "65", "--scheduler-interval", "1s jobs:f")
    assert '[scheduler] scheduler-threads "65": expected a number of threads, 1-64' in lines(out)


def test_scheduler_threads_that_is_not_a_number(uwsgi):
    # uWSGI's int options read "abc" as 0; the scheduler must not take
    # that for "unset" and start with 1 thread. Started (not run) so that,
    # should it not exit, the fixture stops the whole process group.
    u = uwsgi()
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2", "--enable-threads",
            "--wsgi-file", "app.py", "--scheduler-threads", "abc", "--scheduler-interval", "1s jobs:f",
            wait=False)
    wait_for(lambda: u.proc.poll() is not None or "spawned uWSGI worker" in u.log(), 15,
             what="uwsgi to exit or spawn")
    code = u.proc.poll()
    out = u.log()
    assert code is not None and code != 0, "uwsgi started with scheduler-threads = abc:\n" + out[-1500:]
    assert "spawned uWSGI worker" not in out
    assert re.search(r'^\[scheduler\] scheduler-threads "abc": ', out, re.M), out[-2000:]


def test_python_target_without_a_python_plugin(uwsgi):
    out = refused(uwsgi, "--scheduler-interval", "1s jobs:f", plugins=(), app=False)
    assert ('[scheduler] scheduler-interval "1s jobs:f": target "jobs:f" is Python but no Python plugin '
            'is loaded: add plugins = python3') in lines(out)


def test_exec_target_needs_no_python_plugin(uwsgi):
    # the counterpart: the check is about Python targets only
    u = uwsgi()
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "1", "--enable-threads",
            "--scheduler-interval", "300ms exec:echo hi-$$ id=e", plugins=())
    u.wait_log(r"^\[scheduler\] job e: \| hi-\d+$", count=2)
    u.stop()
    assert "Python" not in u.log()


def test_unimportable_target_with_eager_loading(uwsgi):
    out = refused(uwsgi, "--scheduler-interval", "1s nosuch:f")
    assert ('[scheduler] scheduler-interval "1s nosuch:f": cannot load target "nosuch:f": '
            "ModuleNotFoundError: No module named 'nosuch'") in lines(out)
    out = refused(uwsgi, "--scheduler-interval", "1s jobs:f", "--scheduler-cron", "* * * * * jobs:nope")
    assert ('[scheduler] scheduler-cron "* * * * * jobs:nope": cannot load target "jobs:nope": '
            "AttributeError: module 'jobs' has no attribute 'nope'") in lines(out)


def test_arguments_that_do_not_fit_the_target(uwsgi):
    # with eager loading the job's args, kwargs and context= are bound to the
    # target's signature in the master: a TypeError at every run is a
    # startup error instead
    sig = "jobs:purge(days, *, dry_run=False)"
    cases = [
        ("0 3 * * * jobs:purge", "missing a required argument: 'days'"),
        ("0 3 * * * jobs:purge args=[7] context=ctx", "got an unexpected keyword argument 'ctx'"),
        ('0 3 * * * jobs:purge args=[7] kwargs={"dry": true}', "got an unexpected keyword argument 'dry'"),
        ("0 3 * * * jobs:purge args=[7,8]", "too many positional arguments"),
    ]
    for line, why in cases:
        out = refused(uwsgi, "--scheduler-cron", line)
        assert ('[scheduler] scheduler-cron "%s": cannot load target "jobs:purge": the job\'s arguments do not fit '
                "%s: %s" % (line, sig, why)) in lines(out), out[-3000:]
    # what fits starts; so does a target whose signature takes anything
    u = uwsgi()
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "1", "--enable-threads",
            "--wsgi-file", "app.py", "--scheduler-cron", '0 3 * * * jobs:purge args=[7] kwargs={"dry_run": true}',
            "--scheduler-cron", "0 3 * * * jobs:anything args=[1,2] context=ctx")
    u.stop()
    assert "cannot load target" not in u.log()


def test_missing_function_in_the_wsgi_file(uwsgi):
    # app:nope names app.py, which uWSGI loaded (as uwsgi_file_app): the
    # message names the module as written and the file
    out = refused(uwsgi, "--scheduler-interval", "1s app:nope")
    prefix = ('[scheduler] scheduler-interval "1s app:nope": cannot load target "app:nope": '
              "AttributeError: module 'app' has no attribute 'nope' (the module uWSGI loaded from /")
    assert [ln for ln in lines(out) if ln.startswith(prefix) and ln.endswith("/app.py)")], out[-3000:]


def test_unimportable_target_with_lazy_apps_fails_each_fire(uwsgi):
    u = uwsgi()
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2", "--enable-threads",
            "--lazy-apps", "--wsgi-file", "app.py", "--scheduler-interval", "400ms nosuch:f")
    u.wait_log(r"^\[scheduler\] job nosuch:f: failed \(worker \d+", count=6, timeout=20)
    log = u.log()
    # both workers fail on their own, and stay up
    assert set(re.findall(r"job nosuch:f: failed \(worker (\d+)", log)) == {"1", "2"}
    assert u.count(r"^\[scheduler\] job nosuch:f: \| ModuleNotFoundError: No module named 'nosuch'$") >= 6
    assert "cannot load target" not in log
    code, took = u.stop()
    assert_nothing_fatal(u.log())
    assert len(u.worker_pids()) == 2 and "Respawned" not in u.log()


def test_numeric_options_that_are_not_numbers(uwsgi):
    # uWSGI's own int options read "abc" as 0; ours say what is wrong
    out = refused(uwsgi, "--scheduler-rpc-signal", "300", "--scheduler-interval", "1s rpc:f")
    assert '[scheduler] scheduler-rpc-signal "300": expected a uWSGI signal number, 0-255' in lines(out)
    out = refused(uwsgi, "--scheduler-rpc-signal", "x", "--scheduler-interval", "1s rpc:f")
    assert '[scheduler] scheduler-rpc-signal "x": expected a uWSGI signal number, 0-255' in lines(out)
    out = refused(uwsgi, "--scheduler-list", "abc", "--scheduler-interval", "1s jobs:f")
    assert '[scheduler] scheduler-list "abc": expected a number of fire times, 1-10000' in lines(out)
    out = refused(uwsgi, "--scheduler-list-json", "0", "--scheduler-interval", "1s jobs:f")
    assert '[scheduler] scheduler-list-json "0": expected a number of fire times, 1-10000' in lines(out)


def test_context_errors(uwsgi):
    cases = [
        ("scheduler-cron", "* * * * * jobs:f context=x-y",
         "context=x-y: expected a Python identifier (ASCII letters, digits, _)"),
        ("scheduler-interval", "1s jobs:f context=lambda", "context=lambda: expected a Python identifier, not a keyword"),
        ("scheduler-interval", "1s exec:/usr/bin/backup --all context=ctx",
         "context=ctx: only Python targets take a context; exec: commands get SCHEDULER_* environment variables "
         "instead"),
        ("scheduler-interval", "1s rpc:report context=ctx",
         "context=ctx: only Python targets take a context; rpc: functions take none"),
        ("scheduler-interval", "1s signal:17 context=ctx",
         "context=ctx: only Python targets take a context; signal: targets take none"),
        ("scheduler-interval", '1s jobs:f kwargs={"ctx": 1} context=ctx', 'context=ctx: kwargs already has a key "ctx"'),
    ]
    for option, line, why in cases:
        out = refused(uwsgi, "--" + option, line, status=1)
        assert '[scheduler] %s "%s": %s' % (option, line, why) in lines(out), out[-3000:]


def test_context_errors_in_the_json_form(uwsgi):
    decl = '{"interval": "1s", "target": "jobs:f", "context": "1st"}'
    out = refused(uwsgi, "--scheduler-job", decl, status=1)
    assert ('[scheduler] scheduler-job "%s": context=1st: expected a Python identifier (ASCII letters, digits, _)'
            % decl) in lines(out)
    decl = '{"interval": "1s", "target": "exec:true", "context": "ctx"}'
    out = refused(uwsgi, "--scheduler-job", decl, status=1)
    assert ('[scheduler] scheduler-job "%s": context=ctx: only Python targets take a context; '
            'exec: commands get SCHEDULER_* environment variables instead' % decl) in lines(out)
    decl = '{"interval": "1s", "target": "jobs:f", "kwargs": {"run": null}, "context": "run"}'
    out = refused(uwsgi, "--scheduler-job", decl, status=1)
    assert '[scheduler] scheduler-job "%s": context=run: kwargs already has a key "run"' % decl in lines(out)


def test_a_job_with_nothing_left_to_fire_is_said_at_startup(uwsgi):
    """An instant in the past (or an end= that has passed) is accepted - a
    state file may remember that it ran - but said: it will not run."""
    u = uwsgi()
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)
    u.start("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2", "--enable-threads",
            "--wsgi-file", "app.py", "--scheduler-at", "2020-01-01T00:00:00Z jobs:f id=gone",
            "--scheduler-cron", "* * * * * jobs:f id=over end=2021-01-01T00:00:00Z",
            "--scheduler-interval", "1h jobs:f id=fine")
    log = u.log()
    assert ('[scheduler] job gone: scheduler-at "2020-01-01T00:00:00Z jobs:f id=gone": nothing is left to fire '
            "(its last instant has passed): it will not run") in lines(log)
    assert ('[scheduler] job over: scheduler-cron "* * * * * jobs:f id=over end=2021-01-01T00:00:00Z": nothing is '
            "left to fire (its end= has passed): it will not run") in lines(log)
    assert "job fine: " not in log
    code, _ = u.stop()
    assert_nothing_fatal(u.log())
