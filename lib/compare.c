// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/compare.c — --fail-on rules, ceilings, headlines and series stats; pure. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compare.h"
#include "units.h"

static const char *const field_names[CMP_NR_FIELDS] = {
	[CMP_PEAK] = "peak",
	[CMP_ALLOCATED] = "allocated",
	[CMP_ALLOCATIONS] = "allocations",
	[CMP_RSS] = "rss",
};

static const char *const stat_names[CMP_NR_STATS] = {
	[CMP_STAT_MIN] = "min",	      [CMP_STAT_MAX] = "max",	    [CMP_STAT_MEAN] = "mean",
	[CMP_STAT_MEDIAN] = "median", [CMP_STAT_STDDEV] = "stddev",
};

const char *cmp_field_name(enum cmp_field f)
{
	return f < CMP_NR_FIELDS ? field_names[f] : "?";
}

int cmp_field_parse(const char *s, enum cmp_field *out)
{
	for (int i = 0; i < CMP_NR_FIELDS; i++) {
		if (!strcasecmp(s, field_names[i])) {
			*out = (enum cmp_field)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *cmp_stat_name(enum cmp_stat s)
{
	return s < CMP_NR_STATS ? stat_names[s] : "?";
}

int cmp_stat_parse(const char *s, enum cmp_stat *out)
{
	for (int i = 0; i < CMP_NR_STATS; i++) {
		if (!strcmp(s, stat_names[i])) {
			*out = (enum cmp_stat)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Copies @s without blanks into @buf (thresholds allow "5 MiB" and " 10 %"). */
static int strip_blanks(const char *s, char *buf, size_t len)
{
	size_t j = 0;

	for (; *s; s++) {
		if (isspace((unsigned char)*s))
			continue;
		if (j + 1 >= len)
			return -EINVAL;
		buf[j++] = *s;
	}
	buf[j] = '\0';
	return j ? 0 : -EINVAL;
}

int cmp_limit_parse(enum cmp_field f, const char *s, uint64_t *out, char *err, size_t errlen)
{
	char buf[64];
	int ret;

	if (strip_blanks(s, buf, sizeof(buf))) {
		snprintf(err, errlen, "'%s' is not a number", s);
		return -EINVAL;
	}
	if (f == CMP_ALLOCATIONS) {
		ret = units_parse_u64(buf, UINT64_MAX, out);
		if (ret)
			snprintf(err, errlen,
				 "'%s' is not a count (allocations take a bare number, no unit)",
				 s);
		return ret;
	}
	ret = units_parse_bytes(buf, out);
	if (ret == -ERANGE)
		snprintf(err, errlen, "'%s' is too large", s);
	else if (ret)
		snprintf(err, errlen, "'%s' is not a size (units: B, KiB, MiB, GiB)", s);
	return ret;
}

int cmp_rule_parse(const char *s, struct cmp_rule *out, char *err, size_t errlen)
{
	const char *colon = s ? strchr(s, ':') : NULL;
	char name[32], buf[64], why[128], *plus;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(name)) {
		snprintf(err, errlen, "'%s' is not FIELD:THRESHOLD (e.g. peak:10%% or peak:5MiB)",
			 s ? s : "");
		return -EINVAL;
	}
	if (strip_blanks(s, name, sizeof(name)) || !strchr(name, ':')) {
		snprintf(err, errlen, "'%s' is not FIELD:THRESHOLD", s);
		return -EINVAL;
	}
	*strchr(name, ':') = '\0';
	if (!strcasecmp(name, "time")) {
		snprintf(err, errlen,
			 "'%s': time is not a memory field (gate time with pytest-benchmark's "
			 "--benchmark-compare-fail)",
			 s);
		return -EINVAL;
	}
	if (cmp_field_parse(name, &out->field)) {
		snprintf(err, errlen,
			 "'%s': unknown field '%s' (peak, allocated, allocations, rss)", s, name);
		return -EINVAL;
	}
	if (strip_blanks(colon + 1, buf, sizeof(buf))) {
		snprintf(err, errlen, "'%s': missing or overlong threshold", s);
		return -EINVAL;
	}
	out->pct = 0;
	out->limit = 0;
	plus = strstr(buf, "%+");
	out->floor = plus != NULL;
	if (plus)
		plus[1] = '\0'; /* buf: "N%", plus + 2: the floor */
	out->percent = buf[strlen(buf) - 1] == '%';
	if (out->percent && units_parse_percent(buf, &out->pct)) {
		snprintf(err, errlen, "'%s': '%s' is not a percentage", s, buf);
		return -EINVAL;
	}
	if (out->percent && !plus)
		return 0;
	if (cmp_limit_parse(out->field, plus ? plus + 2 : buf, &out->limit, why, sizeof(why))) {
		snprintf(err, errlen, "'%s': %s", s, why);
		return -EINVAL;
	}
	return 0;
}

const uint64_t *cmp_series_of(const struct cmp_series *s, enum cmp_field f)
{
	switch (f) {
	case CMP_PEAK:
		return s->peak_bytes;
	case CMP_ALLOCATED:
		return s->total_bytes;
	case CMP_ALLOCATIONS:
		return s->allocations;
	case CMP_RSS:
		return s->rss_bytes;
	default:
		return NULL;
	}
}

int cmp_headline_of(const struct cmp_series *s, struct cmp_headline *out)
{
	size_t best = 0;

	if (!s->n || !s->peak_bytes || !s->total_bytes || !s->allocations)
		return -EINVAL;
	/* strictly lower: the first min-peak pass represents ties */
	for (size_t i = 1; i < s->n; i++) {
		if (s->peak_bytes[i] < s->peak_bytes[best])
			best = i;
	}
	out->pass = best;
	out->peak_bytes = s->peak_bytes[best];
	out->total_bytes = s->total_bytes[best];
	out->allocations = s->allocations[best];
	out->has_rss = s->rss_bytes != NULL;
	out->rss_bytes = 0;
	for (size_t i = 0; out->has_rss && i < s->n; i++) {
		if (!i || s->rss_bytes[i] < out->rss_bytes)
			out->rss_bytes = s->rss_bytes[i];
	}
	return 0;
}

uint64_t cmp_headline_value(const struct cmp_headline *h, enum cmp_field f)
{
	switch (f) {
	case CMP_PEAK:
		return h->peak_bytes;
	case CMP_ALLOCATED:
		return h->total_bytes;
	case CMP_ALLOCATIONS:
		return h->allocations;
	case CMP_RSS:
		return h->has_rss ? h->rss_bytes : 0;
	default:
		return 0;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int cmp_reduce_double(const double *v, size_t n, enum cmp_stat stat, double *out)
{
	double acc = 0, mean, *tmp;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		acc += v[i];
	mean = acc / (double)n;
	switch (stat) {
	case CMP_STAT_MIN:
	case CMP_STAT_MAX:
		*out = v[0];
		for (size_t i = 1; i < n; i++) {
			if (stat == CMP_STAT_MIN ? v[i] < *out : v[i] > *out)
				*out = v[i];
		}
		return 0;
	case CMP_STAT_MEAN:
		*out = mean;
		return 0;
	case CMP_STAT_STDDEV: /* population stddev, as pytest-benchmem's --stat */
		acc = 0;
		for (size_t i = 0; i < n; i++)
			acc += (v[i] - mean) * (v[i] - mean);
		*out = sqrt(acc / (double)n);
		return 0;
	case CMP_STAT_MEDIAN:
		tmp = malloc(n * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		memcpy(tmp, v, n * sizeof(*tmp));
		qsort(tmp, n, sizeof(*tmp), cmp_double);
		*out = n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
		free(tmp);
		return 0;
	default:
		return -EINVAL;
	}
}

int cmp_reduce(const uint64_t *v, size_t n, enum cmp_stat stat, double *out)
{
	double *d;
	int ret;

	if (!n)
		return -EINVAL;
	d = malloc(n * sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		d[i] = (double)v[i];
	ret = cmp_reduce_double(d, n, stat, out);
	free(d);
	return ret;
}

int cmp_rule_eval(const struct cmp_rule *r, const struct cmp_headline *base,
		  const struct cmp_headline *cur, struct cmp_verdict *v)
{
	uint64_t growth;

	if (r->field == CMP_RSS && (!base->has_rss || !cur->has_rss))
		return -ENODATA;
	v->base = cmp_headline_value(base, r->field);
	v->cur = cmp_headline_value(cur, r->field);
	v->change_pct = v->base ? ((double)v->cur - (double)v->base) / (double)v->base * 100 : 0;
	/* growth only: an improvement never fires */
	growth = v->cur > v->base ? v->cur - v->base : 0;
	if (r->percent)
		v->regressed = v->base > 0 && (double)growth / (double)v->base * 100 > r->pct &&
			       (!r->floor || growth > r->limit);
	else
		v->regressed = growth > r->limit;
	return 0;
}

int cmp_ceiling_check(const struct cmp_series *s, enum cmp_field f, uint64_t ceiling,
		      uint64_t *worst)
{
	const uint64_t *v = cmp_series_of(s, f);

	if (!v)
		return -ENODATA;
	if (!s->n)
		return -EINVAL;
	*worst = v[0];
	for (size_t i = 1; i < s->n; i++) {
		if (v[i] > *worst)
			*worst = v[i];
	}
	return *worst > ceiling;
}
