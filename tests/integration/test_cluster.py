"""scope=cluster on uWSGI's Legion: three instances on loopback (one
machine, distinct ports, `legion-freq 1`, `legion-tolerance 2`) form one
legion; a cluster job due every second writes (occurrence, instance) to a
file the three share. Each occurrence runs in one worker of the lord only.

The lord is stopped (SIGINT), brought back (its valor is the highest: it
takes the lordship back), then its master is killed with -9. No occurrence
may ever run twice, and each failover may lose at most one occurrence
beyond the window the README documents ("Once per cluster"):
2 x freq + 1 s after a stop, tolerance + freq + 1 s after a handback,
tolerance + 2 x freq + 2 s after a crash. scheduler.list and the metric
scheduler.tick.lord say which instance is lord. The elections are waited for in the logs, never slept for.
The figures (occurrences lost per failover, and the gap in seconds) are
printed: `pytest -s test_cluster.py`."""
import json
import os
import re
import signal
import socket
import time

from conftest import app_ini, assert_nothing_fatal, free_port, get, recv_all, wait_for

FREQ, TOLERANCE = 1, 2
STOP_WINDOW = 2 * FREQ + 1              # after the old lord has stopped
RETURN_WINDOW = TOLERANCE + FREQ + 1     # after a member of higher valor has joined
CRASH_WINDOW = TOLERANCE + 2 * FREQ + 2  # after the old lord's master was killed

JOBS = '''
import json, os, time

def tick(instance, path, ctx):
    line = json.dumps({"occurrence": ctx["scheduled_ts"], "instance": instance, "pid": os.getpid(),
                       "worker": ctx["worker"], "t": time.time()}) + "\\n"
    with open(path, "a") as f:  # one write(2) in O_APPEND: lines never interleave
        f.write(line)
'''

APP = '''
import uwsgi

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [uwsgi.call(b"scheduler.list", b"tick")]
'''

LORD = r"^\[scheduler\] legion L: this instance is lord \(valor %d\)"
NO_LONGER = r"^\[scheduler\] legion L: this instance is no longer lord \(%s\)"


def udp_ports(n):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def cluster_ini(u, name, valor, port, peers, ticks, extra=()):
    u.write("jobs.py", JOBS)
    u.write("app.py", APP)
    lines = ["legion = L 127.0.0.1:%d %d aes-128-cbc:the-cluster-secret" % (port, valor)]
    lines += ["legion-node = L 127.0.0.1:%d" % p for p in peers]
    u.stats_port = free_port()
    lines += ["enable-metrics = true", "stats = 127.0.0.1:%d" % u.stats_port]
    lines += ["legion-freq = %d" % FREQ, "legion-tolerance = %d" % TOLERANCE, "scheduler-legion = L",
              "scheduler-cron = * * * * * * jobs:tick id=tick scope=cluster context=ctx "
              'kwargs={"instance": "%s", "path": "%s"}' % (name, ticks)]
    return app_ini(u, *(lines + list(extra)), workers=2)


def lordship(u):
    """What scheduler.list and the metric scheduler.tick.lord say of u."""
    job = json.loads(get(u))["jobs"][0]
    with socket.create_connection(("127.0.0.1", u.stats_port), timeout=5) as sock:
        metric = json.loads(recv_all(sock))["metrics"]["scheduler.tick.lord"]["value"]
    return job["legion"], job["lord"], metric


def wait_lordship(u, lord):
    """Until both say lord (the metrics thread polls once a second)."""
    want = ("L", lord, int(lord))
    return wait_for(lambda: lordship(u) == want, 10, what=lambda: "%s: %s, not %s" % (u, lordship(u), want))


