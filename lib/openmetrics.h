/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/openmetrics.h — the one implementation of our OpenMetrics text: metric names, labels,
 * escaping and the per-region series taken from result documents. benchmemd's /metrics
 * (daemon/metrics.c) and `benchmemctl export --format openmetrics` both write through it, so a
 * dashboard reads the same series whichever path fed Prometheus.
 *
 * Per finished region (a result document's benchmark entry with extra_info.benchmem), gauges of
 * its headline (the min-peak pass, lib/compare's rule):
 *   benchmem_region_peak_bytes, benchmem_region_allocated_bytes, benchmem_region_allocations,
 *   benchmem_region_rss_bytes (only when measured)
 * labelled benchmark (the entry's name without its "[param]" suffix), params (pytest's parameter
 * id, "" when none), commit (commit_info.id, "" when unknown) and host (machine_info.node, else
 * the caller's default). One label set holds one value: a later document replaces an earlier
 * one's value (a gauge is "the latest"), and past the set's cap the oldest series are dropped
 * (counted in om_set.dropped). */
#ifndef BM_OPENMETRICS_H
#define BM_OPENMETRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runs.h"

#define OM_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* One finished region's series (strings owned). */
struct om_region {
	char *benchmark, *params, *commit, *host;
	uint64_t hash; /* of the four labels: a cheap first test for "same series" */
	uint64_t peak_bytes, allocated_bytes, allocations, rss_bytes;
	bool has_rss;
};

/* The regions to expose, oldest first, at most @max. */
struct om_set {
	struct om_region *v;
	size_t nr, cap, max;
	uint64_t dropped; /* regions dropped past @max since om_set_init */
};

void om_set_init(struct om_set *s, size_t max); /* @max >= 1 */
void om_set_clear(struct om_set *s);		/* frees every region; NULL-safe */

/* Adds the entries with memory of @run (a loaded result document) with @default_host when the
 * document names no machine. Returns the number of regions added, or -ENOMEM. */
int om_set_add_run(struct om_set *s, const struct run *run, const char *default_host);

/* Writes "# HELP", "# TYPE" and (when @unit is not NULL) "# UNIT" of family @name. */
void om_write_family(FILE *f, const char *name, const char *type, const char *unit,
		     const char *help);
/* Writes @v as an OpenMetrics label value: backslash, double quote and newline escaped. */
void om_write_label_value(FILE *f, const char *v);
/* Writes the four region families of @s (none when @s is empty); no "# EOF". */
void om_write_regions(FILE *f, const struct om_set *s);
/* Writes the terminating "# EOF" line. Returns 0, or -EIO when a write to @f failed. */
int om_write_eof(FILE *f);

#endif /* BM_OPENMETRICS_H */
