// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/threads.c — N threads allocate at once inside one region marked with
 * libbenchmem; the threads exist before the region opens, so glibc's own per-thread
 * allocations (TLS, stacks) fall outside it. Prints the expected numbers. */
#include <pthread.h>
#include <stdlib.h>

#include "libbenchmem.h"
#include "workload.h"

#define THREADS 16
#define ROUNDS	100

static pthread_barrier_t go, held, done;

static void *worker(void *arg)
{
	size_t size = 1000 * ((size_t)(uintptr_t)arg + 1);
	void *p[ROUNDS];

	pthread_barrier_wait(&go);
	for (int r = 0; r < ROUNDS; r++)
		p[r] = malloc(size);
	pthread_barrier_wait(&held); /* every thread holds its blocks now */
	for (int r = 0; r < ROUNDS; r++) {
		wl_keep(p[r]);
		free(p[r]);
	}
	pthread_barrier_wait(&done);
	return NULL;
}

int main(void)
{
	struct wl_book b = { 0 };
	pthread_t t[THREADS];

	pthread_barrier_init(&go, NULL, THREADS + 1);
	pthread_barrier_init(&held, NULL, THREADS + 1);
	pthread_barrier_init(&done, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	int rc = benchmem_start("threads");

	if (rc) {
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "benchmem_start: %d\n", rc);

		if (write(2, msg, (size_t)n) < 0)
			return 4;
		return 4;
	}
	pthread_barrier_wait(&go);
	pthread_barrier_wait(&held);
	pthread_barrier_wait(&done);
	if (benchmem_stop("threads", NULL))
		return 5;
	for (int i = 0; i < THREADS; i++) {
		for (int r = 0; r < ROUNDS; r++)
			wl_alloc(&b, 1000 * ((uint64_t)i + 1));
	}
	b.live = 0;
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	wl_done(&b);
	return 0;
}
