// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/bench/liveset.c — holds BLOCKS (default 1,000,000) live 32-byte blocks at once, then frees
 * them. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* usage: liveset [BLOCKS]. The tracer's live table must hold every block at the peak. Prints
 * the blocks, the events (allocations plus frees, the pointer array included) and elapsed ns. */
int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	long long t0 = now_ns(), ns;
	char **blocks;

	if (n <= 0) {
		fprintf(stderr, "usage: liveset [BLOCKS]\n");
		return 2;
	}
	blocks = malloc((size_t)n * sizeof(*blocks));
	if (!blocks)
		return 1;
	for (long i = 0; i < n; i++) {
		blocks[i] = malloc(32);
		if (!blocks[i])
			return 1;
		blocks[i][0] = (char)i;
	}
	for (long i = 0; i < n; i++)
		free(blocks[i]);
	free(blocks);
	ns = now_ns() - t0;
	printf("bench=liveset blocks=%ld peak_bytes=%ld events=%ld elapsed_ns=%lld\n", n,
	       n * 32 + n * (long)sizeof(*blocks), 2 * n + 2, ns);
	return 0;
}
