/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/live.h — the live allocations of one process: address → (size, birth sequence),
 * plus its anonymous mappings as ranges; pure. */
#ifndef BM_LIVE_H
#define BM_LIVE_H

#include <stddef.h>
#include <stdint.h>

struct live_table;

struct live_block {
	uint64_t addr;	/* user address */
	uint64_t size;	/* requested bytes (saturates at LIVE_SIZE_MAX) */
	uint32_t epoch; /* the session's region epoch when the block was born */
};

/* A slot packs size and epoch into 64 bits, so a live block costs 16 bytes of slot and at
 * most 43 bytes with the table's load factor (issue: <= 48 bytes per live allocation). */
#define LIVE_SIZE_MAX  ((1ULL << 40) - 1)
#define LIVE_EPOCH_MAX ((1U << 24) - 1)

/* Called for each piece of a mapping that an unmap removes: @bytes of a range born at
 * @epoch. */
typedef void live_unmap_fn(uint64_t bytes, uint32_t epoch, void *arg);

struct live_table *live_table__new(void);    /* NULL + errno */
void live_table__free(struct live_table *t); /* NULL-safe */

/* Records a block. A block already live at @addr (its free was lost) is replaced and
 * returned in @old (old->size == 0 when there was none). Returns 0 or -ENOMEM; the
 * table grows by doubling, so the hot path allocates only amortised. */
int live_table__insert(struct live_table *t, uint64_t addr, uint64_t size, uint32_t epoch,
		       struct live_block *old);

/* Removes the block at @addr into @out. Returns 0, or -ENOENT when @addr is not live
 * (a block born before tracing, or in another process). */
int live_table__remove(struct live_table *t, uint64_t addr, struct live_block *out);

/* Records an anonymous mapping [addr, addr+len). 0 or -ENOMEM. */
int live_table__map(struct live_table *t, uint64_t addr, uint64_t len, uint32_t epoch);

/* Removes [addr, addr+len) from the recorded mappings (splitting or shrinking them) and
 * calls @fn for each removed piece. Returns the bytes removed. */
uint64_t live_table__unmap(struct live_table *t, uint64_t addr, uint64_t len, live_unmap_fn *fn,
			   void *arg);

/* Starts loading the slot where @addr's block lives or would go: a caller holding a run of
 * events calls it some events ahead, so the insert or remove finds the cache line there (the
 * table is larger than the caches; a lookup is otherwise a memory round trip). */
void live_table__prefetch(const struct live_table *t, uint64_t addr);

/* Copies the block at @addr into @out. Returns 0 or -ENOENT. */
int live_table__get(const struct live_table *t, uint64_t addr, struct live_block *out);

/* Calls @fn for each live block, in slot order, until @fn returns non-zero (returned). */
int live_table__foreach(const struct live_table *t,
			int (*fn)(void *arg, const struct live_block *b), void *arg);

size_t live_table__count(const struct live_table *t);	  /* live blocks */
size_t live_table__mem_bytes(const struct live_table *t); /* our own memory for them */

#endif /* BM_LIVE_H */
