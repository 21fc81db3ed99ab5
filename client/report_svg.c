// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/report_svg.c — small inline SVG charts: bars, trend across runs, scaling. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_svg.h"

#define CHART_W	  540 /* px: two charts side by side in 1400 px, the bars and table below */
#define PLOT_H	  170 /* px of plot height */
#define PAD_L	  64  /* y tick labels */
#define PAD_R	  14
#define PAD_T	  26 /* the chart's title */
#define PAD_B	  74 /* rotated x labels and the x axis name */
#define LOG_RATIO 20 /* log scale when max / min >= this */
#define LABEL_MAX 22 /* characters of an x label */

/* Tableau 10: hues told apart by most readers, also in greyscale print. */
static const char *const palette[] = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
				       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac" };
static const char *const dashes[] = { "", "6 3", "2 2", "8 3 2 3" };

#define NR_PALETTE (sizeof(palette) / sizeof(*palette))
#define NR_DASHES  (sizeof(dashes) / sizeof(*dashes))

/* The plot area inside an SVG. */
struct frame {
	double x0, y0, w, h;
};

void rep_esc(FILE *f, const char *s)
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

const char *rep_color(size_t i)
{
	return palette[i % NR_PALETTE];
}

const char *rep_dash(size_t i)
{
	return dashes[(i / NR_PALETTE) % NR_DASHES];
}

const char *rep_run_color(size_t r, size_t n, char *buf, size_t len)
{
	if (n <= NR_PALETTE)
		return rep_color(r);
	/* a long history: older runs light, the newest dark */
	snprintf(buf, len, "hsl(212,55%%,%d%%)", 82 - (int)(50.0 * (double)r / (double)(n - 1)));
	return buf;
}

const char *rep_view_label(struct rep_view v, char *buf, size_t len)
{
	if (v.stat == CMP_STAT_MIN)
		snprintf(buf, len, "%s", rep_metric_name(v.metric));
	else
		snprintf(buf, len, "%s (%s)", rep_metric_name(v.metric), cmp_stat_name(v.stat));
	return buf;
}

static const char *alt(const struct rep_chart *c)
{
	return c->primary ? "" : " alt";
}

/* The y axis of @c's values over the whole group, so every chart of a group agrees. */
static void y_ticks(const struct rep_chart *c, struct ticks *t)
{
	double lo = INFINITY, hi = 0, x;

	for (size_t i = 0; i < c->g->nr; i++) {
		for (size_t r = 0; r < c->m->rs->nr; r++) {
			if (!rep_value(c->g->regions[i].by_run[r], c->v, &x))
				continue;
			if (x > 0)
				lo = fmin(lo, x);
			hi = fmax(hi, x);
		}
	}
	if (isfinite(lo) && hi / lo >= LOG_RATIO)
		ticks_log(lo, hi, rep_metric_unit(c->v.metric), t);
	else
		ticks_linear(0, hi, rep_metric_unit(c->v.metric), t);
}

static double y_of(const struct frame *fr, const struct ticks *t, double v)
{
	return fr->y0 + fr->h * (1 - ticks_pos(t, v));
}

static void open_svg(const struct rep_chart *c, const char *cls, double w, const char *title)
{
	fprintf(c->f, "<svg class=\"%s%s\" width=\"%.0f\" height=\"%d\" role=\"img\">", cls, alt(c),
		w, PAD_T + PLOT_H + PAD_B);
	fprintf(c->f, "<text class=\"title\" x=\"%d\" y=\"16\">", PAD_L);
	rep_esc(c->f, title);
	fputs("</text>", c->f);
}

static void y_axis(const struct rep_chart *c, const struct frame *fr, const struct ticks *t)
{
	char buf[48], lab[48];

	for (size_t i = 0; i < t->n; i++) {
		double y = y_of(fr, t, t->v[i]);

		fprintf(c->f,
			"<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"yt\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
			fr->x0, fr->x0 + fr->w, y, y, fr->x0 - 6, y + 4,
			ticks_label(t->v[i], rep_metric_unit(c->v.metric), buf, sizeof(buf)));
	}
	fprintf(c->f,
		"<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
		"<text transform=\"translate(12,%.1f) rotate(-90)\" text-anchor=\"middle\">%s%s"
		"</text>",
		fr->x0, fr->x0 + fr->w, fr->y0 + fr->h, fr->y0 + fr->h, fr->y0 + fr->h / 2,
		rep_view_label(c->v, lab, sizeof(lab)), t->log ? " (log scale)" : "");
}

