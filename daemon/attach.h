/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/attach.h — attach policy: which images of a process get the allocator probes (its
 * executable, the libraries it needs, LD_PRELOAD'd allocators, or every executable mapping of
 * a running process), where in each function the probe goes, and the links that hold them.
 * The link sets are this module's: one per traced process, or one for everything in
 * attach_mode system (the BPF side's traced map then does all the filtering). */
#ifndef BM_ATTACH_H
#define BM_ATTACH_H

#include <stdbool.h>
#include <sys/types.h>

#include "probe.h"

#define ATTACH_MAX_LIBS 8 /* probed libraries per process */

struct attach;

/* Attaches through @p (not owned). With @system_wide, one set of links serves every process.
 * NULL + errno. */
struct attach *attach__new(struct probe *p, bool system_wide);
void attach__free(struct attach *a); /* NULL-safe; releases every link set */

/* Adds @tgid to the traced map (its allocation events then carry a stack id of stack map
 * @stack_slot, see probe__stacks_open; -1: no stacks). Logs and goes on when the map is full:
 * the probes are still placed. */
void attach__track(struct attach *a, pid_t tgid, int stack_slot);

/* A new image in @tgid (exec, or a fork running its parent's image): its executable, the
 * libraries it needs and those LD_PRELOAD names, each probed if it defines malloc. Sets
 * *@python when the executable is a CPython interpreter. 0, or -ENOENT when nothing of the
 * process is probed, or -errno. */
int attach__image(struct attach *a, pid_t tgid, bool *python);

/* After an exec of @tgid in a session launched with the hook: true when the new image
 * preloads it (dynamically linked, not set-uid, LD_PRELOAD kept) and its probe sites are
 * attached (one link for all processes); @tgid's uprobes, if any, are released. False: trace
 * it with attach__image(). Sets *@python as attach__image() does. */
bool attach__hook(struct attach *a, pid_t tgid, bool *python);

/* A running process: every executable file it maps. 0, -ENOENT (nothing probed) or -errno. */
int attach__maps(struct attach *a, pid_t tgid);

/* @tgid's allocator uprobes go (to the closer thread); it stays in the traced map, so its
 * forks and execs are still known. Region scope (docs/hook.md) suspends them while no region
 * is open; a thread's exec suspends them too: they are bound to the task that was the main
 * thread, which is gone, and match nothing any more. */
void attach__suspend(struct attach *a, pid_t tgid);
/* Before a region's first event: forgets what its threads' calls left pending when the
 * probes went (a return probe that never ran), then probes it again: its image, or with
 * @maps every executable mapping (an attached process). 0 or -errno as those do. */
int attach__resume(struct attach *a, pid_t tgid, bool maps, bool *python);

/* @tgid is gone or detached: its links go to the closer thread and it leaves the traced map.
 * Read what the event sources lost for it first: leaving the map forgets that count. */
void attach__release(struct attach *a, pid_t tgid);

#endif /* BM_ATTACH_H */
