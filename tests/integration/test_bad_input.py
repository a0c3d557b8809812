"""The bad-input corpus: every option and key given what a hurried or
hostile ini holds (bad_input.jsonl: malformed cron fields, durations,
dates, zones, targets, keys, JSON, settings; duplicates and conflicts;
control characters), and lines of 5,000-10,000 characters made here.
A row may add "args" (what the refusal needs, e.g. a --legion). Each
stops uwsgi before any worker forks, with a non-zero exit and one
`[scheduler]` line: the option, the value as written (control characters
escaped, a very long line cut), and what is wrong."""
import json
import os
import re
import signal
import subprocess

import pytest

from conftest import PLUGIN, UWSGI, assert_nothing_fatal, free_port

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_input.jsonl")
JOB_OPTIONS = ("scheduler-cron", "scheduler-interval", "scheduler-at", "scheduler-job")


def cases():
    with open(CORPUS) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    k = "k" * 10000
    rows += [
        {"option": "scheduler-interval", "value": "1s signal:5 %s=1" % k,
         "message": 'scheduler-interval "1s signal:5 %s..." (10014 characters): unknown key "%s..." (known: id, '
                    'args, kwargs, context, tz, jitter, misfire-grace, coalesce, max-running, overlap, timeout, start, end, '
                    'paused, scope, workers, legion, app, catch-up, interrupted, retries, retry-delay, retry-backoff, '
                    'retry-max-delay, on-failure, on-success)' % (("1s signal:5 " + k)[:120][12:], k[:40])},
        {"option": "scheduler-cron", "value": ",".join(["0"] * 5000) + " * * * * signal:5",
         "message": 'scheduler-cron "%s..." (10016 characters): the cron expression is too long'
                    % ",".join(["0"] * 5000)[:120]},
        {"option": "scheduler-interval", "value": "1s signal:5 args=" + "[" * 5000,
         "message": 'scheduler-interval "%s..." (5017 characters): "args": invalid JSON: maximum parsing depth '
                    "reached near '['" % ("1s signal:5 args=" + "[" * 5000)[:120]},
    ]
    return rows


CASES = cases()


def test_the_corpus_is_large_and_covers_every_option():
    assert len(CASES) >= 80
    options = {c["option"] for c in CASES}
    # every option the plugin has, as uwsgi --help lists it
    listed = subprocess.run([UWSGI, "--plugin", PLUGIN, "--help"], capture_output=True, text=True).stdout
    every = set(re.findall(r"--(scheduler-[a-z-]+)", listed))
    assert len(every) >= 17 and set(JOB_OPTIONS) <= every
    for option in sorted(every):
        assert option in options, option
    keys = ("id", "args", "kwargs", "context", "tz", "jitter", "misfire-grace", "coalesce", "max-running", "timeout",
            "start", "end", "paused", "scope", "workers", "legion", "app", "catch-up", "interrupted", "retries",
            "retry-delay", "retry-backoff", "retry-max-delay", "on-failure", "on-success")
    lines = " ".join(c["value"] for c in CASES)
    for key in keys:
        assert " %s=" % key in lines, key


@pytest.mark.parametrize("case", CASES, ids=lambda c: "%s:%s" % (c["option"], c["value"][:40]))
def test_refused_before_fork(tmp_path, case):
    args = [UWSGI, "--plugin", PLUGIN, "--master", "--workers", "4", "--enable-threads",
            "--http-socket", "127.0.0.1:%d" % free_port()] + case.get("args", []) + ["--" + case["option"], case["value"]]
    if case["option"] not in JOB_OPTIONS:
        args += ["--scheduler-interval", "1s signal:5"]
    p = subprocess.Popen(args, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        pytest.fail("accepted (uwsgi kept running): %r" % case["value"][:200])
    text = out.decode("utf-8", "replace")
    assert p.returncode != 0, text[-2000:]
    assert "spawned uWSGI worker" not in text, text[-2000:]
    assert_nothing_fatal(text)
    ours = [line for line in text.splitlines() if line.startswith("[scheduler]")]
    assert ours == ["[scheduler] " + case["message"]], ours
