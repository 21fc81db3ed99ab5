/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/results.c — builds the pytest-benchmark-shaped result document and writes it through
 * atomic_file; the only I/O is machine_info_read(), commit_info_read() and results_write(). */
#include "results.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compare.h"
#include "context.h"
#include "jsonutil.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* jansson integers are signed 64-bit; a byte count above INT64_MAX cannot occur, but clamp
 * rather than print a negative size. */
static json_int_t ji(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

int results_headline(const struct bm_repeat *reps, size_t n, struct bm_repeat *out)
{
	uint64_t *v = reps && n ? calloc(4 * n, sizeof(*v)) : NULL;
	struct cmp_series s = { .n = n };
	struct cmp_headline h;
	bool all_rss = true;
	int ret;

	if (!reps || !n || !out)
		return -EINVAL;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = reps[i].peak_bytes;
		v[n + i] = reps[i].total_bytes;
		v[2 * n + i] = reps[i].allocations;
		v[3 * n + i] = reps[i].rss_bytes;
		all_rss = all_rss && reps[i].has_rss;
	}
	s.peak_bytes = v;
	s.total_bytes = v + n;
	s.allocations = v + 2 * n;
	s.rss_bytes = all_rss ? v + 3 * n : NULL;
	ret = cmp_headline_of(&s, &h);
	free(v);
	if (ret)
		return ret;
	*out = reps[h.pass]; /* wall_ns of the min-peak pass too */
	out->has_rss = h.has_rss;
	out->rss_bytes = h.rss_bytes;
	out->aborted = false;
	for (size_t i = 0; i < n; i++)
		out->aborted |= reps[i].aborted;
	return 0;
}

/* ---- stats: pytest_benchmark/stats.py, line for line ------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* statistics.median() of sorted @d[0..n). */
static double median(const double *d, size_t n)
{
	return n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
}

/* Quartiles as stats.py computes them: Wikipedia's method 3 for an odd count, method 2
 * (median of each half) for an even one. */
static void quartiles(const double *d, size_t n, double *q1, double *q3)
{
	size_t k = n / 4;

	if (n == 1) {
		*q1 = *q3 = d[0];
	} else if (n % 2 == 0) {
		*q1 = median(d, n / 2);
		*q3 = median(d + n / 2, n / 2);
	} else if (n % 4 == 1) {
		*q1 = 0.25 * d[k - 1] + 0.75 * d[k];
		*q3 = 0.75 * d[3 * k] + 0.25 * d[3 * k + 1];
	} else {
		*q1 = 0.75 * d[k] + 0.25 * d[k + 1];
		*q3 = 0.25 * d[3 * k + 1] + 0.75 * d[3 * k + 2];
	}
}

