"""RPC control in real uwsgi masters: scheduler.list, scheduler.run,
scheduler.pause and scheduler.resume, called from the app (uwsgi.call, in
a request of one worker) and over the instance's sockets (uWSGI's rpc
plugin, modifier1 173), and their effect on every worker: a run asked for
runs once (in one worker for a once-job, in each of its workers
otherwise); a pause holds on every worker, through a kill -9 and, with
scheduler-state, through a restart; remote nodes may list but not steer
unless scheduler-rpc-remote = true.

Runs are read from the jobs' events (which pid ran, when) and from the
log's start lines; quiet periods are asserted over many periods of the
job, after the change has been seen to take effect."""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time

from conftest import ROOT, app_ini as ini, free_port, get, recv_all, wait_for
from test_once import JOBS as ONCE_JOBS, RUN_RE, instant, kill9, stop_clean

JOBS = ONCE_JOBS + '''
def bad(name):
    record(name)
    raise ValueError("the disk is full")
'''

# /call/<function>/<arg>...: uwsgi.call in this worker (Python 3's
# uwsgi.call takes bytes), answering the function's JSON and the pid
APP = '''
import json, os, urllib.parse
import uwsgi

def application(environ, start_response):
    parts = [urllib.parse.unquote(p) for p in environ["PATH_INFO"].split("/")[2:]]
    answer = uwsgi.call(*[p.encode() for p in parts])
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"pid": os.getpid(), "answer": json.loads(answer)}).encode()]
'''

RUN_ASKED_RE = re.compile(r"^\[scheduler\] job (\S+): start \(worker (\d+), asked for at \S+ by scheduler\.run", re.M)


def setup_app(u):
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)


def call(u, *parts):
    """A function's answer, called from the app of whichever worker takes the request."""
    return json.loads(get(u, "/call/" + "/".join(parts)))["answer"]


def job_of(listing, job_id):
    return next(j for j in listing["jobs"] if j["id"] == job_id)


def rpc(address, function, *args, timeout=10):
    """The answer of function over the uwsgi protocol (modifier1 173) on a
    UNIX socket path or a (host, port)."""
    body = b""
    for item in (function,) + args:
        item = item.encode()
        body += struct.pack("<H", len(item)) + item
    if isinstance(address, tuple):
        s = socket.create_connection(address, timeout=timeout)
    else:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(address)
    with s:
        s.sendall(struct.pack("<BHB", 173, len(body), 0) + body)
        data = recv_all(s)
    assert len(data) >= 4, "no answer to %s on %s" % (function, address)
    modifier1, size, modifier2 = struct.unpack("<BHB", data[:4])
    assert (modifier1, modifier2) == (173, 0), (modifier1, modifier2)
    return json.loads(data[4:4 + size])


def runs_by_pid(u, job):
    counts = {}
    for r in u.events(job):
        counts[r["pid"]] = counts.get(r["pid"], 0) + 1
    return counts


def assert_quiet(u, job, seconds):
    """No run of job starts for seconds (many of its periods)."""
    before = len(u.events(job))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert len(u.events(job)) == before, "job %s ran while paused:\n%s" % (job, u.log()[-3000:])
        time.sleep(0.1)


def settle_pause(u, job, period_s):
    """Once a pause was answered, the runs already started (or queued)
    finish: waits until no event of job came for several periods."""
    last = [len(u.events(job)), time.monotonic()]

    def still():
        n = len(u.events(job))
        if n != last[0]:
            last[:] = [n, time.monotonic()]
        return time.monotonic() - last[1] > 4 * period_s
    wait_for(still, 20, interval=0.05, what="job %s to stop running" % job)


# ---- scheduler.list ----------------------------------------------------------

