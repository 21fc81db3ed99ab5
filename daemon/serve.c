// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/serve.c — the collector's socket front: the server on a listening socket, its
 * requests to dispatch.c, its clients' departures and finished profiles back, and the watch
 * op's subscriptions (watch.c), which stream to its clients. It sits on top of the collector
 * and registers with it (collector__set_front); nothing below knows it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dispatch.h"
#include "listen.h"
#include "metrics.h"
#include "server.h"
#include "watch.h"

struct front {
	struct collector *c;
	struct server *srv;
	struct watch *watch;
	struct metrics *metrics; /* /metrics when metrics_listen is set; NULL otherwise */
	int own_fd;		 /* >= 0: a socket of our own, closed and unlinked with us */
	char path[PATH_MAX];
};

static void on_request(void *arg, struct client *cl, const char *line, size_t len)
{
	struct front *f = arg;

	dispatch_request(f->c, f->srv, f->watch, cl, line, len);
}

static void on_close(void *arg, struct client *cl)
{
	struct front *f = arg;

	watch__client_gone(f->watch, cl->id);
	collector__client_gone(f->c, cl->id);
}

static void on_profile_done(void *arg, int client_id, const char *name, const char *path,
			    const char *err)
{
	struct front *f = arg;

	dispatch_profile_done(f->srv, client_id, name, path, err);
}

/* ---- what the watch op reads ----------------------------------------------------------- */

static struct session **watch_sessions(void *arg, int *n)
{
	return collector__sessions(arg, n);
}

static uint64_t watch_lost(void *arg, const struct session *s)
{
	return collector__session_lost(arg, s);
}

static uint64_t watch_lost_total(void *arg)
{
	return collector__lost(arg);
}

static void watch_drain(void *arg)
{
	collector__drain(arg);
}

static int watch_stack(void *arg, int map, int32_t id, uint64_t *ips, size_t max)
{
	return collector__stack(arg, map, id, ips, max);
}

static void front_free(void *arg)
{
	struct front *f = arg;

	if (!f)
		return;
	metrics__free(f->metrics);
	/* the server first: closing its clients ends their subscriptions */
	server__free(f->srv);
	watch__free(f->watch);
	if (f->own_fd >= 0)
		listen_close(f->own_fd, f->path);
	free(f);
}

static const struct collector_front_ops front_ops = { on_profile_done, front_free };

/* Serves @fd; with @own, the front closes (and unlinks @path) when it goes. */
static int serve(struct collector *c, int fd, bool own, const char *path, char *err, size_t errlen)
{
	static const struct server_ops sops = { on_request, on_close };
	struct watch_source wsrc = { watch_sessions, watch_lost,  watch_lost_total,
				     watch_drain,    watch_stack, c };
	const struct bm_config *cfg = collector__config(c);
	struct front *f = calloc(1, sizeof(*f));
	struct server_limits lim;
	int e;

	if (!f) {
		e = -errno;
		goto fail;
	}
	f->c = c;
	f->own_fd = own ? fd : -1;
	snprintf(f->path, sizeof(f->path), "%s", path ? path : "");
	lim = (struct server_limits){ .max_clients = (int)cfg->max_clients,
				      .max_clients_per_uid = (int)cfg->max_clients_per_uid,
				      .max_line = cfg->max_line,
				      .timeout_s = (unsigned int)cfg->client_timeout,
				      .reply_pause = cfg->client_reply_pause,
				      .reply_max = cfg->client_reply_max };
	f->srv = server__new(collector__loop(c), fd, &lim, &sops, f);
	if (!f->srv) {
		e = -errno;
		goto fail;
	}
	f->watch = watch__new(collector__loop(c), f->srv, &wsrc);
	if (!f->watch) {
		e = -errno;
		goto fail;
	}
	if (cfg->metrics_listen[0] && !collector__embedded(c)) {
		f->metrics = metrics__new(collector__loop(c), cfg->metrics_listen, c, f->srv, err,
					  errlen);
		if (!f->metrics) {
			e = -errno;
			front_free(f); /* @err already says why */
			return e;
		}
	}
	e = collector__set_front(c, &front_ops, f);
	if (e)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot serve the socket: %s", strerror(-e));
	if (f)
		front_free(f);
	else if (own)
		listen_close(fd, path);
	return e;
}

int collector__serve(struct collector *c, int listen_fd, char *err, size_t errlen)
{
	return serve(c, listen_fd, false, NULL, err, errlen);
}

int collector__serve_path(struct collector *c, const char *path, mode_t mode, char *err,
			  size_t errlen)
{
	int fd = listen_open(path, mode, NULL, err, errlen);

	if (fd < 0)
		return fd;
	return serve(c, fd, true, path, err, errlen);
}
