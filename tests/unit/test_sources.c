// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_sources.c — the event source interface: a source that is not the ring
 * buffer plugs into the set and feeds the session table's sink; drains, losses, the loop. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "benchmem.h"
#include "allocators.h"
#include "sessions.h"
#include "sources.h"
#include "spool.h"

/* A source that delivers a queued list of events when drained or consumed. */
struct fake {
	struct event_source src;
	source_event_fn *fn;
	void *arg;
	const struct bm_event *ev;
	int nr, next;
	int fd; /* -1: none */
	uint64_t lost_of_42, lost_all;
	int drains, consumes, *freed;
	struct loop *stop; /* consume() stops this loop */
};

static int f_fd(const struct event_source *s)
{
	return ((const struct fake *)s)->fd;
}

static void deliver(struct fake *f)
{
	while (f->next < f->nr)
		f->fn(f->arg, &f->ev[f->next++]);
}

static int f_consume(struct event_source *s)
{
	struct fake *f = (struct fake *)s;
	char b;

	f->consumes++;
	if (f->fd >= 0 && read(f->fd, &b, 1) < 0)
		return -errno;
	deliver(f);
	if (f->stop)
		loop__stop(f->stop);
	return 0;
}

static void f_drain(struct event_source *s)
{
	((struct fake *)s)->drains++;
	deliver((struct fake *)s);
}

static uint64_t f_lost(struct event_source *s, uint32_t tgid)
{
	return tgid == 42 ? ((struct fake *)s)->lost_of_42 : 0;
}

static uint64_t f_lost_total(struct event_source *s)
{
	return ((struct fake *)s)->lost_all;
}

static void f_free(struct event_source *s)
{
	struct fake *f = (struct fake *)s;

	if (f->freed)
		(*f->freed)++;
	free(f);
}

static const struct event_source_ops fake_ops = { f_fd,	  f_consume,	f_drain,
						  f_lost, f_lost_total, f_free };

static struct fake *fake_new(struct sessions *t, const struct bm_event *ev, int nr, int *freed)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->src.ops = &fake_ops;
	f->fn = sessions__on_event;
	f->arg = t;
	f->ev = ev;
	f->nr = nr;
	f->fd = -1;
	f->freed = freed;
	return f;
}

static struct bm_event ev(uint32_t tgid, uint16_t kind, uint64_t addr, uint64_t size)
{
	return (struct bm_event){ .tgid = tgid,
				  .tid = tgid,
				  .kind = kind,
				  .func = kind == BM_EV_FREE ? BM_FN_FREE : BM_FN_MALLOC,
				  .addr = addr,
				  .size = size,
				  .stack_id = -1 };
}

static struct bm_config cfg(void)
{
	struct bm_config c;

	config_defaults(&c);
	return c;
}

/* Two sources, one sink: the region of the session sees the events of both, each once, and
 * keeps them in its spool; an unknown process's event changes nothing. */
static void two_sources_feed_one_region(void)
{
	struct bm_config c = cfg();
	struct sessions *t = sessions__new(&c, "/tmp");
	struct loop *l = loop__new();
	struct sources *set = sources__new(l);
	struct bm_event a[] = { ev(42, BM_EV_ALLOC, 0x1000, 100), ev(7, BM_EV_ALLOC, 0x9000, 5) };
	struct bm_event b[] = { ev(42, BM_EV_ALLOC, 0x2000, 50), ev(42, BM_EV_FREE, 0x1000, 0) };
	struct session *s = sessions__add(t, 42, 1000, "cmd", NULL, 0);
	struct region *r;
	int freed = 0;

	s->profile = true;
	CHECK(session__add_proc(s, 42) != NULL);
	r = session__start(s, "x", 0, NULL, NULL, 1, 0);
	CHECK(r && r->spool);
	CHECK_I64(sources__add(set, &fake_new(t, a, 2, &freed)->src), 0);
	CHECK_I64(sources__add(set, &fake_new(t, b, 2, &freed)->src), 0);
	sources__drain(set);
	CHECK_U64(r->acct.peak_bytes, 150);
	CHECK_U64(r->acct.total_bytes, 150);
	CHECK_U64(r->acct.allocations, 2);
	CHECK_U64(s->events, 3);
	CHECK_U64(spool__count(r->spool), 3);
	sources__drain(set); /* nothing new: nothing counted twice */
	CHECK_U64(s->events, 3);
	sources__free(set);
	CHECK_I64(freed, 2);
	sessions__free(t);
	loop__free(l);
}

/* Losses are summed over the sources, per process and in total; a set holds SOURCES_MAX. */
static void losses_sum_and_cap(void)
{
	struct bm_config c = cfg();
	struct sessions *t = sessions__new(&c, "/tmp");
	struct loop *l = loop__new();
	struct sources *set = sources__new(l);
	int freed = 0;

	for (uint64_t i = 0; i < SOURCES_MAX; i++) {
		struct fake *f = fake_new(t, NULL, 0, &freed);

		f->lost_of_42 = i + 1;
		f->lost_all = 10 * (i + 1);
		CHECK_I64(sources__add(set, &f->src), 0);
	}
	CHECK_U64(sources__lost(set, 42), 1 + 2 + 3 + 4);
	CHECK_U64(sources__lost(set, 43), 0);
	CHECK_U64(sources__lost_total(set), 10 + 20 + 30 + 40);
	CHECK_I64(sources__add(set, &fake_new(t, NULL, 0, &freed)->src), -E2BIG);
	CHECK_I64(freed, 1); /* the refused one is freed all the same */
	sources__free(set);
	CHECK_I64(freed, 1 + SOURCES_MAX);
	sessions__free(t);
	loop__free(l);
}

