// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/thread_exec.c — a thread other than the main one execs IMAGE (the kernel
 * makes it the main thread; ptrace reports the exec only to that thread's tracer). The main
 * thread allocates first and then waits: the exec ends it.
 * Usage: thread_exec IMAGE [ARGS...] */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "workload.h"

static char **image;

static void *run(void *arg)
{
	(void)arg;
	execv(image[0], image);
	_exit(4);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 2)
		return 2;
	image = argv + 1;
	wl_keep(malloc(4321));
	if (pthread_create(&t, NULL, run, NULL))
		return 3;
	pthread_join(t, NULL);
	return 1;
}
