/* decl_line.c - the line form of a declaration: tokens (JSON values
 * parsed once, kept in their token), where the trigger ends, the target
 * (an exec: command runs to the first known key), and the key=value
 * tokens after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chars.h"
#include "decl_impl.h"

#define MAX_TOKENS 64

struct tok {
	const char *s;
	size_t len;
	json_t *json; /* the value after '=' (or exec:) as JSON, owned */
};

/* key=value where key at least looks like one: the '=', else NULL. */
static const char *key_end(const struct tok *t) {
	for (size_t i = 0; i < t->len; i++) {
		char ch = t->s[i];
		if (ch == '=')
			return i ? t->s + i : NULL;
		if (!decl_is_key_char(ch))
			return NULL;
	}
	return NULL;
}

static const struct usch_key *known_key(const struct tok *t) {
	const char *eq = key_end(t);
	return eq ? decl_key_find(t->s, (size_t) (eq - t->s)) : NULL;
}

/* A JSON value that starts at json (after "key=" or "exec:"): parsed once
 * here and kept in the token, which ends where the value does. */
static int json_token(struct decl_ctx *c, struct tok *t, const char *json, const char **p) {
	int name_len = (int) (json - t->s - 1);
	json_error_t jerr;
	t->json = json_loads(json, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!t->json)
		return decl_fail(c, "\"%.*s\": invalid JSON: %s", name_len, t->s, jerr.text);
	*p = json + jerr.position;
	if (**p && !usch_is_space(**p))
		return decl_fail(c, "\"%.*s\": unexpected text after the JSON value", name_len, t->s);
	t->len = (size_t) (*p - t->s);
	return 0;
}

static void free_tokens(struct tok *toks, int n) {
	for (int i = 0; i < n; i++)
		json_decref(toks[i].json);
}

/* Splits the line into whitespace-separated tokens; a value after "key="
 * that starts with [ { or " is taken whole as JSON (spaces included), and
 * so is a quoted command (exec:"..."). */
static int tokenize(struct decl_ctx *c, struct tok *toks, int *ntok) {
	const char *p = c->line;
	*ntok = 0;
	for (;;) {
		while (usch_is_space(*p))
			p++;
		if (!*p)
			return 0;
		if (*ntok == MAX_TOKENS)
			return decl_fail(c, "too many tokens (at most %d)", MAX_TOKENS);
		struct tok *t = &toks[(*ntok)++];
		t->s = p;
		t->json = NULL;
		const char *eq = NULL;
		while (*p && !usch_is_space(*p)) {
			if (*p == '=' && !eq)
				eq = p;
			p++;
		}
		t->len = (size_t) (p - t->s);
		const char *json = NULL;
		if (eq && eq[1] && strchr("[{\"", eq[1]) && key_end(t))
			json = eq + 1;
		else if (t->len > 5 && !strncmp(t->s, "exec:\"", 6))
			json = t->s + 5;
		if (json && json_token(c, t, json, &p) < 0)
			return -1;
	}
}

/* The tokens before the target, joined by single spaces. */
static int trigger_text(struct decl_ctx *c, const struct tok *toks, int n) {
	size_t k = 0;
	c->trig_text[0] = 0;
	for (int i = 0; i < n; i++) {
		int w = snprintf(c->trig_text + k, sizeof(c->trig_text) - k, "%s%.*s", i ? " " : "", (int) toks[i].len,
				toks[i].s);
		if (w < 0 || (size_t) w >= sizeof(c->trig_text) - k)
			return decl_fail(c, "the %s is too long", decl_trigger_noun(c));
		k += (size_t) w;
	}
	return 0;
}

/* The key=value tokens after the target, recorded for decl_complete. */
static int record_keys(struct decl_ctx *c, struct tok *toks, int from, int n) {
	for (int i = from; i < n; i++) {
		const char *eq = key_end(&toks[i]);
		if (!eq)
			return decl_fail(c, "\"%.*s\": expected key=value after the target", (int) toks[i].len,
					toks[i].s);
		const struct usch_key *key = known_key(&toks[i]);
		if (!key) {
			char known[256];
			int len = (int) (eq - toks[i].s);
			/* no key is longer than 20: a longer name is shown cut */
			return decl_fail(c, "unknown key \"%.*s%s\" (known: %s)", len > 40 ? 40 : len, toks[i].s,
					len > 40 ? "..." : "", decl_known_keys(known, sizeof(known)));
		}
		char *raw = strndup(eq + 1, (size_t) (toks[i].s + toks[i].len - eq - 1));
		json_t *json = toks[i].json;
		toks[i].json = NULL;
		if (decl_key_given(c, key, raw, json) < 0)
			return -1;
	}
	return 0;
}

static int parse_line_tokens(struct decl_ctx *c, struct tok *toks, int n) {
	int t = -1;
	for (int i = 0; i < n && t < 0; i++)
		if (decl_is_target(toks[i].s, toks[i].len) && !key_end(&toks[i]))
			t = i;
	if (t < 0)
		return decl_fail(c,
				"no target: expected module:function, rpc:name, signal:N or exec:command after the %s",
				c->kind);
	if (trigger_text(c, toks, t) < 0)
		return -1;
	/* exec: takes every token up to the first known key= as its command,
	 * unless the command is quoted (exec:"... key=value ...") */
	int end = t + 1;
	if (toks[t].len >= 5 && !strncmp(toks[t].s, "exec:", 5) && !toks[t].json)
		while (end < n && !known_key(&toks[end]))
			end++;
	char *target = strndup(toks[t].s, (size_t) (toks[end - 1].s + toks[end - 1].len - toks[t].s));
	if (!target)
		return decl_fail(c, "out of memory");
	int ret = record_keys(c, toks, end, n);
	if (!ret)
		ret = decl_complete(c, target);
	free(target);
	return ret;
}

int decl_parse_line(struct decl_ctx *c) {
	struct tok toks[MAX_TOKENS];
	int n = 0;
	int ret = tokenize(c, toks, &n);
	if (!ret)
		ret = parse_line_tokens(c, toks, n);
	free_tokens(toks, n);
	return ret;
}
