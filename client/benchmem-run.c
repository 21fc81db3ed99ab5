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

#include "cli_err.h"
#include "conn.h"
#include "context.h"
#include "embedded.h"
#include "gate.h"
#include "hookpath.h"
#include "jsonutil.h"
#include "launch.h"
#include "log.h"
#include "names.h"
#include "table.h"
#include "units.h"

#define RUN_TIMEOUT_MS 60000
#define PROG	       "benchmem-run" /* the prefix of diagnostics */

enum profile_mode { PROFILE_DEFAULT, PROFILE_NONE, PROFILE_REGRESSED, PROFILE_ALL };
enum probe_mode { PROBE_AUTO, PROBE_HOOK, PROBE_UPROBES };

struct run_opts {
	const char *json_path;
	const char *name;
	const char *socket;
	const char *profile_dir;
	enum profile_mode profile;
	const char *baseline; /* a result file or a .benchmarks directory; NULL: none */
	json_t *context;      /* commit_info/machine_info of our working directory, or NULL */
	struct gate_opts gate;
	bool gating; /* rules or ceilings given */
	bool python_malloc;
	bool embedded_only;
	bool kill_on_exit; /* --kill-on-daemon-exit */
	bool quiet;
	enum probe_mode probe;
	bool hook;	   /* the command preloads the hook (the choice made from probe) */
	bool region_scope; /* --scope regions: nothing traced outside the command's regions */
	char **argv;
	char exe[PATH_MAX]; /* argv[0] resolved through $PATH */
};

/* One line per option: --help prints them, docs/man/benchmem-run.1 lists them (a test checks
 * that every option here appears there). */
static const struct {
	const char *opt, *help;
} opt_help[] = {
	{ "-j, --json FILE", "write the result document (pytest-benchmark JSON) to FILE" },
	{ "-n, --name NAME", "name of the whole-command region (default: CMD's basename)" },
	{ "    --python-malloc", "run a Python CMD with PYTHONMALLOC=malloc (exact, slower)" },
	{ "    --socket PATH",
	  "the collector's socket (default: $BENCHMEM_SOCKET, else " CONN_DEFAULT_SOCKET ")" },
	{ "    --embedded", "never use a daemon: run a collector in this process (root)" },
	{ "-q, --quiet", "print no table" },
	{ "    --baseline FILE", "compare with FILE (a result file or a .benchmarks directory)" },
	{ "    --fail-on F:T", "exit 1 when field F grows beyond T (peak:10%, allocations:+100)" },
	{ "    --max-peak SIZE", "exit 1 when a region's peak exceeds SIZE (64MiB)" },
	{ "    --max-allocated SIZE", "exit 1 when a region allocates more than SIZE in all" },
	{ "    --max-allocations N", "exit 1 when a region makes more than N allocations" },
	{ "    --profile MODE", "all, regressed or none: which regions get a memray profile" },
	{ "    --profile-dir DIR", "where the profiles (.bin) go" },
	{ "    --probe MODE",
	  "auto, hook or uprobes: preload the in-process hook (docs/hook.md) or use uprobes" },
	{ "    --scope MODE",
	  "command (default) or regions: trace only while CMD has a region open (docs/hook.md)" },
	{ "    --kill-on-daemon-exit",
	  "kill CMD if benchmemd stops or dies (default: it runs on, untraced)" },
	{ "-h, --help", "print this help and exit" },
	{ "-V, --version", "print the version and exit" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: benchmem-run [OPTIONS] -- CMD [ARGS...]\n"
		"Traces CMD's allocations (peak, total, count, rss) and prints a table to stderr.\n"
		"Without explicit regions the whole command is one region. Talks to benchmemd\n"
		"when it listens, else runs a collector itself (needs root: CAP_BPF and\n"
		"CAP_PERFMON). A regression or a ceiling exceeded exits 1.\n\noptions:\n");
	for (size_t i = 0; i < ARRAY_SIZE(opt_help); i++)
		fprintf(f, "  %-26s %s\n", opt_help[i].opt, opt_help[i].help);
}

