/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpf/maps.bpf.h — BPF map definitions: ring buffer, traced tgids, pending calls, counters, stacks.
 */
#ifndef BM_MAPS_BPF_H
#define BM_MAPS_BPF_H

struct bm_pending {
	__u64 size; /* requested bytes */
	__u64 aux; /* the `out` argument (posix_memalign's memptr), else the `addr` one (realloc) */
	__u32 func; /* row id (cookie) of the call that stashed it */
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BM_RINGBUF_BYTES);
} events SEC(".maps");

/* Second guard behind per-process attach; the only guard in system-wide mode. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BM_MAX_TRACED);
	__type(key, __u32);   /* tgid */
	__type(value, __u32); /* BM_TRACE_* flags */
} traced SEC(".maps");

/* A plain hash: measured 2026-11-22 a malloc+free pair costs ~0.3 us less than with an LRU
 * hash. A thread that dies inside malloc would leave its entry: the daemon deletes the entry
 * of every thread it sees exit (ptrace reports each one). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BM_MAX_PENDING);
	__type(key, __u32); /* tid */
	__type(value, struct bm_pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BM_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Events lost per traced process, so a daemon with several sessions charges each its own. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BM_MAX_TRACED);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* events lost */
} lost SEC(".maps");

/* Batches of the in-process hook (struct bm_hook_batch), apart from the uprobes' events so
 * each has one record size and its own consumer (daemon/hook_source.c). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BM_RINGBUF_BYTES);
} hook_batches SEC(".maps");

/* One stack store per profiled session, in the slot its `traced` flags name: a session that
 * makes more distinct stacks than its store holds loses its own (counted by the daemon as
 * lost_stacks), never another's, and its store goes with it. The daemon creates the inner
 * maps (stack_map_entries each) and sets these templates' sizes to match before load.
 * Not a STACK_TRACE map: that one has as many buckets as entries and refuses a stack whose
 * bucket is taken (measured: 496 of 4,096 distinct stacks lost in a 16,384-entry map). Here a
 * stack's id is an index into the frames, found by double hashing from a hash of its frames
 * (track.bpf.h): `stack_claims` says which hash owns an index; a BPF_NOEXIST insert claims one
 * atomically, so two CPUs never share an id. Ids stay dense: the daemon indexes by them. */
struct stack_claims {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BM_MAX_STACKS);
	__type(key, __u32);   /* the index: the stack's id */
	__type(value, __u64); /* the hash of the frames that own it */
};

struct bm_native_stack {
	__u64 ips[BM_STACK_DEPTH]; /* innermost first; zeros past the last frame */
};

struct stack_frames {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BM_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct bm_native_stack));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, BM_STACK_SLOTS);
	__type(key, __u32);
	__array(values, struct stack_frames);
} stack_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, BM_STACK_SLOTS);
	__type(key, __u32);
	__array(values, struct stack_claims);
} stack_claim_maps SEC(".maps");

/* Where a stack is taken and hashed before it goes into the session's store. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bm_native_stack);
} stackscratch SEC(".maps");

#endif /* BM_MAPS_BPF_H */
