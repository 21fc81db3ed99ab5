// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/gate.c — rules and ceilings over two parsed runs: one matching, one message format. */
#include "gate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

void gate_init(struct gate_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int f = 0; f < CMP_NR_FIELDS; f++)
		o->ceiling[f] = UINT64_MAX;
}

int gate_add_rule(struct gate_opts *o, const char *text, char *err, size_t errlen)
{
	char why[256];

	if (o->nr_rules >= GATE_MAX_RULES) {
		snprintf(err, errlen, "--fail-on: at most %d rules", GATE_MAX_RULES);
		return -E2BIG;
	}
	if (cmp_rule_parse(text, &o->rules[o->nr_rules], why, sizeof(why))) {
		snprintf(err, errlen, "--fail-on %s", why);
		return -EINVAL;
	}
	snprintf(o->rule_text[o->nr_rules++], sizeof(o->rule_text[0]), "%s", text);
	return 0;
}

int gate_set_ceiling(struct gate_opts *o, enum cmp_field f, const char *text, char *err,
		     size_t errlen)
{
	char why[256];

	if (cmp_limit_parse(f, text, &o->ceiling[f], why, sizeof(why))) {
		snprintf(err, errlen, "--max-%s: %s", cmp_field_name(f), why);
		return -EINVAL;
	}
	return 0;
}

bool gate_has_checks(const struct gate_opts *o)
{
	for (int f = 0; f < CMP_NR_FIELDS; f++) {
		if (o->ceiling[f] != UINT64_MAX)
			return true;
	}
	return o->nr_rules > 0;
}

static int pair_order(const void *a, const void *b)
{
	const struct gate_pair *x = a, *y = b;

	return strverscmp(x->cur->fullname, y->cur->fullname);
}

int gate_match(const struct run *base, const struct run *cur, struct gate_pair **pairs, size_t *n)
{
	struct gate_pair *v = calloc(cur->nr_entries ? cur->nr_entries : 1, sizeof(*v));

	*pairs = v;
	*n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cur->nr_entries; i++) {
		const struct run_entry *c = &cur->entries[i];
		const struct run_entry *b = run__find(base, c->fullname);

		if (b && b->has_mem && c->has_mem)
			v[(*n)++] = (struct gate_pair){ .name = c->name, .base = b, .cur = c };
	}
	qsort(v, *n, sizeof(*v), pair_order);
	return 0;
}

static void fmt_field(enum cmp_field f, uint64_t v, char *buf, size_t len)
{
	if (f == CMP_ALLOCATIONS)
		snprintf(buf, len, "%" PRIu64, v);
	else
		units_format_bytes(v, buf, len);
}

/* Appends a hit; its @what is built from the parts already in @proto. */
static int push(struct gate_hit **hits, size_t *n, const struct gate_hit *proto)
{
	struct gate_hit *h = reallocarray(*hits, *n + 1, sizeof(**hits));

	if (!h)
		return -ENOMEM;
	*hits = h;
	h[(*n)++] = *proto;
	return 0;
}

static int eval_rule(const struct gate_opts *o, int i, const struct gate_pair *pairs, size_t nr,
		     const char *base_label, const char *cur_label, struct gate_hit **hits,
		     size_t *n, char *err, size_t errlen)
{
	const struct cmp_rule *rule = &o->rules[i];
	struct cmp_verdict v;
	size_t nr_eval = 0;
	struct gate_hit h;

	for (size_t k = 0; k < nr; k++) {
		if (cmp_rule_eval(rule, &pairs[k].base->headline, &pairs[k].cur->headline, &v))
			continue;
		nr_eval++;
		if (!v.regressed)
			continue;
		h = (struct gate_hit){ .rule = i,
				       .was = v.base,
				       .now = v.cur,
				       .change_pct = v.change_pct,
				       .base = pairs[k].base,
				       .cur = pairs[k].cur };
		snprintf(h.kind, sizeof(h.kind), "%s", cmp_field_name(rule->field));
		snprintf(h.name, sizeof(h.name), "%s", pairs[k].name);
		fmt_field(rule->field, v.base, h.was_text, sizeof(h.was_text));
		fmt_field(rule->field, v.cur, h.now_text, sizeof(h.now_text));
		if (v.base)
			snprintf(h.change, sizeof(h.change), "%+.1f%%", v.change_pct);
		else
			snprintf(h.change, sizeof(h.change), "new");
		snprintf(h.what, sizeof(h.what), "%s \u2192 %s (%s) [%s]", h.was_text, h.now_text,
			 h.change, o->rule_text[i]);
		if (push(hits, n, &h))
			return -ENOMEM;
	}
	if (nr_eval)
		return 0;
	if (rule->field == CMP_RSS)
		snprintf(err, errlen,
			 "--fail-on %s: no rss data: no benchmark has rss_bytes in both %s and %s "
			 "(mark the benchmarks isolate=True)",
			 o->rule_text[i], base_label, cur_label);
	else
		snprintf(err, errlen,
			 "--fail-on %s: no benchmark has memory data in both %s and %s",
			 o->rule_text[i], base_label, cur_label);
	return -ENODATA;
}

