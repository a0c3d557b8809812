/* The uwsgi protocol RPC client: connecting to an instance's socket, one
 * modifier1 173 request out, its answer in (plain or modifier2 = 5). */
#ifndef CTL_WIRE_H
#define CTL_WIRE_H

#include <stddef.h>

/* Largest request body the protocol can carry (pktsize is a uint16). */
#define CTL_MAX_BODY 65535

struct ctl_answer {
	char *data; /* malloc'ed, NUL-terminated for convenience; len excludes the NUL */
	size_t len;
};

/* Whether func and its args fit in one request body. */
int ctl_request_fits(const char *func, int argc, const char *const *argv);

/* Calls func(argv...) on the instance at sock ("host:port", "[v6]:port",
 * a UNIX path or "@abstract"), waiting at most timeout seconds for each step.
 * 0: *answer holds the answer (free it with ctl_answer_free); -1: err says
 * what went wrong, naming the socket. */
int ctl_call(const char *sock, double timeout, const char *func, int argc, const char *const *argv,
		struct ctl_answer *answer, char *err, size_t errlen);

void ctl_answer_free(struct ctl_answer *answer);

#endif
