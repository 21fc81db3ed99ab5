// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/server.c — Unix-socket clients: accept, read lines, write replies; never blocks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "server.h"

#define SERVER_MAX_OUT (256u << 20) /* unread reply bytes before a client is dropped */

struct conn {
	struct client c;
	struct server *srv;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	bool close_after;
	bool dead;
	struct conn *next;
};

struct server {
	struct loop *loop;
	int listen_fd;
	int max_clients;
	size_t max_line;
	struct server_ops ops;
	void *arg;
	struct conn *conns;
	int nr;
	int next_id;
};

static void conn_close(struct server *s, struct conn *k)
{
	struct conn **pp;

	loop__del(s->loop, k->c.fd);
	close(k->c.fd);
	s->ops.on_close(s->arg, &k->c);
	for (pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	s->nr--;
	free(k->in);
	free(k->out);
	free(k);
}

static void flush_out(struct server *s, struct conn *k)
{
	while (k->out_off < k->out_len) {
		ssize_t n = send(k->c.fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			loop__mod(s->loop, k->c.fd, EPOLLIN | EPOLLOUT);
			return;
		}
		if (n < 0) {
			k->dead = true;
			return;
		}
		k->out_off += (size_t)n;
	}
	k->out_off = k->out_len = 0;
	loop__mod(s->loop, k->c.fd, EPOLLIN);
	if (k->close_after)
		k->dead = true;
}

int server__reply(struct server *s, struct client *c, char *line, bool close_after)
{
	struct conn *k = (struct conn *)c;
	size_t len = strlen(line);

	if (k->out_len - k->out_off + len > SERVER_MAX_OUT) {
		free(line);
		k->dead = true;
		return -ENOBUFS;
	}
	if (k->out_len + len > k->out_cap) {
		size_t cap = k->out_len + len + 4096;
		char *n = realloc(k->out, cap);

		if (!n) {
			free(line);
			k->dead = true;
			return -ENOMEM;
		}
		k->out = n;
		k->out_cap = cap;
	}
	memcpy(k->out + k->out_len, line, len);
	k->out_len += len;
	free(line);
	k->close_after |= close_after;
	flush_out(s, k);
	return 0;
}

static void reply_error(struct server *s, struct conn *k, const char *code, const char *msg,
			bool close_after)
{
	char *line = proto_format_error(code, msg);

	if (line)
		server__reply(s, &k->c, line, close_after);
	else
		k->dead = true;
}

/* Hands every complete line to the request callback; an over-long one ends the client. */
static void take_lines(struct server *s, struct conn *k)
{
	size_t start = 0;

	for (size_t i = 0; i < k->in_len && !k->dead; i++) {
		if (k->in[i] != '\n')
			continue;
		s->ops.on_request(s->arg, &k->c, k->in + start, i - start);
		start = i + 1;
	}
	memmove(k->in, k->in + start, k->in_len - start);
	k->in_len -= start;
	if (k->in_len >= s->max_line && !k->dead) {
		char msg[96];

		snprintf(msg, sizeof(msg), "line exceeds %zu bytes", s->max_line);
		pr_info("client pid %d uid %u: %s; closing", k->c.pid, k->c.uid, msg);
		reply_error(s, k, "too_long", msg, true);
		k->in_len = 0;
	}
}

static void on_client(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *k = arg;
	struct server *s = k->srv;

	(void)l;
	(void)fd;
	if (events & EPOLLOUT)
		flush_out(s, k);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = recv(k->c.fd, k->in + k->in_len, s->max_line - k->in_len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			k->dead = true;
		else if (n > 0 && !k->close_after) {
			k->in_len += (size_t)n;
			take_lines(s, k);
		}
	}
	if (k->dead && (k->out_off >= k->out_len || !k->close_after))
		conn_close(s, k);
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct server *s = arg;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *k;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		close(cfd);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (k)
		k->in = malloc(s->max_line);
	if (!k || !k->in) {
		if (k)
			free(k);
		close(cfd);
		return;
	}
	k->c = (struct client){
		.fd = cfd, .id = ++s->next_id, .pid = cred.pid, .uid = cred.uid, .gid = cred.gid
	};
	k->srv = s;
	if (loop__add(l, cfd, EPOLLIN, on_client, k)) {
		free(k->in);
		free(k);
		close(cfd);
		return;
	}
	k->next = s->conns;
	s->conns = k;
	s->nr++;
	if (s->nr > s->max_clients) {
		pr_warn("client pid %d uid %u refused: %d clients connected", cred.pid, cred.uid,
			s->max_clients);
		reply_error(s, k, "limit", "too many clients connected", true);
		if (k->dead)
			conn_close(s, k);
	}
}

struct server *server__new(struct loop *l, int listen_fd, int max_clients, size_t max_line,
			   const struct server_ops *ops, void *arg)
{
	struct server *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->loop = l;
	s->listen_fd = listen_fd;
	s->max_clients = max_clients;
	s->max_line = max_line;
	s->ops = *ops;
	s->arg = arg;
	err = loop__add(l, listen_fd, EPOLLIN, on_accept, s);
	if (err) {
		free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

void server__free(struct server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s, s->conns);
	loop__del(s->loop, s->listen_fd);
	free(s);
}

struct client *server__find(struct server *s, int id)
{
	for (struct conn *k = s->conns; k; k = k->next) {
		if (k->c.id == id && !k->dead)
			return &k->c;
	}
	return NULL;
}

size_t server__unsent(const struct server *s, const struct client *c)
{
	const struct conn *k = (const struct conn *)c;

	(void)s;
	return k->out_len - k->out_off;
}

void server__drop(struct server *s, struct client *c)
{
	conn_close(s, (struct conn *)c);
}

int server__nr_clients(const struct server *s)
{
	return s->nr;
}
