// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_sources.c — the event source interface: a source that is not the ring
 * buffer plugs into the set and feeds the session table's sink; drains, losses, the loop. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "benchmem.h"
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

int main(void)
{
	TEST(two_sources_feed_one_region);
	TEST(losses_sum_and_cap);
	TEST(readable_fd_is_consumed);
	return tap_done();
}
