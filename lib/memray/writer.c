// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/memray/writer.c — the memray 1.20 .bin writer (header v13, ALL_ALLOCATIONS records); pure. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocators.h"
#include "memray/format.h"
#include "memray/writer.h"

#define OUT_BYTES (64u << 10) /* output buffer */
#define REC_MAX	  64	      /* the longest fixed-size record we compose on the stack */

/* One node of the native stack tree: (ip, parent) → id; id 0 marks an empty slot. */
struct node_slot {
	uint64_t ip;
	uint32_t parent;
	uint32_t id;
};

struct memray_writer {
	int fd;
	int err; /* sticky first write error (-errno) */
	bool finished;
	bool native;
	bool rewritable; /* header can be pwrite()n again at hdr_off */
	bool have_tid;	 /* a CONTEXT_SWITCH was written */
	bool have_maps;	 /* a MEMORY_MAP_START was written */
	off_t hdr_off;
	uint8_t *hdr; /* the header bytes, kept for the rewrite */
	size_t hdr_len;
	size_t nr_allocs_off; /* offsets of n_allocations and end_time inside hdr */
	size_t end_time_off;
	int64_t start_ms, end_ms; /* as in the header */
	uint64_t tid;
	uint64_t r_ip, r_nid, r_ptr; /* delta registers */
	uint64_t cache[MEMRAY_CACHE_SLOTS];
	uint64_t nr_records;
	struct node_slot *nodes; /* open-addressing table, capacity a power of two */
	size_t nodes_cap, nr_nodes;
	size_t len;
	uint8_t out[OUT_BYTES];
};

/* ---- output ----------------------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int flush(struct memray_writer *w)
{
	int err;

	if (w->err)
		return w->err;
	err = write_all(w->fd, w->out, w->len);
	w->len = 0;
	if (err)
		w->err = err;
	return err;
}

static int put(struct memray_writer *w, const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n) {
		size_t room = sizeof(w->out) - w->len;
		size_t k = n < room ? n : room;
		int err;

		memcpy(w->out + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
		if (w->len == sizeof(w->out)) {
			err = flush(w);
			if (err)
				return err;
		}
	}
	return w->err;
}

/* ---- encodings into a small record buffer ------------------------------------------------ */

struct rec {
	uint8_t b[REC_MAX];
	size_t n;
};

static void rec_u8(struct rec *r, uint8_t v)
{
	r->b[r->n++] = v;
}

static void rec_fixed64(struct rec *r, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		r->b[r->n++] = (uint8_t)(v >> (8 * i));
}

