// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/ringbuf.c — libbpf ring buffer consumer with a size check before every cast. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

#include "ringbuf.h"

struct ringbuf {
	struct ring_buffer *rb;
	ringbuf_fn *fn;
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

struct ringbuf *ringbuf__new(int map_fd, ringbuf_fn *fn, void *arg)
{
	struct ringbuf *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fn = fn;
	r->arg = arg;
	r->rb = ring_buffer__new(map_fd, on_record, r, NULL);
	if (!r->rb) {
		int err = errno;

		free(r);
		errno = err;
		return NULL;
	}
	return r;
}

void ringbuf__free(struct ringbuf *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	free(r);
}

int ringbuf__epoll_fd(const struct ringbuf *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int ringbuf__drain(struct ringbuf *r)
{
	return ring_buffer__consume(r->rb);
}

uint64_t ringbuf__malformed(const struct ringbuf *r)
{
	return r->malformed;
}
