// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/forks.c — a tree: the parent and N forked children allocate; the children
 * run one after another, so the tree's live bytes are known at every moment. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload.h"

#define CHILDREN 5

int main(void)
{
	struct wl_book b = { 0 };
	char *a = malloc(1000);

	wl_alloc(&b, 1000);
	wl_keep(a);
	for (int i = 0; i < CHILDREN; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			char *c = malloc(5000 + (size_t)i);

			wl_keep(c);
			free(c);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		wl_alloc(&b, 5000 + (uint64_t)i);
		wl_free(&b, 5000 + (uint64_t)i);
	}
	a = realloc(a, 3000), wl_free(&b, 1000), wl_alloc(&b, 3000);
	free(a), wl_free(&b, 3000);
	wl_done(&b);
	return 0;
}
