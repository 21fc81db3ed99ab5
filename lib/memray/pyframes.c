// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/memray/pyframes.c — per-thread Python stacks as memray's FRAME_PUSH/FRAME_POP records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memray/format.h"
#include "memray/pyframes.h"

#define POP_MAX 16 /* frames one FRAME_POP can pop: 0001nnnn pops n + 1 */

/* A code object we defined: (function, file, line) → id (1-based, 0 marks a free slot). */
struct code_slot {
	char *function, *filename;
	int32_t line;
	uint32_t id;
	uint64_t hash;
};

/* A frame on a thread's stack in the file: code id and entry flag. */
struct fr {
	uint32_t code;
	bool entry;
};

struct thread_stack {
	uint64_t tid;
	struct fr *v;
	size_t n, cap;
};

struct memray_pyframes {
	struct code_slot *codes; /* open addressing, capacity a power of two */
	size_t codes_cap, nr_codes;
	struct thread_stack *threads;
	size_t nr_threads, cap_threads;
	uint64_t r_line; /* CODE_OBJECT's firstlineno delta register */
	uint8_t *buf;	 /* one record being composed */
	size_t len, cap;
};

struct memray_pyframes *memray_pyframes__new(void)
{
	return calloc(1, sizeof(struct memray_pyframes));
}

void memray_pyframes__free(struct memray_pyframes *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->codes_cap; i++) {
		free(pf->codes[i].function);
		free(pf->codes[i].filename);
	}
	for (size_t i = 0; i < pf->nr_threads; i++)
		free(pf->threads[i].v);
	free(pf->codes);
	free(pf->threads);
	free(pf->buf);
	free(pf);
}

size_t memray_pyframes__nr_code(const struct memray_pyframes *pf)
{
	return pf ? pf->nr_codes : 0;
}

/* ---- record composition ---------------------------------------------------------------- */

static int need(struct memray_pyframes *pf, size_t n)
{
	size_t cap = pf->cap ? pf->cap : 256;
	uint8_t *b;

	while (cap < pf->len + n)
		cap *= 2;
	if (cap == pf->cap)
		return 0;
	b = realloc(pf->buf, cap);
	if (!b)
		return -ENOMEM;
	pf->buf = b;
	pf->cap = cap;
	return 0;
}

