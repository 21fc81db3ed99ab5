// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/grow.c — holds N MiB (argv[1]) built by two named functions, so a profile
 * shows where the memory went: make_buffers() 3/4 of it, make_index() 1/4. */
#include <stdlib.h>

#include "workload.h"

#define MIB   (1024ull * 1024)
#define BLOCK 65536

static void *blocks[4096];

__attribute__((noinline)) static size_t make_buffers(size_t bytes, size_t at)
{
	for (size_t i = 0; i < bytes / BLOCK; i++)
		blocks[at++] = malloc(BLOCK);
	return at;
}

__attribute__((noinline)) static size_t make_index(size_t bytes, size_t at)
{
	for (size_t i = 0; i < bytes / BLOCK; i++)
		blocks[at++] = calloc(1, BLOCK);
	return at;
}

int main(int argc, char **argv)
{
	struct wl_book b = { 0 };
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 4, n;

	if (mib < 1 || mib > 200)
		return 2;
	n = make_buffers(mib * MIB * 3 / 4, 0);
	n = make_index(mib * MIB / 4, n);
	for (size_t i = 0; i < n; i++) {
		wl_alloc(&b, BLOCK);
		wl_keep(blocks[i]);
	}
	for (size_t i = 0; i < n; i++) {
		free(blocks[i]);
		wl_free(&b, BLOCK);
	}
	wl_done(&b);
	return 0;
}
