/* decl_target.c - a declaration's target (Python callable, rpc:, signal:,
 * exec:) and what completes a job once its parts are known: the target,
 * the keys, what context= needs of them, the default id, the trigger, an
 * rpc: job's arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chars.h"
#include "decl_impl.h"

int decl_is_ident_char(char ch) {
	return usch_is_alnum(ch) || ch == '_';
}

int decl_is_key_char(char ch) {
	return decl_is_ident_char(ch) || ch == '-';
}

int decl_is_target(const char *s, size_t len) {
	size_t i = 0;
	if (!len || !(usch_is_alpha(s[0]) || s[0] == '_'))
		return 0;
	while (i < len && (decl_is_ident_char(s[i]) || s[i] == '.'))
		i++;
	return i < len && s[i] == ':';
}

/* A plain string for a JSON-quoted text ("a b" -> a b), NULL if it is not
 * one. */
static char *unquote(const char *text) {
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	char *s = j && json_is_string(j) ? strdup(json_string_value(j)) : NULL;
	json_decref(j);
	return s;
}

static int python_target(struct decl_ctx *c, const char *text, const char *written) {
	const char *colon = strchr(text, ':');
	/* module:attr[.attr...]: dotted identifiers, one ':' */
	if (colon == text || !colon[1] || strchr(colon + 1, ':'))
		return decl_fail(c, "%s \"%s\": expected module:function (e.g. app.tasks:cleanup)", c->noun, written);
	for (const char *p = text; *p; p++)
		if (p != colon && !(decl_is_ident_char(*p) || *p == '.'))
			return decl_fail(c, "%s \"%s\": \"%c\" cannot appear in a Python module:function", c->noun,
					written, *p);
	for (const char *p = text; *p; p++) {
		int first = p == text || p[-1] == '.' || p[-1] == ':';
		if (*p == '.' || *p == ':' ? first || !p[1] : first && usch_is_digit(*p))
			return decl_fail(c, "%s \"%s\": expected module:function (e.g. app.tasks:cleanup)", c->noun,
					written);
	}
	c->job->kind = USCH_TARGET_PYTHON;
	c->job->target = strdup(text);
	return c->job->target ? 0 : decl_fail(c, "out of memory");
}

static int exec_target(struct decl_ctx *c, const char *text, const char *cmd) {
	c->job->kind = USCH_TARGET_EXEC;
	while (usch_is_space(*cmd)) /* "exec: cmd" */
		cmd++;
	c->job->target = *cmd == '"' ? unquote(cmd) : strdup(cmd);
	if (!c->job->target || !*c->job->target)
		return decl_fail(c, "%s \"%s\": exec: needs a command", c->noun, text);
	return 0;
}

static int signal_target(struct decl_ctx *c, const char *text, const char *num) {
	char *end;
	long n = strtol(num, &end, 10);
	c->job->kind = USCH_TARGET_SIGNAL;
	if (!*num || *end || n < 0 || n > 255 || !usch_is_digit(*num))
		return decl_fail(c, "%s \"%s\": signal: needs a uWSGI signal number 0-255", c->noun, text);
	c->job->signum = (uint8_t) n;
	c->job->target = strdup(num);
	return c->job->target ? 0 : decl_fail(c, "out of memory");
}

/* text is the target as written: kind:rest. */
static int parse_target(struct decl_ctx *c, const char *text) {
	const char *colon = strchr(text, ':');
	size_t plen = (size_t) (colon - text);
	const char *rest = colon + 1;
	if (plen == 3 && !strncmp(text, "rpc", 3)) {
		c->job->kind = USCH_TARGET_RPC;
		if (!*rest)
			return decl_fail(c, "%s \"%s\": rpc: needs a function name", c->noun, text);
		c->job->target = strdup(rest);
		return c->job->target ? 0 : decl_fail(c, "out of memory");
	}
	if (plen == 6 && !strncmp(text, "signal", 6))
		return signal_target(c, text, rest);
	if (plen == 4 && !strncmp(text, "exec", 4))
		return exec_target(c, text, rest);
	if (plen == 6 && !strncmp(text, "python", 6)) {
		if (!strchr(rest, ':'))
			return decl_fail(c, "%s \"%s\": expected python:module:function", c->noun, text);
		return python_target(c, rest, text);
	}
	return python_target(c, text, text);
}

/* An rpc: job's arguments, made once as uwsgi_rpc() takes them: JSON
 * strings as they are, anything else as its compact JSON text. */
