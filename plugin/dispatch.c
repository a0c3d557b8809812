/* dispatch.c - running one fire of a job on its target: a Python callable
 * (python.c), a uWSGI RPC function (mainthread.c for Perl, Ruby and Lua),
 * a uWSGI signal, or a command (with the run's context in its
 * environment, context.c).
 *
 * Called from an executor thread (runtime.c) without the GIL. Every
 * outcome comes back as a value: NULL for success or a malloc'd message. */
#include <uwsgi.h>
#include <spawn.h>
#include "dispatch.h"
#include "python.h"
#include "punctual.h"
#include "mainthread.h"
#include "log.h"
#include "common.h"
#include "context.h"
#include "commands.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

#define EXEC_TAIL 2048

/* The plugin that registered RPC function name in this worker, or NULL. */
static struct uwsgi_plugin *rpc_owner(const char *name) {
	int pos = uwsgi.mywid * uwsgi.rpc_max;
	for (uint64_t i = 0; i < uwsgi.shared->rpc_count[uwsgi.mywid]; i++)
		if (!strcmp(uwsgi.rpc_table[pos + i].name, name))
			return uwsgi.rpc_table[pos + i].plugin;
	return NULL;
}

/* The arguments were made at declaration (job->rpc). */
static char *rpc_call(const struct usch_job *job) {
	const struct usch_rpc_args *a = &job->cold->rpc;
	struct uwsgi_plugin *owner = rpc_owner(job->target);
	if (!owner)
		return uwsgi_concat3("no RPC function \"", job->target, "\" is registered in this worker");
	uint64_t len = 0;
	char *err = NULL;
	if (sched_is_python_plugin(owner)) {
		/* Python's own thread state for us was made by init_thread */
		char *out = NULL;
		len = uwsgi_rpc(job->target, a->argc, a->argv, a->argvs, &out);
		free(out);
	}
	else {
		/* other languages: in the worker's own request thread */
		err = sched_mainthread_rpc(job->target, a->argc, a->argv, a->argvs, &len);
	}
	if (!err && len)
		sched_log_run(job, "rpc %s returned %llu bytes", job->target, (unsigned long long) len);
	return err;
}

static char *signal_raise(const struct usch_job *job) {
	uint8_t sig = (uint8_t) job->signum;
	if (!uwsgi_signal_registered(sig))
		return uwsgi_str("no handler is registered for this uWSGI signal");
	if (uwsgi_signal_send(uwsgi.signal_socket, sig) < 0)
		return uwsgi_concat2("cannot send the signal: ", strerror(errno));
	return NULL;
}

/* Keeps the last EXEC_TAIL bytes of the command's output. */
static void keep_tail(char *tail, size_t *len, const char *buf, size_t n) {
	if (n >= EXEC_TAIL) {
		memcpy(tail, buf + n - EXEC_TAIL, EXEC_TAIL);
		*len = EXEC_TAIL;
		return;
	}
	if (*len + n > EXEC_TAIL) {
		size_t drop = *len + n - EXEC_TAIL;
		memmove(tail, tail + drop, *len - drop);
		*len -= drop;
	}
	memcpy(tail + *len, buf, n);
	*len += n;
}

static pid_t spawn_shell(const char *cmd, int out_fd, char **envp) {
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid = -1;
	char *argv[] = { "/bin/sh", "-c", (char *) cmd, NULL };
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	/* the worker's sockets and files are not the command's business */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	/* our threads block every signal: the command must not inherit that */
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	int r = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r) {
		errno = r; /* posix_spawn returns the error, it does not set errno */
		pid = -1;
	}
	return pid;
}

/* Runs the command in its own process group, with the run's context in
 * its environment, collects the tail of its output, and kills the group
 * when the job's timeout passes. */
