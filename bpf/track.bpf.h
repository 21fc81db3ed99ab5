/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpf/track.bpf.h — inline helpers of the allocator probes: filter, stash, take, emit, count. */
#ifndef BM_TRACK_BPF_H
#define BM_TRACK_BPF_H

#define BM_MAP_ANONYMOUS 0x20
#define BM_MAP_FAILED	 ((__u64)-1)

/* Set through skel->rodata before load: false only in system-wide mode without a filter. */
const volatile bool check_traced = true;

/* Set through skel->rodata before load from lib/allocators.h: the argument spec of each row,
 * indexed by the row id in the attach cookie. */
const volatile struct bm_argspec argspecs[BM_ROWS_MAX];

static __always_inline void count(__u32 idx, __u32 tgid)
{
	__u64 *c = bpf_map_lookup_elem(&drops, &idx), one = 1;

	if (c)
		(*c)++;
	c = bpf_map_lookup_elem(&lost, &tgid);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&lost, &tgid, &one, BPF_NOEXIST);
}

/* Returns the process's BM_TRACE_* flags, 0 when it is not traced. */
static __always_inline __u32 traced_flags(__u32 tgid)
{
	__u32 *f;

	if (!check_traced)
		return BM_TRACE_ON;
	f = bpf_map_lookup_elem(&traced, &tgid);
	return f ? *f : 0;
}

/* Set through skel->rodata before load: the size of each session's stack store. */
const volatile __u32 stack_entries = BM_MAX_STACKS;

#define BM_STACK_PROBES 32 /* indexes tried, from the hash's own, before a stack is lost */

/* The user stack of this call in the stack store of @slot: its id (>= 0), or <0 when it is
 * not kept (-ENOMEM: BM_STACK_PROBES indexes from its hash's own all hold other stacks, the
 * store is full or nearly; -ENOENT: no store, or no frame), which the daemon counts as a
 * lost stack. */
static __always_inline __s32 native_stack(void *ctx, __u32 slot)
{
	void *frames = bpf_map_lookup_elem(&stack_maps, &slot),
	     *claims = bpf_map_lookup_elem(&stack_claim_maps, &slot);
	__u32 zero = 0, id;
	struct bm_native_stack *s = bpf_map_lookup_elem(&stackscratch, &zero), *v;
	__u64 h = 0xcbf29ce484222325ull, step, *owner;
	long n;

	if (!frames || !claims || !s || !stack_entries)
		return -2 /* ENOENT */;
	__builtin_memset(s, 0, sizeof(*s));
	n = bpf_get_stack(ctx, s->ips, sizeof(s->ips), BPF_F_USER_STACK);
	if (n <= 0)
		return -2;
	for (int i = 0; i < BM_STACK_DEPTH; i++)
		h = bm_py_mix(h, s->ips[i]);
	/* double hashing: a second hash picks the stride, so keys that meet at one index part
	 * again (linear probing's clusters at half load outgrew 32 probes: 1 stack in 8,192
	 * lost now and then) */
	step = stack_entries > 1 ? 1 + (h >> 32) % (stack_entries - 1) : 1;
	for (int k = 0; k < BM_STACK_PROBES; k++) {
		id = (__u32)((h + (__u64)k * step) % stack_entries);
		owner = bpf_map_lookup_elem(claims, &id);
		if (owner) {
			if (*owner == h)
				return (__s32)id;
			continue;
		}
		/* the claim is the atomic step: of two CPUs only one inserts */
		if (!bpf_map_update_elem(claims, &id, &h, BPF_NOEXIST)) {
			v = bpf_map_lookup_elem(frames, &id);
			if (!v)
				return -12 /* ENOMEM */;
			__builtin_memcpy(v, s, sizeof(*s));
			return (__s32)id;
		}
		owner = bpf_map_lookup_elem(claims, &id);
		if (owner && *owner == h) /* another CPU claimed it for this very stack */
			return (__s32)id;
	}
	return -12 /* ENOMEM */;
}

static __always_inline int emit(void *ctx, __u64 id, __u16 kind, __u16 func, __u64 addr, __u64 size)
{
	__u32 flags = traced_flags(id >> 32);
	struct bm_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(BM_CNT_RINGBUF_FULL, id >> 32);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->addr = addr;
	e->size = size;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->stack_id = -1;
	e->py_stack = 0;
	if ((flags & BM_TRACE_STACKS) && kind == BM_EV_ALLOC) {
		e->stack_id = native_stack(ctx, flags >> BM_TRACE_SLOT_SHIFT);
		e->py_stack = py_capture(id >> 32, (__u32)id);
	}
	e->kind = kind;
	e->func = func;
	/* A wake-up per event costs the traced thread an IPI and the daemon a context switch:
	 * wake it only once a batch waits; its timer drains the rest, and every region
	 * start/stop drains first. */
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= BM_WAKEUP_BYTES
				      ? BPF_RB_FORCE_WAKEUP
				      : BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * A call made from inside the object that holds the probed function (glibc mapping a
 * thread stack or a large malloc chunk) is the allocator's own business: it is either
 * counted already as the malloc it serves, or not an allocation the program asked for.
 * Only valid at the function's first instruction, where [sp] is the return address.
 */
static __always_inline bool called_from_inside(struct pt_regs *ctx, __u64 cookie)
{
	__u64 seg_start = PT_REGS_IP(ctx) - BM_COOKIE_FN_OFF(cookie);
	__u64 ret = 0;

	if (!BM_COOKIE_SEG_LEN(cookie))
		return false;
	bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx));
	return ret >= seg_start && ret < seg_start + BM_COOKIE_SEG_LEN(cookie);
}

