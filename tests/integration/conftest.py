"""Drives real uwsgi processes (Debian's uwsgi-core + python3 plugin) with
the freshly built scheduler plugin, and reads what they log and write.

Every test gets its own directory, a free port and a Uwsgi object; the
fixture stops whatever is still running with SIGINT (SIGTERM re-execs a
master without die-on-term) and checks that no process was leaked.

Waiting: Uwsgi.start() returns once every worker the configuration asks
for is up (its spawn line, its scheduler's start line when jobs are
declared, and its main thread in the request loop); after a respawn or a
reload, mark() the log first and wait_workers(since=mark). Jobs and apps
record what they do with events.record() (a module every test directory
gets), as JSON lines that Uwsgi.events() reads back."""
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, "scheduler_plugin.so")
UWSGI = os.environ.get("UWSGI", "uwsgi")

# events.py, written into every test directory: `from events import record`
EVENTS_MODULE = '''"""Written by the integration harness: what jobs and apps did, one JSON
object a line in events.jsonl: {"job", "worker", "pid", "tid", "t", ...}."""
import json, os, threading, time

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "events.jsonl")


def record(job, **fields):
    try:
        import uwsgi
        worker = uwsgi.worker_id()
    except Exception:
        worker = None
    fields.update(job=job, worker=worker, pid=os.getpid(), tid=threading.get_ident(), t=time.time())
    line = json.dumps(fields) + "\\n"
    with open(PATH, "a") as f:  # one write(2) in O_APPEND: lines never interleave
        f.write(line)
'''

# "spawned uWSGI worker 1 (pid: P, ...)", "... worker 1 (and the only) (pid: P"
# (no master: worker 1 is the process itself), "Respawned uWSGI worker 1 (new pid: P)"
SPAWN_RE = re.compile(r"^(?:spawned uWSGI worker (\d+) (?:\(and the only\) )?\(pid: (\d+)|"
                      r"Respawned uWSGI worker (\d+) \(new pid: (\d+)\))", re.M)
# the scheduler's line from each worker's post_fork
STARTED_RE = re.compile(r"^\[scheduler\] worker (\d+) \(pid (\d+)\): "
                        r"(?:scheduler thread started|no job runs on this worker)", re.M)
JOB_OPTIONS = ("scheduler-cron", "scheduler-interval", "scheduler-at", "scheduler-job", "scheduler-jobs-file")


def allow_core_dumps():
    """In the uwsgi child before exec: a crash leaves a core to read (report_cores)."""
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    if callable(what):
        what = what()
    raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))


def pids_of_group(pgid):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields after ")": state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(name))
    return out


