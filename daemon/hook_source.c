// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/hook_source.c — events of the in-process hook: batches from the ring buffer, partial
 * batches from the process's memory, merged per process by sequence number. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hook_source.h"
#include "log.h"
#include "procmem.h"

#define RING_RECS (BM_HOOK_NCHUNK * BM_HOOK_CHUNK)
/* A record reserved but not yet complete (its thread between two instructions, or waiting
 * for a free batch slot) is waited for this long before it counts as lost. */
#define SYNC_WAIT_NS 1000000000ULL

struct hook_proc {
	pid_t tgid;
	int mem;	  /* /proc/tgid/mem of the image that said hello (procmem.h); -1: none */
	uint64_t ctl;	  /* address of struct bm_hook_ctl in the process; 0: not known yet */
	uint64_t applied; /* highest seq delivered */
	uint64_t lost;	  /* holes in the sequence */
	uint64_t taken;	  /* batches taken from the ring buffer (the last one's index + 1) */
	uint64_t dropped; /* records the hook gave up on, as last read (counted in lost) */
	bool tell;	  /* taken changed: write it into the control block */
	bool gone;	  /* its image changed with no exec stop: never read again */
};

struct hook_source {
	struct event_source src; /* first: the sources hold &src */
	struct ring_buffer *rb;
	source_batch_fn *fn;
	void *arg;
	/* events of process run_tgid not handed to the sink yet: a batch's worth at most,
	 * handed over before on_record() or a sync returns */
	struct bm_event run[BM_HOOK_CHUNK];
	size_t nr_run;
	pid_t run_tgid;
	struct bm_hook_rec ring[RING_RECS]; /* a process's ring as a sync reads it */
	struct hook_proc *procs;
	int nr, cap;
	struct hook_proc *hot;
	uint64_t malformed;
	uint64_t lost_gone; /* holes of processes forgotten since */
	hook_hello_fn *on_hello;
	hook_exec_fn *on_exec;
	hook_admit_fn *admit;
	void *hello_arg;
};

static void hello(struct hook_source *h, pid_t tgid, pid_t ppid, uint64_t ctl);

static struct hook_proc *find(struct hook_source *h, pid_t tgid)
{
	if (h->hot && h->hot->tgid == tgid)
		return h->hot;
	for (int i = 0; i < h->nr; i++) {
		if (h->procs[i].tgid == tgid)
			return h->hot = &h->procs[i];
	}
	return NULL;
}

static struct hook_proc *get(struct hook_source *h, pid_t tgid)
{
	struct hook_proc *p = find(h, tgid);

	if (p)
		return p;
	if (h->nr == h->cap) {
		int cap = h->cap ? h->cap * 2 : 16;
		struct hook_proc *n = reallocarray(h->procs, (size_t)cap, sizeof(*n));

		if (!n)
			return NULL;
		h->procs = n;
		h->cap = cap;
	}
	h->hot = NULL;
	p = &h->procs[h->nr++];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->mem = -1;
	return p;
}

/* Hands the events collected so far to the sink, in one call. */
static void flush_run(struct hook_source *h)
{
	if (h->nr_run)
		h->fn(h->arg, (uint32_t)h->run_tgid, h->run, h->nr_run);
	h->nr_run = 0;
}

/* Delivers @r (seq s) unless it was delivered already; a hole before it counts as lost. The
 * event joins the run that flush_run() hands over. */
