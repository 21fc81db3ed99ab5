// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/report.c — the report's HTML page: controls, regression summary, per group one
 * block of charts and a table per view, profile links. Charts come from report_svg.c. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"
#include "report_data.h"
#include "report_svg.h"

static const char css[] =
	"body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}"
	"header,main{max-width:1400px;margin:0 auto;padding:0 24px}"
	"header{position:sticky;top:0;background:#fafafa;border-bottom:1px solid #ddd;"
	"padding-bottom:8px;z-index:1}h1{font-size:1.4em;margin:12px 0 4px}"
	"h2{font-size:1.15em;margin:0 0 8px}.runs{margin:0;padding:0;list-style:none;"
	"font-size:.85em;color:#555}.runs li{display:inline;margin-right:14px}"
	".controls{margin-top:6px}.controls b{margin:0 6px 0 12px}.controls label{display:"
	"inline-block;padding:2px 9px;border:1px solid #bbb;border-radius:12px;margin:2px;"
	"cursor:pointer;background:#fff}input.sw{position:absolute;opacity:0;pointer-events:none}"
	"section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:12px 16px;"
	"margin:14px 0}.summary .hit{white-space:pre;font-weight:bold;color:#b3261e}"
	".summary li{margin:4px 0}.clean{color:#1e7b34;font-weight:bold}.error{color:#b3261e}"
	".view{display:none}.charts{display:flex;flex-wrap:wrap;gap:8px 18px}figure{margin:0}"
	"table{border-collapse:collapse;margin:8px 0;font-size:.9em}td,th{padding:2px 10px;"
	"border-bottom:1px solid #eee;text-align:right;white-space:nowrap}"
	"td:first-child,th:first-child{text-align:left}.worse{color:#b3261e;font-weight:bold}"
	".better{color:#1e7b34}code{background:#f2f2f2;padding:1px 4px;font-size:.9em}"
	"svg text{font-size:11px;fill:#333}svg .title{font-size:12px;font-weight:bold}"
	".axis{stroke:#888}.grid{stroke:#eee}.legend{font-size:.8em;max-width:540px}"
	".legend span{display:inline-block;margin:0 10px 2px 0}.legend i{display:inline-block;"
	"width:16px;height:0;border-top:3px solid;margin-right:4px;vertical-align:middle}"
	"details summary{cursor:pointer;color:#555}.note{color:#555;font-size:.9em}";

/* The views with data, the default (peak, min) first. */
static size_t views_of(const struct rep_model *m, struct rep_view *out)
{
	size_t n = 0;

	for (int k = 0; k < REP_NR_METRICS; k++)
		for (int s = 0; m->has_metric[k] && s < REP_NR_STATS; s++)
			out[n++] = (struct rep_view){ (enum rep_metric)k, (enum cmp_stat)s };
	return n;
}

/* Shows the view of the checked metric and stat, and marks the checked labels. */
static void view_css(FILE *f, const struct rep_model *m, const struct rep_view *vs, size_t nv)
{
	static const char on[] = "{background:#333;color:#fff;border-color:#333}";

	for (size_t i = 0; i < nv; i++) {
		const char *k = rep_metric_name(vs[i].metric), *s = cmp_stat_name(vs[i].stat);

		fprintf(f, "#m-%s:checked~#s-%s:checked~main .v-%s-%s{display:block}", k, s, k, s);
	}
	for (int k = 0; k < REP_NR_METRICS; k++)
		if (m->has_metric[k])
			fprintf(f, "#m-%s:checked~header label[for=m-%s]%s", rep_metric_name(k),
				rep_metric_name(k), on);
	for (int s = 0; s < REP_NR_STATS; s++)
		fprintf(f, "#s-%s:checked~header label[for=s-%s]%s", cmp_stat_name(s),
			cmp_stat_name(s), on);
}

static void controls(FILE *f, const struct rep_model *m)
{
	fputs("<div class=\"controls\"><b>metric</b>", f);
	for (int k = 0; k < REP_NR_METRICS; k++)
		if (m->has_metric[k])
			fprintf(f, "<label for=\"m-%s\">%s</label>", rep_metric_name(k),
				rep_metric_name(k));
	fputs("<b>stat</b>", f);
	for (int s = 0; s < REP_NR_STATS; s++)
		fprintf(f, "<label for=\"s-%s\">%s</label>", cmp_stat_name(s), cmp_stat_name(s));
	fputs(" <span class=\"note\">of each benchmark's passes; peak min = the headline "
	      "peak</span></div>\n",
	      f);
}

