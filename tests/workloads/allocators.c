// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/allocators.c — every allocator entry point once or more, with sizes whose
 * peak, total and count are known exactly. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "libbenchmem.h"
#include "workload.h"

/* With "region" as argv[1] the work is one region marked through libbenchmem, which keeps
 * a static libc's own start-up allocations out of the numbers. */
int main(int argc, char **argv)
{
	struct wl_book b = { 0 };
	int region = argc > 1 && !strcmp(argv[1], "region");
	void *p[16];

	if (region && benchmem_start("allocators"))
		return 4;
	p[0] = malloc(1000), wl_alloc(&b, 1000);
	p[1] = calloc(10, 300), wl_alloc(&b, 3000);
	if (posix_memalign(&p[2], 64, 4000))
		return 1;
	wl_alloc(&b, 4000);
	p[3] = aligned_alloc(128, 2048), wl_alloc(&b, 2048);
	p[4] = memalign(256, 5000), wl_alloc(&b, 5000);
	p[5] = valloc(6000), wl_alloc(&b, 6000);
	p[6] = pvalloc(7000), wl_alloc(&b, 7000);
	p[7] = reallocarray(NULL, 20, 50), wl_alloc(&b, 1000);
	p[8] = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	wl_alloc(&b, 65536);
	for (int i = 0; i < 9; i++)
		wl_keep(p[i]);
	munmap(p[8], 65536), wl_free(&b, 65536);
	free(p[0]), wl_free(&b, 1000);
	free(p[1]), wl_free(&b, 3000);
	free(p[2]), wl_free(&b, 4000);
	free(p[3]), wl_free(&b, 2048);
	free(p[4]), wl_free(&b, 5000);
	free(p[5]), wl_free(&b, 6000);
	free(p[6]), wl_free(&b, 7000);
	free(p[7]), wl_free(&b, 1000);
	free(NULL);
	if (region && benchmem_stop("allocators", NULL))
		return 5;
	wl_done(&b);
	return 0;
}
