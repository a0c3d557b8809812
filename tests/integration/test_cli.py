"""The uwsgi-scheduler command (cli/) against a fake instance: a thread of the
test serving the uwsgi protocol RPC (modifier1 173) on a UNIX socket, an
abstract one and TCP loopback ports, as uWSGI's rpc plugin does. It records
the bytes of each request and answers what the test gives it, in the
JSON shape of the scheduler.* RPC functions. These tests cover the
client's side; the tests against a real instance are elsewhere."""
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading

import pytest

from conftest import ROOT

CLI = os.path.join(ROOT, "uwsgi-scheduler")
NOW = 1796153400.0  # Tue 2026-12-01 19:30:00 UTC
COLUMNS = ["NEXT", "LEFT", "LAST", "PASSED", "OUTCOME", "SCOPE", "JOB"]
RPC = 173


# ---- the fake instance --------------------------------------------------------

CLOSE = "close"  # read the request, close without an answer (an unknown function)
HANG = "hang"    # read the request, never answer


class Raw(bytes):
    """Bytes sent as they are instead of a framed answer."""


def frame(answer):
    """answer as uWSGI's rpc plugin sends it: a 173 header, then the answer;
    over 65535 bytes modifier2 = 5 and a vars block holding CONTENT_LENGTH."""
    if len(answer) <= 0xffff:
        return struct.pack("<BHB", RPC, len(answer), 0) + answer
    value = str(len(answer)).encode()
    block = struct.pack("<H", 14) + b"CONTENT_LENGTH" + struct.pack("<H", len(value)) + value
    return struct.pack("<BHB", RPC, len(block), 5) + block + answer


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


class Request:
    def __init__(self, via, raw):
        self.via = via
        self.raw = raw                  # header and body as received
        self.modifier1, self.pktsize, self.modifier2 = struct.unpack("<BHB", raw[:4])
        self.items = []
        body = raw[4:]
        while body:
            n = struct.unpack("<H", body[:2])[0]
            self.items.append(body[2:2 + n].decode())
            body = body[2 + n:]
        self.func, self.args = (self.items[0], self.items[1:]) if self.items else (None, [])
        self.answer_size = None         # bytes of answer sent
        self.large = False              # sent in the modifier2 = 5 form
        self.after = None               # what came after the request, until the client closed
        self.done = threading.Event()   # set once the exchange is over


class FakeInstance:
    """Listens on a UNIX path, an abstract name, 127.0.0.1 and (when the
    machine has it) ::1; answers each request with reply(request), which
    returns a dict (sent as JSON), bytes (a JSON text), Raw, CLOSE or HANG."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "sched.sock")
        self.abstract = "@usch-test-%d-%d" % (os.getpid(), id(self))
        self.requests = []
        self.arrived = threading.Condition()
        self.reply = lambda req: listing()
        self.stopping = threading.Event()
        self.listeners = {}
        self._listen("unix", socket.AF_UNIX, self.path)
        self._listen("abstract", socket.AF_UNIX, "\0" + self.abstract[1:])
        self._listen("tcp", socket.AF_INET, ("127.0.0.1", 0))
        self.port = self.listeners["tcp"].getsockname()[1]
        try:
            self._listen("tcp6", socket.AF_INET6, ("::1", 0))
            self.port6 = self.listeners["tcp6"].getsockname()[1]
        except OSError:
            self.port6 = None
        self.wake_r, self.wake_w = socket.socketpair()
        self.threads = [threading.Thread(target=self._serve, daemon=True)]
        self.threads[0].start()

    def _listen(self, via, family, addr):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.bind(addr)
        s.listen(16)
        self.listeners[via] = s

    @property
    def tcp(self):
        return "127.0.0.1:%d" % self.port

    def _serve(self):
        import selectors
        sel = selectors.DefaultSelector()
        for via, s in self.listeners.items():
            sel.register(s, selectors.EVENT_READ, via)
        sel.register(self.wake_r, selectors.EVENT_READ, None)
        while True:
            for key, _ in sel.select():
                if key.data is None:
                    sel.close()
                    return
                conn, _ = key.fileobj.accept()
                t = threading.Thread(target=self._handle, args=(key.data, conn), daemon=True)
                self.threads.append(t)
                t.start()

    def _handle(self, via, conn):
        with conn:
            head = recv_exact(conn, 4)
            if len(head) < 4:
                return
            raw = head + recv_exact(conn, struct.unpack("<H", head[1:3])[0])
            req = Request(via, raw)
            with self.arrived:
                self.requests.append(req)
                self.arrived.notify_all()
            try:
                self._answer(conn, req)
            except OSError:
                pass
            finally:
                req.done.set()

    def _answer(self, conn, req):
        what = self.reply(req)
        if what == HANG:
            self.stopping.wait()
            return
        if what == CLOSE:
            return
        if isinstance(what, Raw):
            conn.sendall(what)
            return
        answer = json.dumps(what).encode() if isinstance(what, dict) else what
        req.answer_size, req.large = len(answer), len(answer) > 0xffff
        conn.sendall(frame(answer))
        # the client closes once it has read the answer: nothing more may come
        req.after = b"".join(iter(lambda: conn.recv(65536), b""))

    def wait_request(self, n=1, timeout=10):
        """The n-th request, once it has arrived (the client may still wait for its answer)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.requests) >= n, timeout), "no request %d came" % n
            return self.requests[n - 1]

    def last(self):
        """The latest request, once its exchange is over."""
        assert self.requests, "the fake instance got no request"
        req = self.requests[-1]
        assert req.done.wait(10), "the exchange with the client did not end"
        return req

    def close(self):
        self.stopping.set()
        self.wake_w.send(b"x")
        for t in self.threads:
            t.join(10)
        for s in list(self.listeners.values()) + [self.wake_r, self.wake_w]:
            s.close()


