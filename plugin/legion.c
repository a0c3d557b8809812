/* legion.c - scope=cluster on uWSGI's Legion (see legion.h).
 *
 * The lord is elected by the master's legion thread (core/legion.c); its
 * struct uwsgi_legion is in memory the master shares with the workers, so
 * a worker reads it when it claims an occurrence (the claim is the
 * once-job's, claims.c). For the scheduler this instance is lord while:
 * - Legion says so (i_am_the_lord), and the instance is not leaving it
 *   (dead: set when the master announces its death, before a reload lets
 *   its workers finish);
 * - the lord Legion would elect is still this instance: a node of higher
 *   valor that comes back is seen at its first packet, but Legion unlords
 *   the old lord only once every node agrees, which can come after the
 *   new lord has its quorum;
 * - this worker's master is alive: after a kill -9 of the master nobody
 *   clears the flag, and its workers live on;
 * - with legion-quorum, the master still sees that many members: Legion
 *   itself gives up a lordship without quorum only when its once-a-minute
 *   warning is due;
 * - the instance has been in the legion long enough to have heard from
 *   every live member (legion-tolerance and a round): until it has, Legion
 *   may make it lord of a legion of one.
 * An occurrence is the lord's only if it came due after the lordship did
 * (Legion keeps that instant in whole seconds: from the next second on),
 * so a new lord never runs what the old one may have run before it left;
 * what came due in between is lost (README, "Once per cluster"). */
#include <uwsgi.h>
#include <stdatomic.h>
#include "legion.h"
#include "config.h"
#include "log.h"
#include "common.h"
#include "core/timefmt.h"

extern struct uwsgi_server uwsgi;

/* One Legion the jobs use. */
struct use {
	struct uwsgi_legion *ul;
	char jobs[256]; /* its jobs' ids, for the log */
	int said;       /* master: the lordship last logged */
};

static struct {
	struct use *uses;
	int nuses;
	int *of_job;            /* by job index: its use, -1 */
	_Atomic int *minority;  /* shared, by use: fewer members seen than legion-quorum (master cycle) */
	_Atomic int64_t *heard; /* shared: wall µs from which every live member has been heard from, 0: not yet */
} lg;

/* "A, B" for messages. */
static void legion_names(char *out, size_t len) {
	size_t k = 0;
	out[0] = 0;
	for (struct uwsgi_legion *ul = uwsgi.legions; ul && k < len; ul = ul->next)
		k += snprintf(out + k, len - k, "%s%s", k ? ", " : "", ul->legion);
}

/* what: the option (and line) that names Legion `name`, which this
 * instance is not a member of. */
static void no_legion(const char *what, const char *name) {
	char names[256];
	legion_names(names, sizeof(names));
	if (uwsgi.legions)
		sched_fatal("%s: this instance is in no Legion named %s (it is in: %s)", what, name, names);
	sched_fatal("%s: this instance is in no uWSGI Legion: add legion = %s 127.0.0.1:4242 100 aes-128-cbc:SECRET "
		    "(its address, its valor, the cluster's secret) and legion-node = %s HOST:PORT for each other "
		    "instance",
			what, name, name);
}

static int use_of(struct uwsgi_legion *ul) {
	for (int i = 0; i < lg.nuses; i++)
		if (lg.uses[i].ul == ul)
			return i;
	lg.uses[lg.nuses].ul = ul;
	return lg.nuses++;
}

static void add_job(struct use *u, const struct usch_job *job) {
	size_t k = strlen(u->jobs);
	if (k + strlen(job->id) + 8 >= sizeof(u->jobs)) {
		if (!strstr(u->jobs, "..."))
			snprintf(u->jobs + k, sizeof(u->jobs) - k, ", ...");
		return;
	}
	snprintf(u->jobs + k, sizeof(u->jobs) - k, "%s%s", k ? ", " : "", job->id);
}

