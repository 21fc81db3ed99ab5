/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/bm_limits.h — the protocol's size limits (docs/protocol.md), shared by the daemon's request
 * validation and the clients that must not send what it refuses. */
#ifndef BM_LIMITS_H
#define BM_LIMITS_H

#define BM_PROTOCOL_VERSION 1
#define BM_LINE_MAX	    4096    /* bytes of one request line, newline included */
#define BM_NAME_MAX	    128	    /* bytes of a region name (and of a group, a param key) */
#define BM_GROUP_MAX	    128	    /* bytes of a group */
#define BM_PARAMS_MAX	    32	    /* members of "params" */
#define BM_PARAM_STR_MAX    1024    /* bytes of one string value in "params" */
#define BM_EXE_MAX	    4095    /* bytes of "exe" (PATH_MAX - 1) */
#define BM_REPEAT_MAX	    1000000 /* largest "repeat" */
#define BM_CONTEXT_MAX	    2048    /* bytes of launch/attach "context" as compact JSON */
#define BM_WATCH_MIN_MS	    250	    /* watch: the shortest "interval_ms" (bounded rate) */
#define BM_WATCH_MAX_MS	    60000   /* watch: the longest */
#define BM_WATCH_DEFAULT_MS 1000

#endif /* BM_LIMITS_H */
