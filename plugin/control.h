/* control.h - steering jobs through uWSGI RPC (control.c), from any
 * language and over the instance's sockets: scheduler.list [ID],
 * scheduler.run ID, scheduler.pause ID, scheduler.resume ID, each
 * answering one JSON object. Remote nodes may list; they may steer only
 * with scheduler-rpc-remote = true. */
#ifndef SCHED_CONTROL_H
#define SCHED_CONTROL_H

#include <stdint.h>

struct uwsgi_plugin;

/* Master, before fork: the functions, inherited by every worker. */
void sched_control_register(struct uwsgi_plugin *plugin);

/* The plugin's rpc hook: uWSGI calls one of our functions through it. */
uint64_t sched_control_call(void *func, uint8_t argc, char **argv, uint16_t *argvs, char **out);

#endif