/* The Legion of job, or a startup error that says what to add. */
static struct uwsgi_legion *legion_of(const struct usch_job *job) {
	char what[SCHED_CONFIG_DECL_MAX];
	sched_config_decl(job, what, sizeof(what));
	const char *name = job->cold->legion ? job->cold->legion : sched_cfg.legion;
	if (!name && !uwsgi.legions)
		sched_fatal("%s: scope=cluster needs a uWSGI Legion and this instance is in none: add legion = NAME "
			    "127.0.0.1:4242 100 aes-128-cbc:SECRET (its address, its valor, the cluster's secret), "
			    "legion-node = NAME HOST:PORT for each other instance, and legion=NAME to the job (or "
			    "scheduler-legion = NAME)",
				what);
	if (!name) {
		char names[256];
		legion_names(names, sizeof(names));
		sched_fatal("%s: scope=cluster names no Legion: add legion=NAME to the job, or scheduler-legion = NAME "
			    "(this instance is in: %s)",
				what, names);
	}
	struct uwsgi_legion *ul = uwsgi_legion_get_by_name((char *) name);
	if (!ul) {
		snprintf(what + strlen(what), sizeof(what) - strlen(what), ": legion=%s", name);
		no_legion(what, name);
	}
	return ul;
}

void sched_legion_setup(void) {
	if (sched_cfg.legion && !uwsgi_legion_get_by_name((char *) sched_cfg.legion)) {
		char what[300];
		snprintf(what, sizeof(what), "scheduler-legion %s", sched_cfg.legion);
		no_legion(what, sched_cfg.legion);
	}
	/* nothing per job without a cluster job (100,000 jobs: 400 kB); a use
	 * per Legion the instance is in, at most */
	size_t ncluster = 0, nlegions = 0;
	for (size_t i = 0; i < sched_cfg.njobs; i++)
		ncluster += sched_cfg.jobs[i]->scope == USCH_SCOPE_CLUSTER;
	if (!ncluster)
		return;
	for (struct uwsgi_legion *ul = uwsgi.legions; ul; ul = ul->next)
		nlegions++;
	lg.of_job = uwsgi_malloc(sizeof(int) * sched_cfg.njobs);
	lg.uses = uwsgi_calloc(sizeof(struct use) * (nlegions ? nlegions : 1));
	for (size_t i = 0; i < sched_cfg.njobs; i++) {
		const struct usch_job *job = sched_cfg.jobs[i];
		lg.of_job[i] = -1;
		if (job->scope != USCH_SCOPE_CLUSTER)
			continue;
		struct uwsgi_legion *ul = legion_of(job);
		lg.of_job[i] = use_of(ul);
		add_job(&lg.uses[lg.of_job[i]], job);
		sched_log("job %s: scope=cluster: each occurrence runs once across legion %s, in one worker of its lord",
				job->id, ul->legion);
	}
	if (!lg.nuses)
		return;
	lg.minority = sched_shared_zeroed(sizeof(_Atomic int) * (size_t) lg.nuses);
	lg.heard = sched_shared_zeroed(sizeof(_Atomic int64_t));
	for (int i = 0; i < lg.nuses; i++)
		if (lg.uses[i].ul->valor == 0)
			sched_log("legion %s: this instance is an arbiter (valor 0), never lord: cluster jobs %s never "
				  "run here",
					lg.uses[i].ul->legion, lg.uses[i].jobs);
}

/* Why this instance is not lord of u for the scheduler, or NULL when it
 * is. Reads what the legion thread writes with no lock of ours: a torn
 * uuid compares unequal, which only passes an occurrence over. */
static const char *not_lord(int i) {
	struct uwsgi_legion *ul = lg.uses[i].ul;
	if (!__atomic_load_n(&ul->i_am_the_lord, __ATOMIC_ACQUIRE))
		return "another instance is lord, or none is";
	if (__atomic_load_n(&ul->dead, __ATOMIC_ACQUIRE))
		return "it is leaving the legion";
	if (__atomic_load_n(&ul->lord_valor, __ATOMIC_ACQUIRE) != ul->valor || memcmp(ul->lord_uuid, ul->uuid, 36))
		return "a node of higher valor has joined";
	if (atomic_load(&lg.minority[i]))
		return "it sees fewer members than legion-quorum";
	int64_t heard = atomic_load(lg.heard);
	if (!heard || sched_clock_us(CLOCK_REALTIME) < heard)
		return "it has yet to hear from every member";
	return NULL;
}

