"""make bench: fire lag and what the scheduler costs requests, ours and the
peers side by side in one run (issue #17).

The load: 1 worker, the hello app under wrk -t2 -c16, and the schedule:
NJOBS Python jobs every 50 ms (all due on the same 20 instants a second)
and NSEC every second. Four instances take turns, round after round, in an
order rotated each round: no scheduler (base), ours, APScheduler 3's
BackgroundScheduler started in the worker (the peer), and the floor under
ours: the same calls of the jobs' code made by a bare Python thread in the
worker (work_app.py), what the work itself costs the requests. Each job records its fire lag (start of its code minus
its scheduled instant) during the wrk run only. Throughput differences of
about 1 % need the turns and medians: the request loss is the median over
rounds of 1 - ours/base of the same round.

The worker's CPU time per fire, idle, beyond the same worker without a
scheduler: what the scheduler takes from the cores the requests need
(ours and APScheduler 3, BENCH_IDLE_SECONDS each).

Then rpc: and signal: targets every 50 ms, the signal: 25 ms after the
rpc:, idle and under wrk: ours (lag from the JSON
log: the start of the dispatch minus the scheduled instant; a 1-s cron's
signal handler's own lag and period error) against uWSGI's own signal
timer (add_timer, 1 s), whose period error is what it can be judged by,
and the machine's own floor (bench/wake_floor.c: a thread sleeping to
the same instants as our executor does, with nothing of ours running).

Environment: BENCH_ROUNDS (5), BENCH_SECONDS (5, each wrk run),
BENCH_IDLE_SECONDS (8). Prints the table; writes build/bench/lag.json."""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uwsgi_run import APPS, PLUGIN, ROOT, Uwsgi, median, pct, wrk  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
IDLE = int(os.environ.get("BENCH_IDLE_SECONDS", "8"))
NJOBS, NSEC = 100, 10
SETTLE = 1.5

COMMON = ["--plugin", "python3", "--http-socket", "127.0.0.1:{port}", "--enable-threads", "--master",
          "--workers", "1", "--lazy-apps", "--disable-logging", "--pythonpath", APPS]


def ours_jobs():
    args = ["--plugin", PLUGIN, "--scheduler-log", "errors"]
    for i in range(NJOBS):
        args += ["--scheduler-interval", "50ms ours_app:tick context=ctx id=tick%d" % i]
    for i in range(NSEC):
        args += ["--scheduler-interval", "1s ours_app:sec context=ctx id=sec%d" % i]
    return args


KINDS = {
    "base": COMMON + ["--wsgi-file", os.path.join(APPS, "hello_app.py")],
    "ours": COMMON + ["--wsgi-file", os.path.join(APPS, "ours_app.py")] + ours_jobs(),
    "aps": COMMON + ["--wsgi-file", os.path.join(APPS, "aps_app.py")],
    # the floor under ours: the jobs' own work, called by a bare Python thread
    "work": COMMON + ["--wsgi-file", os.path.join(APPS, "work_app.py")],
}


def dumped(u):
    out = {}
    for path in glob.glob(u.env["LAT_OUT"] + ".*"):
        with open(path) as f:
            for k, v in json.load(f).items():
                out.setdefault(k, []).extend(v)
    return out


# the floor: the machine's own wake-up to an instant, as our executor sleeps and waits
FLOOR = os.path.join(ROOT, "build", "bench", "wake_floor")


def floor_row(out):
    n, p50, p99, mx = out.split()
    return {"n": int(n), "p50": float(p50), "p99": float(p99), "max": float(mx)}


def load_run(kind):
    """(requests/s, what the app recorded) of one wrk run. With no
    scheduler (base), the machine's floor runs meanwhile: how late a thread
    of nothing but sleeps to the instants wakes under this load (20
    wake-ups a second, nothing else), its lateness in "floor"."""
    env = {"PERIOD": "0.05", "NJOBS": str(NJOBS), "NSEC": str(NSEC)}
    u = Uwsgi(KINDS[kind], env=env)
    floor = None
    try:
        u.start()
        u.wait_http()
        time.sleep(SETTLE)
        u.get("/reset")
        if kind == "base":  # the instants of the wrk run's first SECONDS - 1 s
            floor = subprocess.Popen([FLOOR, str((SECONDS - 1) * 20), "50", "0", "all"], stdout=subprocess.PIPE,
                                     text=True)
        rps = wrk(u.port, SECONDS)
        u.get("/dump")
        lat = dumped(u)
        if floor:
            lat["floor"] = [float(v) for v in floor.communicate(timeout=30)[0].split()]
        return rps, lat
    finally:
        if floor and floor.poll() is None:
            floor.kill()
        u.stop()


def ms(values):
    return [v * 1e3 for v in values]


def lag_row(samples):
    return {"n": len(samples), "p50": pct(samples, 50), "p99": pct(samples, 99), "max": max(samples) if samples
            else None}


