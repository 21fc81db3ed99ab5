/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/session.h — a session: one traced process tree, its owner, its processes' live
 * tables, its open regions (each with its own event spool when profiles are kept) and the
 * per-repeat series of its closed ones. No I/O but the spools' spill files. */
#ifndef BM_SESSION_H
#define BM_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "benchmem.h"
#include "live.h"
#include "proto.h"
#include "region.h"

#define SESSION_MAX_OPEN   256	   /* open regions per session */
#define SESSION_MAX_CLOSED 1000000 /* closed regions kept per session */

struct session;
struct spool;
struct spool_budget;
struct stacks_images;
struct pystacks;

struct proc {
	pid_t tgid;
	struct session *s;
	struct live_table *live;
	struct live_table *stacks; /* owned: profiled processes only, see blockstacks.h */
	bool hook;		   /* its events come from the preloaded hook, not from uprobes */
	/* runs one of our clients (lib/client_mark.h): it names its session in requests, but
	 * nothing it allocates or holds resident is the benchmark's */
	bool is_client;
	/* its allocator uprobes are detached: region scope with no region open (tracer.c) */
	bool probes_off;
};

struct region {
	char name[BM_NAME_MAX + 1];
	char group[BM_GROUP_MAX + 1];
	bool has_group;
	uint32_t repeat;
	json_t *params; /* owned; NULL when none */
	struct region_acct acct;
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	uint64_t wall_ns;
	uint64_t rss_bytes; /* resident high-water seen so far */
	bool has_rss;
	bool aborted;
	bool whole_run; /* the region benchmem-run opens around the whole command */
	int owner;	/* id of the client that opened it; 0: none */
	uint64_t lost_at_start;
	uint64_t lost_events;
	uint64_t lost_stacks; /* allocations while open whose stack was not kept (map full) */
	struct spool *spool;  /* owned: the region's events, when the session keeps profiles */
	char *profile;	      /* owned: path of the .bin written for it, or NULL */
};

struct session {
	uint32_t id;
	uid_t uid;
	pid_t root;
	char command[1024];
	bool python_malloc;
	bool profile;	    /* keep every region's events with stacks for .bin profiles */
	bool saw_python;    /* a process of the tree ran a CPython interpreter */
	bool launched;	    /* started by launch (whole-run region) rather than attach */
	bool hook;	    /* launched with the hook preloaded (--probe hook or auto) */
	bool hook_fallback; /* a process of it could not run the hook: uprobes traced it */
	/* region scope: nothing is traced while no region but the whole-run one is open (the
	 * timed rounds of a benchmark run at native speed); the whole-run region is no result */
	bool region_scope;
	uint32_t epoch; /* counts region starts; blocks carry the epoch they were born in */
	struct proc **procs;
	int nr_procs, cap_procs;
	struct region *open[SESSION_MAX_OPEN];
	int nr_open;
	struct region *closed;
	size_t nr_closed, cap_closed;
	bool ended; /* the root process exited */
	int exit_status;
	uint64_t events;
	struct region_acct acct; /* every block since tracing began: live now, peak, total */
	uint64_t unmatched_frees;
	uint64_t lost_gone; /* events lost by processes of the session that are gone */
	int owner_client;   /* client that launched/attached it; results kept while it lives */
	struct stacks_images *images; /* owned: the root's ELF images, for native symbols */
	struct pystacks *py;	      /* owned: Python stacks of a profiled session, or NULL */
	int64_t start_unix_ns;
	/* where profiled regions spool their events (the table's; not owned): the budget shared
	 * by every spool, and the directory of spill files */
	struct spool_budget *budget;
	const char *spill_dir;
	json_t *context;      /* owned: the launching/attaching client's commit_info/machine_info */
	uint64_t held_bytes;  /* names, groups and params of its regions (region_held_bytes) */
	json_t *repeats;      /* owned: name -> one more than its last closed repeat */
	int stack_slot;	      /* its stack map (probe__stacks_open) when profiled; -1: none */
	uint64_t lost_stacks; /* allocations of profiled regions whose stack was not kept */
	gid_t gid;	      /* the owner's group: result and profile files are (uid, gid)'s */
	bool checked;	      /* owned by a user, not root: credentials re-checked at every exec */
	bool kill_on_exit;    /* PTRACE_O_EXITKILL: the tree dies with the daemon (asked for) */
	char denied[320]; /* why the session was ended by a credential check; "" when it was not */
};

/* What a region's strings cost the daemon, as max_params_bytes counts them: its name, its
 * group and its params as compact JSON. */
uint64_t region_held_bytes(const char *name, const json_t *params, const char *group);

/* NULL + errno. Strings are copied. */
struct session *session__new(uint32_t id, uid_t uid, pid_t root, const char *command);
void session__free(struct session *s); /* NULL-safe; the caller has released probe links */

/* Adds a process; returns it (owned by the session) or NULL + errno. */
struct proc *session__add_proc(struct session *s, pid_t tgid);
/* Removes and frees @p (its links must already be released). */
void session__remove_proc(struct session *s, struct proc *p);
struct proc *session__find_proc(const struct session *s, pid_t tgid);

/* One event of process @p (of @s): kept in the spool of every open region when the session
 * keeps profiles, then accounted (below). The one entry point of the event sources. */
void session__on_event(struct session *s, struct proc *p, const struct bm_event *e);
/* @n events of @p in order, as @n calls of session__on_event; the live table's slots are
 * fetched a few events ahead. */
void session__on_events(struct session *s, struct proc *p, const struct bm_event *ev, size_t n);

/* The event stream, applied to the process's live table and every open region. */
void session__on_alloc(struct session *s, struct proc *p, uint16_t func, uint64_t addr,
		       uint64_t size);
void session__on_free(struct session *s, struct proc *p, uint64_t addr);
void session__on_munmap(struct session *s, struct proc *p, uint64_t addr, uint64_t len);
/* exec replaced the address space: the old blocks are gone without frees. */
void session__on_exec(struct session *s, struct proc *p);

/* Opens region @name. @repeat < 0 picks one more than the last closed repeat of @name.
 * Takes a reference to @params. When @s keeps profiles, the region gets a spool (a region
 * whose spool cannot be made is logged and keeps no profile). Returns the region or NULL with
 * errno: EEXIST (already open), EMFILE (too many open), ERANGE (epoch exhausted), ENOMEM. */
struct region *session__start(struct session *s, const char *name, int64_t repeat, json_t *params,
			      const char *group, uint64_t now_ns, uint64_t lost);

/* The closed region @name: repeat @repeat, or (@repeat < 0) the pass whose peak is the
 * headline (the minimum), the one a regression report is about. NULL when none. */
struct region *session__find_closed(struct session *s, const char *name, int64_t repeat);

/* Finds the open region @name (the most recent one of that name). */
struct region *session__find_open(const struct session *s, const char *name);

/* Closes @r into the closed list; returns the closed copy (valid until the next close) or
 * NULL + ENOMEM/E2BIG (then @r stays open). */
const struct region *session__close(struct session *s, struct region *r, uint64_t now_ns,
				    uint64_t lost, bool aborted);

/* Whether @s's processes must record now: a region is open (in region scope, one the
 * command marked; the whole-run region does not count). */
bool session__recording(const struct session *s);

/* Folds a resident high-water reading into every open region. */
void session__fold_rss(struct session *s, uint64_t rss_bytes);

/* Builds the result document of every closed region, grouped by name (first-seen order),
 * repeats in close order. New reference or NULL + errno. */
json_t *session__results(const struct session *s, const char *version, const char *attach_mode,
			 uint64_t lost_events);

#endif /* BM_SESSION_H */
