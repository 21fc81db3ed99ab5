// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/benchmem-run.c — runs a command under tracing: connect to benchmemd or embed a
 * collector, launch, print the table, write the result file, exit with the command's status. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "embedded.h"
#include "jsonutil.h"
#include "launch.h"
#include "log.h"
#include "proto.h"
#include "results.h"
#include "table.h"

#define RUN_TIMEOUT_MS 60000

struct run_opts {
	const char *json_path;
	const char *name;
	const char *socket;
	bool python_malloc;
	bool embedded_only;
	bool quiet;
	bool stacks;
	char **argv;
	char exe[PATH_MAX]; /* argv[0] resolved through $PATH */
};

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("benchmem-run: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: benchmem-run [--json FILE] [--name NAME] [--python-malloc] [--socket PATH]\n"
		"                    [--embedded] [--stacks] [--quiet] -- CMD [ARGS...]\n"
		"Traces CMD's allocations (peak, total, count, rss) and prints a table to stderr.\n"
		"Without explicit regions the whole command is one region named NAME (default: the\n"
		"command's basename). Talks to benchmemd at $BENCHMEM_SOCKET or %s when it\n"
		"listens, else runs a collector itself (needs root: CAP_BPF and CAP_PERFMON).\n",
		CONN_DEFAULT_SOCKET);
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "json", required_argument, NULL, 'j' }, { "name", required_argument, NULL, 'n' },
		{ "python-malloc", no_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' }, { "embedded", no_argument, NULL, 'e' },
		{ "stacks", no_argument, NULL, 'k' },	    { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },	    { 0 }
	};
	int c;

	/* "+": stop at the first non-option, so CMD's own options stay CMD's */
	while ((c = getopt_long(argc, argv, "+hqj:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json_path = optarg; break;
		case 'n': o->name = optarg; break;
		case 'p': o->python_malloc = true; break;
		case 's': o->socket = optarg; break;
		case 'e': o->embedded_only = true; break;
		case 'k': o->stacks = true; break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind >= argc) {
		fail(2, "no command given (usage: benchmem-run [OPTIONS] -- CMD [ARGS...])");
		return -EINVAL;
	}
	o->argv = &argv[optind];
	if (!o->name)
		o->name = basename(o->argv[0]);
	if (!proto_is_valid_name(o->name)) {
		fail(2, "--name '%s': use 1-128 characters from A-Z a-z 0-9 . _ : / [ ] = , + -",
		     o->name);
		return -EINVAL;
	}
	return 0;
}

/* The command line as one string, for the result file. */
static void join_argv(char *const argv[], char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && n + 1 < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", argv[i]);
}

/* The pytest plugin and the Python client ship beside the binary (build tree or install). */
static void export_python_client(void)
{
	static const char *const rel[] = { "../client/python", "../lib/benchmem/python" };
	char exe[PATH_MAX], dir[PATH_MAX + 64], env[3 * PATH_MAX];
	const char *old = getenv("PYTHONPATH"), *addopts = getenv("PYTEST_ADDOPTS");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return;
	exe[n] = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s/benchmem", dirname(strdupa(exe)), rel[i]);
		if (access(dir, R_OK))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", dirname(strdupa(exe)), rel[i]);
		snprintf(env, sizeof(env), "%s%s%s", dir, old && *old ? ":" : "", old ? old : "");
		setenv("PYTHONPATH", env, 1);
		break;
	}
	if (!addopts || !strstr(addopts, "benchmem.pytest_plugin")) {
		snprintf(env, sizeof(env), "%s%s-p benchmem.pytest_plugin", addopts ? addopts : "",
			 addopts && *addopts ? " " : "");
		setenv("PYTEST_ADDOPTS", env, 1);
	}
}

static pid_t forward_to;

static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* a terminal's ^C already reached the whole process group */
	if (forward_to > 0 && si->si_pid)
		kill(forward_to, sig);
}

