/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tests/unit/test_results.c — the result document: headline rule, rss omission, pytest-benchmark
 * stats, param ids, commit_info; `--emit PATH` writes a sample, `--table [PATH]` prints one. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonutil.h"
#include "context.h"
#include "results.h"
#include "table.h"
#include "tap.h"

#define S_NS 1000000000ull

static bool near(double got, double want)
{
	bool ok = fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want));

	if (!ok)
		printf("#   got %.17g, want %.17g\n", got, want);
	return ok;
}

static double st_num(const json_t *st, const char *key)
{
	return json_number_value(json_object_get(st, key));
}

static json_int_t stat_int(const json_t *st, const char *key)
{
	return json_integer_value(json_object_get(st, key));
}

static void test_headline_takes_counts_of_min_peak_pass_not_minima(void)
{
	const struct bm_repeat r[] = {
		{ .peak_bytes = 300, .total_bytes = 10, .allocations = 1, .wall_ns = 5 },
		{ .peak_bytes = 100, .total_bytes = 999, .allocations = 50, .wall_ns = 7 },
		{ .peak_bytes = 200, .total_bytes = 5, .allocations = 2, .wall_ns = 3 },
	};
	struct bm_repeat h;

	CHECK_I64(results_headline(r, 3, &h), 0);
	CHECK_U64(h.peak_bytes, 100);
	CHECK_U64(h.total_bytes, 999);
	CHECK_U64(h.allocations, 50);
	CHECK_U64(h.wall_ns, 7);
	CHECK(!h.has_rss);
	CHECK(!h.aborted);
}

static void test_headline_tie_takes_first_min_peak_pass(void)
{
	const struct bm_repeat r[] = {
		{ .peak_bytes = 500, .total_bytes = 1, .allocations = 1 },
		{ .peak_bytes = 100, .total_bytes = 2, .allocations = 2 },
		{ .peak_bytes = 100, .total_bytes = 3, .allocations = 3 },
	};
	struct bm_repeat h;

	CHECK_I64(results_headline(r, 3, &h), 0);
	CHECK_U64(h.total_bytes, 2);
	CHECK_U64(h.allocations, 2);
}

static void test_headline_rss_is_min_only_when_every_pass_has_it(void)
{
	struct bm_repeat r[] = {
		{ .peak_bytes = 1, .rss_bytes = 9000, .has_rss = true },
		{ .peak_bytes = 2, .rss_bytes = 7000, .has_rss = true },
		{ .peak_bytes = 3, .rss_bytes = 8000, .has_rss = true, .aborted = true },
	};
	struct bm_repeat h;

	CHECK_I64(results_headline(r, 3, &h), 0);
	CHECK(h.has_rss);
	CHECK_U64(h.rss_bytes, 7000); /* min of rss, not the min-peak pass's 9000 */
	CHECK(h.aborted);
	r[1].has_rss = false;
	CHECK_I64(results_headline(r, 3, &h), 0);
	CHECK(!h.has_rss);
	CHECK_U64(h.rss_bytes, 0);
}

static void test_headline_rejects_zero_passes(void)
{
	struct bm_repeat r = { 0 }, h;

	CHECK_I64(results_headline(&r, 0, &h), -EINVAL);
	CHECK_I64(results_headline(NULL, 1, &h), -EINVAL);
}

/* pytest-benchmark's own test_stats.py data set, in seconds. */
static void test_stats_five_rounds_match_pytest_benchmark(void)
{
	const uint64_t w[] = { 4 * S_NS, 36 * S_NS, 45 * S_NS, 50 * S_NS, 75 * S_NS };
	json_t *st = results_stats(w, 5);

	CHECK(st);
	CHECK(near(st_num(st, "min"), 4));
	CHECK(near(st_num(st, "max"), 75));
	CHECK(near(st_num(st, "mean"), 42));
	CHECK(near(st_num(st, "stddev"), 25.700194551792794));
	CHECK_I64(stat_int(st, "rounds"), 5);
	CHECK(near(st_num(st, "median"), 45));
	CHECK(near(st_num(st, "q1"), 28));    /* 0.25*4 + 0.75*36 */
	CHECK(near(st_num(st, "q3"), 56.25)); /* 0.75*50 + 0.25*75 */
	CHECK(near(st_num(st, "iqr"), 28.25));
	CHECK_I64(stat_int(st, "iqr_outliers"), 0);
	CHECK_I64(stat_int(st, "stddev_outliers"), 2); /* 4 and 75 lie outside 42 ± 25.7 */
	CHECK_STR(json_string_value(json_object_get(st, "outliers")), "2;0");
	CHECK(near(st_num(st, "ld15iqr"), 4));
	CHECK(near(st_num(st, "hd15iqr"), 75));
	CHECK(near(st_num(st, "ops"), 0.023809523809523808));
	CHECK(near(st_num(st, "total"), 210));
	CHECK_I64(stat_int(st, "iterations"), 1);
	CHECK_U64(json_object_size(st), 17);
	json_decref(st);
}