static void head(FILE *f, const struct rep_model *m, const struct rep_view *vs, size_t nv)
{
	const struct runs *rs = m->rs;

	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\">"
		"<title>benchmemd report</title><style>%s",
		css);
	view_css(f, m, vs, nv);
	fputs("</style></head><body>\n", f);
	/* the switches: siblings before header and main, so CSS can follow them */
	for (int k = 0; k < REP_NR_METRICS; k++)
		if (m->has_metric[k])
			fprintf(f,
				"<input type=\"radio\" class=\"sw\" name=\"metric\" id=\"m-%s\"%s>",
				rep_metric_name(k), k == REP_PEAK ? " checked" : "");
	for (int s = 0; s < REP_NR_STATS; s++)
		fprintf(f, "<input type=\"radio\" class=\"sw\" name=\"stat\" id=\"s-%s\"%s>",
			cmp_stat_name(s), s == CMP_STAT_MIN ? " checked" : "");
	fprintf(f, "\n<header><h1>benchmemd memory report</h1><ol class=\"runs\">");
	for (size_t r = 0; r < rs->nr; r++) {
		fprintf(f, "<li>%zu. <b>", r + 1);
		rep_esc(f, rs->v[r]->label);
		fputs("</b> <span title=\"", f);
		rep_esc(f, rs->v[r]->path);
		fputs("\">", f);
		rep_esc(f, rs->v[r]->path);
		fputs("</span></li>", f);
	}
	fputs("</ol>\n", f);
	controls(f, m);
	fputs("</header>\n<main>\n", f);
}

/* ".bin path" link and the command that renders it. */
static void profile_link(FILE *f, const char *who, const struct run_entry *e)
{
	if (!e || !e->profile)
		return;
	fputs("<div>", f);
	rep_esc(f, who);
	fputs(": <a href=\"", f);
	rep_esc(f, e->profile);
	fputs("\">", f);
	rep_esc(f, e->profile);
	fputs("</a> <code>memray flamegraph ", f);
	rep_esc(f, e->profile);
	fputs("</code></div>", f);
}

static void summary_hits(FILE *f, const struct gate_hit *hits, size_t n, const struct run *base,
			 const struct run *cur)
{
	char line[GATE_LINE_MAX];
	size_t bare = 0;

	fprintf(f, "<p>%zu regression(s) over threshold:</p><ol class=\"regressions\">", n);
	for (size_t i = 0; i < n; i++) {
		fputs("<li class=\"regression\"><code class=\"hit\">", f);
		rep_esc(f, gate_hit_line(&hits[i], false, line, sizeof(line)));
		fputs("</code>", f);
		profile_link(f, cur->label, hits[i].cur);
		profile_link(f, base->label, hits[i].base);
		bare += !hits[i].cur->profile && !(hits[i].base && hits[i].base->profile);
		fputs("</li>", f);
	}
	fputs("</ol>", f);
	if (bare)
		fprintf(f,
			"<p class=\"note\">%zu regression(s) without a kept profile: "
			"benchmem-run --fail-on ... --baseline ... keeps the .bin of each "
			"regressed region, --profile all of every region.</p>",
			bare);
}

/* The verdict of `benchmemctl compare BASE CUR --fail-on RULE...`: lib/gate's matching, rules
 * and lines; a rule no id could be judged by shows compare's error instead of a pass. */
static int summary(FILE *f, const struct runs *rs, const struct report_opts *o)
{
	const struct run *cur = rs->v[rs->nr - 1];
	const struct run *base = o->baseline ? o->baseline : rs->nr > 1 ? rs->v[rs->nr - 2] : NULL;
	struct gate_pair *pairs = NULL;
	struct gate_hit *hits = NULL;
	size_t nr_pairs = 0, n = 0;
	char err[512];
	int ret;

	fputs("<section class=\"summary\"><h2>Regressions</h2>\n", f);
	if (!base) {
		fputs("<p class=\"note\">One run and no --baseline: nothing to compare.</p>"
		      "</section>\n",
		      f);
		return 0;
	}
	if ((ret = gate_match(base, cur, &pairs, &nr_pairs)))
		goto out;
	ret = gate_eval_pairs(&o->gate, pairs, nr_pairs, cur, base->label, cur->label, &hits, &n,
			      err, sizeof(err));
	if (ret && ret != -ENODATA)
		goto out;
	fputs("<p class=\"note\"><b>", f);
	rep_esc(f, cur->label);
	fputs("</b> vs <b>", f);
	rep_esc(f, base->label);
	fprintf(f, "</b>, %zu benchmark(s) in both; rules", nr_pairs);
	for (int i = 0; i < o->gate.nr_rules; i++) {
		fputs(" <code>", f);
		rep_esc(f, o->gate.rule_text[i]);
		fputs("</code>", f);
	}
	fprintf(f,
		"%s; the same verdict as <code>benchmemctl compare BASE RUN --fail-on "
		"RULE</code>.</p>\n",
		o->default_rules ? " (the default; choose with --fail-on)" : "");
	if (ret) {
		fputs("<p class=\"error\">", f);
		rep_esc(f, err);
		fputs("</p>", f);
	} else if (n) {
		summary_hits(f, hits, n, base, cur);
	} else {
		fputs("<p class=\"clean\">no regressions over thresholds</p>", f);
	}
	fputs("</section>\n", f);
	ret = 0;
out:
	free(hits);
	free(pairs);
	return ret;
}

/* The last run vs the latest earlier run that measured the region under @v. */
static void change_cell(FILE *f, const struct runs *rs, const struct rep_region *rg,
			struct rep_view v)
{
	size_t nr = rs->nr;
	int p = rep_prev_run(rg, v, nr - 1);
	double a, b, pct;

