// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_region.c — benchmemctl's socket subcommands: start, stop, attach, detach,
 * results, profile. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_err.h"
#include "conn.h"
#include "ctl.h"
#include "jsonutil.h"
#include "table.h"
#include "units.h"

#define CTL_TIMEOUT_MS 30000

struct ctl_args {
	const char *name;
	const char *out;
	json_t *params;
	int64_t pid;
	int64_t repeat;
	bool json;
	bool kill_on_exit; /* attach --kill-on-daemon-exit */
};

/* "benchmemctl CMD: error: ..." through the one printer (cli_err); returns @code. */
static int fail(const char *cmd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const char *cmd, int code, const char *fmt, ...)
{
	char prog[48], msg[1024];
	va_list ap;

	snprintf(prog, sizeof(prog), "benchmemctl %s", cmd);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_err(prog, code, "%s", msg);
}

/* Shared option parsing: --pid, --repeat, --param K=V, --json, -o FILE,
 * --kill-on-daemon-exit (attach only); one positional. */
static int parse(const char *cmd, int argc, char **argv, struct ctl_args *a, bool want_name)
{
	static const struct option opts[] = { { "pid", required_argument, NULL, 'p' },
					      { "repeat", required_argument, NULL, 'r' },
					      { "param", required_argument, NULL, 'P' },
					      { "json", no_argument, NULL, 'j' },
					      { "output", required_argument, NULL, 'o' },
					      { "kill-on-daemon-exit", no_argument, NULL, 'K' },
					      { 0 } };
	uint64_t v;
	char *eq;
	int o;

	memset(a, 0, sizeof(*a));
	a->pid = a->repeat = -1;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (units_parse_u64(optarg, 0x7fffffff, &v) || !v)
				return fail(cmd, 2, "--pid %s: not a pid", optarg);
			a->pid = (int64_t)v;
			break;
		case 'r':
			if (units_parse_u64(optarg, 1000000, &v))
				return fail(cmd, 2, "--repeat %s: not a number 0..1000000", optarg);
			a->repeat = (int64_t)v;
			break;
		case 'P':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return fail(cmd, 2, "--param %s: want KEY=VALUE", optarg);
			*eq = '\0';
			if (!a->params)
				a->params = json_object();
			json_object_set_new(a->params, optarg, json_string(eq + 1));
			break;
		case 'j':
			a->json = true;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'K':
			if (strcmp(cmd, "attach"))
				return fail(cmd, 2, "%s",
					    "--kill-on-daemon-exit is an option of attach");
			a->kill_on_exit = true;
			break;
		default: {
			char prog[48];

			snprintf(prog, sizeof(prog), "benchmemctl %s", cmd);
			return cli_bad_option(prog, o, argv);
		}
		}
	}
	if (want_name && optind != argc - 1)
		return fail(cmd, 2, "%s", "want exactly one NAME (see benchmemctl --help)");
	if (!want_name && optind != argc)
		return fail(cmd, 2, "unexpected argument '%s'", argv[optind]);
	a->name = want_name ? argv[optind] : NULL;
	return 0;
}

json_t *ctl_call(const char *cmd, json_t *req, int *code)
{
	const char *path = conn_socket_path();
	char err[512];
	json_t *reply;
	int fd = conn_open(path, CTL_TIMEOUT_MS);

	if (fd < 0) {
		fail(cmd, 0, "no collector at %s: %s (start benchmemd, or run under benchmem-run)",
		     path, strerror(-fd));
		json_decref(req);
		*code = 3;
		return NULL;
	}
	reply = conn_request(fd, req, err, sizeof(err));
	json_decref(req);
	close(fd);
	if (!reply) {
		fail(cmd, 0, "%s", err);
		*code = 3;
		return NULL;
	}
	if (conn_error(reply, err, sizeof(err))) {
		fail(cmd, 0, "%s", err);
		json_decref(reply);
		*code = 1;
		return NULL;
	}
	return reply;
}

