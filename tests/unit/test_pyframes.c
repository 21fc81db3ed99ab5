// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_pyframes.c — Python frames in a .bin (lib/memray/pyframes.c) read back by
 * our reader, and CPython's line tables (daemon/pystacks.c) against real code objects. */
#include <errno.h>
#include <stdio.h>
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

/* ---- naming: objects laid out in this process's own memory, read with process_vm_readv ---- */

/* A layout of our own, no CPython's: the naming takes every offset from the layout. */
static const struct py_layout LAY = {
	.conf = { .co_firstlineno = 44, /* not at 8: ob_type */
		  .co_filename = 16,
		  .co_name = 24,
		  .str_length = 16,
		  .str_hash = 28,
		  .str_state = 4,
		  .str_ascii = 40,
		  .str_compact = 56 },
	.version = 0x030B07F0, /* picks the 3.11 line table decoder */
	.co_linetable = 32,
	.bytes_size = 8,
	.bytes_data = 16,
};

struct fake_str {
	uint8_t b[160];
};

/* A compact str object: ASCII (kind 1, ascii bit) or UCS-2 (kind 2). */
static void make_str(struct fake_str *s, const void *data, int64_t len, unsigned int kind,
		     bool ascii)
{
	uint32_t state = kind << 2 | 1u << 5 | (ascii ? 1u << 6 : 0);

	uint64_t type = 0x5eed, nohash = BM_PY_STR_NOHASH;

	memset(s, 0, sizeof(*s));
	memcpy(s->b + BM_PY_OB_TYPE, &type, 8);
	memcpy(s->b + LAY.conf.str_length, &len, 8);
	memcpy(s->b + LAY.conf.str_hash, &nohash, 8);
	memcpy(s->b + LAY.conf.str_state, &state, 4);
	memcpy(s->b + (ascii ? LAY.conf.str_ascii : LAY.conf.str_compact), data,
	       (size_t)len * kind);
}

/* What the walker takes of @s: by its hash if it has one, else by its last bytes. */
static uint64_t str_id(const struct fake_str *s)
{
	uint8_t tail[BM_PY_STR_TAIL] = { 0 };
	uint64_t type, len, hash, n, from;
	uint32_t state;

	memcpy(&type, s->b + BM_PY_OB_TYPE, 8);
	memcpy(&len, s->b + LAY.conf.str_length, 8);
	memcpy(&hash, s->b + LAY.conf.str_hash, 8);
	memcpy(&state, s->b + LAY.conf.str_state, 4);
	n = len * ((state >> 2) & 7);
	from = n < BM_PY_STR_TAIL ? 0 : n - BM_PY_STR_TAIL;
	memcpy(tail, s->b + ((state & 0x40) ? LAY.conf.str_ascii : LAY.conf.str_compact) + from,
	       n - from);
	return bm_py_str_id(type, len, state, hash, tail);
}

static uint32_t check_of(int32_t first, const struct fake_str *file, const struct fake_str *name)
{
	return bm_py_check((uint32_t)first, (uintptr_t)file, (uintptr_t)name, str_id(file),
			   str_id(name));
}

struct fake_code {
	uint8_t b[512];
};

static void make_code(struct fake_code *c, int32_t first, const void *file, const void *name,
		      const void *lt)
{
	uint64_t f = (uintptr_t)file, n = (uintptr_t)name, l = (uintptr_t)lt, refcnt = 1;

	memset(c, 0, sizeof(*c));
	memcpy(c->b, &refcnt, 8); /* a live object */
	memcpy(c->b + LAY.conf.co_firstlineno, &first, 4);
	memcpy(c->b + LAY.conf.co_filename, &f, 8);
	memcpy(c->b + LAY.conf.co_name, &n, 8);
	memcpy(c->b + LAY.co_linetable, &l, 8);
}

/* The fake BPF side: one stack per key. */
static struct bm_pystack fake_stacks[4];

static int fake_lookup(void *arg, uint64_t key, struct bm_pystack *out)
{
	(void)arg;
	if (key == 0 || key > 4)
		return -ENOENT;
	*out = fake_stacks[key - 1];
	return 0;
}