@pytest.fixture
def fake():
    if not os.path.exists(CLI):
        pytest.fail("uwsgi-scheduler is not built: run make")
    # a short directory: a UNIX socket path has at most 107 bytes
    directory = tempfile.mkdtemp(prefix="usch-cli-")
    f = FakeInstance(directory)
    yield f
    f.close()
    shutil.rmtree(directory, ignore_errors=True)


def cli(*args, env=None, timeout=30, wrapper=()):
    full = {k: v for k, v in os.environ.items() if not k.startswith("UWSGI_SCHEDULER_")}
    full["TZ"] = "UTC"
    full.update(env or {})
    return subprocess.run(list(wrapper) + [CLI] + list(args), capture_output=True, text=True, env=full,
                          timeout=timeout, stdin=subprocess.DEVNULL)


# ---- answers in the plugin's shape ------------------------------------------------

def run_record(started, outcome="ok", how="schedule", worker=1):
    rec = {"scheduled": None, "scheduled_ts": started - 0.001, "started_ts": started,
           "ended_ts": None if outcome == "running" else started + 0.02,
           "duration_ms": None if outcome == "running" else 20.0, "worker": worker, "pid": 1000 + worker,
           "outcome": outcome, "how": how}
    if outcome == "failed":
        rec["error"] = "ZeroDivisionError: division by zero"
    return rec


def job(id, next_in=None, last_ago=None, outcome="ok", paused=False, scope="worker", workers="all", history=1):
    """A job of a scheduler.list answer: next due next_in seconds after NOW,
    last run started last_ago seconds before it (None: none)."""
    runs = [run_record(NOW - last_ago - 60 * i, outcome if i == 0 else "ok") for i in range(history)] \
        if last_ago is not None else []
    return {"id": id, "target": "app.tasks:" + id, "schedule": "cron */5 * * * *", "scope": scope,
            "workers": workers, "paused": paused,
            "next_due": None if next_in is None else "rfc3339",
            "next_due_ts": None if next_in is None else NOW + next_in,
            "max_running": 1, "running": 1 if runs and outcome == "running" else 0,
            "outcome": outcome if runs else None, "last": runs[0] if runs else None,
            "counters": {"runs": len(runs), "failures": 0, "skipped": 0, "misfired": 0, "interrupted": 0,
                         "overruns": 0, "running": 0, "last_lag_us": 812, "last_duration_us": 20133, "last_success_ts": None},
            "history": runs}