static int rpc_args(struct decl_ctx *c) {
	struct usch_job *job = c->job;
	struct usch_rpc_args *rpc = &usch_job_cold_own(job)->rpc; /* owned while parsed */
	json_t *args = job->args_json ? json_loads(job->args_json, 0, NULL) : NULL;
	size_t n = json_array_size(args);
	int ret = 0;
	if (n > USCH_RPC_MAX_ARGS)
		ret = decl_fail(c, "args: an rpc: call takes at most %d arguments (got %zu)", USCH_RPC_MAX_ARGS, n);
	rpc->argv = ret ? NULL : calloc(n ? n : 1, sizeof(char *));
	rpc->argvs = ret ? NULL : calloc(n ? n : 1, sizeof(uint16_t));
	if (!ret && (!rpc->argv || !rpc->argvs))
		ret = decl_fail(c, "out of memory");
	for (size_t i = 0; i < n && !ret; i++) {
		json_t *v = json_array_get(args, i);
		char *s = json_is_string(v) ? strdup(json_string_value(v))
					    : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!s) {
			ret = decl_fail(c, "out of memory");
			break;
		}
		rpc->argv[rpc->argc++] = s;
		size_t len = json_is_string(v) ? json_string_length(v) : strlen(s);
		if (len > USCH_RPC_MAX_ARG_LEN)
			ret = decl_fail(c, "args: argument %zu of an rpc: call is %zu bytes (at most %d)", i + 1, len,
					USCH_RPC_MAX_ARG_LEN);
		rpc->argvs[i] = (uint16_t) len;
	}
	json_decref(args);
	return ret;
}

/* context=NAME: a keyword argument of a Python target that none of its
 * kwargs= has. */
static int context_check(struct decl_ctx *c) {
	const struct usch_job *job = c->job;
	static const char *const instead[] = {
		[USCH_TARGET_RPC] = "rpc: functions take none",
		[USCH_TARGET_SIGNAL] = "signal: targets take none",
		[USCH_TARGET_EXEC] = "exec: commands get SCHEDULER_* environment variables instead",
	};
	if (!job->context)
		return 0;
	if (job->kind != USCH_TARGET_PYTHON)
		return decl_fail(c, "context=%s: only Python targets take a context; %s", job->context,
				instead[job->kind]);
	json_t *kwargs = job->kwargs_json ? json_loads(job->kwargs_json, 0, NULL) : NULL;
	int clash = json_object_get(kwargs, job->context) != NULL;
	json_decref(kwargs);
	if (clash)
		return decl_fail(c, "context=%s: kwargs already has a key \"%s\"", job->context, job->context);
	return 0;
}

/* A hook (on-failure=, on-success=): a job of its own, for its target
 * only, that runs where its job ran, in its zone, with its timeout. Its
 * id is the job's and the key ("backup/on-failure"). A Python hook takes
 * the run's context as `context`. */
static int make_hook(struct decl_ctx *c, int kind, const char *text, struct usch_job **out) {
	const char *noun = kind == USCH_HOOK_FAILURE ? "on-failure" : "on-success";
	struct usch_job *job = c->job, *h = calloc(1, sizeof(*h));
	if (!h)
		return decl_fail(c, "out of memory");
	*out = h; /* freed with the job */
	h->parent = job;
	h->hook = kind;
	h->index = job->index;
	h->tz = job->tz;
	h->timeout_us = job->timeout_us;
	h->max_running = 1;
	h->scope = job->scope;
	h->cold = &usch_job_cold_default;
	h->option = job->option;
	h->line = job->line; /* freed with the job, after its hooks */
	h->id = malloc(strlen(job->id) + strlen(noun) + 2);
	if (!h->id)
		return decl_fail(c, "out of memory");
	sprintf(h->id, "%s/%s", job->id, noun);
	if (!decl_is_target(text, strlen(text)))
		return decl_fail(c, "%s=%s: expected a target: module:function, rpc:NAME, signal:N or exec:COMMAND",
				noun, text);
	c->job = h;
	c->noun = noun;
	int r = parse_target(c, text);
	c->job = job;
	c->noun = "target";
	if (r < 0)
		return -1;
	if (h->kind == USCH_TARGET_PYTHON &&
			(!(h->context = strdup("context")) || (job->app && !(h->app = strdup(job->app)))))
		return decl_fail(c, "out of memory");
	struct usch_job_cold *cold = h->kind == USCH_TARGET_RPC ? usch_job_cold_own(h) : NULL;
	if (h->kind == USCH_TARGET_RPC && (!cold || !(cold->rpc.argv = calloc(1, sizeof(char *)))))
		return decl_fail(c, "out of memory");
	return 0;
}

static int make_hooks(struct decl_ctx *c) {
	struct usch_job *job = c->job;
	const struct usch_job_cold *cold = job->cold;
	if (cold->on_failure_text && make_hook(c, USCH_HOOK_FAILURE, cold->on_failure_text, &job->on_failure) < 0)
		return -1;
	if (cold->on_success_text && make_hook(c, USCH_HOOK_SUCCESS, cold->on_success_text, &job->on_success) < 0)
		return -1;
	return 0;
}

int decl_complete(struct decl_ctx *c, const char *target) {
	if (parse_target(c, target) < 0 || decl_keys_apply(c) < 0 || context_check(c) < 0)
		return -1;
	/* the default id is the target as written ("app.tasks:cleanup"):
	 * often the target itself, then kept once */
	if (!c->job->id && c->job->target && !strcmp(c->job->target, target))
		c->job->id = c->job->target;
	if (!c->job->id && !(c->job->id = strdup(target)))
		return decl_fail(c, "out of memory");
	if (make_hooks(c) < 0)
		return -1;
	if (decl_build_trigger(c) < 0)
		return -1;
	return c->job->kind == USCH_TARGET_RPC ? rpc_args(c) : 0;
}
