/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/snapshot.h — one `top` snapshot of the sessions a viewer may see: per session its
 * command, owner, live/peak/total bytes, allocation rate, lost events and open regions, and
 * for the session in focus its live bytes by function and thread. Bounded in size. */
#ifndef BM_SNAPSHOT_H
#define BM_SNAPSHOT_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "hotspots.h"
#include "session.h"

#define SNAP_MAX_SESSIONS 64 /* sessions per snapshot; more: "sessions_truncated" */
#define SNAP_MAX_REGIONS  32 /* open regions per session; more: "regions_truncated" */

/* What a snapshot reads from the collector. */
struct snap_source {
	struct session **sessions;
	int nr_sessions;
	uint64_t (*lost)(void *arg, const struct session *s); /* a session's lost events */
	uint64_t lost_total;				      /* the collector's */
	hot_stack_fn *stack_of;				      /* BPF stack id → frames */
	void *arg;
	struct symcache *sc;
};

/* Per-viewer state: who looks, what is in focus, and the totals of the previous snapshot
 * (the allocation rate is their difference over the time between). */
struct snap_view {
	uid_t uid;	/* 0 sees every session, others only their own (the trust rule) */
	uint32_t focus; /* session whose functions and threads are computed; 0: none */
	struct hot_opts hot;
	uint32_t interval_ms;
	uint64_t seq;	  /* snapshots built */
	uint64_t skipped; /* snapshots not sent because the viewer had not read the last */
	struct {
		uint32_t id;
		uint64_t total_bytes;
		uint64_t ns;
	} prev[SNAP_MAX_SESSIONS];
	int nr_prev;
};

/* True when @uid may see session @s. */
bool snapshot_may_see(uid_t uid, const struct session *s);

/* Builds {"seq", "time_ns", "interval_ms", "skipped", "lost_events", "sessions": [...],
 * "sessions_truncated"} for @v (updating its seq and previous totals) at CLOCK_MONOTONIC
 * @now_ns. New reference or NULL + errno. */
json_t *snapshot_build(const struct snap_source *src, struct snap_view *v, uint64_t now_ns);

#endif /* BM_SNAPSHOT_H */
