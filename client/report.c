// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/report.c — writes the HTML report: per group, SVG bars of peak per run, a change
 * table, a scaling chart over a numeric param, profile links. Self-contained, no scripts. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "units.h"

#define BAR_W	    18	 /* px per bar */
#define REGION_GAP  24	 /* px between regions */
#define CHART_H	    260	 /* px of plot height */
#define PAD_L	    90	 /* room for the y-axis labels */
#define PAD_B	    110	 /* room for the rotated region names */
#define MAX_REGIONS 2048 /* regions drawn per group */
#define SCALE_W	    560	 /* px of scaling plot width */

static const char *const palette[] = { "#4e79a7", "#f28e2b", "#59a14f", "#e15759",
				       "#76b7b2", "#edc948", "#b07aa1", "#9c755f" };

static const char css[] =
	"body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}"
	"h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}"
	"table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px "
	"solid "
	"#eee;text-align:right}td:first-child,th:first-child{text-align:left}"
	"td{white-space:nowrap}td.prof{text-align:left;white-space:normal}.worse{color:#c0392b;"
	"font-weight:bold}."
	"better{color:#27ae60}"
	"svg text{font-size:11px;fill:#333}svg .title{font-size:13px;font-weight:bold}"
	".axis{stroke:#888}.grid{stroke:#eee}.legend span{display:inline-block;width:12px;"
	"height:12px;margin:0 4px 0 12px;vertical-align:middle}code{background:#f4f4f4;padding:1px "
	"4px}";

/* One region (an id) of a group: its entries per run (NULL when absent). */
struct region {
	const char *fullname;
	const struct run_entry **by_run;
};

struct group {
	const char *name; /* NULL: entries without a group */
	struct region *regions;
	size_t nr;
};

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char *short_id(const char *key)
{
	const char *br = strchr(key, '['), *p = key, *q;

	while ((q = strstr(p, "::")) && (!br || q < br))
		p = q + 2;
	return p;
}

static bool same_group(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Adds run @ri's entry @e to the group list (groups and regions in first-seen order). */
static int add_entry(struct group **gs, size_t *ng, size_t nr_runs, size_t ri,
		     const struct run_entry *e)
{
	struct group *g = NULL;
	struct region *r = NULL;
	void *v;

	for (size_t i = 0; !g && i < *ng; i++)
		g = same_group((*gs)[i].name, e->group) ? &(*gs)[i] : NULL;
	if (!g) {
		if (!(v = realloc(*gs, (*ng + 1) * sizeof(**gs))))
			return -ENOMEM;
		*gs = v;
		g = &(*gs)[(*ng)++];
		*g = (struct group){ .name = e->group };
	}
	for (size_t i = 0; !r && i < g->nr; i++)
		r = !strcmp(g->regions[i].fullname, e->fullname) ? &g->regions[i] : NULL;
	if (!r) {
		if (g->nr >= MAX_REGIONS || !(v = realloc(g->regions, (g->nr + 1) * sizeof(*r))))
			return g->nr >= MAX_REGIONS ? 0 : -ENOMEM;
		g->regions = v;
		r = &g->regions[g->nr++];
		r->fullname = e->fullname;
		if (!(r->by_run = calloc(nr_runs, sizeof(*r->by_run))))
			return -ENOMEM;
	}
	r->by_run[ri] = e;
	return 0;
}

static void groups_free(struct group *gs, size_t ng)
{
	for (size_t i = 0; i < ng; i++) {
		for (size_t j = 0; j < gs[i].nr; j++)
			free(gs[i].regions[j].by_run);
		free(gs[i].regions);
	}
	free(gs);
}

static uint64_t group_max_peak(const struct group *g, size_t nr_runs)
{
	uint64_t m = 1;

	for (size_t i = 0; i < g->nr; i++) {
		for (size_t r = 0; r < nr_runs; r++) {
			const struct run_entry *e = g->regions[i].by_run[r];

			if (e && e->has_mem && e->headline.peak_bytes > m)
				m = e->headline.peak_bytes;
		}
	}
	return m;
}

static void y_axis(FILE *f, double x0, double x1, uint64_t max, const char *label)
{
	char buf[32];

	for (int t = 0; t <= 4; t++) {
		double y = 20 + CHART_H - CHART_H * t / 4.0;

		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
			x0, x1, y, y);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", x0 - 6,
			y + 4, units_format_bytes((uint64_t)(max * t / 4.0), buf, sizeof(buf)));
	}
	fprintf(f,
		"<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>",
		20 + CHART_H / 2, label);
}

