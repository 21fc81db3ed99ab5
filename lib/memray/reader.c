// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/memray/reader.c — the memray .bin reader: header and record decoding (the numbers
 * `memray stats` prints are counted in stats.c, the input primitives are in decode.c); pure. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "memray/decode.h"
#include "memray/pyread.h"
#include "memray/format.h"
#include "memray/reader.h"
#include "memray/stats.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

const char *memray_allocator_name(unsigned int id)
{
	static const char *const al_names[MEMRAY_AL_MAX + 1] = {
		[MEMRAY_AL_PYMALLOC_FREE] = "pymalloc_free",
		[MEMRAY_AL_PYMALLOC_MALLOC] = "pymalloc_malloc",
		[MEMRAY_AL_PYMALLOC_CALLOC] = "pymalloc_calloc",
		[MEMRAY_AL_PYMALLOC_REALLOC] = "pymalloc_realloc",
		[MEMRAY_AL_FREE] = "free",
		[MEMRAY_AL_MALLOC] = "malloc",
		[MEMRAY_AL_REALLOC] = "realloc",
		[MEMRAY_AL_CALLOC] = "calloc",
		[MEMRAY_AL_POSIX_MEMALIGN] = "posix_memalign",
		[MEMRAY_AL_ALIGNED_ALLOC] = "aligned_alloc",
		[MEMRAY_AL_MEMALIGN] = "memalign",
		[MEMRAY_AL_VALLOC] = "valloc",
		[MEMRAY_AL_PVALLOC] = "pvalloc",
		[MEMRAY_AL_MMAP] = "mmap",
		[MEMRAY_AL_MUNMAP] = "munmap",
	};

	return id <= MEMRAY_AL_MAX ? al_names[id] : NULL;
}

/* ---- the reader ---------------------------------------------------------------------------- */

struct rd {
	struct src s;
	struct memray_profile *p;
	char *err;
	size_t errlen;
	memray_event_fn *fn;
	void *arg;
	uint64_t r_ip, r_nid, r_ptr, r_line;
	uint64_t cache[MEMRAY_CACHE_SLOTS];
	bool have_tid;
	uint64_t tid;
	struct mr_hwm hwm;     /* live, peak and total bytes */
	struct mr_py py;       /* each thread's Python stack */
	struct mr_thread *cur; /* the current thread's */
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
			    MR_STRING_MAX);
	case -EIO:
		return fail(r, -EIO, off, "read error");
	case -ENOMEM:
		return fail(r, -ENOMEM, off, "out of memory");
	default:
		return fail(r, err, off, "%s record: %s", what, strerror(-err));
	}
}

static int get_fields(struct src *s, const uint8_t *widths, size_t n, uint64_t *v)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = mr_get_le(s, widths[i], &v[i]);
	return err;
}