/* A rotated label under the plot, cut to LABEL_MAX characters (the full text in a title). */
static void x_label(FILE *f, double x, double y, const char *s)
{
	size_t n = strlen(s);

	fprintf(f,
		"<text class=\"xt\" transform=\"translate(%.1f,%.1f) rotate(-35)\" "
		"text-anchor=\"end\"><title>",
		x, y);
	rep_esc(f, s);
	fputs("</title>", f);
	if (n > LABEL_MAX) {
		fprintf(f, "\u2026");
		s += n - (LABEL_MAX - 1);
	}
	rep_esc(f, s);
	fputs("</text>", f);
}

/* "<title>t.py::test_x — run1: peak 4.50 MiB</title>" */
static void value_title(const struct rep_chart *c, const char *who, const char *run, double v)
{
	char lab[48], val[48];

	fputs("<title>", c->f);
	rep_esc(c->f, who);
	fputs(" \u2014 ", c->f);
	rep_esc(c->f, run);
	fprintf(c->f, ": %s %s</title>", rep_view_label(c->v, lab, sizeof(lab)),
		rep_format(c->v.metric, v, val, sizeof(val)));
}

void rep_svg_bars(const struct rep_chart *c)
{
	size_t first = rep_first_recent(c->m->rs), nr = c->m->rs->nr - first;
	double bw = fmax(3, fmin(11, 72.0 / (double)nr)), slot = bw * (double)nr + 14, x;
	double w = fmax(CHART_W, PAD_L + slot * (double)c->g->nr + PAD_R);
	struct frame fr = { PAD_L, PAD_T, w - PAD_L - PAD_R, PLOT_H };
	char col[32];
	struct ticks t;

	y_ticks(c, &t);
	open_svg(c, "peaks", w,
		 first ? "per benchmark, one bar per run (the newest runs)"
		       : "per benchmark, one bar per run");
	y_axis(c, &fr, &t);
	for (size_t i = 0; i < c->g->nr; i++) {
		const struct rep_region *rg = &c->g->regions[i];

		x = fr.x0 + 7 + slot * (double)i;
		for (size_t j = 0; j < nr; j++) {
			double v, y;

			if (!rep_value(rg->by_run[first + j], c->v, &v))
				continue;
			y = y_of(&fr, &t, v);
			fprintf(c->f,
				"<rect class=\"bar%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" fill=\"%s\">",
				alt(c), x + (double)j * bw, y, fmax(1, bw - 1), fr.y0 + fr.h - y,
				rep_run_color(j, nr, col, sizeof(col)));
			value_title(c, rg->fullname, c->m->rs->v[first + j]->label, v);
			fputs("</rect>", c->f);
		}
		x_label(c->f, x + slot / 2 - 4, fr.y0 + fr.h + 14, run__short_id(rg->fullname));
	}
	fputs("</svg><div class=\"legend\">", c->f);
	for (size_t j = 0; j < nr; j++) {
		fprintf(c->f, "<span><i style=\"border-color:%s\"></i>",
			rep_run_color(j, nr, col, sizeof(col)));
		rep_esc(c->f, c->m->rs->v[first + j]->label);
		fputs("</span>", c->f);
	}
	fputs("</div>\n", c->f);
}

/* Series drawn first are drawn wider, so a later series with the same values leaves the
 * earlier one visible as an outline instead of hiding it. */
static double width_of(size_t i, size_t n)
{
	return n > 1 ? 1.5 + 2.5 * (double)(n - 1 - i) / (double)(n - 1) : 2;
}

/* Runs spread evenly over the plot width; a single run in the middle. */
static double run_x(const struct frame *fr, size_t r, size_t nr)
{
	if (nr < 2)
		return fr->x0 + fr->w / 2;
	return fr->x0 + 10 + (fr->w - 10) * (double)r / (double)(nr - 1);
}