def test_list_shows_jobs_runs_and_errors(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-interval = 200ms jobs:quick args=["q"] id=q scope=once',
                    'scheduler-interval = 300ms jobs:bad args=["b"] id=b workers=2 scope=workers',
                    "scheduler-cron = 0 9 * * * jobs:quick args=[\"daily\"] id=daily tz=Europe/Paris",
                    "scheduler-history = 4"))
    u.wait_events("q", 6)
    u.wait_events("b", 2)
    listing = call(u, "scheduler.list")
    assert listing["scheduler"] == "list" and listing["version"] == 1
    assert [j["id"] for j in listing["jobs"]] == ["q", "b", "daily"]
    assert listing["pid"] in u.pids()

    q = job_of(listing, "q")
    assert q["scope"] == "once" and q["workers"] == "all" and q["paused"] is False
    assert q["target"] == "jobs:quick" and q["max_running"] == 1
    assert len(q["history"]) == 4  # scheduler-history = 4, newest first
    started = [r["started_ts"] for r in q["history"]]
    assert started == sorted(started, reverse=True)
    pids = {e["pid"] for e in u.events("q")}
    for r in q["history"]:
        assert r["how"] == "schedule" and r["pid"] in pids and r["worker"] in u.workers
        assert r["outcome"] in ("ok", "running")
    assert q["last"] == q["history"][0]
    assert q["counters"]["runs"] >= 6

    b = job_of(listing, "b")
    assert b["scope"] == "workers" and b["workers"] == "2"
    failed = [r for r in b["history"] if r["outcome"] == "failed"]
    assert failed, b
    # the line of the traceback that says what went wrong
    assert all(r["error"] == "ValueError: the disk is full" and r["worker"] == 2 for r in failed)
    assert b["counters"]["failures"] >= 1

    daily = job_of(listing, "daily")
    assert daily["outcome"] is None and daily["last"] is None and daily["history"] == []
    assert re.match(r"^\d{4}-\d\d-\d\dT09:00:00\+0[12]:00$", daily["next_due"]), daily["next_due"]
    assert daily["next_due_ts"] > time.time()

    one = call(u, "scheduler.list", "daily")
    assert [j["id"] for j in one["jobs"]] == ["daily"]
    assert call(u, "scheduler.list", "nope") == {
        "ok": False, "job": "nope", "action": "list", "error": 'no job "nope" in this instance'}
    stop_clean(u)


# ---- scheduler.run -------------------------------------------------------------

def test_run_now_respects_scope(uwsgi):
    u = uwsgi()
    setup_app(u)
    # never due by themselves: every run here is one asked for
    u.start(ini=ini(u, 'scheduler-cron = 0 0 1 1 * jobs:quick args=["once"] id=once scope=once',
                    'scheduler-cron = 0 0 1 1 * jobs:quick args=["all"] id=all',
                    'scheduler-cron = 0 0 1 1 * jobs:quick args=["w3"] id=w3 scope=workers workers=3',
                    "scheduler-log-format = json"))
    answer = call(u, "scheduler.run", "once")
    assert answer == {"ok": True, "job": "once", "action": "run",
                      "message": "run asked for: one worker runs it now"}
    u.wait_events("once", 1)
    answer = call(u, "scheduler.run", "all")
    assert answer["ok"] and answer["message"] == "run asked for: each of its workers runs it once"
    u.wait_events("all", 1, per_worker=True)
    call(u, "scheduler.run", "w3")
    u.wait_events("w3", 1)
    # a second ask after the first ran is a second run
    call(u, "scheduler.run", "once")
    u.wait_events("once", 2)
    # nothing more comes: one run per ask, once-jobs in one worker
    time.sleep(2.5)  # well past the one-second look of the other workers
    assert len(u.events("once")) == 2
    assert sorted(runs_by_pid(u, "all").values()) == [1, 1, 1]
    assert list(runs_by_pid(u, "w3")) == [u.workers[3]]
    # the runs are in the JSON log lines and in the history as manual
    lines = [json.loads(line) for line in u.log().splitlines() if line.startswith('{"scheduler"')]
    manual = [o for o in lines if o["event"] == "start" and o["how"] == "manual"]
    assert sorted(o["job"] for o in manual) == ["all", "all", "all", "once", "once", "w3"]
    listing = call(u, "scheduler.list", "once")
    assert [r["how"] for r in job_of(listing, "once")["history"]] == ["manual", "manual"]
    # the last run record (what catch-up counts from) is the trigger's alone
    assert call(u, "scheduler.run", "nope")["error"] == 'no job "nope" in this instance'
    assert call(u, "scheduler.run")["error"] == "needs a job id"
    stop_clean(u)


