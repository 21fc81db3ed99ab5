// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_inspect.c — `benchmemctl inspect FILE.bin [--json]`: what a memray capture holds. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_err.h"
#include "ctl.h"
#include "memray/reader.h"
#include "inspect_top.h"
#include "units.h"

#define CMD "benchmemctl inspect"

static const char *fmt_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "?");
	else
		snprintf(buf + strlen(buf), len - strlen(buf), ".%03d UTC",
			 (int)(ms % 1000 + 1000) % 1000);
	return buf;
}

static void print_text(const char *path, const struct memray_profile *p)
{
	const struct memray_header *h = &p->hdr;
	char a[64], b[64];

	printf("%s: memray capture, header version %" PRId32 ", ALL_ALLOCATIONS\n", path,
	       h->version);
	printf("  pid               %" PRId32 "\n", h->pid);
	printf("  command line      %s\n", h->command_line);
	printf("  native traces     %s\n", h->native_traces ? "yes" : "no");
	printf("  python allocator  %s (%u)\n", memray_python_allocator_name(h->python_allocator),
	       h->python_allocator);
	printf("  python version    0x%08" PRIx32 "\n", h->python_version);
	printf("  start time        %s (%" PRId64 " ms)\n", fmt_time(h->start_ms, a, sizeof(a)),
	       h->start_ms);
	printf("  end time          %s (%" PRId64 " ms, duration %" PRId64 " ms)\n",
	       fmt_time(h->end_ms, b, sizeof(b)), h->end_ms, h->end_ms - h->start_ms);
	printf("  header records    %" PRIu64 " (n_allocations field)\n", h->n_allocations);
	printf("records:\n");
	for (int i = 0; i < MEMRAY_NR_REC; i++) {
		if (p->nr_records[i])
			printf("  %-20s %" PRIu64 "\n", memray_rec_name(i), p->nr_records[i]);
	}
	if (!p->has_trailer)
		printf("  (no trailer: the data ends without one)\n");
	printf("allocations         %" PRIu64 "\n", p->allocations);
	printf("total allocated     %s (%" PRIu64 " bytes)\n",
	       units_format_bytes(p->total_bytes, a, sizeof(a)), p->total_bytes);
	printf("peak memory         %s (%" PRIu64 " bytes)\n",
	       units_format_bytes(p->peak_bytes, b, sizeof(b)), p->peak_bytes);
	printf("live at end         %s (%" PRIu64 " bytes)\n",
	       units_format_bytes(p->live_bytes, a, sizeof(a)), p->live_bytes);
}

static int print_json(const struct memray_profile *p)
{
	const struct memray_header *h = &p->hdr;
	json_t *doc = json_object(), *recs = json_object();
	int err = -ENOMEM;

	if (!doc || !recs)
		goto out;
	for (int i = 0; i < MEMRAY_NR_REC; i++) {
		if (json_object_set_new(recs, memray_rec_name(i),
					json_integer((json_int_t)p->nr_records[i])))
			goto out;
	}
	if (json_object_set_new(doc, "version", json_integer(h->version)) ||
	    json_object_set_new(doc, "pid", json_integer(h->pid)) ||
	    json_object_set_new(doc, "command_line", json_string(h->command_line)) ||
	    json_object_set_new(doc, "native_traces", json_boolean(h->native_traces)) ||
	    json_object_set_new(doc, "file_format", json_integer(h->file_format)) ||
	    json_object_set_new(doc, "python_allocator",
				json_string(memray_python_allocator_name(h->python_allocator))) ||
	    json_object_set_new(doc, "python_version", json_integer(h->python_version)) ||
	    json_object_set_new(doc, "start_time_ms", json_integer(h->start_ms)) ||
	    json_object_set_new(doc, "end_time_ms", json_integer(h->end_ms)) ||
	    json_object_set_new(doc, "main_tid", json_integer((json_int_t)h->main_tid)) ||
	    json_object_set_new(doc, "has_trailer", json_boolean(p->has_trailer)) ||
	    json_object_set_new(doc, "allocations", json_integer((json_int_t)p->allocations)) ||
	    json_object_set_new(doc, "total_bytes", json_integer((json_int_t)p->total_bytes)) ||
	    json_object_set_new(doc, "peak_bytes", json_integer((json_int_t)p->peak_bytes)) ||
	    json_object_set_new(doc, "live_bytes", json_integer((json_int_t)p->live_bytes)) ||
	    json_object_set(doc, "records", recs))
		goto out;
	if (json_dumpf(doc, stdout, JSON_SORT_KEYS | JSON_INDENT(2)) || fputc('\n', stdout) == EOF)
		err = -EIO;
	else
		err = 0;
out:
	json_decref(recs);
	json_decref(doc);
	return err;
}

int ctl_inspect(int argc, char **argv)
{
	struct memray_profile prof = { 0 };
	const char *path = NULL;
	bool json = false;
	long top = -1;
	char reason[256], *end;
	FILE *f = NULL;
	int ret = 2, err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--top")) {
			if (i + 1 == argc)
				return cli_err(CMD, 2, "--top needs a number of stacks");
			errno = 0;
			top = strtol(argv[++i], &end, 10);
			if (errno || *end || top < 1 || top > 100000)
				return cli_err(CMD, 2,
					       "--top '%s': not a number of stacks (1-100000)",
					       argv[i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: benchmemctl inspect FILE.bin [--json] [--top N]\n");
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_err(CMD, 2, "unknown option '%s' (see --help)", argv[i]);
		} else if (path) {
			cli_err(CMD, 0, "more than one FILE ('%s')", argv[i]);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		cli_err(CMD, 0, "missing FILE (usage: inspect FILE.bin [--json])");
		return 2;
	}
	f = fopen(path, "rb");
	if (!f) {
		cli_err(CMD, 0, "%s: %s", path, strerror(errno));
		return 2;
	}
	if (top > 0 && !json) {
		err = inspect_top_print(f, (unsigned int)top, stdout, reason, sizeof(reason));
		if (err)
			cli_err(CMD, 0, "%s: %s", path, reason);
		else
			ret = fflush(stdout) ? 2 : 0;
		goto out;
	}
	err = memray_read_file(f, NULL, NULL, &prof, reason, sizeof(reason));
	if (err) {
		cli_err(CMD, 0, "%s: %s", path, reason);
		goto out;
	}
	if (json) {
		if (print_json(&prof)) {
			cli_err(CMD, 0, "%s: cannot write the JSON document", path);
			goto out;
		}
	} else {
		print_text(path, &prof);
	}
	ret = fflush(stdout) ? 2 : 0;
out:
	memray_profile_release(&prof);
	fclose(f);
	return ret;
}
