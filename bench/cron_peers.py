"""Next-fire cost of the Python peers, measured as shared/anchors/cron_speed.py
does: successive next-fire times from 2026-01-01 UTC. Prints one
tab-separated row per expression: expression, croniter µs, APScheduler 3 µs
("nan" where a peer rejects the expression)."""
import datetime
import sys
import time

import pytz
from apscheduler.triggers.cron import CronTrigger
from croniter import croniter

N = int(sys.argv[1])
BASE = datetime.datetime(2026, 1, 1, tzinfo=pytz.utc)


def per_call(fn, n):
    best = None
    for _ in range(3):
        t = time.perf_counter()
        fn(n)
        took = (time.perf_counter() - t) / n * 1e6
        best = took if best is None else min(best, took)
    return best


def croniter_us(expr):
    it = croniter(expr, BASE)

    def run(n):
        for _ in range(n):
            it.get_next(datetime.datetime)
    return per_call(run, N)


def aps_us(expr):
    trig = CronTrigger.from_crontab(expr, timezone=pytz.utc)
    state = {"prev": None, "now": BASE}

    def run(n):
        for _ in range(n):
            nxt = trig.get_next_fire_time(state["prev"], state["now"])
            state["prev"] = nxt
            state["now"] = nxt + datetime.timedelta(microseconds=1)
    return per_call(run, max(N // 10, 100))


for expr in sys.argv[2:]:
    row = [expr]
    for fn in (croniter_us, aps_us):
        try:
            row.append("%.2f" % fn(expr))
        except Exception:
            row.append("nan")
    print("\t".join(row))