static void test_stats_tukey_outlier_and_hd15iqr_quirk(void)
{
	/* unsorted on purpose: quartiles use the sorted data, total the pass order */
	const uint64_t w[] = { 100 * S_NS, 1 * S_NS, 3 * S_NS, 2 * S_NS, 4 * S_NS };
	json_t *st = results_stats(w, 5);

	CHECK(near(st_num(st, "q1"), 1.75)); /* 0.25*1 + 0.75*2 */
	CHECK(near(st_num(st, "q3"), 28));   /* 0.75*4 + 0.25*100 */
	CHECK_I64(stat_int(st, "iqr_outliers"), 1);
	/* stats.py returns the first datum past Q3 + 1.5 IQR (67.375), not the last within */
	CHECK(near(st_num(st, "hd15iqr"), 100));
	CHECK(near(st_num(st, "ld15iqr"), 1));
	CHECK_STR(json_string_value(json_object_get(st, "outliers")), "1;1");
	json_decref(st);
}

static void test_stats_even_and_three_round_quartiles(void)
{
	const uint64_t even[] = { 1 * S_NS, 2 * S_NS, 3 * S_NS, 4 * S_NS };
	const uint64_t three[] = { 17 * S_NS, 19 * S_NS, 24 * S_NS };
	json_t *st = results_stats(even, 4);

	CHECK(near(st_num(st, "q1"), 1.5));
	CHECK(near(st_num(st, "q3"), 3.5));
	CHECK(near(st_num(st, "median"), 2.5));
	json_decref(st);
	st = results_stats(three, 3);
	CHECK(near(st_num(st, "q1"), 17.5));  /* 0.75*17 + 0.25*19 */
	CHECK(near(st_num(st, "q3"), 22.75)); /* 0.25*19 + 0.75*24 */
	CHECK(near(st_num(st, "stddev"), 3.605551275463989));
	json_decref(st);
}

static void test_stats_zero_wall_time_counts_as_one_ns(void)
{
	const uint64_t w[] = { 0 };
	json_t *st = results_stats(w, 1);

	CHECK(near(st_num(st, "mean"), 1e-9));
	CHECK(near(st_num(st, "ops"), 1e9));
	CHECK(near(st_num(st, "stddev"), 0));
	CHECK(near(st_num(st, "q1"), 1e-9));
	CHECK(near(st_num(st, "hd15iqr"), 1e-9));
	CHECK_STR(json_string_value(json_object_get(st, "outliers")), "0;0");
	json_decref(st);
}

static void check_param(const char *json, const char *want)
{
	json_t *p = json_loads(json, 0, NULL);
	char *id = results_param_id(p);

	CHECK_STR(id, want);
	free(id);
	json_decref(p);
}

static void test_param_id_joins_values_like_pytest(void)
{
	json_t *empty = json_object();

	check_param("{\"n\": 10, \"kind\": \"rows\", \"ok\": true, \"x\": null, \"f\": false}",
		    "10-rows-True-None-False");
	check_param("{\"a\": 0.5, \"b\": 100.0, \"c\": 1e16, \"d\": 1.5e-5, \"e\": 0.001}",
		    "0.5-100.0-1e+16-1.5e-05-0.001");
	check_param("{\"a\": -2.5, \"b\": 123.456, \"c\": 0.1, \"list\": [1]}",
		    "-2.5-123.456-0.1-list");
	CHECK(!results_param_id(NULL) && errno == 0);
	CHECK(!results_param_id(empty) && errno == 0);
	json_decref(empty);
}

static const struct bm_repeat sample_a[] = {
	{ .peak_bytes = 4096,
	  .total_bytes = 8192,
	  .allocations = 3,
	  .rss_bytes = 1 << 20,
	  .has_rss = true,
	  .wall_ns = 2000 },
	{ .peak_bytes = 4000,
	  .total_bytes = 9000,
	  .allocations = 4,
	  .rss_bytes = 2 << 20,
	  .has_rss = true,
	  .wall_ns = 1000 },
};
static const struct bm_repeat sample_b[] = {
	{ .peak_bytes = 10, .total_bytes = 10, .allocations = 1, .rss_bytes = 5, .has_rss = true },
	{ .peak_bytes = 10, .total_bytes = 20, .allocations = 2, .aborted = true },
	{ .peak_bytes = 30, .total_bytes = 30, .allocations = 3, .rss_bytes = 5, .has_rss = true },
};

