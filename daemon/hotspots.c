// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/hotspots.c — live blocks → per-stack bytes → frames → function names, aggregated. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockstacks.h"
#include "hotspots.h"
#include "stacks.h"

#define FN_SLOTS      8192 /* hash slots; at most FN_SLOTS / 2 distinct functions */
#define THREADS_KEPT  256  /* distinct threads tallied */
#define NO_STACK_NAME "[no stack]"

struct fn {
	char name[96];
	char module[64];
	uint64_t total, own, count;
	uint32_t mark; /* the last stack that added to total: once per stack */
};

struct thr {
	uint32_t tid;
	uint64_t bytes, blocks;
};

struct agg {
	const struct hot_opts *o;
	uint64_t *bytes, *count; /* per stack id + 1; [0] is "no stack" */
	struct fn *fns;
	size_t nr_fns;
	uint32_t *slot; /* index + 1 into fns, 0 = empty */
	struct thr thr[THREADS_KEPT];
	size_t nr_thr;
	uint64_t examined, stacks;
	bool capped, threads_lost;
	const struct live_table *live; /* of the process being walked */
	int stack_map;		       /* the session's stack map (its stack_slot) */
};

/* The allocator's own frames, skipped to reach the function that asked. */
static bool is_allocator(const char *name)
{
	static const char *const exact[] = { "malloc",	      "calloc",	       "realloc",
					     "reallocarray",  "free",	       "posix_memalign",
					     "aligned_alloc", "memalign",      "valloc",
					     "pvalloc",	      "mmap",	       "mmap64",
					     "sysmalloc",     "_mid_memalign", "tcache_init" };
	/* bm_hook_: the in-process hook's probe site (docs/hook.md) */
	static const char *const prefix[] = { "__libc_", "_int_", "__GI_", "__malloc", "bm_hook_" };

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (!strcmp(name, exact[i]))
			return true;
	}
	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++) {
		if (!strncmp(name, prefix[i], strlen(prefix[i])))
			return true;
	}
	return false;
}

static void tally_thread(struct agg *a, uint32_t tid, uint64_t size)
{
	size_t i;

	for (i = 0; i < a->nr_thr && a->thr[i].tid != tid; i++)
		;
	if (i == a->nr_thr) {
		if (a->nr_thr == THREADS_KEPT) {
			a->threads_lost = true;
			return;
		}
		a->thr[a->nr_thr++] = (struct thr){ .tid = tid };
	}
	a->thr[i].bytes += size;
	a->thr[i].blocks++;
}

static int on_block(void *arg, const struct block_origin *o)
{
	struct agg *a = arg;
	struct live_block b;
	size_t k;

	if (a->examined++ >= HOT_MAX_BLOCKS) {
		a->capped = true;
		return 1;
	}
	if (live_table__get(a->live, o->addr, &b))
		return 0; /* freed between the two tables' updates: cannot happen, but harmless */
	tally_thread(a, o->tid, b.size);
	if (a->o->thread && o->tid != a->o->thread)
		return 0;
	k = o->stack_id < 0 || o->stack_id >= BM_MAX_STACKS ? 0 : (size_t)o->stack_id + 1;
	a->bytes[k] += b.size;
	a->count[k]++;
	return 0;
}

