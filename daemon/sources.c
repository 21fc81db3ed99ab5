// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/sources.c — the set of event sources, their loop registration and drain timer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "sources.h"

struct sources {
	struct loop *loop;
	int timerfd;
	struct event_source *v[SOURCES_MAX];
	int nr;
};

/* One function pointer call per batch of events; the per-event path is the source's. */
static void on_ready(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct event_source *src = arg;

	(void)l;
	(void)fd;
	(void)events;
	src->ops->consume(src);
}

static void on_drain_timer(struct loop *l, int fd, uint32_t events, void *arg)
{
	uint64_t ticks;

	(void)l;
	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		pr_warn("drain timer: %s", strerror(errno));
	sources__drain(arg);
}

struct sources *sources__new(struct loop *l)
{
	struct sources *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->loop = l;
	set->timerfd = loop__add_timer(l, BM_DRAIN_MS, on_drain_timer, set);
	if (set->timerfd < 0) {
		errno = -set->timerfd;
		free(set);
		return NULL;
	}
	return set;
}

void sources__free(struct sources *set)
{
	if (!set)
		return;
	for (int i = 0; i < set->nr; i++)
		set->v[i]->ops->free(set->v[i]);
	if (set->timerfd >= 0)
		close(set->timerfd);
	free(set);
}

int sources__add(struct sources *set, struct event_source *src)
{
	int fd = src->ops->fd(src), e;

	if (set->nr == SOURCES_MAX) {
		src->ops->free(src);
		return -E2BIG;
	}
	if (fd >= 0) {
		e = loop__add(set->loop, fd, EPOLLIN, on_ready, src);
		if (e) {
			src->ops->free(src);
			return e;
		}
	}
	set->v[set->nr++] = src;
	return 0;
}

void sources__drain(struct sources *set)
{
	for (int i = 0; i < set->nr; i++)
		set->v[i]->ops->drain(set->v[i]);
}

uint64_t sources__lost(struct sources *set, uint32_t tgid)
{
	uint64_t n = 0;

	for (int i = 0; i < set->nr; i++)
		n += set->v[i]->ops->lost(set->v[i], tgid);
	return n;
}

uint64_t sources__lost_total(struct sources *set)
{
	uint64_t n = 0;

	for (int i = 0; i < set->nr; i++)
		n += set->v[i]->ops->lost_total(set->v[i]);
	return n;
}