static void deliver(struct hook_source *h, struct hook_proc *p, const struct bm_hook_rec *r)
{
	if (r->seq <= p->applied)
		return; /* read from memory at a boundary already */
	p->lost += r->seq - p->applied - 1;
	p->applied = r->seq;
	if (!r->kind)
		return;
	if (h->nr_run && (h->run_tgid != p->tgid || h->nr_run == BM_HOOK_CHUNK))
		flush_run(h);
	h->run_tgid = p->tgid;
	h->run[h->nr_run++] = (struct bm_event){ .addr = r->addr,
						 .size = r->size,
						 .tgid = (uint32_t)p->tgid,
						 .tid = r->tid,
						 .stack_id = -1,
						 .kind = r->kind,
						 .func = r->func };
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct hook_source *h = ctx;
	const struct bm_hook_batch *b = data;
	const struct bm_event *e = data;
	struct hook_proc *p;

	if (size == sizeof(*e) && e->kind == BM_EV_HOOK_HELLO) {
		hello(h, (pid_t)e->tgid, (pid_t)e->size, e->addr);
		if (h->on_hello)
			h->on_hello(h->hello_arg, (pid_t)e->tgid, (pid_t)e->size);
		return 0;
	}
	if (size == sizeof(*e) && e->kind == BM_EV_HOOK_EXEC) {
		if (h->on_exec)
			h->on_exec(h->hello_arg, (pid_t)e->tgid, (pid_t)e->tid);
		return 0;
	}
	if (size != sizeof(*b) || b->nr > BM_HOOK_CHUNK) {
		h->malformed++;
		return 0;
	}
	/* batches only come after the hello (the hook waits for `confirmed`): a process with no
	 * memory open was not admitted, and none of its records are anyone's */
	p = find(h, (pid_t)b->tgid);
	if (!p || p->mem < 0)
		return 0;
	if ((b->first_seq - 1) / BM_HOOK_CHUNK + 1 > p->taken) {
		p->taken = (b->first_seq - 1) / BM_HOOK_CHUNK + 1;
		p->tell = true;
	}
	for (uint32_t i = 0; i < b->nr; i++) {
		/* a slot whose thread died before completing it: the hole counts as lost */
		if (b->recs[i].seq == b->first_seq + i)
			deliver(h, p, &b->recs[i]);
	}
	flush_run(h);
	return 0;
}

static int write_ctl(const struct hook_proc *p, size_t off, const void *v, size_t len)
{
	return procmem_write(p->mem, p->ctl + off, v, len);
}

/* The hook keeps at most BM_HOOK_WINDOW batches in the ring buffer: tell each process how
 * far we got, so it goes on. */
static int consume(struct hook_source *h)
{
	int n = ring_buffer__consume(h->rb);

	for (int i = 0; i < h->nr; i++) {
		struct hook_proc *p = &h->procs[i];

		if (!p->tell || !p->ctl)
			continue;
		p->tell = false;
		write_ctl(p, __builtin_offsetof(struct bm_hook_ctl, consumed), &p->taken,
			  sizeof(p->taken));
	}
	return n;
}

/* Opens @p's memory, then asks whether its image may be read: in that order, the fd is bound
 * to an image whose credentials were those checked, or to an older one and then reads
 * nothing. 0, or -errno with no fd kept. */
static int open_mem(struct hook_source *h, struct hook_proc *p, pid_t ppid)
{
	int e;

	p->mem = procmem_open(p->tgid);
	e = p->mem < 0 ? p->mem : h->admit ? h->admit(h->hello_arg, p->tgid, ppid) : 0;
	if (e && p->mem >= 0) {
		close(p->mem);
		p->mem = -1;
	}
	return e;
}

/* The hook hands batches over only once a collector said it traces the process. A process
 * not admitted is forgotten before anything is written into it. One whose memory is open
 * already (since its fork stop, or an earlier hello of this image) keeps that fd: a hello
 * from an image exec'd with no exec stop reaches nothing through it. */
static void hello(struct hook_source *h, pid_t tgid, pid_t ppid, uint64_t ctl)
{
	struct hook_proc *p = get(h, tgid);
	uint32_t yes = 1;

	if (!p || p->gone)
		return;
	if (p->mem < 0 && open_mem(h, p, ppid)) {
		hook_source__forget(h, tgid);
		return;
	}
	p->ctl = ctl;
	p->tell = p->taken > 0;
	write_ctl(p, __builtin_offsetof(struct bm_hook_ctl, confirmed), &yes, sizeof(yes));
}

/* The @n records from seq @from on, from the ring at @addr into their slots of @ring (the
 * records past the ring's end wrap to its start): only what a sync needs, in one call. */