static int eval_ceilings(const struct gate_opts *o, const struct run *run, struct gate_hit **hits,
			 size_t *n)
{
	struct gate_hit h;
	uint64_t worst;

	for (size_t i = 0; i < run->nr_entries; i++) {
		const struct run_entry *e = &run->entries[i];

		for (int f = 0; e->has_mem && f < CMP_NR_FIELDS; f++) {
			const char *field = cmp_field_name((enum cmp_field)f);

			if (o->ceiling[f] == UINT64_MAX ||
			    cmp_ceiling_check(&e->series, (enum cmp_field)f, o->ceiling[f],
					      &worst) != 1)
				continue;
			h = (struct gate_hit){
				.rule = -1, .was = o->ceiling[f], .now = worst, .cur = e
			};
			snprintf(h.kind, sizeof(h.kind), "max_%s", field);
			snprintf(h.name, sizeof(h.name), "%s", e->name);
			fmt_field((enum cmp_field)f, o->ceiling[f], h.was_text, sizeof(h.was_text));
			fmt_field((enum cmp_field)f, worst, h.now_text, sizeof(h.now_text));
			snprintf(h.what, sizeof(h.what), "%s %s exceeds %s %s", field, h.now_text,
				 h.kind, h.was_text);
			if (push(hits, n, &h))
				return -ENOMEM;
		}
	}
	return 0;
}

int gate_eval_pairs(const struct gate_opts *o, const struct gate_pair *pairs, size_t nr_pairs,
		    const struct run *ceil_run, const char *base_label, const char *cur_label,
		    struct gate_hit **hits, size_t *n, char *err, size_t errlen)
{
	int ret = 0;

	*hits = NULL;
	*n = 0;
	for (int i = 0; !ret && i < o->nr_rules; i++)
		ret = eval_rule(o, i, pairs, nr_pairs, base_label, cur_label, hits, n, err, errlen);
	if (!ret)
		ret = eval_ceilings(o, ceil_run, hits, n);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (ret) {
		free(*hits);
		*hits = NULL;
		*n = 0;
	}
	return ret;
}

int gate_eval(const struct gate_opts *o, const struct run *base, const struct run *cur,
	      const char *base_label, const char *cur_label, struct gate_hit **hits, size_t *n,
	      char *err, size_t errlen)
{
	struct gate_pair *pairs = NULL;
	size_t nr = 0;
	int ret;

	*hits = NULL;
	*n = 0;
	if (base && gate_match(base, cur, &pairs, &nr)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!base && o->nr_rules) {
		snprintf(err, errlen, "--fail-on needs a baseline");
		return -EINVAL;
	}
	ret = gate_eval_pairs(o, pairs, nr, cur, base_label, cur_label, hits, n, err, errlen);
	free(pairs);
	return ret;
}

const char *gate_hit_line(const struct gate_hit *h, bool color, char *buf, size_t len)
{
	snprintf(buf, len, "%s%-12s%s %s: %s", color ? "\033[31m" : "", h->kind,
		 color ? "\033[0m" : "", h->name, h->what);
	return buf;
}

void gate_print(FILE *f, const char *prefix, const struct gate_hit *hits, size_t n, bool color)
{
	char line[GATE_LINE_MAX];

	if (!n)
		return;
	fprintf(f, "%s%zu regression(s) over threshold:\n", prefix, n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %s\n", gate_hit_line(&hits[i], color, line, sizeof(line)));
}