static void test_naming_reads_the_target_and_refuses_reused_addresses(void)
{
	static const uint16_t uname[] = { 0x00dc, 'n', 0x00ef }; /* "Ünï" in UCS-2 */
	/* 3.11 location table: two code units at first + 0, then two at first + 3 */
	static struct {
		uint8_t b[40];
	} lt = { .b = { [8] = 4, [16] = 0xe9, 0x00, 0xe9, 0x06 } };
	struct fake_str file, name, other, wide;
	struct fake_code a, b;
	struct pystacks_ops ops = { .lookup = fake_lookup };
	struct pystacks *ps = pystacks__new(&ops);
	struct bm_event e = { .tgid = (uint32_t)getpid(), .kind = BM_EV_ALLOC };
	const struct pystack *st;
	uint32_t idx;

	make_str(&file, "a.py", 4, 1, true);
	make_str(&name, "Foo.bar", 7, 1, true);
	make_str(&other, "Other", 5, 1, true);
	make_str(&wide, uname, 3, 2, false);
	make_code(&a, 10, &file, &name, &lt);
	make_code(&b, 20, &file, &wide, NULL);
	/* key 1: a (at unit 2: line 13) called from b (entry, outermost) */
	fake_stacks[0] = (struct bm_pystack){ .depth = 2 };
	fake_stacks[0].f[0] = (struct bm_pyframe){ (uintptr_t)&a, 2, check_of(10, &file, &name) };
	fake_stacks[0].f[1] =
		(struct bm_pyframe){ (uintptr_t)&b, 0, check_of(20, &file, &wide) | BM_PY_ENTRY };
	CHECK(ps && !pystacks__assume(ps, (pid_t)getpid(), &LAY));
	e.py_stack = 1;
	idx = pystacks__on_event(ps, &e);
	st = pystacks__get(ps, idx);
	CHECK(st && st->n == 2);
	if (st && st->n == 2) {
		CHECK_STR(st->f[0].function, "\xc3\x9cn\xc3\xaf"); /* outermost first, UTF-8 */
		CHECK_I64(st->f[0].line, 0); /* no line table: the line is unknown */
		CHECK(st->f[0].entry);
		CHECK_STR(st->f[1].function, "Foo.bar");
		CHECK_STR(st->f[1].filename, "a.py");
		CHECK_I64(st->f[1].line, 13);
		CHECK(!st->f[1].entry);
	}
	CHECK_U64(pystacks__on_event(ps, &e), idx); /* the same key: named once */

	/* key 2: the walker saw a code object at &a named "Other" (a freed and reused address):
	 * what is there now is not that object, so the frame is not named at all */
	fake_stacks[1] = (struct bm_pystack){ .depth = 1 };
	fake_stacks[1].f[0] = (struct bm_pyframe){ (uintptr_t)&a, 0, check_of(10, &file, &other) };
	e.py_stack = 2;
	CHECK_U64(pystacks__on_event(ps, &e), 0);
	CHECK_U64(pystacks__nr_unnamed(ps), 1);

	/* now the object at &a IS that one: named by what it holds now */
	make_code(&a, 10, &file, &other, &lt);
	e.py_stack = 3;
	fake_stacks[2] = fake_stacks[1];
	idx = pystacks__on_event(ps, &e);
	st = pystacks__get(ps, idx);
	CHECK(st && st->n == 1 && !strcmp(st->f[0].function, "Other"));
	CHECK_U64(pystacks__version(ps), 0x030B07F0);
	/* an evicted key: native frames only */
	e.py_stack = 99;
	CHECK_U64(pystacks__on_event(ps, &e), 0);
	pystacks__free(ps);
}

/* Names @key of a new pystacks with one frame: code @c seen with @check. The stack index, 0:
 * refused. */
static uint32_t name_one(const struct py_layout *lay, const struct fake_code *c, uint32_t check,
			 char *function, size_t len)
{
	struct pystacks_ops ops = { .lookup = fake_lookup };
	struct pystacks *ps = pystacks__new(&ops);
	struct bm_event e = { .tgid = (uint32_t)getpid(), .kind = BM_EV_ALLOC, .py_stack = 1 };
	const struct pystack *st;
	uint32_t idx = 0;

	fake_stacks[0] = (struct bm_pystack){ .depth = 1 };
	fake_stacks[0].f[0] = (struct bm_pyframe){ (uintptr_t)c, 0, check };
	function[0] = '\0';
	if (ps && !pystacks__assume(ps, (pid_t)getpid(), lay))
		idx = pystacks__on_event(ps, &e);
	st = pystacks__get(ps, idx);
	if (st && st->n == 1)
		snprintf(function, len, "%s@%s", st->f[0].function, st->f[0].filename);
	pystacks__free(ps);
	return idx;
}

