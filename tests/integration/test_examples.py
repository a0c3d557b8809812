"""The runnable examples (examples/flask, examples/django, examples/rpc,
examples/failures, examples/cluster),
started from a copy of their own directory and ini.

Each test copies the example into its directory and changes only what a
test must: the `plugins =` line goes (the harness loads python3 and the
freshly built plugin, so `make install` is not needed), the port becomes a
free one, and the slow schedules (every minute, daily) are shortened to
every 2 seconds. Every rewrite must match a line of the real ini, so an
example and its test cannot drift apart silently."""
import datetime
import html
import http.cookiejar
import importlib.util
import json
import os
import re
import shutil
import socket
import sqlite3
import time
import urllib.request

import pytest

from conftest import ROOT, assert_nothing_fatal, get_from_each_worker, wait_for

EXAMPLES = os.path.join(ROOT, "examples")


def copy_example(u, name, rewrites=()):
    """Copies examples/<name> into u.dir and returns its app.ini, adapted."""
    shutil.copytree(os.path.join(EXAMPLES, name), u.dir, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", "*.sqlite3", "*.log",
                                                  "scheduler-state.json*"))
    with open(os.path.join(u.dir, "app.ini")) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^plugins\s*=.*\n", "", text)
    assert n == 1, "no plugins = line in examples/%s/app.ini" % name
    text, n = re.subn(r"(?m)^http-socket\s*=\s*127\.0\.0\.1:\d+$", "http-socket = 127.0.0.1:%d" % u.port, text)
    assert n == 1, "no http-socket = 127.0.0.1:PORT line in examples/%s/app.ini" % name
    for old, new in rewrites:
        assert old in text, "examples/%s/app.ini no longer contains %r" % (name, old)
        text = text.replace(old, new)
    return text


def pids_logging(u, pattern):
    """The pids a job printed with `pattern` (one group: the pid)."""
    return [int(p) for p in re.findall(pattern, u.log())]


# ---------------------------------------------------------------- flask

FLASK_JOBS = ["app:refresh_cache", "app:purge_sessions"]

def seed_sessions(u):
    """4 expired sessions for the purge, 1 that must survive it."""
    now = time.time()
    with sqlite3.connect(os.path.join(u.dir, "sessions.db")) as conn:
        conn.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
        conn.executemany("INSERT INTO sessions VALUES (?, ?, ?)",
                         [("old%d" % i, now - 3600, now - 60) for i in range(4)] + [("live", now, now + 3600)])
    conn.close()


