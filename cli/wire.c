/* The uwsgi protocol RPC client: where a socket string points, a connection
 * with a deadline, the modifier1 173 request and its answer, including the
 * modifier2 = 5 form uWSGI's rpc plugin uses for answers over 65535 bytes. */
#include "wire.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RPC_MODIFIER1 173
#define LARGE_ANSWER 5
/* A bound on what a CONTENT_LENGTH may make us allocate: a listing is a few
 * kB a job, so this is far beyond any real instance. */
#define MAX_ANSWER (1024UL * 1024 * 1024)
/* How long a UNIX connect waits before retrying when the listen queue is full. */
#define QUEUE_FULL_RETRY_MS 10

struct conn {
	int fd;
	double timeout;
	const char *name;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct conn *c, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static double now_mono(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1: fd is ready for events, 0: the deadline passed, -1: poll failed (errno). */
static int wait_fd(int fd, short events, double deadline) {
	for (;;) {
		double left = deadline - now_mono();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int) ceil(left * 1000));
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* ---- where the socket string points -------------------------------------- */

struct target {
	int unix_socket;
	char host[256]; /* empty: the loopback, as uWSGI's ":port" binds every interface */
	char port[6];
};

static int all_digits(const char *s, size_t n) {
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int valid_port(const char *s) {
	size_t n = strlen(s);
	return n <= 5 && all_digits(s, n) && atoi(s) >= 1 && atoi(s) <= 65535;
}

static int set_host_port(struct target *t, const char *host, size_t hostlen, const char *port) {
	if (hostlen >= sizeof(t->host) || !valid_port(port))
		return -1;
	memcpy(t->host, host, hostlen);
	t->host[hostlen] = 0;
	strcpy(t->port, port);
	return 0;
}

/* "[v6]:port" must be that exactly; "@name" is abstract; anything else that
 * is not "host:port" with one colon is a path, as uWSGI reads its own
 * socket options. */
static int parse_target(struct conn *c, struct target *t) {
	const char *s = c->name;
	memset(t, 0, sizeof(*t));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || set_host_port(t, s + 1, close - s - 1, close + 2))
			return fail(c, "bad socket address \"%s\": an IPv6 address is written [address]:port", s);
		return 0;
	}
	const char *colon = strrchr(s, ':');
	if (s[0] == '@' || strchr(s, '/') || !colon || memchr(s, ':', colon - s) ||
			set_host_port(t, s, colon - s, colon + 1))
		t->unix_socket = 1;
	return 0;
}

/* ---- connecting ----------------------------------------------------------- */

static int finish_connect(struct conn *c, int fd, double deadline) {
	int r = wait_fd(fd, POLLOUT, deadline);
	if (r == 0)
		return fail(c, "timed out after %g s connecting to %s", c->timeout, c->name);
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr)
		return fail(c, "cannot connect to %s: %s", c->name, strerror(soerr));
	return 0;
}

/* Connects fd without blocking past the deadline. A UNIX socket whose listen
 * queue is full answers EAGAIN at once where TCP would wait: it is retried
 * until the deadline, so both wait alike for a busy instance. */
static int connect_fd(struct conn *c, int fd, const struct sockaddr *sa, socklen_t len, double deadline) {
	for (;;) {
		if (connect(fd, sa, len) == 0)
			return 0;
		if (errno == EINPROGRESS || errno == EINTR)
			return finish_connect(c, fd, deadline);
		if (errno != EAGAIN)
			return fail(c, "cannot connect to %s: %s", c->name, strerror(errno));
		if (now_mono() >= deadline)
			return fail(c, "timed out after %g s connecting to %s (its listen queue is full)", c->timeout,
					c->name);
		poll(NULL, 0, QUEUE_FULL_RETRY_MS);
	}
}