static int read_recs(int mem, uint64_t addr, uint64_t from, uint64_t n, struct bm_hook_rec *ring)
{
	size_t i = (from - 1) % RING_RECS, head = n < RING_RECS - i ? n : RING_RECS - i;
	int e = procmem_read(mem, addr + i * sizeof(*ring), &ring[i], head * sizeof(*ring));

	if (!e && n > head)
		e = procmem_read(mem, addr, ring, (n - head) * sizeof(*ring));
	return e;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One pass over the ring in memory: delivers the records after p->applied in order, up to
 * @c->reserved. A record whose batch was handed over before the read ended may have had its
 * slot reused meanwhile (a torn copy): it is taken from the ring buffer instead. Returns 0
 * when all were delivered, -EAGAIN when a record is not complete yet or is to be taken from
 * the ring buffer, or -errno. */
static int sync_pass(struct hook_source *h, struct hook_proc *p, const struct bm_hook_ctl *c)
{
	struct bm_hook_rec *ring = h->ring;
	struct bm_hook_ctl after;
	int e;

	if (p->applied >= c->reserved)
		return 0; /* nothing new: no read (the drain timer comes by every process) */
	e = read_recs(p->mem, c->ring, p->applied + 1,
		      c->reserved - p->applied < RING_RECS ? c->reserved - p->applied : RING_RECS,
		      ring);
	if (!e)
		e = procmem_read(p->mem, p->ctl, &after, sizeof(after));
	if (e)
		return e;
	while (p->applied < c->reserved) {
		uint64_t s = p->applied + 1;
		const struct bm_hook_rec *r = &ring[(s - 1) % RING_RECS];

		if ((s - 1) / BM_HOOK_CHUNK < after.flushed || r->seq != s) {
			flush_run(h);
			return -EAGAIN;
		}
		deliver(h, p, r);
	}
	flush_run(h);
	return 0;
}

/* Consumes the ring buffer; returns @tgid's state after it (consuming may move it). */
static struct hook_proc *consume_find(struct hook_source *h, pid_t tgid)
{
	consume(h);
	return find(h, tgid);
}

/* Every batch handed over before @c was read is taken now, or lost (counted by the BPF
 * side): the hook may hand over more. */
static void release_window(struct hook_proc *p, const struct bm_hook_ctl *c)
{
	/* records the hook gave up on (no daemon took its batches for seconds) are lost */
	if (c->dropped > p->dropped) {
		p->lost += c->dropped - p->dropped;
		p->dropped = c->dropped;
	}
	if (c->flushed <= p->taken)
		return;
	p->taken = c->flushed;
	write_ctl(p, __builtin_offsetof(struct bm_hook_ctl, consumed), &p->taken, sizeof(p->taken));
}

int hook_source__sync(struct hook_source *h, pid_t tgid)
{
	struct hook_proc *p = consume_find(h, tgid);
	struct bm_hook_ctl c, now;
	uint64_t t0 = now_ns();
	int e;

	if (!p || !p->ctl)
		return p ? 0 : -ENOENT;
	e = procmem_read(p->mem, p->ctl, &c, sizeof(c));
	if (e == -ESRCH) {
		/* exited, or exec'd with no exec stop (a thread's raw execve, docs/hook.md): the
		 * fd reaches nothing of a later image; the process's batches go too */
		p->gone = procmem_mapped(tgid);
		if (p->gone)
			pr_warn("pid %d: exec'd with no exec stop (a thread's raw execve): its new "
				"image is not measured, nor read",
				tgid);
		close(p->mem);
		p->mem = -1;
	}
	/* a forked child that has not reset its inherited copy yet holds its parent's records */
	if (e || c.magic != BM_HOOK_MAGIC || c.pid != (uint32_t)tgid || c.per_call)
		return e;
	p = consume_find(h, tgid);
	if (!p)
		return -ENOENT;
	release_window(p, &c);
	while ((e = sync_pass(h, p, &c)) == -EAGAIN) {
		struct timespec ts = { 0, 20000 };

		if (now_ns() - t0 > SYNC_WAIT_NS) {
			/* give up on the record in the way: the rest follows */
			p->lost++;
			p->applied++;
			continue;
		}
		nanosleep(&ts, NULL);
		/* the thread of that record may wait for a free batch slot, which needs the
		 * batches before it taken: take them and say so */
		if (procmem_read(p->mem, p->ctl, &now, sizeof(now)))
			break;
		p = consume_find(h, tgid);
		if (!p)
			break;
		/* what was handed over is taken now, or was lost (the BPF side counted it) */
		if (p->applied < now.flushed * BM_HOOK_CHUNK)
			p->applied = now.flushed * BM_HOOK_CHUNK;
		release_window(p, &now);
	}
	return e;
}

void hook_source__fork(struct hook_source *h, pid_t parent, pid_t child)
{
	struct hook_proc *pp = find(h, parent), *cp;
	uint64_t ctl;

	if (!pp)
		return;
	ctl = pp->ctl;
	hook_source__sync(h, parent);
	cp = get(h, child);
	if (!cp)
		return;
	/* stopped at its fork, it runs the parent's image (checked): no credentials to read */
	if (cp->mem < 0)
		cp->mem = procmem_open(child);
	cp->ctl = ctl;
	if (cp->mem < 0)
		hook_source__forget(h, child);
}

int hook_source__set_recording(struct hook_source *h, pid_t tgid, bool on)
{
	struct hook_proc *p = find(h, tgid);
	uint32_t v = on;

	int e;

	if (!p || !p->ctl)
		return -ENOENT;
	e = write_ctl(p, __builtin_offsetof(struct bm_hook_ctl, on), &v, sizeof(v));
	if (!e)
		pr_debug("pid %d: the hook %s", tgid,
			 on ? "records (a region is open)" : "records nothing (no region)");
	return e;
}

void hook_source__forget(struct hook_source *h, pid_t tgid)
{
	struct hook_proc *p = find(h, tgid);

	if (!p)
		return;
	h->lost_gone += p->lost;
	if (p->mem >= 0)
		close(p->mem);
	*p = h->procs[--h->nr];
	h->hot = NULL;
}

/* ---- the event source ------------------------------------------------------------------ */

static int hs_fd(const struct event_source *src)
{
	return ring_buffer__epoll_fd(((const struct hook_source *)src)->rb);
}

static int hs_consume(struct event_source *src)
{
	return consume((struct hook_source *)src);
}

/* The batches first, then what every process still holds in its memory. */
static void hs_drain(struct event_source *src)
{
	struct hook_source *h = (struct hook_source *)src;

	consume(h);
	for (int i = 0; i < h->nr; i++)
		hook_source__sync(h, h->procs[i].tgid);
}

static uint64_t hs_lost(struct event_source *src, uint32_t tgid)
{
	struct hook_proc *p = find((struct hook_source *)src, (pid_t)tgid);

	return p ? p->lost : 0;
}

static uint64_t hs_lost_total(struct event_source *src)
{
	struct hook_source *h = (struct hook_source *)src;
	uint64_t n = h->lost_gone + h->malformed;

	for (int i = 0; i < h->nr; i++)
		n += h->procs[i].lost;
	return n;
}

static void hs_free(struct event_source *src)
{
	struct hook_source *h = (struct hook_source *)src;

	if (!h)
		return;
	ring_buffer__free(h->rb);
	for (int i = 0; i < h->nr; i++) {
		if (h->procs[i].mem >= 0)
			close(h->procs[i].mem);
	}
	free(h->procs);
	free(h);
}

struct hook_source *hook_source__new(struct probe *p, source_batch_fn *fn, void *arg)
{
	static const struct event_source_ops ops = { hs_fd,   hs_consume,    hs_drain,
						     hs_lost, hs_lost_total, hs_free };
	struct hook_source *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->src.ops = &ops;
	h->fn = fn;
	h->arg = arg;
	h->rb = ring_buffer__new(probe__hook_batches_fd(p), on_record, h, NULL);
	if (!h->rb) {
		int e = errno;

		free(h);
		errno = e;
		return NULL;
	}
	return h;
}

void hook_source__on_hello(struct hook_source *h, hook_hello_fn *fn, hook_exec_fn *exec_fn,
			   hook_admit_fn *admit, void *arg)
{
	h->on_hello = fn;
	h->on_exec = exec_fn;
	h->admit = admit;
	h->hello_arg = arg;
}

struct event_source *hook_source__src(struct hook_source *h)
{
	return &h->src;
}
