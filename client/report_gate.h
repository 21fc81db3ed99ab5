/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/report_gate.h — the report's regression summary: --fail-on rules of one run against
 * an earlier one, worded as `benchmemctl compare BASE CUR --fail-on` prints them.
 *
 * This is a seam: the rules are evaluated with lib/compare's cmp_rule_parse() and
 * cmp_rule_eval(), as ctl_compare.c does today. When the gate moves into lib/ (one gate for
 * compare, gate and benchmem-run), only report_gate.c changes to call it. */
#ifndef BM_REPORT_GATE_H
#define BM_REPORT_GATE_H

#include <stddef.h>

#include "compare.h"
#include "runs.h"

#define REPORT_MAX_RULES 16

struct report_rules {
	struct cmp_rule rule[REPORT_MAX_RULES];
	const char *text[REPORT_MAX_RULES]; /* as given ("peak:10%"), borrowed */
	int nr;
};

/* One regressed id under one rule. */
struct report_hit {
	const struct run_entry *base, *cur; /* borrowed from the runs */
	enum cmp_field field;
	char line[512]; /* "peak         test_x[10]: 1.00 MiB → 2.00 MiB (+100.0%) [peak:10%]" */
};

struct report_verdict {
	struct report_hit *hits; /* owned */
	size_t nr;
	size_t nr_compared; /* ids with memory data in both runs */
	char err[512];	    /* a rule that found no data on both sides ("" when none) */
};

/* Parses @text and appends it to @rs. Returns 0, or -EINVAL/-E2BIG with a reason in @err. */
int report_rules_add(struct report_rules *rs, const char *text, char *err, size_t errlen);

/* Evaluates every rule of @rules, @cur against @base, in rule order then @cur's entry order.
 * A rule that no id can be judged by (no rss data on both sides, no common id) stops the
 * evaluation with compare's message in @out->err, as compare exits 2 there. Returns 0 or
 * -ENOMEM; free @out with report_verdict_clear(). */
int report_gate_eval(const struct report_rules *rules, const struct run *base,
		     const struct run *cur, struct report_verdict *out);

/* NULL-safe; leaves @v empty. */
void report_verdict_clear(struct report_verdict *v);

#endif /* BM_REPORT_GATE_H */
