// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/main.c — benchmemd: options + config → collector__new → collector__run → exit. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli_err.h"
#include "collector.h"
#include "config.h"
#include "listen.h"
#include "log.h"
#include "units.h"

#define DEFAULT_CONFIG "/etc/benchmem/benchmemd.yaml"

/* One line per option: what --help prints and docs/man/benchmemd.8 lists (a test checks that
 * every option here appears there). */
static const struct {
	const char *opt, *help;
} opt_help[] = {
	{ "-c, --config=FILE", "read FILE instead of " DEFAULT_CONFIG " (absent: defaults)" },
	{ "-s, --socket=PATH", "listen on the Unix socket PATH (key socket)" },
	{ "    --state-dir=DIR", "keep state in DIR; results and profiles move under it" },
	{ "    --result-dir=DIR", "write result documents into DIR (key result_dir)" },
	{ "    --profile-dir=DIR", "write memray profiles (.bin) into DIR (key profile_dir)" },
	{ "    --log-level=LEVEL", "err, warning, info or debug (key log_level)" },
	{ "    --ready-fd=N", "write READY to fd N once the socket serves, then close it" },
	{ "    --stacks", "record a stack per allocation (key stacks)" },
	{ "    --system-wide", "attach the probes to every process (key attach_mode: system)" },
	{ "    --set KEY=VALUE", "override one key of the configuration file (repeatable)" },
	{ "    --foreground", "stay in the foreground (benchmemd never forks; accepted for init "
			      "scripts)" },
	{ "-h, --help", "print this help and exit" },
	{ "-V, --version", "print the version and exit" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: benchmemd [OPTIONS]\n"
		   "The benchmem collector: traces the allocations of the processes its clients\n"
		   "name (eBPF uprobes on the allocator) and serves regions, results and profiles\n"
		   "on a Unix socket.\n\noptions:\n");
	for (size_t i = 0; i < sizeof(opt_help) / sizeof(opt_help[0]); i++)
		fprintf(f, "  %-24s %s\n", opt_help[i].opt, opt_help[i].help);
	fprintf(f, "\nEvery configuration key, its default and its limits: %s and benchmemd(8).\n",
		DEFAULT_CONFIG);
}

/* Options override the config file one key at a time, through the config table. */
static int parse_args(int argc, char **argv, struct bm_config *cfg, int *ready_fd)
{
	static const struct option opts[] = { { "foreground", no_argument, NULL, 'f' },
					      { "config", required_argument, NULL, 'c' },
					      { "socket", required_argument, NULL, 's' },
					      { "state-dir", required_argument, NULL, 'S' },
					      { "result-dir", required_argument, NULL, 'R' },
					      { "profile-dir", required_argument, NULL, 'P' },
					      { "log-level", required_argument, NULL, 'l' },
					      { "ready-fd", required_argument, NULL, 'r' },
					      { "stacks", no_argument, NULL, 'k' },
					      { "system-wide", no_argument, NULL, 'w' },
					      { "set", required_argument, NULL, 'o' },
					      { "help", no_argument, NULL, 'h' },
					      { "version", no_argument, NULL, 'V' },
					      { 0 } };
	const char *config = NULL, *key = NULL, *val = NULL;
	char err[512], kv[1100], state[BM_CONFIG_PATH_MAX + 16];
	bool state_set = false, result_set = false, profile_set = false;
	uint64_t fd;
	int o;

	config_defaults(cfg);
	opterr = 0;
	for (int pass = 0; pass < 2; pass++) {
		optind = 1;
		while ((o = getopt_long(argc, argv, ":hVc:s:", opts, NULL)) != -1) {
			if (o == 'h') {
				usage(stdout);
				exit(0);
			}
			if (o == 'V')
				exit(cli_version("benchmemd"));
			if (o == '?' || o == ':')
				return -cli_bad_option("benchmemd", o, argv);
			if (pass == 0) {
				if (o == 'c')
					config = optarg;
				continue;
			}
			key = NULL;
			val = optarg;
			switch (o) {
			case 's':
				key = "socket";
				break;
			case 'S':
				key = "state_dir";
				state_set = true;
				break;
			case 'R':
				key = "result_dir";
				result_set = true;
				break;
			case 'P':
				key = "profile_dir";
				profile_set = true;
				break;
			case 'l':
				key = "log_level";
				break;
			case 'k':
				key = "stacks";
				val = "true";
				break;
			case 'w':
				key = "attach_mode";
				val = "system";
				break;
			case 'r':
				if (units_parse_u64(optarg, 65535, &fd)) {
					fprintf(stderr,
						"benchmemd: error: --ready-fd: not an fd\n");
					return -EINVAL;
				}
				*ready_fd = (int)fd;
				break;
			case 'o':
				snprintf(kv, sizeof(kv), "%s", optarg);
				key = kv;
				val = strchr(kv, '=');
				if (!val) {
					fprintf(stderr,
						"benchmemd: error: --set %s: want KEY=VALUE\n", kv);
					return -EINVAL;
				}
				*(char *)val++ = '\0';
				break;
			default:
				break;
			}
			if (key && config_set(cfg, key, val, err, sizeof(err))) {
				fprintf(stderr, "benchmemd: error: %s\n", err);
				return -EINVAL;
			}
		}
		if (pass == 0 && (config || !access(DEFAULT_CONFIG, R_OK)) &&
		    config_load(cfg, config ? config : DEFAULT_CONFIG, err, sizeof(err))) {
			fprintf(stderr, "benchmemd: error: %s\n", err);
			return -EINVAL;
		}
	}
	/* a private --state-dir (tests, ad-hoc runs) moves the result and profile dirs along */
	if (state_set && !result_set) {
		snprintf(state, sizeof(state), "%s/results", cfg->state_dir);
		config_set(cfg, "result_dir", state, err, sizeof(err));
	}
	if (state_set && !profile_set) {
		snprintf(state, sizeof(state), "%s/profiles", cfg->state_dir);
		config_set(cfg, "profile_dir", state, err, sizeof(err));
	}
	/* overrides are checked one by one; the rules between keys once they are all in */
	if (config_validate(cfg, err, sizeof(err))) {
		fprintf(stderr, "benchmemd: error: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/* Every traced process costs descriptors (probe links): take all the kernel allows, and let
 * fd_reserve (checked at each new session) keep some for clients. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_warn("cannot raise the descriptor limit: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	struct collector_opts o = { .ready_fd = -1 };
	struct collector *c;
	char err[512] = "";
	int e, fd;

	if (parse_args(argc, argv, &o.cfg, &o.ready_fd))
		return 2;
	log_setup("benchmemd", o.cfg.log_level);
	raise_nofile();
	fd = listen_open(o.cfg.socket, o.cfg.socket_mode, o.cfg.socket_group, err, sizeof(err));
	if (fd < 0) {
		pr_err("%s", err);
		return 1;
	}
	if (err[0])
		pr_warn("%s", err);
	c = collector__new(&o, err, sizeof(err));
	if (!c || collector__serve(c, fd, err, sizeof(err))) {
		pr_err("%s", err);
		collector__free(c);
		listen_close(fd, o.cfg.socket);
		return 1;
	}
	pr_info("listening on %s", o.cfg.socket);
	e = collector__run(c);
	collector__free(c);
	listen_close(fd, o.cfg.socket);
	if (e)
		pr_err("event loop: %s", strerror(-e));
	return e ? 1 : 0;
}
