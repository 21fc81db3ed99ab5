// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/memray/decode.c — the reader's building blocks: bytes, varints, deltas and strings from
 * a buffer or a FILE *, and a u64 → u64 hash map; pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memray/decode.h"

/* ---- input: a buffer, or a FILE * read in chunks ------------------------------------------ */

uint64_t mr_src_off(const struct src *s)
{
	return s->base + s->pos;
}

/* 0, -ENODATA at the end, -EIO on a read error. */
static int src_fill(struct src *s)
{
	size_t n;

	if (!s->f)
		return -ENODATA;
	s->base += s->len;
	s->len = s->pos = 0;
	n = fread(s->chunk, 1, MR_CHUNK_BYTES, s->f);
	if (!n)
		return ferror(s->f) ? -EIO : -ENODATA;
	s->p = s->chunk;
	s->len = n;
	return 0;
}

int mr_get_u8(struct src *s, uint8_t *b)
{
	int err;

	if (s->pos == s->len) {
		err = src_fill(s);
		if (err)
			return err;
	}
	*b = s->p[s->pos++];
	return 0;
}

int mr_get_le(struct src *s, int bytes, uint64_t *v)
{
	uint8_t b;
	int err;

	*v = 0;
	for (int i = 0; i < bytes; i++) {
		err = mr_get_u8(s, &b);
		if (err)
			return err;
		*v |= (uint64_t)b << (8 * i);
	}
	return 0;
}

/* -EOVERFLOW for a varint longer than 64 bits. */
int mr_get_varint(struct src *s, uint64_t *v)
{
	unsigned int shift = 0;
	uint8_t b;
	int err;

	*v = 0;
	do {
		if (shift >= 64)
			return -EOVERFLOW;
		err = mr_get_u8(s, &b);
		if (err)
			return err;
		*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return 0;
}

/* R += svarint; *out = R. */
int mr_get_delta(struct src *s, uint64_t *reg, uint64_t *out)
{
	uint64_t z;
	int err = mr_get_varint(s, &z);

	if (err)
		return err;
	*reg += (z >> 1) ^ (0 - (z & 1));
	if (out)
		*out = *reg;
	return 0;
}

/* A NUL-terminated string; stored in a new allocation when @out, else skipped. */
int mr_get_string(struct src *s, char **out)
{
	char *buf = NULL, *tmp;
	size_t n = 0, cap = 0;
	uint8_t b;
	int err;

	for (;;) {
		err = mr_get_u8(s, &b);
		if (err)
			goto fail;
		if (out && n + 1 >= cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(buf, cap);
			if (!tmp) {
				err = -ENOMEM;
				goto fail;
			}
			buf = tmp;
		}
		if (!b)
			break;
		if (++n > MR_STRING_MAX) {
			err = -E2BIG;
			goto fail;
		}
		if (out)
			buf[n - 1] = (char)b;
	}
	if (out) {
		buf[n] = 0;
		*out = buf;
	}
	return 0;
fail:
	free(buf);
	return err;
}

int mr_read_list(struct src *s, char ***out, size_t *nr)
{
	char *str, **tmp;
	int err;

	for (;;) {
		err = mr_get_string(s, &str);
		if (err)
			return err;
		if (!*str) {
			free(str);
			return 0;
		}
		if (*nr >= MR_LIST_MAX) {
			free(str);
			return -E2BIG;
		}
		tmp = realloc(*out, (*nr + 1) * sizeof(*tmp));
		if (!tmp) {
			free(str);
			return -ENOMEM;
		}
		*out = tmp;
		(*out)[(*nr)++] = str;
	}
}

/* ---- u64 → u64 map (open addressing, linear probing, backward-shift deletion) ------------- */

static size_t u64map_hash(uint64_t x, size_t cap)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (size_t)x & (cap - 1);
}

static size_t u64map_slot(const struct u64map *m, uint64_t key)
{
	size_t i = u64map_hash(key, m->cap);

	while (m->used[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

uint64_t *u64map_get(struct u64map *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = u64map_slot(m, key);
	return m->used[i] ? &m->vals[i] : NULL;
}

static int u64map_grow(struct u64map *m)
{
	struct u64map n = { .cap = m->cap ? m->cap * 2 : 256 };

	n.keys = malloc(n.cap * sizeof(*n.keys));
	n.vals = malloc(n.cap * sizeof(*n.vals));
	n.used = calloc(n.cap, 1);
	if (!n.keys || !n.vals || !n.used) {
		free(n.keys);
		free(n.vals);
		free(n.used);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->used[i])
			continue;
		j = u64map_slot(&n, m->keys[i]);
		n.used[j] = 1;
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
	}
	n.nr = m->nr;
	free(m->keys);
	free(m->vals);
	free(m->used);
	*m = n;
	return 0;
}

/* Inserts or replaces. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	size_t i;
	int err;

	if ((m->nr + 1) * 2 > m->cap) {
		err = u64map_grow(m);
		if (err)
			return err;
	}
	i = u64map_slot(m, key);
	if (!m->used[i]) {
		m->used[i] = 1;
		m->keys[i] = key;
		m->nr++;
	}
	m->vals[i] = val;
	return 0;
}

/* Removes @key; returns whether it was there (and its value in *@val). */
bool u64map_del(struct u64map *m, uint64_t key, uint64_t *val)
{
	size_t mask = m->cap - 1, i, j;

	if (!m->cap)
		return false;
	i = u64map_slot(m, key);
	if (!m->used[i])
		return false;
	*val = m->vals[i];
	m->used[i] = 0;
	m->nr--;
	for (j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		size_t k = u64map_hash(m->keys[j], m->cap);

		/* keep j where it is if its home k lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		m->used[i] = 1;
		m->used[j] = 0;
		i = j;
	}
	return true;
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}
