/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/hotspots.h — a profiled session's live bytes by allocating function (memray's live
 * view: total / own / count) and by thread, computed only when a watcher asks. */
#ifndef BM_HOTSPOTS_H
#define BM_HOTSPOTS_H

#include <jansson.h>
#include <stdint.h>

#include "session.h"
#include "symbolize.h"

/* Work bounds of one computation; a snapshot says when one was reached. */
#define HOT_MAX_BLOCKS	  2000000 /* live blocks examined */
#define HOT_MAX_STACKS	  4096	  /* distinct stacks resolved to functions */
#define HOT_MAX_PROCS	  16	  /* processes of the session examined */
#define HOT_MAX_FUNCTIONS 50	  /* functions reported */
#define HOT_MAX_THREADS	  32	  /* threads reported */

enum hot_sort {
	HOT_SORT_TOTAL = 0, /* live bytes of blocks with the function anywhere in their stack */
	HOT_SORT_OWN,	    /* live bytes of blocks the function itself allocated */
	HOT_SORT_COUNT,	    /* live blocks with the function anywhere in their stack */
};

struct hot_opts {
	uint32_t thread; /* only blocks this thread allocated; 0: every thread */
	enum hot_sort sort;
};

/* @stack_of(@arg, map, id, ips, max) copies the frames of BPF stack id @id of the session's
 * stack map @map (its stack_slot; probe__stack). */
typedef int hot_stack_fn(void *arg, int map, int32_t id, uint64_t *ips, size_t max);

/* Returns {"sort", "thread", "functions": [{function, module, total_bytes, own_bytes,
 * count}], "functions_truncated", "threads": [{tid, live_bytes, blocks}], "threads_truncated",
 * "blocks_examined", "capped"} for session @s (new reference), or NULL + errno. Reads each
 * process's /proc/PID/maps and the ELF symbol tables (through @sc) of the images its stacks
 * touch. */
json_t *hotspots_build(const struct session *s, hot_stack_fn *stack_of, void *arg,
		       struct symcache *sc, const struct hot_opts *o);

/* "total", "own", "count". */
const char *hot_sort_name(enum hot_sort s);

#endif /* BM_HOTSPOTS_H */
