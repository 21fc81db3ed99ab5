// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_sessions.c — the daemon's sessions: `benchmemctl status` (the running ones),
 * `benchmemctl sessions` (the finished ones: owner, when, command, result file), and
 * `benchmemctl raw` (protocol requests as given, replies as received: no socat needed). */
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_err.h"
#include "conn.h"
#include "ctl.h"

#define RAW_TIMEOUT_MS 30000
#define CMD_SHOWN      40 /* characters of a command line in the table */

static const char *user_name(json_int_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid((uid_t)uid);

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%lld", (long long)uid);
	return buf;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void print_table(const json_t *list)
{
	const json_t *e;
	char user[64];
	size_t i;

	if (!json_array_size(list)) {
		printf("no finished sessions (the daemon lists those since it started)\n");
		return;
	}
	printf("%-8s %-10s %-20s %8s %-10s %7s  %-*s  %s\n", "session", "owner", "started (UTC)",
	       "seconds", "end", "regions", CMD_SHOWN, "command", "result");
	json_array_foreach(list, i, e)
	{
		const char *cmd = str(e, "command");
		int n = (int)strlen(cmd);

		printf("%-8lld %-10s %-20.19s %8.2f %-10s %7lld  %-*.*s%s  %s\n",
		       (long long)json_integer_value(json_object_get(e, "session")),
		       user_name(json_integer_value(json_object_get(e, "uid")), user, sizeof(user)),
		       str(e, "started"), json_number_value(json_object_get(e, "seconds")),
		       str(e, "end"), (long long)json_integer_value(json_object_get(e, "regions")),
		       n > CMD_SHOWN ? CMD_SHOWN - 3 : CMD_SHOWN,
		       n > CMD_SHOWN ? CMD_SHOWN - 3 : CMD_SHOWN, cmd, n > CMD_SHOWN ? "..." : "",
		       str(e, "result"));
	}
}

/* The user's regions of a status entry, joined ("a, b"; "-" when none): the command region
 * (benchmem-run's implicit one around the whole command) has its own column. */
static void user_regions(const json_t *s, char *buf, size_t len)
{
	const char *whole = json_string_value(json_object_get(s, "command_region"));
	const json_t *r;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(s, "open_regions"), i, r)
	{
		const char *name = json_string_value(r);

		if (!name || (whole && !strcmp(name, whole)) || n >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void print_status(const json_t *reply)
{
	const json_t *s;
	char user[64], open[1024];
	size_t i;

	printf("%-8s %-8s %-10s %9s %7s  %-24s %s\n", "session", "pid", "owner", "processes",
	       "closed", "command region", "open regions");
	json_array_foreach(json_object_get(reply, "sessions"), i, s)
	{
		user_regions(s, open, sizeof(open));
		printf("%-8lld %-8lld %-10s %9lld %7lld  %-24s %s\n",
		       (long long)json_integer_value(json_object_get(s, "session")),
		       (long long)json_integer_value(json_object_get(s, "root_pid")),
		       user_name(json_integer_value(json_object_get(s, "uid")), user, sizeof(user)),
		       (long long)json_integer_value(json_object_get(s, "processes")),
		       (long long)json_integer_value(json_object_get(s, "closed_regions")),
		       str(s, "command_region"), open);
	}
	printf("%zu session(s), %lld client(s), %lld lost event(s)\n",
	       json_array_size(json_object_get(reply, "sessions")),
	       (long long)json_integer_value(json_object_get(reply, "clients")),
	       (long long)json_integer_value(json_object_get(reply, "lost_events")));
}

/* status and sessions: [--json], no argument; the table, or the reply's @member as JSON. */
static int list(int argc, char **argv, const char *op, const char *member,
		void (*print)(const json_t *reply))
{
	char prog[48];
	bool as_json = false;
	json_t *reply;
	int code = 0;

	snprintf(prog, sizeof(prog), "benchmemctl %s", op);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json"))
			return cli_err(prog, 2,
				       argv[i][0] == '-' ? "unknown option '%s' (see --help)"
							 : "unexpected argument '%s'",
				       argv[i]);
		as_json = true;
	}
	reply = ctl_call(op, json_pack("{s:s}", "op", op), &code);
	if (!reply)
		return code;
	if (as_json) {
		json_object_del(reply, "ok");
		json_dumpf(member ? json_object_get(reply, member) : reply, stdout,
			   JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		print(reply);
	}
	json_decref(reply);
	return 0;
}

static void print_finished(const json_t *reply)
{
	print_table(json_object_get(reply, "finished"));
}

int ctl_sessions(int argc, char **argv)
{
	return list(argc, argv, "sessions", "finished", print_finished);
}

int ctl_status(int argc, char **argv)
{
	return list(argc, argv, "status", NULL, print_status);
}

/* One request line of the command line: a JSON object, else NULL after printing why. */
static json_t *raw_request(const char *arg)
{
	json_error_t jerr;
	json_t *req = json_loads(arg, JSON_REJECT_DUPLICATES, &jerr);

	if (json_is_object(req))
		return req;
	cli_err("benchmemctl raw", 2, "'%s': not a JSON object: %s", arg,
		req ? "another JSON value" : jerr.text);
	json_decref(req);
	return NULL;
}

int ctl_raw(int argc, char **argv)
{
	const char *path = conn_socket_path();
	char err[512];
	int fd, ret = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		printf("usage: benchmemctl raw 'JSON-REQUEST'...\n"
		       "Sends each request on one connection, prints each reply line as received;\n"
		       "exits 1 when a reply says ok:false. Example: benchmemctl raw "
		       "'{\"op\":\"hello\"}'\n");
		return argc < 2 ? 2 : 0;
	}
	fd = conn_open(path, RAW_TIMEOUT_MS);
	if (fd < 0)
		return cli_err("benchmemctl raw", 3, "no collector at %s: %s", path, strerror(-fd));
	for (int i = 1; i < argc && ret < 2; i++) {
		json_t *req = raw_request(argv[i]), *reply;

		if (!req) {
			ret = 2;
			break;
		}
		reply = conn_request(fd, req, err, sizeof(err));
		json_decref(req);
		if (!reply) {
			ret = cli_err("benchmemctl raw", 3, "%s", err);
			break;
		}
		/* the reply as the daemon sent it (one line); 1 when one says ok:false */
		json_dumpf(reply, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		if (!json_is_true(json_object_get(reply, "ok")))
			ret = 1;
		json_decref(reply);
	}
	close(fd);
	return ret;
}
