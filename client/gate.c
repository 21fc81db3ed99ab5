// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/gate.c — rules and ceilings of one run against its baseline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "runs.h"
#include "units.h"

void gate_init(struct gate_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int f = 0; f < CMP_NR_FIELDS; f++)
		o->ceiling[f] = UINT64_MAX;
}

static void fmt_value(enum cmp_field f, uint64_t v, char *buf, size_t len)
{
	if (f == CMP_ALLOCATIONS)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		units_format_bytes(v, buf, len);
}

static int push(struct gate_hit **hits, size_t *n, const char *name, const char *what)
{
	struct gate_hit *h = reallocarray(*hits, *n + 1, sizeof(**hits));

	if (!h)
		return -ENOMEM;
	*hits = h;
	snprintf(h[*n].name, sizeof(h[*n].name), "%s", name);
	snprintf(h[*n].what, sizeof(h[*n].what), "%s", what);
	(*n)++;
	return 0;
}

static void fmt_threshold(const struct cmp_rule *r, char *buf, size_t len)
{
	if (r->percent)
		snprintf(buf, len, "%s:%g%%", cmp_field_name(r->field), r->pct);
	else if (r->field == CMP_ALLOCATIONS)
		snprintf(buf, len, "%s:%llu", cmp_field_name(r->field),
			 (unsigned long long)r->limit);
	else
		snprintf(buf, len, "%s:%lluB", cmp_field_name(r->field),
			 (unsigned long long)r->limit);
}

static int check_rules(const struct gate_opts *o, const struct run *base, const struct run *cur,
		       struct gate_hit **hits, size_t *n, char *err, size_t errlen)
{
	for (int i = 0; i < o->nr_rules; i++) {
		const struct cmp_rule *r = &o->rules[i];
		bool compared = false;
		char rule[64];

		fmt_threshold(r, rule, sizeof(rule));
		for (size_t k = 0; k < cur->nr_entries; k++) {
			const struct run_entry *c = &cur->entries[k];
			const struct run_entry *b = run__find(base, c->fullname);
			struct cmp_verdict v;
			char what[512], b1[32], b2[32];

			if (!b || !b->has_mem || !c->has_mem)
				continue;
			if (cmp_rule_eval(r, &b->headline, &c->headline, &v))
				continue;
			compared = true;
			if (!v.regressed)
				continue;
			fmt_value(r->field, v.base, b1, sizeof(b1));
			fmt_value(r->field, v.cur, b2, sizeof(b2));
			snprintf(what, sizeof(what), "%s %s -> %s (%+.1f%%) [%s]",
				 cmp_field_name(r->field), b1, b2, v.change_pct, rule);
			if (push(hits, n, c->name, what))
				return -ENOMEM;
		}
		if (!compared) {
			snprintf(err, errlen,
				 "--fail-on %s: no region has %s data in both %s and "
				 "this run",
				 rule, cmp_field_name(r->field), base->path);
			return -ENODATA;
		}
	}
	return 0;
}

static int check_ceilings(const struct gate_opts *o, const struct run *cur, struct gate_hit **hits,
			  size_t *n)
{
	for (int f = 0; f < CMP_NR_FIELDS; f++) {
		if (o->ceiling[f] == UINT64_MAX)
			continue;
		for (size_t k = 0; k < cur->nr_entries; k++) {
			const struct run_entry *c = &cur->entries[k];
			char what[512], b1[32], b2[32];
			uint64_t worst;

			if (!c->has_mem ||
			    cmp_ceiling_check(&c->series, f, o->ceiling[f], &worst) != 1)
				continue;
			fmt_value(f, worst, b1, sizeof(b1));
			fmt_value(f, o->ceiling[f], b2, sizeof(b2));
			snprintf(what, sizeof(what), "%s %s exceeds max_%s %s", cmp_field_name(f),
				 b1, cmp_field_name(f), b2);
			if (push(hits, n, c->name, what))
				return -ENOMEM;
		}
	}
	return 0;
}

int gate_check(const struct gate_opts *o, json_t *doc, struct gate_hit **hits, size_t *n, char *err,
	       size_t errlen)
{
	struct run *cur = run__from_doc(doc, "this run", err, errlen), *base = NULL;
	struct runs rs = { 0 };
	int e = 0;

	*hits = NULL;
	*n = 0;
	if (!cur)
		return -errno;
	if (o->baseline && o->nr_rules) {
		e = runs__load(&rs, o->baseline, err, errlen);
		if (e)
			goto out;
		base = rs.v[rs.nr - 1]; /* a storage directory: its newest run */
		e = check_rules(o, base, cur, hits, n, err, errlen);
		if (e)
			goto out;
	}
	e = check_ceilings(o, cur, hits, n);
out:
	runs__clear(&rs);
	run__free(cur);
	return e;
}