static int connect_addr(struct conn *c, int family, const struct sockaddr *sa, socklen_t len, double deadline) {
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(c, "cannot create a socket for %s: %s", c->name, strerror(errno));
	if (connect_fd(c, fd, sa, len, deadline) < 0) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

static int connect_unix(struct conn *c, double deadline) {
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t n = strlen(c->name);
	if (n >= sizeof(addr.sun_path))
		return fail(c, "socket path %s is too long (at most %zu bytes)", c->name, sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, c->name, n);
	/* uWSGI's "@name" is a socket in the abstract namespace */
	if (c->name[0] == '@')
		addr.sun_path[0] = 0;
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + n + (c->name[0] == '@' ? 0 : 1);
	return connect_addr(c, AF_UNIX, (struct sockaddr *) &addr, len, deadline);
}

static int connect_tcp(struct conn *c, const struct target *t, double deadline) {
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *list = NULL;
	int r = getaddrinfo(t->host[0] ? t->host : NULL, t->port, &hints, &list);
	if (r != 0)
		return fail(c, "cannot resolve %s: %s", c->name, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	r = -1;
	for (struct addrinfo *ai = list; ai && r < 0; ai = ai->ai_next)
		r = connect_addr(c, ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
	freeaddrinfo(list);
	return r;
}

static int open_conn(struct conn *c) {
	struct target t;
	if (parse_target(c, &t) < 0)
		return -1;
	double deadline = now_mono() + c->timeout;
	return t.unix_socket ? connect_unix(c, deadline) : connect_tcp(c, &t, deadline);
}

/* ---- the request ---------------------------------------------------------- */

int ctl_request_fits(const char *func, int argc, const char *const *argv) {
	size_t body = 2 + strlen(func);
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n > 0xffff)
			return 0;
		body += 2 + n;
	}
	return argc < 255 && body <= CTL_MAX_BODY;
}

static unsigned char *put_item(unsigned char *p, const char *s) {
	size_t n = strlen(s);
	*p++ = n & 0xff;
	*p++ = n >> 8;
	memcpy(p, s, n);
	return p + n;
}

static int closed_without_answer(struct conn *c) {
	return fail(c,
			"%s closed the connection without an answer: the instance must load uWSGI's rpc plugin "
			"(plugins = rpc) and the scheduler plugin",
			c->name);
}

static int send_all(struct conn *c, const unsigned char *buf, size_t len) {
	double deadline = now_mono() + c->timeout;
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return closed_without_answer(c);
		int w = errno == EAGAIN ? wait_fd(c->fd, POLLOUT, deadline) : -1;
		if (w == 0)
			return fail(c, "timed out after %g s sending the request to %s", c->timeout, c->name);
		if (w < 0)
			return fail(c, "cannot send the request to %s: %s", c->name, strerror(errno));
	}
	return 0;
}

static int send_request(struct conn *c, const char *func, int argc, const char *const *argv) {
	if (!ctl_request_fits(func, argc, argv))
		return fail(c, "the request is too large for the uwsgi protocol (at most %d bytes)", CTL_MAX_BODY);
	unsigned char buf[4 + CTL_MAX_BODY];
	unsigned char *p = put_item(buf + 4, func);
	for (int i = 0; i < argc; i++)
		p = put_item(p, argv[i]);
	size_t body = p - buf - 4;
	buf[0] = RPC_MODIFIER1;
	buf[1] = body & 0xff;
	buf[2] = body >> 8;
	buf[3] = 0;
	return send_all(c, buf, p - buf);
}

/* ---- the answer ----------------------------------------------------------- */

/* 0: n bytes read, 1: the peer closed first (*got says how many came), -1:
 * an error or no data for c->timeout seconds (the message is set). */
static int read_exact(struct conn *c, void *buf, size_t n, size_t *got) {
	*got = 0;
	while (*got < n) {
		ssize_t r = recv(c->fd, (char *) buf + *got, n - *got, 0);
		if (r > 0) {
			*got += r;
			continue;
		}
		/* a reset is how a peer that closed with our request unread ends */
		if (r == 0 || errno == ECONNRESET)
			return 1;
		if (errno == EINTR)
			continue;
		int w = errno == EAGAIN ? wait_fd(c->fd, POLLIN, now_mono() + c->timeout) : -1;
		if (w == 0)
			return fail(c, "timed out after %g s waiting for the answer from %s", c->timeout, c->name);
		if (w < 0)
			return fail(c, "cannot read the answer from %s: %s", c->name, strerror(errno));
	}
	return 0;
}

