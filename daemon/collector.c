// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/collector.c — the top-level context: wires the event sources, the traced processes,
 * the session table and the profile jobs into one loop. What each part does
 * lives in its module; here is only who calls whom and when. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "collector.h"
#include "history.h"
#include "log.h"
#include "loop.h"
#include "fdreserve.h"
#include "probe.h"
#include "profiling.h"
#include "profiles.h"
#include "ringbuf.h"
#include "sessions.h"
#include "sources.h"
#include "tracer.h"

struct collector {
	struct bm_config cfg;
	bool embedded;
	struct loop *loop;
	struct probe *probe;
	struct sources *sources;
	struct tracer *tracer;
	struct sessions *sessions;
	struct profiles *profiles;
	struct history *history; /* finished sessions: the "sessions" op and /metrics */
	const struct collector_front_ops *front;
	void *front_arg;
	int sigfd;
	int ready_fd;
	struct session *local;
	char spill_dir[PATH_MAX];
	gid_t dir_gid; /* the group of the directories we create: the socket's */
};

uint64_t collector__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

bool collector__embedded(const struct collector *c)
{
	return c->embedded;
}

struct loop *collector__loop(struct collector *c)
{
	return c->loop;
}

const struct bm_config *collector__config(const struct collector *c)
{
	return &c->cfg;
}

int collector__set_front(struct collector *c, const struct collector_front_ops *ops, void *arg)
{
	if (c->front)
		return -EBUSY;
	c->front = ops;
	c->front_arg = arg;
	profiles__on_done(c->profiles, ops->profile_done, arg);
	return 0;
}

/* ---- processes ------------------------------------------------------------------------ */

struct session *collector__find_session_by_pid(struct collector *c, pid_t pid)
{
	struct proc *p = sessions__find_proc(c->sessions, pid);

	return p ? p->s : NULL;
}

struct session *collector__find_session_by_id(struct collector *c, uint32_t id)
{
	return sessions__find_by_id(c->sessions, id);
}

static void drop_session(struct collector *c, struct session *s)
{
	tracer__release(c->tracer, s, false);
	probe__stacks_close(c->probe, s->stack_slot); /* its stacks go with it */
	if (c->local == s)
		c->local = NULL;
	sessions__remove(c->sessions, s);
}

/* ---- events --------------------------------------------------------------------------- */

/* Events lost by @s's processes, gone ones included. */
uint64_t collector__session_lost(struct collector *c, const struct session *s)
{
	uint64_t n = s->lost_gone;

	for (int i = 0; i < s->nr_procs; i++)
		n += sources__lost(c->sources, (uint32_t)s->procs[i]->tgid);
	return n;
}

static uint64_t session_lost(void *arg, const struct session *s)
{
	return collector__session_lost(arg, s);
}

uint64_t collector__lost(struct collector *c)
{
	return sources__lost_total(c->sources);
}

void collector__drain(struct collector *c)
{
	sources__drain(c->sources);
}

void collector__sink(struct collector *c, source_event_fn **fn, void **arg)
{
	*fn = sessions__on_event;
	*arg = c->sessions;
}

int collector__add_source(struct collector *c, struct event_source *src)
{
	return sources__add(c->sources, src);
}

struct session **collector__sessions(struct collector *c, int *n)
{
	return sessions__all(c->sessions, n);
}

int collector__stack(struct collector *c, int map, int32_t id, uint64_t *ips, size_t max)
{
	return probe__stack(c->probe, map, id, ips, max);
}

/* ---- regions and sessions ------------------------------------------------------------- */

struct region *collector__start(struct collector *c, struct session *s, const char *name,
				int64_t repeat, json_t *params, const char *group, int owner,
				char *why, size_t whylen)
{
	struct region *r;

	collector__drain(c);
	r = sessions__start_region(c->sessions, s, name, repeat, params, group, collector__now_ns(),
				   collector__session_lost(c, s), why, whylen);
	if (r)
		r->owner = owner;
	tracer__recording(c->tracer, s);
	return r;
}

const struct region *collector__stop(struct collector *c, struct session *s, struct region *r,
				     bool aborted)
{
	const struct region *done;

	collector__drain(c);
	done = sessions__stop_region(s, r, collector__now_ns(), collector__session_lost(c, s),
				     aborted);
	tracer__recording(c->tracer, s);
	return done;
}

