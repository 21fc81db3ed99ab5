/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tests/workloads/workload.h — helpers for ground-truth workloads: they print the exact
 * numbers they requested with write(2) (stdio would allocate its buffer) and keep every
 * pointer alive through a volatile sink so the compiler drops no call. */
#ifndef BM_WORKLOAD_H
#define BM_WORKLOAD_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *volatile wl_sink;

struct wl_expect {
	uint64_t peak, total, count;
};

static inline void wl_keep(void *p)
{
	wl_sink = p;
}

/* One JSON line on stdout: {"peak_bytes":N,"total_bytes":N,"allocations":N}. */
static inline void wl_report(const struct wl_expect *e)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf),
			 "{\"peak_bytes\":%llu,\"total_bytes\":%llu,\"allocations\":%llu}\n",
			 (unsigned long long)e->peak, (unsigned long long)e->total,
			 (unsigned long long)e->count);

	if (write(1, buf, (size_t)n) != n)
		_exit(3);
}

/* Bookkeeping of what the workload itself asked for: live, high-water, total, count. */
struct wl_book {
	uint64_t live, peak, total, count;
};

static inline void wl_alloc(struct wl_book *b, uint64_t size)
{
	b->live += size;
	b->total += size;
	b->count++;
	if (b->live > b->peak)
		b->peak = b->live;
}

static inline void wl_free(struct wl_book *b, uint64_t size)
{
	b->live -= size;
}

static inline void wl_done(const struct wl_book *b)
{
	struct wl_expect e = { b->peak, b->total, b->count };

	wl_report(&e);
}

#endif /* BM_WORKLOAD_H */