static int parse_size(const unsigned char *s, size_t n, size_t *out) {
	if (n > 19 || !all_digits((const char *) s, n))
		return -1;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v > MAX_ANSWER)
		return -1;
	*out = v;
	return 0;
}

static size_t u16le(const unsigned char *p) {
	return p[0] | (size_t) p[1] << 8;
}

/* CONTENT_LENGTH from a uwsgi vars block (uint16 LE key length, key, uint16
 * LE value length, value, ...). */
static int content_length(const unsigned char *v, size_t n, size_t *out) {
	size_t i = 0;
	while (n - i >= 2) {
		size_t klen = u16le(v + i);
		i += 2;
		if (n - i < klen + 2)
			return -1;
		const unsigned char *key = v + i;
		i += klen;
		size_t vlen = u16le(v + i);
		i += 2;
		if (n - i < vlen)
			return -1;
		if (klen == 14 && memcmp(key, "CONTENT_LENGTH", 14) == 0)
			return parse_size(v + i, vlen, out);
		i += vlen;
	}
	return -1;
}

static int read_body(struct conn *c, size_t size, const char *what, struct ctl_answer *a) {
	a->data = malloc(size + 1);
	if (!a->data)
		return fail(c, "out of memory for an answer of %zu bytes", size);
	size_t got;
	int r = read_exact(c, a->data, size, &got);
	if (r > 0)
		fail(c, "%s closed the connection after %zu of the %zu bytes of %s", c->name, got, size, what);
	if (r != 0) {
		ctl_answer_free(a);
		return -1;
	}
	a->data[size] = 0;
	a->len = size;
	return 0;
}

static int large_answer_size(struct conn *c, size_t vars_size, size_t *size) {
	struct ctl_answer vars = { 0 };
	if (read_body(c, vars_size, "the answer's vars", &vars) < 0)
		return -1;
	int r = content_length((unsigned char *) vars.data, vars.len, size);
	ctl_answer_free(&vars);
	if (r < 0)
		return fail(c, "%s sent a large answer (modifier2 5) without a valid CONTENT_LENGTH", c->name);
	return 0;
}

static int read_answer(struct conn *c, struct ctl_answer *a) {
	unsigned char h[4];
	size_t got;
	int r = read_exact(c, h, sizeof(h), &got);
	if (r < 0)
		return -1;
	if (r > 0 && got == 0)
		return closed_without_answer(c);
	if (r > 0)
		return fail(c, "%s closed the connection in the middle of the answer's header", c->name);
	if (h[0] != RPC_MODIFIER1)
		return fail(c,
				"%s did not answer as a uwsgi RPC server (modifier1 %u, not %u): give the instance's uwsgi "
				"socket (socket = ...), not an http-socket",
				c->name, h[0], RPC_MODIFIER1);
	size_t size = u16le(h + 1);
	if (h[3] == LARGE_ANSWER && large_answer_size(c, size, &size) < 0)
		return -1;
	if (h[3] != 0 && h[3] != LARGE_ANSWER)
		return fail(c, "%s answered with modifier2 %u (0 or 5 expected)", c->name, h[3]);
	return read_body(c, size, "the answer", a);
}

int ctl_call(const char *sock, double timeout, const char *func, int argc, const char *const *argv,
		struct ctl_answer *answer, char *err, size_t errlen) {
	struct conn c = { .fd = -1, .timeout = timeout, .name = sock, .err = err, .errlen = errlen };
	answer->data = NULL;
	answer->len = 0;
	if (open_conn(&c) < 0)
		return -1;
	int r = send_request(&c, func, argc, argv);
	if (r == 0)
		r = read_answer(&c, answer);
	close(c.fd);
	return r;
}

void ctl_answer_free(struct ctl_answer *answer) {
	free(answer->data);
	answer->data = NULL;
	answer->len = 0;
}
