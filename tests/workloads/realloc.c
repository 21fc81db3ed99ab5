// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/realloc.c — realloc growth and shrink: each is a free of the old block and
 * an allocation of the new one (memray's rule). */
#include <stdlib.h>

#include "workload.h"

int main(void)
{
	struct wl_book b = { 0 };
	char *p = malloc(100);

	wl_alloc(&b, 100);
	p = realloc(p, 1000), wl_free(&b, 100), wl_alloc(&b, 1000);
	p = realloc(p, 50000), wl_free(&b, 1000), wl_alloc(&b, 50000);
	p = realloc(p, 10), wl_free(&b, 50000), wl_alloc(&b, 10);
	wl_keep(p);
	p = realloc(p, 0), wl_free(&b, 10); /* glibc: frees and returns NULL */
	wl_keep(p);
	p = realloc(NULL, 777), wl_alloc(&b, 777);
	wl_keep(p);
	free(p), wl_free(&b, 777);
	wl_done(&b);
	return 0;
}