static int read_header(struct rd *r)
{
	struct memray_header *h = &r->p->hdr;
	/* widths of the fixed fields: version; python_version .. end_time; pid .. lifetimes */
	static const uint8_t pre[] = { 4 }, fixed1[] = { 4, 1, 1, 8, 8, 8, 8 },
			     fixed2[] = { 4, 8, 8, 1, 1, 1 };
	struct src *s = &r->s;
	uint8_t got[MEMRAY_MAGIC_LEN];
	size_t n = 0;
	uint64_t v[7];
	int err = 0;

	while (n < sizeof(got) && !(err = mr_get_u8(s, &got[n])))
		n++;
	if (n >= MEMRAY_LZ4_MAGIC_LEN && !memcmp(got, MEMRAY_LZ4_MAGIC, MEMRAY_LZ4_MAGIC_LEN))
		return fail(r, -EPROTONOSUPPORT, UINT64_MAX,
			    "lz4-compressed capture, decompress first (lz4 -d FILE OUT)");
	if (memcmp(got, MEMRAY_MAGIC, n))
		return fail(r, -EBADMSG, UINT64_MAX, "not a memray capture file (bad magic)");
	if (n < sizeof(got))
		goto truncated;

	if ((err = get_fields(s, pre, ARRAY_LEN(pre), v)))
		goto truncated;
	h->version = (int32_t)v[0];
	if (h->version != MEMRAY_HEADER_VERSION)
		return fail(r, -EPROTONOSUPPORT, UINT64_MAX,
			    "header version %" PRId32 " is not %d (memray 1.20)", h->version,
			    MEMRAY_HEADER_VERSION);
	if ((err = get_fields(s, fixed1, ARRAY_LEN(fixed1), v)))
		goto truncated;
	h->python_version = (uint32_t)v[0];
	h->native_traces = v[1];
	h->file_format = (uint8_t)v[2];
	h->n_allocations = v[3];
	h->n_frames = v[4];
	h->start_ms = (int64_t)v[5];
	h->end_ms = (int64_t)v[6];
	if ((err = mr_get_string(s, &h->command_line)))
		goto truncated;
	if ((err = get_fields(s, fixed2, ARRAY_LEN(fixed2), v)))
		goto truncated;
	h->pid = (int32_t)v[0];
	h->main_tid = v[1];
	h->skipped_frames_on_main_tid = v[2];
	h->python_allocator = (uint8_t)v[3];
	h->trace_python_allocators = v[4];
	h->track_object_lifetimes = v[5];
	if ((err = mr_get_string(s, &h->libdest)) ||
	    (err = mr_read_list(s, &h->site_packages, &h->nr_site_packages)) ||
	    (err = mr_read_list(s, &h->sys_path, &h->nr_sys_path)))
		goto truncated;
	h->header_bytes = mr_src_off(s);

	if (h->file_format == MEMRAY_FMT_AGGREGATED)
		return fail(r, -EPROTONOSUPPORT, UINT64_MAX,
			    "aggregated capture (file_format 1) is not supported, only "
			    "ALL_ALLOCATIONS (0)");
	if (h->file_format != MEMRAY_FMT_ALL_ALLOCS)
		return fail(r, -EBADMSG, UINT64_MAX, "unknown file_format %u", h->file_format);
	if (!memray_python_allocator_name(h->python_allocator))
		return fail(r, -EBADMSG, UINT64_MAX,
			    "python_allocator %u is not 1..6 (memray reports would fail)",
			    h->python_allocator);
	return 0;
truncated:
	if (err == -ENOMEM || err == -EIO)
		return fail(r, err, UINT64_MAX, "%s", err == -EIO ? "read error" : "out of memory");
	return fail(r, -EBADMSG, UINT64_MAX, "truncated header (%" PRIu64 " bytes)", mr_src_off(s));
}

static void cache_push(struct rd *r, uint64_t addr)
{
	memmove(&r->cache[1], &r->cache[0], (MEMRAY_CACHE_SLOTS - 1) * sizeof(r->cache[0]));
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
	uint8_t id = t & 7;
	bool dealloc;
	int err;

	if (slot == MEMRAY_CACHE_SLOTS) {
		err = mr_get_delta(&r->s, &r->r_ptr, NULL);
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
		err = mr_get_u8(&r->s, &id);
		if (err)
			return rec_fail(r, err, off, "ALLOCATION");
		if (!id || id > 15)
			return fail(r, -EBADMSG, off, "invalid allocator id %u", id);
	}
	ev.allocator = id;
	dealloc = memray_allocator_is_dealloc(id);
	if (r->p->hdr.native_traces && !dealloc) {
		err = mr_get_delta(&r->s, &r->r_nid, &ev.native_id);
		if (err)
			return rec_fail(r, err, off, "ALLOCATION");
		err = check_native_id(r, off, ev.native_id);
		if (err)
			return err;
	}
	if (!dealloc) {
		err = mr_get_varint(&r->s, &ev.size);
		if (err)
			return rec_fail(r, err, off, "ALLOCATION");
	}
	if (!r->have_tid)
		return fail(r, -EBADMSG, off, "ALLOCATION with no previous CONTEXT_SWITCH");
	ev.tid = r->tid;
	ev.map_generation = r->p->nr_map_generations;
	ev.py_frames = mr_py_frames(r->cur, &ev.py_depth);
	r->p->nr_by_allocator[id]++;
	err = mr_hwm_account(&r->hwm, r->p, &ev);
	if (err)
		return fail(r, err, off, "out of memory");
	err = r->fn ? r->fn(r->arg, &ev) : 0;
	return err < 0 ? err : 0;
}

