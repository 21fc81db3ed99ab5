// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/region_c.c — ground truth for libbenchmem: named regions with known sizes. */
/*
 * Usage: region_c            run the scripted regions below; one JSON line per region on stdout:
 *                            {"region":N,"rc":R,"want_peak":..,"want_total":..,"want_allocs":..,
 *                             "repeat":..,"peak":..,"total":..,"allocs":..}
 *        region_c alloc N    malloc N bytes, touch them, free them, exit (no regions).
 * Output goes through write(2) from stack buffers so that stdio never allocates; every pointer
 * is stored through a volatile sink so that -fno-builtin and the optimiser keep each call.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libbenchmem.h"

static void *volatile sink;

struct want {
	uint64_t peak, total, allocs;
};

static void *take(void *p, size_t n)
{
	if (!p)
		_exit(3);
	memset(p, 0xa5, n);
	sink = p;
	return p;
}

static size_t put_str(char *buf, size_t at, const char *s)
{
	size_t n = strlen(s);

	memcpy(buf + at, s, n);
	return at + n;
}

static size_t put_i64(char *buf, size_t at, int64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	memcpy(buf + at, tmp + i, sizeof(tmp) - i);
	return at + sizeof(tmp) - i;
}

static void report(const char *name, int rc, const struct want *w, const struct benchmem_result *r)
{
	char line[512];
	size_t n = 0;

	n = put_str(line, n, "{\"region\":\"");
	n = put_str(line, n, name);
	n = put_str(line, n, "\",\"rc\":");
	n = put_i64(line, n, rc);
	n = put_str(line, n, ",\"want_peak\":");
	n = put_i64(line, n, (int64_t)w->peak);
	n = put_str(line, n, ",\"want_total\":");
	n = put_i64(line, n, (int64_t)w->total);
	n = put_str(line, n, ",\"want_allocs\":");
	n = put_i64(line, n, (int64_t)w->allocs);
	n = put_str(line, n, ",\"repeat\":");
	n = put_i64(line, n, rc ? -1 : (int64_t)r->repeat);
	n = put_str(line, n, ",\"peak\":");
	n = put_i64(line, n, rc ? -1 : (int64_t)r->peak_bytes);
	n = put_str(line, n, ",\"total\":");
	n = put_i64(line, n, rc ? -1 : (int64_t)r->total_bytes);
	n = put_str(line, n, ",\"allocs\":");
	n = put_i64(line, n, rc ? -1 : (int64_t)r->allocations);
	n = put_str(line, n, "}\n");
	if (write(STDOUT_FILENO, line, n) != (ssize_t)n)
		_exit(4);
}

/* Stops @name, reports it against @w; returns the stop's error. */
static int finish(const char *name, int start_rc, const struct want *w)
{
	struct benchmem_result r = { 0 };
	int rc = benchmem_stop(name, &r);

	report(name, start_rc ? start_rc : rc, w, &r);
	return rc;
}

/* 1 MiB + 4 KiB live at once, then the 4 KiB block dies inside the region. */
static void region_basic(void)
{
	static const struct want w = { 1048576 + 4096, 1048576 + 4096, 2 };
	int rc = benchmem_start("c/basic");
	void *a = take(malloc(1048576), 1048576);

	free(take(malloc(4096), 4096));
	finish("c/basic", rc, &w);
	free(a);
}

/* Three repeats of one name, each with its own size. */
static void region_repeats(void)
{
	for (unsigned int i = 0; i < 3; i++) {
		struct want w = { (i + 1) * 65536ull, (i + 1) * 65536ull, 1 };
		int rc = benchmem_start_repeat("c/repeat", i);

		free(take(malloc((i + 1) * 65536), (i + 1) * 65536));
		finish("c/repeat", rc, &w);
	}
}

/* inner sees only y; outer sees x, y and z with x + y live together. */
static void region_nested(void)
{
	static const struct want inner = { 200000, 200000, 1 };
	static const struct want outer = { 300000, 600000, 3 };
	int rc_outer = benchmem_start("c/outer");
	void *x = take(malloc(100000), 100000);
	int rc_inner = benchmem_start("c/inner");

	free(take(malloc(200000), 200000));
	finish("c/inner", rc_inner, &inner);
	free(x);
	free(take(malloc(300000), 300000));
	finish("c/outer", rc_outer, &outer);
}

static void region_calloc(void)
{
	static const struct want w = { 1000000, 1000000, 1 };
	int rc = benchmem_start("c/calloc");

	free(take(calloc(1000, 1000), 1000000));
	finish("c/calloc", rc, &w);
}

/* A free of a block born before the region does not lower the region's count. */
static void region_prefree(void)
{
	static const struct want w = { 1000, 1000, 1 };
	void *pre = take(malloc(500000), 500000);
	int rc = benchmem_start("c/prefree");
	void *p;

	free(pre);
	p = take(malloc(1000), 1000);
	finish("c/prefree", rc, &w);
	free(p);
}

/* A forked child marks its own region over its own connection. */
static void region_child(void)
{
	static const struct want w = { 777777, 777777, 1 };
	pid_t pid = fork();
	int status, rc;

	if (pid < 0)
		_exit(5);
	if (pid == 0) {
		rc = benchmem_start("c/child");
		free(take(malloc(777777), 777777));
		finish("c/child", rc, &w);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		_exit(6);
}

static int alloc_only(const char *arg)
{
	char *end;
	unsigned long long n = strtoull(arg, &end, 10);

	if (*end || n == 0)
		return 2;
	free(take(malloc(n), n));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "alloc"))
		return alloc_only(argv[2]);
	if (argc != 1)
		return 2;
	region_basic();
	region_repeats();
	region_nested();
	region_calloc();
	region_prefree();
	region_child();
	return 0;
}