def listing(*jobs):
    return {"scheduler": "list", "version": 1, "now": "2026-12-01T19:30:00Z", "now_ts": NOW, "worker": 2,
            "pid": 4242, "jobs": list(jobs)}


def table(stdout):
    """{"rows": [{column: cell}], "footer": last line} of a list table,
    checking that every cell starts where its header does."""
    lines = stdout.split("\n")
    assert lines[-1] == "", stdout
    header, footer = lines[0], lines[-2]
    assert header.split() == COLUMNS, header
    starts = [header.index(c) for c in COLUMNS]
    assert lines[-3] == "", stdout   # a blank line before the footer, as systemctl
    rows = []
    for line in lines[1:-3]:
        assert line == line.rstrip(), "trailing spaces: %r" % line
        for s in starts[1:]:
            assert line[s - 1] == " " and line[s] != " ", "a cell out of its column in:\n%s" % stdout
        bounds = starts + [None]
        rows.append({c: line[bounds[i]:bounds[i + 1]].strip() for i, c in enumerate(COLUMNS)})
    return {"rows": rows, "footer": footer}


def request_bytes(func, *args):
    body = b"".join(struct.pack("<H", len(x.encode())) + x.encode() for x in (func,) + args)
    return struct.pack("<BHB", RPC, len(body), 0) + body


# ---- the request ------------------------------------------------------------------

@pytest.mark.parametrize("args,func,rpc_args", [
    (["list"], "scheduler.list", []),
    (["list", "report"], "scheduler.list", ["report"]),
    (["run", "report"], "scheduler.run", ["report"]),
    (["pause", "app.tasks:poll"], "scheduler.pause", ["app.tasks:poll"]),
    (["resume", "--", "-odd id é"], "scheduler.resume", ["-odd id é"]),
])
@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_request_bytes(fake, args, func, rpc_args, via):
    fake.reply = lambda req: listing(job("report", 60)) if req.func == "scheduler.list" else \
        {"ok": True, "job": req.args[0], "action": req.func.split(".")[1], "message": "done"}
    r = cli("-s", fake.path if via == "unix" else fake.tcp, *args)
    assert r.returncode == 0, r.stderr
    req = fake.last()
    assert req.via == via
    assert req.raw == request_bytes(func, *rpc_args)
    assert (req.modifier1, req.modifier2, req.pktsize) == (173, 0, len(req.raw) - 4)
    assert (req.func, req.args) == (func, rpc_args)
    assert req.after == b""


def test_socket_from_environment_and_option(fake):
    r = cli("list", env={"UWSGI_SCHEDULER_SOCKET": fake.path})
    assert r.returncode == 0, r.stderr
    assert fake.last().via == "unix"
    r = cli("-s", fake.tcp, "list", env={"UWSGI_SCHEDULER_SOCKET": fake.path})
    assert r.returncode == 0, r.stderr
    assert fake.last().via == "tcp"
    r = cli("--socket=" + fake.abstract, "list", env={"UWSGI_SCHEDULER_SOCKET": fake.path})
    assert r.returncode == 0, r.stderr
    assert fake.last().via == "abstract"


def resolves(name):
    try:
        return bool(socket.getaddrinfo(name, None))
    except socket.gaierror:
        return False


@pytest.mark.parametrize("form", ["localhost:%d", ":%d", "[::1]:%d"])
def test_socket_forms(fake, form):
    """localhost resolves (::1 first on most machines: it refuses on our v4
    port and the next address is tried); ":port" is the loopback, as uWSGI's
    own ":port" binds every interface; [v6]:port."""
    v6 = form.startswith("[")
    if v6 and fake.port6 is None:
        pytest.skip("no IPv6 loopback")
    if form.startswith("localhost") and not resolves("localhost"):
        pytest.skip("localhost does not resolve here (no /etc/hosts: a bare chroot)")
    r = cli("-s", form % (fake.port6 if v6 else fake.port), "list")
    assert r.returncode == 0, r.stderr
    # localhost and ":port" may reach our v6 listener if its port happens to be the same
    assert fake.last().via == "tcp6" if v6 else fake.last().via.startswith("tcp")


# ---- list ---------------------------------------------------------------------------

