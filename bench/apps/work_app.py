"""make bench: the jobs' own work with no scheduler at all. A plain Python
thread in the worker sleeps to the same 50-ms instants and calls
ours_app's tick NJOBS times at each (and sec NSEC times each second), each
call with a context dict like ours: what running these jobs in the worker
costs the requests at the least, and how late a bare Python thread starts
them (bench/lag_bench.py's "work" rows)."""
import os
import threading
import time

import ours_app
from ours_app import application, lat  # noqa: F401 (uWSGI's callable, the records)

PERIOD = float(os.environ.get("PERIOD", "0.05"))
NJOBS = int(os.environ.get("NJOBS", "100"))
NSEC = int(os.environ.get("NSEC", "10"))


def calls(fn, ids, at, stamp):
    for job in ids:
        fn({"job": job, "scheduled": stamp, "scheduled_ts": at, "worker": 1, "catch_up": False, "attempt": 1})


def loop():
    ticks = ["tick%d" % i for i in range(NJOBS)]
    secs = ["sec%d" % i for i in range(NSEC)]
    n = int(time.time() / PERIOD) + 1
    while True:
        at = n * PERIOD
        time.sleep(max(0.0, at - time.time()))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))
        calls(ours_app.tick, ticks, at, stamp)
        if n % round(1 / PERIOD) == 0:
            calls(ours_app.sec, secs, at, stamp)
        n += 1


threading.Thread(target=loop, name="work", daemon=True).start()
