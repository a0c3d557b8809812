"""scheduler-jobs-file in real uwsgi masters: its lines are the ini's own
job lines (comments, blank lines, CRLF), its jobs run like the ini's (in
every worker, or once), keep their place among the ini's declarations, are
never uWSGI options (uwsgi.opt does not hold them), are read again at each
reload, and a bad line, a setting, a missing file or a duplicate id stops
uwsgi before any worker with a message that says FILE:LINE."""
import collections
import json
import re

from conftest import app_ini, assert_nothing_fatal, get, wait_for

TASKS = '''
from events import record

def tick(name):
    record(name)
'''
APP = '''
import json
import uwsgi

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    mine = {k: repr(v) for k, v in uwsgi.opt.items() if k.startswith("scheduler-")}
    return [json.dumps(mine).encode()]
'''
START_RE = re.compile(r"^\[scheduler\] job (\S+): start \(worker (\d+), scheduled (\S+),", re.M)


def prepare(u, jobs):
    u.write("tasks.py", TASKS)
    u.write("app.py", APP)
    u.write("jobs.ini", jobs)


def starts(u, job, since=0):
    """(worker, scheduled instant) of every start of job in the log."""
    return [(int(w), t) for j, w, t in START_RE.findall(u.log(since)) if j == job]


def test_jobs_run_in_every_worker_and_once(uwsgi):
    u = uwsgi()
    prepare(u, "# nightly and frequent jobs\r\n"
               "\r\n"
               "scheduler-interval = 1s tasks:tick args=[\"each\"] id=each\r\n"
               "  ; scope=once: each occurrence in one worker\r\n"
               "scheduler-cron=* * * * * * tasks:tick args=[\"once\"] id=once scope=once\r\n")
    u.start(ini=app_ini(u, "scheduler-jobs-file = jobs.ini",
                        'scheduler-interval = 1s tasks:tick args=["ini"] id=ini'), workers=3)
    u.wait_events("each", 3, per_worker=True)
    u.wait_events("ini", 3, per_worker=True)
    wait_for(lambda: len(starts(u, "once")) >= 5, 30, what="5 starts of once")
    u.stop()
    once = starts(u, "once")
    counts = collections.Counter(t for _, t in once)
    assert max(counts.values()) == 1, counts.most_common(3)
    assert_nothing_fatal(u.log())


def test_the_lines_are_not_uwsgi_options(uwsgi):
    u = uwsgi()
    prepare(u, "scheduler-cron = 0 0 29 2 * tasks:tick args=[\"never\"] id=leap\n")
    u.start(ini=app_ini(u, "scheduler-jobs-file = jobs.ini",
                        'scheduler-cron = 0 0 1 1 * tasks:tick args=["x"] id=ini'), workers=2)
    # uWSGI keeps the option naming the file and the ini's job line, none of the file's lines
    assert json.loads(get(u)) == {"scheduler-jobs-file": "b'jobs.ini'",
                                  "scheduler-cron": "b'0 0 1 1 * tasks:tick args=[\"x\"] id=ini'"}
    u.stop()


def test_dry_run_keeps_the_declaration_order(uwsgi):
    u = uwsgi()
    prepare(u, "scheduler-cron = @daily tasks:tick id=b\n"
               "scheduler-job = {\"interval\": \"1h\", \"target\": \"tasks:tick\", \"id\": \"c\"}\n")
    u.write("more.ini", "scheduler-at = 2030-01-01T00:00:00Z tasks:tick id=e\n")
    r = u.run("--scheduler-cron", "@hourly tasks:tick id=a", "--scheduler-jobs-file", "jobs.ini",
              "--scheduler-interval", "5m tasks:tick id=d", "--scheduler-jobs-file", "more.ini",
              "--scheduler-list-json", "1", "--scheduler-list-from", "2026-06-01T00:00:00Z")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    listing = json.loads(r.stdout)
    assert [j["id"] for j in listing["jobs"]] == ["a", "b", "c", "d", "e"]
    assert listing["jobs"][4]["next"] == ["2030-01-01T00:00:00+00:00"]