static void bar_chart(FILE *f, const struct group *g, const struct runs *rs)
{
	uint64_t max = group_max_peak(g, rs->nr);
	double slot = (double)rs->nr * BAR_W + REGION_GAP;
	double w = PAD_L + slot * (double)g->nr + 20;
	char buf[32];

	fprintf(f, "<svg class=\"peaks\" width=\"%.0f\" height=\"%d\" role=\"img\">", w,
		CHART_H + 20 + PAD_B);
	y_axis(f, PAD_L, w - 10, max, "peak (headline: min of passes)");
	for (size_t i = 0; i < g->nr; i++) {
		double x = PAD_L + REGION_GAP / 2.0 + slot * (double)i;

		for (size_t r = 0; r < rs->nr; r++) {
			const struct run_entry *e = g->regions[i].by_run[r];
			double h;

			if (!e || !e->has_mem)
				continue;
			h = CHART_H * (double)e->headline.peak_bytes / (double)max;
			fprintf(f,
				"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" "
				"height=\"%.1f\" fill=\"%s\"><title>",
				x + (double)r * BAR_W, 20 + CHART_H - h, BAR_W - 2, h,
				palette[r % ARRAY_SIZE(palette)]);
			esc(f, e->fullname);
			fprintf(f, " \u2014 ");
			esc(f, rs->v[r]->label);
			fprintf(f, ": peak %s</title></rect>",
				units_format_bytes(e->headline.peak_bytes, buf, sizeof(buf)));
		}
		fprintf(f,
			"<text transform=\"translate(%.1f,%d) rotate(-40)\" "
			"text-anchor=\"end\">",
			x + (double)rs->nr * BAR_W / 2, CHART_H + 34);
		esc(f, short_id(g->regions[i].fullname));
		fputs("</text>", f);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%.0f\" y1=\"%d\" y2=\"%d\"/></svg>\n",
		PAD_L, w - 10, 20 + CHART_H, 20 + CHART_H);
}

static void legend(FILE *f, const struct runs *rs)
{
	fputs("<div class=\"legend\">runs:", f);
	for (size_t r = 0; r < rs->nr; r++) {
		fprintf(f, "<span style=\"background:%s\"></span>",
			palette[r % ARRAY_SIZE(palette)]);
		esc(f, rs->v[r]->label);
	}
	fputs("</div>\n", f);
}

static void profile_cell(FILE *f, const struct region *rg, const struct runs *rs)
{
	for (size_t r = 0; r < rs->nr; r++) {
		const struct run_entry *e = rg->by_run[r];

		if (!e || !e->profile)
			continue;
		fputs("<div>", f);
		esc(f, rs->v[r]->label);
		fputs(": <a href=\"", f);
		esc(f, e->profile);
		fputs("\">", f);
		esc(f, e->profile);
		fputs("</a> <code>memray flamegraph ", f);
		esc(f, e->profile);
		fputs("</code></div>", f);
	}
}

static void change_cell(FILE *f, const struct region *rg, size_t nr_runs)
{
	const struct run_entry *a = rg->by_run[0], *b = rg->by_run[nr_runs - 1];
	double pct;

	if (nr_runs < 2 || !a || !b || !a->has_mem || !b->has_mem || !a->headline.peak_bytes) {
		fputs("<td>n/a</td>", f);
		return;
	}
	pct = ((double)b->headline.peak_bytes - (double)a->headline.peak_bytes) /
	      (double)a->headline.peak_bytes * 100;
	fprintf(f, "<td class=\"change %s\">%+.1f%%</td>",
		pct > 0.05    ? "worse"
		: pct < -0.05 ? "better"
			      : "same",
		pct);
}

