// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_report.c — `benchmemctl report RUN... [-o report.html] [--baseline RUN]
 * [--fail-on FIELD:THRESHOLD]...`: options, the runs, the file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "cli_err.h"
#include "ctl.h"
#include "report.h"
#include "runs.h"

#define CMD "benchmemctl report"

static const char report_usage[] =
	"usage: benchmemctl report RUN... [-o report.html] [--baseline RUN]\n"
	"                          [--fail-on FIELD:THRESHOLD]...\n"
	"RUN is a pytest-benchmark JSON file or a storage directory, oldest first; any number\n"
	"of runs make the history. The summary judges the last run against --baseline (its\n"
	"newest run) or the run before it with the --fail-on rules (default peak:10%), as\n"
	"`benchmemctl compare BASE LAST --fail-on ...` does.\n";

/* Renders into memory, then writes the file atomically: no half-written report. */
static int write_report(const struct runs *rs, const struct report_opts *o, const char *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (!f)
		return -errno;
	ret = report_write(f, rs, o);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret)
		ret = atomic_file_write(out, text, len, 0644);
	free(text);
	return ret;
}

/* Parses the options into @o, @out, @baseline. Returns the index of the first RUN, -1 on a
 * usage error (printed), -2 after --help. */
static int parse(int argc, char **argv, struct report_opts *o, const char **out,
		 const char **baseline)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { "baseline", required_argument, NULL, 'b' },
					      { "fail-on", required_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	char err[512];
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(report_usage, stdout);
			return -2;
		} else if (c == 'o') {
			*out = optarg;
		} else if (c == 'b') {
			*baseline = optarg;
		} else if (c == 'f' && gate_add_rule(&o->gate, optarg, err, sizeof(err))) {
			cli_err(CMD, 0, "%s", err);
			return -1;
		} else if (c != 'f') {
			cli_bad_option(CMD, c, argv);
			return -1;
		}
	}
	if (!o->gate.nr_rules) {
		o->default_rules = true;
		if (gate_add_rule(&o->gate, "peak:10%", err, sizeof(err)))
			return -1;
	}
	if (optind >= argc) {
		cli_err(CMD, 0, "no RUN given");
		fputs(report_usage, stderr);
		return -1;
	}
	return optind;
}

static int load(struct runs *rs, const char *path)
{
	char err[512];

	if (!runs__load(rs, path, err, sizeof(err)))
		return 0;
	cli_err(CMD, 0, "%s", err);
	return -EINVAL;
}

int ctl_report(int argc, char **argv)
{
	const char *out = "report.html", *baseline = NULL;
	struct runs rs = { 0 }, base = { 0 };
	struct report_opts o = { 0 };
	int first, ret = 2;

	gate_init(&o.gate);
	first = parse(argc, argv, &o, &out, &baseline);
	if (first < 0)
		return first == -2 ? 0 : 2;
	for (int i = first; i < argc; i++)
		if (load(&rs, argv[i]))
			goto out;
	if (baseline) {
		if (load(&base, baseline))
			goto out;
		o.baseline = base.v[base.nr - 1]; /* a storage directory: its newest run */
	}
	ret = write_report(&rs, &o, out);
	if (ret == -ENODATA)
		cli_err(CMD, 0, "no benchmark in these runs has extra_info.benchmem");
	else if (ret)
		cli_err(CMD, 0, "%s: %s", out, strerror(-ret));
	else
		printf("wrote %s (%zu run(s))\n", out, rs.nr);
	ret = ret ? 2 : 0;
out:
	runs__clear(&base);
	runs__clear(&rs);
	return ret;
}
