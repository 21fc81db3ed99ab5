// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/server.c — Unix-socket clients: accept, read lines, write replies; never blocks. What
 * one client may hold is bounded: one line of input, reply_max bytes of output (and no more
 * requests read past reply_pause), timeout_s seconds of a stalled line or unread replies. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "server.h"

#define SWEEP_MS     1000	 /* how often the timeouts are checked */
#define SHRINK_BYTES (64u << 10) /* an idle client keeps at most this much reply buffer */

struct conn {
	struct client c;
	struct server *srv;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	uint32_t events;    /* what epoll watches now */
	uint64_t in_since;  /* when the pending partial line (or the connection) began */
	uint64_t out_since; /* when unsent replies last made progress */
	bool served;	    /* completed at least one request */
	bool close_after;
	bool dead;
	struct conn *next;
};

struct server {
	struct loop *loop;
	int listen_fd;
	int timer_fd;
	int reserve_fd; /* given up to accept-and-refuse a client when descriptors run out */
	struct server_limits lim;
	struct server_ops ops;
	void *arg;
	struct conn *conns;
	int nr;
	int next_id;
};

static uint64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static size_t unsent(const struct conn *k)
{
	return k->out_len - k->out_off;
}

/* Reads only while the client's unsent replies are under reply_pause: a client that pipelines
 * requests and never reads costs at most reply_pause plus one reply. */
static bool paused(const struct server *s, const struct conn *k)
{
	return unsent(k) > s->lim.reply_pause || k->close_after;
}

static void watch(struct server *s, struct conn *k)
{
	uint32_t want = (paused(s, k) ? 0 : EPOLLIN) | (unsent(k) ? EPOLLOUT : 0);

	if (want != k->events && !loop__mod(s->loop, k->c.fd, want))
		k->events = want;
}

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
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			k->dead = true;
			return;
		}
		k->out_off += (size_t)n;
		k->out_since = now_s();
	}
	if (k->out_off == k->out_len) {
		k->out_off = k->out_len = 0;
		if (k->out_cap > SHRINK_BYTES) { /* one large reply does not stay with the client */
			free(k->out);
			k->out = NULL;
			k->out_cap = 0;
		}
		if (k->close_after)
			k->dead = true;
	}
	watch(s, k);
}

int server__reply(struct server *s, struct client *c, char *line, bool close_after)
{
	struct conn *k = (struct conn *)c;
	size_t len = strlen(line);

	if (unsent(k) + len > s->lim.reply_max) {
		pr_info("client pid %d uid %u: %zu reply bytes unread; dropping it", k->c.pid,
			k->c.uid, unsent(k) + len);
		free(line);
		k->dead = true;
		return -ENOBUFS;
	}
	if (!unsent(k))
		k->out_since = now_s();
	if (!unsent(k) && len > SHRINK_BYTES) {
		/* a large reply (a results document) is sent from its own buffer, not a copy */
		free(k->out);
		k->out = line;
		k->out_off = 0;
		k->out_len = k->out_cap = len;
		k->close_after |= close_after;
		flush_out(s, k);
		return 0;
	}
	if (k->out_off && k->out_len + len > k->out_cap) {
		/* the sent head is dead weight: move the rest down before growing */
		memmove(k->out, k->out + k->out_off, unsent(k));
		k->out_len -= k->out_off;
		k->out_off = 0;
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

/* Hands complete lines to the request callback until the client's replies pile up past
 * reply_pause (the rest wait in the buffer); a line that fills the buffer ends the client. */
static void take_lines(struct server *s, struct conn *k)
{
	size_t start = 0;

	for (size_t i = 0; i < k->in_len && !k->dead && !paused(s, k); i++) {
		if (k->in[i] != '\n')
			continue;
		s->ops.on_request(s->arg, &k->c, k->in + start, i - start);
		k->served = true;
		start = i + 1;
	}
	memmove(k->in, k->in + start, k->in_len - start);
	k->in_len -= start;
	if (start)
		k->in_since = now_s();
	if (k->in_len >= s->lim.max_line && !k->dead && !memchr(k->in, '\n', k->in_len)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "line exceeds %zu bytes", s->lim.max_line);
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
	/* lines left in the buffer while the client was paused */
	if (!k->dead && !paused(s, k) && memchr(k->in, '\n', k->in_len))
		take_lines(s, k);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !k->dead && !paused(s, k) &&
	    k->in_len < s->lim.max_line) {
		ssize_t n =
			recv(k->c.fd, k->in + k->in_len, s->lim.max_line - k->in_len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			k->dead = true;
		} else if (n > 0) {
			if (!k->in_len)
				k->in_since = now_s();
			k->in_len += (size_t)n;
			take_lines(s, k);
		}
	} else if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLOUT)) {
		k->dead = true; /* gone while paused: nobody reads what is queued */
	}
	if (k->dead && (!unsent(k) || !k->close_after))
		conn_close(s, k);
}

