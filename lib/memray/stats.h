/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/memray/stats.h — internal to the reader: live, peak and total bytes as memray's
 * HighWaterMarkAggregator counts them (reader.h says the rule). */
#ifndef BM_MEMRAY_STATS_H
#define BM_MEMRAY_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "memray/decode.h"
#include "memray/profile.h"

struct range {
	uint64_t start, end; /* [start, end) */
};

struct mr_hwm {
	uint64_t cur;	      /* live bytes */
	struct u64map live;   /* address → size of simple allocations */
	struct range *ranges; /* live MMAP ranges */
	size_t nr_ranges, ranges_cap;
};

/* Counts one ALLOCATION record into @p (allocations, total_bytes, peak_bytes). 0 or -ENOMEM. */
int mr_hwm_account(struct mr_hwm *h, struct memray_profile *p, const struct memray_event *ev);

/* Frees what @h owns and zeroes it. */
void mr_hwm_release(struct mr_hwm *h);

#endif /* BM_MEMRAY_STATS_H */
