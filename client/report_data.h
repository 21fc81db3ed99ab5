/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/report_data.h — the report's model: runs -> groups -> regions (one entry per run),
 * and the value of a metric under a stat for one entry. */
#ifndef BM_REPORT_DATA_H
#define BM_REPORT_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "runs.h"
#include "ticks.h"

/* What a chart plots: the four memory metrics of the blob and the time of the stats. */
enum rep_metric {
	REP_PEAK,
	REP_ALLOCATED,
	REP_ALLOCATIONS,
	REP_RSS,
	REP_TIME,
	REP_NR_METRICS,
};

/* Runs in the bars, the scaling chart and the table: the newest ones. The trend chart shows
 * every run. (200 benchmarks x 20 runs made a 36 MB page with every run everywhere.) */
#define REP_RECENT_RUNS 8

#define REP_NR_STATS 4 /* min, max, mean, median (enum cmp_stat's first four) */

/* One page view: a metric under a stat; the default view (peak, min) is the headline. */
struct rep_view {
	enum rep_metric metric;
	enum cmp_stat stat;
};

/* One region (a fullname) of a group: its entry in each run, NULL where absent. */
struct rep_region {
	const char *fullname;
	const struct run_entry **by_run; /* rs->nr slots */
};

struct rep_group {
	const char *name; /* NULL: entries without a group */
	struct rep_region *regions;
	size_t nr;
	const char *param; /* the first numeric param with >= 2 values, or NULL */
};

struct rep_model {
	const struct runs *rs; /* borrowed */
	struct rep_group *groups;
	size_t nr_groups;
	bool has_metric[REP_NR_METRICS]; /* some entry has the metric */
};

/* Builds @m from the entries of @rs that have memory data (groups and regions in first-seen
 * order). Returns 0, -ENODATA (no entry has memory data) or -ENOMEM; clear @m either way. */
int rep_model_build(struct rep_model *m, const struct runs *rs);

/* NULL-safe; leaves @m empty. */
void rep_model_clear(struct rep_model *m);

/* The value of @e under @v (bytes, a count or seconds). Returns false when @e is NULL or
 * lacks the metric (rss without rss_bytes, time without stats). */
bool rep_value(const struct run_entry *e, struct rep_view v, double *out);

/* "peak", "allocated", "allocations", "rss", "time". */
const char *rep_metric_name(enum rep_metric m);

/* The tick unit of @m's values. */
enum tick_unit rep_metric_unit(enum rep_metric m);

/* A value as the page prints it: "4.50 MiB", "12", "2.5", "1.23 ms". Returns @buf. */
const char *rep_format(enum rep_metric m, double v, char *buf, size_t len);

/* The index of the first of the REP_RECENT_RUNS newest runs of @rs. */
size_t rep_first_recent(const struct runs *rs);

/* The index of the latest run before @last in which @rg has a value under @v, or -1. */
int rep_prev_run(const struct rep_region *rg, struct rep_view v, size_t last);

#endif /* BM_REPORT_DATA_H */
