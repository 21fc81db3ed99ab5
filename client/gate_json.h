/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/gate_json.h — `benchmemctl gate --json`: the verdict of lib/gate as one JSON document,
 * for front ends that must not judge again (the pytest plugin): the hits with their parts and
 * lines, and the headline of every matched id on both sides. */
#ifndef BM_GATE_JSON_H
#define BM_GATE_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "gate.h"

/* Writes to @f: {"baseline": A, "run": B, "regressed": bool, "hits": [{"kind", "rule" (the
 * rule as written, null for a ceiling), "name", "fullname", "was", "now", "was_text",
 * "now_text", "change", "change_pct" (null for a ceiling), "what", "line"}], "pairs":
 * [{"fullname", "name", "base": HEADLINE, "cur": HEADLINE}]} where HEADLINE is {"peak_bytes",
 * "total_bytes", "allocations"[, "rss_bytes"]} (lib/compare's cmp_headline_of). "what" is the
 * line's text after "NAME: " ("peak 2.00 MiB exceeds max_peak 1.00 MiB"); "line" is
 * gate_hit_line's, uncoloured. With no rule and no ceiling it is the matching and the headlines
 * alone. Returns 0, -ENOMEM, or -EIO. */
int gate_json_print(FILE *f, const struct gate_opts *o, const char *base_label,
		    const char *cur_label, const struct gate_pair *pairs, size_t nr_pairs,
		    const struct gate_hit *hits, size_t nr_hits);

/* `gate --check --json`: what the rules and ceilings parsed to, {"rules": [TEXT...],
 * "ceilings": {"max_peak": BYTES, ...}} (only the ceilings given; exact u64 values), so a front
 * end takes lib/units' sizes rather than parsing them again. Returns 0, -ENOMEM or -EIO. */
int gate_json_print_checks(FILE *f, const struct gate_opts *o);

#endif /* BM_GATE_JSON_H */
