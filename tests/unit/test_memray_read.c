/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tests/unit/test_memray_read.c — the .bin reader: streamed files, bad input with reasons, and
 * the quirks of files memray itself writes. */
#include "memray_fixture.h"

static const char *read_error(const void *buf, size_t len, int want, char *err, size_t errlen)
{
	struct memray_profile p;

	CHECK_I64(memray_read_buf(buf, len, NULL, NULL, &p, err, errlen), want);
	memray_profile_release(&p);
	return err;
}

static void test_large_file_streams_through_file_reader(void)
{
	int fd = new_fd();
	struct memray_writer *w = new_writer(fd, false);
	struct memray_profile p, q;
	char err[256] = "";
	uint8_t *bytes;
	size_t len;
	FILE *f;

	for (uint64_t i = 0; i < 30000; i++) {
		memray_writer__alloc(w, i % 3, BM_FN_MALLOC, 0x10000000 + i * 4096, i, NULL, 0);
		if (i % 2)
			memray_writer__free_block(w, (i + 1) % 3, 0x10000000 + (i - 1) * 4096);
	}
	CHECK_I64(finish_and_read(w, fd, &p, NULL, &bytes, &len), 0);
	CHECK(len > 3 * 65536);
	CHECK_U64(p.allocations, 30000);
	CHECK_U64(p.total_bytes, 30000ull * 29999 / 2);
	f = fdopen(dup(fd), "rb");
	CHECK(f != NULL);
	rewind(f);
	CHECK_I64(memray_read_file(f, NULL, NULL, &q, err, sizeof(err)), 0);
	CHECK_U64(q.total_bytes, p.total_bytes);
	CHECK_U64(q.peak_bytes, p.peak_bytes);
	CHECK_U64(q.live_bytes, p.live_bytes);
	CHECK_U64(q.data_bytes, len);
	CHECK_U64(q.nr_records[MEMRAY_REC_CONTEXT_SWITCH], p.nr_records[MEMRAY_REC_CONTEXT_SWITCH]);
	/* every odd block stays: the sum of odd i below 30000 is 15000^2; the peak comes just
	 * before the last free, with blocks 29998 and 29999 both live */
	CHECK_U64(p.live_bytes, 15000ull * 15000);
	CHECK_U64(p.peak_bytes, 14999ull * 14999 + 29998 + 29999);
	fclose(f);
	memray_profile_release(&p);
	memray_profile_release(&q);
	free(bytes);
	close(fd);
}

static void test_reader_rejects_bad_files_with_reasons(void)
{
	static const uint8_t lz4[] = { 0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7 };
	uint8_t hdr[128], buf[160];
	char err[256];
	size_t n = expected_header(hdr, 0);

	CHECK(strstr(read_error("hello world", 11, -EBADMSG, err, sizeof(err)), "bad magic"));
	CHECK(strstr(read_error(lz4, sizeof(lz4), -EPROTONOSUPPORT, err, sizeof(err)),
		     "lz4-compressed"));
	CHECK(strstr(read_error(hdr, 4, -EBADMSG, err, sizeof(err)), "truncated header"));
	CHECK(strstr(read_error(hdr, n - 1, -EBADMSG, err, sizeof(err)), "truncated header"));

	memcpy(buf, hdr, n);
	buf[7] = 12;
	CHECK(strstr(read_error(buf, n, -EPROTONOSUPPORT, err, sizeof(err)),
		     "version 12 is not 13"));
	memcpy(buf, hdr, n);
	buf[16] = 1; /* file_format */
	CHECK(strstr(read_error(buf, n, -EPROTONOSUPPORT, err, sizeof(err)), "aggregated"));
	memcpy(buf, hdr, n);
	buf[n - 6] = 0; /* python_allocator */
	CHECK(strstr(read_error(buf, n, -EBADMSG, err, sizeof(err)), "python_allocator 0"));

	/* allocation with no CONTEXT_SWITCH */
	memcpy(buf, hdr, n);
	memcpy(buf + n, "\xfe\x80\x04\x10\x01", 5);
	CHECK_STR(read_error(buf, n + 5, -EBADMSG, err, sizeof(err)),
		  "offset 87: ALLOCATION with no previous CONTEXT_SWITCH");
	/* truncated allocation */
	memcpy(buf + n, "\x0c\x01\0\0\0\0\0\0\0\xfe\x80", 11);
	CHECK_STR(read_error(buf, n + 11, -EBADMSG, err, sizeof(err)),
		  "offset 96: truncated ALLOCATION record");
	/* unknown record type */
	memcpy(buf + n, "\x0c\x01\0\0\0\0\0\0\0\x03\x01", 11);
	CHECK_STR(read_error(buf, n + 11, -EBADMSG, err, sizeof(err)),
		  "offset 96: invalid record type 0x03");
	/* pop on an empty stack */
	memcpy(buf + n, "\x0c\x01\0\0\0\0\0\0\0\x10\x01", 11);
	CHECK(strstr(read_error(buf, n + 11, -EBADMSG, err, sizeof(err)), "FRAME_POP of 1"));
	/* a SEGMENT_HEADER announcing 2 segments followed by 1 */
	memcpy(buf + n, "\x06\x07x\0\x02\0\0\0\0\0\0\0\0\x08\0\0\0\0\0\0\0\0\x10\x01", 24);
	CHECK(strstr(read_error(buf, n + 24, -EBADMSG, err, sizeof(err)),
		     "announced 2 segments, found 1"));
}

static void test_reader_accepts_memray_quirks(void)
{
	uint8_t hdr[128], buf[256];
	size_t n = expected_header(hdr, 0), k;
	struct memray_profile p;
	char err[256] = "";

	/* CODE_OBJECT + pushes/pops + zero padding without a trailer (memray grows with
	 * ftruncate); MALLOC 0x1000 of 10 */
	static const uint8_t recs[] = {
		0x0c, 1,    0,	  0,	0,    0,    0,	  0,	0,    0x0e, 0x01, 'f',	0,
		'x',  '.',  'p',  'y',	0,    0x14, 0x02, 0xe8, 0x00, 0x41, 0x01, 0x00, 0x40,
		0x01, 0x00, 0xfe, 0x80, 0x04, 0x0a, 0x11, 0x02, 0x00, 0x00, 0x00,
	};
	memcpy(buf, hdr, n);
	memcpy(buf + n, recs, sizeof(recs));
	k = n + sizeof(recs);
	CHECK_I64(memray_read_buf(buf, k, NULL, NULL, &p, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK(!p.has_trailer);
	CHECK_U64(p.nr_records[MEMRAY_REC_CODE_OBJECT], 1);
	CHECK_U64(p.nr_records[MEMRAY_REC_FRAME_PUSH], 2);
	CHECK_U64(p.nr_records[MEMRAY_REC_FRAME_POP], 1);
	CHECK_U64(p.nr_records[MEMRAY_REC_MEMORY_RECORD], 1);
	CHECK_U64(p.total_bytes, 10);
	memray_profile_release(&p);
}

int main(void)
{
	TEST(test_large_file_streams_through_file_reader);
	TEST(test_reader_rejects_bad_files_with_reasons);
	TEST(test_reader_accepts_memray_quirks);
	return tap_done();
}
