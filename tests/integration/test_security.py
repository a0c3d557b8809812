"""What an exec: command may do: no more than the worker. Under --uid/--gid
it runs as that user and group (uWSGI drops privileges in the master,
before fork); with scheduler-exec-env = clean it gets cron's environment
(HOME, LOGNAME, USER, SHELL, PATH) and the run's context, nothing of the
worker's; and the run's context reaches it as environment variables only,
never as text put into the command (a job id full of shell syntax stays
data)."""
import os
import pwd
import grp
import tempfile

import pytest

from conftest import wait_for

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")


def ini(u, *extra):
    """An instance with no app: exec: jobs need none."""
    return "\n".join(["[uwsgi]", "http-socket = 127.0.0.1:%d" % u.port, "master = true", "workers = 2",
                      "enable-threads = true", "worker-reload-mercy = 30"] + list(extra)) + "\n"


@pytest.fixture
def outdir():
    """A directory any user may write in: the commands run as nobody."""
    d = tempfile.mkdtemp(prefix="usch-sec-")
    os.chmod(d, 0o777)
    yield d
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)


def written(path, n=1):
    """The lines of path once it has n of them."""
    def ready():
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            return None
        return lines if len(lines) >= n else None
    return wait_for(ready, 30, what="%s to be written" % path)


def environment(path):
    """NAME -> value of an `env -0` dump."""
    with open(path, "rb") as f:
        entries = [e.decode() for e in f.read().split(b"\0") if e]
    return dict(e.split("=", 1) for e in entries)


@needs_root
def test_commands_run_as_the_dropped_user_with_a_clean_environment(uwsgi, outdir):
    nobody = pwd.getpwnam("nobody")
    group = grp.getgrgid(nobody.pw_gid)
    u = uwsgi()
    ids = os.path.join(outdir, "ids")
    env = os.path.join(outdir, "env")
    u.start(ini=ini(u, "uid = nobody", "gid = %s" % group.gr_name, "scheduler-exec-env = clean",
                    'scheduler-cron = @start exec:"id -u >> %s; id -g >> %s; id -G >> %s" id=ids scope=once' % (ids, ids, ids),
                    'scheduler-cron = @start exec:"env -0 > %s" id=env scope=once' % env),
            plugins=(), env={"SECRET_TOKEN": "s3cr3t", "UWSGI_FOO": "bar"})
    uid, gid, groups = written(ids, 3)
    assert (int(uid), int(gid)) == (nobody.pw_uid, nobody.pw_gid)
    assert "0" not in groups.split(), groups  # root's groups are not kept
    wait_for(lambda: os.path.exists(env) and os.path.getsize(env) > 0, 30)
    got = environment(env)
    # cron's five, the run's context, and what sh itself sets (PWD)
    assert got.pop("HOME") == nobody.pw_dir
    assert got.pop("LOGNAME") == got.pop("USER") == "nobody"
    assert got.pop("SHELL") == "/bin/sh"
    assert got.pop("PATH") == "/usr/bin:/bin"
    assert got.pop("SCHEDULER_JOB") == "env"
    for name in ("SCHEDULER_SCHEDULED", "SCHEDULER_SCHEDULED_TS", "SCHEDULER_WORKER", "SCHEDULER_CATCH_UP",
                 "SCHEDULER_ATTEMPT"):
        assert got.pop(name)
    got.pop("PWD", None)
    assert got == {}
    u.stop()


def test_the_worker_environment_is_inherited_by_default(uwsgi, outdir):
    u = uwsgi()
    env = os.path.join(outdir, "env")
    u.start(ini=ini(u, 'scheduler-cron = @start exec:"env -0 > %s.tmp && mv %s.tmp %s" id=env scope=once'
                    % (env, env, env)), plugins=(), env={"SECRET_TOKEN": "s3cr3t"})
    wait_for(lambda: os.path.exists(env), 30)
    got = environment(env)
    assert got["SECRET_TOKEN"] == "s3cr3t"
    assert got["PATH"] == os.environ["PATH"]
    assert got["SCHEDULER_JOB"] == "env"
    u.stop()


def test_context_is_never_put_into_the_command(uwsgi, outdir):
    """A job id made of shell syntax reaches the command as $SCHEDULER_JOB
    only: the command's text is run as written."""
    u = uwsgi()
    out = os.path.join(outdir, "job")
    hostile = "$(touch${IFS}%s/pwned)`touch${IFS}%s/pwned2`" % (outdir, outdir)
    # %%s: uWSGI's ini reads %s as its own magic variable
    u.start(ini=ini(u, "scheduler-job = %s" % (
        '{"cron": "@start", "target": "exec:printf %%%%s \\"$SCHEDULER_JOB\\" > %s", "id": "%s", "scope": "once"}'
        % (out, hostile.replace("\\", "\\\\").replace('"', '\\"')))), plugins=())
    written(out)
    with open(out) as f:
        assert f.read() == hostile
    assert not os.path.exists(os.path.join(outdir, "pwned"))
    assert not os.path.exists(os.path.join(outdir, "pwned2"))
    u.stop()
