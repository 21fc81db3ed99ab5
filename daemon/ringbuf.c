// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/ringbuf.c — libbpf ring buffer consumer with a size check before every cast. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

#include "ringbuf.h"

struct ringbuf {
	struct event_source src; /* first: the collector holds &src */
	struct ring_buffer *rb;
	struct probe *probe;
	source_event_fn *fn;
	void *arg;
	uint64_t malformed;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct ringbuf *r = ctx;

	if (size != sizeof(struct bm_event)) {
		r->malformed++;
		return 0;
	}
	r->fn(r->arg, data);
	return 0;
}

static int rb_fd(const struct event_source *src)
{
	const struct ringbuf *r = (const struct ringbuf *)src;

	return ring_buffer__epoll_fd(r->rb);
}

static int rb_consume(struct event_source *src)
{
	return ring_buffer__consume(((struct ringbuf *)src)->rb);
}

/* Every record committed so far is in the buffer: consuming it is draining it. */
static void rb_drain(struct event_source *src)
{
	ring_buffer__consume(((struct ringbuf *)src)->rb);
}

static uint64_t rb_lost(struct event_source *src, uint32_t tgid)
{
	return probe__lost_of(((struct ringbuf *)src)->probe, tgid);
}

static uint64_t rb_lost_total(struct event_source *src)
{
	struct ringbuf *r = (struct ringbuf *)src;
	uint64_t cnt[BM_CNT_MAX] = { 0 };

	probe__counters(r->probe, cnt);
	return cnt[BM_CNT_RINGBUF_FULL] + cnt[BM_CNT_PENDING_FULL] + r->malformed;
}

static void rb_free(struct event_source *src)
{
	struct ringbuf *r = (struct ringbuf *)src;

	if (!r)
		return;
	ring_buffer__free(r->rb);
	free(r);
}

static const struct event_source_ops ringbuf_ops = {
	.fd = rb_fd,
	.consume = rb_consume,
	.drain = rb_drain,
	.lost = rb_lost,
	.lost_total = rb_lost_total,
	.free = rb_free,
};

struct event_source *ringbuf__new(struct probe *p, source_event_fn *fn, void *arg)
{
	struct ringbuf *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->src.ops = &ringbuf_ops;
	r->probe = p;
	r->fn = fn;
	r->arg = arg;
	r->rb = ring_buffer__new(probe__events_fd(p), on_record, r, NULL);
	if (!r->rb) {
		int err = errno;

		free(r);
		errno = err;
		return NULL;
	}
	return &r->src;
}
