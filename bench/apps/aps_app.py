"""make bench's peer: APScheduler 3's BackgroundScheduler started inside the
uWSGI worker, as its docs recommend (with lazy-apps, one per worker), with
the same jobs as ours: NJOBS interval jobs every PERIOD seconds, all due on
the same instants, and NSEC jobs every second. Each records its fire lag:
when its code starts minus its scheduled instant (the start date plus k
periods, as APScheduler computes them). /reset and /dump as ours_app.py."""
import datetime
import os
import time

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from lat_app import make_application

PERIOD = float(os.environ.get("PERIOD", "0.05"))
NJOBS = int(os.environ.get("NJOBS", "100"))
NSEC = int(os.environ.get("NSEC", "10"))
lat = {"tick": [], "sec": []}
t0 = time.time() + 1.0


def make(key, period):
    k = [0]

    def job():
        now = time.time()
        k[0] += 1
        lat[key].append(now - (t0 + (k[0] - 1) * period))  # the first fire is at start_date
    return job


scheduler = BackgroundScheduler()
start = datetime.datetime.fromtimestamp(t0)
for i in range(NJOBS):
    scheduler.add_job(make("tick", PERIOD), IntervalTrigger(seconds=PERIOD, start_date=start), max_instances=10,
                      misfire_grace_time=10)
for i in range(NSEC):
    scheduler.add_job(make("sec", 1.0), IntervalTrigger(seconds=1, start_date=start), max_instances=10,
                      misfire_grace_time=10)
scheduler.start()


application = make_application(lat)
