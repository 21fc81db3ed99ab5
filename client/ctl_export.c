// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_export.c — `benchmemctl export --format openmetrics RUN... [-o FILE] [--host NAME]
 * [--max-series N]`: result files as the per-region series benchmemd's /metrics serves
 * (lib/openmetrics), for node_exporter's textfile collector or a Pushgateway. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "cli_err.h"
#include "ctl.h"
#include "openmetrics.h"
#include "runs.h"
#include "units.h"

#define CMD		    "benchmemctl export"
#define EXPORT_MAX_SERIES   10000 /* the daemon's metrics_max_series default */
#define EXPORT_SERIES_LIMIT 1000000

static const char export_usage[] =
	"usage: benchmemctl export --format openmetrics RUN... [-o|--output FILE]\n"
	"                          [--host NAME] [--max-series N]\n"
	"Writes the per-region gauges benchmemd serves on /metrics (benchmem_region_peak_bytes,\n"
	"_allocated_bytes, _allocations, _rss_bytes) for the result files or storage directories\n"
	"RUN, oldest first: a later run's value replaces an earlier one with the same labels.\n"
	"-o FILE is replaced atomically (what node_exporter's textfile collector needs); without\n"
	"it the text goes to stdout, for curl to post to a Pushgateway. --host labels runs that\n"
	"name no machine (default: empty); --max-series keeps the newest N regions (10000).\n";

struct export_opts {
	const char *out, *host;
	size_t max_series;
};

/* Returns the index of the first RUN, -1 on a usage error (printed), -2 after --help. */
static int parse(int argc, char **argv, struct export_opts *o)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "output", required_argument, NULL, 'o' },
					      { "host", required_argument, NULL, 'H' },
					      { "max-series", required_argument, NULL, 'm' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool format = false;
	uint64_t v;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(export_usage, stdout);
			return -2;
		} else if (c == 'f') {
			if (strcmp(optarg, "openmetrics")) {
				cli_err(CMD, 0, "--format %s: the one format is openmetrics",
					optarg);
				return -1;
			}
			format = true;
		} else if (c == 'o') {
			o->out = optarg;
		} else if (c == 'H') {
			o->host = optarg;
		} else if (c == 'm') {
			if (units_parse_u64(optarg, EXPORT_SERIES_LIMIT, &v) || !v) {
				cli_err(CMD, 0, "--max-series %s: want 1..%d", optarg,
					EXPORT_SERIES_LIMIT);
				return -1;
			}
			o->max_series = (size_t)v;
		} else {
			cli_bad_option(CMD, c, argv);
			return -1;
		}
	}
	if (!format) {
		cli_err(CMD, 0, "--format openmetrics is required (see --help)");
		return -1;
	}
	if (optind >= argc) {
		cli_err(CMD, 0, "no RUN given (see --help)");
		return -1;
	}
	return optind;
}

/* Renders into memory; then stdout, or the file replaced atomically. 0 or -errno. */
static int write_out(const struct om_set *set, const char *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (!f)
		return -errno;
	om_write_regions(f, set);
	ret = om_write_eof(f);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret && out)
		ret = atomic_file_write(out, text, len, 0644);
	else if (!ret && fwrite(text, 1, len, stdout) != len)
		ret = -EIO;
	free(text);
	return ret;
}

int ctl_export(int argc, char **argv)
{
	struct export_opts o = { .max_series = EXPORT_MAX_SERIES };
	struct runs rs = { 0 };
	struct om_set set;
	char err[512];
	int first = parse(argc, argv, &o), ret = 0;

	if (first < 0)
		return first == -2 ? 0 : 2;
	om_set_init(&set, o.max_series);
	for (int i = first; i < argc && !ret; i++) {
		if (runs__load(&rs, argv[i], err, sizeof(err)))
			ret = cli_err(CMD, 2, "%s", err);
	}
	for (size_t i = 0; i < rs.nr && !ret; i++) {
		if (om_set_add_run(&set, rs.v[i], o.host) < 0)
			ret = cli_err(CMD, 2, "out of memory");
	}
	if (!ret && set.dropped)
		cli_warn(CMD, "%llu regions beyond --max-series %zu left out (the oldest)",
			 (unsigned long long)set.dropped, o.max_series);
	if (!ret) {
		int e = write_out(&set, o.out);

		if (e)
			ret = cli_err(CMD, 2, "cannot write %s: %s", o.out ? o.out : "stdout",
				      strerror(-e));
	}
	om_set_clear(&set);
	runs__clear(&rs);
	return ret;
}
