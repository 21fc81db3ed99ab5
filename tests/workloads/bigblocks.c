// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/bigblocks.c — blocks large enough that glibc serves them with its own mmap:
 * each must count once, as the malloc/calloc, not again as an mmap. */
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define MIB (1024ull * 1024)

int main(void)
{
	struct wl_book b = { 0 };
	char *a = malloc(64 * MIB), *c;

	wl_alloc(&b, 64 * MIB);
	memset(a, 1, 4096);
	c = calloc(32, MIB), wl_alloc(&b, 32 * MIB);
	wl_keep(c);
	free(a), wl_free(&b, 64 * MIB);
	a = malloc(8 * MIB), wl_alloc(&b, 8 * MIB);
	wl_keep(a);
	free(a), wl_free(&b, 8 * MIB);
	free(c), wl_free(&b, 32 * MIB);
	wl_done(&b);
	return 0;
}
