// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_pyframes.c — Python frames in a .bin (lib/memray/pyframes.c) read back by
 * our reader, and CPython's line tables (daemon/pystacks.c) against real code objects. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "allocators.h"
#include "memray/pyframes.h"
#include "memray/reader.h"
#include "memray/writer.h"
#include "pystacks.h"
#include "tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What the reader saw at each allocation: its thread and "fn@line" of each frame. */
struct seen {
	uint64_t tid[16];
	char stack[16][512];
	size_t n;
	const struct memray_profile *p;
};

static int on_event(void *arg, const struct memray_event *ev)
{
	struct seen *s = arg;
	char *out;

	if (s->n == ARRAY_SIZE(s->stack) || !ev->size)
		return 0;
	s->tid[s->n] = ev->tid;
	out = s->stack[s->n++];
	out[0] = '\0';
	for (uint32_t i = 0; i < ev->py_depth; i++) {
		char frame[64];

		/* the codes are filled as the file is read: at this event, every pushed one is */
		snprintf(frame, sizeof(frame), "%s%" PRIu64, i ? " " : "", ev->py_frames[i]);
		strcat(out, frame);
	}
	return 0;
}

/* "fn@file:line" of code @id in @p. */
static const char *code_name(const struct memray_profile *p, uint64_t id, char *buf, size_t len)
{
	const struct memray_code *c = id < p->nr_codes ? &p->codes[id] : NULL;

	if (!c || !c->defined)
		return "?";
	snprintf(buf, len, "%s@%s:%" PRId64, c->function, c->filename, c->firstlineno);
	return buf;
}

static void test_stacks_round_trip_per_thread_with_shared_prefixes(void)
{
	struct memray_meta m = { .command_line = "py", .pid = 7, .start_ms = 1, .end_ms = 2 };
	struct memray_pyframe a[] = { { "<module>", "m.py", 10, true },
				      { "main", "m.py", 4, false },
				      { "work", "w.py", 7, true } };
	struct memray_pyframe b[] = { { "<module>", "m.py", 10, true },
				      { "main", "m.py", 5, false } };
	struct memray_pyframe deep[40];
	struct memray_profile p = { 0 };
	struct seen s = { 0 };
	struct memray_pyframes *pf = memray_pyframes__new();
	int fd = memfd_create("test_pyframes", 0);
	struct memray_writer *w = memray_writer__new(fd, &m);
	char err[128], n1[128];
	FILE *f;

	for (size_t i = 0; i < ARRAY_SIZE(deep); i++)
		deep[i] = (struct memray_pyframe){ "rec", "r.py", 3, i == 0 };
	CHECK(pf && w);
	CHECK(!memray_pyframes__set(pf, w, 1, a, 3));
	CHECK(!memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x1000, 100, NULL, 0));
	CHECK(!memray_pyframes__set(pf, w, 1, b, 2)); /* pop 2, push main@5 */
	CHECK(!memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x2000, 200, NULL, 0));
	CHECK(!memray_pyframes__set(pf, w, 2, deep, 40)); /* another thread, 40 deep */
	CHECK(!memray_writer__alloc(w, 2, BM_FN_MALLOC, 0x3000, 300, NULL, 0));
	CHECK(!memray_pyframes__set(pf, w, 1, a, 3)); /* thread 1's stack is still b */
	CHECK(!memray_writer__alloc(w, 1, BM_FN_MALLOC, 0x4000, 400, NULL, 0));
	CHECK(!memray_pyframes__set(pf, w, 2, NULL, 0)); /* 40 pops: three FRAME_POPs */
	CHECK(!memray_writer__alloc(w, 2, BM_FN_MALLOC, 0x5000, 500, NULL, 0));
	CHECK(!memray_writer__finish(w));
	/* one code per distinct (function, file, line): <module>, main@4, work, main@5, rec */
	CHECK_U64(memray_pyframes__nr_code(pf), 5);

	lseek(fd, 0, SEEK_SET);
	f = fdopen(fd, "rb");
	CHECK(f && !memray_read_file(f, on_event, &s, &p, err, sizeof(err)));
	CHECK_U64(s.n, 5);
	CHECK_STR(s.stack[0], "1 2 3");
	CHECK_STR(s.stack[1], "1 4");
	CHECK_U64(s.tid[2], 2);
	CHECK_U64(strlen(s.stack[2]), 40 * 2 - 1); /* "5 5 5 ... 5" */
	CHECK_STR(s.stack[3], "1 2 3");
	CHECK_STR(s.stack[4], "");
	CHECK_STR(code_name(&p, 3, n1, sizeof(n1)), "work@w.py:7");
	CHECK_STR(code_name(&p, 4, n1, sizeof(n1)), "main@m.py:5");
	CHECK_STR(code_name(&p, 5, n1, sizeof(n1)), "rec@r.py:3");
	CHECK_U64(p.nr_records[MEMRAY_REC_CODE_OBJECT], 5);
	CHECK_U64(p.nr_records[MEMRAY_REC_FRAME_PUSH], 3 + 1 + 40 + 2);
	CHECK_U64(p.nr_records[MEMRAY_REC_FRAME_POP], 1 + 1 + 3); /* a→b, b→a, 16+16+8 */
	memray_profile_release(&p);
	memray_writer__free(w);
	memray_pyframes__free(pf);
	if (f)
		fclose(f);
}

/* def g(x):\n    y = x + 1\n    if y:\n        z = [y,\n             y]\n    return z
 * compiled by CPython 3.11.7 (co_linetable) and 3.10.13; lines per code unit from co_lines(). */
static void test_line_tables_of_3_11_and_3_10(void)
{
	static const uint8_t lt311[] = { 128, 0,   216, 8,  9,	 136, 65, 137, 5,  128,
					 65,  216, 7,	8,  240, 0,   2,  5,   16, 216,
					 13,  14,  216, 13, 14,	 240, 3,  1,   13, 16,
					 136, 1,   224, 11, 12,	 128, 72 };
	static const int want311[] = { 1, 2, 2, 2, 2, 2, 3, 3, 4, 5, 4, 4, 6, 6 };
	static const uint8_t lt310[] = { 8, 1, 4, 1, 2, 1, 2, 1, 4, 255, 4, 2 };
	static const int want310[] = { 2, 2, 2, 2, 3, 3, 4, 5, 4, 4, 6, 6 };

	for (int u = 0; u < (int)ARRAY_SIZE(want311); u++)
		CHECK_I64(pystacks_line(0x030B07F0, lt311, sizeof(lt311), 1, u), want311[u]);
	CHECK_I64(pystacks_line(0x030B07F0, lt311, sizeof(lt311), 1, 14), -1);
	for (int u = 0; u < (int)ARRAY_SIZE(want310); u++)
		CHECK_I64(pystacks_line(0x030A0DF0, lt310, sizeof(lt310), 1, u), want310[u]);
	CHECK_I64(pystacks_line(0x030A0DF0, lt310, sizeof(lt310), 1, 12), -1);
	/* before the first instruction (3.11's prev_instr = code - 1): the first line */
	CHECK_I64(pystacks_line(0x030B07F0, lt311, sizeof(lt311), 1, -1), 1);
}

int main(void)
{
	TEST(test_stacks_round_trip_per_thread_with_shared_prefixes);
	TEST(test_line_tables_of_3_11_and_3_10);
	return tap_done();
}
