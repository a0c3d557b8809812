/* decl_impl.h - what the declaration parser's own files share. Calls run
 * one way: decl.c (entry points) -> decl_line.c, decl_json.c (the two
 * forms) -> decl_target.c (target, completing a job) -> decl_keys.c (the
 * key table), decl_trigger.c (the trigger) -> decl_ctx.c (messages);
 * decl_file.c (a jobs file's lines) uses decl_target.c's key characters.
 * Nothing outside them includes it. */
#ifndef USCH_DECL_IMPL_H
#define USCH_DECL_IMPL_H

#include <jansson.h>
#include "decl.h"

#define DECL_MAX_KEYS 32
#define DECL_TRIGGER_MAX 512

/* One key's value, as given once. */
struct decl_value {
	char *raw;    /* as written (line) or compact JSON (JSON form); NULL: not given */
	json_t *json; /* the value as JSON, or NULL for a plain word */
};

struct decl_ctx {
	const char *option;
	const char *line;
	const struct usch_decl_env *env;
	char *err;
	size_t errlen;
	struct usch_job *job;
	const char *noun;                        /* what a target is called in messages: "target", "on-failure" */
	const char *kind;                        /* "cron", "interval", "at", "every", "and", "or" */
	char trig_text[DECL_TRIGGER_MAX];        /* the trigger as text */
	json_t *combo;                           /* and/or: the JSON array of child triggers (borrowed) */
	struct decl_value values[DECL_MAX_KEYS]; /* by row of usch_keys */
};

/* decl_ctx.c: writes `<option> "<line>": <reason>` into c->err; returns -1. */
int decl_fail(struct decl_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* decl_keys.c */
const struct usch_key *decl_key_find(const char *name, size_t len);
/* "id, args, ..." for messages. */
const char *decl_known_keys(char *buf, size_t len);
/* Records key's value; takes raw and json (also on failure). Refuses a
 * key given twice. */
int decl_key_given(struct decl_ctx *c, const struct usch_key *key, char *raw, json_t *json);
/* Applies the recorded values to c->job, phase by phase. */
int decl_keys_apply(struct decl_ctx *c);
void decl_keys_free(struct decl_ctx *c);

/* decl_target.c */
int decl_is_ident_char(char ch);
/* A character of a key or an option name: an identifier's, or '-'. */
int decl_is_key_char(char ch);
/* Whether s[0..len) starts like a target: a (dotted) identifier and ':'. */
int decl_is_target(const char *s, size_t len);
/* The target (as written, with its kind prefix), the keys, the default
 * id, the trigger: what both forms do once their parts are known. */
int decl_complete(struct decl_ctx *c, const char *target);

/* decl_line.c: scheduler-cron, -interval, -at. */
int decl_parse_line(struct decl_ctx *c);

/* decl_trigger.c: builds c->job->trigger from c->kind and c->trig_text
 * (or c->combo) and applies the start/end window. */
int decl_build_trigger(struct decl_ctx *c);
/* What the text before the target is, for messages: "cron expression". */
const char *decl_trigger_noun(const struct decl_ctx *c);

/* decl_json.c: scheduler-job. */
int decl_parse_json(struct decl_ctx *c);

#endif
