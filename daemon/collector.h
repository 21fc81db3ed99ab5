/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/collector.h — the top-level context: owns the loop, the probes, the event sources
 * (sources.c), the traced processes (tracer.c), the session table (sessions.c) and the profile
 * jobs (profiles.c), and wires them together. benchmemd runs one; benchmem-run embeds one when no
 * daemon listens. The socket front (serve.c: the server and dispatch.c) sits on top: it uses this
 * API and registers itself with collector__set_front(), so the collector knows no protocol. */
#ifndef BM_COLLECTOR_H
#define BM_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "creds.h"
#include "session.h"
#include "source.h"
#include "version.h"

struct collector;
struct history;
struct loop;

struct collector_opts {
	struct bm_config cfg;
	bool embedded; /* inside benchmem-run: no result files, stop when the root exits */
	int ready_fd;  /* >= 0: write "READY\n" there once serving */
};

/* Builds everything (loads BPF, creates the loop). NULL + errno with a one-line reason in
 * @err that says what to do. */
struct collector *collector__new(const struct collector_opts *o, char *err, size_t errlen);
void collector__free(struct collector *c); /* NULL-safe */

/* ---- the socket front (implemented in serve.c, on top of the collector) ------------- */
/* Serves the protocol on listening socket @listen_fd (not owned) until collector__free().
 * 0 or -errno with @err. */
int collector__serve(struct collector *c, int listen_fd, char *err, size_t errlen);
/* The same on a socket of its own at @path, created with @mode, closed and unlinked by
 * collector__free() (benchmem-run's private socket). 0 or -errno with @err. */
int collector__serve_path(struct collector *c, const char *path, mode_t mode, char *err,
			  size_t errlen);

/* What the front registers: how a finished profile writer is reported (see
 * collector__profile_start), and how it is freed, first, in collector__free(). */
struct collector_front_ops {
	void (*profile_done)(void *arg, int client_id, const char *name, const char *path,
			     const char *err);
	void (*free)(void *arg);
};
/* One front per collector: 0, or -EBUSY when one is registered already. */
int collector__set_front(struct collector *c, const struct collector_front_ops *ops, void *arg);
struct loop *collector__loop(struct collector *c);
const struct bm_config *collector__config(const struct collector *c);

/* The sink a new event source (source.h) delivers its events to: *@fn(*@arg, event). The
 * ring buffer is added by collector__new(); another source is made with this sink, then
 * added (the collector owns it from then on, even on failure: 0 or -errno). */
void collector__sink(struct collector *c, source_event_fn **fn, void **arg);
int collector__add_source(struct collector *c, struct event_source *src);

/* Runs the loop until SIGTERM/SIGINT (daemon) or until the launched root exits (embedded).
 * Returns 0 or -errno. */
int collector__run(struct collector *c);

/* Embedded use: the session launched in-process (benchmem-run), its root's wait status
 * (valid once it ended), and its result document (new reference). */
int collector__launch_local(struct collector *c, pid_t pid, uid_t uid, const char *name,
			    const char *command, bool python_malloc, bool profile, bool hook,
			    char *err, size_t errlen);
struct session *collector__local_session(struct collector *c);
json_t *collector__results(struct collector *c, struct session *s);
/* Forwards @sig to the root of the embedded session (benchmem-run's SIGINT/SIGTERM). */
void collector__forward_signal(struct collector *c, int sig);

/* ---- the operations behind the protocol (dispatch.c) --------------------------------- */
struct session *collector__find_session_by_pid(struct collector *c, pid_t pid);
struct session *collector__find_session_by_id(struct collector *c, uint32_t id);
/* A trace request: process @pid, its session owned by @uid/@gid (results and profiles are
 * theirs) and by client @owner; @launch: stopped before its execve (a whole-run region named
 * @name opens); @grant: what dispatch checked, re-checked after the seize (NULL: no check,
 * the embedded collector's own child). */
struct trace_req {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int owner;
	bool launch, profile;
	bool kill_on_exit; /* PTRACE_O_EXITKILL: the tree dies when the daemon exits */
	const char *name, *command;
	const struct creds_grant *grant;
};
/* Traces @t->pid. Returns the session or NULL + errno/@err (EPERM: the re-check after the
 * seize refused it; the process is detached again on every error). */
struct session *collector__attach(struct collector *c, const struct trace_req *t, char *err,
				  size_t errlen);
/* Writes (once) the .bin profile of closed region @name (@repeat, or the min-peak pass when
 * < 0) into the profile directory. Returns its path (owned by the session) or NULL + errno
 * with a reason in @err (ENOENT: no such region; ENODATA: no events were kept). */
const char *collector__profile(struct collector *c, struct session *s, const char *name,
			       int64_t repeat, char *err, size_t errlen);
void collector__detach(struct collector *c, struct session *s);
/* Drains every event source so that every event produced so far is accounted. */
void collector__drain(struct collector *c);
uint64_t collector__lost(struct collector *c); /* the whole collector's lost events */
uint64_t collector__session_lost(struct collector *c, const struct session *s);
uint64_t collector__now_ns(void);
/* Region start/stop with rss bookkeeping. A start refused by a cap returns NULL + EMFILE
 * with the cap's config key and counts in @why. */
struct region *collector__start(struct collector *c, struct session *s, const char *name,
				int64_t repeat, json_t *params, const char *group, int owner,
				char *why, size_t whylen);
const struct region *collector__stop(struct collector *c, struct session *s, struct region *r,
				     bool aborted);
/* Region scope (@regions) or command scope for @s: in region scope nothing is traced while
 * no region but the whole-run one is open, and the whole-run region is no result. */
void collector__set_scope(struct collector *c, struct session *s, bool regions);
/* The daemon's form: a writer process writes the .bin while the loop goes on. Returns 0 when
 * started (client @client_id is answered when it ends), 1 when the profile exists already
 * (*@path set), or -errno with @err (-EBUSY: too many writers at once). */
int collector__profile_start(struct collector *c, struct session *s, const char *name,
			     int64_t repeat, int client_id, const char **path, char *err,
			     size_t errlen);
json_t *collector__status(struct collector *c, uid_t uid, int nr_clients);
/* What the watch op's snapshots read (serve.c owns the watch): the session table as an
 * array (valid until a session is added or removed), and the frames of BPF stack @id in
 * stack map @map (a session's stack_slot; probe__stack: the count, or -errno). */
struct session **collector__sessions(struct collector *c, int *n);
int collector__stack(struct collector *c, int map, int32_t id, uint64_t *ips, size_t max);
/* The finished sessions and their regions' series (history.h): the "sessions" op, /metrics. */
const struct history *collector__history(const struct collector *c);
bool collector__embedded(const struct collector *c);
void collector__client_gone(struct collector *c, int client_id);

#endif /* BM_COLLECTOR_H */