static void region_table(FILE *f, const struct group *g, const struct runs *rs)
{
	char buf[32];

	fputs("<table><tr><th>region</th>", f);
	for (size_t r = 0; r < rs->nr; r++) {
		fputs("<th>peak ", f);
		esc(f, rs->v[r]->label);
		fputs("</th>", f);
	}
	fputs("<th>change (last vs first)</th><th>profiles</th></tr>\n", f);
	for (size_t i = 0; i < g->nr; i++) {
		fputs("<tr><td>", f);
		esc(f, g->regions[i].fullname);
		fputs("</td>", f);
		for (size_t r = 0; r < rs->nr; r++) {
			const struct run_entry *e = g->regions[i].by_run[r];

			fprintf(f, "<td>%s</td>",
				e && e->has_mem ? units_format_bytes(e->headline.peak_bytes, buf,
								     sizeof(buf))
						: "-");
		}
		change_cell(f, &g->regions[i], rs->nr);
		fputs("<td class=\"prof\">", f);
		profile_cell(f, &g->regions[i], rs);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* ---- scaling chart ------------------------------------------------------------------------ */

struct point {
	double x, y;
	size_t series;
};

struct scaling {
	const char *param;
	struct point *pts;
	size_t nr_pts;
	char **names; /* series names: "run: func[other params]" */
	size_t nr_series;
	double xmin, xmax, ymin, ymax;
	bool logx, logy;
};

/* The first param with >= 2 distinct numeric values among the group's measured entries. */
static const char *scaling_param(const struct group *g, size_t nr_runs)
{
	for (size_t i = 0; i < g->nr; i++) {
		for (size_t r = 0; r < nr_runs; r++) {
			const struct run_entry *e = g->regions[i].by_run[r];
			const char *key;
			json_t *v;

			if (!e || !e->has_mem || !e->params)
				continue;
			json_object_foreach((json_t *)e->params, key, v)
			{
				double first = NAN;

				if (!json_is_number(v))
					continue;
				for (size_t j = 0; j < g->nr; j++) {
					for (size_t s = 0; s < nr_runs; s++) {
						const struct run_entry *o = g->regions[j].by_run[s];
						json_t *w =
							o && o->has_mem && o->params
								? json_object_get(o->params, key)
								: NULL;

						if (!json_is_number(w))
							continue;
						if (isnan(first))
							first = json_number_value(w);
						else if (json_number_value(w) != first)
							return key;
					}
				}
			}
		}
	}
	return NULL;
}

/* "run: func[other=params]" — the points of one line. */
static char *series_name(const struct run_entry *e, const char *param, const char *label)
{
	const char *seg = short_id(e->fullname), *key;
	size_t n = strcspn(seg, "[");
	char *out, *next;
	json_t *v;

	if (asprintf(&out, "%s: %.*s", label, (int)n, seg) < 0)
		return NULL;
	json_object_foreach((json_t *)e->params, key, v)
	{
		char *val;

		if (!strcmp(key, param))
			continue;
		val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!val || asprintf(&next, "%s %s=%s", out, key, val) < 0)
			next = NULL;
		free(val);
		free(out);
		if (!(out = next))
			return NULL;
	}
	return out;
}

static int add_point(struct scaling *sc, const struct run_entry *e, const char *label)
{
	char *name = series_name(e, sc->param, label);
	size_t s = 0;
	void *v;

	if (!name)
		return -ENOMEM;
	while (s < sc->nr_series && strcmp(sc->names[s], name))
		s++;
	if (s == sc->nr_series) {
		if (!(v = realloc(sc->names, (s + 1) * sizeof(*sc->names)))) {
			free(name);
			return -ENOMEM;
		}
		sc->names = v;
		sc->names[sc->nr_series++] = name;
	} else {
		free(name);
	}
	if (!(v = realloc(sc->pts, (sc->nr_pts + 1) * sizeof(*sc->pts))))
		return -ENOMEM;
	sc->pts = v;
	sc->pts[sc->nr_pts++] =
		(struct point){ json_number_value(json_object_get(e->params, sc->param)),
				(double)e->headline.peak_bytes, s };
	return 0;
}

static int point_order(const void *a, const void *b)
{
	const struct point *p = a, *q = b;

	if (p->series != q->series)
		return p->series < q->series ? -1 : 1;
	return (p->x > q->x) - (p->x < q->x);
}

static int scaling_collect(struct scaling *sc, const struct group *g, const struct runs *rs)
{
	for (size_t i = 0; i < g->nr; i++) {
		for (size_t r = 0; r < rs->nr; r++) {
			const struct run_entry *e = g->regions[i].by_run[r];

			if (!e || !e->has_mem || !e->params ||
			    !json_is_number(json_object_get(e->params, sc->param)))
				continue;
			if (add_point(sc, e, rs->v[r]->label))
				return -ENOMEM;
		}
	}
	qsort(sc->pts, sc->nr_pts, sizeof(*sc->pts), point_order);
	sc->xmin = sc->ymin = INFINITY;
	sc->xmax = sc->ymax = -INFINITY;
	for (size_t i = 0; i < sc->nr_pts; i++) {
		sc->xmin = fmin(sc->xmin, sc->pts[i].x);
		sc->xmax = fmax(sc->xmax, sc->pts[i].x);
		sc->ymin = fmin(sc->ymin, sc->pts[i].y);
		sc->ymax = fmax(sc->ymax, sc->pts[i].y);
	}
	/* log axes when the values span two decades or more */
	sc->logx = sc->xmin > 0 && sc->xmax / sc->xmin >= 100;
	sc->logy = sc->ymin > 0 && sc->ymax / sc->ymin >= 100;
	if (!sc->logy)
		sc->ymin = 0;
	return 0;
}

static double scale(double v, double lo, double hi, bool logs, double px)
{
	if (logs)
		return hi > lo ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) * px : 0;
	return hi > lo ? (v - lo) / (hi - lo) * px : px / 2;
}

