/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/conn.h — the client side of the socket: find it, send one request, read one reply,
 * with timeouts. */
#ifndef BM_CONN_H
#define BM_CONN_H

#include <jansson.h>
#include <stddef.h>

#define CONN_DEFAULT_SOCKET "/run/benchmem/benchmemd.sock"

/* The socket path: $BENCHMEM_SOCKET, else the default. Borrowed. */
const char *conn_socket_path(void);

/* Connects to @path with send/receive timeouts of @timeout_ms. Returns the fd or -errno. */
int conn_open(const char *path, int timeout_ms);

/* Sends @req (serialised compactly, one line) and reads one reply line. Returns the parsed
 * reply (new reference) or NULL with errno set and a one-line reason in @err. A reply with
 * "ok": false is returned as it is; conn_error() reads it. */
json_t *conn_request(int fd, json_t *req, char *err, size_t errlen);

/* For an error reply: "code: message" into @buf and returns @buf; NULL for an ok reply. */
const char *conn_error(const json_t *reply, char *buf, size_t len);

#endif /* BM_CONN_H */