def test_a_reload_reads_the_file_again(uwsgi):
    """touch-reload on the jobs file: changing it reloads uWSGI, whose new
    workers run the new file's jobs."""
    u = uwsgi()
    prepare(u, "scheduler-interval = 1s tasks:tick args=[\"before\"] id=before\n")
    u.start(ini=app_ini(u, "scheduler-jobs-file = jobs.ini", "touch-reload = jobs.ini"), workers=2)
    u.wait_events("before", 2, per_worker=True)
    u.settle()
    mark = u.mark()
    u.write("jobs.ini", "# changed\nscheduler-interval = 1s tasks:tick args=[\"after\"] id=after\n")
    new = u.wait_workers(since=mark, timeout=40)
    u.wait_events("after", 2, per_worker=True)
    # the new workers run the new file's job, not the old one's
    assert not [r for r in u.events("before") if r["pid"] in new.values()]
    assert u.count(r"^\[scheduler\] 1 job declared", since=mark) == 1
    assert_nothing_fatal(u.log())
    u.stop()


def refused(u, *args):
    u.write("tasks.py", TASKS)
    u.write("app.py", APP)
    r = u.run("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2", "--enable-threads",
              "--wsgi-file", "app.py", *args)
    out = r.stdout + r.stderr
    assert r.returncode == 1, (r.returncode, out[-3000:])
    assert "spawned uWSGI worker" not in out, out[-3000:]
    assert_nothing_fatal(out)
    return out.splitlines()


def test_a_bad_line_names_the_file_and_the_line(uwsgi):
    u = uwsgi()
    u.write("jobs.ini", "# jobs\nscheduler-cron = @daily tasks:tick\n\nscheduler-cron = */0 * * * * tasks:tick\n")
    assert ('[scheduler] jobs.ini:4: scheduler-cron "*/0 * * * * tasks:tick": field 1 (minute): step 0 must be >= 1'
            in refused(u, "--scheduler-jobs-file", "jobs.ini"))


def test_settings_and_sections_are_not_job_lines(uwsgi):
    u = uwsgi()
    u.write("jobs.ini", "scheduler-cron = @daily tasks:tick\nscheduler-timezone = UTC\n")
    assert ('[scheduler] jobs.ini:2: "scheduler-timezone" is not a job option: a jobs file takes scheduler-cron, '
            'scheduler-interval, scheduler-at and scheduler-job (settings go in the ini)'
            in refused(u, "--scheduler-jobs-file", "jobs.ini"))
    u.write("jobs.ini", "[uwsgi]\nscheduler-cron = @daily tasks:tick\n")
    assert ('[scheduler] jobs.ini:1: a section header: a jobs file holds job lines only, without [sections]'
            in refused(u, "--scheduler-jobs-file", "jobs.ini"))


def test_a_missing_file(uwsgi):
    u = uwsgi()
    assert ('[scheduler] scheduler-jobs-file "nope.ini": cannot open it: No such file or directory'
            in refused(u, "--scheduler-jobs-file", "nope.ini"))
    assert ('[scheduler] scheduler-jobs-file ".": not a regular file' in refused(u, "--scheduler-jobs-file", "."))


def test_a_duplicate_id_across_the_ini_and_the_file(uwsgi):
    u = uwsgi()
    u.write("jobs.ini", "\nscheduler-interval = 1s tasks:tick id=x\n")
    assert ('[scheduler] jobs.ini:2: scheduler-interval "1s tasks:tick id=x": duplicate job id "x" '
            '(also scheduler-cron "@daily tasks:tick id=x"): give one of them id=...'
            in refused(u, "--scheduler-cron", "@daily tasks:tick id=x", "--scheduler-jobs-file", "jobs.ini"))


def test_checks_after_parsing_name_the_line(uwsgi):
    u = uwsgi()
    u.write("jobs.ini", "scheduler-cron = @daily tasks:tick scope=workers workers=5\n")
    assert ('[scheduler] jobs.ini:1: scheduler-cron "@daily tasks:tick scope=workers workers=5": workers= names '
            'worker 5, but this instance has 2 workers' in refused(u, "--scheduler-jobs-file", "jobs.ini"))
    u.write("jobs.ini", "\n\nscheduler-cron = @daily tasks:nothing_here\n")
    lines = refused(u, "--scheduler-jobs-file", "jobs.ini")
    assert any(line.startswith('[scheduler] jobs.ini:3: scheduler-cron "@daily tasks:nothing_here": cannot load')
               for line in lines), lines