void collector__set_scope(struct collector *c, struct session *s, bool regions)
{
	collector__drain(c);
	s->region_scope = regions;
	tracer__recording(c->tracer, s);
}

json_t *collector__results(struct collector *c, struct session *s)
{
	collector__drain(c);
	return session__results(s, BM_VERSION, probe__mode(c->probe),
				collector__session_lost(c, s));
}

/* The session is over: its result file (named after its job), and its line in the history. */
static void write_result_file(struct collector *c, struct session *s, bool exited)
{
	char path[PATH_MAX] = "", name[BM_NAME_MAX + 1];
	json_t *doc = NULL;

	if (c->embedded)
		return;
	sessions__job_name(s, name, sizeof(name));
	if (s->nr_closed)
		doc = collector__results(c, s);
	if (doc)
		sessions__write_result(c->cfg.result_dir, c->dir_gid, s, name, doc, path,
				       sizeof(path));
	history__add(c->history, s, name, exited, doc, path);
	json_decref(doc);
}

const struct history *collector__history(const struct collector *c)
{
	return c->history;
}

/* Closes every open region of @s (the root ended, or the session is detached). */
static void close_all(struct collector *c, struct session *s, bool root_failed)
{
	while (s->nr_open) {
		struct region *r = s->open[s->nr_open - 1];

		/* the whole-run region ends normally with its command; others were left open */
		collector__stop(c, s, r, r->whole_run ? root_failed : true);
	}
}

/* An exec gave a process of @s credentials its owner may not trace: every open region is
 * aborted, every process detached before the new image runs (no event of it is accounted),
 * and the owner's next stop or results says why. No result file: the run is not its own. */
static void on_denied(void *arg, struct session *s, const char *why)
{
	struct collector *c = arg;

	snprintf(s->denied, sizeof(s->denied), "%s", why);
	pr_warn("session %u (uid %u): ended, detached: %s", s->id, s->uid, why);
	close_all(c, s, true);
	tracer__release(c->tracer, s, true);
	s->ended = true;
}

void collector__detach(struct collector *c, struct session *s)
{
	close_all(c, s, false);
	tracer__release(c->tracer, s, true);
	s->ended = true;
	write_result_file(c, s, false);
}

/* Regions belong to their session, not to the connection that opened them: a shell script
 * starts a region with one benchmemctl and stops it with another. A region left open is
 * closed as aborted when its session ends. */
void collector__client_gone(struct collector *c, int client_id)
{
	for (int i = 0; i < sessions__count(c->sessions); i++) {
		struct session *s = sessions__at(c->sessions, i);

		if (s->owner_client != client_id)
			continue;
		s->owner_client = 0;
		if (s->ended) {
			drop_session(c, s);
			i--;
		}
	}
}

struct session *collector__attach(struct collector *c, const struct trace_req *t, char *err,
				  size_t errlen)
{
	struct session *s;
	char why[384] = "";
	int e;

	if (sessions__find_proc(c->sessions, t->pid)) {
		snprintf(err, errlen, "pid %d is already traced", t->pid);
		errno = EEXIST;
		return NULL;
	}
	if (fd_reserve_short(c->cfg.fd_reserve, err, errlen))
		return NULL;
	s = sessions__add(c->sessions, t->pid, t->uid, t->command, why, sizeof(why));
	if (!s) {
		snprintf(err, errlen, "cannot create a session: %s",
			 errno == EMFILE ? why : strerror(errno));
		return NULL;
	}
	s->owner_client = t->owner;
	s->launched = t->launch;
	s->profile = t->profile;
	s->gid = t->gid;
	/* the owner reads the results: a privilege its process gains ends them, whoever asked */
	s->checked = t->uid != 0;
	s->kill_on_exit = t->kill_on_exit;
	profiling_open(c->probe, s);
	e = tracer__trace(c->tracer, s, t->pid, t->launch, t->grant, why, sizeof(why));
	if (e) {
		if (e == -EPERM)
			snprintf(err, errlen, "%s", why);
		else
			snprintf(err, errlen, "cannot trace pid %d: %s", t->pid, why);
		drop_session(c, s);
		errno = -e;
		return NULL;
	}
	if (t->launch) {
		struct region *r =
			collector__start(c, s, t->name, 0, NULL, NULL, 0, why, sizeof(why));

		if (r)
			r->whole_run = true;
	}
	pr_info("session %u: tracing pid %d for uid %u (%s%s)", s->id, t->pid, t->uid,
		t->launch ? "launched" : "attached", t->kill_on_exit ? ", killed if we exit" : "");
	return s;
}

