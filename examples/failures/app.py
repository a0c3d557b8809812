"""A WSGI app with a nightly backup that may fail, and the two endpoints
its hooks call: /ping/<job> (a dead man's switch, as healthchecks.io
offers) and /alert (a webhook). GET / shows what they received.

The backup copies data.txt to backups/; it fails while a file named
`disk-full` exists, as a real backup fails on a full disk. The feed
import takes as long as the file `slow-feed` says."""
import json
import os
import shutil
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVED = os.path.join(HERE, "received.jsonl")


def backup(ctx):
    if os.path.exists(os.path.join(HERE, "disk-full")):
        raise OSError(28, "No space left on device (attempt %d)" % ctx["attempt"])
    os.makedirs(os.path.join(HERE, "backups"), exist_ok=True)
    src = os.path.join(HERE, "data.txt")
    if not os.path.exists(src):
        with open(src, "w") as f:
            f.write("precious\n")
    stamp = time.strftime("%Y%m%dT%H%M%S")
    shutil.copy(src, os.path.join(HERE, "backups", "data-%s.txt" % stamp))


def import_feed():
    """Takes as many seconds as the file `slow-feed` says (a slow upstream)."""
    try:
        with open(os.path.join(HERE, "slow-feed")) as f:
            seconds = float(f.read() or 0)
    except FileNotFoundError:
        seconds = 0.1
    time.sleep(seconds)


def receive(kind, **fields):
    fields.update(kind=kind, t=time.time())
    with open(RECEIVED, "a") as f:
        f.write(json.dumps(fields) + "\n")


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/ping/"):
        receive("ping", job=path[len("/ping/"):])
    elif path == "/alert" and environ.get("REQUEST_METHOD") == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = urllib.parse.parse_qs(environ["wsgi.input"].read(size).decode())
        receive("alert", **{k: v[0] for k, v in form.items()})
    lines = open(RECEIVED).read() if os.path.exists(RECEIVED) else ""
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"[" + b",".join(l.encode() for l in lines.splitlines()) + b"]"]
