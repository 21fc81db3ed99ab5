// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/hold.c — holds known bytes in a region until told to let go, for `top`.
 *
 * Usage: hold REGION GO_FILE
 * Opens REGION (libbenchmem), mallocs and frees 2,000,000 bytes (the region's peak), then
 * holds 1,000,000 bytes in one block from hold_big() and 200 blocks of 1,000 bytes from
 * hold_many() (1,200,000 live bytes), prints "holding\n", waits until GO_FILE exists, frees
 * everything, closes the region and exits 0.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libbenchmem.h"
#include "workload.h"

#define BIG_BYTES  1000000
#define MANY	   200
#define MANY_BYTES 1000
#define PEAK_BYTES 2000000

static void *many[MANY];
static void *big;

static void *take(size_t n)
{
	void *p = malloc(n);

	if (!p)
		_exit(3);
	memset(p, 0x5a, n);
	wl_keep(p);
	return p;
}

__attribute__((noinline)) static void spike(void)
{
	free(take(PEAK_BYTES));
}

__attribute__((noinline)) void hold_big(void)
{
	big = take(BIG_BYTES);
}

__attribute__((noinline)) void hold_many(void)
{
	for (int i = 0; i < MANY; i++)
		many[i] = take(MANY_BYTES);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	if (benchmem_start(argv[1]))
		return 4;
	spike();
	hold_big();
	hold_many();
	if (write(1, "holding\n", 8) != 8)
		return 3;
	while (access(argv[2], F_OK))
		usleep(20000);
	free(big);
	for (int i = 0; i < MANY; i++)
		free(many[i]);
	if (benchmem_stop(argv[1], NULL))
		return 5;
	return 0;
}
