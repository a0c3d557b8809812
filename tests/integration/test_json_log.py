"""scheduler-log-format = json: each run's start and end lines are one JSON
object a line (nothing around it), for log shippers; scheduler-log still
decides which lines are written."""
import collections
import datetime
import json
import re

from conftest import app_ini as ini, wait_for
from test_once import setup_app, stop_clean

MORE = "def bad():\n    raise ValueError('no luck')\n"


def json_lines(u):
    """The log lines that are JSON objects of ours (each must parse)."""
    rows = []
    for line in u.log().splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            if row.get("scheduler") == "run":
                rows.append(row)
    return rows


def test_json_run_lines(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.write("more.py", MORE)
    u.start(ini=ini(u, "scheduler-log-format = json",
                    'scheduler-interval = 300ms jobs:quick args=["q"] id=good',
                    "scheduler-interval = 500ms more:bad id=bad", workers=2))
    wait_for(lambda: sum(1 for r in json_lines(u) if r["event"] == "failed") >= 6, 20,
             what=lambda: u.log()[-3000:])
    stop_clean(u)
    rows = json_lines(u)
    # no text run lines beside them
    assert not re.search(r"^\[scheduler\] job (good|bad): (start|ok|failed) \(", u.log(), re.M)
    starts = {(r["job"], r["pid"], r["scheduled"]): r for r in rows if r["event"] == "start"}
    ends = [r for r in rows if r["event"] != "start"]
    assert len(starts) >= 8 and {r["job"] for r in starts.values()} == {"good", "bad"}
    assert {r["worker"] for r in rows} == {1, 2} and {r["pid"] for r in rows} == set(u.workers.values())
    for r in starts.values():
        assert r["lag_ms"] >= 0 and r["late_fires"] == 0 and r["catch_up"] is False, r
        assert abs(r["scheduled_ts"] - datetime.datetime.fromisoformat(r["scheduled"]).timestamp()) < 1e-5
    for r in ends:
        assert (r["job"], r["pid"], r["scheduled"]) in starts, r  # every end has its start
        assert r["duration_ms"] >= 0
        if r["job"] == "good":
            assert r["event"] == "ok" and "error" not in r, r
        else:
            assert r["event"] == "failed" and "ValueError: no luck" in r["error"], r
            assert r["error"].startswith("Traceback (most recent call last):"), r
    # each worker counts its own failures: 1, 2, 3 ...
    by = collections.defaultdict(list)
    for r in ends:
        if r["event"] == "failed":
            by[r["pid"]].append(r["failures"])
    for pid, counts in by.items():
        assert counts == list(range(1, len(counts) + 1)), (pid, counts)


def test_json_lines_follow_scheduler_log(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.write("more.py", MORE)
    u.start(ini=ini(u, "scheduler-log-format = json", "scheduler-log = errors",
                    'scheduler-interval = 300ms jobs:quick args=["q"] id=good',
                    "scheduler-interval = 500ms more:bad id=bad", workers=1))
    wait_for(lambda: len(json_lines(u)) >= 3, 20, what=lambda: u.log()[-3000:])
    u.wait_events("q", 5)
    stop_clean(u)
    assert {r["event"] for r in json_lines(u)} == {"failed"}
    assert {r["job"] for r in json_lines(u)} == {"bad"}


def test_bad_log_format(uwsgi):
    u = uwsgi()
    setup_app(u)
    r = u.run("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--enable-threads", "--wsgi-file", "app.py",
              "--scheduler-log-format", "xml", "--scheduler-interval", "1s jobs:quick")
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert '[scheduler] scheduler-log-format "xml": expected text or json' in out.splitlines(), out[-2000:]