/* bisect_left / bisect_right over sorted @d. */
static size_t bisect(const double *d, size_t n, double x, bool right)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (right ? x < d[mid] : x <= d[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static size_t count_outside(const double *d, size_t n, double lo, double hi)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += d[i] < lo || d[i] > hi;
	return c;
}

/* Mean and sample stddev in long double: statistics.mean/stdev are exact (fractions), so
 * the wider type keeps us within an ulp of them. */
static void mean_stddev(const double *d, size_t n, double *mean, double *sd)
{
	long double sum = 0, m, ss = 0;

	for (size_t i = 0; i < n; i++)
		sum += d[i];
	m = sum / n;
	for (size_t i = 0; i < n; i++)
		ss += (d[i] - m) * (d[i] - m);
	*mean = (double)m;
	*sd = n > 1 ? (double)sqrtl(ss / (n - 1)) : 0;
}

static json_t *stats_pack(const double *data, const double *s, size_t n)
{
	double total = 0, mean, sd, q1, q3, iqr, lo, hi, ld, hd;
	size_t iqr_out, sd_out, pos;
	char outliers[48];

	for (size_t i = 0; i < n; i++) /* Python's sum(): left to right, in pass order */
		total += data[i];
	mean_stddev(data, n, &mean, &sd);
	quartiles(s, n, &q1, &q3);
	iqr = q3 - q1;
	lo = q1 - 1.5 * iqr;
	hi = q3 + 1.5 * iqr;
	ld = n == 1 ? s[0] : s[bisect(s, n, lo, false)];
	/* stats.py's hd15iqr is the first datum *past* the fence, or the last one. */
	pos = bisect(s, n, hi, true);
	hd = n == 1 ? s[0] : s[pos == n ? n - 1 : pos];
	iqr_out = count_outside(data, n, lo, hi);
	sd_out = count_outside(data, n, mean - sd, mean + sd);
	snprintf(outliers, sizeof(outliers), "%zu;%zu", sd_out, iqr_out);
	return json_pack("{s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:s, s:f, s:f,"
			 " s:f, s:f, s:i}",
			 "min", s[0], "max", s[n - 1], "mean", mean, "stddev", sd, "rounds",
			 (json_int_t)n, "median", median(s, n), "iqr", iqr, "q1", q1, "q3", q3,
			 "iqr_outliers", (json_int_t)iqr_out, "stddev_outliers", (json_int_t)sd_out,
			 "outliers", outliers, "ld15iqr", ld, "hd15iqr", hd, "ops",
			 mean ? 1 / mean : 0.0, "total", total, "iterations", 1);
}

json_t *results_stats(const uint64_t *wall_ns, size_t n)
{
	double *data, *sorted;
	json_t *st = NULL;

	if (!wall_ns || !n) {
		errno = EINVAL;
		return NULL;
	}
	data = calloc(2 * n, sizeof(*data));
	if (!data)
		return NULL;
	sorted = data + n;
	for (size_t i = 0; i < n; i++) /* 0 ns would make mean 0: normalize_stats needs it > 0 */
		data[i] = sorted[i] = (double)(wall_ns[i] ? wall_ns[i] : 1) / 1e9;
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	st = stats_pack(data, sorted, n);
	free(data);
	if (!st)
		errno = ENOMEM;
	return st;
}

/* ---- the parameter id -------------------------------------------------------------------- */

/* Python's repr(float): the shortest round-trip digits, fixed notation for exponents in
 * [-4, 16), otherwise d.ddde+XX. */
static void float_repr(double v, char *out, size_t len)
{
	char buf[40], digits[24];
	int exp, nd = 0, p = 1;
	const char *c;

	for (; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	for (c = buf + (*buf == '-'); *c != 'e'; c++)
		if (*c != '.')
			digits[nd++] = *c;
	exp = atoi(c + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	if (exp >= 16 || exp < -4)
		snprintf(out, len, "%s%c%s%se%c%02d", signbit(v) ? "-" : "", digits[0],
			 nd > 1 ? "." : "", digits + 1, exp < 0 ? '-' : '+', abs(exp));
	else if (exp < 0)
		snprintf(out, len, "%s0.%.*s%s", signbit(v) ? "-" : "", -exp - 1, "0000", digits);
	else if (nd <= exp + 1)
		snprintf(out, len, "%s%s%.*s.0", signbit(v) ? "-" : "", digits, exp + 1 - nd,
			 "0000000000000000");
	else
		snprintf(out, len, "%s%.*s.%s", signbit(v) ? "-" : "", exp + 1, digits,
			 digits + exp + 1);
}

/* One value's id as pytest's _idval() makes it; @buf holds numbers. */
static const char *param_token(const char *key, const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		float_repr(json_real_value(v), buf, len);
		return buf;
	case JSON_TRUE:
		return "True";
	case JSON_FALSE:
		return "False";
	case JSON_NULL:
		return "None";
	default: /* pytest falls back to argname + index; we have no index */
		return key;
	}
}

char *results_param_id(const json_t *params)
{
	const char *key, *tok;
	char *id = NULL, *next;
	char num[48];
	json_t *v;

	errno = 0;
	if (!json_is_object(params) || !json_object_size(params))
		return NULL;
	/* jansson iterates objects in insertion order: the order the client sent. */
	json_object_foreach((json_t *)params, key, v)
	{
		tok = param_token(key, v, num, sizeof(num));
		if (asprintf(&next, "%s%s%s", id ? id : "", id ? "-" : "", tok) < 0) {
			free(id);
			errno = ENOMEM;
			return NULL;
		}
		free(id);
		id = next;
	}
	return id;
}

/* ---- the document -------------------------------------------------------------------------- */

static const struct {
	const char *key;
	size_t off;
} series_fields[] = {
	{ "peak_bytes", offsetof(struct bm_repeat, peak_bytes) },
	{ "total_bytes", offsetof(struct bm_repeat, total_bytes) },
	{ "allocations", offsetof(struct bm_repeat, allocations) },
	{ "rss_bytes", offsetof(struct bm_repeat, rss_bytes) },
};

static uint64_t field_at(const struct bm_repeat *r, size_t off)
{
	return *(const uint64_t *)((const char *)r + off);
}

/* extra_info.benchmem: equal-length per-pass lists; rss_bytes only when every pass has it. */
static json_t *series_lists(const struct bm_repeat *reps, size_t n, bool all_rss)
{
	json_t *o = json_object(), *a;

	for (size_t f = 0; o && f < ARRAY_SIZE(series_fields); f++) {
		if (!strcmp(series_fields[f].key, "rss_bytes") && !all_rss)
			continue;
		a = json_array();
		for (size_t i = 0; a && i < n; i++)
			if (json_array_append_new(
				    a, json_integer(ji(field_at(&reps[i], series_fields[f].off)))))
				break;
		if (!a || json_array_size(a) != n ||
		    json_object_set_new(o, series_fields[f].key, a)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *series_meta(const struct bm_series *s, const struct bm_run_meta *m,
			   const struct bm_repeat *h)
{
	json_t *meta, *aborted = json_array(), *head;
	uint64_t lost_stacks = 0;

	for (size_t i = 0; aborted && i < s->nr_reps; i++)
		json_array_append_new(aborted, json_boolean(s->reps[i].aborted));
	head = json_pack("{s:I, s:I, s:I}", "peak_bytes", ji(h->peak_bytes), "total_bytes",
			 ji(h->total_bytes), "allocations", ji(h->allocations));
	if (head && h->has_rss)
		json_object_set_new(head, "rss_bytes", json_integer(ji(h->rss_bytes)));
	meta = json_pack("{s:I, s:o, s:s?, s:o}", "lost_events", ji(m->lost_events), "aborted",
			 aborted, "python_allocator", m->python_allocator, "headline", head);
	if (meta && m->probe && json_object_set_new(meta, "probe", json_string(m->probe))) {
		json_decref(meta);
		return NULL;
	}
	if (meta && m->python_frames &&
	    json_object_set_new(meta, "python_frames", json_string(m->python_frames))) {
		json_decref(meta);
		return NULL;
	}
	if (meta && s->profile && json_object_set_new(meta, "profile", json_string(s->profile))) {
		json_decref(meta);
		return NULL;
	}
	/* a profile missing stacks must say so: its flame graph is short of those allocations */
	for (size_t i = 0; i < s->nr_reps; i++)
		lost_stacks += s->reps[i].lost_stacks;
	if (meta && lost_stacks &&
	    json_object_set_new(meta, "lost_stacks", json_integer(ji(lost_stacks)))) {
		json_decref(meta);
		return NULL;
	}
	return meta;
}

static json_t *series_extra(const struct bm_series *s, const struct bm_run_meta *m)
{
	struct bm_repeat h;
	json_t *lists, *meta;

	results_headline(s->reps, s->nr_reps, &h);
	lists = series_lists(s->reps, s->nr_reps, h.has_rss);
	meta = series_meta(s, m, &h);
	if (!lists || !meta) {
		json_decref(lists);
		json_decref(meta);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "benchmem", lists, "benchmem_meta", meta);
}

static json_t *series_stats(const struct bm_series *s)
{
	uint64_t *walls = calloc(s->nr_reps, sizeof(*walls));
	json_t *st;

	if (!walls)
		return NULL;
	for (size_t i = 0; i < s->nr_reps; i++)
		walls[i] = s->reps[i].wall_ns;
	st = results_stats(walls, s->nr_reps);
	free(walls);
	return st;
}

static json_t *series_entry(const struct bm_series *s, const struct bm_run_meta *m)
{
	json_t *stats = NULL, *extra = NULL, *params = NULL, *e = NULL;
	char *param = NULL;

	if (!s->name || !s->reps || !s->nr_reps || (s->params && !json_is_object(s->params))) {
		errno = EINVAL;
		return NULL;
	}
	stats = series_stats(s);
	extra = series_extra(s, m);
	params = s->params ? json_deep_copy(s->params) : NULL;
	param = results_param_id(s->params);
	if (!stats || !extra || (s->params && !params) || (!param && errno))
		goto out;
	e = json_pack("{s:s?, s:s, s:s, s:O?, s:s?, s:{s:b, s:s, s:i, s:f, s:f, s:b}, s:O, s:O}",
		      "group", s->group, "name", s->name, "fullname",
		      s->fullname ? s->fullname : s->name, "params", params, "param", param,
		      "options", "disable_gc", 0, "timer", "clock_gettime", "min_rounds", 1,
		      "max_time", 0.0, "min_time", 0.0, "warmup", 0, "stats", stats, "extra_info",
		      extra);
out:
	json_decref(stats);
	json_decref(extra);
	json_decref(params);
	free(param);
	if (!e && !errno)
		errno = ENOMEM;
	return e;
}

/* pytest-benchmark writes datetime.now(timezone.utc).isoformat(). */
static void iso_utc(int64_t unix_ns, char *out, size_t len)
{
	time_t sec = (time_t)(unix_ns / 1000000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), len - strlen(out), ".%06d+00:00",
		 (int)(unix_ns % 1000000000 / 1000));
}

static json_t *benchmarks_array(const struct bm_series *s, size_t n, const struct bm_run_meta *m)
{
	json_t *arr = json_array(), *e;

	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		e = series_entry(&s[i], m);
		if (!e || json_array_append_new(arr, e)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *results_build(const struct bm_series *s, size_t n, const struct bm_run_meta *m)
{
	json_t *machine = NULL, *bms = NULL, *doc = NULL;
	char when[64];

	if (!m || (n && !s) || m->start_unix_ns < 0) {
		errno = EINVAL;
		return NULL;
	}
	errno = 0;
	bms = benchmarks_array(s, n, m);
	if (!bms)
		goto out;
	/* the host's machine_info under what the client sent; commit_info only from the client */
	machine = context_machine_info();
	if (!machine)
		goto out;
	iso_utc(m->start_unix_ns, when, sizeof(when));
	doc = json_pack("{s:O, s:s, s:s, s:{s:s?, s:I, s:s?, s:s?}}", "benchmarks", bms, "datetime",
			when, "version", m->version ? m->version : "benchmemd", "benchmem",
			"command", m->command, "lost_events", ji(m->lost_events), "attach_mode",
			m->attach_mode, "python_allocator", m->python_allocator);
	if (doc && context_apply(doc, m->context, machine)) {
		json_decref(doc);
		doc = NULL;
	}
out:
	json_decref(machine);
	json_decref(bms);
	if (!doc && !errno)
		errno = ENOMEM;
	return doc;
}

int results_write(const json_t *doc, const char *path)
{
	if (!doc || !path)
		return -EINVAL;
	return jsonutil_write_file(doc, path);
}

int results_write_at(const json_t *doc, int dirfd, const char *name,
		     const struct atomic_file_opts *o)
{
	if (!doc || !name)
		return -EINVAL;
	return jsonutil_write_at(doc, dirfd, name, o);
}