static json_t *sample_doc(const json_t *context)
{
	json_t *params = json_loads("{\"n\": 10, \"mode\": \"fast\"}", 0, NULL);
	const struct bm_series s[] = {
		{ .name = "test_x[10-fast]",
		  .fullname = "tests/t.py::test_x[10-fast]",
		  .group = "build",
		  .params = params,
		  .reps = sample_a,
		  .nr_reps = 2,
		  .profile = "/tmp/prof/test_x.bin" },
		{ .name = "whole-run", .reps = sample_b, .nr_reps = 3 },
	};
	const struct bm_run_meta m = { .command = "python3 -m pytest",
				       .python_allocator = "malloc",
				       .lost_events = 7,
				       .start_unix_ns = 1700000000123456789LL,
				       .version = "benchmemd 0.1.0",
				       .attach_mode = "per-process",
				       .context = context };
	json_t *doc = results_build(s, 2, &m);

	json_decref(params);
	return doc;
}

static const json_t *path(const json_t *o, const char *a, const char *b, const char *c)
{
	o = json_object_get(o, a);
	o = b ? json_object_get(o, b) : o;
	return c ? json_object_get(o, c) : o;
}

static json_int_t headline_int(const json_t *entry, const char *key)
{
	return json_integer_value(
		json_object_get(path(entry, "extra_info", "benchmem_meta", "headline"), key));
}

static void test_document_entry_has_pytest_benchmark_shape(void)
{
	json_t *doc = sample_doc(NULL);
	const json_t *e = json_array_get(json_object_get(doc, "benchmarks"), 0);
	const json_t *e2 = json_array_get(json_object_get(doc, "benchmarks"), 1);

	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "datetime")),
		  "2023-11-14T22:13:20.123456+00:00");
	CHECK_STR(json_string_value(json_object_get(doc, "version")), "benchmemd 0.1.0");
	CHECK_STR(json_string_value(path(doc, "benchmem", "command", NULL)), "python3 -m pytest");
	CHECK_I64(json_integer_value(path(doc, "benchmem", "lost_events", NULL)), 7);
	CHECK_STR(json_string_value(json_object_get(e, "param")), "10-fast");
	CHECK_STR(json_string_value(json_object_get(e, "group")), "build");
	CHECK_I64(json_integer_value(path(e, "params", "n", NULL)), 10);
	CHECK_STR(json_string_value(path(e, "options", "timer", NULL)), "clock_gettime");
	CHECK_I64(json_integer_value(path(e, "stats", "rounds", NULL)), 2);
	CHECK(near(json_real_value(path(e, "stats", "min", NULL)), 1e-6));
	CHECK_I64(json_integer_value(path(e, "extra_info", "benchmem_meta", "lost_events")), 7);
	CHECK_STR(json_string_value(path(e, "extra_info", "benchmem_meta", "profile")),
		  "/tmp/prof/test_x.bin");
	CHECK_I64(headline_int(e, "total_bytes"), 9000); /* of the 4000-byte peak pass */
	CHECK_I64(headline_int(e, "peak_bytes"), 4000);
	CHECK(json_is_null(json_object_get(e2, "group")));
	CHECK(json_is_null(json_object_get(e2, "params")));
	CHECK(json_is_null(json_object_get(e2, "param")));
	CHECK_STR(json_string_value(json_object_get(e2, "fullname")), "whole-run");
	CHECK(!path(e2, "extra_info", "benchmem_meta", "profile"));
	CHECK(json_is_true(json_array_get(path(e2, "extra_info", "benchmem_meta", "aborted"), 1)));
	CHECK(json_is_null(path(doc, "commit_info", "id", NULL)));
	json_decref(doc);
}

static void test_document_omits_rss_bytes_unless_every_pass_has_it(void)
{
	json_t *doc = sample_doc(NULL);
	const json_t *e = json_array_get(json_object_get(doc, "benchmarks"), 0);
	const json_t *e2 = json_array_get(json_object_get(doc, "benchmarks"), 1);
	const json_t *rss = path(e, "extra_info", "benchmem", "rss_bytes");
	const json_t *head2 = path(e2, "extra_info", "benchmem_meta", "headline");

	CHECK_U64(json_array_size(rss), 2);
	CHECK_I64(json_integer_value(json_array_get(rss, 1)), 2 << 20);
	CHECK_I64(headline_int(e, "rss_bytes"), 1 << 20);
	CHECK(!path(e2, "extra_info", "benchmem", "rss_bytes"));
	CHECK(!json_object_get(head2, "rss_bytes"));
	CHECK_U64(json_array_size(path(e2, "extra_info", "benchmem", "peak_bytes")), 3);
	CHECK_U64(json_array_size(path(e2, "extra_info", "benchmem", "allocations")), 3);
	CHECK_I64(json_integer_value(json_object_get(head2, "allocations")), 1);
	json_decref(doc);
}

