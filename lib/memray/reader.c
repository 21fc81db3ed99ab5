// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/memray/reader.c — the memray .bin reader: header, records, `memray stats` numbers; pure. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "memray/reader.h"

#define CHUNK_BYTES    (64u << 10)
#define CACHE_SLOTS    15
#define STRING_MAX     (16u << 20) /* longest string we accept anywhere */
#define LIST_MAX       (1u << 20)  /* longest header string list */
#define HEADER_VERSION 13
#define ARRAY_LEN(a)   (sizeof(a) / sizeof((a)[0]))

static const char *const rec_names[MEMRAY_NR_REC] = {
	[MEMRAY_REC_ALLOCATION] = "allocation",
	[MEMRAY_REC_FRAME_PUSH] = "frame_push",
	[MEMRAY_REC_FRAME_POP] = "frame_pop",
	[MEMRAY_REC_OBJECT_RECORD] = "object_record",
	[MEMRAY_REC_TRAILER] = "trailer",
	[MEMRAY_REC_MEMORY_RECORD] = "memory_record",
	[MEMRAY_REC_NATIVE_TRACE_INDEX] = "native_trace_index",
	[MEMRAY_REC_MEMORY_MAP_START] = "memory_map_start",
	[MEMRAY_REC_SEGMENT_HEADER] = "segment_header",
	[MEMRAY_REC_SEGMENT] = "segment",
	[MEMRAY_REC_THREAD_RECORD] = "thread_record",
	[MEMRAY_REC_CONTEXT_SWITCH] = "context_switch",
	[MEMRAY_REC_CODE_OBJECT] = "code_object",
};

const char *memray_rec_name(enum memray_rec r)
{
	return (unsigned int)r < MEMRAY_NR_REC ? rec_names[r] : "?";
}

const char *memray_python_allocator_name(unsigned int id)
{
	static const char *const names[] = { NULL,    "pymalloc", "pymalloc debug", "malloc",
					     "other", "mimalloc", "mimalloc debug" };

	return id < sizeof(names) / sizeof(names[0]) ? names[id] : NULL;
}

enum kind { K_SIMPLE_ALLOC, K_SIMPLE_FREE, K_RANGED_ALLOC, K_RANGED_FREE };

static enum kind allocator_kind(unsigned int id)
{
	switch (id) {
	case MEMRAY_AL_PYMALLOC_FREE:
	case MEMRAY_AL_FREE:
		return K_SIMPLE_FREE;
	case MEMRAY_AL_MMAP:
		return K_RANGED_ALLOC;
	case MEMRAY_AL_MUNMAP:
		return K_RANGED_FREE;
	default:
		return K_SIMPLE_ALLOC;
	}
}

/* ---- input: a buffer, or a FILE * read in chunks ------------------------------------------ */

struct src {
	const uint8_t *p; /* current window */
	size_t len, pos;
	uint64_t base; /* file offset of p[0] */
	FILE *f;
	uint8_t *chunk;
};

static uint64_t src_off(const struct src *s)
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
	n = fread(s->chunk, 1, CHUNK_BYTES, s->f);
	if (!n)
		return ferror(s->f) ? -EIO : -ENODATA;
	s->p = s->chunk;
	s->len = n;
	return 0;
}

static int get_u8(struct src *s, uint8_t *b)
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

static int get_le(struct src *s, int bytes, uint64_t *v)
{
	uint8_t b;
	int err;

	*v = 0;
	for (int i = 0; i < bytes; i++) {
		err = get_u8(s, &b);
		if (err)
			return err;
		*v |= (uint64_t)b << (8 * i);
	}
	return 0;
}

