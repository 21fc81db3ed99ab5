// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/gate_json.c — lib/gate's verdict as JSON (see gate_json.h). */
#include "gate_json.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>

static json_t *headline_json(const struct cmp_headline *h)
{
	json_t *o =
		json_pack("{s:I, s:I, s:I}", "peak_bytes", (json_int_t)h->peak_bytes, "total_bytes",
			  (json_int_t)h->total_bytes, "allocations", (json_int_t)h->allocations);

	if (o && h->has_rss && json_object_set_new(o, "rss_bytes", json_integer(h->rss_bytes))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *hit_json(const struct gate_opts *o, const struct gate_hit *h)
{
	char line[GATE_LINE_MAX];
	bool rule = h->rule >= 0;

	return json_pack("{s:s, s:o, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:o, s:s, s:s}", "kind",
			 h->kind, "rule", rule ? json_string(o->rule_text[h->rule]) : json_null(),
			 "name", h->name, "fullname", h->cur->fullname, "was", (json_int_t)h->was,
			 "now", (json_int_t)h->now, "was_text", h->was_text, "now_text",
			 h->now_text, "change", h->change, "change_pct",
			 rule ? json_real(h->change_pct) : json_null(), "what", h->what, "line",
			 gate_hit_line(h, false, line, sizeof(line)));
}

static json_t *pair_json(const struct gate_pair *p)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "fullname", p->cur->fullname, "name", p->name,
			 "base", headline_json(&p->base->headline), "cur",
			 headline_json(&p->cur->headline));
}

/* Dumps @doc (stolen) and a newline to @f. */
static int dump(FILE *f, json_t *doc)
{
	int ret = doc ? 0 : -ENOMEM;

	if (!ret &&
	    (json_dumpf(doc, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) || fputc('\n', f) == EOF))
		ret = -EIO;
	json_decref(doc);
	return ret;
}

int gate_json_print_checks(FILE *f, const struct gate_opts *o)
{
	json_t *rules = json_array();
	const char *sep = "";
	char *text = NULL;
	int ret = rules ? 0 : -ENOMEM;

	for (int i = 0; !ret && i < o->nr_rules; i++)
		ret = json_array_append_new(rules, json_string(o->rule_text[i])) ? -ENOMEM : 0;
	if (!ret && !(text = json_dumps(rules, JSON_COMPACT)))
		ret = -ENOMEM;
	json_decref(rules);
	if (ret)
		return ret;
	/* by hand: a ceiling is a u64 up to UINT64_MAX - 1, past jansson's signed integers */
	fprintf(f, "{\"rules\": %s, \"ceilings\": {", text);
	free(text);
	for (int k = 0; k < CMP_NR_FIELDS; k++) {
		if (o->ceiling[k] == UINT64_MAX)
			continue;
		fprintf(f, "%s\"max_%s\": %" PRIu64, sep, cmp_field_name((enum cmp_field)k),
			o->ceiling[k]);
		sep = ", ";
	}
	return fputs("}}\n", f) == EOF || ferror(f) ? -EIO : 0;
}

int gate_json_print(FILE *f, const struct gate_opts *o, const char *base_label,
		    const char *cur_label, const struct gate_pair *pairs, size_t nr_pairs,
		    const struct gate_hit *hits, size_t nr_hits)
{
	json_t *doc = json_pack("{s:s, s:s, s:b, s:[], s:[]}", "baseline", base_label, "run",
				cur_label, "regressed", nr_hits > 0, "hits", "pairs");
	json_t *hv = doc ? json_object_get(doc, "hits") : NULL;
	json_t *pv = doc ? json_object_get(doc, "pairs") : NULL;
	int ret = doc ? 0 : -ENOMEM;

	/* json_pack's "o" steals a NULL member and fails: a NULL here is out of memory */
	for (size_t i = 0; !ret && i < nr_hits; i++)
		ret = json_array_append_new(hv, hit_json(o, &hits[i])) ? -ENOMEM : 0;
	for (size_t i = 0; !ret && i < nr_pairs; i++)
		ret = json_array_append_new(pv, pair_json(&pairs[i])) ? -ENOMEM : 0;
	if (ret) {
		json_decref(doc);
		return ret;
	}
	return dump(f, doc);
}
