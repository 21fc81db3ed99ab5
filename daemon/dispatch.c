// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/dispatch.c — request ops against the collector, with SO_PEERCRED authorisation. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "dispatch.h"
#include "history.h"
#include "log.h"
#include "creds.h"
#include "proto.h"
#include "server.h"
#include "watch.h"

struct ctx {
	struct collector *c;
	struct server *srv;
	struct watch *watch;
	struct client *cl;
	const struct bm_request *req;
};

static void reply_err(struct ctx *x, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_err(struct ctx *x, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	char *line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!strcmp(code, "permission"))
		pr_warn("client pid %d uid %u refused: %s", x->cl->pid, x->cl->uid, msg);
	line = proto_format_error(code, msg);
	if (line)
		server__reply(x->srv, x->cl, line, false);
}

static void reply_ok(struct ctx *x, json_t *members)
{
	char *line = proto_format_ok(members);

	if (line)
		server__reply(x->srv, x->cl, line, false);
	else
		reply_err(x, "internal", "cannot format the reply: %s", strerror(errno));
}

static bool may_touch_uid(const struct client *cl, uid_t owner)
{
	return cl->uid == 0 || cl->uid == owner;
}

/* The session a request addresses: "session", "pid", or the caller's own process. */
static struct session *target_session(struct ctx *x)
{
	const struct bm_request *r = x->req;
	struct session *s;

	if (r->has_session)
		s = collector__find_session_by_id(x->c, r->session);
	else
		s = collector__find_session_by_pid(x->c, r->has_pid ? r->pid : x->cl->pid);
	if (!s) {
		if (r->has_session)
			reply_err(x, "no_session", "no session %u", r->session);
		else if (r->has_pid)
			reply_err(x, "no_session", "pid %d is not traced", r->pid);
		else
			reply_err(x, "no_session",
				  "your process (pid %d) is in no traced session: run it under "
				  "benchmem-run, or name a session or pid",
				  x->cl->pid);
		return NULL;
	}
	if (!may_touch_uid(x->cl, s->uid)) {
		reply_err(x, "permission", "session %u belongs to uid %u", s->id, s->uid);
		return NULL;
	}
	if (s->denied[0]) {
		reply_err(x, "permission", "session %u was ended and detached: %s", s->id,
			  s->denied);
		return NULL;
	}
	return s;
}

static void op_hello(struct ctx *x)
{
	reply_ok(x,
		 json_pack("{s:i, s:s, s:s}", "protocol", BM_PROTOCOL_VERSION, "server", BM_VERSION,
			   "mode", collector__embedded(x->c) ? "embedded" : "daemon"));
}

/* The credential check of a trace request (design.md "Trust", creds.h), on a pidfd opened
 * first: 0 with @g filled (the caller closes g->pidfd), or -1 once answered. */
static int check_trace(struct ctx *x, bool launch, struct creds_grant *g)
{
	pid_t pid = x->req->pid;
	char why[384];
	int e;

	*g = (struct creds_grant){ .pidfd = creds_pidfd_open(pid),
				   .uid = x->cl->uid,
				   .gid = x->cl->gid };
	e = g->pidfd < 0 ? g->pidfd : creds_read(pid, &g->seen);
	/* alive after the read: what was read is the pidfd's process */
	if (!e)
		e = creds_pidfd_alive(g->pidfd);
	if (e && !creds_read(pid, &g->seen) && g->seen.st.tgid != pid) {
		reply_err(x, "attach_failed", "pid %d is a thread of process %d: name the process",
			  pid, g->seen.st.tgid);
		return -1;
	}
	if (e) {
		reply_err(x, "no_session", "no process %d", pid);
		return -1;
	}
	if (creds_allows(&g->seen, pid, x->cl->uid, x->cl->gid, why, sizeof(why))) {
		reply_err(x, "permission", "%s", why);
		return -1;
	}
	if (launch && x->cl->uid != 0 && g->seen.st.ppid != x->cl->pid) {
		reply_err(x, "permission", "pid %d is not your child", pid);
		return -1;
	}
	return 0;
}

