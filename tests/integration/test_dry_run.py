"""The dry run: --scheduler-list N / --scheduler-list-json N print every
job's next fires and exit 0 before threads are checked, before any app is
imported and before any worker is spawned. Expected instants follow
/work/shared/cron-semantics.md and are checked against zoneinfo."""
import json
import os
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

# importing either would leave a marker: the dry run must import neither
APP = '''
import os
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imported-app"), "w").close()
def application(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]
'''
JOBS = '''
import os
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imported-jobs"), "w").close()
def f():
    pass
'''

JOB_ARGS = [
    # fixed-time, across the spring-forward gap (02:00 -> 03:00 on 2026-03-29)
    "--scheduler-cron", "0 30 2 * * * jobs:f id=daily tz=Europe/Paris",
    # follows the clock: the skipped 02:30 never fires
    "--scheduler-cron", "0 30 * * * * jobs:f id=hourly tz=Europe/Paris",
    # elapsed time, whatever the wall clock does
    "--scheduler-interval", "12h jobs:f id=every12h tz=Europe/Paris",
    "--scheduler-at", "2026-03-29T03:30:00+02:00 jobs:f id=once tz=Europe/Paris",
    # exactly the base instant: not strictly after it, so nothing to list
    "--scheduler-at", "2026-03-28T11:00:00Z jobs:f id=past",
]


def prepare(u):
    u.write("app.py", APP)
    u.write("jobs.py", JOBS)


def dry(u, *args):
    r = u.run("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--workers", "2",
              "--wsgi-file", "app.py", *args)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "spawned uWSGI worker" not in out
    assert "WSGI app 0" not in out
    assert "threads are disabled" not in out
    assert not os.path.exists(os.path.join(u.dir, "imported-app"))
    assert not os.path.exists(os.path.join(u.dir, "imported-jobs"))
    return r


def local(text):
    """An RFC 3339 string of a wall time in Paris, with the offset zoneinfo gives (first occurrence)."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).isoformat()


def test_zoneinfo_agrees_on_the_transitions():
    # the facts the expected values below rest on
    gap = datetime(2026, 3, 29, 2, 30, tzinfo=PARIS)
    assert gap.astimezone(timezone.utc).astimezone(PARIS).replace(tzinfo=None) != gap.replace(tzinfo=None)
    assert datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc).astimezone(PARIS).isoformat() == \
        "2026-03-29T03:00:00+02:00"
    assert datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=PARIS).isoformat() == "2026-10-25T02:30:00+02:00"
    assert datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS).isoformat() == "2026-10-25T02:30:00+01:00"


def test_list_json_across_spring_forward(uwsgi):
    u = uwsgi()
    prepare(u)
    r = dry(u, "--scheduler-list-json", "3", "--scheduler-list-from", "2026-03-28T12:00:00+01:00", *JOB_ARGS)
    doc = json.loads(r.stdout)
    assert doc["from"] == "2026-03-28T11:00:00+00:00"
    jobs = {j["id"]: j for j in doc["jobs"]}
    assert [j["id"] for j in doc["jobs"]] == ["daily", "hourly", "every12h", "once", "past"]
    # 02:30 does not exist on the 29th: once, at the end of the gap
    assert jobs["daily"]["next"] == ["2026-03-29T03:00:00+02:00", local("2026-03-30T02:30"), local("2026-03-31T02:30")]
    assert jobs["daily"]["next"] == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00",
                                     "2026-03-31T02:30:00+02:00"]
    assert jobs["daily"]["next_utc"] == ["2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00",
                                         "2026-03-31T00:30:00+00:00"]
    assert jobs["hourly"]["next"] == ["2026-03-28T12:30:00+01:00", "2026-03-28T13:30:00+01:00",
                                      "2026-03-28T14:30:00+01:00"]
    base = datetime(2026, 3, 28, 11, 0, tzinfo=timezone.utc)
    want = [(base + timedelta(hours=12 * k)).astimezone(PARIS).isoformat() for k in (1, 2, 3)]
    assert want == ["2026-03-29T00:00:00+01:00", "2026-03-29T13:00:00+02:00", "2026-03-30T01:00:00+02:00"]
    assert jobs["every12h"]["next"] == want
    assert jobs["once"]["next"] == ["2026-03-29T03:30:00+02:00"]
    assert jobs["once"]["next_utc"] == ["2026-03-29T01:30:00+00:00"]
    assert jobs["past"]["next"] == []
    assert all(j["tz"] == "Europe/Paris" for j in doc["jobs"][:4])
    assert jobs["daily"]["target"] == "jobs:f"


def test_list_json_hourly_through_the_gap_and_the_repeat(uwsgi):
    u = uwsgi()
    prepare(u)
    r = dry(u, "--scheduler-list-json", "4", "--scheduler-list-from", "2026-03-29T01:00:00+01:00",
            "--scheduler-cron", "0 30 * * * * jobs:f id=hourly tz=Europe/Paris")
    assert json.loads(r.stdout)["jobs"][0]["next"] == [
        "2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-29T04:30:00+02:00",
        "2026-03-29T05:30:00+02:00"]
    # fall back: a clock-following job fires at both 02:30s, a fixed-time one at the first only
    r = dry(u, "--scheduler-list-json", "4", "--scheduler-list-from", "2026-10-25T00:00:00+02:00",
            "--scheduler-cron", "0 30 * * * * jobs:f id=hourly tz=Europe/Paris",
            "--scheduler-cron", "0 30 2 * * * jobs:f id=daily tz=Europe/Paris")
    jobs = {j["id"]: j["next"] for j in json.loads(r.stdout)["jobs"]}
    assert jobs["hourly"] == ["2026-10-25T00:30:00+02:00", "2026-10-25T01:30:00+02:00",
                              "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"]
    assert jobs["daily"] == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
                             "2026-10-27T02:30:00+01:00", "2026-10-28T02:30:00+01:00"]


def test_list_text(uwsgi):
    u = uwsgi()
    prepare(u)
    r = dry(u, "--scheduler-list", "3", "--scheduler-list-from", "2026-03-28T12:00:00+01:00", *JOB_ARGS)
    out = r.stdout
    assert out.splitlines()[0] == "5 jobs, next 3 fires after 2026-03-28T11:00:00+00:00"
    blocks = {b.split("\n", 1)[0]: b for b in out.split("\n\n")[1:]}
    assert sorted(blocks) == ["daily", "every12h", "hourly", "once", "past"]

    def fires(block):
        return re.findall(r"^  (?:next   |       )  (\S+) +(\S+) UTC$", block, re.M)

    assert fires(blocks["daily"]) == [("2026-03-29T03:00:00+02:00", "2026-03-29T01:00:00+00:00"),
                                      ("2026-03-30T02:30:00+02:00", "2026-03-30T00:30:00+00:00"),
                                      ("2026-03-31T02:30:00+02:00", "2026-03-31T00:30:00+00:00")]
    assert fires(blocks["every12h"]) == [("2026-03-29T00:00:00+01:00", "2026-03-28T23:00:00+00:00"),
                                         ("2026-03-29T13:00:00+02:00", "2026-03-29T11:00:00+00:00"),
                                         ("2026-03-30T01:00:00+02:00", "2026-03-29T23:00:00+00:00")]
    assert fires(blocks["once"]) == [("2026-03-29T03:30:00+02:00", "2026-03-29T01:30:00+00:00")]
    assert fires(blocks["past"]) == []
    assert "  next     (none)" in blocks["past"]
    assert "  tz       Europe/Paris" in blocks["daily"]
    assert "  target   jobs:f" in blocks["daily"]