static json_t *request(const char *op, const struct ctl_args *a)
{
	json_t *req = json_pack("{s:s}", "op", op);

	if (a->name)
		json_object_set_new(req, "name", json_string(a->name));
	if (a->pid > 0)
		json_object_set_new(req, "pid", json_integer(a->pid));
	if (a->repeat >= 0)
		json_object_set_new(req, "repeat", json_integer(a->repeat));
	if (a->params)
		json_object_set(req, "params", a->params);
	if (a->kill_on_exit)
		json_object_set_new(req, "kill_on_daemon_exit", json_true());
	return req;
}

static int print_reply(json_t *reply, bool as_json)
{
	json_object_del(reply, "ok");
	if (as_json) {
		json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	}
	json_decref(reply);
	return 0;
}

int ctl_start(int argc, char **argv)
{
	struct ctl_args a;
	json_t *reply;
	int code = parse("start", argc, argv, &a, true);

	if (code)
		return code;
	reply = ctl_call("start", request("start", &a), &code);
	json_decref(a.params);
	return reply ? print_reply(reply, a.json) : code;
}

int ctl_stop(int argc, char **argv)
{
	struct ctl_args a;
	json_t *reply;
	char b1[32], b2[32];
	int code = parse("stop", argc, argv, &a, true);

	if (code)
		return code;
	reply = ctl_call("stop", request("stop", &a), &code);
	if (!reply)
		return code;
	if (!a.json) {
		printf("%s: peak %s, allocated %s, %lld allocations\n", a.name,
		       units_format_bytes(
			       (uint64_t)json_integer_value(json_object_get(reply, "peak_bytes")),
			       b1, sizeof(b1)),
		       units_format_bytes(
			       (uint64_t)json_integer_value(json_object_get(reply, "total_bytes")),
			       b2, sizeof(b2)),
		       (long long)json_integer_value(json_object_get(reply, "allocations")));
	}
	return print_reply(reply, a.json);
}

int ctl_attach(int argc, char **argv)
{
	struct ctl_args a;
	json_t *reply;
	uint64_t pid;
	int code = parse("attach", argc, argv, &a, true);

	if (code)
		return code;
	if (units_parse_u64(a.name, 0x7fffffff, &pid) || !pid)
		return fail("attach", 2, "'%s' is not a pid", a.name);
	a.name = NULL;
	a.pid = (int64_t)pid;
	reply = ctl_call("attach", request("attach", &a), &code);
	if (!reply)
		return code;
	if (!a.json)
		printf("session %lld\n",
		       (long long)json_integer_value(json_object_get(reply, "session")));
	return print_reply(reply, a.json);
}

int ctl_detach(int argc, char **argv)
{
	struct ctl_args a;
	json_t *reply;
	int code = parse("detach", argc, argv, &a, false);

	if (code)
		return code;
	reply = ctl_call("detach", request("detach", &a), &code);
	return reply ? print_reply(reply, a.json) : code;
}

int ctl_results(int argc, char **argv)
{
	struct ctl_args a;
	json_t *reply, *doc;
	int code = parse("results", argc, argv, &a, false), err;

	if (code)
		return code;
	reply = ctl_call("results", request("results", &a), &code);
	if (!reply)
		return code;
	doc = json_object_get(reply, "result");
	if (a.out) {
		err = jsonutil_write_file(doc, a.out);
		if (err) {
			json_decref(reply);
			return fail("results", 2, "cannot write the result file: %s",
				    strerror(-err));
		}
	}
	if (a.json) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else if (!a.out) {
		table_print(stdout, doc, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	}
	json_decref(reply);
	return 0;
}

int ctl_profile(int argc, char **argv)
{
	struct ctl_args a;
	json_t *reply;
	int code = parse("profile", argc, argv, &a, true);

	if (code)
		return code;
	reply = ctl_call("profile", request("profile", &a), &code);
	if (!reply)
		return code;
	if (!a.json)
		printf("%s\n", json_string_value(json_object_get(reply, "path")));
	return print_reply(reply, a.json);
}
