// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/probe.c — the BPF skeleton, per-process uprobe attach and the link closer thread. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "allocators.h"
#include "benchmem.skel.h"
#include "probe.h"

/* Debian 12's uapi headers (6.1) predate uprobe_multi (kernel 6.6): the values and the
 * link_create layout below are the kernel's ABI. */
#define BM_TRACE_UPROBE_MULTI	 48
#define BM_F_UPROBE_MULTI_RETURN 1U

struct link_create_umulti {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t umulti_flags;
	uint32_t pid;
	uint32_t __pad;
};

#define PROBE_CLOSERS 4 /* threads closing released links */

struct probe {
	struct benchmem_bpf *skel;
	bool multi; /* uprobe_multi links work on this kernel */
	bool system_wide;
	int closer_pipe[2];
	/* a link's close waits for an RCU sync (~20-60 ms) and a uprobe's breakpoint stays until
	 * its last link is closed: the entry and return links of a process close side by side */
	pthread_t closer[PROBE_CLOSERS];
	int nr_closers;
	int nr_cpus;
	uint32_t stack_entries;
	int stack_fds[BM_STACK_SLOTS];	     /* each slot's stack_frames array; -1: free */
	int stack_claim_fds[BM_STACK_SLOTS]; /* each slot's stack_claims hash */
};

static void *closer_main(void *arg)
{
	struct probe *p = arg;
	int fd;

	while (read(p->closer_pipe[0], &fd, sizeof(fd)) == sizeof(fd))
		close(fd);
	return NULL;
}

static int explain_load_error(int err, char *buf, size_t len)
{
	if (geteuid() != 0)
		snprintf(buf, len,
			 "cannot trace: not root (tracing needs CAP_BPF and CAP_PERFMON; "
			 "run as root or through the benchmemd service)");
	else if (access("/sys/kernel/btf/vmlinux", R_OK))
		snprintf(buf, len,
			 "cannot trace: no BTF at /sys/kernel/btf/vmlinux (need a kernel "
			 "with CONFIG_DEBUG_INFO_BTF)");
	else if (access("/sys/bus/event_source/devices/uprobe/type", R_OK))
		snprintf(buf, len,
			 "cannot trace: this kernel has no uprobe PMU "
			 "(/sys/bus/event_source/devices/uprobe; need CONFIG_UPROBE_EVENTS)");
	else
		snprintf(buf, len,
			 "cannot load the BPF programs: %s (run with --log-level=debug "
			 "for the verifier's log)",
			 strerror(-err));
	return err;
}

/* The closer thread must never take a signal meant for the loop's signalfd (SIGCHLD of a
 * tracee would be lost), so it starts with every signal blocked. */
