// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/bench/threader.c — N threads created and joined one after another, each making one
 * malloc/free pair: the cost of a thread under tracing, timed by itself. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static void *volatile sink;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *worker(void *arg)
{
	void *p = malloc(64);

	sink = p;
	free(p);
	return arg;
}

/* CPU time of the process so far (user + system, all threads), ns: on a loaded machine the
 * wall time of a thread's creation mostly measures the neighbours. */
static long long cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

/* usage: threader [THREADS]. Prints one line: the threads, the events, the elapsed ns and the
 * CPU ns the process spent meanwhile. */
int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	long long t0, c0;
	pthread_t t;

	if (n <= 0) {
		fprintf(stderr, "usage: threader [THREADS]\n");
		return 2;
	}
	c0 = cpu_ns();
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (pthread_create(&t, NULL, worker, NULL) || pthread_join(t, NULL))
			return 1;
	}
	t0 = now_ns() - t0;
	printf("bench=threader threads=%ld events=%ld elapsed_ns=%lld cpu_ns=%lld\n", n, 2 * n, t0,
	       cpu_ns() - c0);
	return 0;
}
