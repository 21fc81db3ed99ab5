// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/benchmemctl.c — the benchmemctl entry point: a table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli_err.h"
#include "ctl.h"

struct ctl_cmd {
	const char *name;
	const char *usage;
	int (*run)(int argc, char **argv);
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "start", "start NAME [--repeat N] [--param K=V]... [--pid PID]", ctl_start },
	{ "stop", "stop NAME [--pid PID] [--json]", ctl_stop },
	{ "attach", "attach PID", ctl_attach },
	{ "detach", "detach [--pid PID]", ctl_detach },
	{ "status", "status [--json]", ctl_status },
	{ "results", "results [--json] [--pid PID] [-o FILE]", ctl_results },
	{ "compare", "compare RUN.json|DIR... [--columns ...] [--stat ...] [--fail-on F:T]...",
	  ctl_compare },
	{ "gate", "gate BASELINE.json RUN.json --fail-on F:T... [--max-peak SIZE]...", ctl_gate },
	{ "report", "report RUN.json... -o report.html", ctl_report },
	{ "profile", "profile NAME [--repeat N] [--pid PID] [--json]", ctl_profile },
	{ "inspect", "inspect FILE.bin [--json]", ctl_inspect },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: benchmemctl COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		fprintf(f, "  %s\n", ctl_cmds[i].usage);
	fprintf(f, "\nThe collector's socket is $BENCHMEM_SOCKET, else "
		   "/run/benchmem/benchmemd.sock.\n");
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
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if (!strcmp(argv[1], ctl_cmds[i].name))
			return ctl_cmds[i].run(argc - 1, argv + 1);
	}
	return cli_err("benchmemctl", 2, "unknown command '%s' (see benchmemctl --help)", argv[1]);
}