int collector__launch_local(struct collector *c, pid_t pid, uid_t uid, const char *name,
			    const char *command, bool python_malloc, bool profile, bool hook,
			    char *err, size_t errlen)
{
	struct trace_req t = { .pid = pid,
			       .uid = uid,
			       .gid = getgid(),
			       .launch = true,
			       .profile = profile,
			       .name = name,
			       .command = command };
	struct session *s = collector__attach(c, &t, err, errlen);

	if (!s)
		return -errno;
	s->python_malloc = python_malloc;
	s->hook = hook;
	c->local = s;
	return 0;
}

struct session *collector__local_session(struct collector *c)
{
	return c->local;
}

void collector__forward_signal(struct collector *c, int sig)
{
	if (c->local && !c->local->ended)
		kill(c->local->root, sig);
}

json_t *collector__status(struct collector *c, uid_t uid, int nr_clients)
{
	json_t *list;

	collector__drain(c);
	list = sessions__status(c->sessions, uid, session_lost, c);
	return json_pack("{s:o, s:i, s:I, s:s}", "sessions", list, "clients", nr_clients,
			 "lost_events", (json_int_t)collector__lost(c), "attach",
			 probe__mode(c->probe));
}

const char *collector__profile(struct collector *c, struct session *s, const char *name,
			       int64_t repeat, char *err, size_t errlen)
{
	return profiles__write(c->profiles, s, name, repeat, err, errlen);
}

int collector__profile_start(struct collector *c, struct session *s, const char *name,
			     int64_t repeat, int client_id, const char **path, char *err,
			     size_t errlen)
{
	return profiles__start(c->profiles, s, name, repeat, client_id, path, err, errlen);
}

/* ---- what the end of a traced process means -------------------------------------------- */

static void on_root_exiting(void *arg, struct session *s)
{
	(void)arg;
	if (s->profile)
		profiles__snapshot(s);
}

static void on_root_exit(void *arg, struct session *s, int status)
{
	struct collector *c = arg;

	s->ended = true;
	s->exit_status = status;
	close_all(c, s, WIFSIGNALED(status));
	write_result_file(c, s, true);
}

static void on_proc_gone(void *arg, struct session *s)
{
	struct collector *c = arg;

	if (c->embedded && s == c->local && s->ended)
		loop__stop(c->loop);
	else if (s->ended && !s->nr_procs && !s->owner_client)
		drop_session(c, s);
}

static void on_child_exit(void *arg, pid_t pid, int status)
{
	struct collector *c = arg;

	profiles__reaped(c->profiles, c->sessions, pid, status);
}

/* ---- signals -------------------------------------------------------------------------- */

static void on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct collector *c = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			tracer__reap(c->tracer);
			continue;
		}
		if (c->embedded) {
			/* a terminal's ^C reaches the whole process group already (ssi_pid 0);
			 * a kill aimed at benchmem-run is passed on to the command */
			if (si.ssi_pid)
				collector__forward_signal(c, (int)si.ssi_signo);
			continue;
		}
		pr_info("signal %u: shutting down", si.ssi_signo);
		loop__stop(l);
	}
}

static int setup_signals(struct collector *c)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	c->sigfd = loop__add_signals(c->loop, &set, on_signal, c);
	return c->sigfd < 0 ? c->sigfd : 0;
}

/* ---- life cycle ----------------------------------------------------------------------- */

