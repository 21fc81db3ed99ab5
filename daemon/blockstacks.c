// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/blockstacks.c — a live table whose "size" holds stack id + 1 and whose "epoch" holds
 * the tid: both fit (stack ids < BM_MAX_STACKS, tids < 2^22 = the kernel's PID_MAX_LIMIT). */
#include "allocators.h"
#include "blockstacks.h"

_Static_assert(BM_MAX_STACKS < LIVE_SIZE_MAX, "a stack id fits the size field");

void blockstacks_note(struct live_table **t, const struct bm_event *e)
{
	struct live_block old;

	if (e->kind == BM_EV_FREE) {
		if (*t)
			live_table__remove(*t, e->addr, &old);
		return;
	}
	if (e->kind != BM_EV_ALLOC || e->func == BM_FN_MMAP || e->tid > LIVE_EPOCH_MAX)
		return;
	if (!*t)
		*t = live_table__new();
	if (*t)
		live_table__insert(*t, e->addr, e->stack_id < 0 ? 0 : (uint64_t)e->stack_id + 1,
				   e->tid, &old);
}

struct walk {
	int (*fn)(void *arg, const struct block_origin *o);
	void *arg;
};

static int one(void *arg, const struct live_block *b)
{
	struct walk *w = arg;
	struct block_origin o = { .addr = b->addr,
				  .stack_id = b->size ? (int32_t)(b->size - 1) : -1,
				  .tid = b->epoch };

	return w->fn(w->arg, &o);
}

int blockstacks_foreach(const struct live_table *t,
			int (*fn)(void *arg, const struct block_origin *o), void *arg)
{
	struct walk w = { fn, arg };

	return t ? live_table__foreach(t, one, &w) : 0;
}
