/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/sources.h — the collector's event sources (source.h) as one set: each watched in the
 * loop, all drained together (and every BM_DRAIN_MS by a timer, so that events below a
 * source's wake-up batch do not wait for the next batch), their losses summed. */
#ifndef BM_SOURCES_H
#define BM_SOURCES_H

#include <stdint.h>

#include "loop.h"
#include "source.h"

#define SOURCES_MAX 4

struct sources;

/* An empty set in loop @l, with its drain timer. NULL + errno. */
struct sources *sources__new(struct loop *l);
void sources__free(struct sources *set); /* NULL-safe; frees every source in the set */

/* Adds @src (the set owns it from now on, even on failure): its fd joins the loop. 0 or
 * -errno (-E2BIG: SOURCES_MAX already). */
int sources__add(struct sources *set, struct event_source *src);

/* Every source's drain(): afterwards the counts include every event produced so far. */
void sources__drain(struct sources *set);

/* Events of process @tgid lost by any source. */
uint64_t sources__lost(struct sources *set, uint32_t tgid);
/* Every event lost by any source. */
uint64_t sources__lost_total(struct sources *set);

#endif /* BM_SOURCES_H */