static int start_closer(struct probe *p)
{
	sigset_t all, old;
	int e = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (!e && p->nr_closers < PROBE_CLOSERS) {
		e = -pthread_create(&p->closer[p->nr_closers], NULL, closer_main, p);
		p->nr_closers += !e;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

/* A session's stack store (bpf/maps.bpf.h): the frames by id, and @ids, which hash claims
 * each id. 0 or -errno. */
static int new_stack_store(const struct probe *p, int *frames, int *ids)
{
	*ids = -1;
	*frames = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bm_stacks", sizeof(uint32_t),
				 BM_STACK_DEPTH * sizeof(uint64_t), p->stack_entries, NULL);
	if (*frames < 0)
		return -errno;
	*ids = bpf_map_create(BPF_MAP_TYPE_HASH, "bm_stack_claims", sizeof(uint32_t),
			      sizeof(uint64_t), p->stack_entries, NULL);
	if (*ids < 0) {
		int e = -errno;

		close(*frames);
		*frames = -1;
		return e;
	}
	return 0;
}

struct probe *probe__new(const struct probe_opts *o, char *err, size_t errlen)
{
	struct probe *p = calloc(1, sizeof(*p));
	int e, tmpl = -1, tmpl_ids = -1;

	if (!p)
		return NULL;
	p->closer_pipe[0] = p->closer_pipe[1] = -1;
	for (size_t i = 0; i < BM_STACK_SLOTS; i++)
		p->stack_fds[i] = p->stack_claim_fds[i] = -1;
	p->stack_entries = o->stack_entries ? o->stack_entries : BM_MAX_STACKS;
	p->system_wide = o->system_wide;
	p->nr_cpus = libbpf_num_possible_cpus();
	p->skel = benchmem_bpf__open();
	if (!p->skel) {
		e = -errno;
		explain_load_error(e, err, errlen);
		goto fail;
	}
	p->skel->rodata->check_traced = true;
	allocators_fill_specs(p->skel->rodata->argspecs);
	/* the hook's batches get the same size: a ring smaller than one batch loses them all,
	 * and says so */
	if (o->ringbuf_bytes &&
	    (bpf_map__set_max_entries(p->skel->maps.events, (uint32_t)o->ringbuf_bytes) ||
	     bpf_map__set_max_entries(p->skel->maps.hook_batches, (uint32_t)o->ringbuf_bytes))) {
		e = -errno;
		snprintf(err, errlen, "ring buffer of %llu bytes: %s",
			 (unsigned long long)o->ringbuf_bytes, strerror(errno));
		goto fail;
	}
	/* the inner maps made per session must match the outer maps' templates in size */
	p->skel->rodata->stack_entries = p->stack_entries;
	e = new_stack_store(p, &tmpl, &tmpl_ids);
	if (e) { /* the first BPF object we make: not root, no BPF, ... */
		e = explain_load_error(e, err, errlen);
		goto fail;
	}
	if (bpf_map__set_inner_map_fd(p->skel->maps.stack_maps, tmpl) ||
	    bpf_map__set_inner_map_fd(p->skel->maps.stack_claim_maps, tmpl_ids)) {
		e = -errno;
		snprintf(err, errlen, "stack store of %u entries: %s", p->stack_entries,
			 strerror(-e));
		goto fail;
	}
	bpf_program__set_expected_attach_type(p->skel->progs.alloc_enter_multi,
					      BM_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(p->skel->progs.alloc_exit_multi,
					      BM_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(p->skel->progs.hook_site, BM_TRACE_UPROBE_MULTI);
	e = benchmem_bpf__load(p->skel);
	close(tmpl); /* the loaded outer maps keep what they need of them */
	close(tmpl_ids);
	tmpl = tmpl_ids = -1;
	if (e) {
		explain_load_error(e, err, errlen);
		goto fail;
	}
	p->multi = true; /* until the first link says otherwise */
	if (pipe2(p->closer_pipe, O_CLOEXEC)) {
		e = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	e = start_closer(p);
	if (e) {
		snprintf(err, errlen, "pthread_create: %s", strerror(-e));
		goto fail;
	}
	return p;
fail:
	if (tmpl >= 0)
		close(tmpl);
	if (tmpl_ids >= 0)
		close(tmpl_ids);
	probe__free(p);
	errno = -e;
	return NULL;
}

void probe__free(struct probe *p)
{
	if (!p)
		return;
	if (p->closer_pipe[1] >= 0)
		close(p->closer_pipe[1]);
	for (int i = 0; i < p->nr_closers; i++)
		pthread_join(p->closer[i], NULL);
	if (p->closer_pipe[0] >= 0)
		close(p->closer_pipe[0]);
	for (int i = 0; i < BM_STACK_SLOTS; i++)
		probe__stacks_close(p, i);
	benchmem_bpf__destroy(p->skel);
	free(p);
}

int probe__events_fd(const struct probe *p)
{
	return bpf_map__fd(p->skel->maps.events);
}

int probe__hook_batches_fd(const struct probe *p)
{
	return bpf_map__fd(p->skel->maps.hook_batches);
}

static uint64_t cookie_of(const struct alloc_sym *s)
{
	const struct allocator *r = allocator_row(s->func);
	uint64_t c = s->func;

	/* rows with BM_AS_INSIDE (mmap, munmap) need the segment bounds to skip the
	 * allocator's own calls */
	if (r && (r->spec.flags & BM_AS_INSIDE) && s->seg_len &&
	    s->seg_off <= BM_COOKIE_FIELD_MAX && s->seg_len <= BM_COOKIE_FIELD_MAX)
		c |= s->seg_off << 8 | s->seg_len << 36;
	return c;
}

static int link_multi(struct probe *p, pid_t pid, const char *path, const struct alloc_sym *syms,
		      size_t n, bool ret)
{
	uint64_t offs[SYMBOLS_MAX_FUNCS], cookies[SYMBOLS_MAX_FUNCS];
	struct link_create_umulti a;
	uint32_t cnt = 0;
	int fd;

	for (size_t i = 0; i < n && i < SYMBOLS_MAX_FUNCS; i++) {
		if (ret && !allocator_needs_return(syms[i].func))
			continue;
		offs[cnt] = syms[i].offset;
		cookies[cnt++] = cookie_of(&syms[i]);
	}
	memset(&a, 0, sizeof(a));
	a.prog_fd = (uint32_t)bpf_program__fd(ret ? p->skel->progs.alloc_exit_multi
						  : p->skel->progs.alloc_enter_multi);
	a.attach_type = BM_TRACE_UPROBE_MULTI;
	a.path = (uint64_t)(uintptr_t)path;
	a.offsets = (uint64_t)(uintptr_t)offs;
	a.cookies = (uint64_t)(uintptr_t)cookies;
	a.cnt = cnt;
	a.umulti_flags = ret ? BM_F_UPROBE_MULTI_RETURN : 0;
	a.pid = p->system_wide ? 0 : (uint32_t)pid;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

static int link_perf(struct probe *p, pid_t pid, const char *path, const struct alloc_sym *s,
		     bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret, .bpf_cookie = cookie_of(s));
	struct bpf_program *prog = ret ? p->skel->progs.alloc_exit : p->skel->progs.alloc_enter;
	struct bpf_link *l;
	int fd;

	l = bpf_program__attach_uprobe_opts(prog, p->system_wide ? -1 : pid, path,
					    (size_t)s->offset, &opts);
	if (!l)
		return -errno;
	/* keep the fd, drop libbpf's wrapper: the closer thread closes raw fds */
	fd = dup(bpf_link__fd(l));
	bpf_link__destroy(l);
	return fd < 0 ? -errno : fd;
}

static int attach_perf(struct probe *p, pid_t pid, const char *path, const struct alloc_sym *syms,
		       size_t n, struct probe_links *out)
{
	for (size_t i = 0; i < n; i++) {
		for (int ret = 0; ret <= 1; ret++) {
			int fd;

			if (ret && !allocator_needs_return(syms[i].func))
				continue;
			fd = link_perf(p, pid, path, &syms[i], ret);
			if (fd < 0)
				return fd;
			out->fds[out->nr++] = fd;
		}
	}
	return 0;
}

int probe__attach(struct probe *p, pid_t pid, const char *path, const struct alloc_sym *syms,
		  size_t n, struct probe_links *out, char *err, size_t errlen)
{
	int fd, e;

	out->nr = 0;
	if (p->multi) {
		fd = link_multi(p, pid, path, syms, n, false);
		if (fd == -EINVAL || fd == -EOPNOTSUPP || fd == -ENOSYS) {
			p->multi = false; /* kernel < 6.6: one perf uprobe per function */
		} else if (fd >= 0) {
			out->fds[out->nr++] = fd;
			fd = link_multi(p, pid, path, syms, n, true);
			if (fd >= 0) {
				out->fds[out->nr++] = fd;
				return 0;
			}
		}
		if (p->multi) {
			e = fd;
			goto fail;
		}
	}
	e = attach_perf(p, pid, path, syms, n, out);
	if (!e)
		return 0;
fail:
	snprintf(err, errlen, "cannot attach probes to %s in pid %d: %s", path, pid, strerror(-e));
	probe__release(p, out);
	return e;
}

int probe__attach_hook(struct probe *p, const char *path, struct probe_links *out, char *err,
		       size_t errlen)
{
	static const char *const sites[] = { [BM_HOOK_SITE_EVENT] = "bm_hook_site_event",
					     [BM_HOOK_SITE_BATCH] = "bm_hook_site_batch" };
	uint64_t offs[2 * BM_HOOK_GENS], cookies[2 * BM_HOOK_GENS], base;
	struct link_create_umulti a;
	int fd, e, n = 0;

	for (int i = BM_HOOK_SITE_EVENT; i <= BM_HOOK_SITE_BATCH; i++) {
		e = symbols_offset_of(path, sites[i], &base, err, errlen);
		if (e)
			return e;
		for (int g = 0; g < BM_HOOK_GENS; g++) {
			offs[n] = base + (uint64_t)g * BM_HOOK_SITE_STRIDE;
			cookies[n++] = (uint64_t)i;
		}
	}
	memset(&a, 0, sizeof(a));
	a.prog_fd = (uint32_t)bpf_program__fd(p->skel->progs.hook_site);
	a.attach_type = BM_TRACE_UPROBE_MULTI;
	a.path = (uint64_t)(uintptr_t)path;
	a.offsets = (uint64_t)(uintptr_t)offs;
	a.cookies = (uint64_t)(uintptr_t)cookies;
	a.cnt = (uint32_t)n;
	/* pid 0: every process mapping the file; only traced ones preload it */
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot attach the hook's probe sites in %s: %s", path,
			 strerror(errno));
		return e;
	}
	out->nr = 0;
	out->fds[out->nr++] = fd;
	return 0;
}

void probe__release(struct probe *p, struct probe_links *l)
{
	for (int i = 0; i < l->nr; i++) {
		if (write(p->closer_pipe[1], &l->fds[i], sizeof(int)) != sizeof(int))
			close(l->fds[i]);
	}
	l->nr = 0;
}

int probe__track(struct probe *p, uint32_t tgid, int stack_slot)
{
	uint32_t flags = BM_TRACE_ON;

	if (stack_slot >= 0)
		flags |= BM_TRACE_STACKS | ((uint32_t)stack_slot << BM_TRACE_SLOT_SHIFT);

	if (bpf_map__update_elem(p->skel->maps.traced, &tgid, sizeof(tgid), &flags, sizeof(flags),
				 BPF_ANY))
		return -errno;
	return 0;
}

void probe__untrack(struct probe *p, uint32_t tgid)
{
	bpf_map__delete_elem(p->skel->maps.traced, &tgid, sizeof(tgid), 0);
	bpf_map__delete_elem(p->skel->maps.lost, &tgid, sizeof(tgid), 0);
	bpf_map__delete_elem(p->skel->maps.pyconf, &tgid, sizeof(tgid), 0);
}

uint64_t probe__lost_of(struct probe *p, uint32_t tgid)
{
	uint64_t n = 0;

	if (bpf_map__lookup_elem(p->skel->maps.lost, &tgid, sizeof(tgid), &n, sizeof(n), 0))
		return 0;
	return n;
}

void probe__forget_thread(struct probe *p, uint32_t tid)
{
	bpf_map__delete_elem(p->skel->maps.pending, &tid, sizeof(tid), 0);
}

int probe__counters(struct probe *p, uint64_t *out)
{
	uint64_t vals[1024];

	if (p->nr_cpus <= 0 || p->nr_cpus > 1024)
		return -E2BIG;
	for (uint32_t k = 0; k < BM_CNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map__lookup_elem(p->skel->maps.drops, &k, sizeof(k), vals,
					 sizeof(uint64_t) * (size_t)p->nr_cpus, 0))
			return -errno;
		for (int c = 0; c < p->nr_cpus; c++)
			out[k] += vals[c];
	}
	return 0;
}

int probe__stacks_open(struct probe *p)
{
	int frames_of = bpf_map__fd(p->skel->maps.stack_maps),
	    ids_of = bpf_map__fd(p->skel->maps.stack_claim_maps), frames, ids, e;
	for (int slot = 0; slot < BM_STACK_SLOTS; slot++) {
		if (p->stack_fds[slot] >= 0)
			continue;
		e = new_stack_store(p, &frames, &ids);
		if (e)
			return e;
		p->stack_fds[slot] = frames;
		p->stack_claim_fds[slot] = ids;
		if (bpf_map_update_elem(frames_of, &slot, &frames, BPF_ANY) ||
		    bpf_map_update_elem(ids_of, &slot, &ids, BPF_ANY)) {
			e = -errno;
			probe__stacks_close(p, slot);
			return e;
		}
		return slot;
	}
	return -EMFILE;
}

void probe__stacks_close(struct probe *p, int slot)
{
	if (slot < 0 || slot >= BM_STACK_SLOTS || p->stack_fds[slot] < 0)
		return;
	bpf_map_delete_elem(bpf_map__fd(p->skel->maps.stack_claim_maps), &slot);
	bpf_map_delete_elem(bpf_map__fd(p->skel->maps.stack_maps), &slot);
	close(p->stack_fds[slot]);
	close(p->stack_claim_fds[slot]);
	p->stack_fds[slot] = p->stack_claim_fds[slot] = -1;
}

int probe__stack(struct probe *p, int slot, int32_t stack_id, uint64_t *ips, size_t max)
{
	uint64_t frames[BM_STACK_DEPTH];
	size_t n = 0;

	if (stack_id < 0 || slot < 0 || slot >= BM_STACK_SLOTS || p->stack_fds[slot] < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(p->stack_fds[slot], &stack_id, frames))
		return -errno;
	while (n < BM_STACK_DEPTH && n < max && frames[n]) {
		ips[n] = frames[n];
		n++;
	}
	return (int)n;
}

int probe__pyconf(struct probe *p, uint32_t tgid, const struct bm_pyconf *c)
{
	int err;

	if (!c) {
		bpf_map__delete_elem(p->skel->maps.pyconf, &tgid, sizeof(tgid), 0);
		return 0;
	}
	err = bpf_map__update_elem(p->skel->maps.pyconf, &tgid, sizeof(tgid), c, sizeof(*c),
				   BPF_ANY);
	return err ? -errno : 0;
}

int probe__pystack(struct probe *p, uint64_t key, struct bm_pystack *out)
{
	if (bpf_map__lookup_elem(p->skel->maps.pystacks, &key, sizeof(key), out, sizeof(*out), 0))
		return -errno;
	return 0;
}

static int py_configure(void *arg, pid_t tgid, const struct bm_pyconf *conf)
{
	return probe__pyconf(arg, (uint32_t)tgid, conf);
}

static int py_lookup(void *arg, uint64_t key, struct bm_pystack *out)
{
	return probe__pystack(arg, key, out);
}

struct pystacks_ops probe__pystacks_ops(struct probe *p)
{
	return (struct pystacks_ops){ py_configure, py_lookup, p };
}

const char *probe__mode(const struct probe *p)
{
	return p->multi ? "uprobe_multi" : "perf";
}
