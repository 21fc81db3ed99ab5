// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/group.c — closed regions into series through an open-addressing hash of (whole-run,
 * name, params as sorted compact JSON); equal hashes are confirmed with json_equal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

struct slot {
	uint64_t hash;
	uint32_t first; /* index of the series' first region; GROUP_NONE: empty slot */
	uint32_t series;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

static int hash_chunk(const char *buf, size_t n, void *arg)
{
	uint64_t *h = arg;

	*h = fnv(*h, buf, n);
	return 0;
}

/* Sorted keys: {"a":1,"b":2} and {"b":2,"a":1} are one series, as json_equal says. */
static uint64_t hash_of(const struct group_key *r)
{
	uint64_t h = fnv(FNV_OFFSET, r->name, strlen(r->name) + 1);

	h = fnv(h, &r->whole_run, sizeof(r->whole_run));
	if (r->params)
		json_dump_callback(r->params, hash_chunk, &h, JSON_COMPACT | JSON_SORT_KEYS);
	return h;
}

static bool same_key(const struct group_key *a, const struct group_key *b)
{
	return a->whole_run == b->whole_run && !strcmp(a->name, b->name) &&
	       ((!a->params && !b->params) ||
		(a->params && b->params && json_equal(a->params, b->params)));
}

long group_keys(const struct group_key *v, size_t n, uint32_t *series_of)
{
	size_t cap = 16;
	struct slot *t;
	uint32_t nr = 0;

	while (cap < 2 * n)
		cap *= 2;
	t = malloc(cap * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		t[i].first = GROUP_NONE;
	for (size_t i = 0; i < n; i++) {
		uint64_t h;
		size_t j;

		series_of[i] = GROUP_NONE;
		if (!v[i].name)
			continue;
		h = hash_of(&v[i]);
		for (j = h & (cap - 1); t[j].first != GROUP_NONE; j = (j + 1) & (cap - 1)) {
			if (t[j].hash == h && same_key(&v[t[j].first], &v[i]))
				break;
		}
		if (t[j].first == GROUP_NONE)
			t[j] = (struct slot){ .hash = h, .first = (uint32_t)i, .series = nr++ };
		series_of[i] = t[j].series;
	}
	free(t);
	return (long)nr;
}
