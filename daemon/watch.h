/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/watch.h — the `watch` op's subscriptions: each watching client gets one snapshot
 * line per interval, and never more than one unsent: a client that stops reading gets no
 * new snapshots and is disconnected after WATCH_DROP_SKIPS skipped ones, so the loop never
 * waits for it and the daemon's memory does not grow with it. */
#ifndef BM_WATCH_H
#define BM_WATCH_H

#include <stdint.h>
#include <sys/types.h>

#include "hotspots.h"
#include "loop.h"
#include "session.h"

#define WATCH_DROP_SKIPS 8	    /* skipped snapshots in a row before a drop */
#define WATCH_SNDBUF	 (32 << 10) /* the kernel's send buffer of a watcher */

struct watch;
struct server;
struct client;

/* What the watch reads from its collector (the collector fills it in). */
struct watch_source {
	struct session **(*sessions)(void *arg, int *n);
	uint64_t (*lost)(void *arg, const struct session *s);
	uint64_t (*lost_total)(void *arg);
	void (*drain)(void *arg); /* accounts every event produced so far */
	hot_stack_fn *stack_of;
	void *arg;
};

/* NULL + errno. */
struct watch *watch__new(struct loop *l, struct server *srv, const struct watch_source *src);
void watch__free(struct watch *w); /* NULL-safe */

struct watch_params {
	uint32_t interval_ms; /* BM_WATCH_MIN_MS..BM_WATCH_MAX_MS (bm_limits.h) */
	uint32_t focus;	      /* a session @cl may see, or 0 */
	struct hot_opts hot;
};

/* Subscribes @cl (or changes its subscription); its next snapshot goes out at the next tick
 * (WATCH_TICK_MS), or BM_WATCH_MIN_MS after its previous one. 0 or -errno (-ENOMEM). */
int watch__subscribe(struct watch *w, struct client *cl, const struct watch_params *p);

/* Client @client_id has gone: forget its subscription. */
void watch__client_gone(struct watch *w, int client_id);

#endif /* BM_WATCH_H */
