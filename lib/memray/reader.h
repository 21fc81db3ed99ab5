/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/memray/reader.h — reads a memray .bin capture (v13, ALL_ALLOCATIONS) back: header, every
 * record, and the numbers `memray stats` prints; pure (a buffer or a FILE * the caller opened). */
#ifndef BM_MEMRAY_READ_H
#define BM_MEMRAY_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "memray/format.h"
#include "memray/profile.h"

/* Lower-case record name ("allocation", "native_trace_index"); "?" when out of range. */
const char *memray_rec_name(enum memray_rec r);

/* memray's name of header python_allocator 1..6 ("pymalloc", "malloc", ...); NULL otherwise. */
const char *memray_python_allocator_name(unsigned int id);

/* memray_allocator_name(): in format.h, with memray's allocator ids. */

/* Parses the capture in @buf/@len (raw, not LZ4) into *@p, calling @fn (may be NULL) for each
 * ALLOCATION. Peak/total follow memray's HighWaterMarkAggregator: a simple allocation adds
 * its size under its address (replacing, not subtracting, a live one), FREE subtracts the
 * size live at that address (unknown addresses are ignored), MMAP adds [addr, addr+size),
 * MUNMAP subtracts whatever part of earlier MMAP ranges it overlaps (splitting them).
 * Stricter than memray: every malformed or truncated record, an unknown record type, a
 * native id beyond the nodes written or before any MEMORY_MAP_START, or a FRAME_POP past an
 * empty stack is an error. Trailing zero bytes without a TRAILER are ignored, as memray does.
 * Returns 0, or -EBADMSG (bad data), -EPROTONOSUPPORT (LZ4, other version or file format),
 * -ENOMEM, or @fn's value; a one-line reason goes to @err. *@p is filled as far as it got and
 * must be released with memray_profile_release() in every case. */
int memray_read_buf(const void *buf, size_t len, memray_event_fn *fn, void *arg,
		    struct memray_profile *p, char *err, size_t errlen);

/* The same over @f read from its current position to EOF (streamed, not slurped);
 * read errors are -EIO. */
int memray_read_file(FILE *f, memray_event_fn *fn, void *arg, struct memray_profile *p, char *err,
		     size_t errlen);

/* Frees what *@p owns and zeroes it; NULL-safe. */
void memray_profile_release(struct memray_profile *p);

#endif /* BM_MEMRAY_READ_H */