static int read_frame(struct rd *r, uint8_t t, uint64_t off, bool push)
{
	uint64_t code_id, pos;
	uint64_t n = push ? 1 : (t & 15) + 1u;
	int err;

	if (push) {
		err = mr_get_varint(&r->s, &code_id);
		if (!err)
			err = mr_get_varint(&r->s, &pos);
		if (err)
			return rec_fail(r, err, off, "FRAME_PUSH");
	}
	if (!r->have_tid)
		return fail(r, -EBADMSG, off, "%s with no previous CONTEXT_SWITCH",
			    push ? "FRAME_PUSH" : "FRAME_POP");
	if (push)
		return mr_py_push(r->cur, code_id) ? fail(r, -ENOMEM, off, "out of memory") : 0;
	if (mr_py_pop(r->cur, n)) {
		uint32_t had;

		mr_py_frames(r->cur, &had);
		return fail(r, -EBADMSG, off,
			    "FRAME_POP of %" PRIu64 " frames with %" PRIu32 " on the stack", n,
			    had);
	}
	return 0;
}

static int read_object(struct rd *r, uint8_t t, uint64_t off)
{
	unsigned int slot = (t >> 1) & 15;
	uint64_t nid;
	int err;

	if (slot == MEMRAY_CACHE_SLOTS) {
		err = mr_get_delta(&r->s, &r->r_ptr, NULL);
		if (err)
			return rec_fail(r, err, off, "OBJECT_RECORD");
		cache_push(r, r->r_ptr << 3);
	}
	if ((t & 1) && r->p->hdr.native_traces) {
		err = mr_get_delta(&r->s, &r->r_nid, &nid);
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

	err = mr_get_delta(&r->s, &r->r_ip, &ip);
	if (!err)
		err = mr_get_delta(&r->s, &r->r_nid, &parent);
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
	uint64_t nr, load = 0, vaddr = 0, v, lo = UINT64_MAX, hi = 0;
	char *path = NULL;
	uint8_t b;
	int err;

	err = mr_get_string(&r->s, &path);
	if (!err)
		err = mr_get_varint(&r->s, &nr);
	if (!err)
		err = mr_get_le(&r->s, 8, &load);
	if (err) {
		free(path);
		return rec_fail(r, err, off, "SEGMENT_HEADER");
	}
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t soff = mr_src_off(&r->s);

		err = mr_get_u8(&r->s, &b);
		if (!err && b != MEMRAY_T_SEGMENT)
			err = -EBADMSG;
		if (!err)
			err = mr_get_le(&r->s, 8, &vaddr);
		if (!err)
			err = mr_get_varint(&r->s, &v);
		if (err) {
			free(path);
			return err != -EBADMSG ? rec_fail(r, err, soff, "SEGMENT")
					       : fail(r, err, soff,
						      "SEGMENT_HEADER announced %" PRIu64
						      " segments, found %" PRIu64,
						      nr, i);
		}
		lo = load + vaddr < lo ? load + vaddr : lo;
		hi = load + vaddr + v > hi ? load + vaddr + v : hi;
		r->p->nr_records[MEMRAY_REC_SEGMENT]++;
	}
	return mr_image_add(r->p, path, load, lo, hi) ? fail(r, -ENOMEM, off, "out of memory") : 0;
}

static int read_code_object(struct rd *r, uint64_t off)
{
	uint64_t v, len = 0, line = 0;
	char *fn = NULL, *file = NULL;
	uint8_t b;
	int err;

	err = mr_get_varint(&r->s, &v);
	if (!err)
		err = mr_get_string(&r->s, &fn);
	if (!err)
		err = mr_get_string(&r->s, &file);
	if (!err)
		err = mr_get_delta(&r->s, &r->r_line, &line);
	if (!err)
		err = mr_get_varint(&r->s, &len);
	for (uint64_t i = 0; i < len && !err; i++)
		err = mr_get_u8(&r->s, &b);
	if (err) {
		free(fn);
		free(file);
		return rec_fail(r, err, off, "CODE_OBJECT");
	}
	err = mr_code_define(r->p, v, fn, file, (int64_t)line);
	return err ? fail(r, -EBADMSG, off, "CODE_OBJECT id %" PRIu64 ": %s", v, strerror(-err))
		   : 0;
}