/* The outermost allocator call of a thread owns the pending slot: nested calls (realloc(NULL)
 * calling malloc, malloc calling mmap) neither replace it nor consume it. */
static __always_inline int stash(__u64 id, __u32 func, __u64 size, __u64 aux)
{
	struct bm_pending p = { .size = size, .aux = aux, .func = func };
	__u32 tid = (__u32)id;
	long err = bpf_map_update_elem(&pending, &tid, &p, BPF_NOEXIST);

	if (err && err != -17 /* EEXIST: a nested call */)
		count(BM_CNT_PENDING_FULL, id >> 32);
	return 0;
}

/* The first four integer arguments, read once: the verifier refuses a ctx offset computed
 * from the argument number, so the spec picks among values, not registers. */
struct args {
	__u64 a1, a2, a3, a4;
};

/* The n-th (1-based) argument; 0 for none. */
static __always_inline __u64 arg(const struct args *a, __u8 n)
{
	switch (n) {
	case 1:
		return a->a1;
	case 2:
		return a->a2;
	case 3:
		return a->a3;
	case 4:
		return a->a4;
	default:
		return 0;
	}
}

/* The row's argument spec: one array slot, whatever the number of rows. */
static __always_inline const volatile struct bm_argspec *spec_of(__u32 row)
{
	return &argspecs[row & (BM_ROWS_MAX - 1)];
}

static __always_inline int on_entry(struct pt_regs *ctx, __u64 cookie)
{
	__u64 id = bpf_get_current_pid_tgid(), size, aux;
	__u32 func = BM_COOKIE_FUNC(cookie);
	const volatile struct bm_argspec *sp = spec_of(func);
	struct args a = { PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
			  PT_REGS_PARM4(ctx) };
	__u8 flags = sp->flags;

	if (!traced_flags(id >> 32))
		return 0;
	/* free: before the real free, so no thread can get the block back first */
	if (flags & BM_AS_EMIT_FREE) {
		aux = arg(&a, sp->addr);
		return aux ? emit(ctx, id, BM_EV_FREE, func, aux, 0) : 0;
	}
	if ((flags & BM_AS_INSIDE) && called_from_inside(ctx, cookie))
		return 0;
	if (flags & BM_AS_EMIT_MUNMAP)
		return emit(ctx, id, BM_EV_MUNMAP, func, arg(&a, sp->addr), arg(&a, sp->size));
	if ((flags & BM_AS_ANON_ONLY) && !(a.a4 & BM_MAP_ANONYMOUS))
		return 0;
	size = arg(&a, sp->size);
	if (sp->nmemb)
		size *= arg(&a, sp->nmemb);
	aux = arg(&a, sp->out ? sp->out : sp->addr);
	return stash(id, func, size, aux);
}

static __always_inline int on_return(struct pt_regs *ctx, __u64 cookie)
{
	__u64 id = bpf_get_current_pid_tgid(), ret = PT_REGS_RC(ctx), addr = ret;
	__u32 func = BM_COOKIE_FUNC(cookie), tid = (__u32)id;
	const volatile struct bm_argspec *sp = spec_of(func);
	struct bm_pending *p = bpf_map_lookup_elem(&pending, &tid);
	struct bm_pending c;
	__u8 flags;

	if (!p || p->func != func) /* untraced, or the return of a nested call */
		return 0;
	c = *p;
	bpf_map_delete_elem(&pending, &tid);
	flags = sp->flags;
	if (flags & BM_AS_STATUS) { /* posix_memalign: 0, and the block is in *aux */
		if ((int)ret != 0 || bpf_probe_read_user(&addr, sizeof(addr), (void *)c.aux))
			return 0;
	}
	if (!addr || ((flags & BM_AS_FAIL_NEG1) && addr == BM_MAP_FAILED))
		return 0;
	/* realloc is a free of the old block and an allocation of the new one (memray's rule). */
	if (sp->addr && c.aux)
		emit(ctx, id, BM_EV_FREE, func, c.aux, 0);
	return emit(ctx, id, BM_EV_ALLOC, func, addr, c.size);
}

#endif /* BM_TRACK_BPF_H */
