// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/inspect_top.c — a capture's biggest stacks at its peak, as text for CI logs. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memray/format.h"
#include "memray/reader.h"
#include "inspect_top.h"
#include "symbolize.h"
#include "units.h"

#define NATIVE_SHOWN 8 /* innermost native frames printed per stack */

/* One distinct (Python frames, native leaf) stack. */
struct stack {
	uint64_t hash, native_id;
	uint64_t *py;		    /* code ids, outermost first */
	uint32_t nr_py, generation; /* generation: of the native addresses */
	uint64_t live, at_peak;	    /* bytes live now / at the peak */
	uint64_t nr_live, nr_at_peak, allocations, allocated;
};

/* A live block: its size and the stack that allocated it. */
struct block {
	uint64_t addr, size;
	uint32_t stack; /* index + 1; 0 marks a free slot */
};

struct top {
	const struct memray_profile *prof; /* the pass being read (its running peak) */
	uint64_t peak;			   /* the final peak, from the first pass */
	bool taken;
	struct stack *stacks;
	size_t nr_stacks, cap_stacks;
	size_t *by_hash; /* open addressing: index + 1 into stacks */
	size_t hash_cap;
	struct block *blocks; /* open addressing on addr, backward-shift deletion */
	size_t blocks_cap, nr_blocks;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	return x ^ (x >> 33);
}

static int rehash_stacks(struct top *t)
{
	size_t cap = t->hash_cap ? t->hash_cap * 2 : 1024;
	size_t *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr_stacks; i++) {
		size_t j = t->stacks[i].hash & (cap - 1);

		while (tab[j])
			j = (j + 1) & (cap - 1);
		tab[j] = i + 1;
	}
	free(t->by_hash);
	t->by_hash = tab;
	t->hash_cap = cap;
	return 0;
}

/* The stack of @ev, added when new; 0 on -ENOMEM, else index + 1. */
static size_t stack_of(struct top *t, const struct memray_event *ev)
{
	uint64_t h = mix((ev->native_id + 1) ^ (uint64_t)ev->map_generation << 40);
	struct stack *s;
	size_t j;

	for (uint32_t i = 0; i < ev->py_depth; i++)
		h = mix(h ^ ev->py_frames[i]);
	if ((t->nr_stacks + 1) * 2 > t->hash_cap && rehash_stacks(t))
		return 0;
	for (j = h & (t->hash_cap - 1); t->by_hash[j]; j = (j + 1) & (t->hash_cap - 1)) {
		s = &t->stacks[t->by_hash[j] - 1];
		if (s->hash == h && s->native_id == ev->native_id && s->nr_py == ev->py_depth &&
		    s->generation == ev->map_generation &&
		    (!ev->py_depth || !memcmp(s->py, ev->py_frames, ev->py_depth * sizeof(*s->py))))
			return t->by_hash[j];
	}
	if (t->nr_stacks == t->cap_stacks) {
		size_t cap = t->cap_stacks ? t->cap_stacks * 2 : 256;

		s = reallocarray(t->stacks, cap, sizeof(*s));
		if (!s)
			return 0;
		t->stacks = s;
		t->cap_stacks = cap;
	}
	s = &t->stacks[t->nr_stacks];
	*s = (struct stack){ .hash = h,
			     .native_id = ev->native_id,
			     .nr_py = ev->py_depth,
			     .generation = ev->map_generation };
	if (ev->py_depth) {
		s->py = malloc(ev->py_depth * sizeof(*s->py));
		if (!s->py)
			return 0;
		memcpy(s->py, ev->py_frames, ev->py_depth * sizeof(*s->py));
	}
	t->by_hash[j] = ++t->nr_stacks;
	return t->nr_stacks;
}

static size_t block_slot(const struct top *t, uint64_t addr)
{
	size_t j = mix(addr) & (t->blocks_cap - 1);

	while (t->blocks[j].stack && t->blocks[j].addr != addr)
		j = (j + 1) & (t->blocks_cap - 1);
	return j;
}

static int blocks_reserve(struct top *t)
{
	size_t cap = t->blocks_cap ? t->blocks_cap * 2 : 4096;
	struct block *old = t->blocks, *tab;
	size_t old_cap = t->blocks_cap;

	if ((t->nr_blocks + 1) * 2 <= t->blocks_cap)
		return 0;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	t->blocks = tab;
	t->blocks_cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].stack)
			t->blocks[block_slot(t, old[i].addr)] = old[i];
	}
	free(old);
	return 0;
}

/* Forgets the block at @addr (if live), charging its stack. */
static void block_free(struct top *t, uint64_t addr)
{
	size_t j, k;

	if (!t->blocks_cap)
		return;
	j = block_slot(t, addr);
	if (!t->blocks[j].stack)
		return;
	t->stacks[t->blocks[j].stack - 1].live -= t->blocks[j].size;
	t->stacks[t->blocks[j].stack - 1].nr_live--;
	t->blocks[j].stack = 0;
	t->nr_blocks--;
	/* backward-shift deletion keeps every probe chain unbroken */
	for (k = (j + 1) & (t->blocks_cap - 1); t->blocks[k].stack;
	     k = (k + 1) & (t->blocks_cap - 1)) {
		size_t home = mix(t->blocks[k].addr) & (t->blocks_cap - 1);

		if ((k > j && (home <= j || home > k)) || (k < j && home <= j && home > k)) {
			t->blocks[j] = t->blocks[k];
			t->blocks[k].stack = 0;
			j = k;
		}
	}
}

