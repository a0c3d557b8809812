"""make bench: 100,000 jobs in one worker (issue #17).

- dry run: uwsgi --scheduler-list 1 with 100,000 cron jobs, wall time
  (median), beside uWSGI reading 100,000 option lines it only stores;
- worker start: from the master's "spawned uWSGI worker 1" line to the
  worker's "scheduler thread started" line (as this process reads them);
- RSS per job: the worker's VmRSS with 100,000 jobs minus with one, per job
  (the master's beside it: the declarations are parsed there, the worker
  shares the pages); beside it, what uWSGI itself keeps of 100,000 lines
  as long, under an option nobody handles (the ini text, its option
  records, the python plugin's uwsgi.opt dict): the floor any job declared
  as an option line pays;
- stop: SIGINT to the master's exit, an idle worker with 10,000 jobs minus
  one with a single job (medians);
- idle wake-ups: the timing thread's (sched-timer) context switches over
  BENCH_IDLE_WAKE_SECONDS (20) with one job every 10 minutes, per hour;
- fire lag at 1,000 fires/s: 100,000 Python interval jobs of 100 s, each
  anchored 1 ms after the one before, so one comes due every millisecond;
  each records its lag (start of its code minus its scheduled instant).

Environment: BENCH_SCALE_N (100000), BENCH_SCALE_RUNS (3),
BENCH_SCALE_SECONDS (6, the lag window), BENCH_SCALE_ONLY=rss (the dry
run, worker start and RSS rows only). Prints the table; writes
build/bench/scale.json."""
import datetime
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uwsgi_run import APPS, PLUGIN, ROOT, UWSGI, Uwsgi, median, pct, rss_kb  # noqa: E402