static void op_trace(struct ctx *x, bool launch)
{
	const struct bm_request *r = x->req;
	struct creds_grant g;
	struct trace_req t = { .pid = r->pid,
			       .owner = x->cl->id,
			       .launch = launch,
			       .profile = r->profile,
			       .kill_on_exit = r->kill_on_daemon_exit,
			       .name = r->name[0] ? r->name : "run",
			       .command = r->exe[0] ? r->exe : r->name,
			       .grant = &g };
	struct session *s;
	char err[512];

	if (check_trace(x, launch, &g)) {
		if (g.pidfd >= 0)
			close(g.pidfd);
		return;
	}
	/* the session is the process's user's (root may trace a user's process for them), but
	 * only when that user could trace it too: a set-uid process root traces stays root's */
	if (!creds_allows(&g.seen, r->pid, g.seen.st.uids[0], g.seen.st.gids[0], err,
			  sizeof(err))) {
		t.uid = g.seen.st.uids[0];
		t.gid = g.seen.st.gids[0];
	}
	s = collector__attach(x->c, &t, err, sizeof(err));
	close(g.pidfd);
	if (!s) {
		reply_err(x,
			  errno == EMFILE  ? "limit"
			  : errno == EPERM ? "permission"
					   : "attach_failed",
			  "%s", err);
		return;
	}
	s->python_malloc = r->python_malloc;
	s->hook = r->hook;
	s->region_scope = r->region_scope;    /* before the exec: its probes follow it */
	s->context = json_incref(r->context); /* stored verbatim, written into its results */
	reply_ok(x, json_pack("{s:i}", "session", (int)s->id));
}

static void op_start(struct ctx *x)
{
	const struct bm_request *r = x->req;
	struct session *s = target_session(x);
	struct region *g;
	char why[256] = "";

	if (!s)
		return;
	if (s->ended) {
		reply_err(x, "no_session", "session %u has ended", s->id);
		return;
	}
	g = collector__start(x->c, s, r->name, r->has_repeat ? (int64_t)r->repeat : -1, r->params,
			     r->has_group ? r->group : NULL, x->cl->id, why, sizeof(why));
	if (!g) {
		if (errno == EEXIST)
			reply_err(x, "already_open", "region '%s' is already open", r->name);
		else if (errno == EMFILE)
			reply_err(x, "limit", "session %u: %s", s->id, why);
		else if (errno == ERANGE)
			reply_err(x, "limit", "session %u: too many regions started", s->id);
		else
			reply_err(x, "internal", "cannot open region: %s", strerror(errno));
		return;
	}
	reply_ok(x, json_pack("{s:s, s:i}", "region", g->name, "repeat", (int)g->repeat));
}

static void op_stop(struct ctx *x)
{
	const struct bm_request *r = x->req;
	struct session *s = target_session(x);
	const struct region *c;
	struct region *g;

	if (!s)
		return;
	g = session__find_open(s, r->name);
	if (!g || (r->has_repeat && g->repeat != r->repeat)) {
		reply_err(x, "not_open", "region '%s' is not open", r->name);
		return;
	}
	c = collector__stop(x->c, s, g, false);
	if (!c) {
		reply_err(x, "limit", "session %u keeps no more closed regions", s->id);
		return;
	}
	reply_ok(x,
		 json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "region", c->name,
			   "repeat", (int)c->repeat, "peak_bytes", (json_int_t)c->acct.peak_bytes,
			   "total_bytes", (json_int_t)c->acct.total_bytes, "allocations",
			   (json_int_t)c->acct.allocations, "rss_bytes",
			   (json_int_t)(c->has_rss ? c->rss_bytes : 0), "wall_ns",
			   (json_int_t)c->wall_ns, "lost_events", (json_int_t)c->lost_events,
			   "has_rss", c->has_rss));
}

static void op_status(struct ctx *x)
{
	json_t *st = collector__status(x->c, x->cl->uid, server__nr_clients(x->srv));

	reply_ok(x, st);
}

static void op_results(struct ctx *x)
{
	struct session *s = target_session(x);
	json_t *doc;

	if (!s)
		return;
	doc = collector__results(x->c, s);
	if (!doc) {
		reply_err(x, "internal", "cannot build the results: %s", strerror(errno));
		return;
	}
	reply_ok(x, json_pack("{s:o}", "result", doc));
}

static void op_detach(struct ctx *x)
{
	struct session *s = target_session(x);

	if (!s)
		return;
	collector__detach(x->c, s);
	reply_ok(x, json_pack("{s:i}", "session", (int)s->id));
}