void rep_svg_trend(const struct rep_chart *c)
{
	size_t nr = c->m->rs->nr, every = nr / 12 + 1;
	struct frame fr = { PAD_L, PAD_T, CHART_W - PAD_L - PAD_R - 10, PLOT_H };
	struct ticks t;
	double v;

	y_ticks(c, &t);
	open_svg(c, "trend", CHART_W, "trend across runs, one line per benchmark");
	y_axis(c, &fr, &t);
	for (size_t r = 0; r < nr; r += every)
		x_label(c->f, run_x(&fr, r, nr) + 4, fr.y0 + fr.h + 14, c->m->rs->v[r]->label);
	for (size_t i = 0; i < c->g->nr; i++) {
		const struct rep_region *rg = &c->g->regions[i];

		fprintf(c->f,
			"<g><polyline class=\"tline%s\" fill=\"none\" stroke=\"%s\" "
			"stroke-dasharray=\"%s\" stroke-width=\"%.1f\" points=\"",
			alt(c), rep_color(i), rep_dash(i), width_of(i, c->g->nr));
		for (size_t r = 0; r < nr; r++)
			if (rep_value(rg->by_run[r], c->v, &v))
				fprintf(c->f, "%.1f,%.1f ", run_x(&fr, r, nr), y_of(&fr, &t, v));
		fputs("\"/>", c->f);
		for (size_t r = 0; r < nr; r++) {
			if (!rep_value(rg->by_run[r], c->v, &v))
				continue;
			fprintf(c->f,
				"<circle class=\"tpoint%s\" r=\"%.1f\" fill=\"%s\" cx=\"%.1f\" "
				"cy=\"%.1f\">",
				alt(c), width_of(i, c->g->nr) + 1.5, rep_color(i),
				run_x(&fr, r, nr), y_of(&fr, &t, v));
			value_title(c, rg->fullname, c->m->rs->v[r]->label, v);
			fputs("</circle>", c->f);
		}
		fputs("</g>", c->f);
	}
	fputs("</svg>\n", c->f);
}

/* ---- scaling over a numeric param ---------------------------------------------------------- */

struct spoint {
	double x, y;
	size_t series;
	const char *run;
};

struct scaling {
	const char *param;
	struct spoint *pts;
	size_t nr_pts;
	char **names; /* series: "run: func other=params" */
	size_t nr_series;
};

/* "run: func other=params" — what makes one line of the chart. */
static char *series_name(const struct run_entry *e, const char *param, const char *label)
{
	const char *seg = run__short_id(e->fullname), *key;
	char *out, *next;
	json_t *v;

	if (asprintf(&out, "%s: %.*s", label, (int)strcspn(seg, "["), seg) < 0)
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

static int add_point(struct scaling *sc, const struct run_entry *e, const char *run, double y)
{
	char *name = series_name(e, sc->param, run);
	size_t s = 0;
	void *v;

	if (!name)
		return -ENOMEM;
	while (s < sc->nr_series && strcmp(sc->names[s], name))
		s++;
	if (s == sc->nr_series) {
		if (!(v = reallocarray(sc->names, s + 1, sizeof(*sc->names)))) {
			free(name);
			return -ENOMEM;
		}
		sc->names = v;
		sc->names[sc->nr_series++] = name;
	} else {
		free(name);
	}
	if (!(v = reallocarray(sc->pts, sc->nr_pts + 1, sizeof(*sc->pts))))
		return -ENOMEM;
	sc->pts = v;
	sc->pts[sc->nr_pts++] =
		(struct spoint){ json_number_value(json_object_get(e->params, sc->param)), y, s,
				 run };
	return 0;
}

static int point_order(const void *a, const void *b)
{
	const struct spoint *p = a, *q = b;

	if (p->series != q->series)
		return p->series < q->series ? -1 : 1;
	return (p->x > q->x) - (p->x < q->x);
}

static int scaling_collect(struct scaling *sc, const struct rep_chart *c)
{
	for (size_t i = 0; i < c->g->nr; i++) {
		for (size_t r = rep_first_recent(c->m->rs); r < c->m->rs->nr; r++) {
			const struct run_entry *e = c->g->regions[i].by_run[r];
			double y;

			if (!rep_value(e, c->v, &y) || !e->params ||
			    !json_is_number(json_object_get(e->params, sc->param)))
				continue;
			if (add_point(sc, e, c->m->rs->v[r]->label, y))
				return -ENOMEM;
		}
	}
	qsort(sc->pts, sc->nr_pts, sizeof(*sc->pts), point_order);
	return 0;
}

static void x_ticks(const struct scaling *sc, struct ticks *t)
{
	double lo = INFINITY, hi = -INFINITY;

	for (size_t i = 0; i < sc->nr_pts; i++) {
		lo = fmin(lo, sc->pts[i].x);
		hi = fmax(hi, sc->pts[i].x);
	}
	if (lo > 0 && hi / lo >= LOG_RATIO)
		ticks_log(lo, hi, TICK_COUNT, t);
	else
		ticks_linear(lo, hi, TICK_COUNT, t);
}

static void scaling_body(const struct rep_chart *c, const struct scaling *sc,
			 const struct frame *fr, const struct ticks *xt, const struct ticks *yt)
{
	char buf[48];

	for (size_t i = 0; i < xt->n; i++) {
		double x = fr->x0 + fr->w * ticks_pos(xt, xt->v[i]);

		fprintf(c->f,
			"<text class=\"xt\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
			x, fr->y0 + fr->h + 16,
			ticks_label(xt->v[i], TICK_COUNT, buf, sizeof(buf)));
	}
	fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", fr->x0 + fr->w / 2,
		fr->y0 + fr->h + 36);
	rep_esc(c->f, sc->param);
	fprintf(c->f, "%s</text>", xt->log ? " (log scale)" : "");
	for (size_t i = 0; i < sc->nr_pts; i++) {
		const struct spoint *p = &sc->pts[i];

		if (!i || sc->pts[i - 1].series != p->series)
			fprintf(c->f,
				"%s<polyline class=\"series%s\" fill=\"none\" "
				"stroke-width=\"%.1f\" "
				"stroke=\"%s\" stroke-dasharray=\"%s\" points=\"",
				i ? "\"/>" : "", alt(c), width_of(p->series, sc->nr_series),
				rep_color(p->series), rep_dash(p->series));
		fprintf(c->f, "%.1f,%.1f ", fr->x0 + fr->w * ticks_pos(xt, p->x),
			y_of(fr, yt, p->y));
	}
	if (sc->nr_pts)
		fputs("\"/>", c->f);
	for (size_t i = 0; i < sc->nr_pts; i++) {
		const struct spoint *p = &sc->pts[i];

		fprintf(c->f,
			"<circle class=\"point%s\" r=\"%.1f\" fill=\"%s\" cx=\"%.1f\" cy=\"%.1f\">",
			alt(c), width_of(p->series, sc->nr_series) + 1.5, rep_color(p->series),
			fr->x0 + fr->w * ticks_pos(xt, p->x), y_of(fr, yt, p->y));
		snprintf(buf, sizeof(buf), "%s=%g", sc->param, p->x);
		value_title(c, sc->names[p->series], buf, p->y);
		fputs("</circle>", c->f);
	}
}

