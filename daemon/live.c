// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/live.c — open-addressing table of live blocks (linear probing, backward-shift
 * deletion: no tombstones, so a long run of malloc/free never degrades it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

#define LIVE_MIN_SLOTS 1024 /* power of two */

struct live_range {
	uint64_t start, end;
	uint32_t epoch;
};

struct live_slot {
	uint64_t addr;	 /* 0 marks an empty slot: malloc never returns 0 */
	uint64_t packed; /* size in bits 0-39, epoch in bits 40-63 */
};

static inline uint64_t pack(uint64_t size, uint32_t epoch)
{
	return (size > LIVE_SIZE_MAX ? LIVE_SIZE_MAX : size) | (uint64_t)epoch << 40;
}

static inline void unpack(const struct live_slot *s, struct live_block *b)
{
	b->addr = s->addr;
	b->size = s->packed & LIVE_SIZE_MAX;
	b->epoch = (uint32_t)(s->packed >> 40);
}

struct live_table {
	struct live_slot *slots;
	size_t mask; /* nr slots - 1 */
	size_t count;
	struct live_range *ranges;
	size_t nr_ranges, cap_ranges;
};

static inline size_t slot_of(const struct live_table *t, uint64_t addr)
{
	/* blocks are 16-byte aligned: drop the zero bits, then Fibonacci hashing */
	return (size_t)(((addr >> 4) * 0x9E3779B97F4A7C15ULL) >> 20) & t->mask;
}

struct live_table *live_table__new(void)
{
	struct live_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->slots = calloc(LIVE_MIN_SLOTS, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->mask = LIVE_MIN_SLOTS - 1;
	return t;
}

void live_table__free(struct live_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->ranges);
	free(t);
}

static void put(struct live_table *t, const struct live_slot *b)
{
	size_t i = slot_of(t, b->addr);

	while (t->slots[i].addr)
		i = (i + 1) & t->mask;
	t->slots[i] = *b;
}

static int grow(struct live_table *t)
{
	size_t old_n = t->mask + 1, n;
	struct live_slot *old = t->slots;

	if (__builtin_mul_overflow(old_n, 2, &n))
		return -ENOMEM;
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		if (old[i].addr)
			put(t, &old[i]);
	}
	free(old);
	return 0;
}

int live_table__insert(struct live_table *t, uint64_t addr, uint64_t size, uint32_t epoch,
		       struct live_block *old)
{
	size_t i;

	memset(old, 0, sizeof(*old));
	/* load factor 3/4: 16-byte slots cost 21 to 43 bytes per live block */
	if ((t->count + 1) * 4 > (t->mask + 1) * 3 && grow(t))
		return -ENOMEM;
	for (i = slot_of(t, addr); t->slots[i].addr; i = (i + 1) & t->mask) {
		if (t->slots[i].addr == addr) {
			unpack(&t->slots[i], old);
			t->slots[i].packed = pack(size, epoch);
			return 0;
		}
	}
	t->slots[i] = (struct live_slot){ .addr = addr, .packed = pack(size, epoch) };
	t->count++;
	return 0;
}

int live_table__remove(struct live_table *t, uint64_t addr, struct live_block *out)
{
	size_t i, j;

	for (i = slot_of(t, addr); t->slots[i].addr != addr; i = (i + 1) & t->mask) {
		if (!t->slots[i].addr)
			return -ENOENT;
	}
	unpack(&t->slots[i], out);
	/* backward-shift: pull later members of the cluster into the hole */
	for (j = (i + 1) & t->mask; t->slots[j].addr; j = (j + 1) & t->mask) {
		size_t home = slot_of(t, t->slots[j].addr);

		/* move j to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].addr = 0;
	t->count--;
	return 0;
}

static int add_range(struct live_table *t, uint64_t start, uint64_t end, uint32_t epoch)
{
	if (t->nr_ranges == t->cap_ranges) {
		size_t cap = t->cap_ranges ? t->cap_ranges * 2 : 16;
		struct live_range *r = reallocarray(t->ranges, cap, sizeof(*r));

		if (!r)
			return -ENOMEM;
		t->ranges = r;
		t->cap_ranges = cap;
	}
	t->ranges[t->nr_ranges++] = (struct live_range){ start, end, epoch };
	return 0;
}

int live_table__map(struct live_table *t, uint64_t addr, uint64_t len, uint32_t epoch)
{
	if (!len || addr + len < addr)
		return -EINVAL;
	return add_range(t, addr, addr + len, epoch);
}

uint64_t live_table__unmap(struct live_table *t, uint64_t addr, uint64_t len, live_unmap_fn *fn,
			   void *arg)
{
	uint64_t end = addr + len < addr ? UINT64_MAX : addr + len, removed = 0;

	for (size_t i = 0; i < t->nr_ranges;) {
		struct live_range r = t->ranges[i];
		uint64_t lo = r.start > addr ? r.start : addr, hi = r.end < end ? r.end : end;

		if (lo >= hi) {
			i++;
			continue;
		}
		fn(hi - lo, r.epoch, arg);
		removed += hi - lo;
		if (lo == r.start && hi == r.end) {
			t->ranges[i] = t->ranges[--t->nr_ranges];
			continue;
		}
		if (lo == r.start) {
			t->ranges[i].start = hi;
		} else {
			t->ranges[i].end = lo;
			/* a hole in the middle leaves a tail; on ENOMEM the tail is forgotten,
			 * which only under-counts later unmaps of it */
			if (hi < r.end)
				add_range(t, hi, r.end, r.epoch);
		}
		i++;
	}
	return removed;
}

void live_table__prefetch(const struct live_table *t, uint64_t addr)
{
	__builtin_prefetch(&t->slots[slot_of(t, addr)], 1);
}

int live_table__get(const struct live_table *t, uint64_t addr, struct live_block *out)
{
	for (size_t i = slot_of(t, addr); t->slots[i].addr; i = (i + 1) & t->mask) {
		if (t->slots[i].addr == addr) {
			unpack(&t->slots[i], out);
			return 0;
		}
	}
	return -ENOENT;
}

int live_table__foreach(const struct live_table *t,
			int (*fn)(void *arg, const struct live_block *b), void *arg)
{
	struct live_block b;
	int ret;

	for (size_t i = 0; i <= t->mask; i++) {
		if (!t->slots[i].addr)
			continue;
		unpack(&t->slots[i], &b);
		ret = fn(arg, &b);
		if (ret)
			return ret;
	}
	return 0;
}

size_t live_table__count(const struct live_table *t)
{
	return t->count;
}

size_t live_table__mem_bytes(const struct live_table *t)
{
	return sizeof(*t) + (t->mask + 1) * sizeof(*t->slots) + t->cap_ranges * sizeof(*t->ranges);
}
