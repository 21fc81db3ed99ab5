// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/static_allocators.c — the allocators workload linked statically (the
 * Makefile adds -static to workloads whose name contains "static"): the allocator is then
 * the executable itself, not libc.so.6. */
#include "allocators.c"
