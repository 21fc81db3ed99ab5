// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/proto.c — request-line validation and reply-line formatting for the socket protocol. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#include "context.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where a parse error goes: the caller's code pointer and message buffer. */
struct perr {
	const char **code;
	char *msg;
	size_t msglen;
};

static int fail(const struct perr *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(const struct perr *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	*e->code = code;
	if (e->msglen) {
		va_start(ap, fmt);
		vsnprintf(e->msg, e->msglen, fmt, ap);
		va_end(ap);
		/* a reason quotes client bytes (member names): keep it one printable line */
		for (char *c = e->msg; *c; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		}
	}
	return -EINVAL;
}

/* ---- members ----------------------------------------------------------------------------- */

enum member_bit {
	M_OP = 1u << 0,
	M_SESSION = 1u << 1,
	M_PID = 1u << 2,
	M_NAME = 1u << 3,
	M_REPEAT = 1u << 4,
	M_PARAMS = 1u << 5,
	M_GROUP = 1u << 6,
	M_EXE = 1u << 7,
	M_PYTHON_MALLOC = 1u << 8,
	M_PROFILE = 1u << 9,
	M_CONTEXT = 1u << 10,
	M_INTERVAL = 1u << 11,
	M_THREAD = 1u << 12,
	M_SORT = 1u << 13,
	M_PROBE = 1u << 14,
	M_KILL = 1u << 15,
	M_SCOPE = 1u << 16,
};

typedef int member_parse_fn(const char *key, json_t *v, struct bm_request *r, const struct perr *e);

struct member_desc {
	const char *key;
	unsigned int bit;
	member_parse_fn *parse;
};

/* Reads an integer member in [min, max]; anything else (real, string, bool) is bad_request. */
static int get_int(const char *key, json_t *v, json_int_t min, json_int_t max, json_int_t *out,
		   const struct perr *e)
{
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(e, "bad_request", "\"%s\" must be an integer in %lld..%lld", key,
			    (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int parse_session(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	json_int_t n = 0;
	int err = get_int(key, v, 1, UINT32_MAX, &n, e);

	if (err)
		return err;
	r->has_session = true;
	r->session = (uint32_t)n;
	return 0;
}

static int parse_pid(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	json_int_t n = 0;
	int err = get_int(key, v, 1, INT32_MAX, &n, e);

	if (err)
		return err;
	r->has_pid = true;
	r->pid = (int32_t)n;
	return 0;
}

static int parse_repeat(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	json_int_t n = 0;
	int err = get_int(key, v, 0, BM_REPEAT_MAX, &n, e);

	if (err)
		return err;
	r->has_repeat = true;
	r->repeat = (uint32_t)n;
	return 0;
}

static int parse_name(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	const char *s;

	if (!json_is_string(v))
		return fail(e, "bad_request", "\"%s\" must be a string", key);
	s = json_string_value(v);
	/* An embedded NUL cannot get here: jansson rejects "\u0000" without JSON_ALLOW_NUL. */
	if (json_string_length(v) > BM_NAME_MAX)
		return fail(e, "bad_name", "region name is longer than %d bytes", BM_NAME_MAX);
	if (!names_is_valid(s))
		return fail(
			e, "bad_name",
			"region name must be 1..%d bytes of [A-Za-z0-9._:/[]=,+ -] without \"..\"",
			BM_NAME_MAX);
	memcpy(r->name, s, json_string_length(v) + 1);
	return 0;
}

/* True when @s (@n bytes) has a byte below 0x20 or DEL: they would break logs and tables. */
static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	}
	return false;
}

static int parse_group(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	size_t n;

	if (json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(e, "bad_request", "\"%s\" must be a string or null", key);
	n = json_string_length(v);
	if (n == 0 || n > BM_GROUP_MAX || has_control(json_string_value(v), n))
		return fail(e, "bad_request", "\"%s\" must be 1..%d bytes without control bytes",
			    key, BM_GROUP_MAX);
	memcpy(r->group, json_string_value(v), n + 1);
	r->has_group = true;
	return 0;
}

static int parse_exe(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	size_t n;

	if (!json_is_string(v))
		return fail(e, "bad_request", "\"%s\" must be a string", key);
	n = json_string_length(v);
	if (n == 0 || n > BM_EXE_MAX || json_string_value(v)[0] != '/' ||
	    has_control(json_string_value(v), n))
		return fail(e, "bad_request", "\"%s\" must be an absolute path of at most %d bytes",
			    key, BM_EXE_MAX);
	memcpy(r->exe, json_string_value(v), n + 1);
	return 0;
}

static int parse_python_malloc(const char *key, json_t *v, struct bm_request *r,
			       const struct perr *e)
{
	if (!json_is_boolean(v))
		return fail(e, "bad_request", "\"%s\" must be true or false", key);
	r->python_malloc = json_is_true(v);
	return 0;
}

static int parse_profile(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	if (!json_is_boolean(v))
		return fail(e, "bad_request", "\"%s\" must be true or false", key);
	r->profile = json_is_true(v);
	return 0;
}

static int parse_kill(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	if (!json_is_boolean(v))
		return fail(e, "bad_request", "\"%s\" must be true or false", key);
	r->kill_on_daemon_exit = json_is_true(v);
	return 0;
}

/* launch/attach "context": the client's commit_info/machine_info, bounded (lib/context). */
static int parse_context(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	char why[160];

	(void)key;
	if (context_check(v, why, sizeof(why)))
		return fail(e, "bad_request", "%s", why);
	r->context = json_incref(v);
	return 0;
}

static int parse_probe(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	const char *s = json_string_value(v);

	if (!s || (strcmp(s, "hook") && strcmp(s, "uprobes")))
		return fail(e, "bad_request", "\"%s\" must be \"hook\" or \"uprobes\"", key);
	r->hook = !strcmp(s, "hook");
	return 0;
}

static int parse_scope(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	const char *s = json_string_value(v);

	if (!s || (strcmp(s, "command") && strcmp(s, "regions")))
		return fail(e, "bad_request", "\"%s\" must be \"command\" or \"regions\"", key);
	r->region_scope = !strcmp(s, "regions");
	return 0;
}

static int parse_interval(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	json_int_t n = 0;
	int err = get_int(key, v, BM_WATCH_MIN_MS, BM_WATCH_MAX_MS, &n, e);

	if (!err)
		r->interval_ms = (uint32_t)n;
	return err;
}

static int parse_thread(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	json_int_t n = 0;
	int err = get_int(key, v, 0, INT32_MAX, &n, e);

	if (!err)
		r->thread = (uint32_t)n;
	return err;
}

static int parse_sort(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	static const char *const names[] = { "total", "own", "count" };

	for (size_t i = 0; json_is_string(v) && i < ARRAY_SIZE(names); i++) {
		if (!strcmp(json_string_value(v), names[i])) {
			r->sort = (uint8_t)i;
			return 0;
		}
	}
	return fail(e, "bad_request", "\"%s\" must be \"total\", \"own\" or \"count\"", key);
}

static int check_param(const char *k, json_t *v, const struct perr *e)
{
	size_t n = strlen(k);

	if (n == 0 || n > BM_NAME_MAX || has_control(k, n))
		return fail(e, "bad_request",
			    "\"params\" keys must be 1..%d bytes without control bytes",
			    BM_NAME_MAX);
	if (json_is_string(v) && json_string_length(v) > BM_PARAM_STR_MAX)
		return fail(e, "bad_request", "\"params\" value \"%s\" is longer than %d bytes", k,
			    BM_PARAM_STR_MAX);
	if (json_is_object(v) || json_is_array(v))
		return fail(e, "bad_request",
			    "\"params\" value \"%s\" must be a string, number, boolean or null", k);
	return 0;
}

static int parse_params(const char *key, json_t *v, struct bm_request *r, const struct perr *e)
{
	const char *k;
	json_t *pv;
	int err;

	if (!json_is_object(v))
		return fail(e, "bad_request", "\"%s\" must be an object", key);
	if (json_object_size(v) > BM_PARAMS_MAX)
		return fail(e, "bad_request", "\"%s\" has more than %d members", key,
			    BM_PARAMS_MAX);
	json_object_foreach(v, k, pv)
	{
		err = check_param(k, pv, e);
		if (err)
			return err;
	}
	r->params = json_incref(v);
	return 0;
}

static const struct member_desc member_table[] = {
	{ "session", M_SESSION, parse_session },
	{ "pid", M_PID, parse_pid },
	{ "name", M_NAME, parse_name },
	{ "repeat", M_REPEAT, parse_repeat },
	{ "params", M_PARAMS, parse_params },
	{ "group", M_GROUP, parse_group },
	{ "exe", M_EXE, parse_exe },
	{ "python_malloc", M_PYTHON_MALLOC, parse_python_malloc },
	{ "profile", M_PROFILE, parse_profile },
	{ "probe", M_PROBE, parse_probe },
	{ "context", M_CONTEXT, parse_context },
	{ "interval_ms", M_INTERVAL, parse_interval },
	{ "thread", M_THREAD, parse_thread },
	{ "sort", M_SORT, parse_sort },
	{ "kill_on_daemon_exit", M_KILL, parse_kill },
	{ "scope", M_SCOPE, parse_scope },
};

/* ---- ops --------------------------------------------------------------------------------- */

struct op_desc {
	const char *name;
	enum bm_op op;
	unsigned int required; /* besides "op" */
	unsigned int allowed;  /* includes required */
};

#define M_TARGET (M_SESSION | M_PID)

static const struct op_desc ops[] = {
	{ "hello", BM_OP_HELLO, 0, 0 },
	{ "launch", BM_OP_LAUNCH, M_PID | M_EXE | M_NAME,
	  M_PID | M_EXE | M_NAME | M_PYTHON_MALLOC | M_PROFILE | M_CONTEXT | M_PROBE | M_KILL |
		  M_SCOPE },
	{ "attach", BM_OP_ATTACH, M_PID, M_PID | M_PYTHON_MALLOC | M_PROFILE | M_CONTEXT | M_KILL },
	{ "start", BM_OP_START, M_NAME, M_NAME | M_REPEAT | M_PARAMS | M_GROUP | M_TARGET },
	{ "stop", BM_OP_STOP, M_NAME, M_NAME | M_REPEAT | M_TARGET },
	{ "status", BM_OP_STATUS, 0, 0 },
	{ "results", BM_OP_RESULTS, 0, M_TARGET },
	{ "detach", BM_OP_DETACH, 0, M_TARGET },
	{ "profile", BM_OP_PROFILE, M_NAME, M_NAME | M_REPEAT | M_TARGET },
	{ "watch", BM_OP_WATCH, 0, M_INTERVAL | M_SESSION | M_THREAD | M_SORT },
	{ "sessions", BM_OP_SESSIONS, 0, 0 },
	{ "scope", BM_OP_SCOPE, M_SCOPE, M_SCOPE | M_TARGET },
};

const char *proto_op_name(enum bm_op op)
{
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		if (ops[i].op == op)
			return ops[i].name;
	}
	return NULL;
}

static int find_op(json_t *doc, const struct op_desc **out, const struct perr *e)
{
	json_t *v = json_object_get(doc, "op");

	if (!v)
		return fail(e, "bad_request", "missing member \"op\"");
	if (!json_is_string(v))
		return fail(e, "bad_request", "\"op\" must be a string");
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		if (!strcmp(json_string_value(v), ops[i].name)) {
			*out = &ops[i];
			return 0;
		}
	}
	/* The unknown op is not echoed: it is untrusted and may be long or binary. */
	fail(e, "unknown_op", "unknown op; known:");
	for (size_t i = 0, n; i < ARRAY_SIZE(ops) && e->msglen; i++) {
		n = strlen(e->msg);
		snprintf(e->msg + n, e->msglen - n, " %s", ops[i].name);
	}
	return -EINVAL;
}

static const struct member_desc *find_member(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(member_table); i++) {
		if (!strcmp(key, member_table[i].key))
			return &member_table[i];
	}
	return NULL;
}

