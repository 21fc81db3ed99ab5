// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_report.c — `benchmemctl report RUN... -o report.html`: options and the file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "ctl.h"
#include "report.h"
#include "runs.h"

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
			fprintf(stderr, "benchmemctl report: error: bad option '%s' (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
		out = optarg;
	}
	if (optind >= argc) {
		fprintf(stderr, "benchmemctl report: error: no RUN given\n%s", report_usage);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (runs__load(&rs, argv[i], err, sizeof(err))) {
			fprintf(stderr, "benchmemctl report: error: %s\n", err);
			goto out;
		}
	}
	ret = write_report(&rs, out);
	if (ret == -ENODATA)
		fprintf(stderr, "benchmemctl report: error: no benchmark in these runs has "
				"extra_info.benchmem\n");
	else if (ret)
		fprintf(stderr, "benchmemctl report: error: %s: %s\n", out, strerror(-ret));
	else
		printf("wrote %s (%zu run(s))\n", out, rs.nr);
	ret = ret ? 2 : 0;
out:
	runs__clear(&rs);
	return ret;
}
