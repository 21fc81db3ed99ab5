/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/tracer.h — which processes are traced: ptrace following (targets.c) and the probes of
 * each (attach.c) as the traced trees fork, exec and exit; their entries in the session table
 * and, when they go, the events the sources lost for them. What a root's end means for its
 * session is the caller's: it hears of it through tracer_ops. */
#ifndef BM_TRACER_H
#define BM_TRACER_H

#include <stdbool.h>
#include <sys/types.h>

#include "creds.h"
#include "loop.h"
#include "probe.h"
#include "sessions.h"
#include "sources.h"

struct tracer;

struct tracer_ops {
	/* The root of @s is about to exit: its memory (maps, VmHWM) is still readable. */
	void (*root_exiting)(void *arg, struct session *s);
	/* The root of @s exited with wait status @status; its process entry goes next. */
	void (*root_exit)(void *arg, struct session *s, int status);
	/* A process of @s is gone (and out of @s): @s may have none left. */
	void (*proc_gone)(void *arg, struct session *s);
	/* A process of @s exec'd an image its owner may not trace (@why): end @s (detach every
	 * process of it). Called from the exec stop, before the new image runs. */
	void (*denied)(void *arg, struct session *s, const char *why);
	/* A child of ours that is no traced process ended (a profile writer). */
	void (*child_exit)(void *arg, pid_t pid, int status);
};

/* Traces through @p with the processes in @t, their losses counted by @src (all the
 * caller's, alive until tracer__free); with @system_wide, one set of links for everything.
 * Adds the hook's source to @src (after the ring buffer's): processes of sessions launched
 * with the hook are traced through it when their image preloads it (docs/hook.md).
 * NULL + errno. */
struct tracer *tracer__new(struct probe *p, bool system_wide, struct sessions *t,
			   struct sources *src, struct loop *l, const struct tracer_ops *ops,
			   void *arg);
/* NULL-safe: stops following every tree, then releases every link. */
void tracer__free(struct tracer *tr);

/* Starts tracing @pid as the root of new session @s: seizes it, re-checks through @g (unless
 * NULL: the embedded collector's own child) that it is the process that was checked and still
 * allowed, and, unless @launched (it is stopped before its execve, probed at its exec),
 * probes what it maps. 0 or -errno with the reason in @why (-ENOENT: it maps no allocator we
 * can probe; -EPERM: not allowed; -ESRCH: gone or another process). On error the process is
 * detached again (it runs on untraced) and the caller drops @s. */
int tracer__trace(struct tracer *tr, struct session *s, pid_t pid, bool launched,
		  const struct creds_grant *g, char *why, size_t len);

/* Releases the probes of every process of @s, keeping what they lost in @s; with @remove,
 * ptrace lets go of them and they leave @s (a detach: the session stays, traced no more). */
void tracer__release(struct tracer *tr, struct session *s, bool remove);

/* Outside regions the hook records nothing (a timed benchmark round runs at native speed):
 * the hook processes of @s record while @s has an open region (session__recording()). In
 * region scope its uprobe processes lose their probes too, once no region has been open for
 * a moment (a timer of @l), and get them back before the next region's first event. */
void tracer__recording(struct tracer *tr, struct session *s);

/* Drains pending wait statuses (a root that exited before the loop ran). */
void tracer__reap(struct tracer *tr);

#endif /* BM_TRACER_H */