/* Runs every member of @doc through its parser; fails on members @op does not allow. */
static int parse_members(json_t *doc, const struct op_desc *op, struct bm_request *r,
			 const struct perr *e)
{
	const struct member_desc *m;
	unsigned int seen = 0;
	const char *key;
	json_t *v;
	int err;

	json_object_foreach(doc, key, v)
	{
		if (!strcmp(key, "op"))
			continue;
		m = find_member(key);
		if (!m || !(op->allowed & m->bit))
			return fail(e, "bad_request", "op \"%s\" takes no member \"%.64s\"",
				    op->name, key);
		err = m->parse(key, v, r, e);
		if (err)
			return err;
		seen |= m->bit;
	}
	for (size_t i = 0; i < ARRAY_SIZE(member_table); i++) {
		if ((op->required & member_table[i].bit) && !(seen & member_table[i].bit))
			return fail(e, "bad_request", "op \"%s\" needs member \"%s\"", op->name,
				    member_table[i].key);
	}
	if ((seen & M_TARGET) == M_TARGET)
		return fail(e, "bad_request", "give \"session\" or \"pid\", not both");
	return 0;
}

/* Strips the line terminator and rejects what JSON parsing must never see. */
static int check_line(const char *line, size_t *len, const struct perr *e)
{
	if (*len > BM_LINE_MAX)
		return fail(e, "too_long", "line exceeds %d bytes", BM_LINE_MAX);
	if (*len && line[*len - 1] == '\n')
		(*len)--;
	if (*len && line[*len - 1] == '\r')
		(*len)--;
	if (memchr(line, '\0', *len))
		return fail(e, "bad_json", "line contains a NUL byte");
	return 0;
}

