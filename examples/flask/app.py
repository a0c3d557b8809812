"""A small Flask app with two scheduled jobs (see app.ini):

- refresh_cache, in every worker every 10 s: recomputes the numbers the
  page shows and keeps them in a module-level dict, so requests never pay
  for the query. Each worker has its own copy (its own process).
- purge_sessions, every minute in one worker (scope=once): deletes the
  rows of the sessions table in sessions.db that had expired at the
  scheduled minute (context=ctx gives it) and logs how many.

The jobs live in this module, which the ini loads with `wsgi-file = app.py`:
`app:refresh_cache` names this file, so the job runs in the module uWSGI
loaded and the dict it fills is the one the view reads.
"""
import os
import sqlite3
import time
import uuid

from flask import Flask, jsonify

DB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sessions.db")
SESSION_TTL = 30  # seconds: short, so the demo has something to purge

app = Flask(__name__)

# the in-process cache: one per worker, filled by refresh_cache
CACHE = {"refreshed_at": None, "refreshed_by_pid": None, "refreshes": 0, "stats": None}


def db():
    conn = sqlite3.connect(DB, timeout=10)
    conn.execute("CREATE TABLE IF NOT EXISTS sessions ("
                 " id TEXT PRIMARY KEY, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
    return conn


@app.route("/")
def index():
    # every visit opens a session that expires SESSION_TTL seconds later
    now = time.time()
    with db() as conn:
        conn.execute("INSERT INTO sessions VALUES (?, ?, ?)", (uuid.uuid4().hex, now, now + SESSION_TTL))
    return jsonify(worker_pid=os.getpid(), cache=dict(CACHE))


def refresh_cache():
    """scheduler-interval = 10s app:refresh_cache (every worker)."""
    now = time.time()
    with db() as conn:
        total, live = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(expires_at > ?), 0) FROM sessions", (now,)).fetchone()
    CACHE.update(stats={"sessions": total, "live_sessions": live},
                 refreshed_at=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)),
                 refreshed_by_pid=os.getpid(),
                 refreshes=CACHE["refreshes"] + 1)
    print("cache refreshed in worker pid %d: %d sessions, %d live"
          % (os.getpid(), total, live), flush=True)


def purge_sessions(ctx):
    """scheduler-cron = * * * * * app:purge_sessions scope=once context=ctx (one worker).

    ctx is the run's context. The purge deletes what had expired at the
    scheduled minute, not when it happens to run: a late run, or a
    catch-up (ctx["catch_up"]), does what its minute stood for."""
    with db() as conn:
        purged = conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (ctx["scheduled_ts"],)).rowcount
    print("purged %d sessions expired by %s (worker %d, pid %d)"
          % (purged, ctx["scheduled"], ctx["worker"], os.getpid()), flush=True)