	if (!rep_value(rg->by_run[nr - 1], v, &b)) {
		fputs(p >= 0 ? "<td class=\"note\">not in last run</td>" : "<td></td>", f);
		return;
	}
	if (p < 0 || !rep_value(rg->by_run[p], v, &a) || a <= 0) {
		fputs(nr > 1 ? "<td class=\"note\">new</td>" : "<td></td>", f);
		return;
	}
	pct = (b - a) / a * 100;
	fprintf(f, "<td class=\"change %s\">%+.1f%%",
		pct > 0.05    ? "worse"
		: pct < -0.05 ? "better"
			      : "same",
		pct);
	if ((size_t)p != nr - 2) {
		fputs(" <span class=\"note\">vs ", f);
		rep_esc(f, rs->v[p]->label);
		fputs("</span>", f);
	}
	fputs("</td>", f);
}

static void table(FILE *f, const struct rep_model *m, const struct rep_group *g, struct rep_view v)
{
	size_t nr = m->rs->nr, first = rep_first_recent(m->rs);
	char lab[48], val[48];
	double x;

	fprintf(f, "<table><tr><th>benchmark</th>");
	for (size_t r = first; r < nr; r++) {
		fprintf(f, "<th>%s ", rep_view_label(v, lab, sizeof(lab)));
		rep_esc(f, m->rs->v[r]->label);
		fputs("</th>", f);
	}
	fputs("<th>change (last vs previous)</th></tr>\n", f);
	for (size_t i = 0; i < g->nr; i++) {
		fputs("<tr><td title=\"", f);
		rep_esc(f, g->regions[i].fullname);
		fputs("\">", f);
		rep_esc(f, run__short_id(g->regions[i].fullname));
		fputs("</td>", f);
		for (size_t r = first; r < nr; r++)
			fprintf(f, "<td>%s</td>",
				rep_value(g->regions[i].by_run[r], v, &x)
					? rep_format(v.metric, x, val, sizeof(val))
					: "-");
		change_cell(f, m->rs, &g->regions[i], v);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
	if (first)
		fprintf(f, "<p class=\"note\">the newest %d runs; the trend shows all %zu</p>\n",
			REP_RECENT_RUNS, nr);
}

static int view_block(FILE *f, const struct rep_model *m, const struct rep_group *g,
		      struct rep_view v, bool primary)
{
	struct rep_chart c = { f, m, g, v, primary };
	int ret;

	/* the two fixed-width charts first, the bars (as wide as the group needs) after */
	fprintf(f, "<div class=\"view v-%s-%s\"><div class=\"charts\"><figure>",
		rep_metric_name(v.metric), cmp_stat_name(v.stat));
	rep_svg_trend(&c);
	rep_legend_regions(&c);
	fputs("</figure>", f);
	ret = rep_svg_scaling(&c);
	fputs("<figure>", f);
	rep_svg_bars(&c);
	fputs("</figure><figure>", f);
	table(f, m, g, v);
	fputs("</figure></div></div>\n", f);
	return ret;
}

static void profiles(FILE *f, const struct rep_model *m, const struct rep_group *g)
{
	bool any = false;

	for (size_t i = 0; i < g->nr; i++) {
		bool named = false;

		for (size_t r = 0; r < m->rs->nr; r++) {
			const struct run_entry *e = g->regions[i].by_run[r];

			if (!e || !e->profile)
				continue;
			if (!any)
				fputs("<details class=\"profiles\" open><summary>profiles (.bin, "
				      "memray format)</summary>",
				      f);
			if (!named) {
				fputs("<div><b>", f);
				rep_esc(f, run__short_id(e->fullname));
				fputs("</b></div>", f);
			}
			any = named = true;
			profile_link(f, m->rs->v[r]->label, e);
		}
	}
	if (any)
		fputs("</details>\n", f);
}

static int group_section(FILE *f, const struct rep_model *m, const struct rep_group *g,
			 const struct rep_view *vs, size_t nv)
{
	int ret = 0;

	fputs("<section class=\"group\"><h2>group: ", f);
	rep_esc(f, g->name ? g->name : "(none)");
	fprintf(f, "</h2>\n");
	for (size_t i = 0; !ret && i < nv; i++)
		ret = view_block(f, m, g, vs[i], i == 0);
	profiles(f, m, g);
	fputs("</section>\n", f);
	return ret;
}

int report_write(FILE *f, const struct runs *rs, const struct report_opts *o)
{
	struct rep_view vs[REP_NR_METRICS * REP_NR_STATS];
	struct rep_model m;
	size_t nv;
	int ret = rep_model_build(&m, rs);

	if (ret)
		goto out;
	nv = views_of(&m, vs);
	head(f, &m, vs, nv);
	ret = summary(f, rs, o);
	for (size_t i = 0; !ret && i < m.nr_groups; i++)
		ret = group_section(f, &m, &m.groups[i], vs, nv);
	fputs("</main></body></html>\n", f);
	if (!ret && ferror(f))
		ret = -EIO;
out:
	rep_model_clear(&m);
	return ret;
}