int proto_parse_request(const char *line, size_t len, struct bm_request *out, const char **code,
			char *msg, size_t msglen)
{
	const struct perr e = { code, msg, msglen };
	const struct op_desc *op = NULL;
	json_error_t jerr;
	json_t *doc = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	err = check_line(line, &len, &e);
	if (err)
		return err;
	/* jansson rejects invalid UTF-8, "\u0000", integers beyond int64 and nesting deeper
	 * than 2048; JSON_REJECT_DUPLICATES closes the "which "pid" wins" ambiguity. */
	doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return fail(&e, "bad_json", "column %d: %s", jerr.column, jerr.text);
	if (!json_is_object(doc)) {
		err = fail(&e, "bad_json", "the line is not a JSON object");
		goto out;
	}
	err = find_op(doc, &op, &e);
	if (err)
		goto out;
	out->op = op->op;
	err = parse_members(doc, op, out, &e);
out:
	json_decref(doc);
	if (err)
		bm_request_release(out);
	return err;
}

void bm_request_release(struct bm_request *r)
{
	if (!r)
		return;
	json_decref(r->params);
	r->params = NULL;
	json_decref(r->context);
	r->context = NULL;
}

/* ---- replies ----------------------------------------------------------------------------- */

/* Dumps @doc compactly and appends "\n"; consumes nothing. NULL + errno on failure. */
static char *dump_line(const json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT);
	size_t n;
	char *line;

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

