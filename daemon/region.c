// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/region.c — per-region peak/total/count arithmetic; pure. */
#include <string.h>

#include "region.h"

void region_acct_start(struct region_acct *r, uint32_t epoch)
{
	memset(r, 0, sizeof(*r));
	r->start_epoch = epoch;
}

void region_acct_alloc(struct region_acct *r, uint64_t size)
{
	r->allocations++;
	r->total_bytes += size;
	r->cur_bytes += size;
	if (r->cur_bytes > r->peak_bytes)
		r->peak_bytes = r->cur_bytes;
}

void region_acct_free(struct region_acct *r, uint32_t epoch, uint64_t size)
{
	if (epoch < r->start_epoch)
		return;
	/* cannot underflow: only blocks counted by region_acct_alloc reach here */
	r->cur_bytes = r->cur_bytes >= size ? r->cur_bytes - size : 0;
}