static void scaling_legend(const struct rep_chart *c, const struct scaling *sc)
{
	fputs("<div class=\"legend\">", c->f);
	for (size_t s = 0; s < sc->nr_series; s++) {
		fprintf(c->f, "<span><i style=\"border-color:%s;border-top-style:%s\"></i>",
			rep_color(s), *rep_dash(s) ? "dashed" : "solid");
		rep_esc(c->f, sc->names[s]);
		fputs("</span>", c->f);
	}
	fputs("</div>\n", c->f);
}

int rep_svg_scaling(const struct rep_chart *c)
{
	struct scaling sc = { .param = c->g->param };
	struct frame fr = { PAD_L, PAD_T, CHART_W - PAD_L - PAD_R - 10, PLOT_H };
	struct ticks xt, yt;
	char title[128];
	int ret;

	if (!sc.param)
		return 0;
	ret = scaling_collect(&sc, c);
	if (!ret && sc.nr_pts) {
		x_ticks(&sc, &xt);
		y_ticks(c, &yt);
		fputs("<figure>", c->f);
		snprintf(title, sizeof(title), "scaling over %s, one line per run%s", sc.param,
			 rep_first_recent(c->m->rs) ? " (the newest runs)" : "");
		open_svg(c, "scaling", CHART_W, title);
		y_axis(c, &fr, &yt);
		scaling_body(c, &sc, &fr, &xt, &yt);
		fputs("</svg>", c->f);
		scaling_legend(c, &sc);
		fputs("</figure>\n", c->f);
	}
	for (size_t s = 0; s < sc.nr_series; s++)
		free(sc.names[s]);
	free(sc.names);
	free(sc.pts);
	return ret;
}

void rep_legend_regions(const struct rep_chart *c)
{
	fputs("<div class=\"legend\">", c->f);
	for (size_t i = 0; i < c->g->nr; i++) {
		fprintf(c->f, "<span><i style=\"border-color:%s;border-top-style:%s\"></i>",
			rep_color(i), *rep_dash(i) ? "dashed" : "solid");
		rep_esc(c->f, run__short_id(c->g->regions[i].fullname));
		fputs("</span>", c->f);
	}
	fputs("</div>\n", c->f);
}