def test_list_table(fake):
    fake.reply = lambda req: listing(
        job("daily", 3 * 86400 + 7200, 86400 + 3 * 3600, outcome="failed", scope="once"),
        job("poll", 483, 80, scope="workers", workers="1,3-4"),
        job("paused-job", 60, 3600 * 5 + 120, paused=True),
        job("report", 7500),
        job("at-job", None, 30, outcome="running"),
    )
    r = cli("-s", fake.path, "list")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    t = table(r.stdout)
    assert t["footer"] == "5 jobs listed."
    # sorted by next run, as systemctl list-timers; none (paused, no next) last, in answer order
    assert t["rows"] == [
        {"NEXT": "Tue 2026-12-01 19:38:03 UTC", "LEFT": "8min 3s", "LAST": "Tue 2026-12-01 19:28:40 UTC",
         "PASSED": "1min 20s ago", "OUTCOME": "ok", "SCOPE": "workers 1,3-4", "JOB": "poll"},
        {"NEXT": "Tue 2026-12-01 21:35:00 UTC", "LEFT": "2h 5min", "LAST": "-", "PASSED": "-", "OUTCOME": "-",
         "SCOPE": "every worker", "JOB": "report"},
        {"NEXT": "Fri 2026-12-04 21:30:00 UTC", "LEFT": "3 days", "LAST": "Mon 2026-11-30 16:30:00 UTC",
         "PASSED": "1 day 3h ago", "OUTCOME": "failed", "SCOPE": "once", "JOB": "daily"},
        {"NEXT": "-", "LEFT": "paused", "LAST": "Tue 2026-12-01 14:28:00 UTC", "PASSED": "5h 2min ago",
         "OUTCOME": "ok", "SCOPE": "every worker", "JOB": "paused-job"},
        {"NEXT": "-", "LEFT": "-", "LAST": "Tue 2026-12-01 19:29:30 UTC", "PASSED": "30s ago",
         "OUTCOME": "running", "SCOPE": "every worker", "JOB": "at-job"},
    ]


def test_list_times_are_local(fake):
    fake.reply = lambda req: listing(job("poll", 483, 80))
    r = cli("-s", fake.path, "list", env={"TZ": "Europe/Paris"})
    assert r.returncode == 0, r.stderr
    row = table(r.stdout)["rows"][0]
    assert (row["NEXT"], row["LAST"]) == ("Tue 2026-12-01 20:38:03 CET", "Tue 2026-12-01 20:28:40 CET")


SPANS = [(0.4, "now"), (1, "1s"), (59.9, "59s"), (60, "1min"), (61, "1min 1s"), (3599, "59min 59s"),
         (3600, "1h"), (3660, "1h 1min"), (86399, "23h 59min"), (86400, "1 day"), (90000, "1 day 1h"),
         (2 * 86400 - 1, "1 day 23h"), (2 * 86400, "2 days"), (400 * 86400 + 5, "400 days")]


def test_spans(fake):
    fake.reply = lambda req: listing(*[job("j%d" % i, seconds, seconds) for i, (seconds, _) in enumerate(SPANS)])
    r = cli("-s", fake.path, "list")
    assert r.returncode == 0, r.stderr
    rows = {row["JOB"]: row for row in table(r.stdout)["rows"]}
    for i, (seconds, text) in enumerate(SPANS):
        assert rows["j%d" % i]["LEFT"] == text, seconds
        assert rows["j%d" % i]["PASSED"] == ("0s" if text == "now" else text) + " ago", seconds


def test_list_one_job(fake):
    fake.reply = lambda req: listing(job(req.args[0], 120, 10))
    r = cli("-s", fake.path, "list", "report")
    assert r.returncode == 0, r.stderr
    t = table(r.stdout)
    assert [row["JOB"] for row in t["rows"]] == ["report"]
    assert t["footer"] == "1 job listed."