static void scaling_axes(FILE *f, const struct scaling *sc)
{
	char buf[32];

	for (int t = 0; t <= 4; t++) {
		double fx = t / 4.0, xv, yv, x, y;

		xv = sc->logx ? pow(10, log10(sc->xmin) + fx * (log10(sc->xmax) - log10(sc->xmin)))
			      : sc->xmin + fx * (sc->xmax - sc->xmin);
		yv = sc->logy ? pow(10, log10(sc->ymin) + fx * (log10(sc->ymax) - log10(sc->ymin)))
			      : sc->ymin + fx * (sc->ymax - sc->ymin);
		x = PAD_L + fx * SCALE_W;
		y = 20 + CHART_H - fx * CHART_H;
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>",
			PAD_L, PAD_L + SCALE_W, y, y);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", PAD_L - 6,
			y + 4, units_format_bytes((uint64_t)llround(yv), buf, sizeof(buf)));
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.4g</text>", x,
			CHART_H + 38, xv);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", PAD_L + SCALE_W / 2,
		CHART_H + 60);
	esc(f, sc->param);
	fprintf(f, "%s</text>", sc->logx ? " (log scale)" : "");
	fprintf(f,
		"<text transform=\"translate(14,%d) rotate(-90)\" "
		"text-anchor=\"middle\">peak%s</text>",
		20 + CHART_H / 2, sc->logy ? " (log scale)" : "");
}

