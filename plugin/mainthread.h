/* mainthread.h - RPC functions of languages with per-core interpreters
 * (Perl, Ruby, Lua), run by the worker's own request thread
 * (mainthread.c). */
#ifndef SCHED_MAINTHREAD_H
#define SCHED_MAINTHREAD_H

#include <stddef.h>
#include <stdint.h>

/* Master, before fork. Returns 0, or -1 with the reason in err. */
int sched_mainthread_setup(int signum, char *err, size_t errlen);
/* NULL on success (*len: bytes returned), else a malloc'd message. */
char *sched_mainthread_rpc(const char *name, uint8_t argc, char **argv, uint16_t *argvs, uint64_t *len);
/* The worker is stopping: calls not yet taken are given up. */
void sched_mainthread_abort(void);

#endif
