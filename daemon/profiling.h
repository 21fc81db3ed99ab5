// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/profiling.h — what a profiled session holds in the probe: its own stack map (native
 * stacks, of the uprobes and of the hook's "call" transport) and its Python stack table. */
#ifndef BM_PROFILING_H
#define BM_PROFILING_H

struct probe;
struct session;

/* Gives session @s, when it is profiled, its stack map slot (-1 when none could be made: its
 * allocations then count as lost_stacks) and, unless BENCHMEM_PYFRAMES=0, its Python stacks. */
void profiling_open(struct probe *p, struct session *s);

#endif /* BM_PROFILING_H */
