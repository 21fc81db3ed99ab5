// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/stacks.c — 2^BITS allocations (argv[1], 1..20), each from a distinct call
 * stack: a walk of BITS levels that goes through left() or right() by one bit of the path, so
 * a profiled run needs 2^BITS entries in its stack map. With a second argument "hold" it waits
 * for a line on stdin before exiting (its session stays alive meanwhile). */
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static void walk(int depth, unsigned int path);

/* the empty asm after each call keeps it from being a tail call: every level is a frame */
__attribute__((noinline)) static void left(int depth, unsigned int path)
{
	walk(depth, path);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void right(int depth, unsigned int path)
{
	walk(depth, path);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void walk(int depth, unsigned int path)
{
	void *p;

	if (!depth) {
		p = malloc(16);
		wl_keep(p);
		free(p);
		return;
	}
	if (path & 1)
		left(depth - 1, path >> 1);
	else
		right(depth - 1, path >> 1);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	int bits = argc > 1 ? atoi(argv[1]) : 10;
	char line[8];

	if (bits < 1 || bits > 20)
		return 2;
	for (unsigned int path = 0; path < (1u << bits); path++)
		walk(bits, path);
	if (argc > 2 && !strcmp(argv[2], "hold")) {
		if (write(1, "held\n", 5) != 5 || read(0, line, sizeof(line)) < 0)
			return 1;
	}
	return 0;
}