def test_flask_example(uwsgi):
    u = uwsgi()
    ini = copy_example(u, "flask", [
        ("scheduler-interval = 10s app:refresh_cache", "scheduler-interval = 1s app:refresh_cache"),
        ("scheduler-cron = * * * * * app:purge_sessions scope=once context=ctx",
         "scheduler-cron = */2 * * * * * app:purge_sessions scope=once context=ctx"),
    ])
    seed_sessions(u)
    u.start(ini=ini)
    w1, w2 = u.workers[1], u.workers[2]

    # (a) every worker refreshes its own cache, and the page shows it
    wait_for(lambda: {w1, w2} <= set(pids_logging(u, r"cache refreshed in worker pid (\d+)")), 15,
             what="a cache refresh in both workers:\n%s" % u.log()[-3000:])

    def parse(body):
        doc = json.loads(body)
        return doc["worker_pid"], doc

    pages = get_from_each_worker(u, parse)
    assert set(pages) == {w1, w2}
    for pid, doc in pages.items():
        cache = doc["cache"]
        assert cache["refreshed_by_pid"] == pid, doc
        assert cache["refreshes"] >= 1 and cache["refreshed_at"], doc
        assert cache["stats"]["sessions"] >= 1, doc

    # (b) each purge runs in one worker (any), and the 4 expired rows go once
    purges = lambda: [(int(n), when, int(w), int(p)) for n, when, w, p in re.findall(
        r"purged (\d+) sessions expired by (\S+) \(worker (\d+), pid (\d+)\)", u.log())]
    wait_for(lambda: len(purges()) >= 3, 15, what="3 purges:\n%s" % u.log()[-3000:])
    assert {p for _, _, _, p in purges()} <= {w1, w2}
    assert sum(n for n, _, _, _ in purges()) == 4
    assert "job app:purge_sessions: scope=once: each occurrence runs in one worker (shared claims)" in u.log()
    starts = re.findall(r"job app:purge_sessions: start \(worker (\d+), scheduled (\S+),", u.log())
    scheduled = [s for _, s in starts]
    assert len(scheduled) >= 3 and len(scheduled) == len(set(scheduled)), scheduled
    # the context: each purge knew its scheduled instant and its worker
    for n, when, w, p in purges():
        assert (str(w), when) in starts and u.workers[w] == p, (when, w, p, starts)
    with sqlite3.connect(os.path.join(u.dir, "sessions.db")) as conn:
        ids = {row[0] for row in conn.execute("SELECT id FROM sessions")}
    conn.close()
    assert "live" in ids and not any(i.startswith("old") for i in ids), ids
    assert_nothing_fatal(u.log())

    # (c) the state file: the master kept the purge's last run; stopped over
    # a due time (every 2 s here) and started again, the purge catches up
    u.stop()
    with open(os.path.join(u.dir, "scheduler-state.json")) as f:
        last = json.load(f)["jobs"]["app:purge_sessions"]["last"]
    starts = re.findall(r"job app:purge_sessions: start \(worker (\d+), scheduled (\S+),", u.log())
    assert last["outcome"] == "ok" and last["scheduled"] == starts[-1][1], (last, starts[-1])
    time.sleep(2.5)  # a due time passes while uWSGI is down
    mark = u.mark()
    restarted = time.time()
    u.start(ini=ini)
    u.wait_log(r"job app:purge_sessions: start", since=mark, timeout=15)
    first, coalesced = re.findall(r"job app:purge_sessions: start \(worker \d+, scheduled (\S+), lag [\d.]+ ms"
                                  r"(?:, (\d+) late fires? coalesced)?\)", u.log(mark))[0]
    when = lambda text: datetime.datetime.fromisoformat(text).timestamp()
    # the first run after the restart is for the occurrences due while uWSGI
    # was down, one or more: when the start is slow (a loaded machine), the
    # next occurrence is due before the scheduler runs and is coalesced with
    # them, so the run's scheduled time may be after the restart. What must
    # hold: it covers every occurrence since the last run, none skipped, and
    # the earliest of them was due before the restart (a catch-up).
    missed = (when(first) - when(last["scheduled"])) / 2
    coalesced = int(coalesced or 0)
    assert missed >= 1 and missed == int(missed), (first, last["scheduled"])
    assert coalesced == missed - 1, (first, last["scheduled"], coalesced)
    assert when(first) - 2 * coalesced < restarted, (first, coalesced, restarted)
    assert re.search(r"state: \S+/scheduler-state\.json: last runs of 2 jobs remembered", u.log(mark)), u.log(mark)


