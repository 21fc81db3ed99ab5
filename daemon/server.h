/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/server.h — client connections: nonblocking buffers, line framing, per-client caps,
 * SO_PEERCRED. Requests go to a callback; replies are queued without blocking. */
#ifndef BM_SERVER_H
#define BM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "loop.h"

struct server;

struct client {
	int fd;
	int id;	   /* never reused within a server's life */
	pid_t pid; /* SO_PEERCRED at connect */
	uid_t uid;
	gid_t gid;
};

struct server_ops {
	/* One complete request line (without its newline) from @c. The callback answers with
	 * server__reply(). */
	void (*on_request)(void *arg, struct client *c, const char *line, size_t len);
	/* @c is gone (closed, or dropped for abuse); regions it left open are its owner's
	 * business. */
	void (*on_close)(void *arg, struct client *c);
};

/* What one client may cost the daemon (the config keys of the same names). */
struct server_limits {
	int max_clients;	 /* connected at once */
	int max_clients_per_uid; /* connected at once with one uid */
	size_t max_line;	 /* bytes of one request line, newline included */
	unsigned int timeout_s;	 /* a half-written line, no first request, or stuck replies */
	size_t reply_pause;	 /* unsent reply bytes past which requests are not read */
	size_t reply_max;	 /* unsent reply bytes past which the client is dropped */
};

/* Serves clients of the listening socket @listen_fd (the server does not own it) within
 * @lim. NULL + errno. */
struct server *server__new(struct loop *l, int listen_fd, const struct server_limits *lim,
			   const struct server_ops *ops, void *arg);
void server__free(struct server *s); /* NULL-safe; closes every client */

/* Queues @line (malloc'd, ends in "\n"; the server takes ownership) for @c. With @close_after,
 * the connection is closed once the line is sent. Past reply_pause unsent bytes the server
 * reads no more requests of @c until they drain (backpressure); past reply_max it drops @c.
 * Returns 0 or -errno (-ENOBUFS: the client was dropped because its unread replies exceeded
 * reply_max). */
int server__reply(struct server *s, struct client *c, char *line, bool close_after);

/* The connected client with id @id, or NULL when it has gone. */
struct client *server__find(struct server *s, int id);

/* Bytes queued for @c that the kernel has not taken yet: the one measure of backpressure. The
 * server stops reading requests past reply_pause and drops past reply_max or after timeout_s
 * without progress; a producer of unasked lines (a watch stream) checks it before it queues. */
size_t server__unsent(const struct server *s, const struct client *c);

/* Closes @c now (its unsent replies are discarded), logging "dropped: @why"; on_close runs.
 * The one way a client is dropped for being slow. Not from inside @c's own on_request
 * callback. */
void server__drop(struct server *s, struct client *c, const char *why);

/* Clients connected now. */
int server__nr_clients(const struct server *s);

#endif /* BM_SERVER_H */
