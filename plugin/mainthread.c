/* mainthread.c - RPC calls that must run in a worker's own request thread.
 *
 * Perl, Ruby and Lua keep one interpreter per request core: an RPC
 * function their apps register can only be called from a thread that has
 * one, which ours do not. Such calls are posted to a per-worker mailbox
 * and a uWSGI signal (scheduler-rpc-signal, routed by the master to the
 * workers) makes the worker run them between requests, as uWSGI runs every
 * signal handler. The handler is ours: a stand-in plugin occupies a free
 * modifier1 slot to receive it. Needs --master (uWSGI routes signals
 * through it). */
#include <uwsgi.h>
#include "mainthread.h"

extern struct uwsgi_server uwsgi;
extern struct uwsgi_plugin unconfigured_plugin;

struct call {
	char *name;
	uint8_t argc;
	char **argv;
	uint16_t *argvs;
	uint64_t len; /* bytes returned */
	int taken;    /* the worker is running it */
	int done;
	struct call *next;
};

static struct {
	int signum; /* -1: not set up */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct call *head;
	int aborted;   /* the worker is stopping */
	char why[256]; /* why setup failed */
} mt = {
	.signum = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* A request with our modifier1 (nobody should send one) is refused the
 * way uWSGI refuses any unknown modifier. */
static int shim_request(struct wsgi_request *wsgi_req) {
	uwsgi_log("-- unavailable modifier requested: %d --\n", wsgi_req->uh->modifier1);
	return -1;
}

/* Runs in a worker's request thread when the signal arrives: every call
 * waiting in this worker's mailbox. Other workers find theirs empty. */
static int shim_signal(uint8_t sig, void *handler) {
	for (;;) {
		pthread_mutex_lock(&mt.lock);
		struct call *c = mt.head;
		while (c && c->taken)
			c = c->next;
		if (c)
			c->taken = 1;
		pthread_mutex_unlock(&mt.lock);
		if (!c)
			return 0;
		char *out = NULL;
		uint64_t len = uwsgi_rpc(c->name, c->argc, c->argv, c->argvs, &out);
		free(out);
		pthread_mutex_lock(&mt.lock);
		c->len = len;
		c->done = 1;
		pthread_cond_broadcast(&mt.cond);
		pthread_mutex_unlock(&mt.lock);
	}
}

static struct uwsgi_plugin shim = {
	.name = "scheduler-rpc",
	.request = shim_request,
	.signal_handler = shim_signal,
};

static int setup(int signum, char *err, size_t errlen) {
	if (!uwsgi.master_process) {
		snprintf(err, errlen, "needs --master (uWSGI routes signals through it)");
		return -1;
	}
	if (uwsgi_signal_registered((uint8_t) signum)) {
		snprintf(err, errlen,
				"uWSGI signal %d is already registered by the app: "
				"choose a free one with scheduler-rpc-signal",
				signum);
		return -1;
	}
	int slot = -1;
	for (int m = 250; m > 100 && slot < 0; m--)
		if (uwsgi.p[m] == &unconfigured_plugin)
			slot = m;
	if (slot < 0) {
		snprintf(err, errlen, "no free modifier1 slot for the scheduler's signal handler");
		return -1;
	}
	shim.modifier1 = (uint8_t) slot;
	uwsgi.p[slot] = &shim;
	if (uwsgi_register_signal((uint8_t) signum, "workers", &shim, (uint8_t) slot) < 0) {
		uwsgi.p[slot] = &unconfigured_plugin;
		snprintf(err, errlen, "cannot register uWSGI signal %d", signum);
		return -1;
	}
	mt.signum = signum;
	return 0;
}

/* Master, before fork. Returns 0, or -1 with the reason in err (and kept
 * for the calls that will fail for it). */
int sched_mainthread_setup(int signum, char *err, size_t errlen) {
	if (setup(signum, err, errlen) == 0)
		return 0;
	snprintf(mt.why, sizeof(mt.why), "%s", err);
	return -1;
}

static void unlink_call(struct call *c) {
	for (struct call **p = &mt.head; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			return;
		}
	}
}

char *sched_mainthread_rpc(const char *name, uint8_t argc, char **argv, uint16_t *argvs, uint64_t *len) {
	if (mt.signum < 0)
		return uwsgi_concat2("cannot call RPC functions of this language: ", mt.why[0] ? mt.why : "not set up");
	struct call c = { .name = (char *) name, .argc = argc, .argv = argv, .argvs = argvs };
	pthread_mutex_lock(&mt.lock);
	if (mt.aborted) {
		pthread_mutex_unlock(&mt.lock);
		return uwsgi_str("the worker is stopping");
	}
	c.next = mt.head;
	mt.head = &c;
	pthread_mutex_unlock(&mt.lock);
	if (uwsgi_signal_send(uwsgi.signal_socket, (uint8_t) mt.signum) < 0) {
		pthread_mutex_lock(&mt.lock);
		unlink_call(&c);
		pthread_mutex_unlock(&mt.lock);
		return uwsgi_concat2("cannot signal the worker: ", strerror(errno));
	}
	pthread_mutex_lock(&mt.lock);
	/* a call the worker has taken is on our stack: wait for it, always */
	while (!c.done && (c.taken || !mt.aborted))
		pthread_cond_wait(&mt.cond, &mt.lock);
	char *err = NULL;
	if (!c.done) {
		unlink_call(&c);
		err = uwsgi_str("the worker stopped before it ran the call");
	}
	else {
		unlink_call(&c);
		*len = c.len;
	}
	pthread_mutex_unlock(&mt.lock);
	return err;
}

/* The worker is stopping: calls not yet taken are given up. */
void sched_mainthread_abort(void) {
	pthread_mutex_lock(&mt.lock);
	mt.aborted = 1;
	pthread_cond_broadcast(&mt.cond);
	pthread_mutex_unlock(&mt.lock);
}
