/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/memray/format.h — every constant of memray's .bin format (memray 1.20, header version 13,
 * file format 0 = ALL_ALLOCATIONS) that the writer and the reader share: magic, versions,
 * record tags, the pointer cache, allocator ids. The byte layout is in memray-format.md. */
#ifndef BM_MEMRAY_FORMAT_H
#define BM_MEMRAY_FORMAT_H

#include <stdbool.h>

/* Header (§3). */
#define MEMRAY_MAGIC	       "memray" /* 7 bytes with its NUL */
#define MEMRAY_MAGIC_LEN       7
#define MEMRAY_LZ4_MAGIC       "\x04\x22\x4d\x18" /* a compressed capture starts with this */
#define MEMRAY_LZ4_MAGIC_LEN   4
#define MEMRAY_HEADER_VERSION  13
#define MEMRAY_FMT_ALL_ALLOCS  0 /* file_format: one record per call (the only one we read) */
#define MEMRAY_FMT_AGGREGATED  1 /* file_format: `memray run --aggregate` */
#define MEMRAY_PY_ALLOC_MALLOC 3 /* header python_allocator for native C programs */
#define MEMRAY_PY_ALLOC_MAX    6 /* python_allocator must be 1..6 */
#define MEMRAY_PY_VERSION_DFLT 0x030B0000u /* header python_version when we have none */
#define MEMRAY_CACHE_SLOTS     15	   /* pointer cache of ALLOCATION records */

/* Record tags (§4): the low-bit-flag records first, then the whole-byte ones. */
#define MEMRAY_T_ALLOCATION	0x80 /* 1ppppaaa: cache slot pppp, allocator aaa */
#define MEMRAY_T_FRAME_PUSH	0x40
#define MEMRAY_T_OBJECT_RECORD	0x20
#define MEMRAY_T_FRAME_POP	0x10
#define MEMRAY_T_PADDING	0x00 /* zero bytes after the data, which memray ignores */
#define MEMRAY_T_TRAILER	0x01
#define MEMRAY_T_MEMORY_RECORD	0x02
#define MEMRAY_T_NATIVE_INDEX	0x05 /* NATIVE_TRACE_INDEX */
#define MEMRAY_T_MAP_START	0x06 /* MEMORY_MAP_START */
#define MEMRAY_T_SEGMENT_HEADER 0x07
#define MEMRAY_T_SEGMENT	0x08
#define MEMRAY_T_THREAD_RECORD	0x0a
#define MEMRAY_T_CONTEXT_SWITCH 0x0c
#define MEMRAY_T_CODE_OBJECT	0x0e

/* memray's hooks::Allocator ids (§4, "Allocator ids"). */
enum memray_allocator {
	MEMRAY_AL_PYMALLOC_FREE = 1,
	MEMRAY_AL_PYMALLOC_MALLOC,
	MEMRAY_AL_PYMALLOC_CALLOC,
	MEMRAY_AL_PYMALLOC_REALLOC,
	MEMRAY_AL_FREE,
	MEMRAY_AL_MALLOC,
	MEMRAY_AL_REALLOC,
	MEMRAY_AL_CALLOC,
	MEMRAY_AL_POSIX_MEMALIGN,
	MEMRAY_AL_ALIGNED_ALLOC,
	MEMRAY_AL_MEMALIGN,
	MEMRAY_AL_VALLOC,
	MEMRAY_AL_PVALLOC,
	MEMRAY_AL_MMAP,
	MEMRAY_AL_MUNMAP,
	MEMRAY_AL_MAX = MEMRAY_AL_MUNMAP,
};

/* A deallocator's record carries neither a native id nor a size. */
static inline bool memray_allocator_is_dealloc(unsigned int id)
{
	return id == MEMRAY_AL_FREE || id == MEMRAY_AL_PYMALLOC_FREE;
}

/* memray's name of allocator id 1..15 ("malloc", "calloc", "munmap"); NULL otherwise. */
const char *memray_allocator_name(unsigned int id);

#endif /* BM_MEMRAY_FORMAT_H */
