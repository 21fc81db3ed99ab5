/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tests/unit/memray_fixture.h — what the writer's and the reader's unit tests share: a writer
 * on a temp file, the file read back, the expected header bytes. Included by one test file
 * each; the helpers are static. */
#ifndef BM_TEST_MEMRAY_FIXTURE_H
#define BM_TEST_MEMRAY_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "benchmem.h"
#include "memray/reader.h"
#include "memray/writer.h"
#include "tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define START_MS      1700000000000LL
#define END_MS	      1700000001500LL

/* ---- helpers ------------------------------------------------------------------------------ */

static int new_fd(void)
{
	return memfd_create("test_memray", 0);
}

static struct memray_writer *new_writer(int fd, bool native)
{
	struct memray_meta m = {
		.command_line = "./bench --x",
		.pid = 4242,
		.start_ms = START_MS,
		.end_ms = END_MS,
		.native_traces = native,
	};

	return memray_writer__new(fd, &m);
}

/* Whole contents of @fd; *len its size. Caller frees. */
static uint8_t *slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *buf = malloc(end > 0 ? (size_t)end : 1);

	*len = 0;
	if (!buf || end < 0 || pread(fd, buf, (size_t)end, 0) != end)
		return buf;
	*len = (size_t)end;
	return buf;
}

#define NR_EV 64

struct evlog {
	struct memray_event ev[NR_EV];
	size_t n;
};

static int log_event(void *arg, const struct memray_event *ev)
{
	struct evlog *l = arg;

	if (l->n < NR_EV)
		l->ev[l->n] = *ev;
	l->n++;
	return 0;
}

/* Finishes @w, reads the file back into *@p (and @log); returns the reader's result. */
static int finish_and_read(struct memray_writer *w, int fd, struct memray_profile *p,
			   struct evlog *log, uint8_t **bytes, size_t *len)
{
	char err[256] = "";
	int ret;

	CHECK_I64(memray_writer__finish(w), 0);
	memray_writer__free(w);
	*bytes = slurp(fd, len);
	ret = memray_read_buf(*bytes, *len, log ? log_event : NULL, log, p, err, sizeof(err));
	if (ret)
		printf("# reader: %s\n", err);
	return ret;
}

/* Reads @buf/@len expecting failure @want; returns the reason. */

/* The 76-byte header our writer produces for new_writer(fd, false), n_allocations = @n. */
static size_t expected_header(uint8_t *h, uint64_t n)
{
	static const uint8_t fixed1[] = { 'm', 'e', 'm',  'r',	'a',  'y',  0, 13, 0,
					  0,   0,   0x00, 0x00, 0x0b, 0x03, 0, 0 };
	size_t k = 0;

	memcpy(h, fixed1, sizeof(fixed1));
	k = sizeof(fixed1);
	for (int i = 0; i < 8; i++)
		h[k++] = (uint8_t)(n >> (8 * i));
	for (int i = 0; i < 8; i++)
		h[k++] = 0;
	for (int i = 0; i < 8; i++)
		h[k++] = (uint8_t)((uint64_t)START_MS >> (8 * i));
	for (int i = 0; i < 8; i++)
		h[k++] = (uint8_t)((uint64_t)END_MS >> (8 * i));
	memcpy(h + k, "./bench --x", 12);
	k += 12;
	h[k++] = 4242 & 0xff; /* pid */
	h[k++] = 4242 >> 8;
	h[k++] = 0;
	h[k++] = 0;
	h[k++] = 4242 & 0xff; /* main_tid = pid */
	h[k++] = 4242 >> 8;
	for (int i = 0; i < 6; i++)
		h[k++] = 0;
	for (int i = 0; i < 8; i++) /* skipped frames */
		h[k++] = 0;
	h[k++] = 3; /* python_allocator malloc */
	h[k++] = 0; /* trace_python_allocators */
	h[k++] = 0; /* track_object_lifetimes */
	h[k++] = 0; /* libdest */
	h[k++] = 0; /* site_packages */
	h[k++] = 0; /* sys_path */
	return k;
}

/* ---- tests -------------------------------------------------------------------------------- */

#endif /* BM_TEST_MEMRAY_FIXTURE_H */
