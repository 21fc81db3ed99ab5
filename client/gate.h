/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/gate.h — benchmem-run's verdict: --fail-on rules against a baseline file and
 * absolute ceilings, over the run's result document. */
#ifndef BM_GATE_H
#define BM_GATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "compare.h"

#define GATE_MAX_RULES 16

struct gate_opts {
	const char *baseline; /* a result file or pytest-benchmark storage dir; NULL: none */
	struct cmp_rule rules[GATE_MAX_RULES];
	int nr_rules;
	uint64_t ceiling[CMP_NR_FIELDS]; /* UINT64_MAX: none */
};

struct gate_hit {
	char name[160]; /* the entry's name (the region) */
	char what[512]; /* "peak 1.00 MiB -> 2.00 MiB (+100.0%) [peak:10%]" */
};

/* Fills @o with no rules and no ceilings. */
void gate_init(struct gate_opts *o);

/* Checks @doc. *@hits (caller frees) gets one line per failed rule or ceiling, *@n their
 * number. Returns 0, or -errno with a one-line reason in @err (unreadable baseline, an rss
 * rule without rss data on either side). */
int gate_check(const struct gate_opts *o, json_t *doc, struct gate_hit **hits, size_t *n, char *err,
	       size_t errlen);

#endif /* BM_GATE_H */