def test_list_no_jobs(fake):
    fake.reply = lambda req: listing()
    r = cli("-s", fake.path, "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0].split() == COLUMNS
    assert r.stdout.endswith("\n\n0 jobs listed.\n")


def test_list_unknown_job(fake):
    fake.reply = lambda req: {"ok": False, "error": 'no job "nope" (see scheduler.list)'}
    r = cli("-s", fake.path, "list", "nope")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == 'uwsgi-scheduler: nope: no job "nope" (see scheduler.list)\n'


def test_list_without_jobs_array(fake):
    fake.reply = lambda req: {"scheduler": "list", "version": 1}
    r = cli("-s", fake.path, "list")
    assert r.returncode == 1
    assert 'unexpected answer from %s: no "jobs" array' % fake.path in r.stderr


@pytest.mark.parametrize("size", [0xffff, 0x10000])
def test_answer_at_the_large_form_boundary(fake, size):
    """65535 bytes come in the plain form, 65536 in the modifier2 = 5 form."""
    doc = listing(job("big", 60))
    doc["pad"] = ""
    doc["pad"] = "x" * (size - len(json.dumps(doc)))
    fake.reply = lambda req: doc
    r = cli("-s", fake.path, "--json", "list")
    assert r.returncode == 0, r.stderr
    req = fake.last()
    assert (req.answer_size, req.large) == (size, size > 0xffff)
    assert json.loads(r.stdout) == doc


@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_large_answer_300_jobs(fake, via):
    jobs = [job("job-%03d" % i, 60 + i, 30 + i, history=10) for i in range(300)]
    fake.reply = lambda req: listing(*jobs)
    r = cli("-s", fake.path if via == "unix" else fake.tcp, "list")
    assert r.returncode == 0, r.stderr
    req = fake.last()
    assert req.large and req.answer_size > 0xffff
    t = table(r.stdout)
    assert t["footer"] == "300 jobs listed."
    assert [row["JOB"] for row in t["rows"]] == ["job-%03d" % i for i in range(300)]
    assert t["rows"][299]["LEFT"] == "5min 59s"


# ---- --json ---------------------------------------------------------------------------

def test_json_list(fake):
    doc = listing(job("poll", 483, 80), job("report", None))
    fake.reply = lambda req: doc
    for args in (["--json", "list"], ["list", "--json"]):
        r = cli("-s", fake.path, *args)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == doc
        lines = r.stdout.split("\n")
        assert lines[0] == "{" and lines[1] == '  "scheduler": "list",' and lines[-2:] == ["}", ""]
        # the answer's order of keys, and its numbers as they came
        assert '"now_ts": 1796153400.0,' in r.stdout and '"duration_ms": 20.0,' in r.stdout


def test_json_action(fake):
    answers = {"run": {"ok": True, "job": "report", "action": "run",
                       "message": "run requested: one worker runs it now"},
               "pause": {"ok": False, "job": "report", "action": "pause", "error": "refused from a remote node"}}
    fake.reply = lambda req: answers[req.func.split(".")[1]]
    r = cli("-s", fake.tcp, "--json", "run", "report")
    assert (r.returncode, json.loads(r.stdout), r.stderr) == (0, answers["run"], "")
    # a refusal still fails with --json
    r = cli("-s", fake.tcp, "--json", "pause", "report")
    assert (r.returncode, json.loads(r.stdout), r.stderr) == (1, answers["pause"], "")


# ---- run, pause, resume -------------------------------------------------------------------

@pytest.mark.parametrize("command,message", [
    ("run", "run requested: one worker runs it now"),
    ("pause", "paused on every worker"),
    ("resume", "resumed: next due 2026-12-02T09:00:00+01:00"),
])
def test_action_ok(fake, command, message):
    fake.reply = lambda req: {"ok": True, "job": req.args[0], "action": command, "message": message}
    r = cli("-s", fake.path, command, "report")
    assert (r.returncode, r.stdout, r.stderr) == (0, "report: %s\n" % message, "")


@pytest.mark.parametrize("error", ['no job "report"',
                                   "refused from a remote node (scheduler-rpc-remote = true allows it)",
                                   "already running (max-running 1)"])
def test_action_refused(fake, error):
    fake.reply = lambda req: {"ok": False, "job": "report", "action": "run", "error": error}
    r = cli("-s", fake.tcp, "run", "report")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "uwsgi-scheduler: report: %s\n" % error)


