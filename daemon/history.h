/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/history.h — what the daemon keeps of its finished sessions once they leave the
 * session table: who, when, which command, which result file (the "sessions" op), and the
 * headline series of their regions (what /metrics serves, lib/openmetrics). Both are bounded:
 * the newest HISTORY_MAX_SESSIONS sessions and the newest max_series regions. */
#ifndef BM_HISTORY_H
#define BM_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "openmetrics.h"
#include "session.h"

#define HISTORY_MAX_SESSIONS 1000 /* finished sessions listed by the "sessions" op */

struct history;

/* Keeps at most @max_series regions for /metrics, labelled with @host when a session's
 * context names no machine. NULL + errno. */
struct history *history__new(size_t max_series, const char *host);
void history__free(struct history *h); /* NULL-safe */

/* Records finished session @s: its job @name, how it ended (@exited: its root exited with wait
 * status s->exit_status; else it was detached), its result document @doc (NULL when it closed
 * no region) and where that went (@result_path, "" when not written). Logs and keeps going
 * on ENOMEM. */
void history__add(struct history *h, const struct session *s, const char *name, bool exited,
		  const json_t *doc, const char *result_path);

/* The "sessions" reply list: finished sessions of @uid (every one when @uid is 0), oldest
 * first. New reference, or NULL + ENOMEM. */
json_t *history__list(const struct history *h, uid_t uid);

size_t history__count(const struct history *h); /* finished sessions recorded so far */
const struct om_set *history__series(const struct history *h);

#endif /* BM_HISTORY_H */