static void set_hash(struct fake_str *s, uint64_t hash)
{
	memcpy(s->b + LAY.conf.str_hash, &hash, 8);
}

static void test_naming_refuses_freed_strings_and_dead_code(void)
{
	static const char long1[] =
		"/a/long/path/of/which/the/tail/does/not/cover/all/but/the/end/gen00001/mod.py";
	static const char longa[] =
		"/a/long/path/of/which/the/tail/does/not/cover/all/but/the/end/gen00001/moa.py";
	static const uint16_t wide[] = { 'g', 'e', 'n', '0', '0', '0', '0', '1', '.', 'p', 'y' };
	struct fake_str file, name;
	struct fake_code a;
	struct py_layout typed = LAY;
	uint32_t check;
	uint64_t type = 0xc0de;
	char got[256];

	make_str(&file, "gen00001.py", 11, 1, true);
	make_str(&name, "f00001", 6, 1, true);
	make_code(&a, 10, &file, &name, NULL);
	check = check_of(10, &file, &name); /* neither str hashed when the walker saw them */

	/* the file name freed, its memory another name's of the same length: not named */
	make_str(&file, "gen00002.py", 11, 1, true);
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	make_str(&file, "Gen00001.py", 11, 1, true); /* the first byte too */
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	make_str(&file, wide, 11, 2, false); /* the same text, another kind */
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	/* the same str, hashed since: named */
	make_str(&file, "gen00001.py", 11, 1, true);
	set_hash(&file, 0x1234);
	CHECK(name_one(&LAY, &a, check, got, sizeof(got)) != 0);
	CHECK_STR(got, "f00001@gen00001.py");

	/* a str hashed when seen, another there now (not hashed yet, or by its own hash) */
	check = check_of(10, &file, &name);
	make_str(&file, "gen00003.py", 11, 1, true);
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	set_hash(&file, 0x5678);
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	set_hash(&file, 0x1234); /* the same hash: the same text (Python's hash of it) */
	CHECK(name_one(&LAY, &a, check, got, sizeof(got)) != 0);

	/* the name freed and reused likewise */
	make_str(&file, "gen00001.py", 11, 1, true);
	check = check_of(10, &file, &name);
	make_str(&name, "f00002", 6, 1, true);
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	make_str(&name, "f00001", 6, 1, true);
	CHECK(name_one(&LAY, &a, check, got, sizeof(got)) != 0);

	/* a long name: its last BM_PY_STR_TAIL bytes tell */
	CHECK(sizeof(long1) - 1 > BM_PY_STR_TAIL);
	make_str(&file, long1, sizeof(long1) - 1, 1, true);
	check = check_of(10, &file, &name);
	make_str(&file, longa, sizeof(longa) - 1, 1, true);
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	make_str(&file, long1, sizeof(long1) - 1, 1, true);
	CHECK(name_one(&LAY, &a, check, got, sizeof(got)) != 0);

	/* a dead code object (its strings may be gone): not named, whatever it still holds */
	memset(a.b, 0, 8);
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	memcpy(a.b, &(uint64_t){ 0x7f0012345678ull }, 8); /* a free-list pointer */
	CHECK_U64(name_one(&LAY, &a, check, got, sizeof(got)), 0);
	memcpy(a.b, &(uint64_t){ 3 }, 8);
	CHECK(name_one(&LAY, &a, check, got, sizeof(got)) != 0);
	/* with PyCode_Type known: the type must be it */
	typed.code_type = type;
	CHECK_U64(name_one(&typed, &a, check, got, sizeof(got)), 0);
	memcpy(a.b + BM_PY_OB_TYPE, &type, 8);
	CHECK(name_one(&typed, &a, check, got, sizeof(got)) != 0);
}

int main(void)
{
	TEST(test_stacks_round_trip_per_thread_with_shared_prefixes);
	TEST(test_line_tables_of_3_11_and_3_10);
	TEST(test_naming_reads_the_target_and_refuses_reused_addresses);
	TEST(test_naming_refuses_freed_strings_and_dead_code);
	return tap_done();
}
