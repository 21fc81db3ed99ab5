/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/hook_source.h — the in-process hook as an event source (docs/hook.md): batches from
 * the hook_batches ring buffer, and the partial batch each process still holds, read from
 * its memory at region boundaries, forks and exits; delivered per process in the order the
 * calls happened (each record's seq), each record exactly once. */
#ifndef BM_HOOK_SOURCE_H
#define BM_HOOK_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "benchmem.h"

struct hook_source;
typedef void hook_event_fn(void *arg, const struct bm_event *e);

/* Consumes the ring buffer map @map_fd; @fn(@arg, event) runs for each event. NULL + errno. */
struct hook_source *hook_source__new(int map_fd, hook_event_fn *fn, void *arg);
void hook_source__free(struct hook_source *h); /* NULL-safe */

int hook_source__epoll_fd(const struct hook_source *h);

/* Delivers the batches in the ring buffer now. Returns how many or -errno. */
int hook_source__consume(struct hook_source *h);

/* Process @tgid's hook said hello: its control block is at @ctl in its memory. */
void hook_source__hello(struct hook_source *h, pid_t tgid, uint64_t ctl);

/* Forked child @child inherits @parent's hook (same address); the parent's events so far are
 * delivered first, so the tree's order holds. */
void hook_source__fork(struct hook_source *h, pid_t parent, pid_t child);

/* Delivers every event @tgid has recorded so far: the ring buffer, then the records still in
 * its memory. Call with the process stopped or at a region boundary. 0 or -errno. */
int hook_source__sync(struct hook_source *h, pid_t tgid);

/* Starts/stops the recording of @tgid's hook (the flag in its control block). 0 or -errno;
 * -ENOENT when @tgid has no hook. */
int hook_source__set_recording(struct hook_source *h, pid_t tgid, bool on);

/* @tgid is gone or exec'd: forget its state (its lost count goes with it). */
void hook_source__forget(struct hook_source *h, pid_t tgid);

/* Whether @tgid runs the hook (it said hello). */
bool hook_source__has(struct hook_source *h, pid_t tgid);

/* Records of @tgid never delivered (holes in its sequence, records the hook gave up on). */
uint64_t hook_source__lost(struct hook_source *h, pid_t tgid);

#endif /* BM_HOOK_SOURCE_H */