def fmt(v, unit="ms", digits=2):
    return "-" if v is None else ("%.*f %s" % (digits, v, unit)).strip()


def load_rounds():
    rps = {k: [] for k in KINDS}
    lags = {k: {"tick": [], "sec": [], "p99s": []} for k in ("ours", "aps", "work")}
    lags["floor"] = []
    names = list(KINDS)
    for r in range(ROUNDS):
        # rotated each round: the instance that runs second in a round did
        # better in a fixed order (the machine warms up), so each one leads
        # in turn and the per-round ratios see both orders
        order = names[r % len(names):] + names[:r % len(names)]
        for kind in order:
            v, lat = load_run(kind)
            rps[kind].append(v)
            lags["floor"] += lat.get("floor", [])
            if kind in lags:
                tick = ms(lat.get("tick", []))
                lags[kind]["tick"] += tick
                lags[kind]["sec"] += ms(lat.get("sec", []))
                lags[kind]["p99s"].append(pct(tick, 99))
        print("  round %d/%d (%s): req/s base %.0f, ours %.0f, APScheduler 3 %.0f, work %.0f; tick p99 ours %s, "
              "APS3 %s, work %s" % (r + 1, ROUNDS, ", ".join(order), rps["base"][-1], rps["ours"][-1], rps["aps"][-1],
                                    rps["work"][-1], fmt(lags["ours"]["p99s"][-1]), fmt(lags["aps"]["p99s"][-1]),
                                    fmt(lags["work"]["p99s"][-1])), file=sys.stderr)
    return rps, lags


def loss(rps, kind):
    """Median over rounds of the request loss against the same round's base, %."""
    return median([100.0 * (1 - o / b) for o, b in zip(rps[kind], rps["base"])])


def within(samples, limit_ms):
    return 100.0 * sum(1 for s in samples if abs(s) <= limit_ms) / len(samples) if samples else None


def json_lags(u, t_from, t_to):
    """Lag (ms) of each run start our JSON log has, by job id, for fires
    scheduled in [t_from, t_to) (wall s)."""
    out = {}
    for _, line in u.lines():
        i = line.find('{"scheduler"')
        if i < 0:
            continue
        try:
            o = json.loads(line[i:])
        except ValueError:
            continue
        if o.get("event") == "start" and t_from <= o["scheduled_ts"] < t_to:
            out.setdefault(o["job"], []).append(o["lag_ms"])
    return out


def period_errors(ts):
    return [abs((b - a) - 1.0) * 1e3 for a, b in zip(ts, ts[1:])]


def idle_then_load(kind):
    """(idle window, load window, instance) with the runs recorded; the
    instance is stopped."""
    if kind == "ours":
        args = COMMON + ["--wsgi-file", os.path.join(APPS, "ours_app.py"), "--plugin", PLUGIN,
                         "--scheduler-log-format", "json",
                         "--scheduler-interval", "50ms rpc:bench_rpc id=rpc",
                         # 25 ms after each rpc: instant: at the same one, its lag would be the rpc call's
                         "--scheduler-interval", "50ms signal:17 id=signal start=2026-01-01T00:00:00.025Z",
                         "--scheduler-cron", "* * * * * * signal:18 id=signal_1s"]
    else:
        args = COMMON + ["--wsgi-file", os.path.join(APPS, "timer_app.py")]
    u = Uwsgi(args)
    try:
        u.start()
        u.wait_http()
        time.sleep(SETTLE)
        u.get("/reset")
        t0 = time.time()
        time.sleep(IDLE)
        t1 = time.time()
        wrk(u.port, SECONDS)
        t2 = time.time()
        u.get("/dump")
    finally:
        u.stop()
    return (t0, t1), (t1, t2), u, dumped(u)


def targets():
    rows = {}
    idle, load, u, lat = idle_then_load("ours")
    for phase, (a, b) in (("idle", idle), ("load", load)):
        lags = json_lags(u, a, b)
        rows["rpc " + phase] = lag_row(lags.get("rpc", []))
        rows["signal " + phase] = lag_row(lags.get("signal", []))
        ts = [t for t in lat.get("sig_t", []) if a <= t < b]
        rows["signal 1s handler " + phase] = lag_row([(t - int(t)) * 1e3 for t in ts])
        rows["signal 1s period error " + phase] = lag_row(period_errors(ts))
    for name, spin in (("machine: sleep to the instant, idle", "0"), ("machine: the same, last 80 us on the clock", "80")):
        rows[name] = floor_row(subprocess.run([FLOOR, str(IDLE * 20), "50", spin], check=True,
                                              capture_output=True, text=True).stdout)
    idle, load, u, lat = idle_then_load("uwsgi")
    for phase, (a, b) in (("idle", idle), ("load", load)):
        ts = [t for t in lat.get("sig_t", []) if a <= t < b]
        rows["uwsgi timer period error " + phase] = lag_row(period_errors(ts))
    return rows


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_second(kind):
    """The worker's CPU seconds a second with the schedule and no load
    (the base's are taken off by the caller): what the scheduler takes
    from the cores the requests need."""
    u = Uwsgi(KINDS[kind], env={"PERIOD": "0.05", "NJOBS": str(NJOBS), "NSEC": str(NSEC)})
    try:
        u.start()
        u.wait_http()
        time.sleep(SETTLE)
        pid = u.worker_pids()[0]
        before = cpu_s(pid)
        time.sleep(IDLE)
        return (cpu_s(pid) - before) / IDLE
    finally:
        u.stop()


