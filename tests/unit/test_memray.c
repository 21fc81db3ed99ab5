/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tests/unit/test_memray.c — the .bin writer against exact bytes and against our own reader. */
#include "memray_fixture.h"

static void test_minimal_header_is_76_bytes_exactly(void)
{
	struct memray_meta m = { .pid = 7, .start_ms = 5, .end_ms = 9 };
	static const uint8_t want[77] = {
		'm',  'e',  'm', 'r', 'a', 'y', 0, 13, 0, 0, 0, 0x00, 0x00,
		0x0b, 0x03, 0,	 0,   0,   0,	0, 0,  0, 0, 0, 0, /* n_allocations */
		0,    0,    0,	 0,   0,   0,	0, 0,		   /* n_frames */
		5,    0,    0,	 0,   0,   0,	0, 0,		   /* start */
		9,    0,    0,	 0,   0,   0,	0, 0,		   /* end */
		0,						   /* command line "" */
		7,    0,    0,	 0,				   /* pid */
		7,    0,    0,	 0,   0,   0,	0, 0,		   /* main_tid */
		0,    0,    0,	 0,   0,   0,	0, 0,		   /* skipped frames */
		3,    0,    0, /* allocator, trace pymalloc, lifetimes */
		0,    0,    0, /* libdest, site_packages, sys_path */
		0x01,	       /* TRAILER */
	};
	int fd = new_fd();
	struct memray_writer *w = memray_writer__new(fd, &m);
	uint8_t *got;
	size_t len;

	CHECK(w != NULL);
	CHECK_I64(memray_writer__finish(w), 0);
	memray_writer__free(w);
	got = slurp(fd, &len);
	CHECK_U64(len, 77);
	CHECK(len == 77 && !memcmp(got, want, 77));
	free(got);
	close(fd);
}

