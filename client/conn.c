// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/conn.c — one connection to benchmemd: connect, request, reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"

#define CONN_MAX_REPLY (256u << 20)

const char *conn_socket_path(void)
{
	const char *p = getenv("BENCHMEM_SOCKET");

	return p && *p ? p : CONN_DEFAULT_SOCKET;
}

int conn_open(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to the first newline; the server sends exactly one line per request. */
static char *read_line(int fd, size_t *len, int *err)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t r;

		if (n == cap) {
			char *nb = cap >= CONN_MAX_REPLY ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				*err = -E2BIG;
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + n, 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*err = r == 0 ? -ECONNRESET : -errno;
			free(buf);
			return NULL;
		}
		if (buf[n] == '\n') {
			*len = n;
			return buf;
		}
		n++;
	}
	*err = -ENOMEM;
	return NULL;
}

json_t *conn_request(int fd, json_t *req, char *err, size_t errlen)
{
	char *text = json_dumps(req, JSON_COMPACT), *line;
	json_error_t jerr;
	json_t *reply;
	size_t len;
	int e;

	if (!text) {
		snprintf(err, errlen, "cannot encode the request");
		errno = ENOMEM;
		return NULL;
	}
	e = send_all(fd, text, strlen(text));
	if (!e)
		e = send_all(fd, "\n", 1);
	free(text);
	if (e) {
		snprintf(err, errlen, "cannot send to the collector: %s", strerror(-e));
		errno = -e;
		return NULL;
	}
	line = read_line(fd, &len, &e);
	if (!line) {
		snprintf(err, errlen, "no reply from the collector: %s",
			 e == -ECONNRESET ? "connection closed (was benchmemd restarted?)"
					  : strerror(-e));
		errno = -e;
		return NULL;
	}
	/* recv(1) is slow for big replies, but replies are small except "results" */
	reply = json_loadb(line, len, 0, &jerr);
	free(line);
	if (!reply || !json_is_object(reply)) {
		snprintf(err, errlen, "malformed reply from the collector");
		json_decref(reply);
		errno = EPROTO;
		return NULL;
	}
	return reply;
}

const char *conn_error(const json_t *reply, char *buf, size_t len)
{
	json_t *e;

	if (json_is_true(json_object_get(reply, "ok")))
		return NULL;
	e = json_object_get(reply, "error");
	snprintf(buf, len, "%s: %s", json_string_value(json_object_get(e, "code")) ?: "error",
		 json_string_value(json_object_get(e, "message")) ?: "(no message)");
	return buf;
}
