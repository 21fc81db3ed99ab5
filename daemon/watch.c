// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/watch.c — watch subscriptions on one timerfd; bounded rate, size and backlog. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "server.h"
#include "snapshot.h"
#include "symbolize.h"
#include "watch.h"

#define WATCH_TICK_MS	     50 /* how often due subscriptions are looked at */
#define WATCH_FOCUS_PER_TICK 2	/* snapshots with functions built per tick, at most */

struct sub {
	int client;
	uint64_t due_ns;
	uint64_t last_ns; /* when the last snapshot was sent; 0: never */
	uint32_t behind;  /* skipped snapshots in a row */
	struct snap_view view;
};

struct watch {
	struct loop *loop;
	struct server *srv;
	struct watch_source src;
	struct symcache *sc;
	int timerfd;
	bool armed;
	unsigned int turn; /* where the next tick starts among the subscriptions */
	struct sub **subs;
	int nr, cap;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void arm(struct watch *w, bool on)
{
	struct itimerspec its = { 0 };

	if (w->armed == on)
		return;
	if (on) {
		its.it_interval.tv_nsec = WATCH_TICK_MS * 1000000L;
		its.it_value.tv_nsec = WATCH_TICK_MS * 1000000L;
	}
	if (!timerfd_settime(w->timerfd, 0, &its, NULL))
		w->armed = on;
}

/* Builds and queues one snapshot for @cl. */
static void send_snapshot(struct watch *w, struct sub *u, struct client *cl, uint64_t now)
{
	struct snap_source src = { .lost = w->src.lost,
				   .lost_total = w->src.lost_total(w->src.arg),
				   .stack_of = w->src.stack_of,
				   .arg = w->src.arg,
				   .sc = w->sc };
	json_t *snap;
	char *line;

	src.sessions = w->src.sessions(w->src.arg, &src.nr_sessions);
	snap = snapshot_build(&src, &u->view, now);
	line = snap ? proto_format_ok(json_pack("{s:o}", "snapshot", snap)) : NULL;
	if (!line) {
		pr_warn("watch: cannot build a snapshot for client %d: %s", cl->id,
			strerror(errno));
		return;
	}
	server__reply(w->srv, cl, line, false);
}

static void on_tick(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct watch *w = arg;
	uint64_t ticks, now = now_ns();
	int drop[64], nr_drop = 0, focused = 0,
		      start = w->nr ? (int)(w->turn++ % (unsigned)w->nr) : 0;
	bool drained = false;
	char why[64];

	(void)l;
	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		pr_warn("watch timer: %s", strerror(errno));
	for (int k = 0; k < w->nr; k++) {
		struct sub *u = w->subs[(start + k) % w->nr];
		struct client *cl = server__find(w->srv, u->client);

		if (!cl || now < u->due_ns)
			continue;
		/* the last snapshot is still unsent: skip this one rather than queue it */
		if (server__unsent(w->srv, cl)) {
			u->due_ns = now + (uint64_t)u->view.interval_ms * 1000000ULL;
			u->view.skipped++;
			if (++u->behind >= WATCH_DROP_SKIPS && nr_drop < 64)
				drop[nr_drop++] = u->client;
			continue;
		}
		/* functions cost the most: a few per tick, the others on the next ticks (the
		 * starting point turns, so each gets its turn) */
		if (u->view.focus && focused == WATCH_FOCUS_PER_TICK)
			continue;
		focused += u->view.focus != 0;
		u->due_ns = now + (uint64_t)u->view.interval_ms * 1000000ULL;
		u->behind = 0;
		if (!drained) {
			w->src.drain(w->src.arg);
			drained = true;
		}
		send_snapshot(w, u, cl, now);
		u->last_ns = now;
	}
	/* dropping a client calls back into watch__client_gone(): not while iterating */
	snprintf(why, sizeof(why), "%d watch snapshots unread", WATCH_DROP_SKIPS);
	for (int i = 0; i < nr_drop; i++) {
		struct client *cl = server__find(w->srv, drop[i]);

		if (cl)
			server__drop(w->srv, cl, why);
	}
}

struct watch *watch__new(struct loop *l, struct server *srv, const struct watch_source *src)
{
	struct watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->loop = l;
	w->srv = srv;
	w->src = *src;
	w->sc = symcache__new();
	w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!w->sc || w->timerfd < 0) {
		err = errno;
		goto fail;
	}
	err = -loop__add(l, w->timerfd, EPOLLIN, on_tick, w);
	if (err)
		goto fail;
	return w;
fail:
	if (w->timerfd >= 0)
		close(w->timerfd);
	symcache__free(w->sc);
	free(w);
	errno = err;
	return NULL;
}

void watch__free(struct watch *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->nr; i++)
		free(w->subs[i]);
	free(w->subs);
	loop__del(w->loop, w->timerfd);
	close(w->timerfd);
	symcache__free(w->sc);
	free(w);
}

static struct sub *find_sub(struct watch *w, int client)
{
	for (int i = 0; i < w->nr; i++) {
		if (w->subs[i]->client == client)
			return w->subs[i];
	}
	return NULL;
}

static struct sub *add_sub(struct watch *w, struct client *cl)
{
	int sndbuf = WATCH_SNDBUF;
	struct sub *u;

	if (w->nr == w->cap) {
		int cap = w->cap ? w->cap * 2 : 8;
		struct sub **n = reallocarray(w->subs, (size_t)cap, sizeof(*n));

		if (!n)
			return NULL;
		w->subs = n;
		w->cap = cap;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->client = cl->id;
	u->view.uid = cl->uid;
	/* a small kernel buffer: a reader that stops shows in server__unsent() within a few
	 * snapshots instead of after hundreds of kilobytes */
	if (setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)))
		pr_debug("client %d: SO_SNDBUF: %s", cl->id, strerror(errno));
	w->subs[w->nr++] = u;
	return u;
}

int watch__subscribe(struct watch *w, struct client *cl, const struct watch_params *p)
{
	struct sub *u = find_sub(w, cl->id);
	uint64_t now = now_ns(), soonest;

	if (!u)
		u = add_sub(w, cl);
	if (!u)
		return -ENOMEM;
	u->view.interval_ms = p->interval_ms;
	u->view.focus = p->focus;
	u->view.hot = p->hot;
	/* the next tick sends it: asking again and again is no way around the rate bound or
	 * the per-tick budget of snapshots with functions */
	soonest = u->last_ns ? u->last_ns + BM_WATCH_MIN_MS * 1000000ULL : now;
	u->due_ns = soonest > now ? soonest : now;
	arm(w, true);
	return 0;
}

void watch__client_gone(struct watch *w, int client_id)
{
	if (!w)
		return;
	for (int i = 0; i < w->nr; i++) {
		if (w->subs[i]->client != client_id)
			continue;
		free(w->subs[i]);
		w->subs[i] = w->subs[--w->nr];
		break;
	}
	if (!w->nr)
		arm(w, false);
}
