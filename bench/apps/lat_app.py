"""make bench: the WSGI side every measured app shares. The hello
response, /reset (empties the records) and /dump (writes them to
$LAT_OUT.PID as JSON, for bench/lag_bench.py)."""
import json
import os

OUT = os.environ.get("LAT_OUT", "/tmp/lat")
BODY = b"Hello, World!"


def make_application(lat):
    def application(environ, start_response):
        path = environ.get("PATH_INFO")
        if path == "/reset":
            for v in lat.values():
                del v[:]
        elif path == "/dump":
            with open(OUT + ".%d" % os.getpid(), "w") as f:
                json.dump(lat, f)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
        return [BODY]
    return application