/* A 0x00 where a record should start: fine if only zero padding follows (memray ignores it). */
static int read_zeros(struct rd *r, uint64_t off)
{
	uint8_t b;
	int err;

	while (!(err = mr_get_u8(&r->s, &b))) {
		if (b)
			return fail(r, -EBADMSG, off, "invalid record type 0x00");
	}
	return err == -ENODATA ? 1 : rec_fail(r, err, off, "padding");
}

/* 0 for another record, 1 at the end of the data, or a negative error. */
static int read_record(struct rd *r)
{
	struct memray_profile *p = r->p;
	uint64_t off = mr_src_off(&r->s), v;
	bool is_new;
	uint8_t t;
	int err;

	err = mr_get_u8(&r->s, &t);
	if (err == -ENODATA)
		return 1;
	if (err)
		return rec_fail(r, err, off, "next");
	if (t & MEMRAY_T_ALLOCATION) {
		p->nr_records[MEMRAY_REC_ALLOCATION]++;
		return read_allocation(r, t, off);
	}
	if (t & MEMRAY_T_FRAME_PUSH) {
		p->nr_records[MEMRAY_REC_FRAME_PUSH]++;
		return read_frame(r, t, off, true);
	}
	if (t & MEMRAY_T_OBJECT_RECORD) {
		p->nr_records[MEMRAY_REC_OBJECT_RECORD]++;
		return read_object(r, t, off);
	}
	if (t & MEMRAY_T_FRAME_POP) {
		p->nr_records[MEMRAY_REC_FRAME_POP]++;
		return read_frame(r, t, off, false);
	}
	switch (t) {
	case MEMRAY_T_PADDING:
		return read_zeros(r, off);
	case MEMRAY_T_TRAILER:
		p->nr_records[MEMRAY_REC_TRAILER]++;
		p->has_trailer = true;
		return 1;
	case MEMRAY_T_MEMORY_RECORD:
		p->nr_records[MEMRAY_REC_MEMORY_RECORD]++;
		err = mr_get_varint(&r->s, &v);
		if (!err)
			err = mr_get_varint(&r->s, &v);
		return err ? rec_fail(r, err, off, "MEMORY_RECORD") : 0;
	case MEMRAY_T_NATIVE_INDEX:
		p->nr_records[MEMRAY_REC_NATIVE_TRACE_INDEX]++;
		return read_native_node(r, off);
	case MEMRAY_T_MAP_START:
		p->nr_records[MEMRAY_REC_MEMORY_MAP_START]++;
		p->nr_map_generations++;
		return 0;
	case MEMRAY_T_SEGMENT_HEADER:
		p->nr_records[MEMRAY_REC_SEGMENT_HEADER]++;
		return read_segments(r, off);
	case MEMRAY_T_SEGMENT:
		return fail(r, -EBADMSG, off, "SEGMENT outside a SEGMENT_HEADER");
	case MEMRAY_T_THREAD_RECORD:
		p->nr_records[MEMRAY_REC_THREAD_RECORD]++;
		err = mr_get_string(&r->s, NULL);
		return err ? rec_fail(r, err, off, "THREAD_RECORD") : 0;
	case MEMRAY_T_CONTEXT_SWITCH:
		p->nr_records[MEMRAY_REC_CONTEXT_SWITCH]++;
		err = mr_get_le(&r->s, 8, &r->tid);
		if (err)
			return rec_fail(r, err, off, "CONTEXT_SWITCH");
		r->have_tid = true;
		r->cur = mr_py_thread(&r->py, r->tid, &is_new);
		if (!r->cur)
			return fail(r, -ENOMEM, off, "out of memory");
		p->nr_threads += is_new;
		return 0;
	case MEMRAY_T_CODE_OBJECT:
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
	r->p->live_bytes = r->hwm.cur;
	r->p->data_bytes = mr_src_off(&r->s);
	mr_hwm_release(&r->hwm);
	mr_py_release(&r->py);
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
	r.s.chunk = malloc(MR_CHUNK_BYTES);
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
	for (size_t i = 0; i < p->nr_codes; i++) {
		free(p->codes[i].function);
		free(p->codes[i].filename);
	}
	free(p->codes);
	for (size_t i = 0; i < p->nr_images; i++)
		free(p->images[i].path);
	free(p->images);
	memset(p, 0, sizeof(*p));
}
