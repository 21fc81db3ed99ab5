// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_openmetrics.c — the OpenMetrics text both /metrics and `export` write:
 * label escaping, the benchmark/params split, one value per label set (the latest), the cap
 * (oldest dropped and counted), rss only where measured, and the exact lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openmetrics.h"
#include "tap.h"

/* A result document of @n benchmarks "NAME|PARAM|PEAK|RSS" (PARAM "" = none, RSS 0 = none). */
static struct run *doc_run(const char *commit, const char *node, const char *const *rows, int n)
{
	json_t *list = json_array(), *doc;
	char err[256];
	struct run *run;

	for (int i = 0; i < n; i++) {
		char name[64], param[64];
		long long peak, rss;
		json_t *mem;

		if (sscanf(rows[i], "%63[^|]|%63[^|]|%lld|%lld", name, param, &peak, &rss) != 4 &&
		    sscanf(rows[i], "%63[^|]||%lld|%lld", name, &peak, &rss) == 3)
			param[0] = '\0';
		mem = json_pack("{s:[I], s:[I], s:[i]}", "peak_bytes", peak, "total_bytes",
				peak * 2, "allocations", 3);
		if (rss)
			json_object_set_new(mem, "rss_bytes", json_pack("[I]", rss));
		json_array_append_new(list,
				      json_pack("{s:s, s:s, s:s?, s:{s:o}}", "name", name,
						"fullname", name, "param", param[0] ? param : NULL,
						"extra_info", "benchmem", mem));
	}
	doc = json_pack("{s:o, s:{s:s?}, s:{s:s?}}", "benchmarks", list, "commit_info", "id",
			commit, "machine_info", "node", node);
	run = run__from_doc(doc, "t", err, sizeof(err));
	json_decref(doc);
	if (!run)
		fprintf(stderr, "# %s\n", err);
	return run;
}

static char *render(const struct om_set *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	om_write_regions(f, s);
	om_write_eof(f);
	fclose(f);
	return text;
}

static void test_label_values_are_escaped(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	om_write_label_value(f, "a\"b\\c\nd");
	fclose(f);
	CHECK_STR(text, "\"a\\\"b\\\\c\\nd\"");
	free(text);
}

static void test_exact_lines_and_rss_only_where_measured(void)
{
	static const char *const rows[] = { "test_x[10]|10|4096|8192", "plain||100|0" };
	struct run *run = doc_run("c0ffee", NULL, rows, 2);
	struct om_set s;
	char *text;

	om_set_init(&s, 10);
	CHECK_I64(om_set_add_run(&s, run, "fallback"), 2);
	text = render(&s);
	CHECK(strstr(text, "# TYPE benchmem_region_peak_bytes gauge\n"
			   "# UNIT benchmem_region_peak_bytes bytes\n"
			   "# HELP benchmem_region_peak_bytes ") == text);
	CHECK(strstr(text, "\nbenchmem_region_peak_bytes{benchmark=\"test_x\",params=\"10\","
			   "commit=\"c0ffee\",host=\"fallback\"} 4096\n") != NULL);
	CHECK(strstr(text, "\nbenchmem_region_allocated_bytes{benchmark=\"plain\",params=\"\","
			   "commit=\"c0ffee\",host=\"fallback\"} 200\n") != NULL);
	CHECK(strstr(text, "\nbenchmem_region_allocations{benchmark=\"plain\",params=\"\","
			   "commit=\"c0ffee\",host=\"fallback\"} 3\n") != NULL);
	CHECK(strstr(text, "\nbenchmem_region_rss_bytes{benchmark=\"test_x\",params=\"10\","
			   "commit=\"c0ffee\",host=\"fallback\"} 8192\n") != NULL);
	CHECK(strstr(text, "benchmem_region_rss_bytes{benchmark=\"plain\"") == NULL);
	CHECK(strstr(text, "# TYPE benchmem_region_allocations gauge\n# HELP") != NULL);
	CHECK(!strcmp(text + strlen(text) - 6, "# EOF\n"));
	free(text);
	om_set_clear(&s);
	run__free(run);
}

static void test_a_name_keeps_a_suffix_that_is_not_its_param(void)
{
	static const char *const rows[] = { "t[1]|2|1|0", "u[a-b]|a-b|1|0", "[x]|x|1|0" };
	struct run *run = doc_run(NULL, "box", rows, 3);
	struct om_set s;

	om_set_init(&s, 10);
	CHECK_I64(om_set_add_run(&s, run, NULL), 3);
	CHECK_STR(s.v[0].benchmark, "t[1]");
	CHECK_STR(s.v[1].benchmark, "u");
	CHECK_STR(s.v[1].params, "a-b");
	CHECK_STR(s.v[2].benchmark, "[x]"); /* nothing would be left */
	CHECK_STR(s.v[0].commit, "");
	CHECK_STR(s.v[0].host, "box");
	om_set_clear(&s);
	run__free(run);
}

static void test_latest_value_per_series_and_the_cap(void)
{
	static const char *const a[] = { "a||1|0", "b||2|0", "c||3|0" };
	static const char *const b[] = { "a||10|0", "d||4|0" };
	struct run *ra = doc_run("k", "h", a, 3), *rb = doc_run("k", "h", b, 2);
	struct run *other = doc_run("k2", "h", b, 1);
	struct om_set s;

	om_set_init(&s, 3);
	CHECK_I64(om_set_add_run(&s, ra, NULL), 3);
	CHECK_I64(om_set_add_run(&s, rb, NULL), 2);
	/* a replaced (moves to the young end), d pushes out the oldest: b */
	CHECK_U64(s.nr, 3);
	CHECK_STR(s.v[0].benchmark, "c");
	CHECK_STR(s.v[1].benchmark, "a");
	CHECK_U64(s.v[1].peak_bytes, 10);
	CHECK_STR(s.v[2].benchmark, "d");
	CHECK_U64(s.dropped, 1);
	/* another commit is another series */
	CHECK_I64(om_set_add_run(&s, other, NULL), 1);
	CHECK_STR(s.v[2].benchmark, "a");
	CHECK_STR(s.v[2].commit, "k2");
	CHECK_U64(s.dropped, 2);
	om_set_clear(&s);
	om_set_clear(&s); /* idempotent */
	run__free(ra);
	run__free(rb);
	run__free(other);
}

static void test_one_document_larger_than_the_cap(void)
{
	static const char *const rows[] = { "a||1|0", "b||2|0", "c||3|0", "d||4|0" };
	struct run *run = doc_run("k", "h", rows, 4);
	struct om_set s;

	/* a time-only entry holds no series and takes no place */
	run->entries[3].has_mem = false;
	om_set_init(&s, 2);
	CHECK_I64(om_set_add_run(&s, run, NULL), 2);
	CHECK_U64(s.nr, 2);
	CHECK_STR(s.v[0].benchmark, "b");
	CHECK_STR(s.v[1].benchmark, "c");
	CHECK_U64(s.dropped, 1);
	om_set_clear(&s);
	run__free(run);
}

int main(void)
{
	TEST(test_label_values_are_escaped);
	TEST(test_exact_lines_and_rss_only_where_measured);
	TEST(test_a_name_keeps_a_suffix_that_is_not_its_param);
	TEST(test_latest_value_per_series_and_the_cap);
	TEST(test_one_document_larger_than_the_cap);
	return tap_done();
}