/* The gate and profile options; one-line errors. Returns 0 or -EINVAL. */
static int take_gate_option(struct run_opts *o, int c, const char *arg)
{
	static const char *const modes[] = {
		[PROFILE_NONE] = "none", [PROFILE_REGRESSED] = "regressed", [PROFILE_ALL] = "all"
	};
	char err[256];

	if (c == 'P') {
		for (size_t m = PROFILE_NONE; m < ARRAY_SIZE(modes); m++) {
			if (!strcmp(arg, modes[m])) {
				o->profile = (enum profile_mode)m;
				return 0;
			}
		}
		return cli_err(PROG, -EINVAL, "--profile %s: want all, regressed or none", arg);
	}
	if (c == 'F'
		    ? gate_add_rule(&o->gate, arg, err, sizeof(err))
		    : gate_set_ceiling(&o->gate, (enum cmp_field)(c - 1000), arg, err, sizeof(err)))
		return cli_err(PROG, -EINVAL, "%s", err);
	o->gating = true;
	return 0;
}

/* The directory --json writes into must exist and be writable before the run starts. */
static int json_dir_check(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((n = snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path)) == 0)
		snprintf(dir, sizeof(dir), "/");
	if (access(dir, W_OK | X_OK)) {
		int err = -errno;

		cli_err(PROG, 2, "--json %s: directory %s: %s", path, dir, strerror(-err));
		return err;
	}
	return 0;
}