def test_run_now_respects_max_running(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-cron = 0 0 1 1 * jobs:held args=["h", 30] id=h scope=once'))
    assert call(u, "scheduler.run", "h")["ok"]
    u.wait_events("h", 1, phase="start")
    wait_for(lambda: call(u, "scheduler.list", "h")["jobs"][0]["running"] == 1, 10, what="the run to count")
    again = call(u, "scheduler.run", "h")
    assert again == {"ok": False, "job": "h", "action": "run",
                     "error": "already running (max-running=1): not run again"}
    # kill -9 the worker running it: the history says interrupted
    pid = u.events("h", phase="start")[0]["pid"]
    wid = next(w for w, p in u.workers.items() if p == pid)
    kills = []
    kill9(u, wid, kills)
    h = wait_for(lambda: (lambda j: j if j["last"]["outcome"] == "interrupted" else None)(
        call(u, "scheduler.list", "h")["jobs"][0]), 10, what="the run to be interrupted")
    assert h["last"]["pid"] == pid and h["last"]["how"] == "manual"
    # its place in max-running is free again
    assert call(u, "scheduler.run", "h")["ok"]
    u.wait_events("h", 2, phase="start")
    stop_clean(u, kills)


# ---- scheduler.pause / scheduler.resume ------------------------------------------

def test_pause_holds_on_every_worker_and_through_a_kill(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.start(ini=ini(u, 'scheduler-interval = 200ms jobs:quick args=["p"] id=p',
                    'scheduler-interval = 200ms jobs:quick args=["o"] id=o scope=once'))
    u.wait_events("p", 2, per_worker=True)
    u.wait_events("o", 3)
    for job in ("p", "o"):
        assert call(u, "scheduler.pause", job) == {"ok": True, "job": job, "action": "pause",
                                                  "message": "paused on every worker"}
    assert call(u, "scheduler.pause", "p")["message"] == "already paused"
    assert "[scheduler] job p: paused by scheduler.pause (from the instance, worker " in u.log()
    settle_pause(u, "p", 0.2)
    settle_pause(u, "o", 0.2)
    listing = call(u, "scheduler.list")
    assert job_of(listing, "p")["paused"] and job_of(listing, "o")["paused"]
    assert_quiet(u, "p", 2)
    # a worker killed and respawned stays paused (the flag is the master's memory)
    kills = []
    kill9(u, 2, kills)
    assert_quiet(u, "p", 2)
    assert_quiet(u, "o", 0.1)
    # a run asked for runs even while paused; the schedule stays paused
    call(u, "scheduler.run", "o")
    wait_for(lambda: len(RUN_ASKED_RE.findall(u.log())) == 1, 10, what="the asked run")
    resumed = call(u, "scheduler.resume", "p")
    assert resumed["ok"] and resumed["message"].startswith("resumed on every worker: next due ")
    assert call(u, "scheduler.resume", "p")["message"] == "not paused"
    # every worker (the respawned one too) runs it again
    mark = time.time()
    wait_for(lambda: {e["pid"] for e in u.events("p") if e["t"] > mark} >= set(u.pids()), 20,
             what="every worker to run p again")
    stop_clean(u, kills)


def test_pause_survives_a_restart_with_state(uwsgi):
    u = uwsgi()
    setup_app(u)
    state = os.path.join(u.dir, "state.json")
    text = ini(u, "scheduler-state = %s" % state,
               'scheduler-interval = 200ms jobs:quick args=["p"] id=p scope=once',
               'scheduler-interval = 200ms jobs:quick args=["d"] id=d paused=true',
               'scheduler-interval = 200ms jobs:quick args=["k"] id=k')
    u.start(ini=text)
    u.wait_events("p", 2)
    assert call(u, "scheduler.pause", "p")["ok"]
    # declared paused=true: never ran, until resumed
    assert job_of(call(u, "scheduler.list"), "d")["paused"] is True
    assert u.events("d") == []
    assert call(u, "scheduler.resume", "d")["ok"]
    u.wait_events("d", 1, per_worker=True)
    settle_pause(u, "p", 0.2)
    stop_clean(u)
    saved = json.load(open(state))["jobs"]
    assert saved["p"]["paused"] is True and saved["p"]["declared_paused"] is False
    assert saved["d"]["paused"] is False and saved["d"]["declared_paused"] is True
    assert saved["p"]["history"] and saved["p"]["history"][-1]["outcome"] == "ok"

    u.logf.close()
    mark = u.mark()
    u.workers = {}
    u.start(ini=text, wait=False)
    u.wait_workers(since=mark)
    after = u.log(mark)
    assert "[scheduler] job p: paused, as scheduler.pause left it" in after
    assert "[scheduler] job d: not paused, as scheduler.resume left it" in after
    listing = call(u, "scheduler.list")
    assert job_of(listing, "p")["paused"] is True and job_of(listing, "d")["paused"] is False
    # the history came through the restart
    assert job_of(listing, "p")["history"][0]["pid"] not in u.pids()
    n_d = len(u.events("d"))
    wait_for(lambda: len(u.events("d")) > n_d + 3, 10, what="d to run after the restart")
    assert_quiet(u, "p", 2)
    assert call(u, "scheduler.resume", "p")["ok"]
    n_p = len(u.events("p"))
    # no catch-up of the paused occurrences: p runs on, one occurrence at a time
    wait_for(lambda: len(u.events("p")) >= n_p + 3, 10, what="p to run again")
    assert not re.search(r"job p: start .*late fire", u.log(mark))
    stop_clean(u)

    # a declaration changed since: paused=true is declared now, the file's resume is not kept
    changed = text.replace('args=["d"] id=d paused=true', 'args=["d"] id=d')
    u.logf.close()
    mark = u.mark()
    u.workers = {}
    u.start(ini=changed.replace('id=k', 'id=k paused=true'), wait=False)
    u.wait_workers(since=mark)
    assert job_of(call(u, "scheduler.list"), "k")["paused"] is True
    stop_clean(u)


def test_paused_occurrences_are_never_caught_up(uwsgi):
    """Resumed, then stopped before the job ran again: after the restart
    the occurrences due while it was paused do not run late (coalesce=all
    would run every one of them)."""
    u = uwsgi()
    setup_app(u)
    state = os.path.join(u.dir, "state.json")
    text = ini(u, "scheduler-state = %s" % state,
               'scheduler-interval = 1s jobs:quick args=["c"] id=c scope=once coalesce=all',
               'scheduler-interval = 1s jobs:quick args=["w"] id=w coalesce=all', workers=2)
    u.start(ini=text)
    u.wait_events("c", 2)
    u.wait_events("w", 1, per_worker=True)
    for job in ("c", "w"):
        assert call(u, "scheduler.pause", job)["ok"]
    paused_at = time.time()
    time.sleep(3.5)  # three or four occurrences of each pass over
    resumed_at = time.time()
    for job in ("c", "w"):
        assert call(u, "scheduler.resume", job)["ok"]
    stop_clean(u)
    u.logf.close()
    mark = u.mark()
    u.workers = {}
    u.start(ini=text, wait=False)
    u.wait_workers(since=mark)
    u.wait_events("c", 1 + len(u.events("c")))
    time.sleep(2)
    for job in ("c", "w"):
        for m in RUN_RE.finditer(u.log()):
            if m.group(1) != job:
                continue
            at = instant(m.group(3)) / 1e6
            assert not (paused_at + 0.5 < at < resumed_at - 0.5), \
                "job %s ran its occurrence %s, due while it was paused (%s to %s):\n%s" % (
                    job, m.group(3), paused_at, resumed_at, u.log()[-3000:])
    stop_clean(u)


# ---- who may steer -------------------------------------------------------------

REMOTE_RE = (r"scheduler\.pause refused to a remote node \(from 127\.0\.0\.1 port \d+, worker \d\): "
             r"set scheduler-rpc-remote = true to allow it")


# the rpc() above, for a process of another user (who cannot read the tests)
CLIENT = """
import json, socket, struct, sys
body = b"".join(struct.pack("<H", len(x)) + x for x in (a.encode() for a in sys.argv[2:]))
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(struct.pack("<BHB", 173, len(body), 0) + body)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
size = struct.unpack("<H", data[1:3])[0]
print(data[4:4 + size].decode())
"""


def start_with_sockets(u, *lines):
    """u with the rpc plugin, a TCP uwsgi socket and a UNIX one anyone
    may connect to (in a directory anyone may enter)."""
    tcp = ("127.0.0.1", free_port())
    where = tempfile.mkdtemp(prefix="sched-control-")
    os.chmod(where, 0o755)
    path = os.path.join(where, "uwsgi.sock")
    u.start(ini=ini(u, "socket = %s:%d" % tcp, "socket = %s" % path, "chmod-socket = 666",
                    'scheduler-interval = 1h jobs:quick args=["j"] id=j', *lines), after=("rpc",))
    u.sockets_dir = where
    return tcp, path


def stop_and_clean(u):
    stop_clean(u)
    shutil.rmtree(u.sockets_dir, ignore_errors=True)


def test_remote_nodes_may_list_but_not_steer(uwsgi):
    u = uwsgi()
    setup_app(u)
    tcp, path = start_with_sockets(u)
    # over TCP (loopback too): a remote node
    assert [j["id"] for j in rpc(tcp, "scheduler.list")["jobs"]] == ["j"]
    for fn in ("scheduler.pause", "scheduler.run", "scheduler.resume"):
        answer = rpc(tcp, fn, "j")
        assert answer["ok"] is False and answer["job"] == "j", answer
        assert answer["error"].startswith(fn + " refused to a remote node (from 127.0.0.1 port "), answer
    assert re.search(REMOTE_RE, u.log())
    assert rpc(tcp, "scheduler.list", "j")["jobs"][0]["paused"] is False
    # over the UNIX socket as root (the test) or the instance's user: local
    assert rpc(path, "scheduler.pause", "j")["ok"]
    assert "[scheduler] job j: paused by scheduler.pause (over a UNIX socket, uid 0, worker " in u.log()
    # over the UNIX socket as another user: remote
    r = subprocess.run(["/usr/bin/python3", "-c", CLIENT, path, "scheduler.resume", "j"], capture_output=True,
                       text=True, timeout=30, user="nobody", cwd="/")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    uid = int(subprocess.check_output(["id", "-u", "nobody"]))
    assert answer["ok"] is False
    assert answer["error"].startswith("scheduler.resume refused to a remote node (over a UNIX socket, uid %d, "
                                      "worker " % uid), answer
    assert rpc(path, "scheduler.list", "j")["jobs"][0]["paused"] is True
    stop_and_clean(u)


def test_remote_nodes_steer_with_rpc_remote(uwsgi):
    u = uwsgi()
    setup_app(u)
    tcp, _ = start_with_sockets(u, "scheduler-rpc-remote = true")
    assert rpc(tcp, "scheduler.pause", "j")["ok"]
    assert re.search(r"job j: paused by scheduler\.pause \(from 127\.0\.0\.1 port \d+, worker \d\)", u.log())
    assert rpc(tcp, "scheduler.run", "j")["ok"]
    u.wait_events("j", 1)
    assert rpc(tcp, "scheduler.resume", "j")["ok"]
    stop_and_clean(u)


# ---- the operator's command --------------------------------------------------

CLI = os.path.join(ROOT, "uwsgi-scheduler")


def cli(socket_arg, *args):
    return subprocess.run([CLI, "-s", socket_arg] + list(args), capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, TZ="UTC"))


def test_the_command_lists_runs_pauses_and_resumes(uwsgi):
    u = uwsgi()
    setup_app(u)
    tcp, path = start_with_sockets(u, 'scheduler-cron = 0 0 1 1 * jobs:quick args=["n"] id=nightly scope=once')
    r = cli(path, "list")
    assert r.returncode == 0, r.stderr
    head, *rows = [line for line in r.stdout.splitlines() if line]
    assert head.split() == ["NEXT", "LEFT", "LAST", "PASSED", "OUTCOME", "SCOPE", "JOB"]
    assert rows[-1] == "2 jobs listed."
    by_job = {line.split()[-1]: line for line in rows[:-1]}
    assert set(by_job) == {"j", "nightly"}
    assert re.match(r"^\w{3} \d{4}-01-01 00:00:00 UTC ", by_job["nightly"]), by_job["nightly"]

    r = cli(path, "run", "nightly")
    assert (r.returncode, r.stdout) == (0, "nightly: run asked for: one worker runs it now\n"), r
    u.wait_events("n", 1)
    wait_for(lambda: " ok " in cli(path, "list", "nightly").stdout, 10, what="the run's outcome in the table")

    r = cli(path, "pause", "j")
    assert (r.returncode, r.stdout) == (0, "j: paused on every worker\n"), r
    line = next(x for x in cli(path, "list").stdout.splitlines() if x.endswith(" j"))
    assert line.split()[:2] == ["-", "paused"], line
    assert json.loads(cli(path, "--json", "list", "j").stdout)["jobs"][0]["paused"] is True
    # over TCP the command is a remote node: refused, exit 1
    r = cli("%s:%d" % tcp, "resume", "j")
    assert r.returncode == 1 and "j: scheduler.resume refused to a remote node (from 127.0.0.1 port " in r.stderr, r
    r = cli(path, "resume", "j")
    assert r.returncode == 0 and r.stdout.startswith("j: resumed on every worker: next due "), r
    r = cli(path, "pause", "nope")
    assert (r.returncode, r.stderr) == (1, 'uwsgi-scheduler: nope: no job "nope" in this instance\n'), r
    stop_and_clean(u)
