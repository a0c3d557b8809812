"""Declaration parsing at scale: N scheduler-cron lines parsed and
validated by the master (uwsgi stops right after, at the threads check),
against uWSGI reading N option lines that the plugin only stores, in the
same run. Our own cost is the difference; linear growth shows as a
100k/10k ratio near 10 (the old duplicate-id check made it ~200)."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

plugin = os.path.abspath(sys.argv[1])
runs = int(os.environ.get("BENCH_DECL_RUNS", "5"))
tmp = tempfile.mkdtemp(prefix="decl-bench-")


def ini(name, n, line):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("[uwsgi]\n")
        for i in range(n):
            f.write(line(i))
    return path


def timed(path):
    """Median wall time of uwsgi reading path and stopping before fork."""
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run(["uwsgi", "--plugin", plugin, "--plugin", "python3", "--ini", path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        times.append(time.monotonic() - t0)
    return statistics.median(times)


ours = {}
for n in (10000, 100000):
    decl = ini("decl%d.ini" % n, n, lambda i: "scheduler-cron = %d %d * * * app.tasks:job%d max-running=2 "
               "timeout=5m\n" % (i % 60, i % 24, i))
    plain = ini("plain%d.ini" % n, n, lambda i: "scheduler-timezone = UTC\n")
    d, p = timed(decl), timed(plain)
    ours[n] = max(d - p, 1e-4)
    print("%6d declarations: %.3f s in all; uWSGI reading %d option lines: %.3f s; ours: %.3f s (%.1f us each)"
          % (n, d, n, p, ours[n], ours[n] / n * 1e6))
print("growth 10k -> 100k: %.1fx (linear: 10x; target: 100k declarations well under 1 s)"
      % (ours[100000] / ours[10000]))
