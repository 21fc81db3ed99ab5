/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/source.h — the event source interface: where allocation events come from. The BPF
 * ring buffer (ringbuf.c) is one source; an in-process hook library delivering its events by
 * another path is another. The collector knows sources only through these operations, and
 * sessions and regions only see the events, so a new source touches neither.
 *
 * Contract:
 * - A source is made by its own constructor, which takes the sink: one function
 *   on_event(arg, event) called once per event, or its batch form on_events(arg, tgid,
 *   events, n) called once per run of one process's events, synchronously, from inside
 *   consume() or drain() (never from another thread, never after free()). The events are
 *   valid only during the call; the sink copies what it keeps. Records that do not decode to a
 * whole struct bm_event are never delivered: the source counts them in lost_total().
 * - Events of one process are delivered in the order that process produced them. Events of
 *   different sources may interleave in any order.
 * - The collector calls the operations through one function pointer per batch, never per
 *   event: keep the per-event path inside the source.
 * - No operation blocks; everything runs in the collector's loop. */
#ifndef BM_SOURCE_H
#define BM_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "benchmem.h"

typedef void source_event_fn(void *arg, const struct bm_event *e);
/* The same sink, a run at a time: @n events of process @tgid, in that process's order, as
 * @n calls of source_event_fn would deliver them. A source whose events come in batches (the
 * hook's) calls this once per batch: the sink finds the process once and can fetch its
 * table ahead of the events. */
typedef void source_batch_fn(void *arg, uint32_t tgid, const struct bm_event *ev, size_t n);

struct event_source;

struct event_source_ops {
	/* A descriptor the loop watches for readability (then it calls consume()), or -1 when
	 * the source has none (it is then drained by the collector's drain timer only). */
	int (*fd)(const struct event_source *src);
	/* Delivers the events that are waiting now. Returns how many or -errno. */
	int (*consume)(struct event_source *src);
	/* Delivers every event produced so far by processes that are stopped or that have
	 * asked us something (a region start/stop): afterwards the counts include them. */
	void (*drain)(struct event_source *src);
	/* Events of process @tgid this source lost (dropped before delivery) so far. */
	uint64_t (*lost)(struct event_source *src, uint32_t tgid);
	/* Every event this source lost, whatever its process, malformed records included. */
	uint64_t (*lost_total)(struct event_source *src);
	void (*free)(struct event_source *src);
};

/* Implementations embed this as their first member. */
struct event_source {
	const struct event_source_ops *ops;
};

#endif /* BM_SOURCE_H */
