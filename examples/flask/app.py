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

/admin/jobs shows the jobs as the plugin sees them (scheduler.list) with
buttons to run one now, pause it or resume it (see the end of the file).
"""
import datetime
import json
import os
import sqlite3
import time
import uuid

from flask import Flask, Response, flash, jsonify, redirect, render_template_string, url_for

try:
    import uwsgi
except ImportError:  # flask run, a test client: no uWSGI, so no scheduler
    uwsgi = None

DB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sessions.db")
SESSION_TTL = 30  # seconds: short, so the demo has something to purge

app = Flask(__name__)
# flash() keeps the admin page's messages in the signed session cookie. uWSGI
# imports this file in the master, before the fork (no lazy-apps), so every
# worker has the same random key and the page after a redirect reads the
# message whichever worker answers. A real app takes its key from its config.
app.secret_key = os.environ.get("FLASK_SECRET_KEY") or os.urandom(32)

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


# ---- /admin/jobs: watch and steer the jobs -----------------------------------
#
# SECURITY: these routes must sit behind the app's own authentication (and its
# CSRF protection: the buttons are POSTs). This example has neither, and
# whoever reaches the page can pause production jobs or run them at will.
# uwsgi.call is a call from inside the instance, which the plugin never refuses.

NO_SCHEDULER = ("No scheduler here: the jobs run only when uWSGI runs this app with the scheduler "
                "plugin (uwsgi --ini app.ini), not under flask run or another server.")


def scheduler(function, *args):
    """The JSON answer (bytes) of the RPC function scheduler.<function>, or
    None without the plugin."""
    if uwsgi is None:
        return None
    # bytes only (Python 3's uwsgi.call raises ValueError on str); it answers
    # None when no such function is registered: uWSGI without the plugin
    return uwsgi.call(("scheduler." + function).encode(), *(a.encode() for a in args))


@app.template_filter("when")
def when(ts):
    """A Unix time as RFC 3339 in the server's zone (next_due is in the job's)."""
    return datetime.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


ADMIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Scheduled jobs</title>
<style>
 body { font-family: sans-serif; margin: 2em; }
 table { border-collapse: collapse; }
 th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
 form { display: inline; }
 .ok { color: #060; } .error, .failed, .interrupted { color: #b00; }
</style></head><body>
<h1>Scheduled jobs</h1>
{% for category, message in get_flashed_messages(with_categories=true) %}
 <p class="{{ category }}">{{ message }}</p>
{% endfor %}
{% if not doc %}
 <p class="error">{{ no_scheduler }}</p>
{% else %}
 <p>As worker {{ doc.worker }} (pid {{ doc.pid }}) saw them at {{ doc.now }}.</p>
 <table>
  <tr><th>Job</th><th>Schedule</th><th>Scope</th><th>Paused</th><th>Next due</th>
      <th>Last run</th><th>Runs</th><th>Failures</th><th></th></tr>
 {% for job in doc.jobs %}{% set last = job.last %}
  <tr>
   <td>{{ job.id }}</td>
   <td>{{ job.schedule }}</td>
   <td>{{ job.scope }}{% if job.scope == "workers" %} ({{ job.workers }}){% endif %}</td>
   <td>{{ "yes" if job.paused else "no" }}</td>
   <td>{{ job.next_due or "—" }}</td>
   <td>{% if last %}
     started {{ last.started_ts | when }} by worker {{ last.worker }}:
     <span class="{{ last.outcome }}">{{ last.outcome }}</span>
     {%- if last.how != "schedule" %} ({{ last.how }}){% endif %}
     {%- if last.duration_ms is not none %}, {{ "%.1f" | format(last.duration_ms) }} ms{% endif %}
     {% if last.error %}<br><span class="failed">{{ last.error }}</span>{% endif %}
    {% else %}never{% endif %}</td>
   <td>{{ job.counters.runs }}</td>
   <td>{{ job.counters.failures }}</td>
   <td>
    <form method="post" action="{{ url_for('admin_job_action', job_id=job.id, action='run') }}">
     <button>Run now</button></form>
    <form method="post" action="{{ url_for('admin_job_action', job_id=job.id,
                                           action='resume' if job.paused else 'pause') }}">
     <button>{{ "Resume" if job.paused else "Pause" }}</button></form>
   </td>
  </tr>
 {% endfor %}
 </table>
{% endif %}
</body></html>
"""


@app.route("/admin/jobs")
def admin_jobs():
    raw = scheduler("list")
    if raw is None:
        return render_template_string(ADMIN_PAGE, doc=None, no_scheduler=NO_SCHEDULER), 503
    return render_template_string(ADMIN_PAGE, doc=json.loads(raw))


@app.route("/admin/jobs.json")
def admin_jobs_json():
    raw = scheduler("list")
    if raw is None:
        return jsonify(error=NO_SCHEDULER), 503
    return Response(raw, mimetype="application/json")


# path: a job's id is its target unless id= names it, and exec: targets have slashes
@app.route("/admin/jobs/<path:job_id>/<any(run, pause, resume):action>", methods=["POST"])
def admin_job_action(job_id, action):
    raw = scheduler(action, job_id)
    if raw is None:
        flash(NO_SCHEDULER, "error")
    else:
        answer = json.loads(raw)
        flash("%s: %s" % (job_id, answer.get("message") or answer.get("error")),
              "ok" if answer.get("ok") else "error")
    # POST-redirect-GET: reloading the page that follows does not ask again
    return redirect(url_for("admin_jobs"), code=303)
