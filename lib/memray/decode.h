/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/memray/decode.h — internal to the reader: the input window over a buffer or a FILE * and
 * its primitive decoders, and the u64 → u64 map the reader keeps its tables in. */
#ifndef BM_MEMRAY_DECODE_H
#define BM_MEMRAY_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MR_CHUNK_BYTES (64u << 10)
#define MR_STRING_MAX  (16u << 20) /* longest string we accept anywhere */
#define MR_LIST_MAX    (1u << 20)  /* longest header string list */

/* A buffer (f NULL), or a FILE * read MR_CHUNK_BYTES at a time into chunk. */
struct src {
	const uint8_t *p; /* current window */
	size_t len, pos;
	uint64_t base; /* file offset of p[0] */
	FILE *f;
	uint8_t *chunk;
};

/* Offset in the file of the next byte. */
uint64_t mr_src_off(const struct src *s);

/* Each returns 0, -ENODATA at the end of the data, or -EIO on a read error. */
int mr_get_u8(struct src *s, uint8_t *b);
int mr_get_le(struct src *s, int bytes, uint64_t *v);	       /* little-endian, @bytes <= 8 */
int mr_get_varint(struct src *s, uint64_t *v);		       /* -EOVERFLOW past 64 bits */
int mr_get_delta(struct src *s, uint64_t *reg, uint64_t *out); /* *reg += svarint; *out = *reg */
/* A NUL-terminated string, in a new allocation when @out, else skipped; -E2BIG past
 * MR_STRING_MAX, -ENOMEM. */
int mr_get_string(struct src *s, char **out);
/* Strings up to an empty one, appended to *@out / *@nr; -E2BIG past MR_LIST_MAX. */
int mr_read_list(struct src *s, char ***out, size_t *nr);

/* u64 → u64 map (open addressing, linear probing, backward-shift deletion); zero = empty. */
struct u64map {
	uint64_t *keys, *vals;
	uint8_t *used;
	size_t cap, nr;
};

uint64_t *u64map_get(struct u64map *m, uint64_t key);
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);	/* inserts or replaces; -ENOMEM */
bool u64map_del(struct u64map *m, uint64_t key, uint64_t *val); /* whether it was there */
void u64map_free(struct u64map *m);

#endif /* BM_MEMRAY_DECODE_H */