static int put_varint(struct memray_pyframes *pf, uint64_t v)
{
	if (need(pf, 10))
		return -ENOMEM;
	while (v >= 0x80) {
		pf->buf[pf->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	pf->buf[pf->len++] = (uint8_t)v;
	return 0;
}

static int put_bytes(struct memray_pyframes *pf, const void *p, size_t n)
{
	if (need(pf, n))
		return -ENOMEM;
	memcpy(pf->buf + pf->len, p, n);
	pf->len += n;
	return 0;
}

static uint64_t str_hash(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static uint64_t code_hash(const char *function, const char *filename, int32_t line)
{
	uint64_t h = str_hash(str_hash(0xcbf29ce484222325ull, function), filename);

	return (h ^ (uint32_t)line) * 0x100000001b3ull;
}

static int codes_grow(struct memray_pyframes *pf)
{
	size_t cap = pf->codes_cap ? pf->codes_cap * 2 : 256;
	struct code_slot *tab;

	if (pf->nr_codes + 1 <= pf->codes_cap / 2)
		return 0;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < pf->codes_cap; i++) {
		size_t j = pf->codes[i].hash & (cap - 1);

		if (!pf->codes[i].id)
			continue;
		while (tab[j].id)
			j = (j + 1) & (cap - 1);
		tab[j] = pf->codes[i];
	}
	free(pf->codes);
	pf->codes = tab;
	pf->codes_cap = cap;
	return 0;
}

/* The id of (function, file, line), written as a CODE_OBJECT first when new. */
static int code_id(struct memray_pyframes *pf, struct memray_writer *w,
		   const struct memray_pyframe *f, uint32_t *id)
{
	static const uint8_t linetable[2] = { 0xe8, 0x00 }; /* offset 0 → firstlineno (§6) */
	const char *fn = f->function ? f->function : "", *file = f->filename ? f->filename : "";
	int32_t line = f->line > 0 ? f->line : 0;
	uint64_t h = code_hash(fn, file, line), d;
	struct code_slot *s;
	uint8_t tag = MEMRAY_T_CODE_OBJECT;
	size_t i;
	int err = codes_grow(pf);

	if (err)
		return err;
	for (i = h & (pf->codes_cap - 1); pf->codes[i].id; i = (i + 1) & (pf->codes_cap - 1)) {
		s = &pf->codes[i];
		if (s->hash == h && s->line == line && !strcmp(s->function, fn) &&
		    !strcmp(s->filename, file)) {
			*id = s->id;
			return 0;
		}
	}
	s = &pf->codes[i];
	s->function = strdup(fn);
	s->filename = strdup(file);
	if (!s->function || !s->filename) {
		free(s->function);
		free(s->filename);
		s->function = s->filename = NULL;
		return -ENOMEM;
	}
	s->hash = h;
	s->line = line;
	s->id = (uint32_t)++pf->nr_codes;
	*id = s->id;
	d = (uint64_t)(int64_t)line - pf->r_line;
	pf->r_line = (uint64_t)(int64_t)line;
	pf->len = 0;
	err = put_bytes(pf, &tag, 1);
	err = err ?: put_varint(pf, s->id);
	err = err ?: put_bytes(pf, fn, strlen(fn) + 1);
	err = err ?: put_bytes(pf, file, strlen(file) + 1);
	err = err ?: put_varint(pf, (d << 1) ^ (0 - (d >> 63)));
	err = err ?: put_varint(pf, sizeof(linetable));
	err = err ?: put_bytes(pf, linetable, sizeof(linetable));
	return err ?: memray_writer__raw(w, 0, false, pf->buf, pf->len);
}

static struct thread_stack *thread_of(struct memray_pyframes *pf, uint64_t tid)
{
	struct thread_stack *t;

	for (size_t i = 0; i < pf->nr_threads; i++) {
		if (pf->threads[i].tid == tid)
			return &pf->threads[i];
	}
	if (pf->nr_threads == pf->cap_threads) {
		size_t cap = pf->cap_threads ? pf->cap_threads * 2 : 8;

		t = reallocarray(pf->threads, cap, sizeof(*t));
		if (!t)
			return NULL;
		pf->threads = t;
		pf->cap_threads = cap;
	}
	t = &pf->threads[pf->nr_threads++];
	*t = (struct thread_stack){ .tid = tid };
	return t;
}

int memray_pyframes__set(struct memray_pyframes *pf, struct memray_writer *w, uint64_t tid,
			 const struct memray_pyframe *frames, size_t n)
{
	struct thread_stack *t = thread_of(pf, tid);
	struct fr *want = NULL;
	size_t keep = 0, pops;
	int err = 0;

	if (!t)
		return -ENOMEM;
	if (n > t->cap) {
		want = reallocarray(t->v, n, sizeof(*want));
		if (!want)
			return -ENOMEM;
		t->v = want;
		t->cap = n;
	}
	want = n ? calloc(n, sizeof(*want)) : NULL;
	if (n && !want)
		return -ENOMEM;
	/* code objects are thread-independent records: define them before switching */
	for (size_t i = 0; i < n && !err; i++) {
		err = code_id(pf, w, &frames[i], &want[i].code);
		want[i].entry = frames[i].entry;
	}
	while (!err && keep < n && keep < t->n && want[keep].code == t->v[keep].code &&
	       want[keep].entry == t->v[keep].entry)
		keep++;
	for (pops = t->n - keep; !err && pops;) {
		size_t k = pops < POP_MAX ? pops : POP_MAX;
		uint8_t b = (uint8_t)(MEMRAY_T_FRAME_POP | (k - 1));

		err = memray_writer__raw(w, tid, true, &b, 1);
		pops -= k;
	}
	for (size_t i = keep; i < n && !err; i++) {
		pf->len = 0;
		err = put_bytes(pf, &(uint8_t){ (uint8_t)(MEMRAY_T_FRAME_PUSH | want[i].entry) },
				1);
		err = err ?: put_varint(pf, want[i].code);
		err = err ?: put_varint(pf, 0); /* instruction offset 0: svarint(0) */
		err = err ?: memray_writer__raw(w, tid, true, pf->buf, pf->len);
	}
	if (!err) {
		if (n)
			memcpy(t->v, want, n * sizeof(*want));
		t->n = n;
	}
	free(want);
	return err;
}
