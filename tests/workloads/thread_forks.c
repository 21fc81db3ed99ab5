// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/thread_forks.c — children forked by a thread other than the main one (the
 * tracer may not follow threads): their allocations count like any child's. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libbenchmem.h"
#include "workload.h"

#define CHILDREN 4

static void *forker(void *arg)
{
	struct wl_book *b = arg;

	/* the region leaves out what pthread_create allocates for the thread itself */
	if (benchmem_start("thread_forks"))
		_exit(4);
	for (int i = 0; i < CHILDREN; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			char *c = malloc(7000 + (size_t)i);

			wl_keep(c);
			free(c);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		wl_alloc(b, 7000 + (uint64_t)i);
		wl_free(b, 7000 + (uint64_t)i);
	}
	if (benchmem_stop("thread_forks", NULL))
		_exit(5);
	return NULL;
}

int main(void)
{
	struct wl_book b = { 0 };
	pthread_t t;

	if (pthread_create(&t, NULL, forker, &b) || pthread_join(t, NULL))
		return 1;
	wl_done(&b);
	return 0;
}
