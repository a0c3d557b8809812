"""The app the three instances of examples/cluster serve, and its one
cluster job: the daily digest, sent once per day across the three (here
appended to digests.log, which the three share on this machine)."""
import json
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def send_digest(ctx):
    # ctx["scheduled"]: the occurrence this run is for; the same on every instance
    line = {"digest_for": ctx["scheduled"], "sent_by": os.environ.get("INSTANCE", "?"),
            "worker": ctx["worker"], "at": time.strftime("%H:%M:%S")}
    with open(os.path.join(HERE, "digests.log"), "a") as f:  # O_APPEND: one write per line
        f.write(json.dumps(line) + "\n")


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("instance %s\n" % os.environ.get("INSTANCE", "?")).encode()]