N = int(os.environ.get("BENCH_SCALE_N", "100000"))
RUNS = int(os.environ.get("BENCH_SCALE_RUNS", "3"))
LAG_SECONDS = int(os.environ.get("BENCH_SCALE_SECONDS", "6"))
NSTOP = max(1, N // 10)
TMP = tempfile.mkdtemp(prefix="usch-scale-")

SPAWNED = r"spawned uWSGI worker 1 "
STARTED = r"^\[scheduler\] worker 1 \(pid \d+\): scheduler thread started"


def ini(name, lines):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write("[uwsgi]\n")
        f.writelines(lines)
    return path


def cron_lines(n):
    # Feb 29th: nothing fires while measured, each job its own expression and target
    return ("scheduler-cron = %d %d 29 2 * app.tasks:job%d max-running=2 timeout=5m\n" % (i % 60, i % 24, i)
            for i in range(n))


def jobs_file(name, lines):
    """An ini whose jobs are in a scheduler-jobs-file of their own."""
    path = os.path.join(TMP, name + ".jobs")
    with open(path, "w") as f:
        f.writelines(lines)
    return ini(name + ".ini", ["scheduler-jobs-file = %s\n" % path])


def floor_lines(n):
    # the same lines, under an option uWSGI keeps but nothing handles, and one real job
    yield "scheduler-cron = 0 0 29 2 * app.tasks:job0\n"
    for line in cron_lines(n):
        yield "x" + line


def timed_dry_run(path):
    times = []
    for _ in range(RUNS):
        t0 = time.monotonic()
        subprocess.run([UWSGI, "--plugin", PLUGIN, "--plugin", "python3", "--ini", path, "--scheduler-list", "1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        times.append(time.monotonic() - t0)
    return median(times)


def instance(path):
    return Uwsgi(["--plugin", "python3", "--plugin", PLUGIN, "--ini", path, "--master", "--workers", "1",
                  "--enable-threads", "--http-socket", "127.0.0.1:{port}", "--disable-logging", "--lazy-apps"])


def started(path):
    """(worker start s, worker RSS kB, master RSS kB, stop s) of one run."""
    u = instance(path)
    try:
        u.start()
        t_spawn, _ = u.wait_for(SPAWNED, 120)
        t_started, _ = u.wait_for(STARTED, 120)
        time.sleep(0.5)
        pids = u.worker_pids()
        wrss = rss_kb(pids[0]) if pids else 0
        mrss = rss_kb(u.proc.pid)
    finally:
        stop = u.stop()
    return t_started - t_spawn, wrss, mrss, stop


def median_of(path, runs):
    rows = [started(path) for _ in range(runs)]
    return [median([r[i] for r in rows]) for i in range(4)]


IDLE_WAKE_SECONDS = int(os.environ.get("BENCH_IDLE_WAKE_SECONDS", "20"))


def switches(pid, name):
    """Voluntary + involuntary context switches of pid's thread called name."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != name:
                    continue
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                return sum(int(l.split()[1]) for l in f if l.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")))
        except OSError:
            continue
    return None


def idle_wakeups():
    path = ini("idle.ini", ["scheduler-interval = 10m exec:true id=ten\n"])
    u = instance(path)
    try:
        u.start()
        u.wait_for(STARTED, 60)
        time.sleep(1.0)
        pid = u.worker_pids()[0]
        a = switches(pid, "sched-timer")
        time.sleep(IDLE_WAKE_SECONDS)
        b = switches(pid, "sched-timer")
    finally:
        u.stop()
    return None if a is None or b is None else (b - a) * 3600.0 / IDLE_WAKE_SECONDS


def lag_at_rate():
    base = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(seconds=200)

    def at(i):
        return (base + datetime.timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    path = ini("lag.ini", ("scheduler-interval = 100s ours_app:tick context=ctx id=j%d start=%s\n" % (i, at(i))
                           for i in range(N)))
    u = Uwsgi(["--plugin", "python3", "--plugin", PLUGIN, "--ini", path, "--master", "--workers", "1",
               "--enable-threads", "--http-socket", "127.0.0.1:{port}", "--disable-logging", "--lazy-apps",
               "--pythonpath", APPS, "--wsgi-file", os.path.join(APPS, "ours_app.py"), "--scheduler-log", "errors"])
    try:
        u.start()
        u.wait_for(STARTED, 120)
        u.wait_http(120)
        time.sleep(1.0)
        u.get("/reset")
        time.sleep(LAG_SECONDS)
        u.get("/dump")
    finally:
        u.stop()
    lat = []
    for p in glob.glob(u.env["LAT_OUT"] + ".*"):
        with open(p) as f:
            lat += [v * 1e3 for v in json.load(f)["tick"]]
    return lat


ONLY = os.environ.get("BENCH_SCALE_ONLY", "")


def main():
    big = ini("cron%d.ini" % N, cron_lines(N))
    one = ini("cron1.ini", cron_lines(1))
    stop_n = ini("cron%d.ini" % NSTOP, cron_lines(NSTOP))
    plain = ini("plain%d.ini" % N, ("scheduler-timezone = UTC\n" for _ in range(N)))
    floor = ini("floor%d.ini" % N, floor_lines(N))
    in_file = jobs_file("file%d" % N, cron_lines(N))
    dry, dry_plain = timed_dry_run(big), timed_dry_run(plain)
    s_big = median_of(big, RUNS)
    s_one = median_of(one, RUNS)
    s_floor = median_of(floor, RUNS)
    s_file = median_of(in_file, RUNS)
    dry_file = timed_dry_run(in_file)
    per_job_w = (s_big[1] - s_one[1]) * 1024.0 / (N - 1)
    per_job_m = (s_big[2] - s_one[2]) * 1024.0 / (N - 1)
    floor_w = (s_floor[1] - s_one[1]) * 1024.0 / N
    per_job_file = (s_file[1] - s_one[1]) * 1024.0 / (N - 1)
    rss_only = ONLY == "rss"
    s_stop = s_one if rss_only else median_of(stop_n, RUNS)
    wakes = None if rss_only else idle_wakeups()
    lat = [] if rss_only else lag_at_rate()
    rate = len(lat) / float(LAG_SECONDS)
    print("%d jobs in one worker (medians of %d runs)" % (N, RUNS))
    print("%-58s %12s %12s" % ("figure", "ours", "target"))
    print("%-58s %10.3f s %12s" % ("dry run (--scheduler-list 1), %d cron jobs" % N, dry, "<= 1 s"))
    print("%-58s %10.3f s %12s" % ("  uWSGI reading %d option lines it only stores" % N, dry_plain, ""))
    print("%-58s %10.3f s %12s" % ("worker start (spawned -> scheduler thread started)", s_big[0], "<= 0.3 s"))
    print("%-58s %10.3f s %12s" % ("  the same with one job", s_one[0], ""))
    print("%-58s %10.0f B %12s" % ("RSS per job, worker", per_job_w, "<= 300 B"))
    print("%-58s %10.0f B %12s" % ("  uWSGI keeping as many such lines (no job): the floor", floor_w, ""))
    print("%-58s %10.0f B %12s" % ("  the scheduler's own, beyond the floor", per_job_w - floor_w, ""))
    print("%-58s %10.0f B %12s" % ("RSS per job, master", per_job_m, ""))
    print("%-58s %10.0f B %12s" % ("RSS per job, worker, the jobs in a scheduler-jobs-file", per_job_file, "<= 300 B"))
    print("%-58s %10.3f s %12s" % ("  dry run, the same", dry_file, "<= 1 s"))
    print("%-58s %10.3f s %12s" % ("  worker start, the same", s_file[0], "<= 0.3 s"))
    if not rss_only:
        print("%-58s %10.1f ms %11s" % ("stop (SIGINT to exit), idle worker, %d jobs minus 1 job" % NSTOP,
                                        (s_stop[3] - s_one[3]) * 1e3, "<= 10 ms"))
        print("%-58s %10.1f ms %11s" % ("  stop with 1 job", s_one[3] * 1e3, ""))
    if not rss_only:
        print("%-58s %10s %12s" % ("idle: timing thread wake-ups per hour, one job every 10 min",
                                   "-" if wakes is None else "%.0f" % wakes, "6"))
        print("%-58s %10s %12s" % ("fire lag p50 / p99 / max at %.0f fires/s, %d jobs" % (rate, N),
                                   "%.2f/%.2f/%.2f ms" % (pct(lat, 50), pct(lat, 99), max(lat)) if lat else "-",
                                   "p99 <= 1 ms"))
    os.makedirs(os.path.join(ROOT, "build", "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "build", "bench", "scale.json"), "w") as f:
        json.dump({"n": N, "dry": dry, "dry_plain": dry_plain, "big": s_big, "one": s_one, "stop": s_stop,
                   "rss_per_job_worker": per_job_w, "rss_floor_per_line": floor_w, "idle_wakeups_per_hour": wakes, "rss_per_job_master": per_job_m,
                   "rss_per_job_file": per_job_file, "dry_file": dry_file, "file": s_file, "lag_n": len(lat),
                   "lag_p50": pct(lat, 50), "lag_p99": pct(lat, 99), "lag_max": max(lat) if lat else None}, f,
                  indent=1)


if __name__ == "__main__":
    main()
