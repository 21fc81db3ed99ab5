// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_gate.c — lib/gate: ids matched only when present in both runs, rules in
 * order over ids in natural order, ceilings over the current run, one line format, hits that
 * carry their entries, and no silent pass when a rule had nothing to compare. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "tap.h"

/* One run from "fullname peak allocations" items (one pass each; total = 2 * peak). */
static struct run *mk(const char *label, const char *const *items, size_t n)
{
	json_t *list = json_array(), *doc;
	struct run *run;
	char err[256];

	for (size_t i = 0; i < n; i++) {
		char full[64];
		long long peak, allocs;

		sscanf(items[i], "%63s %lld %lld", full, &peak, &allocs);
		json_array_append_new(list, json_pack("{s:s, s:{s:{s:[I], s:[I], s:[I]}}}",
						      "fullname", full, "extra_info", "benchmem",
						      "peak_bytes", (json_int_t)peak, "total_bytes",
						      (json_int_t)(2 * peak), "allocations",
						      (json_int_t)allocs));
	}
	doc = json_pack("{s:o}", "benchmarks", list);
	run = run__from_doc(doc, label, err, sizeof(err));
	json_decref(doc);
	return run;
}

static char *line_of(const struct gate_hit *h)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	gate_print(f, "", h, 1, false);
	fclose(f);
	return text;
}

static void test_only_ids_in_both_runs_in_natural_order(void)
{
	static const char *const a[] = { "t.py::test_10 100 10", "t.py::test_9 100 10",
					 "t.py::gone 100 10" };
	static const char *const b[] = { "t.py::new 999 10", "t.py::test_10 200 10",
					 "t.py::test_9 300 30" };
	struct run *base = mk("base", a, 3), *cur = mk("head", b, 3);
	struct gate_pair *pairs = NULL;
	struct gate_hit *hits = NULL;
	struct gate_opts o;
	char err[256], line[GATE_LINE_MAX], *l;
	size_t n = 0;

	CHECK_I64(gate_match(base, cur, &pairs, &n), 0);
	CHECK_U64(n, 2); /* "gone" and "new" are in one run only */
	CHECK_STR(pairs[0].name, "test_9");
	CHECK_STR(pairs[1].name, "test_10");
	CHECK_STR(run__short_id("t.py::Cls::test_x[a::b]"), "test_x[a::b]");
	free(pairs);
	gate_init(&o);
	CHECK_I64(gate_add_rule(&o, "peak:50%", err, sizeof(err)), 0);
	CHECK_I64(gate_add_rule(&o, "allocations:2", err, sizeof(err)), 0);
	CHECK_I64(gate_set_ceiling(&o, CMP_PEAK, "500B", err, sizeof(err)), 0);
	CHECK_I64(gate_eval(&o, base, cur, "base", "head", &hits, &n, err, sizeof(err)), 0);
	CHECK_U64(n, 4);
	l = line_of(&hits[0]);
	CHECK_STR(l, "1 regression(s) over threshold:\n"
		     "  peak         test_9: 100 B \u2192 300 B (+200.0%) [peak:50%]\n");
	free(l);
	/* a rule's hit carries the two entries it judged: the report links their profiles */
	CHECK(hits[0].base == run__find(base, "t.py::test_9"));
	CHECK(hits[0].cur == run__find(cur, "t.py::test_9"));
	CHECK_STR(hits[1].name, "test_10");
	CHECK(hits[1].base == run__find(base, "t.py::test_10"));
	CHECK(hits[1].cur == run__find(cur, "t.py::test_10"));
	CHECK_STR(gate_hit_line(&hits[1], false, line, sizeof(line)),
		  "peak         test_10: 100 B \u2192 200 B (+100.0%) [peak:50%]");
	CHECK_STR(gate_hit_line(&hits[1], true, line, sizeof(line)),
		  "\033[31mpeak        \033[0m test_10: 100 B \u2192 200 B (+100.0%) [peak:50%]");
	CHECK_STR(hits[2].what, "10 \u2192 30 (+200.0%) [allocations:2]");
	CHECK_STR(hits[3].kind, "max_peak"); /* ceilings cover every entry of the current run */
	CHECK_STR(hits[3].name, "new");
	CHECK_STR(hits[3].what, "peak 999 B exceeds max_peak 500 B");
	CHECK(hits[3].base == NULL && hits[3].cur == run__find(cur, "t.py::new"));
	free(hits);
	run__free(base);
	run__free(cur);
}

static void test_no_common_id_is_an_error_not_a_pass(void)
{
	static const char *const a[] = { "t.py::a 100 1" };
	static const char *const b[] = { "t.py::b 100 1" };
	struct run *base = mk("base", a, 1), *cur = mk("head", b, 1);
	struct gate_hit *hits = NULL;
	struct gate_opts o;
	char err[256];
	size_t n = 7;

	gate_init(&o);
	CHECK(!gate_has_checks(&o));
	CHECK_I64(gate_add_rule(&o, "peak:10%", err, sizeof(err)), 0);
	CHECK_I64(gate_eval(&o, base, cur, "base", "head", &hits, &n, err, sizeof(err)), -ENODATA);
	CHECK_STR(err, "--fail-on peak:10%: no benchmark has memory data in both base and head");
	CHECK(hits == NULL && n == 0);
	gate_init(&o);
	CHECK_I64(gate_add_rule(&o, "rss:10%", err, sizeof(err)), 0);
	CHECK_I64(gate_eval(&o, base, base, "base", "base", &hits, &n, err, sizeof(err)), -ENODATA);
	CHECK(strstr(err, "no rss data") != NULL);
	CHECK_I64(gate_add_rule(&o, "time:10%", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--fail-on 'time:10%': time is not a memory field") == err);
	run__free(base);
	run__free(cur);
}

int main(void)
{
	TEST(test_only_ids_in_both_runs_in_natural_order);
	TEST(test_no_common_id_is_an_error_not_a_pass);
	return tap_done();
}