/* Checks what the options say together, and names the whole-run region. */
static int finish_args(int argc, char **argv, struct run_opts *o)
{
	if (optind >= argc) {
		cli_err(PROG, 2,
			"no command given (usage: benchmem-run [OPTIONS] -- CMD [ARGS...])");
		return -EINVAL;
	}
	if (o->gate.nr_rules && !o->baseline) {
		cli_err(PROG, 2,
			"--fail-on needs --baseline FILE (a result file or a .benchmarks "
			"directory)");
		return -EINVAL;
	}
	/* checked before the run, not after it: a typo must not cost a whole benchmark run */
	if (o->baseline && access(o->baseline, R_OK)) {
		cli_err(PROG, 2, "--baseline %s: %s", o->baseline, strerror(errno));
		return -EINVAL;
	}
	if (o->json_path && json_dir_check(o->json_path))
		return -EINVAL;
	o->argv = &argv[optind];
	if (!o->name)
		o->name = basename(o->argv[0]);
	if (!names_is_valid(o->name)) {
		cli_err(PROG, 2,
			"--name '%s': use 1-128 characters from A-Z a-z 0-9 . _ : / [ ] = , + -",
			o->name);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "name", required_argument, NULL, 'n' },
		{ "python-malloc", no_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "embedded", no_argument, NULL, 'e' },
		{ "kill-on-daemon-exit", no_argument, NULL, 'K' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "baseline", required_argument, NULL, 'B' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "max-peak", required_argument, NULL, 1000 + CMP_PEAK },
		{ "max-allocated", required_argument, NULL, 1000 + CMP_ALLOCATED },
		{ "max-allocations", required_argument, NULL, 1000 + CMP_ALLOCATIONS },
		{ "profile", required_argument, NULL, 'P' },
		{ "profile-dir", required_argument, NULL, 'D' },
		{ "probe", required_argument, NULL, 'R' },
		{ "scope", required_argument, NULL, 'S' },
		{ 0 }
	};
	int c;

	gate_init(&o->gate);
	opterr = 0;
	/* "+": stop at the first non-option, so CMD's own options stay CMD's */
	while ((c = getopt_long(argc, argv, "+:hqVj:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json_path = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'p':
			o->python_malloc = true;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'e':
			o->embedded_only = true;
			break;
		case 'K':
			o->kill_on_exit = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'B':
			o->baseline = optarg;
			break;
		case 'D':
			o->profile_dir = optarg;
			break;
		case 'R':
			if (strcmp(optarg, "auto") && strcmp(optarg, "hook") &&
			    strcmp(optarg, "uprobes"))
				return cli_err(PROG, 2, "--probe %s: want auto, hook or uprobes",
					       optarg),
				       -EINVAL;
			o->probe = optarg[0] == 'a'   ? PROBE_AUTO
				   : optarg[0] == 'h' ? PROBE_HOOK
						      : PROBE_UPROBES;
			break;
		case 'S':
			if (strcmp(optarg, "command") && strcmp(optarg, "regions"))
				return cli_err(PROG, 2, "--scope %s: want command or regions",
					       optarg),
				       -EINVAL;
			o->region_scope = optarg[0] == 'r';
			break;
		case 'P':
		case 'F':
		case 1000 + CMP_PEAK:
		case 1000 + CMP_ALLOCATED:
		case 1000 + CMP_ALLOCATIONS:
			if (take_gate_option(o, c, optarg))
				return -EINVAL;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			exit(cli_version(PROG));
		default:
			cli_bad_option(PROG, c, argv);
			return -EINVAL;
		}
	}
	return finish_args(argc, argv, o);
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

	/* the pytest plugin asks for region scope under benchmem-run only (docs/hook.md) */
	setenv("BENCHMEM_RUN", "1", 1);
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

static bool wants_profiles(const struct run_opts *o)
{
	return o->profile == PROFILE_ALL || (o->gating && o->profile != PROFILE_NONE);
}

/* --probe: the hook where the command can preload it (docs/hook.md), else uprobes. The
 * hook goes first in LD_PRELOAD, so an allocator the user preloads (jemalloc) is the one it
 * forwards to. Profiles need a stack per event: one probe hit per call then. */
static void choose_probe(struct run_opts *o)
{
	char hook[PATH_MAX], env[3 * PATH_MAX];
	const char *old = getenv("LD_PRELOAD");
	bool found = o->probe != PROBE_UPROBES && !hook_library_path(hook, sizeof(hook));

	o->hook = found && hook_can_preload(o->exe);
	if (o->probe == PROBE_HOOK && !o->hook)
		fprintf(stderr, PROG ": warning: --probe hook: %s; traced with uprobes\n",
			found ? "the command is statically linked or set-user-ID"
			      : HOOK_LIBRARY " not found beside " PROG);
	if (!o->hook)
		return;
	snprintf(env, sizeof(env), "%s%s%s", hook, old && *old ? ":" : "", old ? old : "");
	setenv("LD_PRELOAD", env, 1);
	if (wants_profiles(o))
		setenv("BENCHMEM_HOOK_TRANSPORT", "call", 1);
}

static pid_t forward_to;

static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* a terminal's ^C already reached the whole process group */
	if (forward_to > 0 && si->si_pid)
		kill(forward_to, sig);
}

/* Where the run is traced: a daemon over the socket, or our own embedded collector. */
struct backend {
	int fd;		      /* >= 0: daemon connection */
	json_int_t session;   /* the daemon's session of our command */
	struct embedded *emb; /* else */
};

/* commit_info and machine_info of our working directory: git runs here, as the user who ran
 * us, never in the daemon. NULL (results then say null) when it does not fit the protocol. */