def test_flask_admin_page(uwsgi):
    """/admin/jobs lists the jobs, and its buttons run, pause and resume
    them through the plugin's RPC functions, each answer flashed on the
    page the POST redirects to (which either worker may serve)."""
    u = uwsgi()
    ini = copy_example(u, "flask", [
        ("scheduler-interval = 10s app:refresh_cache", "scheduler-interval = 1s app:refresh_cache"),
    ])
    seed_sessions(u)
    u.start(ini=ini)
    base = "http://127.0.0.1:%d/admin/jobs" % u.port
    # the flashed answer travels in the session cookie
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def page(url=base, post=False):
        with browser.open(urllib.request.Request(url, data=b"" if post else None), timeout=10) as r:
            assert r.status == 200 and r.geturl() == base, (r.status, r.geturl())  # POST-redirect-GET
            return r.read().decode()

    def jobs():
        with browser.open(base + ".json", timeout=10) as r:
            assert r.headers.get_content_type() == "application/json"
            return {job["id"]: job for job in json.load(r)["jobs"]}

    table = page()
    for job_id in FLASK_JOBS:
        assert "<td>%s</td>" % html.escape(job_id) in table, (job_id, table)
    assert table.count("<button>Run now</button>") == len(FLASK_JOBS), table
    assert table.count("<button>Pause</button>") == len(FLASK_JOBS), table

    # run now: the purge (scope=once) runs once, in one worker, at the instant asked for
    asked = r"job app:purge_sessions: start \(worker (\d+), asked for at (\S+) by scheduler\.run,"
    answer = page(base + "/app:purge_sessions/run", post=True)
    assert "app:purge_sessions: run asked for: one worker runs it now" in answer, answer
    u.wait_log(asked, timeout=15)
    worker, at = re.search(asked, u.log()).groups()
    u.wait_log(r"job app:purge_sessions: ok \(worker %s, scheduled %s," % (worker, re.escape(at)), timeout=15)
    assert re.search(r"purged \d+ sessions expired by %s \(worker %s, pid %d\)"
                     % (re.escape(at), worker, u.workers[int(worker)]), u.log()), u.log()[-3000:]
    with sqlite3.connect(os.path.join(u.dir, "sessions.db")) as conn:
        ids = {row[0] for row in conn.execute("SELECT id FROM sessions")}
    conn.close()
    assert ids == {"live"}, ids
    manual = [r for r in jobs()["app:purge_sessions"]["history"] if r["how"] == "manual"]
    assert len(manual) == 1 and manual[0]["outcome"] == "ok" and manual[0]["scheduled"] == at, manual
    assert "(manual)" in page()

    # pause and resume the refresh (every worker's): the list says so, and so does the page
    answer = page(base + "/app:refresh_cache/pause", post=True)
    assert "app:refresh_cache: paused on every worker" in answer, answer
    assert jobs()["app:refresh_cache"]["paused"] is True
    assert "<button>Resume</button>" in answer, answer
    mark = u.mark()
    answer = page(base + "/app:refresh_cache/resume", post=True)
    assert "app:refresh_cache: resumed on every worker" in answer, answer
    assert jobs()["app:refresh_cache"]["paused"] is False
    assert "<button>Resume</button>" not in answer, answer
    # resumed for real: each worker refreshes again
    wait_for(lambda: set(u.pids()) <= set(int(p) for p in re.findall(
        r"cache refreshed in worker pid (\d+)", u.log(mark))), 15, what="a refresh in both workers after the resume")

    # an unknown job: the plugin's error, flashed as one
    answer = page(base + "/no-such-job/pause", post=True)
    assert '<p class="error">no-such-job: no job &#34;no-such-job&#34; in this instance</p>' in answer, answer

    u.stop()
    # still exactly one run asked for, now that every worker has stopped
    assert len(re.findall(asked, u.log())) == 1, u.log()[-3000:]
    assert_nothing_fatal(u.log())


