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
		json_dumpf(json_object_get(reply, "sessions"), stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		print_table(json_object_get(reply, "sessions"));
	}
	json_decref(reply);
	return 0;
}

int ctl_raw(int argc, char **argv)
{
	const char *path = conn_socket_path();
	json_t *req, *reply;
	json_error_t jerr;
	char err[512];
	int fd, ret;

	if (argc != 2)
		return cli_err("benchmemctl raw", 2,
			       "want one JSON request, e.g. '{\"op\":\"hello\"}'");
	req = json_loads(argv[1], JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(req)) {
		json_decref(req);
		return cli_err("benchmemctl raw", 2, "not a JSON object: %s",
			       req ? "another JSON value" : jerr.text);
	}
	fd = conn_open(path, RAW_TIMEOUT_MS);
	if (fd < 0) {
		json_decref(req);
		return cli_err("benchmemctl raw", 3, "no collector at %s: %s", path, strerror(-fd));
	}
	reply = conn_request(fd, req, err, sizeof(err));
	json_decref(req);
	close(fd);
	if (!reply)
		return cli_err("benchmemctl raw", 3, "%s", err);
	/* the reply as the daemon sent it (one line), and 1 when it says ok:false */
	json_dumpf(reply, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	ret = json_is_true(json_object_get(reply, "ok")) ? 0 : 1;
	json_decref(reply);
	return ret;
}
