/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/allocators.h — THE allocator table: one row per entry point we know. symbols.c (what to
 * look up), probe.c (what to attach, the BPF argument specs), the collector (probe placement),
 * the session (ranged blocks) and lib/memray (allocator ids and names) all derive from it;
 * pure. Adding an allocator is one BM_ALLOCATORS line (plus its test). */
#ifndef BM_ALLOCATORS_H
#define BM_ALLOCATORS_H

#include <stdbool.h>
#include <stdint.h>

#include "benchmem.h"
#include "memray/format.h"

/* What a call does to the heap (descriptive; the BPF side reads only the argument spec). */
enum bm_alloc_kind {
	BM_AK_ALLOC = 1, /* returns a new block of `size` bytes */
	BM_AK_CALLOC,	 /* returns a new block of `nmemb` * `size` bytes */
	BM_AK_ALIGNED,	 /* returns (or stores through `out`) a new block with an alignment */
	BM_AK_REALLOC,	 /* frees `addr` (when not NULL) and returns a new block */
	BM_AK_FREE,	 /* frees `addr` */
	BM_AK_MMAP,	 /* maps a range of `size` bytes (anonymous only) */
	BM_AK_MUNMAP,	 /* unmaps [`addr`, `addr` + `size`) */
};

/*
 * Row flags (the BM_AS_* flags of bpf/benchmem.h go to the BPF side as they are).
 * FORWARDS: a wrapper that allocates through a row we probe (libstdc++'s operator new calls
 * malloc, operator delete calls free; Rust's System allocator does the same). It is counted
 * once, at the call it makes: probing it too would count every delete twice (free emits at
 * its entry, with no pending slot to tell it is nested). Never attached; known by name.
 * MOVABLE: entry-only, reads only the first argument: the collector may move its probe past
 * a "test %rdi,%rdi" prologue (placement.c) to avoid a single-step.
 */
#define BM_AF_FORWARDS 0x100u
#define BM_AF_MOVABLE  0x200u

/*
 * THE TABLE. X(ID, names, kind, size, nmemb, addr, out, flags, memray id)
 *   names: NUL-separated, first is the canonical one; aliases of one row or rows that share
 *          an address are probed once, the first name in table order wins (glibc 2.36:
 *          memalign == aligned_alloc, mmap == mmap64, __libc_malloc == malloc).
 *   size/nmemb/addr/out: 1-based argument that holds the size / the element count / the block
 *          freed or resized / where the new block's address is stored; 0 = none.
 *   flags: BM_AS_* (bpf/benchmem.h) | BM_AF_*.
 * The row order is the numbering (BM_FN_<ID>, 1-based): it is internal (the BPF cookie, the
 * spool), never written to a result.
 */
