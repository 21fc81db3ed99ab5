/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/report.h — the self-contained HTML report of runs: a regression summary, and per
 * group small SVG charts and a table for each metric and stat, switched in the page. */
#ifndef BM_REPORT_H
#define BM_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "gate.h"
#include "runs.h"

struct report_opts {
	const struct run *baseline; /* the summary's base; NULL: the run before the last */
	struct gate_opts gate;	    /* the summary's --fail-on rules (at least one), no ceilings */
	bool default_rules;	    /* @gate's rules are the default, not the user's */
};

/* Writes one HTML document for @rs (oldest run first) to @f:
 * - a summary of the last run's regressions against @o's baseline (or the run before it)
 *   under @o's rules, judged and worded by lib/gate as `benchmemctl compare --fail-on` is, with
 *   links to the .bin profiles of both sides and the memray command that renders them;
 * - per group (the entries' "group"), for every view (metric peak, allocated, allocations,
 *   rss, time x stat min, max, mean, median, those with data), a <div class="view
 *   v-METRIC-STAT"> holding a bar chart (one bar per region and run), a trend chart (one
 *   line per region, one point per run), a scaling chart over a numeric param when the group
 *   has one, and a table with the change of the last run vs the previous one that measured
 *   it. Radio buttons and CSS switch the views: no script, no network. The default view
 *   (peak, min: the headline peak) uses the bare classes (report_svg.h).
 * Returns 0 or -errno (-ENODATA: no entry has memory data). */
int report_write(FILE *f, const struct runs *rs, const struct report_opts *o);

#endif /* BM_REPORT_H */
