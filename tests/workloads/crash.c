// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/crash.c — allocates, then dies by the signal named in argv[1] (SEGV, KILL,
 * ABRT), so a result must still be written with the region marked aborted. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

int main(int argc, char **argv)
{
	struct wl_book b = { 0 };
	int sig = SIGSEGV;

	wl_keep(malloc(123456)), wl_alloc(&b, 123456);
	wl_done(&b);
	if (argc > 1 && !strcmp(argv[1], "KILL"))
		sig = SIGKILL;
	else if (argc > 1 && !strcmp(argv[1], "ABRT"))
		sig = SIGABRT;
	else if (argc > 1 && !strcmp(argv[1], "EXIT"))
		exit(7);
	raise(sig);
	return 0;
}
