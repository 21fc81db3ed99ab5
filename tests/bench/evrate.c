// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/bench/evrate.c — the daemon's event accounting without the kernel: feeds synthetic
 * alloc/free events through session__on_events in the hook's batches (live table + every
 * open region, the code the hook source's batches reach) with two regions open, and measures
 * events/s on one core; then holds 1,000,000 live blocks and reports the live table's bytes
 * per block. */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allocators.h"
#include "benchmem.h"
#include "session.h"

#define CHUNK	 (1L << 20) /* events generated (untimed) per timed batch */
#define NR_CLASS 8

struct ev {
	uint64_t addr;
	uint64_t size; /* 0: a free */
};

static long long clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64*: deterministic, cheap */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A toy size-class allocator, so addresses are reused the way glibc's tcache/bins reuse
 * them: a freed block's address is the next one handed out for its class (LIFO). */
static const uint64_t class_size[NR_CLASS] = { 16, 32, 48, 64, 128, 256, 1024, 4096 };
static const unsigned class_weight[NR_CLASS] = { 20, 25, 15, 15, 10, 8, 5, 2 }; /* sum 100 */

struct heap {
	uint64_t *freelist[NR_CLASS];
	long nr_free[NR_CLASS], cap_free[NR_CLASS];
	uint64_t brk;
	/* the live blocks, for picking a random victim */
	uint64_t *live_addr;
	uint8_t *live_class;
	long nr_live, cap_live;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("evrate: realloc");
		exit(1);
	}
	return p;
}

static int pick_class(void)
{
	unsigned r = (unsigned)(rnd() % 100), acc = 0;

	for (int c = 0; c < NR_CLASS; c++) {
		acc += class_weight[c];
		if (r < acc)
			return c;
	}
	return 0;
}

static uint64_t heap_alloc(struct heap *h, int c)
{
	uint64_t a;

	if (h->nr_free[c]) {
		a = h->freelist[c][--h->nr_free[c]];
	} else {
		a = h->brk;
		h->brk += class_size[c] + 16; /* chunk header, as glibc */
	}
	if (h->nr_live == h->cap_live) {
		h->cap_live = h->cap_live ? h->cap_live * 2 : 1024;
		h->live_addr = xrealloc(h->live_addr, (size_t)h->cap_live * sizeof(uint64_t));
		h->live_class = xrealloc(h->live_class, (size_t)h->cap_live);
	}
	h->live_addr[h->nr_live] = a;
	h->live_class[h->nr_live++] = (uint8_t)c;
	return a;
}

/* Frees live block number @i (swap-remove); returns its address. */
static uint64_t heap_free(struct heap *h, long i)
{
	uint64_t a = h->live_addr[i];
	int c = h->live_class[i];

	h->live_addr[i] = h->live_addr[--h->nr_live];
	h->live_class[i] = h->live_class[h->nr_live];
	if (h->nr_free[c] == h->cap_free[c]) {
		h->cap_free[c] = h->cap_free[c] ? h->cap_free[c] * 2 : 1024;
		h->freelist[c] =
			xrealloc(h->freelist[c], (size_t)h->cap_free[c] * sizeof(uint64_t));
	}
	h->freelist[c][h->nr_free[c]++] = a;
	return a;
}

/* Fills @ev with @n events: 60 % short-lived pairs (malloc, then free of that block, as in a
 * loop's temporaries), the rest random allocs/frees around a working set of @ws blocks. */
static long generate(struct heap *h, struct ev *ev, long n, long ws)
{
	long k = 0;

	while (k < n) {
		uint64_t r = rnd() % 100;
		int c = pick_class();

		if (r < 60 && k + 2 <= n) {
			ev[k].addr = heap_alloc(h, c);
			ev[k++].size = class_size[c] - (rnd() & 7);
			ev[k].addr = heap_free(h, h->nr_live - 1);
			ev[k++].size = 0;
		} else if (h->nr_live < ws ? r < 85 : r < 75) {
			ev[k].addr = heap_alloc(h, c);
			ev[k++].size = class_size[c] - (rnd() & 7);
		} else if (h->nr_live) {
			ev[k].addr = heap_free(h, (long)(rnd() % (uint64_t)h->nr_live));
			ev[k++].size = 0;
		}
	}
	return k;
}

static struct session *new_session(struct proc **p)
{
	struct session *s = session__new(1, 0, 1, "evrate");

