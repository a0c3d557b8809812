"""Drives real uwsgi processes (Debian's uwsgi-core + python3 plugin) with
the freshly built scheduler plugin, and reads what they log and write.

Every test gets its own directory, a free port and a Uwsgi object; the
fixture stops whatever is still running with SIGINT (SIGTERM re-execs a
master without die-on-term) and checks that no process was leaked."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, "scheduler_plugin.so")
UWSGI = os.environ.get("UWSGI", "uwsgi")


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


class Uwsgi:
    """One uwsgi master (or single process) started in its own process group."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.log_path = os.path.join(self.dir, "uwsgi.log")
        self.proc = None
        self.port = free_port()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    @staticmethod
    def command(args, plugins, after):
        """uwsgi with plugins loaded before the scheduler plugin, after after it."""
        cmd = [UWSGI]
        for p in list(plugins) + [PLUGIN] + list(after):
            cmd += ["--plugin", p]
        return cmd + list(args)

    def start(self, *args, ini=None, plugins=("python3",), wait_ready=True, after=()):
        if ini is not None:
            args = ("--ini", self.write("app.ini", ini)) + args
        cmd = self.command(args, plugins, after)
        self.cmd = cmd
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.pgid = self.proc.pid
        if wait_ready:
            self.wait_log(r"spawned uWSGI worker|uWSGI worker \d+ cheaped|WSGI app 0", timeout=20)
        return self

    def run(self, *args, timeout=20, plugins=("python3",), after=()):
        """Runs uwsgi to completion (startup errors, dry runs)."""
        return subprocess.run(self.command(args, plugins, after), cwd=self.dir, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def count(self, pattern):
        return len(re.findall(pattern, self.log(), re.M))

    def wait_log(self, pattern, count=1, timeout=20):
        return wait_for(lambda: self.count(pattern) >= count, timeout,
                        what="%d x %r in the log:\n%s" % (count, pattern, self.log()[-3000:]))

    def worker_pids(self):
        """Worker pids: children of the master, from the log of the spawns."""
        return [int(p) for p in re.findall(r"(?:spawned uWSGI worker \d+ \(pid|Respawned uWSGI worker \d+ \(new pid): (\d+)",
                                           self.log())]

    def send(self, sig):
        os.kill(self.proc.pid, sig)

    def settle(self, timeout=5):
        """Waits until every spawned worker has got past its start-up.

        uWSGI 2.0.21 installs a worker's own SIGINT handler only after the
        plugins' post_fork hooks: a signal sent in between runs the
        master's handler in the worker and the worker never exits (until
        worker-reload-mercy). The scheduler's start line comes from
        post_fork, so waiting for it (and a little more) closes that
        window for tests that stop uwsgi right after a (re)spawn."""
        if "[scheduler]" not in self.log():
            return
        spawns = len(self.worker_pids())
        try:
            wait_for(lambda: self.count(r"scheduler thread started|no job runs on this worker") >= spawns,
                     timeout, what="workers to start")
        except AssertionError:
            return
        time.sleep(0.3)

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


FATAL = re.compile(r"Fatal Python error|Segmentation fault|SIGSEGV|core dumped|Aborted|"
                   r"AddressSanitizer|DAMN ! worker \d+ \(pid: \d+\) died, killed by signal")


def assert_nothing_fatal(text):
    m = FATAL.search(text)
    assert not m, "fatal condition %r in log:\n%s" % (m.group(0), text[-4000:])
