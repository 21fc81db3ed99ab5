/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/group.h — closed regions into series: one series per (whole-run flag, name, params),
 * in first-seen order, hashed so that a session's n regions cost O(n), never O(n²). Pure. */
#ifndef BM_GROUP_H
#define BM_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define GROUP_NONE UINT32_MAX /* series_of[i] of a skipped region */

/* Sets @series_of[i] to the series of region @v[i] (0, 1, ... in first-seen order), or
 * GROUP_NONE when @skip[i]. Returns the number of series or -ENOMEM. */
long group_regions(const struct region *v, size_t n, const bool *skip, uint32_t *series_of);

#endif /* BM_GROUP_H */