def thread_names(pid):
    """The names of the threads of pid (top -H, /proc/<pid>/task/*/comm)."""
    names = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def in_request_loop(pid):
    """Whether a uWSGI thread of worker pid (not one of ours) waits in
    epoll_wait: the worker has reached its request loop, which uWSGI
    enters only after installing the worker's own signal handlers."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().startswith("sched-"):
                    continue
            with open("/proc/%d/task/%s/wchan" % (pid, tid)) as f:
                if f.read().strip() in ("do_epoll_wait", "ep_poll"):
                    return True
        except OSError:
            pass
    return False


def config_options(args, ini, cwd, env):
    """(key, value) of every option the command line, the ini text, the
    files named by --ini/--yaml/--json and UWSGI_* variables set; flags
    get the value "true". Only as much parsing as the harness needs."""
    out = []
    files = []
    if ini is not None:
        files.append(("ini", ini))
    i = 0
    args = list(args)
    while i < len(args):
        a = args[i]
        if a.startswith("-"):
            key, eq, value = a.lstrip("-").partition("=")
            key = {"p": "processes", "M": "master"}.get(key, key)
            if not eq:
                if i + 1 < len(args) and not args[i + 1].startswith("-"):
                    value = args[i + 1]
                    i += 1
                else:
                    value = "true"
            if key in ("ini", "yaml", "json"):
                try:
                    with open(os.path.join(cwd, value)) as f:
                        files.append((key, f.read()))
                except OSError:
                    pass
            else:
                out.append((key, value))
        i += 1
    for kind, text in files:
        if kind == "json":
            try:
                doc = json.loads(text).get("uwsgi", {})
            except (ValueError, AttributeError):
                continue
            for key, value in doc.items():
                for v in value if isinstance(value, list) else [value]:
                    out.append((key, str(v).lower() if isinstance(v, bool) else str(v)))
            continue
        for line in text.splitlines():
            line = line.strip()
            if kind == "yaml":
                m = re.match(r"^([A-Za-z0-9_-]+):\s*(.*)$", line)
            else:
                m = re.match(r"^([A-Za-z0-9_-]+)\s*=\s*(.*)$", line)
            if m:
                out.append((m.group(1), m.group(2) or "true"))
    for name, value in env.items():
        if name.startswith("UWSGI_"):
            out.append((name[6:].lower().replace("_", "-"), value))
    return out


def truthy(value):
    return value.strip().lower() not in ("", "0", "false", "no", "off")


class Uwsgi:
    """One uwsgi master (or single process) started in its own process group."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.log_path = os.path.join(self.dir, "uwsgi.log")
        self.proc = None
        self.port = free_port()
        self.workers = {}     # worker id -> pid of the workers that are up
        self.nworkers = 0     # how many start() expected
        self.jobs = False     # whether jobs are declared (workers log a start line)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    @staticmethod
    def command(args, plugins, after, plugin=None):
        """uwsgi with plugins loaded before the scheduler plugin (plugin, by
        default the one make built), after after it."""
        cmd = [UWSGI]
        for p in list(plugins) + [plugin or PLUGIN] + list(after):
            cmd += ["--plugin", p]
        return cmd + list(args)

    def expected_workers(self, opts):
        """How many workers a start spawns: workers/processes (1 by
        default), or with cheaper the initial ones (cheaper-initial, else
        cheaper)."""
        last = {}
        for key, value in opts:
            last[key] = value
        n = 1
        for key in ("workers", "processes"):
            if key in last:
                n = int(last[key])
        cheaper = int(last.get("cheaper", "0") or 0)
        if cheaper > 0:
            n = min(n, int(last.get("cheaper-initial", "0") or 0) or cheaper)
        return n

    def start(self, *args, ini=None, plugins=("python3",), after=(), wait=True, workers=None, env=None,
              timeout=40, plugin=None):
        """Starts uwsgi with args (and ini, written to app.ini).

        wait=True returns once each of the workers it spawns (worker ids
        1..workers; by default the count the configuration asks for, see
        expected_workers) has logged its spawn, its scheduler has logged
        `worker N (pid P): scheduler thread started` (or `no job runs on
        this worker`) when jobs are declared, and its main thread has
        reached the request loop; self.workers then maps each worker id to
        its pid. Without a master the process itself is worker 1. A uwsgi
        that exits during the wait fails the test with its log.
        wait=False returns at once: tests that expect uwsgi to refuse to
        start, or that wait for something of their own."""
        if ini is not None:
            args = ("--ini", self.write("app.ini", ini)) + tuple(args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        opts = config_options(args, None, self.dir, env or {})
        self.jobs = any(k in JOB_OPTIONS for k, _ in opts)
        self.nworkers = workers if workers is not None else self.expected_workers(opts)
        self.write("events.py", EVENTS_MODULE)
        cmd = self.command(args, plugins, after, plugin)
        self.cmd = cmd
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, env=full_env,
                                     preexec_fn=allow_core_dumps)
        self.pgid = self.proc.pid
        if wait:
            self.wait_workers(range(1, self.nworkers + 1), timeout=timeout)
        return self

    def run(self, *args, timeout=20, plugins=("python3",), after=()):
        """Runs uwsgi to completion (startup errors, dry runs)."""
        return subprocess.run(self.command(args, plugins, after), cwd=self.dir, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    # ---- the log ------------------------------------------------------------

    def mark(self):
        """A position in the log: pass it as since= to read or wait for
        what comes after it."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log(self, since=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def count(self, pattern, since=0):
        return len(re.findall(pattern, self.log(since), re.M))

    def wait_log(self, pattern, count=1, timeout=20, since=0):
        return wait_for(lambda: self.count(pattern, since) >= count, timeout,
                        what=lambda: "%d x %r in the log:\n%s" % (count, pattern, self.log()[-3000:]))

    def spawns(self, since=0):
        """(worker id, pid) of every spawn and respawn, in log order."""
        return [(int(a or c), int(b or d)) for a, b, c, d in SPAWN_RE.findall(self.log(since))]

    def worker_pids(self):
        """Pids of every worker forked so far (spawns and respawns), in log order."""
        return [pid for _, pid in self.spawns()]

    def scheduler_started(self):
        """(worker id, pid) of every worker whose scheduler logged its start."""
        return {(int(w), int(p)) for w, p in STARTED_RE.findall(self.log())}

    def wait_workers(self, wids=None, since=0, timeout=40):
        """Waits until each worker id in wids (default 1..nworkers) has a
        spawn after since whose process is up (see start()); returns and
        records in self.workers {worker id: pid} of those latest spawns."""
        wids = list(range(1, self.nworkers + 1) if wids is None else wids)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("uwsgi exited with status %s while its workers started:\n%s"
                                     % (self.proc.returncode, self.log()[-4000:]))
            latest = dict(self.spawns(since))
            if not all(w in latest for w in wids):
                return None
            mine = {w: latest[w] for w in wids}
            if self.jobs:
                started = self.scheduler_started()
                if not all((w, p) in started for w, p in mine.items()):
                    return None
            if not all(in_request_loop(p) for p in mine.values()):
                return None
            return mine

        mine = wait_for(up, timeout, what=lambda: "workers %s to start (spawn%s, request loop):\n%s" % (
            wids, " and scheduler start lines" if self.jobs else "", self.log()[-3000:]))
        self.workers.update(mine)
        return mine

    def pids(self):
        """The pids of the workers that are up (self.workers), by worker id."""
        return [self.workers[w] for w in sorted(self.workers)]

    # ---- events (events.record in the jobs and apps) --------------------------

    def events(self, job=None, **where):
        """The recorded events (dicts), in order; only those of job and
        with the given field values when given."""
        path = os.path.join(self.dir, "events.jsonl")
        try:
            with open(path) as f:
                lines = f.readlines()
        except FileNotFoundError:
            return []
        rows = []
        for line in lines:
            if not line.endswith("\n"):
                continue  # being written
            row = json.loads(line)
            if job is not None and row["job"] != job:
                continue
            if all(row.get(k) == v for k, v in where.items()):
                rows.append(row)
        return rows

    def wait_events(self, job, n, per_worker=False, timeout=30, **where):
        """Waits for n events of job (in total, or from each worker that is
        up when per_worker) and returns all of them."""
        def ok():
            rows = self.events(job, **where)
            if per_worker:
                return all(sum(1 for r in rows if r["pid"] == p) >= n for p in self.pids())
            return len(rows) >= n
        wait_for(ok, timeout, what=lambda: "%d %r events%s %s:\n%s" % (
            n, job, " from each of the workers %s" % self.pids() if per_worker else "", where or "",
            self.log()[-3000:]))
        return self.events(job, **where)

    # ---- signals and stopping -------------------------------------------------

    def send(self, sig):
        """Sends sig to the master, once the workers are past their start-up."""
        self.settle()
        os.kill(self.proc.pid, sig)

    def settle(self, timeout=10):
        """Waits until every worker that is alive (latest spawn of each
        worker id) has got past its start-up: its scheduler's start line
        (when jobs are declared) and its request loop.

        uWSGI 2.0.21 installs a worker's own signal handlers only after the
        plugins' post_fork hooks and the lazy app loading: a SIGINT or
        SIGHUP the master relays in between runs the master's handler in
        the worker, and the worker never exits (until worker-reload-mercy).
        A worker busy with a request is not in the loop: after timeout the
        wait gives up quietly (it is then past its start-up anyway)."""
        if not self.proc or self.proc.poll() is not None:
            return
        latest = dict(self.spawns())

        def settled():
            started = self.scheduler_started() if self.jobs else None
            for w, p in latest.items():
                if not alive(p):
                    continue
                if started is not None and (w, p) not in started:
                    return False
                if not in_request_loop(p):
                    return False
            return True
        try:
            wait_for(settled, timeout, what="workers to settle")
        except AssertionError:
            pass

    def stop(self, sig=signal.SIGINT, timeout=20):
        """Stops the master and returns (exit code, seconds it took)."""
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        self.settle()
        t0 = time.monotonic()
        os.kill(self.proc.pid, sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stacks = self.stacks()
            os.killpg(self.pgid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError("uwsgi did not stop within %ss:\n%s\n%s" % (timeout, self.log()[-3000:], stacks))
        return code, time.monotonic() - t0

    def stacks(self):
        """Every thread's stack of every process still alive (gdb), to
        tell a hang from a slow stop."""
        if not shutil.which("gdb"):
            return "(no gdb to show the stacks)"
        out = []
        for pid in self.leftovers():
            r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "thread apply all bt 30"],
                               capture_output=True, text=True, timeout=60)
            out.append("---- pid %d\n%s" % (pid, r.stdout[-6000:]))
        return "\n".join(out)

    def leftovers(self):
        return pids_of_group(self.pgid) if self.proc else []

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.stop(timeout=15)
            except AssertionError:
                pass
        if self.proc is not None:
            # workers of a master that died must not linger
            wait_for(lambda: not self.leftovers(), 10, what="the process group to be gone")
            self.logf.close()
            self.report_cores()

    def report_cores(self):
        """A process that crashed left a core in the test's directory (the
        kernel's core_pattern permitting): its stack, printed with the
        test's output (the crash itself fails the test on the log's
        "killed by signal" line)."""
        cores = [n for n in os.listdir(self.dir) if n == "core" or n.startswith("core.")]
        for name in cores:
            path = os.path.join(self.dir, name)
            print("\n---- %s" % path)
            if shutil.which("gdb"):
                r = subprocess.run(["gdb", "-batch", "-nx", "-ex", "thread apply all bt 40",
                                    os.path.realpath(shutil.which(UWSGI)), path],
                                   capture_output=True, text=True, timeout=120)
                print(r.stdout[-20000:])

    def __repr__(self):
        return "Uwsgi(%s)" % " ".join(shlex.quote(a) for a in getattr(self, "cmd", []))


@pytest.fixture
def uwsgi(tmp_path):
    if not os.path.exists(PLUGIN):
        pytest.fail("scheduler_plugin.so is not built: run make")
    instances = []

    def make():
        u = Uwsgi(tmp_path / ("u%d" % len(instances)))
        os.makedirs(u.dir, exist_ok=True)
        instances.append(u)
        return u

    yield make
    for u in instances:
        u.cleanup()


FATAL = re.compile(r"Fatal Python error|Segmentation [Ff]ault|SIGSEGV|core dumped|Aborted|"
                   r"AddressSanitizer|DAMN ! worker \d+ \(pid: \d+\) died, killed by signal")


# the app of tests about jobs only: it answers "ok"
OK_APP = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def compile_shim(tmp_path_factory, name):
    """shims/NAME.c built as an LD_PRELOAD library; returns its path."""
    out = str(tmp_path_factory.mktemp("shim") / (name + ".so"))
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", out,
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "shims", name + ".c"), "-ldl"],
                   check=True)
    return out


def assert_nothing_fatal(text):
    m = FATAL.search(text)
    assert not m, "fatal condition %r in log:\n%s" % (m.group(0), text[-4000:])


def app_ini(u, *extra, workers=3):
    """The ini most tests start from: master, workers, app.py on u's http-socket, threads, then extra lines."""
    lines = ["[uwsgi]", "http-socket = 127.0.0.1:%d" % u.port, "master = true",
             "workers = %d" % workers, "wsgi-file = app.py", "enable-threads = true",
             "worker-reload-mercy = 30"]
    return "\n".join(lines + list(extra)) + "\n"