/* Daemon mode: the service traces, we launch, wait and fetch the results. */
static int run_with_daemon(int fd, struct run_opts *o, int *status, json_t **doc)
{
	struct sigaction sa = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct launch l;
	char err[512];
	json_t *reply, *req;
	json_int_t session;
	int e;

	e = launch_prepare(&l, o->argv);
	if (e)
		return fail(2, "cannot fork: %s", strerror(-e));
	req = json_pack("{s:s, s:i, s:s, s:s, s:b}", "op", "launch", "pid", (int)l.pid, "name",
			o->name, "exe", o->exe, "python_malloc", o->python_malloc);
	reply = conn_request(fd, req, err, sizeof(err));
	json_decref(req);
	if (!reply || conn_error(reply, err, sizeof(err))) {
		json_decref(reply);
		launch_abort(&l);
		return fail(2, "benchmemd refused to trace: %s", err);
	}
	session = json_integer_value(json_object_get(reply, "session"));
	json_decref(reply);
	forward_to = l.pid;
	for (int s = 1; s < NSIG; s++) {
		if (s != SIGCHLD && s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS &&
		    s != SIGILL && s != SIGFPE && s != SIGABRT && s < SIGRTMIN)
			sigaction(s, &sa, NULL);
	}
	e = launch_release(&l);
	while (waitpid(l.pid, status, 0) < 0 && errno == EINTR)
		;
	if (e)
		return fail(127, "cannot run '%s': %s", o->argv[0], strerror(-e));
	/* the daemon keeps the ended session while this connection lives */
	req = json_pack("{s:s, s:I}", "op", "results", "session", session);
	reply = conn_request(fd, req, err, sizeof(err));
	json_decref(req);
	if (!reply || conn_error(reply, err, sizeof(err))) {
		json_decref(reply);
		return fail(2, "cannot fetch the results: %s", err);
	}
	*doc = json_incref(json_object_get(reply, "result"));
	json_decref(reply);
	return 0;
}

static int run_embedded(struct run_opts *o, const char *command, int *status, json_t **doc)
{
	struct embedded *e;
	struct launch l;
	char err[512];
	int r;

	e = embedded__new(o->stacks, err, sizeof(err));
	if (!e)
		return fail(2, "%s", err);
	r = launch_prepare(&l, o->argv);
	if (r) {
		embedded__free(e);
		return fail(2, "cannot fork: %s", strerror(-r));
	}
	r = embedded__run(e, &l, o->name, command, o->python_malloc, status, doc, err,
			  sizeof(err));
	embedded__free(e);
	if (r == -ENOENT || r == -EACCES)
		return fail(r == -ENOENT ? 127 : 126, "%s", err);
	if (r)
		return fail(2, "%s", err);
	return 0;
}

int main(int argc, char **argv)
{
	struct run_opts o = { 0 };
	char command[4096];
	json_t *doc = NULL;
	int status = 0, code, fd = -1, e;

	if (parse_args(argc, argv, &o))
		return 2;
	log_setup("benchmem-run", getenv("BENCHMEM_DEBUG") ? BM_LOG_DEBUG : BM_LOG_WARNING);
	e = launch_check(o.argv[0], o.exe);
	if (e == -ENOENT)
		return fail(127, "cannot run '%s': command not found", o.argv[0]);
	if (e)
		return fail(126, "cannot run '%s': %s", o.argv[0], strerror(-e));
	join_argv(o.argv, command, sizeof(command));
	if (o.python_malloc)
		setenv("PYTHONMALLOC", "malloc", 1);
	export_python_client();
	if (o.socket)
		setenv("BENCHMEM_SOCKET", o.socket, 1);
	if (!o.embedded_only)
		fd = conn_open(conn_socket_path(), RUN_TIMEOUT_MS);
	if (o.socket && fd < 0)
		return fail(2, "no benchmemd at %s: %s", o.socket, strerror(-fd));
	if (fd >= 0)
		code = run_with_daemon(fd, &o, &status, &doc);
	else
		code = run_embedded(&o, command, &status, &doc);
	if (fd >= 0)
		close(fd);
	if (code)
		return code;
	if (!o.quiet)
		table_print(stderr, doc, isatty(STDERR_FILENO) && !getenv("NO_COLOR"));
	if (o.json_path) {
		e = results_write(doc, o.json_path);
		if (e) {
			json_decref(doc);
			return fail(2, "cannot write %s: %s", o.json_path, strerror(-e));
		}
	}
	json_decref(doc);
	return launch_exit_code(status);
}
