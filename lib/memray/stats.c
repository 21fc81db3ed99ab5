// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/memray/stats.c — the numbers `memray stats` prints, from the ALLOCATION records in file
 * order (memray's HighWaterMarkAggregator); pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memray/format.h"
#include "memray/stats.h"

enum kind { K_SIMPLE_ALLOC, K_SIMPLE_FREE, K_RANGED_ALLOC, K_RANGED_FREE };

static enum kind allocator_kind(unsigned int id)
{
	switch (id) {
	case MEMRAY_AL_PYMALLOC_FREE:
	case MEMRAY_AL_FREE:
		return K_SIMPLE_FREE;
	case MEMRAY_AL_MMAP:
		return K_RANGED_ALLOC;
	case MEMRAY_AL_MUNMAP:
		return K_RANGED_FREE;
	default:
		return K_SIMPLE_ALLOC;
	}
}

static void peak_update(struct mr_hwm *h, struct memray_profile *p)
{
	if (h->cur > p->peak_bytes)
		p->peak_bytes = h->cur;
}

static int range_add(struct mr_hwm *h, uint64_t addr, uint64_t size)
{
	uint64_t end = addr + size < addr ? UINT64_MAX : addr + size;
	struct range *tmp;

	if (h->nr_ranges == h->ranges_cap) {
		size_t cap = h->ranges_cap ? h->ranges_cap * 2 : 64;

		tmp = realloc(h->ranges, cap * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		h->ranges = tmp;
		h->ranges_cap = cap;
	}
	h->ranges[h->nr_ranges++] = (struct range){ addr, end };
	return 0;
}

/* Removes [addr, addr+size) from every range, splitting; *removed = bytes taken away. */
static int range_remove(struct mr_hwm *h, uint64_t addr, uint64_t size, uint64_t *removed)
{
	uint64_t end = addr + size < addr ? UINT64_MAX : addr + size;
	int err;

	*removed = 0;
	for (size_t i = 0; i < h->nr_ranges;) {
		struct range *g = &h->ranges[i];
		uint64_t lo = g->start > addr ? g->start : addr;
		uint64_t hi = g->end < end ? g->end : end;
		uint64_t right = g->end;

		if (lo >= hi) {
			i++;
			continue;
		}
		*removed += hi - lo;
		if (g->start < addr && right > end) {
			g->end = addr;
			err = range_add(h, end, right - end); /* may move h->ranges */
			if (err)
				return err;
			i++;
		} else if (g->start < addr) {
			g->end = addr;
			i++;
		} else if (right > end) {
			g->start = end;
			i++;
		} else {
			*g = h->ranges[--h->nr_ranges];
		}
	}
	return 0;
}

int mr_hwm_account(struct mr_hwm *h, struct memray_profile *p, const struct memray_event *ev)
{
	uint64_t sz;
	int err = 0;

	switch (allocator_kind(ev->allocator)) {
	case K_SIMPLE_ALLOC:
		p->allocations++;
		p->total_bytes += ev->size;
		h->cur += ev->size;
		err = u64map_put(&h->live, ev->addr, ev->size);
		break;
	case K_SIMPLE_FREE:
		if (u64map_del(&h->live, ev->addr, &sz))
			h->cur -= sz;
		break;
	case K_RANGED_ALLOC:
		p->allocations++;
		p->total_bytes += ev->size;
		h->cur += ev->size;
		if (ev->size)
			err = range_add(h, ev->addr, ev->size);
		break;
	case K_RANGED_FREE:
		err = range_remove(h, ev->addr, ev->size, &sz);
		h->cur -= sz;
		break;
	}
	peak_update(h, p);
	return err;
}

void mr_hwm_release(struct mr_hwm *h)
{
	u64map_free(&h->live);
	free(h->ranges);
	memset(h, 0, sizeof(*h));
}