static void scaling_lines(FILE *f, const struct scaling *sc)
{
	char buf[32];

	for (size_t i = 0; i < sc->nr_pts; i++) {
		const struct point *p = &sc->pts[i];
		const char *color = palette[p->series % ARRAY_SIZE(palette)];
		double x = PAD_L + scale(p->x, sc->xmin, sc->xmax, sc->logx, SCALE_W);
		double y = 20 + CHART_H - scale(p->y, sc->ymin, sc->ymax, sc->logy, CHART_H);

		if (!i || sc->pts[i - 1].series != p->series)
			fprintf(f,
				"%s<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
				"points=\"",
				i ? "\"/>" : "", color);
		fprintf(f, "%.1f,%.1f ", x, y);
	}
	if (sc->nr_pts)
		fputs("\"/>", f);
	for (size_t i = 0; i < sc->nr_pts; i++) {
		const struct point *p = &sc->pts[i];

		fprintf(f,
			"<circle class=\"point\" r=\"4\" fill=\"%s\" cx=\"%.1f\" "
			"cy=\"%.1f\"><title>",
			palette[p->series % ARRAY_SIZE(palette)],
			PAD_L + scale(p->x, sc->xmin, sc->xmax, sc->logx, SCALE_W),
			20 + CHART_H - scale(p->y, sc->ymin, sc->ymax, sc->logy, CHART_H));
		esc(f, sc->names[p->series]);
		fprintf(f, " %s=%g: peak %s</title></circle>", sc->param, p->x,
			units_format_bytes((uint64_t)p->y, buf, sizeof(buf)));
	}
}

static int scaling_chart(FILE *f, const struct group *g, const struct runs *rs)
{
	struct scaling sc = { .param = scaling_param(g, rs->nr) };
	int ret;

	if (!sc.param)
		return 0;
	ret = scaling_collect(&sc, g, rs);
	if (!ret) {
		fputs("<h3>peak vs ", f);
		esc(f, sc.param);
		fprintf(f, "</h3>\n<svg class=\"scaling\" width=\"%d\" height=\"%d\" role=\"img\">",
			PAD_L + SCALE_W + 20, CHART_H + 70);
		scaling_axes(f, &sc);
		scaling_lines(f, &sc);
		fputs("</svg>\n<div class=\"legend\">", f);
		for (size_t s = 0; s < sc.nr_series; s++) {
			fprintf(f, "<span style=\"background:%s\"></span>",
				palette[s % ARRAY_SIZE(palette)]);
			esc(f, sc.names[s]);
		}
		fputs("</div>\n", f);
	}
	for (size_t s = 0; s < sc.nr_series; s++)
		free(sc.names[s]);
	free(sc.names);
	free(sc.pts);
	return ret;
}

/* ---- the document --------------------------------------------------------------------------- */

static int collect_groups(const struct runs *rs, struct group **gs, size_t *ng)
{
	bool any = false;
	int ret;

	for (size_t r = 0; r < rs->nr; r++) {
		for (size_t i = 0; i < rs->v[r]->nr_entries; i++) {
			const struct run_entry *e = &rs->v[r]->entries[i];

			if (!e->has_mem)
				continue;
			any = true;
			ret = add_entry(gs, ng, rs->nr, r, e);
			if (ret)
				return ret;
		}
	}
	return any ? 0 : -ENODATA;
}

static void head(FILE *f, const struct runs *rs)
{
	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>benchmemd report</title><style>%s</style></head><body>\n",
		css);
	fputs("<h1>benchmemd memory report</h1>\n<p>Peak = the lowest peak over a region's "
	      "passes (pytest-benchmem's headline); change = last run vs first. Hover a bar or a "
	      "point for its value.</p>\n<ol class=\"runs\">",
	      f);
	for (size_t r = 0; r < rs->nr; r++) {
		fputs("<li><b>", f);
		esc(f, rs->v[r]->label);
		fputs("</b> ", f);
		esc(f, rs->v[r]->path);
		fputs("</li>", f);
	}
	fputs("</ol>\n", f);
}

int report_write(FILE *f, const struct runs *rs)
{
	struct group *gs = NULL;
	size_t ng = 0;
	int ret = collect_groups(rs, &gs, &ng);

	if (ret)
		goto out;
	head(f, rs);
	for (size_t i = 0; !ret && i < ng; i++) {
		fputs("<section class=\"group\"><h2>group: ", f);
		esc(f, gs[i].name ? gs[i].name : "(none)");
		fputs("</h2>\n", f);
		legend(f, rs);
		bar_chart(f, &gs[i], rs);
		region_table(f, &gs[i], rs);
		ret = scaling_chart(f, &gs[i], rs);
		fputs("</section>\n", f);
	}
	fputs("</body></html>\n", f);
	if (!ret && ferror(f))
		ret = -EIO;
out:
	groups_free(gs, ng);
	return ret;
}
