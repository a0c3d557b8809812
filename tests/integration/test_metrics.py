"""The jobs' counters as uWSGI metrics (--enable-metrics): scheduler.<id>.<name>,
summed over the workers, read from the stats server's JSON and from the
statsd pusher on a UDP socket on loopback.

The jobs fire inside an end= window, so that once it is over (and the
master's metrics thread has polled again) every counter is final and can
be compared with the run lines of the log, exactly."""
import datetime
import json
import re
import socket
import time

from conftest import app_ini as ini, assert_nothing_fatal, free_port, recv_all, wait_for
from test_once import kill_runner, setup_app, stop_clean

NAMES = ["runs", "failures", "skipped", "misfired", "interrupted", "overruns", "retries", "gave_up", "hung", "queued", "replaced", "running",
         "last_lag_us",
         "last_duration_us", "last_success", "next_due"]


def stats(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        return json.loads(recv_all(s))


def job_metrics(port, mid):
    m = stats(port)["metrics"]
    return {n: m["scheduler.%s.%s" % (mid, n)]["value"] for n in NAMES}


def metrics_when(port, mid, ready, timeout=10):
    """A job's metrics once ready(metrics) holds (the metrics thread polls
    once a second)."""
    return wait_for(lambda: (lambda m: m if ready(m) else None)(job_metrics(port, mid)), timeout,
                    what=lambda: "metrics of %s: %s" % (mid, job_metrics(port, mid)))


# A counter's word in a worker's stop summary ("3 runs, 1 failed, 0 skipped,
# 0 misfired, 2 retried"): the first four always, the others when not 0.
SUMMARY_WORDS = {"runs": "runs", "failures": "failed", "skipped": "skipped", "misfired": "misfired",
                 "overruns": "overran", "retries": "retried", "gave_up": "gave up", "hung": "hung",
                 "queued": "queued", "replaced": "replaced"}


def stop_summaries(u, job):
    """The counts of job in each worker's stop summary: {worker: {counter:
    n}}, every counter of SUMMARY_WORDS (0 where the line leaves it out),
    checked for the line's form: the first four always, the others only
    when not 0, in the metrics' order."""
    words = {w: name for name, w in SUMMARY_WORDS.items()}
    out = {}
    for w, text in re.findall(r"^\[scheduler\] worker (\d+): job %s: (.*)$" % re.escape(job), u.log(), re.M):
        parts = [re.fullmatch(r"(\d+) (.+)", p).groups() for p in text.split(", ")]
        said = [words[word] for _, word in parts]
        assert said[:4] == list(SUMMARY_WORDS)[:4] and all(int(n) for n, _ in parts[4:]), text
        assert said == [n for n in SUMMARY_WORDS if n in said], text
        out[int(w)] = dict({n: 0 for n in SUMMARY_WORDS}, **{words[word]: int(n) for n, word in parts})
    return out


def summed_summaries(u, job):
    """stop_summaries of job summed over the workers."""
    rows = stop_summaries(u, job).values()
    return {n: sum(r[n] for r in rows) for n in SUMMARY_WORDS}


def start_with_stats(u, *lines):
    """Starts u (app and jobs of test_once) with metrics and a stats server;
    returns the stats port."""
    setup_app(u)
    sport = free_port()
    u.start(ini=ini(u, "enable-metrics = true", "stats = 127.0.0.1:%d" % sport, *lines))
    return sport


def rfc_in(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.replace(microsecond=0).isoformat()


def test_metrics_from_the_stats_server(uwsgi):
    u = uwsgi()
    setup_app(u)
    u.write("more.py", "def bad():\n    raise ValueError('no')\n")
    sport = free_port()
    end = rfc_in(6)
    u.start(ini=ini(u, "enable-metrics = true", "stats = 127.0.0.1:%d" % sport,
                    # a once-job across 3 workers, a failing per-worker job, and a
                    # slow once-job whose later fires find it running (skipped)
                    'scheduler-interval = 300ms jobs:quick args=["q"] scope=once id=m.once end=%s start=%s'
                    % (end, rfc_in(0)),
                    "scheduler-interval = 500ms more:bad id=m:bad end=%s start=%s" % (end, rfc_in(0)),
                    'scheduler-interval = 400ms jobs:held args=["h", 1.0] scope=once id=held end=%s start=%s'
                    % (end, rfc_in(0))))
    assert "[scheduler] metrics: 16 per job (scheduler.<id>.runs," in u.log()
    # a run going on shows as running
    wait_for(lambda: job_metrics(sport, "held")["running"] == 1, 10, interval=0.05, what="held running")
    # wait until the window is over and the metrics thread has polled since
    end_ts = datetime.datetime.fromisoformat(end).timestamp()
    wait_for(lambda: time.time() > end_ts + 2.5, 15)
    log = u.log()
    once, bad, held = job_metrics(sport, "m_once"), job_metrics(sport, "m_bad"), job_metrics(sport, "held")
    print("\nm.once %s\nm:bad %s\nheld %s" % (once, bad, held))
    ok_lines = len(re.findall(r"^\[scheduler\] job m\.once: ok \(worker", log, re.M))
    assert ok_lines >= 10 and once["runs"] == ok_lines and once["failures"] == 0, (once, ok_lines)
    failed = re.findall(r"^\[scheduler\] job m:bad: failed \(worker (\d+)", log, re.M)
    assert set(failed) == {"1", "2", "3"}  # summed over the workers
    assert bad["runs"] == bad["failures"] == len(failed), (bad, len(failed))
    assert bad["last_success"] == 0
    assert abs(once["last_success"] - end_ts) < 3, once
    assert 0 < once["last_lag_us"] < 1000000 and once["last_duration_us"] > 0, once
    assert held["last_duration_us"] >= 1000000, held
    skips = len(re.findall(r"^\[scheduler\] job held: skipped,", log, re.M))
    assert skips >= 3 and held["skipped"] == skips, (held, skips)
    assert held["runs"] == len(re.findall(r"^\[scheduler\] job held: ok", log, re.M)), held
    for m in (once, bad, held):
        assert m["running"] == 0 and m["misfired"] == 0 and m["interrupted"] == 0 and m["overruns"] == 0, m
        assert m["next_due"] == 0, m  # past their end=: no next fire
    stop_clean(u)


def test_next_due(uwsgi):
    # a cron job's next fire (whole minutes), an elapsed-time interval's
    # (one period after its latest run), a paused job (none)
    u = uwsgi()
    sport = start_with_stats(u, 'scheduler-cron = 0 * * * * jobs:quick args=["c"] id=hourly',
                             'scheduler-interval = 10s jobs:quick args=["i"] id=every10',
                             'scheduler-cron = * * * * * jobs:quick args=["p"] id=paused paused=true')
    now = time.time()
    hourly = wait_for(lambda: job_metrics(sport, "hourly")["next_due"] or None, 5)
    assert hourly % 3600 == 0 and now < hourly <= now + 3600, (hourly, now)
    # polled with it: the paused job has none, and before its first run an
    # elapsed-time interval's next fire is per worker: not known
    assert job_metrics(sport, "paused")["next_due"] == 0
    assert job_metrics(sport, "every10")["next_due"] == 0
    first = u.wait_events("i", 3)
    t_run = max(r["t"] for r in first)
    due = wait_for(lambda: job_metrics(sport, "every10")["next_due"] or None, 5)
    assert t_run + 8 <= due <= t_run + 11, (due, t_run)
    stop_clean(u)


def test_interrupted_metric_after_a_kill(uwsgi):
    u = uwsgi()
    sport = start_with_stats(u, 'scheduler-interval = 1s jobs:held args=["h", 2.5] scope=once id=slow')
    kills = []
    victim = kill_runner(u, "h", kills)
    wait_for(lambda: job_metrics(sport, "slow")["interrupted"] == 1, 15, what=lambda: u.log()[-3000:])
    # the killed run no longer counts as running; a later one does, then ends
    wait_for(lambda: job_metrics(sport, "slow")["runs"] >= 1, 15)
    m = job_metrics(sport, "slow")
    assert m["running"] in (0, 1), m
    assert any(p == victim for _, _, _, p in
               [(j, t, w, int(p)) for j, t, w, p in re.findall(
                   r"job (\S+): occurrence (\S+) interrupted: worker (\d+) \(pid (\d+)\)", u.log())])
    stop_clean(u, kills)


def test_metrics_through_the_statsd_pusher(uwsgi):
    u = uwsgi()
    setup_app(u)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    port = sock.getsockname()[1]
    u.start(ini=ini(u, "enable-metrics = true", "stats-push = statsd:127.0.0.1:%d,app" % port,
                    "stats-pusher-default-freq = 1",
                    'scheduler-interval = 300ms jobs:quick args=["q"] scope=once id=pushed'),
            plugins=("python3", "stats_pusher_statsd"))
    seen = {}

    def pushed():
        try:
            data = sock.recv(65536).decode()
        except socket.timeout:
            return None
        for line in data.splitlines():
            m = re.match(r"^app\.scheduler\.pushed\.(\w+):(-?\d+)\|(\w+)$", line)
            if m:
                seen[m.group(1)] = (int(m.group(2)), m.group(3))
        return seen.get("runs", (0,))[0] >= 3 and set(NAMES) <= set(seen)
    wait_for(pushed, 20, interval=0, what=lambda: "statsd lines for the job: %s" % seen)
    sock.close()
    print("\nstatsd:", seen)
    assert seen["failures"][0] == 0
    assert seen["runs"][1] in ("c", "g") and seen["running"][1] == "g", seen
    stop_clean(u)


def test_metric_names_must_not_collide(uwsgi):
    u = uwsgi()
    setup_app(u)
    r = u.run("--http-socket", "127.0.0.1:%d" % u.port, "--master", "--enable-threads", "--enable-metrics",
              "--wsgi-file", "app.py", "--scheduler-interval", "1s jobs:quick id=a.b",
              "--scheduler-interval", "1s jobs:quick id=a_b")
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    assert ('[scheduler] job ids "a.b" and "a_b" give the same metric names scheduler.a_b.*: give one of them '
            'another id=') in out.splitlines(), out[-3000:]
    assert "spawned uWSGI worker" not in out
    assert_nothing_fatal(out)
