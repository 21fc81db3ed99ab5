// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/report_gate.c — the regression summary through lib/compare's rule functions. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_data.h"
#include "report_gate.h"
#include "units.h"

int report_rules_add(struct report_rules *rs, const char *text, char *err, size_t errlen)
{
	char why[256];

	if (rs->nr >= REPORT_MAX_RULES) {
		snprintf(err, errlen, "--fail-on: at most %d rules", REPORT_MAX_RULES);
		return -E2BIG;
	}
	if (cmp_rule_parse(text, &rs->rule[rs->nr], why, sizeof(why))) {
		snprintf(err, errlen, "--fail-on %s", why);
		return -EINVAL;
	}
	rs->text[rs->nr++] = text;
	return 0;
}

static void fmt_field(enum cmp_field f, uint64_t v, char *buf, size_t len)
{
	if (f == CMP_ALLOCATIONS)
		snprintf(buf, len, "%" PRIu64, v);
	else
		units_format_bytes(v, buf, len);
}

static int push_hit(struct report_verdict *out, const struct report_rules *rules, int i,
		    const struct run_entry *b, const struct run_entry *c,
		    const struct cmp_verdict *v)
{
	enum cmp_field f = rules->rule[i].field;
	struct report_hit *h = reallocarray(out->hits, out->nr + 1, sizeof(*h));
	char x[32], y[32], pct[32];

	if (!h)
		return -ENOMEM;
	out->hits = h;
	h = &h[out->nr++];
	*h = (struct report_hit){ .base = b, .cur = c, .field = f };
	fmt_field(f, v->base, x, sizeof(x));
	fmt_field(f, v->cur, y, sizeof(y));
	if (v->base)
		snprintf(pct, sizeof(pct), "%+.1f%%", v->change_pct);
	else
		snprintf(pct, sizeof(pct), "new");
	/* compare's line, without its two-space indent and colour */
	snprintf(h->line, sizeof(h->line), "%-12s %s: %s \u2192 %s (%s) [%s]", cmp_field_name(f),
		 rep_short_id(c->fullname), x, y, pct, rules->text[i]);
	return 0;
}

/* compare's words for a rule no id could be judged by. */
static void no_data(struct report_verdict *out, const struct report_rules *rules, int i,
		    const struct run *base, const struct run *cur)
{
	if (rules->rule[i].field == CMP_RSS)
		snprintf(out->err, sizeof(out->err),
			 "--fail-on %s: no rss data: no benchmark has rss_bytes in both %s and %s "
			 "(mark the benchmarks isolate=True)",
			 rules->text[i], base->label, cur->label);
	else
		snprintf(out->err, sizeof(out->err),
			 "--fail-on %s: no benchmark has memory data in both %s and %s",
			 rules->text[i], base->label, cur->label);
}

/* compare's row order under its default --group-by fullname: version order of the ids */
static int hit_order(const void *a, const void *b)
{
	const struct report_hit *x = a, *y = b;

	return strverscmp(x->cur->fullname, y->cur->fullname);
}

int report_gate_eval(const struct report_rules *rules, const struct run *base,
		     const struct run *cur, struct report_verdict *out)
{
	*out = (struct report_verdict){ 0 };
	for (size_t k = 0; k < cur->nr_entries; k++) {
		const struct run_entry *b = run__find(base, cur->entries[k].fullname);

		out->nr_compared += b && b->has_mem && cur->entries[k].has_mem;
	}
	for (int i = 0; i < rules->nr; i++) {
		size_t nr_eval = 0, from = out->nr;

		for (size_t k = 0; k < cur->nr_entries; k++) {
			const struct run_entry *c = &cur->entries[k];
			const struct run_entry *b = run__find(base, c->fullname);
			struct cmp_verdict v;

			if (!b || !b->has_mem || !c->has_mem ||
			    cmp_rule_eval(&rules->rule[i], &b->headline, &c->headline, &v))
				continue;
			nr_eval++;
			if (v.regressed && push_hit(out, rules, i, b, c, &v))
				return -ENOMEM;
		}
		if (!nr_eval) {
			no_data(out, rules, i, base, cur);
			return 0;
		}
		if (out->nr > from)
			qsort(out->hits + from, out->nr - from, sizeof(*out->hits), hit_order);
	}
	return 0;
}

void report_verdict_clear(struct report_verdict *v)
{
	if (!v)
		return;
	free(v->hits);
	*v = (struct report_verdict){ 0 };
}