def main():
    print("fire lag and request cost (1 worker, hello app under wrk -t2 -c16 -d%ds; %d Python jobs every 50 ms "
          "+ %d every second; %d alternating rounds of base, ours, APScheduler 3 and the work alone, the order rotated)" % (SECONDS, NJOBS, NSEC, ROUNDS))
    rps, lags = load_rounds()
    o, a = lags["ours"], lags["aps"]
    ro, ra = lag_row(o["tick"]), lag_row(a["tick"])
    print("%-52s %14s %14s %8s" % ("figure", "ours", "APScheduler 3", "ratio"))

    def row(name, ours, peer, unit="ms", better_low=True):
        ratio = "-"
        if ours is not None and peer is not None and ours > 0 and peer > 0:
            ratio = "%.1fx" % (peer / ours if better_low else ours / peer)
        elif better_low and ours is not None and peer is not None and ours <= 0 < peer:
            ratio = "none lost"
        print("%-52s %14s %14s %8s" % (name, fmt(ours, unit), fmt(peer, unit), ratio))

    row("Python fire lag p50 (100 jobs x 20 Hz, under wrk)", ro["p50"], ra["p50"])
    row("Python fire lag p99", ro["p99"], ra["p99"])
    row("Python fire lag max", ro["max"], ra["max"])
    row("  p99 per round, median (min-max: see below)", median(o["p99s"]), median(a["p99s"]))
    print("  p99 per round: ours %s; APScheduler 3 %s; samples ours %d, APScheduler 3 %d" % (
        " ".join("%.2f" % v for v in o["p99s"]), " ".join("%.2f" % v for v in a["p99s"]), ro["n"], ra["n"]))
    rf = lag_row(lags["floor"])
    print("  the machine's floor under the same wrk (a bare thread sleeping to the instants, base rounds): "
          "p50 %s, p99 %s, max %s, %d samples" % (fmt(rf["p50"]), fmt(rf["p99"]), fmt(rf["max"]), rf["n"]))
    row("request loss vs no scheduler (median of rounds)", loss(rps, "ours"), loss(rps, "aps"), "%")
    print("  req/s medians: base %.0f, ours %.0f, APScheduler 3 %.0f, the work alone %.0f" % (
        median(rps["base"]), median(rps["ours"]), median(rps["aps"]), median(rps["work"])))
    rw = lag_row(lags["work"]["tick"])
    print("  the floor: the jobs' own work called by a bare Python thread (no scheduler): request loss %s, "
          "its lag p50 %s, p99 %s" % (fmt(loss(rps, "work"), "%"), fmt(rw["p50"]), fmt(rw["p99"])))
    base_cpu = cpu_per_second("base")
    fires = NJOBS * 20 + NSEC
    row("worker CPU per fire, idle (beyond no scheduler)", (cpu_per_second("ours") - base_cpu) / fires * 1e6,
        (cpu_per_second("aps") - base_cpu) / fires * 1e6, "us")
    print("  the work alone (the same bare thread): %s" % fmt((cpu_per_second("work") - base_cpu) / fires * 1e6,
                                                                "us"))
    so, sa = o["sec"], a["sec"]
    row("1-s fires starting within 1 ms (Quartz.NET's measure)", within(so, 1), within(sa, 1), "%", False)
    row("1-s fires starting within 10 ms", within(so, 10), within(sa, 10), "%", False)
    print()
    rows = targets()
    print("rpc:/signal: targets (ours: lag at the dispatch, from the JSON log; the handler's own for a 1-s cron)")
    print("%-40s %6s %12s %12s %12s" % ("figure", "n", "p50", "p99", "max"))
    for name, r in rows.items():
        print("%-40s %6d %12s %12s %12s" % (name, r["n"], fmt(r["p50"], "ms", 3), fmt(r["p99"], "ms", 3),
                                            fmt(r["max"], "ms", 3)))
    os.makedirs(os.path.join(ROOT, "build", "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "build", "bench", "lag.json"), "w") as f:
        json.dump({"rps": rps, "ours": ro, "aps": ra, "p99s": {"ours": o["p99s"], "aps": a["p99s"]}, "floor_under_load": rf,
                   "work": rw,
                   "targets": rows}, f, indent=1)


if __name__ == "__main__":
    main()
