"""make bench's peer for signal: targets: uWSGI's own signal timer
(uwsgi.add_timer, 1 s granularity) delivered to the worker; its handler
records when it runs. /reset and /dump as ours_app.py."""
import time

import uwsgi

from lat_app import make_application

SIG = 18
lat = {"sig_t": []}


def handler(signum):
    lat["sig_t"].append(time.time())


uwsgi.register_signal(SIG, "worker", handler)
uwsgi.add_timer(SIG, 1)


application = make_application(lat)