def test_action_answer_without_ok(fake):
    fake.reply = lambda req: {"job": "report"}
    r = cli("-s", fake.path, "run", "report")
    assert r.returncode == 1
    assert 'unexpected answer from %s: no "ok" true or false' % fake.path in r.stderr


# ---- what goes wrong -----------------------------------------------------------------------

def test_connection_refused_tcp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))   # bound, not listening: connections are refused
        addr = "127.0.0.1:%d" % s.getsockname()[1]
        r = cli("-s", addr, "list")
    assert r.returncode == 3
    assert r.stderr == "uwsgi-scheduler: cannot connect to %s: Connection refused\n" % addr


def test_connection_refused_unix(tmp_path):
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(path)
        r = cli("-s", path, "list")
    assert r.returncode == 3
    assert r.stderr == "uwsgi-scheduler: cannot connect to %s: Connection refused\n" % path


def test_no_such_socket(tmp_path):
    path = str(tmp_path / "missing.sock")
    r = cli("-s", path, "list")
    assert r.returncode == 3
    assert r.stderr == "uwsgi-scheduler: cannot connect to %s: No such file or directory\n" % path


def test_unresolvable_host():
    r = cli("-s", "no-such-host.invalid:3031", "list")
    assert r.returncode == 3
    assert r.stderr.startswith("uwsgi-scheduler: cannot resolve no-such-host.invalid:3031: ")


@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_closed_without_answer(fake, via):
    fake.reply = lambda req: CLOSE
    sock = fake.path if via == "unix" else fake.tcp
    r = cli("-s", sock, "pause", "report")
    assert r.returncode == 3
    assert r.stderr == ("uwsgi-scheduler: %s closed the connection without an answer: the instance must load "
                        "uWSGI's rpc plugin (plugins = rpc) and the scheduler plugin\n" % sock)
    assert fake.last().func == "scheduler.pause"


def test_never_answers(fake):
    fake.reply = lambda req: HANG
    r = cli("-s", fake.path, "list", env={"UWSGI_SCHEDULER_TIMEOUT": "1"})
    assert r.returncode == 3
    assert r.stderr == "uwsgi-scheduler: timed out after 1 s waiting for the answer from %s\n" % fake.path
    assert fake.wait_request().func == "scheduler.list"


