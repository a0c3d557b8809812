/* The uwsgi-scheduler command: its arguments, the four commands over the
 * plugin's scheduler.* RPC functions, what each prints and its exit status. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "table.h"
#include "wire.h"

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_NO_ANSWER = 3 };

#define DEFAULT_TIMEOUT 5.0
/* how much of an answer that is not JSON an error message quotes */
#define SNIPPET 60

static const char USAGE[] = "usage: uwsgi-scheduler [-s SOCKET] [--json] list [ID]\n"
			    "       uwsgi-scheduler [-s SOCKET] [--json] run ID\n"
			    "       uwsgi-scheduler [-s SOCKET] [--json] pause ID\n"
			    "       uwsgi-scheduler [-s SOCKET] [--json] resume ID\n"
			    "\n"
			    "Shows and drives the jobs of a uWSGI instance running the scheduler plugin,\n"
			    "through its RPC functions (the instance must load uWSGI's rpc plugin too:\n"
			    "plugins = rpc).\n"
			    "\n"
			    "commands:\n"
			    "  list [ID]   every job (or job ID): next run, time left, last run, time since,\n"
			    "              last outcome, where it runs\n"
			    "  run ID      runs job ID now, once, besides its schedule\n"
			    "  pause ID    pauses job ID's schedule on every worker\n"
			    "  resume ID   resumes it\n"
			    "\n"
			    "options:\n"
			    "  -s, --socket SOCKET  the instance's uwsgi socket (socket = ...): a UNIX path,\n"
			    "                       @abstract-name, host:port or [IPv6]:port\n"
			    "                       (default: $UWSGI_SCHEDULER_SOCKET)\n"
			    "      --json           prints the instance's JSON answer instead\n"
			    "  -h, --help           prints this help\n"
			    "\n"
			    "A remote node (over TCP, or a UNIX socket peer that is neither root nor the\n"
			    "instance's user) may only list, unless the instance sets\n"
			    "scheduler-rpc-remote = true.\n"
			    "\n"
			    "environment:\n"
			    "  UWSGI_SCHEDULER_SOCKET   the socket when -s is not given\n"
			    "  UWSGI_SCHEDULER_TIMEOUT  seconds to wait to connect and for the answer (5)\n"
			    "\n"
			    "exit status:\n"
			    "  0  done\n"
			    "  1  the instance refused (unknown job, remote node, ...; with --json too)\n"
			    "     or its answer is not the JSON expected\n"
			    "  2  usage error\n"
			    "  3  no answer: cannot connect, timed out, or the connection closed\n";

struct options;

struct command {
	const char *name;
	const char *func;
	int needs_id;
	int (*show)(json_t *doc, const struct options *o);
};

struct options {
	const char *sock;
	double timeout;
	int json;
	const struct command *cmd;
	const char *id; /* NULL: none given */
};

static const char *string_or(json_t *obj, const char *key, const char *otherwise) {
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : otherwise;
}

__attribute__((format(printf, 1, 2), noreturn)) static void usage_error(const char *fmt, ...) {
	va_list ap;
	fputs("uwsgi-scheduler: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n%s", USAGE);
	exit(EXIT_USAGE);
}

/* ---- what each command prints --------------------------------------------- */

static int refused(json_t *doc, const char *job) {
	const char *error = string_or(doc, "error", "failed (the answer gives no error)");
	if (job)
		fprintf(stderr, "uwsgi-scheduler: %s: %s\n", job, error);
	else
		fprintf(stderr, "uwsgi-scheduler: %s\n", error);
	return EXIT_REFUSED;
}

static int unexpected(const struct options *o, const char *what) {
	fprintf(stderr, "uwsgi-scheduler: unexpected answer from %s: %s\n", o->sock, what);
	return EXIT_REFUSED;
}

static int show_list(json_t *doc, const struct options *o) {
	if (json_is_false(json_object_get(doc, "ok")))
		return refused(doc, o->id);
	if (ctl_print_jobs(stdout, doc) < 0)
		return unexpected(o, "no \"jobs\" array");
	return EXIT_DONE;
}

static int show_action(json_t *doc, const struct options *o) {
	json_t *ok = json_object_get(doc, "ok");
	const char *job = string_or(doc, "job", o->id);
	if (json_is_false(ok))
		return refused(doc, job);
	if (!json_is_true(ok))
		return unexpected(o, "no \"ok\" true or false");
	printf("%s: %s\n", job, string_or(doc, "message", "done"));
	return EXIT_DONE;
}

