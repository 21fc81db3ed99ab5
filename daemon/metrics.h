/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/metrics.h — OpenMetrics on GET /metrics over HTTP/1.1, in the daemon's one loop: the
 * per-region series of finished sessions (history.h, lib/openmetrics) and the daemon's health.
 * A tiny responder, not a web server: one request per connection (Connection: close), a
 * request of at most METRICS_MAX_REQUEST bytes, at most METRICS_MAX_CONNS scrapes at once (more
 * are closed at accept and counted), METRICS_TIMEOUT_MS for a scrape to finish; nothing
 * blocks. GET /metrics answers 200, another path 404, another method 405. */
#ifndef BM_METRICS_H
#define BM_METRICS_H

#include <stddef.h>
#include <stdio.h>

#define METRICS_MAX_REQUEST 4096 /* bytes of request line and headers */
#define METRICS_MAX_CONNS   8	 /* scrape connections at once */
#define METRICS_TIMEOUT_MS  5000 /* from accept to the last byte of the reply */

struct collector;
struct loop;
struct metrics;
struct server;

/* Listens on @addr ("HOST:PORT", config key metrics_listen) and serves the series of @c's
 * history and health (@srv counts the clients; may be NULL). NULL + errno with a one-line
 * reason in @err. */
struct metrics *metrics__new(struct loop *l, const char *addr, struct collector *c,
			     const struct server *srv, char *err, size_t errlen);
void metrics__free(struct metrics *m); /* NULL-safe; closes every connection */

/* Writes the whole exposition (region series, health, "# EOF") to @f. 0 or -EIO. */
int metrics__write(struct metrics *m, FILE *f);

#endif /* BM_METRICS_H */