def read_ticks(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


def assert_no_duplicate(ticks):
    seen = {}
    for t in ticks:
        assert t["occurrence"] not in seen, "occurrence %s ran twice: %s and %s" % (
            t["occurrence"], seen[t["occurrence"]], t)
        seen[t["occurrence"]] = t


def wait_ticks(path, instance, n, since, timeout=30):
    """Waits for n occurrences run by instance, due at or after since (epoch s)."""
    return wait_for(lambda: len([t for t in read_ticks(path) if t["instance"] == instance
                                 and t["occurrence"] >= since]) >= n, timeout,
                    what="%d occurrences run by %s since %s: %s" % (n, instance, since, read_ticks(path)[-10:]))


def failover(ticks, old, new, after):
    """(occurrences lost, gap in s) between old's last occurrence before new's
    first one after `after` (epoch s)."""
    first_new = min(t["occurrence"] for t in ticks if t["instance"] == new and t["occurrence"] >= after)
    last_old = max(t["occurrence"] for t in ticks if t["instance"] == old and t["occurrence"] < first_new)
    between = [t for t in ticks if last_old < t["occurrence"] < first_new]
    assert not between, between  # nobody else ran in the gap
    return int(round(first_new - last_old)) - 1, first_new - last_old


def test_once_per_cluster_through_stop_return_and_kill(uwsgi, tmp_path):
    ticks = str(tmp_path / "ticks.jsonl")
    ports = udp_ports(3)
    names, valors = ("a", "b", "c"), (300, 200, 100)
    inis, us = {}, {}
    for i, name in enumerate(names):
        us[name] = uwsgi()
        peers = [p for j, p in enumerate(ports) if j != i]
        inis[name] = cluster_ini(us[name], name, valors[i], ports[i], peers, ticks)
    a, b, c = us["a"], us["b"], us["c"]
    for name in names:
        us[name].start(ini=inis[name])
    # the highest valor is elected; the others see it and run nothing
    a.wait_log(LORD % 300, timeout=30)
    t0 = time.time()
    wait_ticks(ticks, "a", 4, t0)
    assert not [t for t in read_ticks(ticks) if t["instance"] != "a"], read_ticks(ticks)
    for u in (b, c):
        assert u.count(r"^\[scheduler\] legion L: this instance is lord") == 0, u.log()[-3000:]
    wait_lordship(a, True)
    wait_lordship(b, False)
    wait_lordship(c, False)

    # 1. the lord stops: b (valor 200) takes over
    mark_b = b.mark()
    a.stop()
    stopped = time.time()
    b.wait_log(LORD % 200, since=mark_b, timeout=30)
    wait_ticks(ticks, "b", 4, stopped)
    wait_lordship(b, True)

    # 2. a comes back: its valor takes the lordship back from b
    mark_a, mark_b = a.mark(), b.mark()
    returned = time.time()
    a.start(ini=inis["a"])
    a.wait_log(LORD % 300, since=mark_a, timeout=30)
    b.wait_log(NO_LONGER % "a node of higher valor has joined", since=mark_b, timeout=30)
    wait_ticks(ticks, "a", 4, returned)
    wait_lordship(b, False)

    # 3. a's master is killed: b takes over once a has timed out
    mark_b = b.mark()
    a.settle()
    killed = time.time()
    os.kill(a.proc.pid, signal.SIGKILL)
    b.wait_log(LORD % 200, since=mark_b, timeout=30)
    wait_ticks(ticks, "b", 4, killed)
    a.proc.wait()
    # its workers leave on their own ("my master disconnected"); none ran anything after the kill
    wait_for(lambda: not a.leftovers(), 20, what="a's workers to leave after its master's kill")

    b.stop()
    c.stop()
    got = read_ticks(ticks)
    assert_no_duplicate(got)
    # one worker of the lord each time, and never one of c
    assert {t["instance"] for t in got} == {"a", "b"}, got
    figures = {
        "stop": failover(got, "a", "b", stopped),
        "return": failover(got, "b", "a", returned),
        "kill -9": failover(got, "a", "b", killed),
    }
    print("\nfailovers (occurrences lost, gap between the last and first run in s): %s" % figures)
    assert figures["stop"][0] <= STOP_WINDOW + 1, figures
    assert figures["return"][0] <= RETURN_WINDOW + 1, figures
    assert figures["kill -9"][0] <= CRASH_WINDOW + 1, figures
    # the orphans of the killed master ran nothing after it (their lordship died with it)
    assert not [t for t in got if t["instance"] == "a" and t["t"] > killed + 0.5], got
    for u in (a, b, c):
        assert_nothing_fatal(u.log())


def test_a_lord_cut_off_from_the_quorum_stops(uwsgi, tmp_path):
    """legion-quorum = L 2 of three: the lord that hears from neither of
    the others (their masters are frozen, as if the network were cut)
    stops running the job once they have been silent for the tolerance
    (Legion may keep it lord for up to a minute: it gives up a lordship
    without quorum at its no-quorum warning, once a minute); it takes it up
    again, without a duplicate, when they are back."""
    ticks = str(tmp_path / "ticks.jsonl")
    ports = udp_ports(3)
    us = []
    for i, (name, valor) in enumerate((("a", 300), ("b", 200), ("c", 100))):
        u = uwsgi()
        peers = [p for j, p in enumerate(ports) if j != i]
        u.start(ini=cluster_ini(u, name, valor, ports[i], peers, ticks, ["legion-quorum = L 2"]))
        us.append(u)
    a, b, c = us
    a.wait_log(LORD % 300, timeout=30)
    wait_ticks(ticks, "a", 2, time.time())
    mark = a.mark()
    for u in (b, c):
        u.settle()
    frozen = time.time()
    try:
        for u in (b, c):
            os.kill(u.proc.pid, signal.SIGSTOP)
        # Legion gives the lordship up itself unless it warned of a missing
        # quorum in the last minute; the scheduler stops the jobs either way
        a.wait_log(NO_LONGER % "(it sees fewer members than legion-quorum|another instance is lord, or none is)",
                   since=mark, timeout=30)
        gave_up = time.time()
        wait_for(lambda: time.time() > gave_up + 3, 10)  # a window in which a must run nothing
        ran = [t for t in read_ticks(ticks) if t["t"] > gave_up + 0.5]
        assert not ran, ran
    finally:
        for u in (b, c):
            os.kill(u.proc.pid, signal.SIGCONT)
    back = time.time()
    a.wait_log(LORD % 300, since=mark, timeout=30)
    wait_ticks(ticks, "a", 2, back)
    for u in us:
        u.stop()
    got = read_ticks(ticks)
    assert_no_duplicate(got)
    assert {t["instance"] for t in got} == {"a"}, got
    print("\nquorum lost: the lord stopped %.1f s after the others fell silent" % (gave_up - frozen))
    assert gave_up - frozen < TOLERANCE + 2 * FREQ + 3
