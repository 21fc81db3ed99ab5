/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/report_svg.h — the report's small charts as inline SVG: bars per region and run, the
 * trend of each region across runs, and the scaling over a numeric param. */
#ifndef BM_REPORT_SVG_H
#define BM_REPORT_SVG_H

#include <stdbool.h>
#include <stdio.h>

#include "report_data.h"

/* One chart to draw: a group of the model under a view. The primary view's shapes carry the
 * bare classes (bar, point, series, tline, tpoint; <svg class="scaling">), the other views'
 * the same classes followed by " alt", so a reader of the file finds the headline view by
 * its classes alone. */
struct rep_chart {
	FILE *f;
	const struct rep_model *m;
	const struct rep_group *g;
	struct rep_view v;
	bool primary;
};

/* Grouped bars: per region one <rect class="bar"> per run that has a value, coloured by run;
 * log scale when the values span 20x or more. */
void rep_svg_bars(const struct rep_chart *c);

/* Trend: x = the runs in order, one <polyline class="tline"> per region with one
 * <circle class="tpoint"> per run that has a value, each region its own colour and dash. */
void rep_svg_trend(const struct rep_chart *c);

/* Scaling over the group's numeric param (nothing when it has none): x = the param, one
 * <polyline class="series"> per run and set of other params, <circle class="point">s.
 * Returns 0 or -ENOMEM. */
int rep_svg_scaling(const struct rep_chart *c);

/* The trend's key: each region's short id in its colour and dash. */
void rep_legend_regions(const struct rep_chart *c);

/* Writes @s with HTML's five special characters escaped. */
void rep_esc(FILE *f, const char *s);

/* The colour of series @i (10 distinct hues, then again with a dash). */
const char *rep_color(size_t i);

/* The dash pattern of series @i ("" for the first 10). */
const char *rep_dash(size_t i);

/* The colour of run @r of @n: distinct hues up to 10 runs, a light-to-dark ramp beyond. */
const char *rep_run_color(size_t r, size_t n, char *buf, size_t len);

/* "peak" for the min stat (the headline's reduction for peak), else "peak (max)". */
const char *rep_view_label(struct rep_view v, char *buf, size_t len);

#endif /* BM_REPORT_SVG_H */
