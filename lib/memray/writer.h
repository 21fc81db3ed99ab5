/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/memray/writer.h — the memray-compatible .bin writer (memray 1.20, header version 13, file
 * format 0 = ALL_ALLOCATIONS); pure: it only write()s to the fd it is given. No other file
 * knows the format but reader.c (the constants are in format.h, the byte layout in
 * memray-format.md). */
#ifndef BM_MEMRAY_H
#define BM_MEMRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocators.h"

struct memray_writer;

struct memray_meta {
	const char *command_line; /* shown in reports; NULL = "" */
	int32_t pid;
	int64_t start_ms, end_ms; /* ms since the epoch; end < start is written as start */
	uint8_t python_allocator; /* 1..6; 0 = 3 ("malloc"); > 6 is -EINVAL */
	bool native_traces;	  /* allocations carry native stacks (frames are ignored if not) */
	uint32_t python_version;  /* PY_VERSION_HEX; 0 = 0x030B0000 (only picks a line decoder) */
	uint64_t main_tid;	  /* header main_tid; 0 = pid */
};

struct memray_segment {
	uint64_t vaddr, memsz; /* one PT_LOAD: p_vaddr, p_memsz */
};

struct memray_image {
	const char *path;   /* ELF file as openable where `memray` will run; NULL = "" */
	uint64_t load_addr; /* load bias (0 for a non-PIE executable) */
	const struct memray_segment *segs;
	size_t nr_segs;
};

/* Writes the header to @fd (at its current offset) and returns a writer, or NULL with errno
 * (EINVAL bad meta, EBADF, ENOMEM, or the write error). The writer buffers its output; it never
 * closes @fd. If @fd is seekable and not O_APPEND, finish() rewrites the header in place. */
struct memray_writer *memray_writer__new(int fd, const struct memray_meta *m);

/* Starts a new memory-map generation (MEMORY_MAP_START) and describes @n images
 * (SEGMENT_HEADER + one SEGMENT per entry of segs). Write the complete map each time.
 * If native_traces is set and this was never called, the first allocation with a stack
 * writes an empty generation first, so memray's resolver never sees generation 0.
 * Returns 0 or -errno. */
int memray_writer__maps(struct memray_writer *w, const struct memray_image *imgs, size_t n);

/* One allocation of @size bytes at @addr by thread @tid. @bm_func is a row id of lib/allocators.h
 * allocator (not FREE/MUNMAP: -EINVAL). @frames are return addresses, innermost first
 * (frames[0] = return address inside malloc's caller); zero entries are skipped; ignored
 * without native_traces. New stack-tree nodes and a CONTEXT_SWITCH (when @tid changes) are
 * written before the record. A realloc is FREE(old) + REALLOC(new): call free_block() for
 * the old pointer first. @addr 0 (a failed call) is not recorded, as memray does.
 * Returns 0 or -errno (-ENOMEM, -E2BIG past 2^32-1 stack nodes, write errors). */
int memray_writer__alloc(struct memray_writer *w, uint64_t tid, uint16_t bm_func, uint64_t addr,
			 uint64_t size, const uint64_t *frames, size_t nr_frames);

/* free(@addr) by thread @tid (FREE). @addr 0 is not recorded. Returns 0 or -errno. */
int memray_writer__free_block(struct memray_writer *w, uint64_t tid, uint64_t addr);

/* munmap(@addr, @size) by thread @tid (MUNMAP, no stack). Returns 0 or -errno. */
int memray_writer__munmap(struct memray_writer *w, uint64_t tid, uint64_t addr, uint64_t size);

/* Names thread @tid (CONTEXT_SWITCH if needed + THREAD_RECORD). Returns 0 or -errno. */
int memray_writer__thread_name(struct memray_writer *w, uint64_t tid, const char *name);

/* An RSS sample (MEMORY_RECORD) taken at @ms (clamped to start_ms). Returns 0 or -errno. */
int memray_writer__memory_record(struct memray_writer *w, uint64_t rss_bytes, int64_t ms);

/* Appends @n raw record bytes, after a CONTEXT_SWITCH to @tid when @per_thread and the
 * current thread differs: the door for lib/memray/pyframes.c's frame records. 0 or -errno. */
int memray_writer__raw(struct memray_writer *w, uint64_t tid, bool per_thread, const void *data,
		       size_t n);

/* Records written so far that count in the header's n_allocations (frees included). */
uint64_t memray_writer__nr_records(const struct memray_writer *w);

/* Writes the TRAILER, flushes, and rewrites the header with n_allocations and end_time when
 * the fd allows it. After this every other call returns -EINVAL. Returns 0 or -errno; the
 * first write error of any earlier call is sticky and is returned here again. */
int memray_writer__finish(struct memray_writer *w);

/* NULL-safe. Discards unflushed output (call finish() first); does not close the fd. */
void memray_writer__free(struct memray_writer *w);

#endif /* BM_MEMRAY_H */
