/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/proto.h — the wire protocol: one request line → validated struct bm_request, and the
 * ok/error reply lines; pure (docs/protocol.md is the spec). */
#ifndef BM_PROTO_H
#define BM_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bm_limits.h"
#include "names.h"

enum bm_op {
	BM_OP_HELLO = 1,
	BM_OP_LAUNCH,
	BM_OP_ATTACH,
	BM_OP_START,
	BM_OP_STOP,
	BM_OP_STATUS,
	BM_OP_RESULTS,
	BM_OP_DETACH,
	BM_OP_PROFILE,
	BM_OP_WATCH,
	BM_OP_SESSIONS,
	BM_OP_SCOPE,
};

/* watch: how functions are ranked ("sort"); the order of enum hot_sort. */
enum bm_watch_sort { BM_SORT_TOTAL = 0, BM_SORT_OWN, BM_SORT_COUNT };

/* One validated request. Only the members the op allows can be set; the has_* flags say which
 * optional ones were present. Release with bm_request_release(). */
struct bm_request {
	enum bm_op op;
	bool has_session;
	uint32_t session; /* >0 */
	bool has_pid;
	int32_t pid;		    /* >0 */
	char name[BM_NAME_MAX + 1]; /* "" when absent; else passes names_is_valid() */
	bool has_repeat;
	uint32_t repeat; /* 0..BM_REPEAT_MAX */
	json_t *params;	 /* owned: object of at most BM_PARAMS_MAX scalars; NULL if absent */
	char group[BM_GROUP_MAX + 1];
	bool has_group; /* false when absent or null */
	char exe[BM_EXE_MAX + 1];
	bool python_malloc;
	bool profile;		  /* launch/attach: keep events with stacks for .bin profiles */
	bool hook;		  /* launch: the command preloads the hook ("probe":"hook") */
	bool kill_on_daemon_exit; /* launch/attach: PTRACE_O_EXITKILL (default: runs on) */
	bool region_scope;	  /* launch/scope: "scope":"regions" (default "command") */
	json_t *context;	  /* launch/attach, owned: the client's commit_info/machine_info
				   * (checked by context_check), or NULL */
	uint32_t interval_ms;	  /* watch: BM_WATCH_MIN_MS..BM_WATCH_MAX_MS, default when absent */
	uint32_t thread;	  /* watch: functions of this thread only; 0: all */
	uint8_t sort;		  /* watch: enum bm_watch_sort */
};

/* Returns the op's wire name ("hello", ...) or NULL for a value outside enum bm_op. */
const char *proto_op_name(enum bm_op op);

/* Parses and validates one request line @line/@len (a trailing "\n" or "\r\n" is allowed; NUL
 * bytes are not). On success fills *@out (zeroed first; caller releases it) and returns 0.
 * On failure returns -EINVAL, leaves nothing to release, points *@code at a static string
 * ("too_long", "bad_json", "unknown_op", "bad_request" or "bad_name") and writes a one-line
 * reason into @msg (always NUL-terminated when @msglen > 0).
 * Rules (docs/protocol.md): the line is one JSON object without duplicate keys; "op" is a known
 * string; each op has a table of required and allowed members and any other member is
 * bad_request; integers are range-checked; "session" and "pid" are mutually exclusive;
 * "params" is an object of scalars (string, number, bool, null). */
int proto_parse_request(const char *line, size_t len, struct bm_request *out, const char **code,
			char *msg, size_t msglen);

/* Frees what @r owns (params, context) and clears the pointer; NULL-safe, idempotent. */
void bm_request_release(struct bm_request *r);

/* Returns a malloc'd line {"ok":false,"error":{"code":@code,"message":@msg}} ending in "\n"
 * (caller frees), or NULL with errno set. Bytes of @msg that are not printable ASCII become
 * '?', so the reply stays one valid line whatever the message holds. */
char *proto_format_error(const char *code, const char *msg);

/* Steals the reference to @members (an object, or NULL for none) and returns a malloc'd compact
 * line {"ok":true,...members} ending in "\n" (caller frees), or NULL with errno set (EINVAL when
 * @members is not an object; ENOMEM). @members must not hold an "ok" member. */
char *proto_format_ok(json_t *members);

#endif /* BM_PROTO_H */