#define BM_ALLOCATORS(X)                                                                           \
	X(MALLOC, "malloc\0__libc_malloc\0", BM_AK_ALLOC, 1, 0, 0, 0, BM_AS_RETURN,                \
	  MEMRAY_AL_MALLOC)                                                                        \
	X(CALLOC, "calloc\0__libc_calloc\0", BM_AK_CALLOC, 2, 1, 0, 0, BM_AS_RETURN,               \
	  MEMRAY_AL_CALLOC)                                                                        \
	X(REALLOC, "realloc\0__libc_realloc\0", BM_AK_REALLOC, 2, 0, 1, 0, BM_AS_RETURN,           \
	  MEMRAY_AL_REALLOC)                                                                       \
	X(REALLOCARRAY, "reallocarray\0", BM_AK_REALLOC, 3, 2, 1, 0, BM_AS_RETURN,                 \
	  MEMRAY_AL_REALLOC)                                                                       \
	X(FREE, "free\0__libc_free\0", BM_AK_FREE, 0, 0, 1, 0, BM_AS_EMIT_FREE | BM_AF_MOVABLE,    \
	  MEMRAY_AL_FREE)                                                                          \
	X(POSIX_MEMALIGN, "posix_memalign\0", BM_AK_ALIGNED, 3, 0, 0, 1,                           \
	  BM_AS_RETURN | BM_AS_STATUS, MEMRAY_AL_POSIX_MEMALIGN)                                   \
	X(MEMALIGN, "memalign\0__libc_memalign\0", BM_AK_ALIGNED, 2, 0, 0, 0, BM_AS_RETURN,        \
	  MEMRAY_AL_MEMALIGN)                                                                      \
	X(ALIGNED_ALLOC, "aligned_alloc\0", BM_AK_ALIGNED, 2, 0, 0, 0, BM_AS_RETURN,               \
	  MEMRAY_AL_ALIGNED_ALLOC)                                                                 \
	X(VALLOC, "valloc\0__libc_valloc\0", BM_AK_ALIGNED, 1, 0, 0, 0, BM_AS_RETURN,              \
	  MEMRAY_AL_VALLOC)                                                                        \
	X(PVALLOC, "pvalloc\0__libc_pvalloc\0", BM_AK_ALIGNED, 1, 0, 0, 0, BM_AS_RETURN,           \
	  MEMRAY_AL_PVALLOC)                                                                       \
	X(MMAP, "mmap\0mmap64\0", BM_AK_MMAP, 2, 0, 0, 0,                                          \
	  BM_AS_RETURN | BM_AS_ANON_ONLY | BM_AS_INSIDE | BM_AS_FAIL_NEG1, MEMRAY_AL_MMAP)         \
	X(MUNMAP, "munmap\0", BM_AK_MUNMAP, 2, 0, 1, 0, BM_AS_EMIT_MUNMAP | BM_AS_INSIDE,          \
	  MEMRAY_AL_MUNMAP)                                                                        \
	/* C++ (libstdc++): counted at the malloc / aligned_alloc / free they call */              \
	X(CXX_NEW, "_Znwm\0_Znam\0_ZnwmRKSt9nothrow_t\0_ZnamRKSt9nothrow_t\0", BM_AK_ALLOC, 1, 0,  \
	  0, 0, BM_AS_RETURN | BM_AF_FORWARDS, MEMRAY_AL_MALLOC)                                   \
	X(CXX_NEW_ALIGNED,                                                                         \
	  "_ZnwmSt11align_val_t\0_ZnamSt11align_val_t\0_ZnwmSt11align_val_tRKSt9nothrow_t\0"       \
	  "_ZnamSt11align_val_tRKSt9nothrow_t\0",                                                  \
	  BM_AK_ALIGNED, 1, 0, 0, 0, BM_AS_RETURN | BM_AF_FORWARDS, MEMRAY_AL_ALIGNED_ALLOC)       \
	X(CXX_DELETE,                                                                              \
	  "_ZdlPv\0_ZdaPv\0_ZdlPvm\0_ZdaPvm\0_ZdlPvRKSt9nothrow_t\0_ZdaPvRKSt9nothrow_t\0"         \
	  "_ZdlPvSt11align_val_t\0_ZdaPvSt11align_val_t\0_ZdlPvmSt11align_val_t\0"                 \
	  "_ZdaPvmSt11align_val_t\0",                                                              \
	  BM_AK_FREE, 0, 0, 1, 0, BM_AS_EMIT_FREE | BM_AF_FORWARDS, MEMRAY_AL_FREE)                \
	/* Rust's global allocator shims: std's System allocator calls malloc & co. */             \
	X(RUST_ALLOC, "__rust_alloc\0", BM_AK_ALLOC, 1, 0, 0, 0, BM_AS_RETURN | BM_AF_FORWARDS,    \
	  MEMRAY_AL_MALLOC)                                                                        \
	X(RUST_ALLOC_ZEROED, "__rust_alloc_zeroed\0", BM_AK_ALLOC, 1, 0, 0, 0,                     \
	  BM_AS_RETURN | BM_AF_FORWARDS, MEMRAY_AL_CALLOC)                                         \
	X(RUST_REALLOC, "__rust_realloc\0", BM_AK_REALLOC, 4, 0, 1, 0,                             \
	  BM_AS_RETURN | BM_AF_FORWARDS, MEMRAY_AL_REALLOC)                                        \
	X(RUST_DEALLOC, "__rust_dealloc\0", BM_AK_FREE, 0, 0, 1, 0,                                \
	  BM_AS_EMIT_FREE | BM_AF_FORWARDS, MEMRAY_AL_FREE)

enum bm_alloc_func {
	BM_FN_NONE = 0,
#define BM_X_ENUM(id, ...) BM_FN_##id,
	BM_ALLOCATORS(BM_X_ENUM)
#undef BM_X_ENUM
		BM_FN_MAX,
};
_Static_assert(BM_FN_MAX <= BM_ROWS_MAX, "the BPF argument-spec array holds every row");

struct allocator {
	const char *names; /* NUL-separated, ends with an empty name */
	enum bm_alloc_kind kind;
	struct bm_argspec spec; /* what the BPF programs read for this row's cookie */
	uint32_t flags;		/* BM_AS_* | BM_AF_* */
	uint8_t memray_id;	/* enum memray_allocator */
};

/* The row of @func (enum bm_alloc_func), NULL when out of range. */
const struct allocator *allocator_row(unsigned int func);

/* The canonical (first) name of @func's row; "?" when out of range. */
const char *allocator_name(unsigned int func);

/* The row id whose names include @symbol; 0 when none. */
unsigned int allocator_by_name(const char *symbol);

/* Whether the row's probe needs a return probe (the new block is the return value). */
bool allocator_needs_return(unsigned int func);

/* Whether a block of @func is a ranged mapping (mmap) rather than a heap block. Inline: the
 * session asks it for every allocation event (the table folds into one compare). */
static inline bool allocator_is_ranged(unsigned int func)
{
	switch (func) {
#define BM_X_RANGED(id, nm, k, ...)                                                                \
	case BM_FN_##id:                                                                           \
		return (k) == BM_AK_MMAP;
		BM_ALLOCATORS(BM_X_RANGED)
#undef BM_X_RANGED
	default:
		return false;
	}
}

/* Fills @specs[BM_ROWS_MAX] (the BPF side's rodata array) from the table. */
void allocators_fill_specs(struct bm_argspec *specs);

/* memray's allocator id 1..15 for an event of @func, or 0 (FREE/MUNMAP rows and unknown ids
 * have none: those are written as their own records). */
unsigned int allocator_memray_id(unsigned int func);

#endif /* BM_ALLOCATORS_H */
