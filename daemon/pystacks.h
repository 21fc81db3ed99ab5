/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/pystacks.h — a profiled session's Python stacks: which CPython each process runs (the
 * BPF walker is told through @ops), and the stacks the walker captured, named by reading the
 * target's code objects while it lives. */
#ifndef BM_PYSTACKS_H
#define BM_PYSTACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "benchmem.h"
#include "memray/pyframes.h"
#include "pylines.h"
#include "pyoffsets.h"

/* What pystacks asks of the BPF side (daemon/probe.c in the collector, fakes in tests). */
struct pystacks_ops {
	/* Puts @c in the walker's config for @tgid (NULL removes it). 0 or -errno. */
	int (*configure)(void *arg, pid_t tgid, const struct bm_pyconf *c);
	/* Copies the captured stack @key into @out. 0 or -errno (-ENOENT: evicted). */
	int (*lookup)(void *arg, uint64_t key, struct bm_pystack *out);
	void *arg;
};

/* A named Python stack, outermost frame first. */
struct pystack {
	struct memray_pyframe *f;
	uint32_t n;
	bool truncated; /* the walker kept only the innermost BM_PY_DEPTH frames */
};

struct pystacks;

/* NULL + errno (ENOMEM). @ops is copied. */
struct pystacks *pystacks__new(const struct pystacks_ops *ops);
void pystacks__free(struct pystacks *ps); /* NULL-safe; does not call ops */

/* For every event of a profiled session, in ring-buffer order. The first event of a process
 * finds out which CPython it runs and configures the walker; an allocation that carries a
 * Python stack key gets the stack named. Returns the stack's index for pystacks__get(), 0
 * when the event has none (or it could not be named: the code object was gone or its
 * address reused since the capture, or the session's names, line tables and stacks reached
 * their 64 MiB budget — then the event keeps its native frames only, counted in the note). */
uint32_t pystacks__on_event(struct pystacks *ps, const struct bm_event *e);

/* Opens @tgid's memory for naming its frames (procmem.h): call it where the process is stopped
 * and its image checked (its exec or fork stop, an attach once seized and re-checked), so that
 * no later image is ever read. A process not bound is not read: native frames only. NULL-safe;
 * 0 or -errno. */
int pystacks__bind(struct pystacks *ps, pid_t tgid);

/* Takes @tgid to run the CPython of @lay, without detection (and without configuring the
 * walker): for a caller that knows the layout already, such as a test of the naming against
 * objects laid out in its own memory. 0 or -ENOMEM. */
int pystacks__assume(struct pystacks *ps, pid_t tgid, const struct py_layout *lay);

/* Process @tgid exec'd or exited: its layout and code objects are forgotten (the walker's
 * config removed), and its next event detects again. */
void pystacks__forget(struct pystacks *ps, pid_t tgid);

/* Stack @idx (1-based, from on_event); NULL for 0 or out of range. */
const struct pystack *pystacks__get(const struct pystacks *ps, uint32_t idx);

/* PY_VERSION_HEX of the first CPython whose frames were captured; 0: none. */
uint32_t pystacks__version(const struct pystacks *ps);

/* One line for the result's benchmem_meta: "CPython 3.11.2: Python frames captured" (and how
 * many allocations kept native frames only), or why a process got native frames only; NULL
 * when no process ran CPython. Valid until the next call. */
const char *pystacks__note(struct pystacks *ps);

/* Counters: stacks named, allocation events whose stack could not be named. */
uint64_t pystacks__nr_stacks(const struct pystacks *ps);
uint64_t pystacks__nr_unnamed(const struct pystacks *ps);

#endif /* BM_PYSTACKS_H */
