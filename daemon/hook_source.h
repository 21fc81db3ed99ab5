/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/hook_source.h — the in-process hook as an event source (docs/hook.md): batches from
 * the hook_batches ring buffer, and the partial batch each process still holds, read from
 * its memory at region boundaries, forks and exits; delivered per process in the order the
 * calls happened (each record's seq), each record exactly once. An event source (source.h):
 * its losses are the holes in a process's sequence; a batch the ring buffer had no room for
 * is counted by the BPF side, with the uprobes' losses. */
#ifndef BM_HOOK_SOURCE_H
#define BM_HOOK_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "probe.h"
#include "source.h"

struct hook_source;

/* The hook_batches ring buffer of @p (not owned; it must outlive the source): @fn(@arg,
 * tgid, events, n) runs for each run of a process's events (a batch, or what a sync read
 * from its memory). NULL + errno. The collector adds hook_source__src() to its
 * sources (which then own it) and keeps the pointer for the calls below. */
struct hook_source *hook_source__new(struct probe *p, source_batch_fn *fn, void *arg);
struct event_source *hook_source__src(struct hook_source *h);

/* @fn(@arg, tgid, ppid) runs for the hello of a process, before its events: the tracer
 * learns there of a child that ptrace did not report (forked by a thread it does not
 * follow). */
typedef void hook_hello_fn(void *arg, pid_t tgid, pid_t ppid);
/* @exec_fn(@arg, tgid, tid) runs when thread @tid, not @tgid's main one, is about to exec and
 * waits until it is followed: ptrace reports an exec to the exec'ing thread's tracer only. */
typedef void hook_exec_fn(void *arg, pid_t tgid, pid_t tid);
/* @admit_fn(@arg, tgid, ppid) decides, once @tgid's memory is open (at its hello, or its fork
 * from @ppid), whether its image may be read and written: 0, or -errno and the source forgets
 * the process without a write. The memory is only ever reached through that fd (procmem.h),
 * so an image it execs later is never reached. */
typedef int hook_admit_fn(void *arg, pid_t tgid, pid_t ppid);
void hook_source__on_hello(struct hook_source *h, hook_hello_fn *fn, hook_exec_fn *exec_fn,
			   hook_admit_fn *admit_fn, void *arg);

/* Forked child @child inherits @parent's hook (same address); the parent's events so far are
 * delivered first, so the tree's order holds. */
void hook_source__fork(struct hook_source *h, pid_t parent, pid_t child);

/* Delivers every event @tgid has recorded so far: the ring buffer, then the records still in
 * its memory. The source's drain() does this for every process that said hello. 0 or
 * -errno. */
int hook_source__sync(struct hook_source *h, pid_t tgid);

/* Starts/stops the recording of @tgid's hook (the flag in its control block). 0 or -errno;
 * -ENOENT when @tgid has no hook. */
int hook_source__set_recording(struct hook_source *h, pid_t tgid, bool on);

/* @tgid is gone or exec'd: forget its state (its lost count goes with it). */
void hook_source__forget(struct hook_source *h, pid_t tgid);

#endif /* BM_HOOK_SOURCE_H */