static void test_header_rewritten_with_count_and_read_back(void)
{
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, false);
	struct memray_profile p;
	uint8_t hdr[128], *bytes;
	size_t n, len;

	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000, 10, NULL, 0), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x2000, 20, NULL, 0), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x3000, 30, NULL, 0), 0);
	CHECK_I64(memray_writer__free_block(w, 1, 0x2000), 0);
	CHECK_U64(memray_writer__nr_records(w), 4);
	CHECK_I64(finish_and_read(w, fd, &p, NULL, &bytes, &len), 0);
	n = expected_header(hdr, 4);
	CHECK_U64(n, 87);
	CHECK(len > n && !memcmp(bytes, hdr, n));
	CHECK_I64(p.hdr.version, 13);
	CHECK_I64(p.hdr.pid, 4242);
	CHECK_STR(p.hdr.command_line, "./bench --x");
	CHECK_U64(p.hdr.n_allocations, 4);
	CHECK_I64(p.hdr.start_ms, START_MS);
	CHECK_I64(p.hdr.end_ms, END_MS);
	CHECK_U64(p.hdr.python_allocator, 3);
	CHECK_U64(p.hdr.header_bytes, 87);
	CHECK_U64(p.hdr.nr_sys_path, 0);
	CHECK_U64(p.allocations, 3);
	CHECK_U64(p.total_bytes, 60);
	CHECK_U64(p.peak_bytes, 60);
	CHECK_U64(p.live_bytes, 40);
	CHECK_U64(p.nr_records[MEMRAY_REC_ALLOCATION], 4);
	CHECK_U64(p.nr_records[MEMRAY_REC_CONTEXT_SWITCH], 1);
	CHECK_U64(p.nr_records[MEMRAY_REC_TRAILER], 1);
	CHECK(p.has_trailer);
	CHECK_U64(p.data_bytes, len);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_realloc_is_free_then_realloc_and_peak_is_exact(void)
{
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, false);
	static const uint8_t ids[] = { 6, 6, 5, 7, 5, 7 };
	struct memray_profile p;
	struct evlog log = { .n = 0 };
	uint8_t *bytes;
	size_t len;

	memray_writer__alloc(w, 9, BM_FN_MALLOC, 0x10000, 1000, NULL, 0);
	memray_writer__alloc(w, 9, BM_FN_MALLOC, 0x20000, 100, NULL, 0);
	memray_writer__free_block(w, 9, 0x20000); /* realloc(0x20000, 300) moved it */
	memray_writer__alloc(w, 9, BM_FN_REALLOC, 0x30000, 300, NULL, 0);
	memray_writer__free_block(w, 9, 0x30000);
	memray_writer__alloc(w, 9, BM_FN_REALLOCARRAY, 0x40000, 50, NULL, 0);
	CHECK_I64(finish_and_read(w, fd, &p, &log, &bytes, &len), 0);
	CHECK_U64(log.n, 6);
	for (size_t i = 0; i < 6 && i < log.n; i++) {
		CHECK_U64(log.ev[i].allocator, ids[i]);
		CHECK_U64(log.ev[i].tid, 9);
	}
	CHECK_U64(log.ev[3].addr, 0x30000);
	CHECK_U64(log.ev[3].size, 300);
	CHECK_U64(p.allocations, 4);
	CHECK_U64(p.total_bytes, 1450);
	CHECK_U64(p.peak_bytes, 1300);
	CHECK_U64(p.live_bytes, 1050);
	CHECK_U64(p.nr_by_allocator[7], 2);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_calloc_uses_extra_id_byte_8(void)
{
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, false);
	/* CONTEXT_SWITCH tid 0x0102, then 0xF8 (miss, aaa = 0), delta 0x200 → zig-zag 0x400 →
	 * 80 08, id byte 08, size 24 */
	static const uint8_t want[] = { 0x0c, 0x02, 0x01, 0,	0,    0,    0,	 0,
					0,    0xf8, 0x80, 0x08, 0x08, 0x18, 0x01 };
	struct memray_profile p;
	uint8_t *bytes;
	size_t len;

	CHECK_I64(memray_writer__alloc(w, 0x102, BM_FN_CALLOC, 0x1000, 24, NULL, 0), 0);
	CHECK_I64(finish_and_read(w, fd, &p, NULL, &bytes, &len), 0);
	CHECK_U64(len, 87 + sizeof(want));
	CHECK(len == 87 + sizeof(want) && !memcmp(bytes + 87, want, sizeof(want)));
	CHECK_U64(p.nr_by_allocator[8], 1);
	CHECK_U64(p.total_bytes, 24);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_every_bm_func_maps_to_memray_id(void)
{
	static const struct {
		uint16_t fn;
		uint8_t id;
	} map[] = {
		{ BM_FN_MALLOC, 6 },	   { BM_FN_CALLOC, 8 },		{ BM_FN_REALLOC, 7 },
		{ BM_FN_REALLOCARRAY, 7 }, { BM_FN_POSIX_MEMALIGN, 9 }, { BM_FN_ALIGNED_ALLOC, 10 },
		{ BM_FN_MEMALIGN, 11 },	   { BM_FN_VALLOC, 12 },	{ BM_FN_PVALLOC, 13 },
		{ BM_FN_MMAP, 14 },
	};
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, false);
	struct memray_profile p;
	struct evlog log = { .n = 0 };
	uint8_t *bytes;
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		CHECK_I64(memray_writer__alloc(w, 1, map[i].fn, 0x100000 * (i + 1), 64, NULL, 0),
			  0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_FREE, 0x1000, 1, NULL, 0), -EINVAL);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MUNMAP, 0x1000, 1, NULL, 0), -EINVAL);
	CHECK_I64(memray_writer__alloc(w, 1, 0, 0x1000, 1, NULL, 0), -EINVAL);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MAX, 0x1000, 1, NULL, 0), -EINVAL);
	CHECK_I64(finish_and_read(w, fd, &p, &log, &bytes, &len), 0);
	CHECK_U64(log.n, ARRAY_SIZE(map));
	for (size_t i = 0; i < ARRAY_SIZE(map) && i < log.n; i++)
		CHECK_U64(log.ev[i].allocator, map[i].id);
	CHECK_U64(p.allocations, ARRAY_SIZE(map));
	CHECK_U64(p.total_bytes, 64 * ARRAY_SIZE(map));
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_mmap_munmap_are_ranges(void)
{
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, false);
	struct memray_profile p;
	struct evlog log = { .n = 0 };
	uint8_t *bytes;
	size_t len;

	memray_writer__alloc(w, 1, BM_FN_MMAP, 0x100000, 3 * 4096, NULL, 0);
	memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x5000, 100, NULL, 0);
	memray_writer__munmap(w, 1, 0x101000, 4096); /* the middle page: splits the range */
	memray_writer__alloc(w, 1, BM_FN_MMAP, 0x200000, 8192, NULL, 0);
	/* one munmap over the tail of the first and all of the second */
	memray_writer__munmap(w, 1, 0x102000, 0x200000 + 8192 - 0x102000);
	memray_writer__munmap(w, 1, 0x900000, 4096); /* unknown range: nothing */
	CHECK_I64(finish_and_read(w, fd, &p, &log, &bytes, &len), 0);
	CHECK_U64(log.n, 6);
	CHECK_U64(log.ev[2].allocator, 15);
	CHECK_U64(log.ev[2].size, 4096);
	CHECK_U64(log.ev[2].addr, 0x101000);
	CHECK_U64(p.allocations, 3);
	CHECK_U64(p.total_bytes, 3 * 4096 + 100 + 8192);
	/* 12288+100 → 8292 → 16484 (peak) → 4096+100 */
	CHECK_U64(p.peak_bytes, 16484);
	CHECK_U64(p.live_bytes, 4196);
	CHECK_U64(p.nr_by_allocator[14], 2);
	CHECK_U64(p.nr_by_allocator[15], 3);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_native_tree_reuses_common_prefixes(void)
{
	static const struct memray_segment segs[] = { { 0x0, 0x1000 }, { 0x1000, 0x5000 } };
	static const struct memray_image img = { "/usr/bin/prog", 0x555555554000, segs, 2 };
	/* innermost first: a ← b ← c (c outermost) */
	const uint64_t s1[] = { 0xa0, 0xb0, 0xc0 }, s2[] = { 0xd0, 0xb0, 0xc0 };
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, true);
	struct memray_profile p;
	struct evlog log = { .n = 0 };
	uint8_t *bytes;
	size_t len;

	CHECK_I64(memray_writer__maps(w, &img, 1), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000, 1, s1, 3), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x2000, 2, s2, 3), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x3000, 4, s1, 3), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x4000, 8, s1 + 1, 2), 0);
	CHECK_I64(finish_and_read(w, fd, &p, &log, &bytes, &len), 0);
	CHECK_U64(p.nr_records[MEMRAY_REC_NATIVE_TRACE_INDEX], 4);
	CHECK_U64(p.nr_records[MEMRAY_REC_MEMORY_MAP_START], 1);
	CHECK_U64(p.nr_records[MEMRAY_REC_SEGMENT_HEADER], 1);
	CHECK_U64(p.nr_records[MEMRAY_REC_SEGMENT], 2);
	CHECK_U64(p.nr_native_nodes, 4);
	if (p.nr_native_nodes == 4) {
		CHECK_U64(p.native_ip[0], 0xc0);
		CHECK_U64(p.native_parent[0], 0);
		CHECK_U64(p.native_ip[1], 0xb0);
		CHECK_U64(p.native_parent[1], 1);
		CHECK_U64(p.native_ip[2], 0xa0);
		CHECK_U64(p.native_parent[2], 2);
		CHECK_U64(p.native_ip[3], 0xd0);
		CHECK_U64(p.native_parent[3], 2);
	}
	CHECK_U64(log.n, 4);
	CHECK_U64(log.ev[0].native_id, 3);
	CHECK_U64(log.ev[1].native_id, 4);
	CHECK_U64(log.ev[2].native_id, 3);
	CHECK_U64(log.ev[3].native_id, 2);
	CHECK_U64(log.ev[3].map_generation, 1);
	CHECK_U64(p.total_bytes, 15);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_native_parent_and_frame_id_share_one_register(void)
{
	const uint64_t a = 0x40, b = 0x50;
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, true);
	/* after the 1-byte MEMORY_MAP_START (no images) and the CONTEXT_SWITCH: */
	static const uint8_t want[] = {
		0x06,					  /* MEMORY_MAP_START */
		0x05, 0x80, 0x01, 0x00,			  /* node 1: ip +0x40, parent 0 - 0 */
		0x0c, 1,    0,	  0,	0,    0, 0, 0, 0, /* CONTEXT_SWITCH 1 */
		0xfe, 0x80, 0x08, 0x02, 0x10, /* MALLOC 0x1000: nid 0 → 1 (+1), size 16 */
		0x05, 0x20, 0x01,	      /* node 2: ip +0x10, parent 1 → 0 (-1) */
		0xfe, 0x80, 0x08, 0x04, 0x20, /* MALLOC 0x2000: nid 0 → 2 (+2), size 32 */
		0x01,
	};
	struct memray_profile p;
	struct evlog log = { .n = 0 };
	uint8_t *bytes;
	size_t len;

	CHECK_I64(memray_writer__maps(w, NULL, 0), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000, 16, &a, 1), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x2000, 32, &b, 1), 0);
	CHECK_I64(finish_and_read(w, fd, &p, &log, &bytes, &len), 0);
	CHECK_U64(len, 87 + sizeof(want));
	CHECK(len == 87 + sizeof(want) && !memcmp(bytes + 87, want, sizeof(want)));
	CHECK_U64(log.ev[0].native_id, 1);
	CHECK_U64(log.ev[1].native_id, 2);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_pointer_cache_hits_and_misses(void)
{
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, false);
	struct memray_profile p;
	struct evlog log = { .n = 0 };
	uint8_t *bytes;
	size_t len;

	for (uint64_t i = 0; i < 16; i++) /* 16 misses: 0x1000 falls out of the 15 slots */
		memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000 * (i + 1), 10, NULL, 0);
	memray_writer__free_block(w, 1, 0x10000); /* newest: slot 0 hit, one byte 0x85 */
	memray_writer__free_block(w, 1, 0x2000);  /* oldest still cached: slot 14 hit */
	memray_writer__free_block(w, 1, 0x1000);  /* evicted: miss */
	memray_writer__free_block(w, 1, 0x1004);  /* same 8-byte unit as 0x1000: slot 0 hit */
	CHECK_I64(finish_and_read(w, fd, &p, &log, &bytes, &len), 0);
	CHECK_U64(log.n, 20);
	CHECK(!log.ev[15].cache_hit);
	CHECK(log.ev[16].cache_hit);
	CHECK_U64(log.ev[16].addr, 0x10000);
	CHECK(log.ev[17].cache_hit);
	CHECK_U64(log.ev[17].addr, 0x2000);
	CHECK(!log.ev[18].cache_hit);
	CHECK_U64(log.ev[18].addr, 0x1000);
	CHECK(log.ev[19].cache_hit);
	CHECK_U64(log.ev[19].addr, 0x1000);
	CHECK_U64(p.nr_cache_hits, 3);
	/* the last four records: 85, F5 (slot 14), F8-miss 0x1000, 85 (slot 0) + trailer */
	CHECK(len >= 6 && bytes[len - 1] == 0x01 && bytes[len - 2] == 0x85);
	CHECK_U64(p.total_bytes, 160);
	CHECK_U64(p.peak_bytes, 160);
	CHECK_U64(p.live_bytes, 130);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_threads_and_side_records(void)
{
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, false);
	struct memray_profile p;
	struct evlog log = { .n = 0 };
	uint8_t *bytes;
	size_t len;

	memray_writer__alloc(w, 100, BM_FN_MALLOC, 0x1000, 1, NULL, 0);
	memray_writer__alloc(w, 100, BM_FN_MALLOC, 0x2000, 1, NULL, 0);
	memray_writer__alloc(w, 200, BM_FN_MALLOC, 0x3000, 1, NULL, 0);
	CHECK_I64(memray_writer__thread_name(w, 200, "worker"), 0);
	memray_writer__free_block(w, 100, 0x3000);
	CHECK_I64(memray_writer__memory_record(w, 1 << 20, START_MS + 10), 0);
	CHECK_I64(memray_writer__memory_record(w, 1 << 20, START_MS - 10), 0);
	CHECK_I64(memray_writer__alloc(w, 100, BM_FN_MALLOC, 0, 5, NULL, 0), 0); /* NULL: skip */
	CHECK_I64(memray_writer__free_block(w, 100, 0), 0);
	CHECK_I64(finish_and_read(w, fd, &p, &log, &bytes, &len), 0);
	CHECK_U64(p.nr_records[MEMRAY_REC_CONTEXT_SWITCH], 3);
	CHECK_U64(p.nr_threads, 2);
	CHECK_U64(p.nr_records[MEMRAY_REC_THREAD_RECORD], 1);
	CHECK_U64(p.nr_records[MEMRAY_REC_MEMORY_RECORD], 2);
	CHECK_U64(p.nr_records[MEMRAY_REC_ALLOCATION], 4);
	CHECK_U64(log.ev[2].tid, 200);
	CHECK_U64(log.ev[3].tid, 100);
	CHECK_U64(p.live_bytes, 2);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_odd_input_does_not_break_the_file(void)
{
	const uint64_t zeros[4] = { 0 };
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, true);
	struct memray_profile p;
	struct evlog log = { .n = 0 };
	uint8_t *bytes;
	size_t len;

	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000, UINT64_MAX, NULL, 0), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x2000, 0, zeros, 4), 0);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, UINT64_MAX, 1, NULL, 0), 0);
	CHECK_I64(memray_writer__munmap(w, 1, 0, UINT64_MAX), 0);
	CHECK_I64(finish_and_read(w, fd, &p, &log, &bytes, &len), 0);
	CHECK_U64(log.n, 4);
	CHECK_U64(log.ev[0].size, UINT64_MAX);
	CHECK_U64(log.ev[1].native_id, 0);
	CHECK_U64(log.ev[2].addr, UINT64_MAX & ~7ull);
	CHECK_U64(p.nr_records[MEMRAY_REC_MEMORY_MAP_START], 0); /* no stack, no map needed */
	CHECK_U64(p.nr_native_nodes, 0);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_stack_before_maps_gets_an_empty_generation(void)
{
	const uint64_t f = 0x1234;
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, true);
	struct memray_profile p;
	uint8_t *bytes;
	size_t len;

	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000, 8, &f, 1), 0);
	CHECK_I64(finish_and_read(w, fd, &p, NULL, &bytes, &len), 0);
	CHECK_U64(p.nr_records[MEMRAY_REC_MEMORY_MAP_START], 1);
	memray_profile_release(&p);
	free(bytes);
	close(fd);
}