/* --json shows what came, but a refusal still fails, so scripts need not parse it */
static int show_json(json_t *doc) {
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
	putchar('\n');
	return json_is_false(json_object_get(doc, "ok")) ? EXIT_REFUSED : EXIT_DONE;
}

/* ---- arguments ------------------------------------------------------------- */

static const struct command COMMANDS[] = {
	{ "list", "scheduler.list", 0, show_list },
	{ "run", "scheduler.run", 1, show_action },
	{ "pause", "scheduler.pause", 1, show_action },
	{ "resume", "scheduler.resume", 1, show_action },
};

static const struct command *find_command(const char *name) {
	for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		if (strcmp(COMMANDS[i].name, name) == 0)
			return &COMMANDS[i];
	usage_error("unknown command \"%s\"", name);
}

static double timeout_from_env(void) {
	const char *s = getenv("UWSGI_SCHEDULER_TIMEOUT");
	if (!s || !*s)
		return DEFAULT_TIMEOUT;
	char *end;
	errno = 0;
	double t = strtod(s, &end);
	if (errno || *end || !isfinite(t) || t <= 0 || t > 86400)
		usage_error("UWSGI_SCHEDULER_TIMEOUT=\"%s\": a number of seconds (above 0, at most 86400) expected", s);
	return t;
}

static void parse_options(int argc, char **argv, struct options *o) {
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":hs:", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(USAGE, stdout);
			exit(EXIT_DONE);
		}
		if (c == 's')
			o->sock = optarg;
		else if (c == 'j')
			o->json = 1;
		else if (c == ':')
			usage_error("option %s needs a value", argv[optind - 1]);
		else
			usage_error("unknown option %s", argv[optind - 1]);
	}
}

static void parse_args(int argc, char **argv, struct options *o) {
	parse_options(argc, argv, o);
	if (optind == argc) {
		fputs(USAGE, stderr);
		exit(EXIT_USAGE);
	}
	o->cmd = find_command(argv[optind++]);
	if (optind < argc)
		o->id = argv[optind++];
	if (optind < argc)
		usage_error("%s: too many arguments", o->cmd->name);
	if (o->cmd->needs_id && !o->id)
		usage_error("%s needs a job ID", o->cmd->name);
	if (!o->sock || !*o->sock)
		o->sock = getenv("UWSGI_SCHEDULER_SOCKET");
	if (!o->sock || !*o->sock)
		usage_error("no socket: give -s SOCKET or set UWSGI_SCHEDULER_SOCKET");
	o->timeout = timeout_from_env();
	if (o->id && !ctl_request_fits(o->cmd->func, 1, &o->id))
		usage_error("the job ID is too long (a request is at most %d bytes)", CTL_MAX_BODY);
}

/* ---- the call -------------------------------------------------------------- */

static void print_snippet(FILE *out, const char *data, size_t len) {
	for (size_t i = 0; i < len && i < SNIPPET; i++) {
		unsigned char ch = data[i];
		if (ch >= 0x20 && ch < 0x7f)
			fputc(ch, out);
		else
			fprintf(out, "\\x%02x", ch);
	}
	if (len > SNIPPET)
		fputs("...", out);
}

static json_t *parse_answer(const struct ctl_answer *a, const struct options *o) {
	json_error_t jerr;
	json_t *doc = json_loadb(a->data, a->len, 0, &jerr);
	if (doc && json_is_object(doc))
		return doc;
	fprintf(stderr, "uwsgi-scheduler: the answer from %s is not a JSON object (%s): \"", o->sock,
			doc ? "another JSON value" : jerr.text);
	print_snippet(stderr, a->data, a->len);
	fputs("\"\n", stderr);
	json_decref(doc);
	return NULL;
}

static int call(const struct options *o) {
	const char *args[1] = { o->id };
	struct ctl_answer a;
	char err[1024];
	if (ctl_call(o->sock, o->timeout, o->cmd->func, o->id ? 1 : 0, args, &a, err, sizeof(err)) < 0) {
		fprintf(stderr, "uwsgi-scheduler: %s\n", err);
		return EXIT_NO_ANSWER;
	}
	json_t *doc = parse_answer(&a, o);
	ctl_answer_free(&a);
	if (!doc)
		return EXIT_REFUSED;
	int rc = o->json ? show_json(doc) : o->cmd->show(doc, o);
	json_decref(doc);
	return rc;
}

int main(int argc, char **argv) {
	struct options o = { 0 };
	parse_args(argc, argv, &o);
	tzset();
	int rc = call(&o);
	/* a full disk or a closed pipe must not pass for a listing shown */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "uwsgi-scheduler: cannot write the output: %s\n", strerror(errno));
		return EXIT_REFUSED;
	}
	return rc;
}
