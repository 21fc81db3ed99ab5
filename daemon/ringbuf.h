/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/ringbuf.h — the BPF ring buffer as an event source (source.h): checks each record's
 * size, decodes struct bm_event and hands it on; counts malformed records. Its losses are
 * the BPF side's drop counters (ring buffer or pending map full). */
#ifndef BM_RINGBUF_H
#define BM_RINGBUF_H

#include "probe.h"
#include "source.h"

/* The ring buffer of @p (not owned; it must outlive the source): @fn(@arg, event) runs for
 * each record. NULL + errno. */
struct event_source *ringbuf__new(struct probe *p, source_event_fn *fn, void *arg);

#endif /* BM_RINGBUF_H */
