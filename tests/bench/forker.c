// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/bench/forker.c — forks CHILDREN (default 50) one after the other; each mallocs once and
 * exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void child(void)
{
	char *p = malloc(4096);

	if (!p)
		_exit(1);
	memset(p, 1, 4096);
	free(p);
	_exit(0);
}

/* usage: forker [CHILDREN]. Sequential fork + wait, so the elapsed time over CHILDREN is the
 * latency a traced tree adds to each fork (the tracer attaches probes to every new process). */
int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 50;
	long long t0 = now_ns(), ns;
	int status;

	if (n <= 0) {
		fprintf(stderr, "usage: forker [CHILDREN]\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0)
			child();
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			return 1;
	}
	ns = now_ns() - t0;
	printf("bench=forker children=%ld events=%ld elapsed_ns=%lld\n", n, 2 * n, ns);
	return 0;
}
