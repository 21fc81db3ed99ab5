/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/group.h — closed regions into series: one series per (whole-run flag, name, params),
 * in first-seen order, hashed so that a session's n regions cost O(n), never O(n²). Pure. */
#ifndef BM_GROUP_H
#define BM_GROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GROUP_NONE UINT32_MAX /* series_of[i] of a skipped key */

/* What makes two regions one series. */
struct group_key {
	const char *name; /* NULL: skip this one */
	const json_t *params;
	bool whole_run;
};

/* Sets @series_of[i] to the series of @keys[i] (0, 1, ... in first-seen order), or GROUP_NONE
 * when its name is NULL. Returns the number of series or -ENOMEM. */
long group_keys(const struct group_key *keys, size_t n, uint32_t *series_of);

#endif /* BM_GROUP_H */
