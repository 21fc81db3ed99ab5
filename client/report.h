/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/report.h — the self-contained HTML report of runs: inline SVG charts, no network. */
#ifndef BM_REPORT_H
#define BM_REPORT_H

#include <stdio.h>

#include "runs.h"

/* Writes one HTML document for @rs (oldest run first) to @f: per group (the entries'
 * "group"), an SVG bar chart of each region's headline peak with one <rect class="bar"> per
 * run that measured it, a table with the change of the last run vs the first, a scaling chart
 * (<svg class="scaling">) of peak over a numeric param when the group has one with >= 2
 * values, and links to .bin profiles (extra_info.benchmem_meta.profile) with the memray
 * command that renders them. Returns 0 or -errno (-ENODATA: no entry has memory data). */
int report_write(FILE *f, const struct runs *rs);

#endif /* BM_REPORT_H */
