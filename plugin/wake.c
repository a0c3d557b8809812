/* wake.c - waking the timing threads (see wake.h).
 *
 * An eventfd counts writes: a wake made while the timing thread is busy
 * is still there when it next sleeps, so none is lost, and a burst of
 * them costs one wake-up. */
#include <uwsgi.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include "wake.h"
#include "common.h"

extern struct uwsgi_server uwsgi;

static struct {
	int *fds; /* by worker id, 0 .. nfds-1; -1 where none could be made */
	int nfds;
	_Atomic uint64_t *changes; /* shared */
} wk;

static int new_fd(void) {
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

void sched_wake_setup(void) {
	if (wk.fds)
		return;
	wk.nfds = (uwsgi.numproc > 0 ? uwsgi.numproc : 1) + 1;
	wk.fds = uwsgi_malloc(sizeof(int) * (size_t) wk.nfds);
	for (int i = 0; i < wk.nfds; i++)
		wk.fds[i] = new_fd();
	wk.changes = sched_shared_zeroed(sizeof(*wk.changes));
}

int sched_wake_fd(void) {
	int wid = uwsgi.mywid;
	return wk.fds && wid >= 0 && wid < wk.nfds ? wk.fds[wid] : -1;
}

static void poke(int fd) {
	uint64_t one = 1;
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: its count is full, it is awake anyway */
	}
}

void sched_wake_self(void) {
	poke(sched_wake_fd());
}

void sched_wake_all(void) {
	if (!wk.fds)
		return;
	atomic_fetch_add(wk.changes, 1);
	for (int i = 0; i < wk.nfds; i++)
		poke(wk.fds[i]);
}

uint64_t sched_wake_changes(void) {
	return wk.changes ? atomic_load(wk.changes) : 0;
}

void sched_wake_drain(void) {
	uint64_t n;
	int fd = sched_wake_fd();
	if (fd >= 0 && read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing was written */
	}
}