	if (!s || !(*p = session__add_proc(s, 1)) ||
	    !session__start(s, "outer", 0, NULL, NULL, 0, 0) ||
	    !session__start(s, "inner", 0, NULL, NULL, 0, 0)) {
		perror("evrate: session");
		exit(1);
	}
	return s;
}

/* In runs of BM_HOOK_CHUNK events through session__on_events(), as the hook's batches
 * arrive (the uprobes' events come one at a time through session__on_event(), the same
 * accounting without the fetch ahead). */
static void feed(struct session *s, struct proc *p, const struct ev *ev, long n)
{
	struct bm_event run[BM_HOOK_CHUNK];

	for (long i = 0; i < n;) {
		size_t k = 0;

		for (; k < BM_HOOK_CHUNK && i < n; k++, i++)
			run[k] =
				(struct bm_event){ .addr = ev[i].addr,
						   .size = ev[i].size,
						   .tgid = 1,
						   .stack_id = -1,
						   .kind = ev[i].size ? BM_EV_ALLOC : BM_EV_FREE,
						   .func = ev[i].size ? BM_FN_MALLOC : BM_FN_FREE };
		session__on_events(s, p, run, k);
	}
}

/* usage: evrate [EVENTS] [LIVE]. Prints one `bench=evrate ...` line and a readable summary. */
int main(int argc, char **argv)
{
	long total = argc > 1 ? strtol(argv[1], NULL, 10) : 20000000;
	long nlive = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	struct heap h = { .brk = 0x55d0c0000000ULL };
	struct ev *ev = malloc(CHUNK * sizeof(*ev));
	long long wall = 0, cpu = 0, t0, c0, ins_ns;
	long done = 0, peak_live = 0;
	struct session *s;
	struct proc *p;
	cpu_set_t one;
	size_t mem, cnt;

	if (total <= 0 || nlive <= 0 || !ev) {
		fprintf(stderr, "usage: evrate [EVENTS] [LIVE]\n");
		return 2;
	}
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one); /* one core; failure only makes it noisier */

	/* 1. throughput: 20 M events, working set ~64 Ki blocks, two open regions */
	s = new_session(&p);
	while (done < total) {
		long n = generate(&h, ev, total - done < CHUNK ? total - done : CHUNK, 65536);

		t0 = clock_ns(CLOCK_MONOTONIC);
		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		feed(s, p, ev, n);
		cpu += clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		wall += clock_ns(CLOCK_MONOTONIC) - t0;
		done += n;
		if ((long)live_table__count(p->live) > peak_live)
			peak_live = (long)live_table__count(p->live);
	}
	if (s->unmatched_frees || (long)live_table__count(p->live) != h.nr_live) {
		fprintf(stderr, "evrate: accounting mismatch (unmatched %llu, live %zu vs %ld)\n",
			(unsigned long long)s->unmatched_frees, live_table__count(p->live),
			h.nr_live);
		return 1;
	}
	session__free(s);

	/* 2. memory: @nlive live 32-byte blocks (48 bytes apart, as glibc lays them out) */
	s = new_session(&p);
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < nlive; i++)
		session__on_alloc(s, p, BM_FN_MALLOC, 0x7f0000000000ULL + (uint64_t)i * 48, 32);
	ins_ns = clock_ns(CLOCK_MONOTONIC) - t0;
	mem = live_table__mem_bytes(p->live);
	cnt = live_table__count(p->live);
	session__free(s);
	free(ev);

	printf("events: %ld in %.3f s wall, %.3f s cpu on one core; %.2f M events/s (cpu), "
	       "%.1f ns/event; peak live %ld; 2 open regions\n",
	       done, wall / 1e9, cpu / 1e9, done / (cpu / 1e9) / 1e6, (double)cpu / done,
	       peak_live);
	printf("live table at %zu live blocks: %zu bytes = %.1f bytes per live allocation "
	       "(inserts %.1f ns each)\n",
	       cnt, mem, (double)mem / cnt, (double)ins_ns / nlive);
	printf("bench=evrate events=%ld elapsed_ns=%lld cpu_ns=%lld events_per_s=%lld live=%zu "
	       "mem_bytes=%zu bytes_per_live_x10=%lld\n",
	       done, wall, cpu, (long long)(done / (cpu / 1e9)), cnt, mem,
	       (long long)(10.0 * mem / cnt + 0.5));
	return 0;
}