/* The client's context goes in verbatim; what it leaves out is null (commit_info) or the
 * host's (machine_info). The daemon reads no repository. */
static void test_context_from_the_client_goes_into_the_document(void)
{
	json_t *ctx = json_loads(
		"{\"commit_info\": {\"id\": \"0123456789abcdef0123456789abcdef01234567\","
		" \"branch\": \"feature\", \"dirty\": true, \"project\": \"p\"},"
		" \"machine_info\": {\"node\": \"client-host\","
		" \"python_version\": \"3.11.2\"}}",
		0, NULL);
	json_t *doc = sample_doc(ctx);
	const json_t *ci = json_object_get(doc, "commit_info");
	const json_t *mi = json_object_get(doc, "machine_info");
	char why[160];

	CHECK_I64(context_check(ctx, why, sizeof(why)), 0);
	CHECK_STR(json_string_value(json_object_get(ci, "id")),
		  "0123456789abcdef0123456789abcdef01234567");
	CHECK_STR(json_string_value(json_object_get(ci, "branch")), "feature");
	CHECK(json_is_true(json_object_get(ci, "dirty")));
	CHECK(json_is_null(json_object_get(ci, "time")));
	CHECK_STR(json_string_value(json_object_get(mi, "node")), "client-host");
	CHECK_STR(json_string_value(json_object_get(mi, "python_version")), "3.11.2");
	CHECK_STR(json_string_value(json_object_get(mi, "system")), "Linux"); /* the host's */
	json_decref(doc);
	doc = sample_doc(NULL);
	ci = json_object_get(doc, "commit_info");
	CHECK_U64(json_object_size(ci), 6);
	CHECK(json_is_null(json_object_get(ci, "id")) &&
	      json_is_null(json_object_get(ci, "project")));
	json_decref(doc);
	json_decref(ctx);
}

static void test_machine_info_comes_from_uname_and_cpuinfo(void)
{
	json_t *doc = sample_doc(NULL);
	const json_t *mi = json_object_get(doc, "machine_info");

	CHECK_STR(json_string_value(json_object_get(mi, "system")), "Linux");
	CHECK_I64(json_integer_value(path(mi, "cpu", "count", NULL)),
		  sysconf(_SC_NPROCESSORS_ONLN));
	CHECK_STR(json_string_value(json_object_get(mi, "python_version")), "");
	CHECK(json_is_array(json_object_get(mi, "python_build")));
	json_decref(doc);
}

static void test_build_rejects_series_without_passes(void)
{
	const struct bm_series s = { .name = "x", .reps = sample_a, .nr_reps = 0 };
	const struct bm_run_meta m = { .version = "benchmemd 0.1.0" };

	errno = 0;
	CHECK(!results_build(&s, 1, &m));
	CHECK_I64(errno, EINVAL);
}

static int emit(const char *path_out)
{
	json_t *doc = sample_doc(NULL);
	int err = doc ? results_write(doc, path_out) : -errno;

	json_decref(doc);
	if (err)
		fprintf(stderr, "test_results: cannot write %s: %s\n", path_out, strerror(-err));
	return err ? 1 : 0;
}

static int table(const char *in)
{
	char err[256] = "";
	json_t *doc = in ? jsonutil_load_file(in, 64 << 20, err, sizeof(err)) : sample_doc(NULL);

	if (!doc) {
		fprintf(stderr, "test_results: %s: %s\n", in ? in : "sample", err);
		return 1;
	}
	table_print(stdout, doc, isatty(STDOUT_FILENO));
	json_decref(doc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--emit"))
		return emit(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "--table"))
		return table(argc > 2 ? argv[2] : NULL);
	TEST(test_headline_takes_counts_of_min_peak_pass_not_minima);
	TEST(test_headline_tie_takes_first_min_peak_pass);
	TEST(test_headline_rss_is_min_only_when_every_pass_has_it);
	TEST(test_headline_rejects_zero_passes);
	TEST(test_stats_five_rounds_match_pytest_benchmark);
	TEST(test_stats_tukey_outlier_and_hd15iqr_quirk);
	TEST(test_stats_even_and_three_round_quartiles);
	TEST(test_stats_zero_wall_time_counts_as_one_ns);
	TEST(test_param_id_joins_values_like_pytest);
	TEST(test_document_entry_has_pytest_benchmark_shape);
	TEST(test_document_omits_rss_bytes_unless_every_pass_has_it);
	TEST(test_context_from_the_client_goes_into_the_document);
	TEST(test_machine_info_comes_from_uname_and_cpuinfo);
	TEST(test_build_rejects_series_without_passes);
	return tap_done();
}
