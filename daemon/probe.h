/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/probe.h — owns the BPF skeleton: load, per-process attach of the allocator probes
 * (uprobe_multi links, perf uprobes as fallback), the traced-tgid map, drop counters, stacks. */
#ifndef BM_PROBE_H
#define BM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "allocators.h"
#include "benchmem.h"
#include "pystacks.h"
#include "symbols.h"

struct probe;

struct probe_opts {
	bool system_wide;	/* opt-in: breakpoints in every process mapping the library */
	uint64_t ringbuf_bytes; /* power of two; 0: BM_RINGBUF_BYTES */
	uint32_t stack_entries; /* stacks per session's stack map; 0: BM_MAX_STACKS */
};

/* The links that hold one library's probes in one process. */
#define PROBE_MAX_LINKS (2 * SYMBOLS_MAX_FUNCS)
struct probe_links {
	int fds[PROBE_MAX_LINKS];
	int nr;
};

/* Opens and loads the BPF object. NULL + errno, with a one-line reason in @err saying what
 * to do (no BTF, not root, no uprobe PMU...). */
struct probe *probe__new(const struct probe_opts *o, char *err, size_t errlen);
void probe__free(struct probe *p); /* NULL-safe; detaches everything */

/* The ring buffer map's fd, for ringbuf.c. */
int probe__events_fd(const struct probe *p);

/* Attaches @syms (found in @path by symbols.c) for process @pid: one entry and one return
 * link (uprobe_multi) or one perf uprobe per function and direction. All or nothing.
 * Returns 0 or -errno (reason in @err); @out receives the link fds (caller releases them
 * with probe__release). */
int probe__attach(struct probe *p, pid_t pid, const char *path, const struct alloc_sym *syms,
		  size_t n, struct probe_links *out, char *err, size_t errlen);

/* The ring buffer map of the hook's batches, for hook_source.c. */
int probe__hook_batches_fd(const struct probe *p);

/* Attaches the hook's probe sites in @path (libbenchmem-hook.so) once, for every process
 * that maps it: those are the processes we launched with it preloaded. 0 or -errno (@err). */
int probe__attach_hook(struct probe *p, const char *path, struct probe_links *out, char *err,
		       size_t errlen);

/* Hands the links to a closer thread: closing a uprobe costs 80-150 ms of RCU sync
 * (design.md), which must not stall the loop. */
void probe__release(struct probe *p, struct probe_links *l);

/* Adds/removes @tgid in the traced map (the BPF-side second guard); with @stack_slot >= 0
 * its allocation events carry a user stack id in that slot's stack map. 0 or -errno. */
int probe__track(struct probe *p, uint32_t tgid, int stack_slot);

/* A stack store of its own for one profiled session (stack_entries stacks, 592 bytes of
 * kernel memory each: the frames array and the claims hash): its slot, or -errno (-EMFILE:
 * every slot is taken). */
int probe__stacks_open(struct probe *p);
/* Frees slot @slot's map (NULL-safe for -1); a profile writer that has forked keeps its copy. */
void probe__stacks_close(struct probe *p, int slot);
void probe__untrack(struct probe *p, uint32_t tgid);

/* Events lost so far for process @tgid (ring buffer or pending map full). */
uint64_t probe__lost_of(struct probe *p, uint32_t tgid);

/* Forgets thread @tid's unfinished allocator call, if it died inside one. */
void probe__forget_thread(struct probe *p, uint32_t tid);

/* Sums the per-CPU drop counters into @out[BM_CNT_MAX]. 0 or -errno. */
int probe__counters(struct probe *p, uint64_t *out);

/* Copies the user stack @stack_id of slot @slot's map into @ips (innermost first); returns
 * frames or -errno. */
int probe__stack(struct probe *p, int slot, int32_t stack_id, uint64_t *ips, size_t max);

/* The BPF side of daemon/pystacks.c: probe__pyconf() and probe__pystack() on @p. */
struct pystacks_ops probe__pystacks_ops(struct probe *p);

/* Puts @c in the Python frame walker's config for @tgid; NULL removes it. 0 or -errno. */
int probe__pyconf(struct probe *p, uint32_t tgid, const struct bm_pyconf *c);

/* Copies the Python stack @key (bm_event.py_stack) into @out. 0 or -errno (-ENOENT). */
int probe__pystack(struct probe *p, uint64_t key, struct bm_pystack *out);

/* "uprobe_multi" or "perf" — how links are made; for results and logs. */
const char *probe__mode(const struct probe *p);

#endif /* BM_PROBE_H */
