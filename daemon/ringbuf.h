/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/ringbuf.h — the BPF ring buffer in the loop: checks each record's size, decodes
 * struct bm_event and hands it on; counts malformed records. */
#ifndef BM_RINGBUF_H
#define BM_RINGBUF_H

#include <stdint.h>

#include "benchmem.h"

struct ringbuf;
typedef void ringbuf_fn(void *arg, const struct bm_event *e);

/* Wraps the ring buffer map @map_fd; @fn(@arg, event) runs for each record. NULL + errno. */
struct ringbuf *ringbuf__new(int map_fd, ringbuf_fn *fn, void *arg);
void ringbuf__free(struct ringbuf *r); /* NULL-safe */

/* The fd to watch with epoll (readable when records wait). */
int ringbuf__epoll_fd(const struct ringbuf *r);

/* Consumes every record available now. Returns the number consumed or -errno. Called from
 * the loop, and before any region start/stop so that the numbers include every event the
 * caller produced before asking. */
int ringbuf__drain(struct ringbuf *r);

/* Records whose size was not sizeof(struct bm_event). */
uint64_t ringbuf__malformed(const struct ringbuf *r);

#endif /* BM_RINGBUF_H */