/* A source with an fd is consumed by the loop when it is readable. */
static void readable_fd_is_consumed(void)
{
	struct bm_config c = cfg();
	struct sessions *t = sessions__new(&c, "/tmp");
	struct loop *l = loop__new();
	struct sources *set = sources__new(l);
	struct bm_event a[] = { ev(42, BM_EV_ALLOC, 0x1000, 64) };
	struct session *s = sessions__add(t, 42, 1000, "cmd", NULL, 0);
	struct fake *f = fake_new(t, a, 1, NULL);
	int p[2];

	CHECK(session__add_proc(s, 42) != NULL);
	CHECK(pipe(p) == 0);
	f->fd = p[0];
	f->stop = l;
	CHECK_I64(sources__add(set, &f->src), 0);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK_I64(loop__run(l), 0);
	CHECK_I64(f->consumes, 1);
	CHECK_U64(s->events, 1);
	sources__free(set);
	close(p[0]);
	close(p[1]);
	sessions__free(t);
	loop__free(l);
}

/* The batch sink gives what the per-event sink gives: the same peaks, totals, counts, live
 * blocks and unmatched frees, for a stream that grows the live table past its first size
 * (fetches ahead across a resize), frees blocks born before a region and after it, and
 * unmaps; runs of an unknown process change nothing. */
static void batches_account_as_single_events(void)
{
	enum { N = 6000 };
	struct bm_config c = cfg();
	struct sessions *t[2] = { sessions__new(&c, "/tmp"), sessions__new(&c, "/tmp") };
	struct bm_event *e = calloc(N, sizeof(*e)), stray = ev(99, BM_EV_ALLOC, 0x10, 8);
	struct session *s[2];
	struct proc *p[2];
	struct region *outer[2], *inner[2];
	uint64_t x = 12345, live[N], nlive = 0;

	for (int i = 0; i < N; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		if (i == N / 2) { /* a mapping, and part of it unmapped */
			e[i] = ev(42, BM_EV_ALLOC, 0x7f0000000000ULL, 1 << 20);
			e[i].func = BM_FN_MMAP;
		} else if (i == N / 2 + 1) {
			e[i] = ev(42, BM_EV_MUNMAP, 0x7f0000000000ULL, 4096);
		} else if (i % 97 == 0) { /* a free of a block never seen */
			e[i] = ev(42, BM_EV_FREE, 0x900000000ULL + (uint64_t)i * 16, 0);
		} else if (nlive && (x >> 33) % 100 < 40) {
			uint64_t k = (x >> 13) % nlive;

			e[i] = ev(42, BM_EV_FREE, live[k], 0);
			live[k] = live[--nlive];
		} else {
			live[nlive] = 0x100000000ULL + (uint64_t)i * 48;
			e[i] = ev(42, BM_EV_ALLOC, live[nlive++], 1 + (x >> 40) % 500);
		}
	}
	for (int k = 0; k < 2; k++) {
		s[k] = sessions__add(t[k], 42, 1000, "cmd", NULL, 0);
		p[k] = session__add_proc(s[k], 42);
		outer[k] = session__start(s[k], "outer", 0, NULL, NULL, 1, 0);
	}
	for (int i = 0; i < N / 3; i++)
		sessions__on_event(t[0], &e[i]);
	sessions__on_events(t[1], 42, e, N / 3);
	for (int k = 0; k < 2; k++) /* a region opened between two runs */
		inner[k] = session__start(s[k], "inner", 0, NULL, NULL, 2, 0);
	for (int i = N / 3; i < N; i++)
		sessions__on_event(t[0], &e[i]);
	for (int i = N / 3; i < N; i += 256)
		sessions__on_events(t[1], 42, &e[i], (size_t)(N - i < 256 ? N - i : 256));
	sessions__on_events(t[1], 99, &stray, 1);
	CHECK(live_table__count(p[1]->live) > 1024);
	CHECK_U64(live_table__count(p[1]->live), live_table__count(p[0]->live));
	CHECK_U64(s[1]->events, s[0]->events);
	CHECK_U64(s[1]->events, N);
	CHECK_U64(s[1]->unmatched_frees, s[0]->unmatched_frees);
	CHECK(s[1]->unmatched_frees >= N / 97 - 1);
	CHECK_U64(outer[1]->acct.peak_bytes, outer[0]->acct.peak_bytes);
	CHECK_U64(outer[1]->acct.cur_bytes, outer[0]->acct.cur_bytes);
	CHECK_U64(outer[1]->acct.total_bytes, outer[0]->acct.total_bytes);
	CHECK_U64(outer[1]->acct.allocations, outer[0]->acct.allocations);
	CHECK_U64(inner[1]->acct.peak_bytes, inner[0]->acct.peak_bytes);
	CHECK_U64(inner[1]->acct.cur_bytes, inner[0]->acct.cur_bytes);
	CHECK_U64(inner[1]->acct.total_bytes, inner[0]->acct.total_bytes);
	CHECK(inner[1]->acct.peak_bytes > (1 << 20) &&
	      inner[1]->acct.peak_bytes < outer[1]->acct.peak_bytes);
	CHECK_U64(s[1]->acct.cur_bytes, s[0]->acct.cur_bytes);
	free(e);
	sessions__free(t[0]);
	sessions__free(t[1]);
}

int main(void)
{
	TEST(two_sources_feed_one_region);
	TEST(batches_account_as_single_events);
	TEST(losses_sum_and_cap);
	TEST(readable_fd_is_consumed);
	return tap_done();
}