/* -EOVERFLOW for a varint longer than 64 bits. */
static int get_varint(struct src *s, uint64_t *v)
{
	unsigned int shift = 0;
	uint8_t b;
	int err;

	*v = 0;
	do {
		if (shift >= 64)
			return -EOVERFLOW;
		err = get_u8(s, &b);
		if (err)
			return err;
		*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return 0;
}

/* R += svarint; *out = R. */
static int get_delta(struct src *s, uint64_t *reg, uint64_t *out)
{
	uint64_t z;
	int err = get_varint(s, &z);

	if (err)
		return err;
	*reg += (z >> 1) ^ (0 - (z & 1));
	if (out)
		*out = *reg;
	return 0;
}

/* A NUL-terminated string; stored in a new allocation when @out, else skipped. */
static int get_string(struct src *s, char **out)
{
	char *buf = NULL, *tmp;
	size_t n = 0, cap = 0;
	uint8_t b;
	int err;

	for (;;) {
		err = get_u8(s, &b);
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
		if (++n > STRING_MAX) {
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

/* ---- u64 → u64 map (open addressing, linear probing, backward-shift deletion) ------------- */

struct u64map {
	uint64_t *keys, *vals;
	uint8_t *used;
	size_t cap, nr;
};

static size_t map_hash(uint64_t x, size_t cap)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (size_t)x & (cap - 1);
}

static size_t map_slot(const struct u64map *m, uint64_t key)
{
	size_t i = map_hash(key, m->cap);

	while (m->used[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static uint64_t *map_get(struct u64map *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = map_slot(m, key);
	return m->used[i] ? &m->vals[i] : NULL;
}

static int map_grow(struct u64map *m)
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
		j = map_slot(&n, m->keys[i]);
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
static int map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	size_t i;
	int err;

	if ((m->nr + 1) * 2 > m->cap) {
		err = map_grow(m);
		if (err)
			return err;
	}
	i = map_slot(m, key);
	if (!m->used[i]) {
		m->used[i] = 1;
		m->keys[i] = key;
		m->nr++;
	}
	m->vals[i] = val;
	return 0;
}

/* Removes @key; returns whether it was there (and its value in *@val). */
static bool map_del(struct u64map *m, uint64_t key, uint64_t *val)
{
	size_t mask = m->cap - 1, i, j;

	if (!m->cap)
		return false;
	i = map_slot(m, key);
	if (!m->used[i])
		return false;
	*val = m->vals[i];
	m->used[i] = 0;
	m->nr--;
	for (j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		size_t k = map_hash(m->keys[j], m->cap);

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

static void map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

/* ---- the reader ---------------------------------------------------------------------------- */

struct range {
	uint64_t start, end; /* [start, end) */
};

struct rd {
	struct src s;
	struct memray_profile *p;
	char *err;
	size_t errlen;
	memray_event_fn *fn;
	void *arg;
	uint64_t r_ip, r_nid, r_ptr, r_line;
	uint64_t cache[CACHE_SLOTS];
	bool have_tid;
	uint64_t tid;
	uint64_t cur;	     /* live bytes */
	struct u64map live;  /* address → size of simple allocations */
	struct u64map depth; /* tid → Python frames on its stack */
	struct range *ranges;
	size_t nr_ranges, ranges_cap;
	size_t nodes_cap;
};

__attribute__((format(printf, 4, 5))) static int fail(struct rd *r, int err, uint64_t off,
						      const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!r->errlen)
		return err;
	if (off != UINT64_MAX)
		n = snprintf(r->err, r->errlen, "offset %" PRIu64 ": ", off);
	if (n < 0 || (size_t)n >= r->errlen)
		return err;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

/* Turns a low-level read error inside a record into a reason. */
static int rec_fail(struct rd *r, int err, uint64_t off, const char *what)
{
	switch (err) {
	case -ENODATA:
		return fail(r, -EBADMSG, off, "truncated %s record", what);
	case -EOVERFLOW:
		return fail(r, -EBADMSG, off, "%s record: varint longer than 64 bits", what);
	case -E2BIG:
		return fail(r, -EBADMSG, off, "%s record: string longer than %u bytes", what,
			    STRING_MAX);
	case -EIO:
		return fail(r, -EIO, off, "read error");
	case -ENOMEM:
		return fail(r, -ENOMEM, off, "out of memory");
	default:
		return fail(r, err, off, "%s record: %s", what, strerror(-err));
	}
}

static int read_list(struct src *s, char ***out, size_t *nr)
{
	char *str, **tmp;
	int err;

	for (;;) {
		err = get_string(s, &str);
		if (err)
			return err;
		if (!*str) {
			free(str);
			return 0;
		}
		if (*nr >= LIST_MAX) {
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

static int get_fields(struct src *s, const uint8_t *widths, size_t n, uint64_t *v)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = get_le(s, widths[i], &v[i]);
	return err;
}

static int read_header(struct rd *r)
{
	static const uint8_t magic[7] = { 'm', 'e', 'm', 'r', 'a', 'y', 0 };
	static const uint8_t lz4[4] = { 0x04, 0x22, 0x4d, 0x18 };
	struct memray_header *h = &r->p->hdr;
	/* widths of the fixed fields: version; python_version .. end_time; pid .. lifetimes */
	static const uint8_t pre[] = { 4 }, fixed1[] = { 4, 1, 1, 8, 8, 8, 8 },
			     fixed2[] = { 4, 8, 8, 1, 1, 1 };
	struct src *s = &r->s;
	uint8_t got[7];
	size_t n = 0;
	uint64_t v[7];
	int err = 0;

	while (n < sizeof(got) && !(err = get_u8(s, &got[n])))
		n++;
	if (n >= 4 && !memcmp(got, lz4, 4))
		return fail(r, -EPROTONOSUPPORT, UINT64_MAX,
			    "lz4-compressed capture, decompress first (lz4 -d FILE OUT)");
	if (memcmp(got, magic, n))
		return fail(r, -EBADMSG, UINT64_MAX, "not a memray capture file (bad magic)");
	if (n < sizeof(got))
		goto truncated;

	if ((err = get_fields(s, pre, ARRAY_LEN(pre), v)))
		goto truncated;
	h->version = (int32_t)v[0];
	if (h->version != HEADER_VERSION)
		return fail(r, -EPROTONOSUPPORT, UINT64_MAX,
			    "header version %" PRId32 " is not %d (memray 1.20)", h->version,
			    HEADER_VERSION);
	if ((err = get_fields(s, fixed1, ARRAY_LEN(fixed1), v)))
		goto truncated;
	h->python_version = (uint32_t)v[0];
	h->native_traces = v[1];
	h->file_format = (uint8_t)v[2];
	h->n_allocations = v[3];
	h->n_frames = v[4];
	h->start_ms = (int64_t)v[5];
	h->end_ms = (int64_t)v[6];
	if ((err = get_string(s, &h->command_line)))
		goto truncated;
	if ((err = get_fields(s, fixed2, ARRAY_LEN(fixed2), v)))
		goto truncated;
	h->pid = (int32_t)v[0];
	h->main_tid = v[1];
	h->skipped_frames_on_main_tid = v[2];
	h->python_allocator = (uint8_t)v[3];
	h->trace_python_allocators = v[4];
	h->track_object_lifetimes = v[5];
	if ((err = get_string(s, &h->libdest)) ||
	    (err = read_list(s, &h->site_packages, &h->nr_site_packages)) ||
	    (err = read_list(s, &h->sys_path, &h->nr_sys_path)))
		goto truncated;
	h->header_bytes = src_off(s);

	if (h->file_format == 1)
		return fail(r, -EPROTONOSUPPORT, UINT64_MAX,
			    "aggregated capture (file_format 1) is not supported, only "
			    "ALL_ALLOCATIONS (0)");
	if (h->file_format != 0)
		return fail(r, -EBADMSG, UINT64_MAX, "unknown file_format %u", h->file_format);
	if (!memray_python_allocator_name(h->python_allocator))
		return fail(r, -EBADMSG, UINT64_MAX,
			    "python_allocator %u is not 1..6 (memray reports would fail)",
			    h->python_allocator);
	return 0;
truncated:
	if (err == -ENOMEM || err == -EIO)
		return fail(r, err, UINT64_MAX, "%s", err == -EIO ? "read error" : "out of memory");
	return fail(r, -EBADMSG, UINT64_MAX, "truncated header (%" PRIu64 " bytes)", src_off(s));
}

static void peak_update(struct rd *r)
{
	if (r->cur > r->p->peak_bytes)
		r->p->peak_bytes = r->cur;
}

static int range_add(struct rd *r, uint64_t addr, uint64_t size)
{
	uint64_t end = addr + size < addr ? UINT64_MAX : addr + size;
	struct range *tmp;

	if (r->nr_ranges == r->ranges_cap) {
		size_t cap = r->ranges_cap ? r->ranges_cap * 2 : 64;

		tmp = realloc(r->ranges, cap * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		r->ranges = tmp;
		r->ranges_cap = cap;
	}
	r->ranges[r->nr_ranges++] = (struct range){ addr, end };
	return 0;
}

/* Removes [addr, addr+size) from every range, splitting; *removed = bytes taken away. */
static int range_remove(struct rd *r, uint64_t addr, uint64_t size, uint64_t *removed)
{
	uint64_t end = addr + size < addr ? UINT64_MAX : addr + size;
	int err;

	*removed = 0;
	for (size_t i = 0; i < r->nr_ranges;) {
		struct range *g = &r->ranges[i];
		uint64_t lo = g->start > addr ? g->start : addr;
		uint64_t hi = g->end < end ? g->end : end;
		uint64_t right = g->end;

		if (lo >= hi) {
			i++;
			continue;
		}
		*removed += hi - lo;
		if (g->start < addr && right > end) {
			g->end = addr;
			err = range_add(r, end, right - end); /* may move r->ranges */
			if (err)
				return err;
			i++;
		} else if (g->start < addr) {
			g->end = addr;
			i++;
		} else if (right > end) {
			g->start = end;
			i++;
		} else {
			*g = r->ranges[--r->nr_ranges];
		}
	}
	return 0;
}

static int account(struct rd *r, const struct memray_event *ev)
{
	struct memray_profile *p = r->p;
	uint64_t sz;
	int err = 0;

	switch (allocator_kind(ev->allocator)) {
	case K_SIMPLE_ALLOC:
		p->allocations++;
		p->total_bytes += ev->size;
		r->cur += ev->size;
		err = map_put(&r->live, ev->addr, ev->size);
		break;
	case K_SIMPLE_FREE:
		if (map_del(&r->live, ev->addr, &sz))
			r->cur -= sz;
		break;
	case K_RANGED_ALLOC:
		p->allocations++;
		p->total_bytes += ev->size;
		r->cur += ev->size;
		if (ev->size)
			err = range_add(r, ev->addr, ev->size);
		break;
	case K_RANGED_FREE:
		err = range_remove(r, ev->addr, ev->size, &sz);
		r->cur -= sz;
		break;
	}
	peak_update(r);
	return err;
}

static void cache_push(struct rd *r, uint64_t addr)
{
	memmove(&r->cache[1], &r->cache[0], (CACHE_SLOTS - 1) * sizeof(r->cache[0]));
	r->cache[0] = addr;
}

static int check_native_id(struct rd *r, uint64_t off, uint64_t nid)
{
	if (nid > r->p->nr_native_nodes)
		return fail(r, -EBADMSG, off,
			    "native frame id %" PRIu64 " beyond the %zu nodes written", nid,
			    r->p->nr_native_nodes);
	if (nid && !r->p->nr_map_generations)
		return fail(r, -EBADMSG, off,
			    "native frame id %" PRIu64 " before any MEMORY_MAP_START", nid);
	return 0;
}

static int read_allocation(struct rd *r, uint8_t t, uint64_t off)
{
	struct memray_event ev = { .offset = off };
	unsigned int slot = (t >> 3) & 15;
	uint64_t *depth;
	uint8_t id = t & 7;
	bool dealloc;
	int err;

	if (slot == CACHE_SLOTS) {
		err = get_delta(&r->s, &r->r_ptr, NULL);
		if (err)
			return rec_fail(r, err, off, "ALLOCATION");
		ev.addr = r->r_ptr << 3;
		cache_push(r, ev.addr);
	} else {
		ev.addr = r->cache[slot];
		ev.cache_hit = true;
		r->p->nr_cache_hits++;
	}
	if (!id) {
		err = get_u8(&r->s, &id);
		if (err)
			return rec_fail(r, err, off, "ALLOCATION");
		if (!id || id > 15)
			return fail(r, -EBADMSG, off, "invalid allocator id %u", id);
	}
	ev.allocator = id;
	dealloc = allocator_kind(id) == K_SIMPLE_FREE;
	if (r->p->hdr.native_traces && !dealloc) {
		err = get_delta(&r->s, &r->r_nid, &ev.native_id);
		if (err)
			return rec_fail(r, err, off, "ALLOCATION");
		err = check_native_id(r, off, ev.native_id);
		if (err)
			return err;
	}
	if (!dealloc) {
		err = get_varint(&r->s, &ev.size);
		if (err)
			return rec_fail(r, err, off, "ALLOCATION");
	}
	if (!r->have_tid)
		return fail(r, -EBADMSG, off, "ALLOCATION with no previous CONTEXT_SWITCH");
	ev.tid = r->tid;
	ev.map_generation = r->p->nr_map_generations;
	depth = map_get(&r->depth, r->tid);
	ev.py_depth = depth ? (uint32_t)*depth : 0;
	r->p->nr_by_allocator[id]++;
	err = account(r, &ev);
	if (err)
		return fail(r, err, off, "out of memory");
	err = r->fn ? r->fn(r->arg, &ev) : 0;
	return err < 0 ? err : 0;
}

static int read_frame(struct rd *r, uint8_t t, uint64_t off, bool push)
{
	uint64_t code_id, pos, *depth;
	uint64_t n = push ? 1 : (t & 15) + 1u;
	int err;

	if (push) {
		err = get_varint(&r->s, &code_id);
		if (!err)
			err = get_varint(&r->s, &pos);
		if (err)
			return rec_fail(r, err, off, "FRAME_PUSH");
	}
	if (!r->have_tid)
		return fail(r, -EBADMSG, off, "%s with no previous CONTEXT_SWITCH",
			    push ? "FRAME_PUSH" : "FRAME_POP");
	depth = map_get(&r->depth, r->tid);
	if (push) {
		++*depth;
		return 0;
	}
	if (*depth < n)
		return fail(r, -EBADMSG, off,
			    "FRAME_POP of %" PRIu64 " frames with %" PRIu64 " on the stack", n,
			    *depth);
	*depth -= n;
	return 0;
}

static int read_object(struct rd *r, uint8_t t, uint64_t off)
{
	unsigned int slot = (t >> 1) & 15;
	uint64_t nid;
	int err;

	if (slot == CACHE_SLOTS) {
		err = get_delta(&r->s, &r->r_ptr, NULL);
		if (err)
			return rec_fail(r, err, off, "OBJECT_RECORD");
		cache_push(r, r->r_ptr << 3);
	}
	if ((t & 1) && r->p->hdr.native_traces) {
		err = get_delta(&r->s, &r->r_nid, &nid);
		if (err)
			return rec_fail(r, err, off, "OBJECT_RECORD");
		return check_native_id(r, off, nid);
	}
	return 0;
}

static int read_native_node(struct rd *r, uint64_t off)
{
	struct memray_profile *p = r->p;
	uint64_t ip, parent;
	int err;

	err = get_delta(&r->s, &r->r_ip, &ip);
	if (!err)
		err = get_delta(&r->s, &r->r_nid, &parent);
	if (err)
		return rec_fail(r, err, off, "NATIVE_TRACE_INDEX");
	if (parent > p->nr_native_nodes)
		return fail(r, -EBADMSG, off,
			    "native parent %" PRIu64 " beyond the %zu nodes written", parent,
			    p->nr_native_nodes);
	if (p->nr_native_nodes == r->nodes_cap) {
		size_t cap = r->nodes_cap ? r->nodes_cap * 2 : 256;
		uint64_t *a = realloc(p->native_ip, cap * sizeof(*a));

		if (a)
			p->native_ip = a;
		a = a ? realloc(p->native_parent, cap * sizeof(*a)) : NULL;
		if (!a)
			return fail(r, -ENOMEM, off, "out of memory");
		p->native_parent = a;
		r->nodes_cap = cap;
	}
	p->native_ip[p->nr_native_nodes] = ip;
	p->native_parent[p->nr_native_nodes] = parent;
	p->nr_native_nodes++;
	return 0;
}

static int read_segments(struct rd *r, uint64_t off)
{
	uint64_t nr, v;
	uint8_t b;
	int err;

	err = get_string(&r->s, NULL);
	if (!err)
		err = get_varint(&r->s, &nr);
	if (!err)
		err = get_le(&r->s, 8, &v);
	if (err)
		return rec_fail(r, err, off, "SEGMENT_HEADER");
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t soff = src_off(&r->s);

		err = get_u8(&r->s, &b);
		if (!err && b != 0x08)
			return fail(r, -EBADMSG, soff,
				    "SEGMENT_HEADER announced %" PRIu64 " segments, found %" PRIu64,
				    nr, i);
		if (!err)
			err = get_le(&r->s, 8, &v);
		if (!err)
			err = get_varint(&r->s, &v);
		if (err)
			return rec_fail(r, err, soff, "SEGMENT");
		r->p->nr_records[MEMRAY_REC_SEGMENT]++;
	}
	return 0;
}

static int read_code_object(struct rd *r, uint64_t off)
{
	uint64_t v, len;
	uint8_t b;
	int err;

	err = get_varint(&r->s, &v);
	if (!err)
		err = get_string(&r->s, NULL);
	if (!err)
		err = get_string(&r->s, NULL);
	if (!err)
		err = get_delta(&r->s, &r->r_line, NULL);
	if (!err)
		err = get_varint(&r->s, &len);
	for (uint64_t i = 0; i < len && !err; i++)
		err = get_u8(&r->s, &b);
	if (err)
		return rec_fail(r, err, off, "CODE_OBJECT");
	return 0;
}

/* A 0x00 where a record should start: fine if only zero padding follows (memray ignores it). */
static int read_zeros(struct rd *r, uint64_t off)
{
	uint8_t b;
	int err;

	while (!(err = get_u8(&r->s, &b))) {
		if (b)
			return fail(r, -EBADMSG, off, "invalid record type 0x00");
	}
	return err == -ENODATA ? 1 : rec_fail(r, err, off, "padding");
}

/* 0 for another record, 1 at the end of the data, or a negative error. */
static int read_record(struct rd *r)
{
	struct memray_profile *p = r->p;
	uint64_t off = src_off(&r->s), v;
	uint64_t *depth;
	uint8_t t;
	int err;

	err = get_u8(&r->s, &t);
	if (err == -ENODATA)
		return 1;
	if (err)
		return rec_fail(r, err, off, "next");
	if (t & 0x80) {
		p->nr_records[MEMRAY_REC_ALLOCATION]++;
		return read_allocation(r, t, off);
	}
	if (t & 0x40) {
		p->nr_records[MEMRAY_REC_FRAME_PUSH]++;
		return read_frame(r, t, off, true);
	}
	if (t & 0x20) {
		p->nr_records[MEMRAY_REC_OBJECT_RECORD]++;
		return read_object(r, t, off);
	}
	if (t & 0x10) {
		p->nr_records[MEMRAY_REC_FRAME_POP]++;
		return read_frame(r, t, off, false);
	}
	switch (t) {
	case 0x00:
		return read_zeros(r, off);
	case 0x01:
		p->nr_records[MEMRAY_REC_TRAILER]++;
		p->has_trailer = true;
		return 1;
	case 0x02:
		p->nr_records[MEMRAY_REC_MEMORY_RECORD]++;
		err = get_varint(&r->s, &v);
		if (!err)
			err = get_varint(&r->s, &v);
		return err ? rec_fail(r, err, off, "MEMORY_RECORD") : 0;
	case 0x05:
		p->nr_records[MEMRAY_REC_NATIVE_TRACE_INDEX]++;
		return read_native_node(r, off);
	case 0x06:
		p->nr_records[MEMRAY_REC_MEMORY_MAP_START]++;
		p->nr_map_generations++;
		return 0;
	case 0x07:
		p->nr_records[MEMRAY_REC_SEGMENT_HEADER]++;
		return read_segments(r, off);
	case 0x08:
		return fail(r, -EBADMSG, off, "SEGMENT outside a SEGMENT_HEADER");
	case 0x0a:
		p->nr_records[MEMRAY_REC_THREAD_RECORD]++;
		err = get_string(&r->s, NULL);
		return err ? rec_fail(r, err, off, "THREAD_RECORD") : 0;
	case 0x0c:
		p->nr_records[MEMRAY_REC_CONTEXT_SWITCH]++;
		err = get_le(&r->s, 8, &r->tid);
		if (err)
			return rec_fail(r, err, off, "CONTEXT_SWITCH");
		r->have_tid = true;
		depth = map_get(&r->depth, r->tid);
		if (depth)
			return 0;
		p->nr_threads++;
		return map_put(&r->depth, r->tid, 0) ? fail(r, -ENOMEM, off, "out of memory") : 0;
	case 0x0e:
		p->nr_records[MEMRAY_REC_CODE_OBJECT]++;
		return read_code_object(r, off);
	default:
		return fail(r, -EBADMSG, off, "invalid record type 0x%02x", t);
	}
}

static int read_all(struct rd *r)
{
	int err;

	memset(r->p, 0, sizeof(*r->p));
	if (r->errlen)
		r->err[0] = 0;
	err = read_header(r);
	while (!err)
		err = read_record(r);
	r->p->live_bytes = r->cur;
	r->p->data_bytes = src_off(&r->s);
	map_free(&r->live);
	map_free(&r->depth);
	free(r->ranges);
	return err < 0 ? err : 0;
}

int memray_read_buf(const void *buf, size_t len, memray_event_fn *fn, void *arg,
		    struct memray_profile *p, char *err, size_t errlen)
{
	struct rd r = { .p = p, .err = err, .errlen = errlen, .fn = fn, .arg = arg };

	r.s.p = buf;
	r.s.len = buf ? len : 0;
	return read_all(&r);
}

int memray_read_file(FILE *f, memray_event_fn *fn, void *arg, struct memray_profile *p, char *err,
		     size_t errlen)
{
	struct rd r = { .p = p, .err = err, .errlen = errlen, .fn = fn, .arg = arg };
	int ret;

	r.s.f = f;
	r.s.chunk = malloc(CHUNK_BYTES);
	if (!r.s.chunk) {
		memset(p, 0, sizeof(*p));
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = read_all(&r);
	free(r.s.chunk);
	return ret;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void memray_profile_release(struct memray_profile *p)
{
	if (!p)
		return;
	free(p->hdr.command_line);
	free(p->hdr.libdest);
	free_list(p->hdr.site_packages, p->hdr.nr_site_packages);
	free_list(p->hdr.sys_path, p->hdr.nr_sys_path);
	free(p->native_ip);
	free(p->native_parent);
	memset(p, 0, sizeof(*p));
}
