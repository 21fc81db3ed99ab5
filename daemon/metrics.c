// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/metrics.c — GET /metrics: a nonblocking HTTP/1.1 responder in the daemon's loop and
 * the exposition it serves (lib/openmetrics writes the region series). */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector.h"
#include "history.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "openmetrics.h"
#include "server.h"

struct scrape {
	int fd;
	uint64_t born_ns;
	char in[METRICS_MAX_REQUEST];
	size_t in_len;
	char *out; /* the whole reply once the request is read; NULL before */
	size_t out_len, out_off;
	bool draining; /* reply sent and our side shut: reading until the peer closes */
};

struct metrics {
	struct loop *loop;
	struct collector *c;
	const struct server *srv;
	int listen_fd, timer_fd;
	struct scrape *conns[METRICS_MAX_CONNS];
	uint64_t scrapes, refused;
};

/* ---- the exposition -------------------------------------------------------------------- */

static uint64_t self_rss_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void sample(FILE *f, const char *type, const char *unit, const char *name, const char *help,
		   uint64_t v)
{
	bool counter = !strcmp(type, "counter");

	om_write_family(f, name, type, unit, help);
	fprintf(f, "%s%s %" PRIu64 "\n", name, counter ? "_total" : "", v);
}

int metrics__write(struct metrics *m, FILE *f)
{
	const struct history *h = collector__history(m->c);
	json_t *st = collector__status(m->c, 0, m->srv ? server__nr_clients(m->srv) : 0);
	const struct om_set *set = history__series(h);

	om_write_regions(f, set);
	sample(f, "gauge", NULL, "benchmemd_sessions", "Sessions traced now.",
	       json_array_size(json_object_get(st, "sessions")));
	sample(f, "counter", NULL, "benchmemd_finished_sessions",
	       "Sessions finished since the daemon started.", history__count(h));
	sample(f, "counter", NULL, "benchmemd_lost_events",
	       "Allocation events lost (ring buffer full) since the daemon started.",
	       (uint64_t)json_integer_value(json_object_get(st, "lost_events")));
	sample(f, "gauge", NULL, "benchmemd_clients", "Clients connected to the socket.",
	       (uint64_t)json_integer_value(json_object_get(st, "clients")));
	sample(f, "gauge", "bytes", "benchmemd_resident_memory_bytes",
	       "Resident memory of benchmemd itself (VmRSS).", self_rss_bytes());
	sample(f, "gauge", NULL, "benchmemd_metrics_regions",
	       "Finished regions whose series /metrics serves (at most metrics_max_series).",
	       set->nr);
	sample(f, "counter", NULL, "benchmemd_metrics_dropped_regions",
	       "Finished regions dropped, oldest first, past metrics_max_series.", set->dropped);
	sample(f, "counter", NULL, "benchmemd_metrics_refused_scrapes",
	       "Scrape connections closed at accept: METRICS_MAX_CONNS were open.", m->refused);
	json_decref(st);
	return om_write_eof(f);
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static void scrape_close(struct metrics *m, int slot)
{
	struct scrape *k = m->conns[slot];

	loop__del(m->loop, k->fd);
	close(k->fd);
	free(k->out);
	free(k);
	m->conns[slot] = NULL;
}

static int slot_of(struct metrics *m, int fd)
{
	for (int i = 0; i < METRICS_MAX_CONNS; i++) {
		if (m->conns[i] && m->conns[i]->fd == fd)
			return i;
	}
	return -1;
}

/* The reply to the request in @k->in (its header ends in it) into @k->out. 0 or -ENOMEM. */
static int build_reply(struct metrics *m, struct scrape *k)
{
	const char *status = "200 OK", *ctype = OM_CONTENT_TYPE, *extra = "";
	char *body = NULL, *head = NULL;
	size_t body_len = 0, n = strcspn(k->in, "\r\n");
	FILE *f = open_memstream(&body, &body_len);
	int e = 0;

	if (!f)
		return -ENOMEM;
	k->in[n] = '\0';
	if (strncmp(k->in, "GET ", 4)) {
		status = "405 Method Not Allowed";
		extra = "Allow: GET\r\n";
	} else if (strcmp(k->in + 4, "/metrics HTTP/1.1") &&
		   strcmp(k->in + 4, "/metrics HTTP/1.0") && strncmp(k->in + 4, "/metrics?", 9)) {
		status = "404 Not Found";
	}
	if (strcmp(status, "200 OK")) {
		ctype = "text/plain; charset=utf-8";
		fprintf(f, "%s: benchmemd serves GET /metrics only\n", status);
		e = fflush(f) ? -EIO : 0;
	} else {
		e = metrics__write(m, f);
		m->scrapes++;
	}
	if (fclose(f) && !e)
		e = -EIO;
	if (!e && asprintf(&head,
			   "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			   "Connection: close\r\n\r\n",
			   status, ctype, body_len, extra) < 0)
		e = -ENOMEM;
	if (!e) {
		size_t hl = strlen(head);

		k->out = malloc(hl + body_len);
		if (k->out) {
			memcpy(k->out, head, hl);
			memcpy(k->out + hl, body, body_len);
			k->out_len = hl + body_len;
		}
		e = k->out ? 0 : -ENOMEM;
	}
	free(head);
	free(body);
	return e;
}

/* Sends what the socket takes: 1 when the reply is complete, 0 when the socket is full, -1
 * when the peer is gone. */
static int send_some(struct scrape *k)
{
	while (k->out_off < k->out_len) {
		ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		k->out_off += (size_t)w;
	}
	return 1;
}

/* After the reply: reads and drops what the peer still sends until it closes. Closing with
 * unread bytes would reset the connection and could destroy the reply in flight (a 431 to a
 * request we stopped reading). True when the peer is done. */
static bool drain(struct scrape *k)
{
	char sink[4096];

	for (;;) {
		ssize_t r = recv(k->fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			continue;
		return r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
	}
}

/* Reads what came; true once the request's header is complete (or the request is too big:
 * then the reply is a 431). *@gone when the peer closed or failed. */
static bool read_some(struct scrape *k, bool *gone)
{
	while (k->in_len < sizeof(k->in) - 1) {
		ssize_t r =
			recv(k->fd, k->in + k->in_len, sizeof(k->in) - 1 - k->in_len, MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*gone = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
			return false;
		}
		k->in_len += (size_t)r;
		k->in[k->in_len] = '\0';
		if (strstr(k->in, "\r\n\r\n") || strstr(k->in, "\n\n"))
			return true;
	}
	return true;
}

static void on_scrape(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct metrics *m = arg;
	int slot = slot_of(m, fd);
	struct scrape *k = slot >= 0 ? m->conns[slot] : NULL;
	bool gone = false;

	(void)l;
	if (!k)
		return;
	if (k->draining) {
		if (drain(k))
			scrape_close(m, slot);
		return;
	}
	if (!k->out && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		if (!read_some(k, &gone)) {
			if (gone)
				scrape_close(m, slot);
			return;
		}
		if (k->in_len >= sizeof(k->in) - 1 && !strstr(k->in, "\r\n\r\n")) {
			static const char big[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
						  "Content-Length: 0\r\nConnection: close\r\n\r\n";

			k->out = strdup(big);
			k->out_len = k->out ? sizeof(big) - 1 : 0;
		} else if (build_reply(m, k)) {
			pr_warn("metrics: cannot build the reply: out of memory");
			scrape_close(m, slot);
			return;
		}
		if (!k->out) {
			scrape_close(m, slot);
			return;
		}
	}
	switch (k->out ? send_some(k) : 0) {
	case 1: /* the timer closes a peer that never closes its side */
		shutdown(k->fd, SHUT_WR);
		k->draining = true;
		loop__mod(m->loop, k->fd, EPOLLIN);
		if (drain(k))
			scrape_close(m, slot);
		break;
	case -1:
		scrape_close(m, slot);
		break;
	default:
		if (k->out)
			loop__mod(m->loop, k->fd, EPOLLOUT);
	}
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct metrics *m = arg;
	int cfd, slot;

	(void)l;
	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct scrape *k = NULL;

		for (slot = 0; slot < METRICS_MAX_CONNS && m->conns[slot]; slot++)
			;
		if (slot < METRICS_MAX_CONNS)
			k = calloc(1, sizeof(*k));
		if (!k) {
			/* the cap: a scraper retries at its next interval; the loop stays free */
			m->refused++;
			close(cfd);
			continue;
		}
		k->fd = cfd;
		k->born_ns = collector__now_ns();
		if (loop__add(m->loop, cfd, EPOLLIN, on_scrape, m)) {
			close(cfd);
			free(k);
			continue;
		}
		m->conns[slot] = k;
	}
}

/* Closes scrapes that did not finish in METRICS_TIMEOUT_MS (a slow or silent peer). */
static void on_tick(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct metrics *m = arg;
	uint64_t ticks, now = collector__now_ns();

	(void)l;
	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return;
	for (int i = 0; i < METRICS_MAX_CONNS; i++) {
		if (m->conns[i] && now - m->conns[i]->born_ns > METRICS_TIMEOUT_MS * 1000000ULL)
			scrape_close(m, i);
	}
}

/* A nonblocking listening TCP socket on "HOST:PORT". The fd or -errno with @err. */
static int listen_tcp(const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[64];
	const char *colon = strrchr(addr, ':');
	int fd = -1, one = 1, e;

	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - addr) : 0, addr);
	if (host[0] == '[') { /* "[::1]" → "::1" */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	e = colon ? getaddrinfo(host, colon + 1, &hints, &res) : EAI_NONAME;
	if (e) {
		snprintf(err, errlen, "metrics_listen %s: %s", addr, gai_strerror(e));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 16)) {
		e = -errno;
		snprintf(err, errlen, "metrics_listen %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = e;
	}
	freeaddrinfo(res);
	return fd;
}

struct metrics *metrics__new(struct loop *l, const char *addr, struct collector *c,
			     const struct server *srv, char *err, size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int e;

	if (!m) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	*m = (struct metrics){ .loop = l, .c = c, .srv = srv, .listen_fd = -1, .timer_fd = -1 };
	m->listen_fd = listen_tcp(addr, err, errlen);
	if (m->listen_fd < 0) {
		e = m->listen_fd;
		goto fail;
	}
	e = loop__add(l, m->listen_fd, EPOLLIN, on_accept, m);
	if (e) {
		snprintf(err, errlen, "metrics: %s", strerror(-e));
		goto fail;
	}
	m->timer_fd = loop__add_timer(l, 1000, on_tick, m);
	if (m->timer_fd < 0) {
		e = m->timer_fd;
		snprintf(err, errlen, "metrics: timer: %s", strerror(-e));
		goto fail;
	}
	pr_info("metrics: serving OpenMetrics on http://%s/metrics", addr);
	return m;
fail:
	metrics__free(m);
	errno = -e;
	return NULL;
}

void metrics__free(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < METRICS_MAX_CONNS; i++) {
		if (m->conns[i])
			scrape_close(m, i);
	}
	if (m->timer_fd >= 0) {
		loop__del(m->loop, m->timer_fd);
		close(m->timer_fd);
	}
	if (m->listen_fd >= 0) {
		loop__del(m->loop, m->listen_fd);
		close(m->listen_fd);
	}
	free(m);
}
