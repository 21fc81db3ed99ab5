// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/execs.c — allocations on both sides of an exec: the image that execs
 * must have every event counted before its memory goes. Prints the expected numbers. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

int main(int argc, char **argv)
{
	struct wl_book b = { 0 };
	char *p;

	/* both images' calls, in order: the second image does its own and reports all */
	wl_alloc(&b, 1000), wl_free(&b, 1000);
	wl_alloc(&b, 2000), wl_free(&b, 2000);
	if (argc > 1 && !strcmp(argv[1], "after")) {
		p = malloc(2000);
		wl_keep(p);
		free(p);
		wl_done(&b);
		return 0;
	}
	p = malloc(1000);
	wl_keep(p);
	free(p);
	execl("/proc/self/exe", argv[0], "after", (char *)NULL);
	return 1;
}