def test_connect_times_out_on_a_full_listen_queue(tmp_path):
    """A UNIX listener that accepts nothing: once its queue is full a connect
    would fail at once with EAGAIN; the command waits for a place up to its
    timeout instead, as a TCP connect would."""
    path = str(tmp_path / "full.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(0)
    fillers = []
    try:
        for _ in range(64):
            c = socket.socket(socket.AF_UNIX)
            c.setblocking(False)
            fillers.append(c)
            try:
                c.connect(path)
            except BlockingIOError:
                break
        else:
            pytest.fail("the listen queue never filled")
        r = cli("-s", path, "list", env={"UWSGI_SCHEDULER_TIMEOUT": "0.5"})
    finally:
        for c in fillers:
            c.close()
        listener.close()
    assert r.returncode == 3
    assert r.stderr == "uwsgi-scheduler: timed out after 0.5 s connecting to %s (its listen queue is full)\n" % path


@pytest.mark.parametrize("answer,why", [
    (b"<html>oops</html>", "'[' or '{' expected near '<'"),
    (b'["a", "b"]', "another JSON value"),
    (b"", "'[' or '{' expected near end of file"),
    (b'{"ok": tru', "invalid token near 'tru'"),
])
def test_answer_not_json(fake, answer, why):
    fake.reply = lambda req: answer
    r = cli("-s", fake.path, "list")
    assert r.returncode == 1
    assert r.stdout == ""
    prefix = "uwsgi-scheduler: the answer from %s is not a JSON object (%s): \"" % (fake.path, why)
    assert r.stderr.startswith(prefix), r.stderr


def test_answer_not_json_is_quoted_safely(fake):
    fake.reply = lambda req: b"\x01\xffbinary" + b"z" * 100
    r = cli("-s", fake.path, "run", "x")
    assert r.returncode == 1
    assert r.stderr.endswith(': "\\x01\\xffbinary' + "z" * 52 + '..."\n'), r.stderr


def test_not_an_rpc_answer(fake):
    fake.reply = lambda req: Raw(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    r = cli("-s", fake.tcp, "list")
    assert r.returncode == 3
    assert "did not answer as a uwsgi RPC server (modifier1 72, not 173)" in r.stderr


def test_closed_in_the_middle_of_the_answer(fake):
    fake.reply = lambda req: Raw(struct.pack("<BHB", RPC, 100, 0) + b'{"ok": true')
    r = cli("-s", fake.path, "run", "x")
    assert r.returncode == 3
    assert r.stderr == "uwsgi-scheduler: %s closed the connection after 11 of the 100 bytes of the answer\n" % fake.path


def test_large_answer_without_content_length(fake):
    block = struct.pack("<H", 4) + b"SIZE" + struct.pack("<H", 2) + b"99"
    fake.reply = lambda req: Raw(struct.pack("<BHB", RPC, len(block), 5) + block)
    r = cli("-s", fake.path, "list")
    assert r.returncode == 3
    assert "sent a large answer (modifier2 5) without a valid CONTENT_LENGTH" in r.stderr


# ---- usage ------------------------------------------------------------------------------

def test_help():
    for flag in ("-h", "--help"):
        r = cli(flag)
        assert r.returncode == 0
        assert r.stdout.startswith("usage: uwsgi-scheduler [-s SOCKET] [--json] list [ID]\n")
        assert "exit status:" in r.stdout and "UWSGI_SCHEDULER_TIMEOUT" in r.stdout


@pytest.mark.parametrize("args,env,message", [
    ([], {}, None),
    (["-s", "/x.sock", "frobnicate"], {}, 'unknown command "frobnicate"'),
    (["-s", "/x.sock", "run"], {}, "run needs a job ID"),
    (["-s", "/x.sock", "list", "a", "b"], {}, "list: too many arguments"),
    (["-s", "/x.sock", "--frob", "list"], {}, "unknown option --frob"),
    (["list", "-s"], {}, "option -s needs a value"),
    (["list"], {}, "no socket: give -s SOCKET or set UWSGI_SCHEDULER_SOCKET"),
    (["list"], {"UWSGI_SCHEDULER_SOCKET": ""}, "no socket: give -s SOCKET or set UWSGI_SCHEDULER_SOCKET"),
    (["-s", "/x.sock", "list"], {"UWSGI_SCHEDULER_TIMEOUT": "soon"}, 'UWSGI_SCHEDULER_TIMEOUT="soon"'),
    (["-s", "/x.sock", "list"], {"UWSGI_SCHEDULER_TIMEOUT": "0"}, 'UWSGI_SCHEDULER_TIMEOUT="0"'),
    (["-s", "/x.sock", "run", "x" * 70000], {}, "the job ID is too long"),
])
def test_usage_errors(args, env, message):
    r = cli(*args, env=env)
    assert r.returncode == 2
    assert r.stdout == ""
    if message:
        assert r.stderr.startswith("uwsgi-scheduler: " + message), r.stderr
    assert "usage: uwsgi-scheduler [-s SOCKET] [--json] list [ID]\n" in r.stderr


def test_bad_ipv6_address():
    r = cli("-s", "[::1:3031", "list")
    assert r.returncode == 3
    assert 'bad socket address "[::1:3031": an IPv6 address is written [address]:port' in r.stderr


# ---- memory ----------------------------------------------------------------------------------

@pytest.mark.skipif(not shutil.which("valgrind"), reason="no valgrind")
@pytest.mark.parametrize("args", [["list"], ["--json", "list"], ["run", "report"]])
def test_valgrind(fake, args):
    jobs = [job("job-%03d" % i, 60 + i, 30 + i, history=10, paused=i % 7 == 0) for i in range(300)]
    fake.reply = lambda req: listing(*jobs) if req.func == "scheduler.list" else \
        {"ok": False, "job": "report", "action": "run", "error": "already running"}
    r = cli("-s", fake.path, *args, timeout=120,
            wrapper=["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=all",
                     "--errors-for-leak-kinds=all"])
    assert r.returncode == (1 if args[0] == "run" else 0), r.stderr
    assert "==" not in r.stderr, r.stderr
    assert fake.last().large or args[0] == "run"