static int on_event(void *arg, const struct memray_event *ev)
{
	struct top *t = arg;
	struct stack *s;
	size_t idx, j;

	if (memray_allocator_is_dealloc(ev->allocator)) {
		block_free(t, ev->addr);
	} else if (ev->allocator == MEMRAY_AL_MUNMAP) { /* whole mappings, at their start */
		block_free(t, ev->addr);
	} else {
		block_free(t, ev->addr); /* a live address allocated again replaces the block */
		idx = stack_of(t, ev);
		if (!idx || blocks_reserve(t))
			return -ENOMEM;
		s = &t->stacks[idx - 1];
		s->live += ev->size;
		s->nr_live++;
		s->allocations++;
		s->allocated += ev->size;
		j = block_slot(t, ev->addr);
		t->blocks[j] = (struct block){ ev->addr, ev->size, (uint32_t)idx };
		t->nr_blocks++;
	}
	if (!t->taken && t->peak && t->prof->peak_bytes >= t->peak) {
		t->taken = true;
		for (size_t i = 0; i < t->nr_stacks; i++) {
			t->stacks[i].at_peak = t->stacks[i].live;
			t->stacks[i].nr_at_peak = t->stacks[i].nr_live;
		}
	}
	return 0;
}

static int by_peak(const void *a, const void *b)
{
	const struct stack *x = a, *y = b;

	if (x->at_peak != y->at_peak)
		return x->at_peak < y->at_peak ? 1 : -1;
	return (x->allocated < y->allocated) - (x->allocated > y->allocated);
}

/* "function+0xOFF (file)" for return address @ip of map generation @gen of @p, "file+0xOFF"
 * without a symbol there, "0xIP" outside every image. */
static const char *native_name(const struct memray_profile *p, struct symcache *sc, uint64_t ip,
			       uint32_t gen, char *out, size_t len)
{
	uint64_t pc = ip - 1; /* a return address: the call is the byte before it */

	for (size_t i = 0; i < p->nr_images; i++) {
		const struct memray_image_range *im = &p->images[i];
		const char *base = strrchr(im->path, '/') ? strrchr(im->path, '/') + 1 : im->path;
		const char *fn;

		if (im->generation != gen || pc < im->lo || pc >= im->hi)
			continue;
		fn = sc ? symcache__name(sc, im->path, pc - im->load_addr) : NULL;
		if (fn)
			snprintf(out, len, "%s (%s)", fn, base);
		else
			snprintf(out, len, "%s+0x%" PRIx64, base, ip - im->load_addr);
		return out;
	}
	snprintf(out, len, "0x%" PRIx64, ip);
	return out;
}

static void print_stack(const struct memray_profile *p, struct symcache *sym, const struct stack *s,
			FILE *out)
{
	uint64_t node = s->native_id;
	char name[512];
	int shown = 0;

	for (uint32_t i = s->nr_py; i-- > 0;) {
		const struct memray_code *c = s->py[i] < p->nr_codes ? &p->codes[s->py[i]] : NULL;

		if (c && c->defined)
			fprintf(out, "      %s at %s:%" PRId64 "\n", c->function, c->filename,
				c->firstlineno);
		else
			fprintf(out, "      <code object %" PRIu64 "> at ?\n", s->py[i]);
	}
	for (; node && node <= p->nr_native_nodes && shown < NATIVE_SHOWN; shown++) {
		fprintf(out, "      [native] %s\n",
			native_name(p, sym, p->native_ip[node - 1], s->generation, name,
				    sizeof(name)));
		node = p->native_parent[node - 1];
	}
	if (node && shown == NATIVE_SHOWN)
		fprintf(out, "      [native] ...\n");
	if (!s->nr_py && !s->native_id)
		fprintf(out, "      <no stack>\n");
}

static void top_release(struct top *t)
{
	for (size_t i = 0; i < t->nr_stacks; i++)
		free(t->stacks[i].py);
	free(t->stacks);
	free(t->by_hash);
	free(t->blocks);
}

int inspect_top_print(FILE *f, unsigned int n, FILE *out, char *err, size_t errlen)
{
	struct memray_profile first = { 0 }, second = { 0 };
	struct top t = { .prof = &second };
	struct symcache *sym = NULL;
	char a[32], b[32];
	size_t shown;
	int e;

	rewind(f);
	e = memray_read_file(f, NULL, NULL, &first, err, errlen);
	if (e)
		goto out;
	t.peak = first.peak_bytes;
	rewind(f);
	e = memray_read_file(f, on_event, &t, &second, err, errlen);
	if (e)
		goto out;
	qsort(t.stacks, t.nr_stacks, sizeof(*t.stacks), by_peak);
	sym = symcache__new(); /* NULL: native frames print as file+offset */
	shown = n < t.nr_stacks ? n : t.nr_stacks;
	fprintf(out, "top %zu of %zu stacks by memory at the peak (%s):\n", shown, t.nr_stacks,
		units_format_bytes(t.peak, a, sizeof(a)));
	for (size_t i = 0; i < shown; i++) {
		const struct stack *s = &t.stacks[i];

		fprintf(out,
			"  #%zu %s at the peak (%.1f%%) in %" PRIu64 " blocks; %s in %" PRIu64
			" allocations in all\n",
			i + 1, units_format_bytes(s->at_peak, a, sizeof(a)),
			t.peak ? 100.0 * (double)s->at_peak / (double)t.peak : 0.0, s->nr_at_peak,
			units_format_bytes(s->allocated, b, sizeof(b)), s->allocations);
		print_stack(&second, sym, s, out);
	}
out:
	symcache__free(sym);
	top_release(&t);
	memray_profile_release(&first);
	memray_profile_release(&second);
	return e;
}
