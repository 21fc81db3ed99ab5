/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/gate.h — the one verdict of --fail-on rules and --max-* ceilings over two parsed runs,
 * shared by `benchmem-run --baseline/--fail-on`, `benchmemctl gate` and `benchmemctl compare
 * --fail-on`: one way to match benchmarks, one message format. Pure. */
#ifndef BM_GATE_H
#define BM_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compare.h"
#include "runs.h"

#define GATE_MAX_RULES 32
#define GATE_LINE_MAX  768 /* a hit's line, colour codes included: fits kind + name + what */

struct gate_opts {
	struct cmp_rule rules[GATE_MAX_RULES];
	char rule_text[GATE_MAX_RULES][64]; /* as written, shown in the hit: "[peak:10%]" */
	int nr_rules;
	uint64_t ceiling[CMP_NR_FIELDS]; /* UINT64_MAX: none */
};

/* One failed rule or ceiling. Its line (gate_hit_line) is "KIND         NAME: WHAT":
 * "peak         test_a: 1.00 MiB → 1.20 MiB (+20.0%) [peak:10%]",
 * "max_peak     test_k: peak 101.00 MiB exceeds max_peak 100.00 MiB".
 * @base and @cur are the entries it judged, borrowed from the pairs (or the ceiling run) it
 * came from, so a caller can reach their profiles: a rule's hit has both, a ceiling's only
 * @cur (@base NULL). */
struct gate_hit {
	char kind[24];	/* the rule's field ("peak") or the ceiling ("max_peak") */
	char name[160]; /* the benchmark's name: the last "::" segment of its id */
	char what[512];
	int rule; /* the index of the rule in gate_opts, -1 for a ceiling */
	/* a rule's two headline values; a ceiling's limit (@was) and worst pass (@now) */
	uint64_t was, now;
	char was_text[32], now_text[32]; /* as the line shows them: "1.00 MiB", "30" */
	char change[24];		 /* a rule's "+20.0%" ("new" from 0), "" for a ceiling */
	double change_pct;		 /* a rule's growth in percent, 0 from 0 */
	const struct run_entry *base, *cur;
};

/* One benchmark id present in both runs: @base and @cur have memory data. */
struct gate_pair {
	const char *name;
	const struct run_entry *base, *cur;
};

/* Fills @o with no rules and no ceilings. */
void gate_init(struct gate_opts *o);

/* Parses and adds one --fail-on FIELD:THRESHOLD. Returns 0, or -EINVAL/-E2BIG with a
 * one-line reason in @err ("--fail-on peak: ... is not FIELD:THRESHOLD"). */
int gate_add_rule(struct gate_opts *o, const char *text, char *err, size_t errlen);

/* Parses and sets the --max-FIELD ceiling of @f. Returns 0 or -EINVAL with a reason in @err. */
int gate_set_ceiling(struct gate_opts *o, enum cmp_field f, const char *text, char *err,
		     size_t errlen);

/* True when @o has a rule or a ceiling. */
bool gate_has_checks(const struct gate_opts *o);

/* The one matching rule (pytest-benchmem's): ids (fullname, which carries the params) present
 * in both runs, both with memory data, ordered by id (natural order). *@pairs (caller frees)
 * gets *@n of them. Returns 0 or -ENOMEM. */
int gate_match(const struct run *base, const struct run *cur, struct gate_pair **pairs, size_t *n);

/* Evaluates every rule over @pairs (growth from base to cur; rules in order, ids in order)
 * then every ceiling over the entries of @ceil_run (the worst pass, strictly greater fails).
 * *@hits (caller frees) gets *@n hits. @base_label/@cur_label name the two sides in errors.
 * Returns 0, -ENOMEM, or -ENODATA with a one-line reason in @err when a rule had no id with
 * its data on both sides (never a silent pass). */
int gate_eval_pairs(const struct gate_opts *o, const struct gate_pair *pairs, size_t nr_pairs,
		    const struct run *ceil_run, const char *base_label, const char *cur_label,
		    struct gate_hit **hits, size_t *n, char *err, size_t errlen);

/* gate_match + gate_eval_pairs, ceilings over @cur; @base may be NULL (ceilings only: a
 * rule then fails with -EINVAL). */
int gate_eval(const struct gate_opts *o, const struct run *base, const struct run *cur,
	      const char *base_label, const char *cur_label, struct gate_hit **hits, size_t *n,
	      char *err, size_t errlen);

/* Writes @h's line (no indent, no newline) into @buf (GATE_LINE_MAX bytes fit any); @color paints
 * the kind red. Returns @buf. */
const char *gate_hit_line(const struct gate_hit *h, bool color, char *buf, size_t len);

/* Prints "PREFIXN regression(s) over threshold:" and, per hit, two spaces and its line to @f;
 * nothing when @n is 0. @color paints the kind red. */
void gate_print(FILE *f, const char *prefix, const struct gate_hit *hits, size_t n, bool color);

#endif /* BM_GATE_H */