static void op_scope(struct ctx *x)
{
	struct session *s = target_session(x);

	if (!s)
		return;
	collector__set_scope(x->c, s, x->req->region_scope);
	reply_ok(x, json_pack("{s:i, s:s}", "session", (int)s->id, "scope",
			      s->region_scope ? "regions" : "command"));
}

static void op_profile(struct ctx *x)
{
	const struct bm_request *r = x->req;
	struct session *s = target_session(x);
	const char *path = NULL;
	char err[512];
	int e;

	if (!s)
		return;
	collector__drain(x->c);
	e = collector__profile_start(x->c, s, r->name, r->has_repeat ? (int64_t)r->repeat : -1,
				     x->cl->id, &path, err, sizeof(err));
	if (e == 0)
		return; /* a writer process is at it: dispatch_profile_done() answers */
	if (e > 0) {
		reply_ok(x, json_pack("{s:s, s:s}", "region", r->name, "path", path));
		return;
	}
	reply_err(x,
		  e == -ENOENT	  ? "not_open"
		  : e == -ENODATA ? "bad_request"
		  : e == -EBUSY	  ? "limit"
				  : "io",
		  "%s", err);
}

/* The finished sessions the caller may see: their own (root: every one). */
static void op_sessions(struct ctx *x)
{
	json_t *list = history__list(collector__history(x->c), x->cl->uid);

	if (!list) {
		reply_err(x, "internal", "cannot list the sessions: %s", strerror(errno));
		return;
	}
	reply_ok(x, json_pack("{s:o}", "finished", list));
}

/* Streams snapshots of the sessions the caller may see (watch.c); "session" puts one in
 * focus, which must be the caller's (root: any). */
static void op_watch(struct ctx *x)
{
	const struct bm_request *r = x->req;
	struct watch_params p = { .interval_ms =
					  r->interval_ms ? r->interval_ms : BM_WATCH_DEFAULT_MS,
				  .hot = { .thread = r->thread, .sort = (enum hot_sort)r->sort } };
	int e;

	if (r->has_session) {
		struct session *s = target_session(x);

		if (!s)
			return;
		p.focus = s->id;
	}
	e = watch__subscribe(x->watch, x->cl, &p);
	if (e)
		reply_err(x, "internal", "cannot watch: %s", strerror(-e));
}

void dispatch_profile_done(struct server *srv, int client_id, const char *name, const char *path,
			   const char *err)
{
	struct client *cl = server__find(srv, client_id);
	char *line;

	if (!cl)
		return;
	line = path ? proto_format_ok(json_pack("{s:s, s:s}", "region", name, "path", path))
		    : proto_format_error("io", err);
	if (line)
		server__reply(srv, cl, line, false);
}

void dispatch_request(struct collector *c, struct server *srv, struct watch *w, struct client *cl,
		      const char *line, size_t len)
{
	struct bm_request req;
	struct ctx x = { c, srv, w, cl, &req };
	const char *code = NULL;
	char msg[512];

	if (proto_parse_request(line, len, &req, &code, msg, sizeof(msg))) {
		pr_debug("client pid %d uid %u: %s: %s", cl->pid, cl->uid, code, msg);
		reply_err(&x, code, "%s", msg);
		return;
	}
	switch (req.op) {
	case BM_OP_HELLO:
		op_hello(&x);
		break;
	case BM_OP_LAUNCH:
		op_trace(&x, true);
		break;
	case BM_OP_ATTACH:
		op_trace(&x, false);
		break;
	case BM_OP_START:
		op_start(&x);
		break;
	case BM_OP_STOP:
		op_stop(&x);
		break;
	case BM_OP_STATUS:
		op_status(&x);
		break;
	case BM_OP_RESULTS:
		op_results(&x);
		break;
	case BM_OP_DETACH:
		op_detach(&x);
		break;
	case BM_OP_PROFILE:
		op_profile(&x);
		break;
	case BM_OP_WATCH:
		op_watch(&x);
		break;
	case BM_OP_SESSIONS:
		op_sessions(&x);
		break;
	case BM_OP_SCOPE:
		op_scope(&x);
		break;
	}
	bm_request_release(&req);
}
