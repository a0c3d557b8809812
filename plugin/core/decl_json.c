/* decl_json.c - scheduler-job: a declaration as one JSON object, read
 * straight into the same parts as the line form (trigger kind and text,
 * target, key values), so both share the key table and every message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chars.h"
#include "decl_impl.h"

static const char *const KINDS[] = { "cron", "interval", "every", "at", "and", "or", NULL };

static int is_kind(const char *key) {
	for (int i = 0; KINDS[i]; i++)
		if (!strcmp(key, KINDS[i]))
			return 1;
	return 0;
}

/* The trigger text with its whitespace runs made single spaces, as the
 * line form joins its tokens. */
static int set_trigger_text(struct decl_ctx *c, const char *s) {
	size_t k = 0;
	for (; *s; s++) {
		if (usch_is_space(*s) && (!k || c->trig_text[k - 1] == ' '))
			continue;
		if (k + 1 >= sizeof(c->trig_text))
			return decl_fail(c, "the %s is too long", decl_trigger_noun(c));
		c->trig_text[k++] = usch_is_space(*s) ? ' ' : *s;
	}
	while (k && c->trig_text[k - 1] == ' ')
		k--;
	c->trig_text[k] = 0;
	return 0;
}

static int take_kind(struct decl_ctx *c, const char *key, json_t *v) {
	int combo = !strcmp(key, "and") || !strcmp(key, "or");
	if (combo && !json_is_array(v))
		return decl_fail(c, "\"%s\" must be an array of triggers", key);
	if (!combo && !json_is_string(v))
		return decl_fail(c, "\"%s\" must be a string", key);
	if (c->kind)
		return decl_fail(c, "\"%s\" and \"%s\" both given: one trigger per job", c->kind, key);
	c->kind = key;
	if (combo) {
		c->combo = v;
		return 0;
	}
	return set_trigger_text(c, json_string_value(v));
}

/* A key's value: strings stay JSON strings (read as their text), anything
 * else is kept with its compact JSON text (true, 2, [1, "a"]). */
static int take_key(struct decl_ctx *c, const char *name, json_t *v) {
	const struct usch_key *key = decl_key_find(name, strlen(name));
	if (!key)
		return decl_fail(c, "unknown key \"%s\"", name);
	json_incref(v);
	return decl_key_given(c, key, json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), v);
}

/* jansson's "duplicate object key near '"timeout"'" names the key. */
static int json_error(struct decl_ctx *c, const json_error_t *jerr) {
	static const char dup[] = "duplicate object key near '";
	size_t len = strlen(jerr->text);
	if (!strncmp(jerr->text, dup, sizeof(dup) - 1) && len > sizeof(dup) && jerr->text[len - 1] == '\'')
		return decl_fail(c, "duplicate key %.*s", (int) (len - sizeof(dup)), jerr->text + sizeof(dup) - 1);
	return decl_fail(c, "expected a JSON object: %s", jerr->text);
}

static int parse_object(struct decl_ctx *c, json_t *obj) {
	const char *target = NULL, *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int ret = 0;
		if (is_kind(key))
			ret = take_kind(c, key, v);
		else if (!strcmp(key, "target") && !json_is_string(v))
			ret = decl_fail(c, "\"target\" must be a string");
		else if (!strcmp(key, "target"))
			target = json_string_value(v);
		else
			ret = take_key(c, key, v);
		if (ret < 0)
			return -1;
	}
	if (!c->kind)
		return decl_fail(c, "needs one of \"cron\", \"interval\", \"every\", \"at\", \"and\" or \"or\"");
	if (!target)
		return decl_fail(c, "needs a \"target\"");
	if (!decl_is_target(target, strlen(target)))
		return decl_fail(c,
				"no target: expected module:function, rpc:name, signal:N or exec:command after the %s",
				c->kind);
	return decl_complete(c, target);
}

int decl_parse_json(struct decl_ctx *c) {
	json_error_t jerr;
	json_t *obj = json_loads(c->line, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj)
		return json_error(c, &jerr);
	int ret = json_is_object(obj) ? parse_object(c, obj) : decl_fail(c, "expected a JSON object: not an object");
	json_decref(obj);
	return ret;
}
