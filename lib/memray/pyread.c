// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/memray/pyread.c — per-thread Python stacks and code objects while a capture is read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memray/pyread.h"

#define CODE_ID_MAX (1u << 24) /* code ids index an array: a larger one is not a real file */

struct mr_thread {
	uint64_t *v;
	uint32_t n, cap;
};

struct mr_thread *mr_py_thread(struct mr_py *py, uint64_t tid, bool *is_new)
{
	uint64_t *at = u64map_get(&py->index, tid);
	struct mr_thread *t;

	*is_new = !at;
	if (at)
		return &py->threads[*at - 1];
	if (py->nr == py->cap) {
		size_t cap = py->cap ? py->cap * 2 : 8;

		t = reallocarray(py->threads, cap, sizeof(*t));
		if (!t)
			return NULL;
		py->threads = t;
		py->cap = cap;
	}
	if (u64map_put(&py->index, tid, py->nr + 1))
		return NULL;
	t = &py->threads[py->nr++];
	*t = (struct mr_thread){ 0 };
	return t;
}

int mr_py_push(struct mr_thread *t, uint64_t code)
{
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 32;
		uint64_t *v = cap > t->cap ? reallocarray(t->v, cap, sizeof(*v)) : NULL;

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = code;
	return 0;
}

int mr_py_pop(struct mr_thread *t, uint64_t n)
{
	if (t->n < n)
		return -ERANGE;
	t->n -= (uint32_t)n;
	return 0;
}

const uint64_t *mr_py_frames(const struct mr_thread *t, uint32_t *n)
{
	*n = t ? t->n : 0;
	return t ? t->v : NULL;
}

void mr_py_release(struct mr_py *py)
{
	for (size_t i = 0; i < py->nr; i++)
		free(py->threads[i].v);
	free(py->threads);
	u64map_free(&py->index);
	memset(py, 0, sizeof(*py));
}

int mr_image_add(struct memray_profile *p, char *path, uint64_t load_addr, uint64_t lo, uint64_t hi)
{
	struct memray_image_range *v = reallocarray(p->images, p->nr_images + 1, sizeof(*v));

	if (!v) {
		free(path);
		return -ENOMEM;
	}
	p->images = v;
	v[p->nr_images++] =
		(struct memray_image_range){ path, load_addr, lo, hi, p->nr_map_generations };
	return 0;
}

int mr_code_define(struct memray_profile *p, uint64_t id, char *function, char *filename,
		   int64_t firstlineno)
{
	struct memray_code *c;

	if (id >= CODE_ID_MAX) {
		free(function);
		free(filename);
		return -E2BIG;
	}
	if (id >= p->nr_codes) {
		size_t n = p->nr_codes ? p->nr_codes : 64;

		while (n <= id)
			n *= 2;
		c = reallocarray(p->codes, n, sizeof(*c));
		if (!c) {
			free(function);
			free(filename);
			return -ENOMEM;
		}
		memset(c + p->nr_codes, 0, (n - p->nr_codes) * sizeof(*c));
		p->codes = c;
		p->nr_codes = n;
	}
	c = &p->codes[id];
	free(c->function);
	free(c->filename);
	*c = (struct memray_code){ function, filename, firstlineno, true };
	return 0;
}
