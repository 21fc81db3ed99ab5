// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/loop.c — epoll over registered fds; fd → callback + arg. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

struct loop_slot {
	loop_fn *fn;
	void *arg;
	int fd;
	int used;
};

struct loop {
	int epfd;
	int stop;
	struct loop_slot
		*slots; /* indexed by fd: the daemon raises RLIMIT_NOFILE to its hard limit */
	int cap;
};

struct loop *loop__new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = errno;

		free(l);
		errno = err;
		return NULL;
	}
	return l;
}

void loop__free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->slots);
	free(l);
}

int loop__add(struct loop *l, int fd, uint32_t events, loop_fn *fn, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (fd < 0)
		return -EBADF;
	if (fd >= l->cap) {
		int cap = l->cap ? l->cap : 64;
		struct loop_slot *n;

		while (cap <= fd)
			cap *= 2;
		n = reallocarray(l->slots, (size_t)cap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + l->cap, 0, (size_t)(cap - l->cap) * sizeof(*n));
		l->slots = n;
		l->cap = cap;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->slots[fd] = (struct loop_slot){ .fn = fn, .arg = arg, .fd = fd, .used = 1 };
	return 0;
}

int loop__mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev))
		return -errno;
	return 0;
}

void loop__del(struct loop *l, int fd)
{
	if (fd < 0 || fd >= l->cap || !l->slots[fd].used)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->slots[fd].used = 0;
}

/* Adds @fd (ours until then) or closes it: the fd, or -errno. */
static int add_or_close(struct loop *l, int fd, loop_fn *fn, void *arg)
{
	int e;

	if (fd < 0)
		return -errno;
	e = loop__add(l, fd, EPOLLIN, fn, arg);
	if (e) {
		close(fd);
		return e;
	}
	return fd;
}

int loop__add_signals(struct loop *l, const sigset_t *set, loop_fn *fn, void *arg)
{
	if (sigprocmask(SIG_BLOCK, set, NULL))
		return -errno;
	return add_or_close(l, signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC), fn, arg);
}

int loop__add_timer(struct loop *l, unsigned int ms, loop_fn *fn, void *arg)
{
	struct itimerspec its = { .it_interval = { ms / 1000, (long)(ms % 1000) * 1000000L },
				  .it_value = { ms / 1000, (long)(ms % 1000) * 1000000L } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return add_or_close(l, fd, fn, arg);
}

int loop__run(struct loop *l)
{
	struct epoll_event evs[64];

	l->stop = 0;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n && !l->stop; i++) {
			struct loop_slot *s = &l->slots[evs[i].data.fd];

			/* an earlier callback in this batch may have removed this fd */
			if (s->used)
				s->fn(l, s->fd, evs[i].events, s->arg);
		}
	}
	return 0;
}

void loop__stop(struct loop *l)
{
	l->stop = 1;
}