def recv_all(sock):
    """Everything sock receives until the peer closes it."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def get(u, path="/", timeout=10):
    """The body of GET path from u's http-socket."""
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (u.port, path), timeout=timeout) as r:
        assert r.status == 200, r.status
        return r.read()


def _accepted_socket(port, client_port):
    """The inode of the server end of the TCP connection 127.0.0.1:client_port
    -> 127.0.0.1:port once a process has accepted it (0 before)."""
    local, remote = "0100007F:%04X" % port, "0100007F:%04X" % client_port
    with open("/proc/net/tcp") as f:
        for line in list(f)[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return int(fields[9])
    return 0


def _holder(pids, inode):
    """Which of pids has the socket inode open."""
    if not inode:
        return None
    want = "socket:[%d]" % inode
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == want:
                    return pid
            except OSError:
                pass
    return None


def get_from_each_worker(u, parse, path="/", timeout=30):
    """GETs path until every worker that is up (one core each) has
    answered; returns {pid: parsed body}, parse(body text) giving (pid,
    parsed). Each round holds a worker with a request whose headers are
    not finished (it waits for the rest), checks in /proc which worker took
    it, then sends a request that another worker must answer."""
    pids = u.pids()
    if len(pids) == 1:
        pid, body = parse(get(u, path).decode())
        assert [pid] == pids, (pid, pids)
        return {pid: body}
    seen = {}
    deadline = time.monotonic() + timeout
    while set(seen) < set(pids) and time.monotonic() < deadline:
        held = socket.create_connection(("127.0.0.1", u.port), timeout=10)
        try:
            held.sendall(b"GET " + path.encode() + b" HTTP/1.0\r\nHost: 127.0.0.1\r\n")
            client_port = held.getsockname()[1]
            holder = wait_for(lambda: _holder(pids, _accepted_socket(u.port, client_port)), 10,
                              what="a worker to take the held request")
            pid, body = parse(get(u, path).decode())
            assert pid != holder, (pid, holder)
            seen[pid] = body
            held.sendall(b"\r\n")
            raw = recv_all(held)
        finally:
            held.close()
        head, _, rest = raw.decode().partition("\r\n\r\n")
        assert head.split()[1] == "200", head
        pid, body = parse(rest)
        assert pid == holder, (pid, holder)
        seen[pid] = body
    assert set(seen) >= set(pids), "only workers %s of %s answered:\n%s" % (sorted(seen), pids, u.log()[-3000:])
    return seen
