"""A WSGI app that exposes its scheduled work as a uWSGI RPC function and a
uWSGI signal handler instead of as Python callables. app.ini targets them
with rpc:send_digest and signal:17, the two target kinds that do not care
which language registered them (see README.md).

Both are registered at import, in the master before it forks (no
lazy-apps), so every worker inherits them."""
import os
import time

import uwsgi

try:
    from uwsgidecorators import signal  # Debian: apt install python3-uwsgidecorators
except ImportError:
    def signal(num, target=""):
        """What uwsgidecorators' @signal does (it ships apart from uwsgi)."""
        def register(func):
            uwsgi.register_signal(num, target, func)
            return func
        return register

# what the page shows: each worker's own copy, changed by the two handlers
STATE = {"digests_sent": 0, "last_digest": None, "flags_reloaded_at": None}


def send_digest(kind, limit):
    """RPC function: arguments arrive as bytes (the scheduler passes its
    JSON args as strings), the result goes back as bytes."""
    kind, limit = kind.decode(), int(limit)
    STATE["digests_sent"] += 1
    STATE["last_digest"] = "%s (up to %d items) at %s" % (kind, limit, time.strftime("%H:%M:%S"))
    print("rpc send_digest(%r, %d) in worker pid %d" % (kind, limit, os.getpid()), flush=True)
    return b"sent"


uwsgi.register_rpc("send_digest", send_digest)


@signal(17, target="workers")
def reload_flags(signum):
    """Signal 17, delivered to every worker (target="workers"): the
    scheduler raises it once (scope=once) and each worker's own loop runs
    this handler, in the worker's main thread, between requests."""
    STATE["flags_reloaded_at"] = time.strftime("%H:%M:%S")
    print("signal %d: feature flags reloaded in worker pid %d" % (signum, os.getpid()), flush=True)


def application(environ, start_response):
    body = "worker pid %d\n%s\n" % (os.getpid(), "\n".join("%s: %s" % kv for kv in sorted(STATE.items())))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