static void test_write_errors_are_returned(void)
{
	int fd = open("/dev/full", O_WRONLY);
	struct memray_writer *w = new_writer(fd, false);
	struct memray_meta bad = { .python_allocator = 7 };

	CHECK(w != NULL); /* the header is only buffered */
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000, 8, NULL, 0), 0);
	CHECK_I64(memray_writer__finish(w), -ENOSPC);
	CHECK_I64(memray_writer__finish(w), -EINVAL);
	CHECK_I64(memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000, 8, NULL, 0), -EINVAL);
	memray_writer__free(w);
	memray_writer__free(NULL);
	close(fd);
	errno = 0;
	CHECK(memray_writer__new(1, &bad) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(memray_writer__new(-1, &(struct memray_meta){ 0 }) == NULL && errno == EBADF);
}

int main(void)
{
	TEST(test_minimal_header_is_76_bytes_exactly);
	TEST(test_header_rewritten_with_count_and_read_back);
	TEST(test_realloc_is_free_then_realloc_and_peak_is_exact);
	TEST(test_calloc_uses_extra_id_byte_8);
	TEST(test_every_bm_func_maps_to_memray_id);
	TEST(test_mmap_munmap_are_ranges);
	TEST(test_native_tree_reuses_common_prefixes);
	TEST(test_native_parent_and_frame_id_share_one_register);
	TEST(test_pointer_cache_hits_and_misses);
	TEST(test_threads_and_side_records);
	TEST(test_odd_input_does_not_break_the_file);
	TEST(test_stack_before_maps_gets_an_empty_generation);
	TEST(test_write_errors_are_returned);
	return tap_done();
}