/* What a stalled client is closed for, or NULL: the line it began, the request it never
 * completed, the replies it does not read — each holds a slot another user may need. */
static const char *stalled(const struct server *s, const struct conn *k, uint64_t now)
{
	if (k->dead)
		return NULL;
	if (unsent(k) && now - k->out_since >= s->lim.timeout_s)
		return "replies unread";
	if (k->in_len && now - k->in_since >= s->lim.timeout_s)
		return "request line incomplete";
	if (!k->served && !k->close_after && now - k->in_since >= s->lim.timeout_s)
		return "no request";
	return NULL;
}

static void on_sweep(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct server *s = arg;
	uint64_t ticks, now = now_s();
	struct conn *k, *next;

	(void)l;
	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	for (k = s->conns; k; k = next) {
		const char *why = stalled(s, k, now);
		char msg[128];

		next = k->next;
		if (!why)
			continue;
		snprintf(msg, sizeof(msg), "%s for %u s (client_timeout)", why, s->lim.timeout_s);
		if (!unsent(k))
			reply_error(s, k, "limit", msg, true);
		k->dead = true;
		server__drop(s, &k->c, msg);
	}
}

/* Descriptors ran out: take the client with the reserve descriptor and tell it why, so the
 * listening socket does not stay readable forever and the client is not left hanging. */
static void refuse_no_fd(struct server *s, int fd)
{
	static const char line[] = "{\"ok\":false,\"error\":{\"code\":\"limit\",\"message\":"
				   "\"the daemon is out of file descriptors\"}}\n";
	int cfd;

	if (s->reserve_fd < 0)
		return;
	close(s->reserve_fd);
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd >= 0) {
		if (send(cfd, line, sizeof(line) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("cannot tell a refused client: %s", strerror(errno));
		close(cfd);
	}
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pr_warn("client refused: out of file descriptors");
}

static int uid_clients(const struct server *s, uid_t uid)
{
	int n = 0;

	for (const struct conn *k = s->conns; k; k = k->next)
		n += k->c.uid == uid && !k->dead;
	return n;
}

/* Refuses the newest client @k when a cap is reached: it is told why, then closed. */
static void check_caps(struct server *s, struct conn *k)
{
	char msg[128];
	int mine;

	if (s->nr > s->lim.max_clients) {
		pr_warn("client pid %d uid %u refused: %d clients connected", k->c.pid, k->c.uid,
			s->lim.max_clients);
		reply_error(s, k, "limit", "too many clients connected", true);
	} else if ((mine = uid_clients(s, k->c.uid)) > s->lim.max_clients_per_uid) {
		snprintf(msg, sizeof(msg), "max_clients_per_uid: %d clients of uid %u connected",
			 mine - 1, k->c.uid);
		pr_warn("client pid %d uid %u refused: %s", k->c.pid, k->c.uid, msg);
		reply_error(s, k, "limit", msg, true);
	} else {
		return;
	}
	if (k->dead)
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
	if (cfd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			refuse_no_fd(s, fd);
		return;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		close(cfd);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (k)
		k->in = malloc(s->lim.max_line);
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
	k->in_since = now_s();
	k->events = EPOLLIN;
	if (loop__add(l, cfd, EPOLLIN, on_client, k)) {
		free(k->in);
		free(k);
		close(cfd);
		return;
	}
	k->next = s->conns;
	s->conns = k;
	s->nr++;
	check_caps(s, k);
}

struct server *server__new(struct loop *l, int listen_fd, const struct server_limits *lim,
			   const struct server_ops *ops, void *arg)
{
	struct server *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->loop = l;
	s->listen_fd = listen_fd;
	s->lim = *lim;
	s->ops = *ops;
	s->arg = arg;
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->timer_fd = loop__add_timer(l, SWEEP_MS, on_sweep, s);
	err = s->timer_fd < 0 ? s->timer_fd : loop__add(l, listen_fd, EPOLLIN, on_accept, s);
	if (err) {
		if (s->timer_fd >= 0) {
			loop__del(l, s->timer_fd);
			close(s->timer_fd);
		}
		if (s->reserve_fd >= 0)
			close(s->reserve_fd);
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
	loop__del(s->loop, s->timer_fd);
	close(s->timer_fd);
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
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
	(void)s;
	return unsent((const struct conn *)c);
}

void server__drop(struct server *s, struct client *c, const char *why)
{
	pr_info("client pid %d uid %u: dropped: %s", c->pid, c->uid, why);
	conn_close(s, (struct conn *)c);
}

int server__nr_clients(const struct server *s)
{
	return s->nr;
}