static void rec_varint(struct rec *r, uint64_t v)
{
	while (v >= 0x80) {
		r->b[r->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	r->b[r->n++] = (uint8_t)v;
}

/* delta(R, x): svarint of x - R (mod 2^64), zig-zag encoded; then R = x. */
static void rec_delta(struct rec *r, uint64_t *reg, uint64_t x)
{
	uint64_t d = x - *reg;

	rec_varint(r, (d << 1) ^ (0 - (d >> 63)));
	*reg = x;
}

static void hdr_put(uint8_t *h, size_t *n, const void *p, size_t len)
{
	if (h)
		memcpy(h + *n, p, len);
	*n += len;
}

static void hdr_le(uint8_t *h, size_t *n, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		if (h)
			h[*n] = (uint8_t)(v >> (8 * i));
		(*n)++;
	}
}

/* Lays the header out into @h (or only measures it when @h is NULL); returns its length. */
static size_t header_layout(struct memray_writer *w, uint8_t *h, const struct memray_meta *m,
			    const char *cmd, int64_t end_ms)
{
	uint8_t alloc = m->python_allocator ? m->python_allocator : MEMRAY_PY_ALLOC_MALLOC;
	size_t n = 0;

	hdr_put(h, &n, MEMRAY_MAGIC, MEMRAY_MAGIC_LEN);
	hdr_le(h, &n, MEMRAY_HEADER_VERSION, 4);
	hdr_le(h, &n, m->python_version ? m->python_version : MEMRAY_PY_VERSION_DFLT, 4);
	hdr_le(h, &n, m->native_traces, 1);
	hdr_le(h, &n, MEMRAY_FMT_ALL_ALLOCS, 1); /* file_format */
	w->nr_allocs_off = n;
	hdr_le(h, &n, w->nr_records, 8);
	hdr_le(h, &n, 0, 8); /* n_frames */
	hdr_le(h, &n, (uint64_t)m->start_ms, 8);
	w->end_time_off = n;
	hdr_le(h, &n, (uint64_t)end_ms, 8);
	hdr_put(h, &n, cmd, strlen(cmd) + 1);
	hdr_le(h, &n, (uint32_t)m->pid, 4);
	hdr_le(h, &n, m->main_tid ? m->main_tid : (uint64_t)(uint32_t)m->pid, 8);
	hdr_le(h, &n, 0, 8);	 /* skipped_frames_on_main_tid */
	hdr_le(h, &n, alloc, 1); /* python_allocator */
	hdr_le(h, &n, 0, 1);	 /* trace_python_allocators */
	hdr_le(h, &n, 0, 1);	 /* track_object_lifetimes */
	hdr_le(h, &n, 0, 1);	 /* libdest "" */
	hdr_le(h, &n, 0, 1);	 /* site_packages: empty list */
	hdr_le(h, &n, 0, 1);	 /* sys_path: empty list */
	return n;
}

static void header_patch(struct memray_writer *w)
{
	size_t n = w->nr_allocs_off;

	hdr_le(w->hdr, &n, w->nr_records, 8);
	n = w->end_time_off;
	hdr_le(w->hdr, &n, (uint64_t)w->end_ms, 8);
}

struct memray_writer *memray_writer__new(int fd, const struct memray_meta *m)
{
	struct memray_writer *w = NULL;
	const char *cmd;
	int64_t end_ms;
	int flags, err;

	if (!m || m->python_allocator > 6) {
		err = -EINVAL;
		goto fail;
	}
	if (fd < 0) {
		err = -EBADF;
		goto fail;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		err = -ENOMEM;
		goto fail;
	}
	w->fd = fd;
	w->native = m->native_traces;
	cmd = m->command_line ? m->command_line : "";
	end_ms = m->end_ms < m->start_ms ? m->start_ms : m->end_ms;
	w->start_ms = m->start_ms;
	w->end_ms = end_ms;
	w->hdr_len = header_layout(w, NULL, m, cmd, end_ms);
	w->hdr = malloc(w->hdr_len);
	if (!w->hdr) {
		err = -ENOMEM;
		goto fail;
	}
	header_layout(w, w->hdr, m, cmd, end_ms);

	flags = fcntl(fd, F_GETFL);
	if (flags < 0) {
		err = -errno;
		goto fail;
	}
	w->hdr_off = lseek(fd, 0, SEEK_CUR);
	/* pwrite() on an O_APPEND fd appends on Linux, so such a header stays as first written. */
	w->rewritable = w->hdr_off >= 0 && !(flags & O_APPEND);

	err = put(w, w->hdr, w->hdr_len);
	if (err)
		goto fail;
	return w;
fail:
	memray_writer__free(w);
	errno = -err;
	return NULL;
}

void memray_writer__free(struct memray_writer *w)
{
	if (!w)
		return;
	free(w->nodes);
	free(w->hdr);
	free(w);
}

uint64_t memray_writer__nr_records(const struct memray_writer *w)
{
	return w ? w->nr_records : 0;
}

static int usable(const struct memray_writer *w)
{
	if (!w || w->finished)
		return -EINVAL;
	return w->err;
}

/* ---- records ------------------------------------------------------------------------------ */

static int context_switch(struct memray_writer *w, uint64_t tid)
{
	struct rec r = { .n = 0 };

	if (w->have_tid && w->tid == tid)
		return 0;
	rec_u8(&r, MEMRAY_T_CONTEXT_SWITCH);
	rec_fixed64(&r, tid);
	w->have_tid = true;
	w->tid = tid;
	return put(w, r.b, r.n);
}

static int map_start(struct memray_writer *w)
{
	uint8_t b = MEMRAY_T_MAP_START;

	w->have_maps = true;
	return put(w, &b, 1);
}

int memray_writer__maps(struct memray_writer *w, const struct memray_image *imgs, size_t n)
{
	int err = usable(w);

	if (err)
		return err;
	if (n && !imgs)
		return -EINVAL;
	err = map_start(w);
	for (size_t i = 0; i < n && !err; i++) {
		const struct memray_image *img = &imgs[i];
		const char *path = img->path ? img->path : "";
		uint8_t tag = MEMRAY_T_SEGMENT_HEADER;
		struct rec r = { .n = 0 };
		size_t nr_segs = img->segs ? img->nr_segs : 0;

		err = put(w, &tag, 1);
		if (!err)
			err = put(w, path, strlen(path) + 1);
		rec_varint(&r, nr_segs);
		rec_fixed64(&r, img->load_addr);
		if (!err)
			err = put(w, r.b, r.n);
		for (size_t s = 0; s < nr_segs && !err; s++) {
			r.n = 0;
			rec_u8(&r, MEMRAY_T_SEGMENT);
			rec_fixed64(&r, img->segs[s].vaddr);
			rec_varint(&r, img->segs[s].memsz);
			err = put(w, r.b, r.n);
		}
	}
	return err;
}

static uint64_t node_hash(uint64_t ip, uint32_t parent)
{
	uint64_t x = ip ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ull);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static struct node_slot *node_find(struct node_slot *tab, size_t cap, uint64_t ip, uint32_t parent)
{
	size_t i = node_hash(ip, parent) & (cap - 1);

	while (tab[i].id && (tab[i].ip != ip || tab[i].parent != parent))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Keeps the node table at most half full. */
static int nodes_reserve(struct memray_writer *w)
{
	size_t cap = w->nodes_cap ? w->nodes_cap * 2 : 1024;
	struct node_slot *tab;

	if (w->nr_nodes + 1 <= w->nodes_cap / 2)
		return 0;
	if (cap > SIZE_MAX / sizeof(*tab))
		return -ENOMEM;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < w->nodes_cap; i++) {
		if (w->nodes[i].id)
			*node_find(tab, cap, w->nodes[i].ip, w->nodes[i].parent) = w->nodes[i];
	}
	free(w->nodes);
	w->nodes = tab;
	w->nodes_cap = cap;
	return 0;
}

/* Walks @frames outermost first, reusing known (ip, parent) nodes and writing a
 * NATIVE_TRACE_INDEX for each new one; *leaf = id of the innermost node (0: no stack). */
static int native_trace(struct memray_writer *w, const uint64_t *frames, size_t nr, uint32_t *leaf)
{
	uint32_t parent = 0;
	int err;

	*leaf = 0;
	for (size_t k = nr; k-- > 0;) {
		uint64_t ip = frames[k];
		struct node_slot *s;
		struct rec r = { .n = 0 };

		if (!ip)
			continue;
		err = nodes_reserve(w);
		if (err)
			return err;
		s = node_find(w->nodes, w->nodes_cap, ip, parent);
		if (!s->id) {
			if (w->nr_nodes >= UINT32_MAX)
				return -E2BIG;
			rec_u8(&r, MEMRAY_T_NATIVE_INDEX);
			rec_delta(&r, &w->r_ip, ip);
			rec_delta(&r, &w->r_nid, parent);
			err = put(w, r.b, r.n);
			if (err)
				return err;
			s->ip = ip;
			s->parent = parent;
			s->id = (uint32_t)++w->nr_nodes;
		}
		parent = s->id;
	}
	*leaf = parent;
	return 0;
}

/* Writes one ALLOCATION record (memray-format.md §4.2), with the pointer cache. */
static int allocation(struct memray_writer *w, uint8_t id, uint64_t addr, bool has_size,
		      uint64_t size, bool has_nid, uint64_t nid)
{
	uint64_t key = addr >> 3;
	struct rec r = { .n = 0 };
	unsigned int slot = MEMRAY_CACHE_SLOTS;

	for (unsigned int i = 0; i < MEMRAY_CACHE_SLOTS; i++) {
		if (w->cache[i] == key) {
			slot = i;
			break;
		}
	}
	rec_u8(&r, (uint8_t)(MEMRAY_T_ALLOCATION | slot << 3 | (id < 8 ? id : 0)));
	if (slot == MEMRAY_CACHE_SLOTS) {
		memmove(&w->cache[1], &w->cache[0], (MEMRAY_CACHE_SLOTS - 1) * sizeof(w->cache[0]));
		w->cache[0] = key;
		rec_delta(&r, &w->r_ptr, key);
	}
	if (id >= 8)
		rec_u8(&r, id);
	if (w->native && has_nid)
		rec_delta(&r, &w->r_nid, nid);
	if (has_size)
		rec_varint(&r, size);
	w->nr_records++;
	return put(w, r.b, r.n);
}

int memray_writer__alloc(struct memray_writer *w, uint64_t tid, uint16_t bm_func, uint64_t addr,
			 uint64_t size, const uint64_t *frames, size_t nr_frames)
{
	unsigned int id = allocator_memray_id(bm_func);
	uint32_t leaf = 0;
	int err = usable(w);

	if (err)
		return err;
	if (!id)
		return -EINVAL;
	if (!addr)
		return 0;
	if (w->native && frames && nr_frames) {
		err = native_trace(w, frames, nr_frames, &leaf);
		if (err)
			return err;
		if (leaf && !w->have_maps)
			err = map_start(w);
		if (err)
			return err;
	}
	err = context_switch(w, tid);
	if (err)
		return err;
	return allocation(w, (uint8_t)id, addr, true, size, true, leaf);
}

int memray_writer__free_block(struct memray_writer *w, uint64_t tid, uint64_t addr)
{
	int err = usable(w);

	if (err || !addr)
		return err;
	err = context_switch(w, tid);
	if (err)
		return err;
	return allocation(w, MEMRAY_AL_FREE, addr, false, 0, false, 0);
}

int memray_writer__munmap(struct memray_writer *w, uint64_t tid, uint64_t addr, uint64_t size)
{
	int err = usable(w);

	if (err)
		return err;
	err = context_switch(w, tid);
	if (err)
		return err;
	return allocation(w, MEMRAY_AL_MUNMAP, addr, true, size, true, 0);
}

int memray_writer__thread_name(struct memray_writer *w, uint64_t tid, const char *name)
{
	uint8_t tag = MEMRAY_T_THREAD_RECORD;
	int err = usable(w);

	if (err)
		return err;
	if (!name)
		return -EINVAL;
	err = context_switch(w, tid);
	if (!err)
		err = put(w, &tag, 1);
	if (!err)
		err = put(w, name, strlen(name) + 1);
	return err;
}

int memray_writer__raw(struct memray_writer *w, uint64_t tid, bool per_thread, const void *data,
		       size_t n)
{
	int err = usable(w);

	if (!err && per_thread)
		err = context_switch(w, tid);
	return err ? err : put(w, data, n);
}

int memray_writer__memory_record(struct memray_writer *w, uint64_t rss_bytes, int64_t ms)
{
	struct rec r = { .n = 0 };
	int err = usable(w);

	if (err)
		return err;
	rec_u8(&r, MEMRAY_T_MEMORY_RECORD);
	rec_varint(&r, rss_bytes);
	rec_varint(&r, ms > w->start_ms ? (uint64_t)ms - (uint64_t)w->start_ms : 0);
	return put(w, r.b, r.n);
}

int memray_writer__finish(struct memray_writer *w)
{
	uint8_t tag = MEMRAY_T_TRAILER;
	size_t done = 0;
	int err = usable(w);

	if (err)
		return err;
	w->finished = true;
	err = put(w, &tag, 1);
	if (!err)
		err = flush(w);
	if (err || !w->rewritable)
		return err;
	header_patch(w);
	while (done < w->hdr_len) {
		ssize_t r =
			pwrite(w->fd, w->hdr + done, w->hdr_len - done, w->hdr_off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			w->err = r < 0 ? -errno : -EIO;
			return w->err;
		}
		done += (size_t)r;
	}
	return 0;
}
