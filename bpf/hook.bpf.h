/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpf/hook.bpf.h — the programs behind the in-process hook's probe sites (docs/hook.md):
 * the hook calls the site with its arguments in registers; the wrapper already knows the
 * result, so there is no return probe and no pending map. */
#ifndef BM_HOOK_BPF_H
#define BM_HOOK_BPF_H

/* Events lost by @tgid: @n of them. */
static __always_inline void count_lost(__u32 tgid, __u64 n)
{
	__u32 idx = BM_CNT_RINGBUF_FULL;
	__u64 *c = bpf_map_lookup_elem(&drops, &idx);

	if (c)
		*c += n;
	c = bpf_map_lookup_elem(&lost, &tgid);
	if (c)
		__sync_fetch_and_add(c, n);
	else
		bpf_map_update_elem(&lost, &tgid, &n, BPF_NOEXIST);
}

/* A control event of @id's process (@kind, @addr, @size) for the hook's source, which acts
 * on it at once: the caller may be waiting for that (a child to be seized, a thread to be
 * followed before it execs). */
static __always_inline int hook_tell(__u64 id, __u16 kind, __u64 addr, __u64 size)
{
	struct bm_event *e = bpf_ringbuf_reserve(&hook_batches, sizeof(*e), 0);

	if (!e) {
		count_lost(id >> 32, 1);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->addr = addr;
	e->size = size;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->kind = kind;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* The hook's hello (addr: its control block; its parent from the task) goes with its batches, to
 * the hook's source. A process forked by a thread that ptrace does not follow (a hook process's
 * threads are not followed) is not traced yet: it is when its parent is, with its flags. */
static __always_inline int hook_hello(__u64 id, __u64 addr)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	/* the parent is the kernel's word, never the caller's: any process can call the site,
	 * and one naming a traced process as its parent must not join that process's session */
	__u32 tgid = id >> 32, ppid = BPF_CORE_READ(task, real_parent, tgid), *pf;

	if (!traced_flags(tgid)) {
		pf = bpf_map_lookup_elem(&traced, &ppid);
		if (!pf || bpf_map_update_elem(&traced, &tgid, pf, BPF_NOEXIST))
			return 0;
	}
	return hook_tell(id, BM_EV_HOOK_HELLO, addr, ppid);
}

/* A thread of a traced hook process is about to exec (the hook's exec wrappers): the tracer
 * follows it first, since ptrace reports an exec only to the tracer of the thread that execs
 * and a hook process's threads are not followed (docs/hook.md). The thread waits for that. */
static __always_inline int hook_exec(__u64 id)
{
	return traced_flags(id >> 32) ? hook_tell(id, BM_EV_HOOK_EXEC, 0, 0) : 0;
}

/* Transport "call": one event per allocator call, into the uprobes' ring buffer as the same
 * struct bm_event (with a stack when the session keeps profiles). */
static __always_inline int hook_event(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), kf = PT_REGS_PARM1(ctx);

	if ((__u16)kf == BM_EV_HOOK_HELLO)
		return hook_hello(id, PT_REGS_PARM2(ctx));
	if ((__u16)kf == BM_EV_HOOK_EXEC)
		return hook_exec(id);
	if (!traced_flags(id >> 32))
		return 0;
	return emit(ctx, id, (__u16)kf, (__u16)(kf >> 16), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx));
}

/* Transport "batch": copies a batch of records from the process's ring into the ring
 * buffer. The hook keeps at most BM_HOOK_WINDOW batches unconsumed (the daemon says how many
 * it took), so a busy program waits for the daemon rather than losing events; a ring buffer
 * full anyway (many such processes at once) counts them lost. */
static __always_inline int hook_batch(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), seq = PT_REGS_PARM2(ctx), nr = PT_REGS_PARM3(ctx);
	struct bm_hook_batch *b;
	__u64 avail;

	if (!traced_flags(id >> 32) || nr > BM_HOOK_CHUNK)
		return 0;
	b = bpf_ringbuf_reserve(&hook_batches, sizeof(*b), 0);
	if (!b) {
		count_lost(id >> 32, nr);
		return 0;
	}
	/* only the valid records: a page past them may never have been touched */
	if (bpf_probe_read_user(b->recs, nr * sizeof(b->recs[0]), (void *)PT_REGS_PARM1(ctx))) {
		bpf_ringbuf_discard(b, 0);
		count_lost(id >> 32, nr);
		return 0;
	}
	b->first_seq = seq;
	b->tgid = id >> 32;
	b->nr = (__u32)nr;
	/* Wake the daemon when the backlog (this batch included) reaches BM_HOOK_WAKEUP batches,
	 * not after: a daemon that has not caught up is awake anyway, and a wake-up is an
	 * interrupt the program pays for (an APIC write, a VM exit under a hypervisor), per
	 * batch. The window is one record wide (its header included), so one producer's batches
	 * cannot step over it; a wake-up that a concurrent producer's batch jumped over is made
	 * up for by the daemon's drain timer (BM_DRAIN_MS). */
	avail = bpf_ringbuf_query(&hook_batches, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(b, avail >= BM_HOOK_WAKEUP * sizeof(*b) &&
					      avail < BM_HOOK_WAKEUP * sizeof(*b) + sizeof(*b) +
							      BPF_RINGBUF_HDR_SZ
				      ? BPF_RB_FORCE_WAKEUP
				      : BPF_RB_NO_WAKEUP);
	return 0;
}

#endif /* BM_HOOK_BPF_H */