static char *exec_run(const struct usch_fire *fire, const char *error) {
	const struct usch_job *job = fire->job;
	struct sched_context ctx;
	sched_context_of(fire, error, &ctx);
	char **envp = sched_context_environ(&ctx);
	if (!envp)
		return uwsgi_str("out of memory for the command's environment");
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(envp);
		return uwsgi_concat2("pipe: ", strerror(errno));
	}
	pid_t pid = spawn_shell(job->target, fds[1], envp);
	int spawn_errno = errno;
	free(envp);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return uwsgi_concat2("cannot start /bin/sh: ", strerror(spawn_errno));
	}
	int note = sched_commands_started(job, pid);
	char tail[EXEC_TAIL + 1], buf[4096];
	size_t tail_len = 0;
	int64_t kill_at = job->timeout_us > 0 ? sched_clock_us(CLOCK_MONOTONIC) + job->timeout_us : INT64_MAX;
	int killed = 0, open_out = 1, status = 0;
	for (;;) {
		if (open_out) {
			int wait_ms = kill_at == INT64_MAX
					? 1000
					: (int) ((kill_at - sched_clock_us(CLOCK_MONOTONIC)) / 1000) + 1;
			struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
			int r = poll(&pfd, 1, wait_ms < 0 ? 0 : wait_ms > 1000 ? 1000 : wait_ms);
			if (r > 0) {
				ssize_t n = read(fds[0], buf, sizeof(buf));
				if (n > 0)
					keep_tail(tail, &tail_len, buf, (size_t) n);
				else if (n == 0 || errno != EINTR)
					open_out = 0;
			}
		}
		else {
			usleep(20000);
		}
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid && !open_out)
			break;
		if (w == pid) {
			/* exited; drain what is left without blocking on grandchildren */
			kill_at = INT64_MAX;
			open_out = 0;
			ssize_t n;
			while ((n = read(fds[0], buf, sizeof(buf))) > 0)
				keep_tail(tail, &tail_len, buf, (size_t) n);
			break;
		}
		sched_commands_check(note);
		if (sched_clock_us(CLOCK_MONOTONIC) >= kill_at && killed < 2) {
			kill(-pid, killed ? SIGKILL : SIGTERM);
			kill_at = sched_clock_us(CLOCK_MONOTONIC) + 2000000; /* SIGKILL if still there in 2 s */
			killed++;
		}
	}
	sched_commands_ended(note);
	close(fds[0]);
	while (tail_len && tail[tail_len - 1] == '\n')
		tail_len--;
	tail[tail_len] = 0;
	char msg[256];
	if (killed) {
		char dur[32];
		usch_duration_format(job->timeout_us, dur, sizeof(dur));
		snprintf(msg, sizeof(msg), "command killed after its timeout of %s", dur);
	}
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (tail_len)
			sched_log_output(job, tail);
		return NULL;
	}
	else if (WIFEXITED(status)) {
		snprintf(msg, sizeof(msg), "command exited with status %d", WEXITSTATUS(status));
	}
	else {
		snprintf(msg, sizeof(msg), "command killed by signal %d", WTERMSIG(status));
	}
	/* a failure's message carries the output's tail: the failure line,
	 * the JSON log and a hook's error all have it */
	return tail_len ? uwsgi_concat3(msg, "\n", tail) : uwsgi_str(msg);
}

char *sched_dispatch(const struct usch_fire *fire, const char *error) {
	const struct usch_job *job = fire->job;
	/* the GIL kept from a Python run before (punctual.c) is not held
	 * through a command, an RPC into another thread or a sub-interpreter */
	if (job->kind != USCH_TARGET_PYTHON || job->app)
		sched_punctual_release();
	switch (job->kind) {
	case USCH_TARGET_PYTHON:
		return sched_python_call(fire, error);
	case USCH_TARGET_RPC:
		return rpc_call(job);
	case USCH_TARGET_SIGNAL:
		return signal_raise(job);
	case USCH_TARGET_EXEC:
		return exec_run(fire, error);
	}
	return uwsgi_str("unknown target kind");
}
