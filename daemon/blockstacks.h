/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/blockstacks.h — which stack and which thread allocated each live block of a profiled
 * process: a second live table keyed by address, so `top` can group live bytes by function
 * without touching the accounting table; pure. */
#ifndef BM_BLOCKSTACKS_H
#define BM_BLOCKSTACKS_H

#include <stdint.h>

#include "benchmem.h"
#include "live.h"

/* Applies one event of a profiled process to *@t: an allocation records (stack id, tid) at
 * its address (creating the table at the first one), a free forgets it. Mappings are not
 * kept: they carry no heap stack worth naming. A table that cannot grow only misses blocks. */
void blockstacks_note(struct live_table **t, const struct bm_event *e);

/* What blockstacks_note() kept for one block. */
struct block_origin {
	uint64_t addr;
	int32_t stack_id; /* <0: none */
	uint32_t tid;
};

/* Calls @fn for every block in @t (NULL: none) until it returns non-zero (returned). */
int blockstacks_foreach(const struct live_table *t,
			int (*fn)(void *arg, const struct block_origin *o), void *arg);

#endif /* BM_BLOCKSTACKS_H */
