// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_report.c — `benchmemctl report RUN... -o report.html`: options and the file. */
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

static const char report_usage[] = "usage: benchmemctl report RUN... [-o report.html]\n"
				   "RUN is a pytest-benchmark JSON file or a storage directory.\n";

/* Renders into memory, then writes the file atomically: no half-written report. */
static int write_report(const struct runs *rs, const char *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (!f)
		return -errno;
	ret = report_write(f, rs);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret)
		ret = atomic_file_write(out, text, len, 0644);
	free(text);
	return ret;
}

int ctl_report(int argc, char **argv)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *out = "report.html";
	struct runs rs = { 0 };
	char err[512];
	int c, ret = 2;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(report_usage, stdout);
			return 0;
		}
		if (c != 'o') {
			cli_err(CMD, 0, "bad option '%s' (see --help)", argv[optind - 1]);
			return 2;
		}
		out = optarg;
	}
	if (optind >= argc) {
		cli_err(CMD, 0, "no RUN given");
		fputs(report_usage, stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (runs__load(&rs, argv[i], err, sizeof(err))) {
			cli_err(CMD, 0, "%s", err);
			goto out;
		}
	}
	ret = write_report(&rs, out);
	if (ret == -ENODATA)
		cli_err(CMD, 0, "no benchmark in these runs has extra_info.benchmem");
	else if (ret)
		cli_err(CMD, 0, "%s: %s", out, strerror(-ret));
	else
		printf("wrote %s (%zu run(s))\n", out, rs.nr);
	ret = ret ? 2 : 0;
out:
	runs__clear(&rs);
	return ret;
}