/* The parts that hold no fd of the loop: the session table and the profile jobs. */
static int new_parts(struct collector *c, const struct collector_opts *o)
{
	char host[HOST_NAME_MAX + 1], buf[4096];
	struct group gr, *res = NULL;
	int fd;

	c->dir_gid = !getgrnam_r(o->cfg.socket_group, &gr, buf, sizeof(buf), &res) && res
			     ? gr.gr_gid
			     : 0;
	snprintf(c->spill_dir, sizeof(c->spill_dir), "%s",
		 o->embedded ? (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") : o->cfg.state_dir);
	if (!o->embedded) {
		fd = atomic_dir_open(c->spill_dir, SESSIONS_DIR_MODE, c->dir_gid);
		if (fd < 0)
			pr_warn("%s: %s", c->spill_dir, strerror(-fd));
		else
			close(fd);
	}
	c->sessions = sessions__new(&c->cfg, c->spill_dir);
	c->profiles = profiles__new(c->probe, c->cfg.profile_dir, c->dir_gid);
	if (gethostname(host, sizeof(host) - 1))
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	c->history = history__new(c->cfg.metrics_max_series, host);
	return c->sessions && c->profiles && c->history ? 0 : -ENOMEM;
}

struct collector *collector__new(const struct collector_opts *o, char *err, size_t errlen)
{
	static const struct tracer_ops tops = { on_root_exiting, on_root_exit, on_proc_gone,
						on_denied, on_child_exit };
	struct probe_opts po = { .system_wide = o->cfg.attach_mode == BM_ATTACH_SYSTEM,
				 .ringbuf_bytes = o->cfg.ring_buffer,
				 .stack_entries = (uint32_t)o->cfg.stack_map_entries };
	struct collector *c = calloc(1, sizeof(*c));
	struct event_source *rb;
	int e = 0;

	if (!c)
		return NULL;
	c->cfg = o->cfg;
	c->embedded = o->embedded;
	c->sigfd = -1;
	c->ready_fd = o->ready_fd;
	c->loop = loop__new();
	if (!c->loop) {
		e = -errno;
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	c->probe = probe__new(&po, err, errlen);
	if (!c->probe) {
		e = -errno;
		goto fail;
	}
	e = new_parts(c, o);
	c->sources = e ? NULL : sources__new(c->loop);
	rb = c->sources ? ringbuf__new(c->probe, sessions__on_event, c->sessions) : NULL;
	if (!e)
		e = rb ? sources__add(c->sources, rb) : -errno;
	if (!e) {
		c->tracer = tracer__new(c->probe, o->cfg.attach_mode == BM_ATTACH_SYSTEM,
					c->sessions, c->sources, c->loop, &tops, c);
		e = c->tracer ? 0 : -errno;
	}
	if (e) {
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(-e));
		goto fail;
	}
	e = setup_signals(c);
	if (e) {
		snprintf(err, errlen, "cannot set up the event loop: %s", strerror(-e));
		goto fail;
	}
	return c;
fail:
	collector__free(c);
	errno = e ? -e : EINVAL;
	return NULL;
}

void collector__free(struct collector *c)
{
	if (!c)
		return;
	if (c->front && c->front->free)
		c->front->free(c->front_arg);
	while (c->tracer && sessions__count(c->sessions))
		drop_session(c, sessions__at(c->sessions, 0));
	tracer__free(c->tracer);
	sessions__free(c->sessions);
	profiles__free(c->profiles);
	history__free(c->history);
	sources__free(c->sources);
	probe__free(c->probe);
	if (c->sigfd >= 0)
		close(c->sigfd);
	loop__free(c->loop);
	free(c);
}

/* The daemon stops (SIGTERM): the users' benchmarks run on, untraced, their open regions
 * aborted and written; only a session that asked for it (kill_on_exit) dies with us. */
static void shut_session(struct collector *c, struct session *s)
{
	close_all(c, s, true);
	if (s->kill_on_exit) {
		for (int i = 0; i < s->nr_procs; i++)
			kill(s->procs[i]->tgid, SIGKILL);
	} else {
		tracer__release(c->tracer, s, true);
	}
	s->ended = true;
	write_result_file(c, s, false);
	pr_info("session %u: %s at shutdown", s->id, s->kill_on_exit ? "killed" : "detached");
}

int collector__run(struct collector *c)
{
	int err;

	if (c->ready_fd >= 0) {
		if (write(c->ready_fd, "READY\n", 6) != 6)
			pr_warn("cannot write to the ready fd: %s", strerror(errno));
		close(c->ready_fd);
		c->ready_fd = -1;
	}
	/* a root that exited before the loop started was reaped by nobody yet */
	tracer__reap(c->tracer);
	if (c->embedded && c->local && c->local->ended)
		return 0;
	err = loop__run(c->loop);
	if (!c->embedded) {
		for (int i = 0; i < sessions__count(c->sessions); i++) {
			struct session *s = sessions__at(c->sessions, i);

			if (!s->ended)
				shut_session(c, s);
		}
	}
	return err;
}