static json_t *user_context(void)
{
	json_t *ctx = context_collect(NULL);
	char why[160];

	if (ctx && context_check(ctx, why, sizeof(why))) {
		cli_warn(PROG, "commit_info/machine_info left out: %s", why);
		json_decref(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Daemon mode: the service traces, we launch and wait. */
static int run_with_daemon(struct backend *b, struct run_opts *o, int *status)
{
	struct sigaction sa = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct launch l;
	char err[512];
	json_t *reply, *req;
	int e;

	e = launch_prepare(&l, o->argv);
	if (e)
		return cli_err(PROG, 2, "cannot fork: %s", strerror(-e));
	req = json_pack("{s:s, s:i, s:s, s:s, s:b, s:b, s:O?, s:s}", "op", "launch", "pid",
			(int)l.pid, "name", o->name, "exe", o->exe, "python_malloc",
			o->python_malloc, "profile", wants_profiles(o), "context", o->context,
			"probe", o->hook ? "hook" : "uprobes");
	if (req && o->kill_on_exit)
		json_object_set_new(req, "kill_on_daemon_exit", json_true());
	if (req && o->region_scope) /* absent: an older daemon knows no scope */
		json_object_set_new(req, "scope", json_string("regions"));
	reply = conn_request(b->fd, req, err, sizeof(err));
	json_decref(req);
	if (!reply || conn_error(reply, err, sizeof(err))) {
		json_decref(reply);
		launch_abort(&l);
		return cli_err(PROG, 2, "benchmemd refused to trace: %s", err);
	}
	b->session = json_integer_value(json_object_get(reply, "session"));
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
		return cli_err(PROG, 127, "cannot run '%s': %s", o->argv[0], strerror(-e));
	return 0;
}

static int run_embedded(struct backend *b, struct run_opts *o, const char *command, int *status)
{
	struct launch l;
	char err[512];
	int r;

	b->emb = embedded__new(wants_profiles(o), o->profile_dir, err, sizeof(err));
	if (!b->emb)
		return cli_err(PROG, 2, "%s", err);
	r = launch_prepare(&l, o->argv);
	if (r)
		return cli_err(PROG, 2, "cannot fork: %s", strerror(-r));
	r = embedded__run(b->emb, &l, o->name, command, o->python_malloc, o->hook, o->region_scope,
			  o->context, status, err, sizeof(err));
	if (r == -ENOENT || r == -EACCES)
		return cli_err(PROG, r == -ENOENT ? 127 : 126, "%s", err);
	if (r)
		return cli_err(PROG, 2, "%s", err);
	return 0;
}

/* The result document (new reference), or NULL after printing why. */
static json_t *fetch_results(struct backend *b)
{
	char err[512];
	json_t *req, *reply, *doc;

	if (b->emb) {
		doc = embedded__results(b->emb);
		if (!doc)
			cli_err(PROG, 2, "cannot build the results: %s", strerror(errno));
		return doc;
	}
	/* the daemon keeps the ended session while this connection lives */
	req = json_pack("{s:s, s:I}", "op", "results", "session", b->session);
	reply = conn_request(b->fd, req, err, sizeof(err));
	json_decref(req);
	if (!reply || conn_error(reply, err, sizeof(err))) {
		json_decref(reply);
		cli_err(PROG, 2, "cannot fetch the results: %s", err);
		return NULL;
	}
	doc = json_incref(json_object_get(reply, "result"));
	json_decref(reply);
	return doc;
}

/* Asks the collector for region @name's .bin; prints the path or why not. */
static void write_profile(struct backend *b, const char *name)
{
	char err[512];
	const char *path = NULL;
	json_t *req, *reply = NULL;

	if (b->emb) {
		path = embedded__profile(b->emb, name, err, sizeof(err));
	} else {
		req = json_pack("{s:s, s:I, s:s}", "op", "profile", "session", b->session, "name",
				name);
		reply = conn_request(b->fd, req, err, sizeof(err));
		json_decref(req);
		if (reply && !conn_error(reply, err, sizeof(err)))
			path = json_string_value(json_object_get(reply, "path"));
	}
	if (path)
		fprintf(stderr, "benchmem-run: profile of %s: %s (memray flamegraph %s)\n", name,
			path, path);
	else
		cli_warn(PROG, "no profile of %s: %s", name, err);
	json_decref(reply);
}

/* lib/gate over this run's document and the newest run of the baseline (a file or a storage
 * directory). Returns 0 or -errno with a one-line reason in @err. */
static int gate_doc(const struct run_opts *o, json_t *doc, struct gate_hit **hits, size_t *n,
		    char *err, size_t errlen)
{
	struct run *cur = run__from_doc(doc, "this run", err, errlen);
	struct runs rs = { 0 };
	int e;

	*hits = NULL;
	*n = 0;
	if (!cur)
		return -errno;
	e = o->baseline && o->gate.nr_rules ? runs__load(&rs, o->baseline, err, errlen) : 0;
	if (!e)
		e = gate_eval(&o->gate, rs.nr ? rs.v[rs.nr - 1] : NULL, cur,
			      rs.nr ? rs.v[rs.nr - 1]->path : "", "this run", hits, n, err, errlen);
	runs__clear(&rs);
	run__free(cur);
	return e;
}

/* Gates the run; writes the profiles asked for. Returns the hits' count or -1 (printed). */
static int judge(struct backend *b, struct run_opts *o, json_t *doc)
{
	struct gate_hit *hits = NULL;
	size_t n = 0, i;
	json_t *bm;
	char err[512];

	if (o->gating && gate_doc(o, doc, &hits, &n, err, sizeof(err))) {
		cli_err(PROG, 2, "%s", err);
		return -1;
	}
	gate_print(stderr, PROG ": ", hits, n, false);
	if (o->profile == PROFILE_ALL) {
		json_array_foreach(json_object_get(doc, "benchmarks"), i, bm)
			write_profile(b, json_string_value(json_object_get(bm, "name")));
	} else if (wants_profiles(o)) {
		for (i = 0; i < n; i++) {
			if (!i || strcmp(hits[i].name, hits[i - 1].name))
				write_profile(b, hits[i].name);
		}
	}
	free(hits);
	return (int)n;
}

int main(int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct backend b = { .fd = -1 };
	char command[4096];
	json_t *doc = NULL;
	int status = 0, code, hits = 0, e;

	if (parse_args(argc, argv, &o))
		return 2;
	log_setup("benchmem-run", getenv("BENCHMEM_DEBUG") ? BM_LOG_DEBUG : BM_LOG_WARNING);
	e = launch_check(o.argv[0], o.exe);
	if (e == -ENOENT)
		return cli_err(PROG, 127, "cannot run '%s': command not found", o.argv[0]);
	if (e)
		return cli_err(PROG, 126, "cannot run '%s': %s", o.argv[0], strerror(-e));
	join_argv(o.argv, command, sizeof(command));
	if (o.python_malloc)
		setenv("PYTHONMALLOC", "malloc", 1);
	export_python_client();
	choose_probe(&o);
	if (o.socket)
		setenv("BENCHMEM_SOCKET", o.socket, 1);
	if (!o.embedded_only)
		b.fd = conn_open(conn_socket_path(), RUN_TIMEOUT_MS);
	/* the daemon writes as root: only its own profile_dir is allowed */
	if (b.fd >= 0 && o.profile_dir)
		cli_warn(PROG, "--profile-dir is ignored with benchmemd; profiles go to its "
			       "profile_dir");
	if (o.socket && b.fd < 0)
		return cli_err(PROG, 2, "no benchmemd at %s: %s", o.socket, strerror(-b.fd));
	o.context = user_context();
	code = b.fd >= 0 ? run_with_daemon(&b, &o, &status)
			 : run_embedded(&b, &o, command, &status);
	if (!code) {
		doc = fetch_results(&b);
		code = doc ? 0 : 2;
	}
	if (!code && (o.gating || o.profile == PROFILE_ALL)) {
		hits = judge(&b, &o, doc);
		code = hits < 0 ? 2 : 0;
		json_decref(doc);
		doc = code ? NULL : fetch_results(&b); /* now with the profiles' paths */
		code = code ? code : doc ? 0 : 2;
	}
	if (b.fd >= 0)
		close(b.fd);
	embedded__free(b.emb);
	json_decref(o.context);
	if (code)
		return code;
	if (!o.quiet)
		table_print(stderr, doc, isatty(STDERR_FILENO) && !getenv("NO_COLOR"));
	if (o.json_path) {
		e = jsonutil_write_file(doc, o.json_path);
		if (e) {
			json_decref(doc);
			return cli_err(PROG, 2, "cannot write %s: %s", o.json_path, strerror(-e));
		}
	}
	json_decref(doc);
	/* the command's own failure wins; a clean command that regressed exits 1 */
	code = launch_exit_code(status);
	return code ? code : hits ? 1 : 0;
}