/* The first occurrence of the lordship: Legion notes the second it was
 * gained in, so from the next one; and not before every live member has
 * been heard from. */
static int64_t lord_from(int i) {
	int64_t from = ((int64_t) __atomic_load_n(&lg.uses[i].ul->i_am_the_lord, __ATOMIC_ACQUIRE) + 1) * 1000000;
	int64_t heard = atomic_load(lg.heard);
	return heard > from ? heard : from;
}

enum sched_lordship sched_legion_claim(const struct usch_job *job, int64_t occurrence, int64_t *from) {
	int i = lg.of_job ? lg.of_job[job->index] : -1;
	*from = INT64_MAX;
	if (i < 0)
		return SCHED_NOT_LORD;
	if (getppid() != uwsgi.workers[0].pid)
		return SCHED_MASTER_GONE;
	if (not_lord(i))
		return SCHED_NOT_LORD;
	*from = lord_from(i);
	return occurrence < *from ? SCHED_BEFORE_LORD : SCHED_LORD;
}

int sched_legion_is_lord(const struct usch_job *job) {
	int i = lg.of_job ? lg.of_job[job->index] : -1;
	if (i < 0)
		return 0;
	if (uwsgi.mywid > 0 && getppid() != uwsgi.workers[0].pid)
		return 0;
	return !not_lord(i);
}

const char *sched_legion_name(const struct usch_job *job) {
	int i = lg.of_job ? lg.of_job[job->index] : -1;
	return i < 0 ? NULL : lg.uses[i].ul->legion;
}

/* A member that has just joined knows no other yet: Legion makes it lord
 * of a legion of one, for the rounds until it hears from the others. Its
 * lordship counts once any live member would have been heard from (and
 * timed out if it is gone): legion-tolerance and a round after the legion
 * thread started, just before the master's first cycle; and the same
 * again when the quorum comes back. */
static void settle(void) {
	int64_t freq = uwsgi.legion_freq > 0 ? uwsgi.legion_freq : 3;
	int64_t tolerance = uwsgi.legion_tolerance > 0 ? uwsgi.legion_tolerance : 15;
	atomic_store(lg.heard, sched_clock_us(CLOCK_REALTIME) + (tolerance + freq) * 1000000);
}

/* legion-quorum members seen (this instance and the nodes not yet timed
 * out), by the master, which alone may walk the legion thread's list. */
static void check_quorum(int i) {
	struct uwsgi_legion *ul = lg.uses[i].ul;
	if (ul->quorum <= 1)
		return;
	int seen = 1;
	uwsgi_rlock(ul->lock);
	for (struct uwsgi_legion_node *n = ul->nodes_head; n; n = n->next)
		seen++;
	uwsgi_rwunlock(ul->lock);
	int was = atomic_exchange(&lg.minority[i], seen < ul->quorum);
	/* a partition that heals: the majority's lord may still be running
	 * the jobs until it hears from this one (of higher valor) */
	if (was && seen >= ul->quorum)
		settle();
}

void sched_legion_cycle(void) {
	if (lg.nuses && !atomic_load(lg.heard))
		settle();
	for (int i = 0; i < lg.nuses; i++) {
		struct use *u = &lg.uses[i];
		check_quorum(i);
		const char *why = not_lord(i);
		int is_lord = why == NULL;
		if (is_lord == u->said)
			continue;
		u->said = is_lord;
		if (why) {
			sched_log("legion %s: this instance is no longer lord (%s): cluster jobs %s run on the lord",
					u->ul->legion, why, u->jobs);
			continue;
		}
		char from[USCH_RFC3339_MAX];
		usch_rfc3339_format(lord_from(i), usch_tz_utc(), from, sizeof(from));
		sched_log("legion %s: this instance is lord (valor %llu): cluster jobs %s run here, their occurrences "
			  "from %s on",
				u->ul->legion, (unsigned long long) u->ul->valor, u->jobs, from);
	}
}