char *proto_format_error(const char *code, const char *msg)
{
	char clean[512];
	json_t *doc;
	char *line;
	size_t i;

	/* Messages may quote untrusted bytes; keep the reply printable ASCII and bounded. */
	for (i = 0; msg && msg[i] && i < sizeof(clean) - 1; i++)
		clean[i] = (msg[i] >= 0x20 && msg[i] < 0x7f) ? msg[i] : '?';
	clean[i] = '\0';
	doc = json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code ? code : "internal",
			"message", clean);
	if (!doc) {
		errno = ENOMEM;
		return NULL;
	}
	line = dump_line(doc);
	json_decref(doc);
	return line;
}

char *proto_format_ok(json_t *members)
{
	json_t *doc = NULL;
	char *line = NULL;

	if (members && (!json_is_object(members) || json_object_get(members, "ok"))) {
		errno = EINVAL;
		goto out;
	}
	doc = json_object();
	/* "ok" goes first: jansson keeps insertion order, and humans read replies with socat. */
	if (!doc || json_object_set_new(doc, "ok", json_true()) ||
	    (members && json_object_update(doc, members))) {
		errno = ENOMEM;
		goto out;
	}
	line = dump_line(doc);
out:
	json_decref(doc);
	json_decref(members);
	return line;
}
