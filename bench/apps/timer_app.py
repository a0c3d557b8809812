"""make bench's peer for signal: targets: uWSGI's own signal timer
(uwsgi.add_timer, 1 s granularity) delivered to the worker; its handler
records when it runs. /reset and /dump as ours_app.py."""
import json
import os
import time

import uwsgi

OUT = os.environ.get("LAT_OUT", "/tmp/timer_lat")
SIG = 18
lat = {"sig_t": []}


def handler(signum):
    lat["sig_t"].append(time.time())


uwsgi.register_signal(SIG, "worker", handler)
uwsgi.add_timer(SIG, 1)


def application(environ, start_response):
    path = environ.get("PATH_INFO")
    if path == "/reset":
        del lat["sig_t"][:]
    elif path == "/dump":
        with open(OUT + ".%d" % os.getpid(), "w") as f:
            json.dump(lat, f)
    body = b"Hello, World!"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
