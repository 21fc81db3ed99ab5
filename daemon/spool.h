/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/spool.h — a bounded per-region event spool: memory chunks under a shared budget,
 * then a deflate-compressed anonymous temp file under a disk budget, replayed in order. */
#ifndef BM_SPOOL_H
#define BM_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "allocators.h"

struct spool;

/* One event as the spool keeps it. */
struct spool_rec {
	uint64_t addr;	   /* user address of the block */
	uint64_t size;	   /* bytes; 0 for FREE */
	uint32_t tid;	   /* thread id */
	int32_t stack_id;  /* BPF stack map id; <0: no stack */
	uint16_t kind;	   /* enum bm_event_kind */
	uint16_t func;	   /* row id of lib/allocators.h */
	uint32_t py_stack; /* the session's Python stack index (daemon/pystacks.h); 0: none */
};
_Static_assert(sizeof(struct spool_rec) == 32, "spool_rec is 32 bytes");

/* The limits shared by every spool of a daemon; owned by the caller, which must keep it
 * alive until the last spool using it is freed. Spools add and subtract their own bytes;
 * the caller only sets the limits (and may read the used counters). */
struct spool_budget {
	uint64_t mem_used, mem_limit;	/* bytes of memory chunks (SPOOL_CHUNK_BYTES each) */
	uint64_t disk_used, disk_limit; /* compressed bytes in spill files; limit 0 = no spill */
};

/* Memory is taken from the budget one chunk at a time: SPOOL_CHUNK_BYTES each (one malloc),
 * holding SPOOL_CHUNK_RECS records. */
#define SPOOL_CHUNK_BYTES 65536u
#define SPOOL_CHUNK_RECS  2047u

/* A new empty spool charging @b. @spill_dir is where the spill file is created (with
 * O_TMPFILE, else mkstemp + unlink, so no name is ever left behind), at the first spill;
 * NULL means never spill. Returns NULL with errno: EINVAL (@b NULL), ENOTDIR/ENOENT
 * (@spill_dir is not a directory), ENOMEM. Besides the budgeted chunks, a spool costs about
 * 4.5 KiB, plus about 90 KiB of deflate state and buffer once it spills. */
struct spool *spool__new(struct spool_budget *b, const char *spill_dir);

/* Frees @s (NULL-safe): returns its memory and disk bytes to the budget and closes the spill
 * file, which has no name, so the kernel removes it. */
void spool__free(struct spool *s);

/* Stores a copy of @r after every record stored before. Amortised O(1): records go into the
 * newest memory chunk; a new chunk is taken from the budget when it is full; when the
 * budget has no room, the spool's OLDEST chunk is compressed to the spill file (one
 * deflate batch) and reused, so the file always holds the oldest records. A spool that owns
 * no chunk batches through a small internal buffer (128 records) instead.
 * Returns 0 when @r is stored. Otherwise @r is dropped, the spool becomes truncated and
 * every later append is dropped (counted in spool__dropped()) and returns -ENOSPC, so the
 * stored records are always an exact prefix of the appended ones. Errors: -ENOSPC (memory
 * and disk budgets both exhausted, or no spill directory), -ENOMEM, or the -errno of the
 * spill file's creation or write (a partly written batch is cut off the file again). */
int spool__append(struct spool *s, const struct spool_rec *r);

/* Calls @fn(@arg, record) for every stored record, in append order (the spill file first,
 * then memory). Stops at and returns the first non-zero return of @fn. Returns 0, -ENOMEM,
 * -EIO (the spill file does not decompress to what was written) or a read's -errno. The
 * spool is unchanged and may be appended to and replayed again afterwards. */
int spool__replay(struct spool *s, int (*fn)(void *arg, const struct spool_rec *r), void *arg);

uint64_t spool__count(const struct spool *s);	   /* records stored (what replay yields) */
uint64_t spool__dropped(const struct spool *s);	   /* records dropped since truncation */
bool spool__truncated(const struct spool *s);	   /* an append has failed */
uint64_t spool__mem_bytes(const struct spool *s);  /* memory charged to the budget */
uint64_t spool__disk_bytes(const struct spool *s); /* compressed bytes in the spill file */

#endif /* BM_SPOOL_H */
