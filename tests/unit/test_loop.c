// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_loop.c — the event loop serves any descriptor number the limit allows (the
 * daemon raises RLIMIT_NOFILE to its hard limit, so clients may get numbers past 4096). */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "loop.h"
#include "tap.h"

struct seen {
	int fd, calls;
};

static void on_ready(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct seen *s = arg;
	char c;

	(void)events;
	s->fd = fd;
	s->calls++;
	if (read(fd, &c, 1) != 1)
		s->calls = -1000;
	loop__stop(l);
}

static void test_a_descriptor_past_4096_is_served(void)
{
	struct rlimit rl;
	struct loop *l = loop__new();
	struct seen low = { -1, 0 }, high = { -1, 0 };
	int p[2], q[2], hi = 5000;

	CHECK(l);
	CHECK(!getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= (rlim_t)hi)
		hi = (int)rl.rlim_max - 1; /* a hard limit this low cannot reach 4096 either */
	rl.rlim_cur = rl.rlim_max;
	CHECK(!setrlimit(RLIMIT_NOFILE, &rl));
	CHECK(!pipe(p) && !pipe(q));
	CHECK(dup2(q[0], hi) == hi);
	CHECK(loop__add(l, p[0], EPOLLIN, on_ready, &low) == 0);
	CHECK(loop__add(l, hi, EPOLLIN, on_ready, &high) == 0); /* grows the table past p[0]'s */
	CHECK(write(q[1], "x", 1) == 1);
	CHECK(loop__run(l) == 0);
	CHECK(high.fd == hi && high.calls == 1 && low.calls == 0);
	CHECK(write(p[1], "y", 1) == 1); /* the slot added before the table grew is intact */
	CHECK(loop__run(l) == 0);
	CHECK(low.fd == p[0] && low.calls == 1 && high.calls == 1);
	loop__del(l, hi);
	loop__del(l, 1 << 20); /* never added: ignored */
	CHECK(loop__add(l, -1, EPOLLIN, on_ready, &low) == -EBADF);
	loop__free(l);
	close(hi);
	close(p[0]), close(p[1]), close(q[0]), close(q[1]);
}

int main(void)
{
	TEST(test_a_descriptor_past_4096_is_served);
	return tap_done();
}