static uint32_t hash_key(const char *name, const char *module)
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (const char *p = module; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* The function (@name, @module), added when new; NULL when the table is full. */
static struct fn *fn_of(struct agg *a, const char *name, const char *module)
{
	uint32_t i = hash_key(name, module) & (FN_SLOTS - 1);
	struct fn *f;

	for (; a->slot[i]; i = (i + 1) & (FN_SLOTS - 1)) {
		f = &a->fns[a->slot[i] - 1];
		if (!strcmp(f->name, name) && !strcmp(f->module, module))
			return f;
	}
	if (a->nr_fns == FN_SLOTS / 2) {
		a->capped = true;
		return NULL;
	}
	f = &a->fns[a->nr_fns++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->module, sizeof(f->module), "%s", module);
	a->slot[i] = (uint32_t)a->nr_fns;
	return f;
}

/* Names @ip of a process whose images are @im: the function, else "0x<offset>" in its file,
 * else "0x<address>". */
static void name_frame(const struct stacks_images *im, struct symcache *sc, uint64_t ip, char *name,
		       size_t nlen, const char **module)
{
	*module = "?";
	for (size_t i = 0; i < im->n; i++) {
		const struct stacks_image *g = &im->v[i];
		uint64_t va = ip - g->load_addr;

		for (size_t j = 0; j < g->nr_segs; j++) {
			const char *fn, *slash;

			if (va < g->segs[j].vaddr || va - g->segs[j].vaddr >= g->segs[j].memsz)
				continue;
			slash = strrchr(g->path, '/');
			*module = slash ? slash + 1 : g->path;
			fn = symcache__name(sc, g->path, va);
			if (fn)
				snprintf(name, nlen, "%s", fn);
			else
				snprintf(name, nlen, "0x%llx", (unsigned long long)va);
			return;
		}
	}
	snprintf(name, nlen, "0x%llx", (unsigned long long)ip);
}

/* Adds the bytes of stack @id (+1 = @k) to the functions its frames name. */
static void add_stack(struct agg *a, const struct stacks_images *im, struct symcache *sc,
		      hot_stack_fn *stack_of, void *arg, size_t k)
{
	uint64_t ips[BM_STACK_DEPTH];
	int n = k ? stack_of(arg, a->stack_map, (int32_t)(k - 1), ips, BM_STACK_DEPTH) : 0;
	bool own_done = false;
	char name[96];
	const char *module;
	struct fn *f;

	a->stacks++;
	if (n <= 0) {
		f = fn_of(a, NO_STACK_NAME, "?");
		if (f) {
			f->own += a->bytes[k];
			f->total += a->bytes[k];
			f->count += a->count[k];
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		/* a return address points past its call: look up the call itself */
		name_frame(im, sc, i ? ips[i] - 1 : ips[i], name, sizeof(name), &module);
		if (!own_done && is_allocator(name))
			continue;
		f = fn_of(a, name, module);
		if (!f)
			return;
		if (!own_done) {
			f->own += a->bytes[k];
			own_done = true;
		}
		if (f->mark != a->stacks) {
			f->mark = (uint32_t)a->stacks;
			f->total += a->bytes[k];
			f->count += a->count[k];
		}
	}
}

static void walk_proc(struct agg *a, const struct proc *p, struct symcache *sc,
		      hot_stack_fn *stack_of, void *arg)
{
	struct stacks_images im = { 0 };

	memset(a->bytes, 0, sizeof(uint64_t) * (BM_MAX_STACKS + 1));
	memset(a->count, 0, sizeof(uint64_t) * (BM_MAX_STACKS + 1));
	a->live = p->live;
	blockstacks_foreach(p->stacks, on_block, a);
	stacks_images_read(p->tgid, &im); /* none (the process is going): names stay hex */
	for (size_t k = 0; k <= BM_MAX_STACKS; k++) {
		if (!a->count[k])
			continue;
		if (a->stacks >= HOT_MAX_STACKS) {
			a->capped = true;
			break;
		}
		add_stack(a, &im, sc, stack_of, arg, k);
	}
	stacks_images_release(&im);
}

static uint64_t key_of(const struct fn *f, enum hot_sort k)
{
	return k == HOT_SORT_OWN ? f->own : k == HOT_SORT_COUNT ? f->count : f->total;
}

static int by_key(const void *x, const void *y, void *arg)
{
	const struct fn *a = x, *b = y;
	enum hot_sort k = *(const enum hot_sort *)arg;

	if (key_of(a, k) != key_of(b, k))
		return key_of(a, k) > key_of(b, k) ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int by_bytes(const void *x, const void *y)
{
	const struct thr *a = x, *b = y;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

const char *hot_sort_name(enum hot_sort s)
{
	return s == HOT_SORT_OWN ? "own" : s == HOT_SORT_COUNT ? "count" : "total";
}

static json_t *to_json(struct agg *a)
{
	json_t *fns = json_array(), *thr = json_array();
	size_t nf = a->nr_fns < HOT_MAX_FUNCTIONS ? a->nr_fns : HOT_MAX_FUNCTIONS;
	size_t nt = a->nr_thr < HOT_MAX_THREADS ? a->nr_thr : HOT_MAX_THREADS;

	qsort_r(a->fns, a->nr_fns, sizeof(*a->fns), by_key, (void *)&a->o->sort);
	qsort(a->thr, a->nr_thr, sizeof(*a->thr), by_bytes);
	for (size_t i = 0; i < nf; i++) {
		const struct fn *f = &a->fns[i];

		json_array_append_new(
			fns, json_pack("{s:s, s:s, s:I, s:I, s:I}", "function", f->name, "module",
				       f->module, "total_bytes", (json_int_t)f->total, "own_bytes",
				       (json_int_t)f->own, "count", (json_int_t)f->count));
	}
	for (size_t i = 0; i < nt; i++)
		json_array_append_new(thr, json_pack("{s:i, s:I, s:I}", "tid", (int)a->thr[i].tid,
						     "live_bytes", (json_int_t)a->thr[i].bytes,
						     "blocks", (json_int_t)a->thr[i].blocks));
	return json_pack("{s:s, s:i, s:o, s:b, s:o, s:b, s:I, s:b}", "sort",
			 hot_sort_name(a->o->sort), "thread", (int)a->o->thread, "functions", fns,
			 "functions_truncated", a->nr_fns > nf, "threads", thr, "threads_truncated",
			 a->threads_lost || a->nr_thr > nt, "blocks_examined",
			 (json_int_t)a->examined, "capped", a->capped);
}

json_t *hotspots_build(const struct session *s, hot_stack_fn *stack_of, void *arg,
		       struct symcache *sc, const struct hot_opts *o)
{
	struct agg a = { .o = o, .stack_map = s->stack_slot };
	json_t *out = NULL;

	a.bytes = calloc(BM_MAX_STACKS + 1, sizeof(uint64_t));
	a.count = calloc(BM_MAX_STACKS + 1, sizeof(uint64_t));
	a.fns = calloc(FN_SLOTS / 2, sizeof(*a.fns));
	a.slot = calloc(FN_SLOTS, sizeof(*a.slot));
	if (!a.bytes || !a.count || !a.fns || !a.slot) {
		errno = ENOMEM;
		goto out;
	}
	symcache__trim(sc);
	for (int i = 0; i < s->nr_procs; i++) {
		if (i == HOT_MAX_PROCS) {
			a.capped = true;
			break;
		}
		if (!a.capped)
			walk_proc(&a, s->procs[i], sc, stack_of, arg);
	}
	out = to_json(&a);
out:
	free(a.bytes);
	free(a.count);
	free(a.fns);
	free(a.slot);
	return out;
}
