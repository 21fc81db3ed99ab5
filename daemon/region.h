/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/region.h — region accounting: peak, total and count of one open region; pure
 * arithmetic over the event stream (design.md "What each number means"). */
#ifndef BM_REGION_H
#define BM_REGION_H

#include <stdint.h>

struct region_acct {
	uint32_t start_epoch; /* blocks born at this epoch or later belong to the region */
	uint64_t cur_bytes;   /* live bytes the region allocated */
	uint64_t peak_bytes;  /* high-water mark of cur_bytes */
	uint64_t total_bytes; /* sum of requested sizes */
	uint64_t allocations; /* number of allocation calls */
};

/* Opens the accounting. The session's epoch counts region starts: the caller bumps it and
 * passes the new value, so every block born from now on carries an epoch >= @epoch. */
void region_acct_start(struct region_acct *r, uint32_t epoch);

/* A block of @size bytes was allocated while the region is open. Inline: it runs for every
 * event and every open region. */
static inline void region_acct_alloc(struct region_acct *r, uint64_t size)
{
	r->allocations++;
	r->total_bytes += size;
	r->cur_bytes += size;
	if (r->cur_bytes > r->peak_bytes)
		r->peak_bytes = r->cur_bytes;
}

/* A block born at @epoch with @size bytes died. A block born before the region
 * started does not lower its count: what the region allocated is what it owns. */
static inline void region_acct_free(struct region_acct *r, uint32_t epoch, uint64_t size)
{
	if (epoch < r->start_epoch)
		return;
	/* cannot underflow: only blocks counted by region_acct_alloc reach here */
	r->cur_bytes = r->cur_bytes >= size ? r->cur_bytes - size : 0;
}

#endif /* BM_REGION_H */
