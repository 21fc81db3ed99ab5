// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/bench/churn.c — malloc/free-heavy workload: N pairs of malloc(64)/free, timed by itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *volatile sink;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One malloc(64)/free pair per iteration; returns the elapsed ns. */
static long long churn(long pairs)
{
	long long t0 = now_ns();

	for (long i = 0; i < pairs; i++) {
		void *p = malloc(64);

		sink = p;
		free(p);
	}
	return now_ns() - t0;
}

/* usage: churn [PAIRS] [--forever]. Prints one line: the pairs, the events (allocations plus
 * frees) and the elapsed ns. --forever repeats until killed (the load of a concurrent trace). */
int main(int argc, char **argv)
{
	long pairs = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	long long ns;

	if (pairs <= 0) {
		fprintf(stderr, "usage: churn [PAIRS] [--forever]\n");
		return 2;
	}
	if (argc > 2 && !strcmp(argv[2], "--forever")) {
		for (;;)
			churn(pairs);
	}
	ns = churn(pairs);
	printf("bench=churn pairs=%ld events=%ld elapsed_ns=%lld\n", pairs, 2 * pairs, ns);
	return 0;
}
