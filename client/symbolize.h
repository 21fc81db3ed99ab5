/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/symbolize.h — names a native return address of a memray capture from the ELF files its
 * SEGMENT_HEADERs point at (symbol tables only, no DWARF), for `inspect --top`. */
#ifndef BM_SYMBOLIZE_H
#define BM_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "memray/reader.h"

struct symbolizer;

/* NULL + errno (ENOMEM). @p must outlive it. */
struct symbolizer *symbolizer__new(const struct memray_profile *p);
void symbolizer__free(struct symbolizer *s); /* NULL-safe */

/* Writes "function+0xOFF (file)" for return address @ip of map generation @gen into @out,
 * "file+0xOFF" when the file has no symbol there, "0xIP" outside every image. Returns @out. */
const char *symbolizer__name(struct symbolizer *s, uint64_t ip, uint32_t gen, char *out,
			     size_t len);

#endif /* BM_SYMBOLIZE_H */