def test_flask_admin_without_uwsgi():
    """Under flask run (no uwsgi module) the admin page says there is no
    scheduler instead of failing."""
    spec = importlib.util.spec_from_file_location("flask_example_app", os.path.join(EXAMPLES, "flask", "app.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.uwsgi is None
    client = module.app.test_client()
    r = client.get("/admin/jobs")
    assert r.status_code == 503 and "No scheduler here" in r.get_data(as_text=True)
    r = client.get("/admin/jobs.json")
    assert r.status_code == 503 and "No scheduler here" in r.get_json()["error"]
    r = client.post("/admin/jobs/app:purge_sessions/run")
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/jobs")
    assert "No scheduler here" in client.get("/admin/jobs").get_data(as_text=True)


# --------------------------------------------------------------- django

def test_django_example(uwsgi):
    u = uwsgi()
    ini = copy_example(u, "django", [
        ("scheduler-cron = 0 3 * * * shop.jobs:purge_sessions tz=Europe/Paris scope=once",
         "scheduler-cron = */2 * * * * * shop.jobs:purge_sessions tz=Europe/Paris scope=once"),
        ('"cron": "*/15 8-19 * * mon-sat"', '"cron": "*/2 * * * * *"'),
    ])
    u.start(ini=ini)
    w1, w2 = u.workers[1], u.workers[2]
    # the master migrated before forking: the tables exist; 3 expired sessions
    with sqlite3.connect(os.path.join(u.dir, "db.sqlite3"), timeout=10) as conn:
        conn.executemany("INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)",
                         [("expired%d" % i, "e30:", "2000-01-01 00:00:00") for i in range(3)])
    conn.close()

    # @start: one warm-up in each worker, at once
    u.wait_log(r"^\[scheduler\] job warm-cache-at-start: ok \(worker [12],", count=2, timeout=15)
    assert set(pids_logging(u, r"cache warmed in worker pid (\d+): 3 featured products")) == {w1, w2}

    def parse(body):
        doc = json.loads(body)
        return doc["worker_pid"], doc

    pages = get_from_each_worker(u, parse)
    assert set(pages) == {w1, w2}
    for pid, doc in pages.items():
        assert doc["source"] == "cache", doc
        assert doc["warmed_by_pid"] == pid, doc
        assert [p["name"] for p in doc["products"]] == ["Espresso cup", "French press", "Grinder"], doc

    # the daily purge (here every 2 s), each in one worker; 3 expired
    # sessions go, the sessions the requests above opened stay
    purges = lambda: [(int(n), int(p)) for n, p in
                      re.findall(r"purged (\d+) expired sessions \(worker pid (\d+)\)", u.log())]
    wait_for(lambda: sum(n for n, _ in purges()) >= 3 and len(purges()) >= 2, 15,
             what="the expired sessions purged:\n%s" % u.log()[-3000:])
    assert {p for _, p in purges()} <= {w1, w2}
    assert sum(n for n, _ in purges()) == 3
    scheduled = re.findall(r"job shop\.jobs:purge_sessions: start \(worker \d+, scheduled (\S+),", u.log())
    assert len(scheduled) == len(set(scheduled)), scheduled
    with sqlite3.connect(os.path.join(u.dir, "db.sqlite3"), timeout=10) as conn:
        keys = [row[0] for row in conn.execute("SELECT session_key FROM django_session")]
    conn.close()
    assert len(keys) >= 2 and not any(k.startswith("expired") for k in keys), keys

    # the scheduler-job = {JSON} job, with its kwargs, in one worker
    wait_for(lambda: u.count(r"low stock \(< 5\): Kettle=2, French press=3 \(worker pid \d+\)") >= 1, 10,
             what="the low stock report:\n%s" % u.log()[-3000:])
    assert set(pids_logging(u, r"low stock \(< 5\): .* \(worker pid (\d+)\)")) <= {w1, w2}
    reports = re.findall(r"job low-stock-report: start \(worker \d+, scheduled (\S+),", u.log())
    assert len(reports) == len(set(reports)), reports
    assert "Traceback" not in u.log(), u.log()[-3000:]
    assert_nothing_fatal(u.log())


# ------------------------------------------------------------------ rpc

def test_rpc_example(uwsgi):
    u = uwsgi()
    ini = copy_example(u, "rpc", [
        ("scheduler-cron = */30 * * * * * rpc:send_digest", "scheduler-cron = */2 * * * * * rpc:send_digest"),
        ("scheduler-interval = 20s signal:17", "scheduler-interval = 2s signal:17"),
    ])
    u.start(ini=ini)
    w1, w2 = u.workers[1], u.workers[2]

    # rpc: runs where the job fires (one worker per fire), with the JSON args as strings
    wait_for(lambda: len(pids_logging(u, r"rpc send_digest\('daily', 50\) in worker pid (\d+)")) >= 2, 15,
             what="2 RPC calls:\n%s" % u.log()[-3000:])
    callers = pids_logging(u, r"rpc send_digest\('daily', 50\) in worker pid (\d+)")
    assert set(callers) <= {w1, w2}
    assert "rpc send_digest returned 4 bytes" in u.log()

    # signal: raised once per fire (by one worker), handled by every worker
    wait_for(lambda: {w1, w2} <= set(pids_logging(u, r"signal 17: feature flags reloaded in worker pid (\d+)")),
             15, what="signal 17 handled by both workers:\n%s" % u.log()[-3000:])
    for job in ("signal:17", "rpc:send_digest"):
        scheduled = re.findall(r"job %s: start \(worker \d+, scheduled (\S+)," % re.escape(job), u.log())
        assert len(scheduled) == len(set(scheduled)), (job, scheduled)
    assert not re.search(r"job (signal:17|rpc:send_digest): failed", u.log()), u.log()[-3000:]

    def parse(body):
        lines = body.splitlines()
        pid = int(lines[0].split()[-1])
        return pid, dict(line.split(": ", 1) for line in lines[1:])

    pages = get_from_each_worker(u, parse)
    # each worker counts the digests it sent: the calls, once each, shared between them
    assert int(pages[w1]["digests_sent"]) + int(pages[w2]["digests_sent"]) >= len(callers), pages
    assert pages[w1]["flags_reloaded_at"] != "None" and pages[w2]["flags_reloaded_at"] != "None", pages
    assert_nothing_fatal(u.log())


# ------------------------------------------------------------- failures

def test_failures_example(uwsgi):
    """The backup retried, then the webhook with the error; after a good
    run the dead man's switch gets its ping; the alarm logs each failure."""
    u = uwsgi()
    text = copy_example(u, "failures", [
        ("scheduler-cron = 0 3 * * * app:backup", "scheduler-cron = */4 * * * * * app:backup"),
        ("retry-delay=30s retry-backoff=2", "retry-delay=300ms retry-backoff=1 retries=2"),
        ("retries=3 ", ""),
        ("scheduler-interval = 30s app:import_feed", "scheduler-interval = 1s app:import_feed"),
    ])
    text = text.replace("127.0.0.1:9094/", "127.0.0.1:%d/" % u.port)
    open(os.path.join(u.dir, "disk-full"), "w").close()
    with open(os.path.join(u.dir, "slow-feed"), "w") as f:
        f.write("1.6")  # longer than its interval: the next import waits for it
    u.start(ini=text)

    def received(kind):
        try:
            body = urllib.request.urlopen("http://127.0.0.1:%d/" % u.port, timeout=10).read()
        except OSError:
            return []
        return [r for r in json.loads(body) if r["kind"] == kind]
    alert = wait_for(lambda: received("alert"), 40, what="the webhook")[0]
    assert alert["job"] == "backup" and alert["attempt"] == "3"
    assert alert["error"].startswith("Traceback ") and "OSError: [Errno 28] No space left on device (attempt 3)" in alert["error"]
    assert not received("ping")
    assert u.count(r"ALARM: \[scheduler\] job backup failed \(worker \d, scheduled \S+, attempt 1 of 3\): OSError") >= 1
    assert u.count(r"ALARM: \[scheduler\] job backup gave up \(worker \d, scheduled \S+, attempt 3 of 3\): OSError") >= 1
    os.unlink(os.path.join(u.dir, "disk-full"))
    ping = wait_for(lambda: received("ping"), 40, what="the dead man's switch")[0]
    assert ping["job"] == "backup"
    assert os.listdir(os.path.join(u.dir, "backups"))
    u.wait_log(r"job import-feed: the run scheduled \S+ waits for a run going on to end \(overlap=queue", count=2)
    # in each worker, one import at a time: start and ok alternate
    for w in ("1", "2"):
        seq = re.findall(r"job import-feed: (start|ok) \(worker %s," % w, u.log())
        assert seq[:len(seq) // 2 * 2] == ["start", "ok"] * (len(seq) // 2), seq
    u.stop()
    assert_nothing_fatal(u.log())


# -------------------------------------------------------------- cluster

def test_cluster_example(uwsgi, tmp_path):
    """The three instances of examples/cluster, from one copy of it (they
    share its digests.log, as the README runs them): the highest valor is
    lord and sends each digest, once; the shipped schedule parses."""
    shared = str(tmp_path / "cluster")
    shutil.copytree(os.path.join(EXAMPLES, "cluster"), shared,
                    ignore=shutil.ignore_patterns("__pycache__", "*.log"))
    legion_ports = {"4241": None, "4242": None, "4243": None}
    socks = []
    for port in legion_ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        socks.append(sock)
        legion_ports[port] = str(sock.getsockname()[1])
    for sock in socks:
        sock.close()
    us = {}
    for name in ("a", "b", "c"):
        path = os.path.join(shared, name + ".ini")
        with open(path) as f:
            text = f.read()
        r = uwsgi().run("--ini", path, "--scheduler-list", "1")
        assert r.returncode == 0 and re.findall(r"(?m)^(\S+)\n  trigger", r.stdout) == ["digest"], r.stdout + r.stderr
        assert "uwsgi --ini %s.ini" % name in open(os.path.join(EXAMPLES, "cluster", "README.md")).read()
        us[name] = uwsgi()
        text, n = re.subn(r"(?m)^plugins = python3,scheduler\n", "", text)
        assert n == 1, text
        text, n = re.subn(r"(?m)^http-socket = 127\.0\.0\.1:\d+$", "http-socket = 127.0.0.1:%d" % us[name].port, text)
        assert n == 1, text
        text, n = re.subn(r"127\.0\.0\.1:(424[123])", lambda m: "127.0.0.1:" + legion_ports[m.group(1)], text)
        assert n == 3, text
        old = "scheduler-cron = 0 8 * * * app:send_digest"
        assert old in text
        with open(path, "w") as f:
            f.write(text.replace(old, "scheduler-cron = * * * * * * app:send_digest"))
    for name in ("a", "b", "c"):
        us[name].start("--ini", os.path.join(shared, name + ".ini"))
    us["a"].wait_log(r"^\[scheduler\] legion digest: this instance is lord \(valor 300\)", timeout=40)

    def digests():
        try:
            with open(os.path.join(shared, "digests.log")) as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []
    wait_for(lambda: len(digests()) >= 3, 20, what=lambda: "3 digests: %s" % digests())
    for name in ("a", "b", "c"):
        us[name].stop()
    sent = digests()
    assert {d["sent_by"] for d in sent} == {"a"}, sent
    assert len({d["digest_for"] for d in sent}) == len(sent), sent
    for u in us.values():
        assert_nothing_fatal(u.log())


# ---------------------------------------------- the inis as users run them

@pytest.mark.parametrize("name,ids", [
    ("flask", FLASK_JOBS),
    ("django", ["warm-cache-at-start", "warm-cache", "shop.jobs:purge_sessions", "low-stock-report"]),
    ("rpc", ["rpc:send_digest", "signal:17"]),
    ("failures", ["backup", "import-feed"]),
])
def test_example_ini_as_shipped(uwsgi, name, ids):
    """The unmodified schedules parse (dry run), and the README shows the
    one command that runs the example."""
    u = uwsgi()
    path = u.write("shipped.ini", copy_example(u, name))
    r = u.run("--ini", path, "--scheduler-list", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    listed = re.findall(r"(?m)^(\S+)\n  trigger", r.stdout)
    assert listed == ids, r.stdout + r.stderr
    with open(os.path.join(EXAMPLES, name, "README.md")) as f:
        readme = f.read()
    assert "uwsgi --ini examples/%s/app.ini" % name in readme
    with open(os.path.join(EXAMPLES, name, "app.ini")) as f:
        shipped = f.read()
    assert re.search(r"(?m)^plugins = python3,scheduler$", shipped)
    for option in ("master = true", "workers = 2", "enable-threads = true", "chdir = %d"):
        assert re.search(r"(?m)^%s$" % re.escape(option), shipped), option


def test_wsgi_example_with_its_jobs_file(uwsgi):
    """The demo's ini and its jobs file: the file's job is listed after the
    ini's, and runs in one worker a minute (its schedule shortened)."""
    u = uwsgi()
    text = copy_example(u, "wsgi")
    path = u.write("shipped.ini", text)
    r = u.run("--ini", path, "--scheduler-list", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.findall(r"(?m)^(\S+)\n  trigger", r.stdout) == ["tasks:tick", "report", "minute"], r.stdout
    jobs = os.path.join(u.dir, "jobs.ini")
    with open(jobs) as f:
        lines = f.read()
    lines, n = re.subn(r"(?m)^scheduler-cron = \* \* \* \* \* tasks:tick", "scheduler-cron = */2 * * * * * tasks:tick",
                       lines)
    assert n == 1
    u.write("jobs.ini", lines)
    u.start("--ini", path, workers=2)
    wait_for(lambda: u.count(r"^minute \(one worker\) from worker pid") >= 3, 30,
             what=lambda: "3 runs of minute:\n" + u.log()[-3000:])
    u.stop()
    starts = re.findall(r"(?m)^\[scheduler\] job minute: start \(worker \d+, scheduled (\S+),", u.log())
    assert len(starts) >= 3 and len(set(starts)) == len(starts), starts
    assert_nothing_fatal(u.log())
