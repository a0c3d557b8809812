"""What make bench's load and scale measurements share: a uwsgi instance
started and stopped (SIGINT; the log read as it comes), the wrk load, the
percentiles. Nothing here asserts: the figures go to the report."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.path.join(ROOT, "scheduler_plugin.so")
APPS = os.path.join(ROOT, "bench", "apps")
UWSGI = os.environ.get("UWSGI", "uwsgi")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Uwsgi:
    """One uwsgi instance: args are its options (an ini path with --ini);
    lines() is what it logged so far, each with the monotonic instant this
    process read it."""

    def __init__(self, args, env=None, logfile=None):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="usch-bench-")
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("LAT_OUT", os.path.join(self.dir, "lat"))
        self.args = [a.replace("{port}", str(self.port)).replace("{dir}", self.dir) for a in args]
        self.logfile = logfile
        self._lines = []
        self._lock = threading.Lock()
        self.proc = None

    def start(self, until=None, timeout=60.0):
        """Starts it; returns the monotonic instant it was started. until: a
        regex to wait for in the log (else nothing is waited for)."""
        t0 = time.monotonic()
        self.proc = subprocess.Popen([UWSGI] + self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=self.env, cwd=self.dir)
        threading.Thread(target=self._read, daemon=True).start()
        if until:
            self.wait_for(until, timeout)
        return t0

    def _read(self):
        for raw in self.proc.stdout:
            with self._lock:
                self._lines.append((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))

    def lines(self):
        with self._lock:
            return list(self._lines)

    def wait_for(self, regex, timeout=60.0):
        """The first (instant, match) of regex in the log."""
        rx = re.compile(regex)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, line in self.lines():
                m = rx.search(line)
                if m:
                    return t, m
            if self.proc.poll() is not None:
                break
            time.sleep(0.005)
        raise RuntimeError("uwsgi %s: no line matching %r; last lines:\n%s"
                           % (" ".join(self.args[:6]), regex, "\n".join(l for _, l in self.lines()[-20:])))

    def get(self, path="/", timeout=5.0):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=timeout) as r:
            return r.read()

    def wait_http(self, timeout=60.0):
        end = time.monotonic() + timeout
        while True:
            try:
                return self.get("/")
            except OSError:
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise
                time.sleep(0.02)

    def stop(self, timeout=30.0):
        """SIGINT (a SIGTERM would re-exec a master without die-on-term);
        returns the seconds until the master exited."""
        if not self.proc or self.proc.poll() is not None:
            return 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.monotonic() - t0

    def worker_pids(self):
        """Children of the master (the workers)."""
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wrk(port, seconds, path="/"):
    """Requests per second of wrk -t2 -c16 against the instance."""
    out = subprocess.run(["wrk", "-t2", "-c16", "-d%ds" % seconds, "http://127.0.0.1:%d%s" % (port, path)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True).stdout.decode()
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError("wrk: no Requests/sec in:\n" + out)
    return float(m.group(1))


def pct(values, p):
    """The p-th percentile (nearest rank) of values, None when empty."""
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def median(values):
    s = sorted(values)
    if not s:
        return None
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0
