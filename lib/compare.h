/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/compare.h — --fail-on rules and absolute ceilings: parse them, evaluate against a
 * baseline, reduce per-pass series to headlines and stats; pure. */
#ifndef BM_COMPARE_H
#define BM_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The memory metrics of pytest-benchmem's blob, by their metric names. */
enum cmp_field {
	CMP_PEAK,	 /* peak_bytes */
	CMP_ALLOCATED,	 /* total_bytes */
	CMP_ALLOCATIONS, /* allocations (a count, never a size) */
	CMP_RSS,	 /* rss_bytes (optional series) */
	CMP_NR_FIELDS,
};

/* Reductions of a series (--stat). STDDEV is the population stddev (1 pass -> 0). */
enum cmp_stat {
	CMP_STAT_MIN,
	CMP_STAT_MAX,
	CMP_STAT_MEAN,
	CMP_STAT_MEDIAN,
	CMP_STAT_STDDEV,
	CMP_NR_STATS,
};

/* One --fail-on FIELD:THRESHOLD rule. */
struct cmp_rule {
	enum cmp_field field;
	bool percent;	/* true: @pct is a growth percentage; false: @limit is absolute */
	bool floor;	/* "N%+SIZE" (with @percent): the growth must pass @limit too */
	double pct;	/* percent of the baseline headline, >= 0 */
	uint64_t limit; /* bytes, or a count for CMP_ALLOCATIONS */
};

/* The per-pass series of one benchmark entry: @n passes in each array (equal lengths).
 * Arrays are borrowed. @rss_bytes is NULL when the entry has no rss series. */
struct cmp_series {
	const uint64_t *peak_bytes;
	const uint64_t *total_bytes;
	const uint64_t *allocations;
	const uint64_t *rss_bytes;
	size_t n;
};

/* Headline numbers (pytest-benchmem's rule; the only implementation: the daemon's result
 * documents, the tables and the gates all use cmp_headline_of): peak = min of peak_bytes;
 * allocated/allocations = the values of the min-peak pass (the first such pass on ties), not
 * their own minima; rss = min of rss_bytes. */
struct cmp_headline {
	size_t pass; /* index of the min-peak pass */
	uint64_t peak_bytes;
	uint64_t total_bytes;
	uint64_t allocations;
	uint64_t rss_bytes;
	bool has_rss;
};

/* Outcome of one rule for one id. */
struct cmp_verdict {
	bool regressed;	   /* growth beyond the threshold (strictly greater) */
	uint64_t base;	   /* baseline headline value */
	uint64_t cur;	   /* current headline value */
	double change_pct; /* (cur - base) / base * 100; 0 when base == 0 */
};

/* Metric name of @f ("peak", "allocated", "allocations", "rss"). */
const char *cmp_field_name(enum cmp_field f);

/* Looks up a metric name (case-insensitive). Returns 0 or -EINVAL. */
int cmp_field_parse(const char *s, enum cmp_field *out);

/* Stat name of @s ("min", ...). */
const char *cmp_stat_name(enum cmp_stat s);

/* Looks up a stat name (case-sensitive). Returns 0 or -EINVAL. */
int cmp_stat_parse(const char *s, enum cmp_stat *out);

/* Parses "FIELD:THRESHOLD": "peak:10%", "peak:5MiB", "peak: 5 MiB", "allocations:100", or
 * pytest-benchmem's "peak:20%+8MiB" (a percentage and a floor: the growth must pass both).
 * Fields are case-insensitive; "time" is rejected (memory gates only). Byte units are
 * B, KiB, MiB, GiB (case-sensitive); allocations take a bare number. Returns 0, or
 * -EINVAL with a one-line reason in @err. */
int cmp_rule_parse(const char *s, struct cmp_rule *out, char *err, size_t errlen);

/* Parses an absolute limit for @f ("100MiB", "4096" for sizes; a bare count for
 * CMP_ALLOCATIONS) as used by ceilings. Returns 0 or -EINVAL/-ERANGE with a reason in @err. */
int cmp_limit_parse(enum cmp_field f, const char *s, uint64_t *out, char *err, size_t errlen);

/* Computes the headline of @s. Returns 0, or -EINVAL when @s has no passes or a NULL core
 * series. */
int cmp_headline_of(const struct cmp_series *s, struct cmp_headline *out);

/* The headline value of @f in @h (0 for CMP_RSS when !has_rss). */
uint64_t cmp_headline_value(const struct cmp_headline *h, enum cmp_field f);

/* The series of @f in @s, or NULL (rss absent). */
const uint64_t *cmp_series_of(const struct cmp_series *s, enum cmp_field f);

/* Reduces @n values with @stat into *out. Returns 0, or -EINVAL when @n is 0. */
int cmp_reduce(const uint64_t *v, size_t n, enum cmp_stat stat, double *out);

/* Same for doubles (the time column's samples). */
int cmp_reduce_double(const double *v, size_t n, enum cmp_stat stat, double *out);

/* Evaluates @r between two headlines: growth only, strictly greater fails, a zero baseline
 * never trips a percent rule. Returns 0 with *v filled, or -ENODATA for an rss rule when
 * either side has no rss (the caller fails loudly when no id has rss on both sides). */
int cmp_rule_eval(const struct cmp_rule *r, const struct cmp_headline *base,
		  const struct cmp_headline *cur, struct cmp_verdict *v);

/* Ceiling check: compares the WORST pass (max) of @f in @s with @ceiling, strictly greater
 * fails. *worst gets the max. Returns 1 exceeded, 0 within, -ENODATA (no such series) or
 * -EINVAL (no passes). */
int cmp_ceiling_check(const struct cmp_series *s, enum cmp_field f, uint64_t ceiling,
		      uint64_t *worst);

#endif /* BM_COMPARE_H */
