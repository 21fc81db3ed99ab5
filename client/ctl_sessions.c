// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_sessions.c — `benchmemctl sessions` (the daemon's finished sessions: owner, when,
 * command, result file) and `benchmemctl raw` (one protocol request as given, its reply as
 * received: the protocol by example without socat). */
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

int ctl_sessions(int argc, char **argv)
{
	bool as_json = false;
	json_t *reply;
	int code = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json"))
			return cli_err("benchmemctl sessions", 2,
				       argv[i][0] == '-' ? "unknown option '%s' (see --help)"
							 : "unexpected argument '%s'",
				       argv[i]);
		as_json = true;
	}
	reply = ctl_call("sessions", json_pack("{s:s}", "op", "sessions"), &code);
	if (!reply)
		return code;
	if (as_json) {
		json_dumpf(json_object_get(reply, "finished"), stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		print_table(json_object_get(reply, "finished"));
	}
	json_decref(reply);
	return 0;
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
