/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/dispatch.h — runs one validated request through the collector's public API; the uid
 * authorisation check lives here; turns codes into one-line replies. serve.c calls it. */
#ifndef BM_DISPATCH_H
#define BM_DISPATCH_H

#include <stddef.h>

struct collector;
struct server;
struct client;
struct watch;

/* Parses @line (without its newline) from @cl and replies through @srv; a watch op subscribes
 * @cl to @w (the front's). Never fails: every problem becomes an error reply. Runs in the
 * loop; the only slow step is a probe attach. */
void dispatch_request(struct collector *c, struct server *srv, struct watch *w, struct client *cl,
		      const char *line, size_t len);

/* Answers client @client_id (if still connected) about the profile of region @name that a
 * writer process finished: @path on success, else the one-line @err. */
void dispatch_profile_done(struct server *srv, int client_id, const char *name, const char *path,
			   const char *err);

#endif /* BM_DISPATCH_H */
