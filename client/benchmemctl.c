// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/benchmemctl.c — the benchmemctl entry point: a table of subcommands. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli_err.h"
#include "client_mark.h"
#include "ctl.h"

/* a traced shell running benchmemctl: the collector lets go of it at its exec */
BM_CLIENT_MARK;

struct ctl_cmd {
	const char *name;
	const char *usage;
	int (*run)(int argc, char **argv);
	bool own_help; /* the subcommand prints a longer --help itself */
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "start", "start NAME [--repeat N] [--param K=V]... [--pid PID]", ctl_start, false },
	{ "stop", "stop NAME [--pid PID] [--json]", ctl_stop, false },
	{ "attach", "attach PID [--kill-on-daemon-exit] [--json]", ctl_attach, false },
	{ "detach", "detach [--pid PID]", ctl_detach, false },
	{ "status", "status [--json]", ctl_status, false },
	{ "results", "results [--json] [--pid PID] [-o FILE]", ctl_results, false },
	{ "sessions", "sessions [--json]", ctl_sessions, false },
	{ "compare", "compare RUN.json|DIR... [--columns ...] [--stat ...] [--fail-on F:T]...",
	  ctl_compare, true },
	{ "gate", "gate BASELINE.json RUN.json --fail-on F:T... [--max-peak SIZE]...", ctl_gate,
	  true },
	{ "report", "report RUN.json... -o report.html", ctl_report, true },
	{ "export", "export --format openmetrics RUN.json|DIR... [-o FILE] [--host NAME]",
	  ctl_export, true },
	{ "raw", "raw 'JSON-REQUEST'...", ctl_raw, true },
	{ "profile", "profile NAME [--repeat N] [--pid PID] [--json]", ctl_profile, false },
	{ "inspect", "inspect FILE.bin [--json] [--top N]", ctl_inspect, true },
	{ "top", "top [--once [--json]] [--interval MS] [--session ID] [--sort total|own|count]",
	  ctl_top, false },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: benchmemctl COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		fprintf(f, "  %s\n", ctl_cmds[i].usage);
	fprintf(f,
		"\nThe collector's socket is $BENCHMEM_SOCKET, else "
		"/run/benchmem/benchmemd.sock.\n"
		"benchmemctl --version prints the version; benchmemctl COMMAND --help a command's "
		"usage.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))
		return cli_version("benchmemctl");
	if (argv[1][0] == '-')
		return cli_err("benchmemctl", 2, "unknown option '%s' (see --help)", argv[1]);
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		const struct ctl_cmd *c = &ctl_cmds[i];

		if (strcmp(argv[1], c->name))
			continue;
		if (!c->own_help && argc == 3 &&
		    (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
			printf("usage: benchmemctl %s\n", c->usage);
			return 0;
		}
		return c->run(argc - 1, argv + 1);
	}
	return cli_err("benchmemctl", 2, "unknown command '%s' (see benchmemctl --help)", argv[1]);
}
