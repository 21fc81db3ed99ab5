// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/compare_model.c — the rows and columns of `benchmemctl compare`: values, --pivot
 * folding, --group-by keys, --sort. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_err.h"
#include "compare_model.h"
#include "jsonutil.h"
#include "units.h"

const char *const metric_names[NR_METRICS] = { "time", "peak", "allocated", "allocations", "rss" };

bool cell_value(const struct run_entry *e, enum metric m, int stat, double *out)
{
	enum cmp_field f = (enum cmp_field)(m - M_PEAK);
	const uint64_t *v;

	if (!e)
		return false;
	if (m == M_TIME) {
		if (!e->has_time)
			return false;
		*out = e->time_s[stat < 0 ? CMP_STAT_MIN : stat];
		return true;
	}
	if (!e->has_mem || (f == CMP_RSS && !e->headline.has_rss))
		return false;
	if (stat < 0) {
		*out = (double)cmp_headline_value(&e->headline, f);
		return true;
	}
	v = cmp_series_of(&e->series, f);
	return v && !cmp_reduce(v, e->series.n, (enum cmp_stat)stat, out);
}

bool change_of(const struct model *md, const struct row *r, const struct col *c, double *pct)
{
	double a, b;

	if (md->nr_srcs < 2 || !cell_value(r->cells[0], c->metric, c->stat, &a) ||
	    !cell_value(r->cells[md->nr_srcs - 1], c->metric, c->stat, &b) || a <= 0)
		return false;
	*pct = (b - a) / a * 100;
	return true;
}

static void fmt_time(double s, char *buf, size_t len)
{
	if (s < 1e-6)
		snprintf(buf, len, "%.2f ns", s * 1e9);
	else if (s < 1e-3)
		snprintf(buf, len, "%.2f us", s * 1e6);
	else if (s < 1)
		snprintf(buf, len, "%.2f ms", s * 1e3);
	else
		snprintf(buf, len, "%.2f s", s);
}

void fmt_value(enum metric m, double v, char *buf, size_t len)
{
	if (m == M_TIME)
		fmt_time(v, buf, len);
	else if (m == M_ALLOCATIONS)
		snprintf(buf, len, v == floor(v) ? "%.0f" : "%.2f", v);
	else
		units_format_bytes((uint64_t)llround(v), buf, len);
}

/* A param value as pytest spells it in an id: 10, 0.5, abc, True, None. */
static void param_str(const json_t *v, char *buf, size_t len)
{
	double d;

	if (json_is_string(v)) {
		snprintf(buf, len, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		for (int p = 1; p <= 17; p++) { /* shortest round trip, like Python's repr */
			snprintf(buf, len, "%.*g", p, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		if (!strpbrk(buf, ".en"))
			strncat(buf, ".0", len - strlen(buf) - 1);
	} else if (json_is_boolean(v)) {
		snprintf(buf, len, "%s", json_is_true(v) ? "True" : "False");
	} else {
		snprintf(buf, len, "None");
	}
}

/* ---- the model: sources x rows x columns ------------------------------------------------ */

/* Removes the first '-'-separated token equal to @val from the [..] part of @fullname.
 * Returns a new string, or NULL (errno ENOENT: the id does not carry the value). */
static char *strip_param(const char *fullname, const char *val)
{
	const char *lb = strchr(fullname, '[');
	size_t n = strlen(fullname), vlen = strlen(val), i, end;
	char *out;

	if (!lb || fullname[n - 1] != ']')
		goto none;
	for (i = (size_t)(lb - fullname) + 1; i < n - 1; i = end + 1) {
		end = i + strcspn(fullname + i, "-]");
		if (end - i == vlen && !strncmp(fullname + i, val, vlen))
			break;
	}
	if (i >= n - 1)
		goto none;
	/* drop the token with one adjacent '-'; drop "[]" when nothing is left */
	if (fullname[end] == '-')
		end++;
	else if (fullname + i > lb + 1)
		i--;
	if (asprintf(&out, "%.*s%s", (int)i, fullname, fullname + end) < 0)
		return NULL;
	if (strstr(out, "[]"))
		*strstr(out, "[]") = '\0';
	return out;
none:
	errno = ENOENT;
	return NULL;
}

static void group_part(const struct run_entry *e, const char *key, char *buf, size_t len)
{
	const char *id = e->fullname, *seg = run__short_id(id), *p;
	const json_t *v;

	if (!strcmp(key, "fullname")) {
		snprintf(buf, len, "%s", id);
	} else if (!strcmp(key, "name")) {
		snprintf(buf, len, "%s", e->name);
	} else if (!strcmp(key, "func")) {
		snprintf(buf, len, "%.*s", (int)strcspn(seg, "["), seg);
	} else if (!strcmp(key, "group")) {
		snprintf(buf, len, "%s", e->group ? e->group : "(none)");
	} else if (!strcmp(key, "module")) {
		p = strstr(id, "::");
		snprintf(buf, len, "%.*s", p ? (int)(p - id) : 0, id);
	} else if (!strcmp(key, "class")) {
		p = strstr(id, "::");
		/* module::Class::func: the segment between the first "::" and the last */
		if (p && p + 2 < seg)
			snprintf(buf, len, "%.*s", (int)(seg - 2 - (p + 2)), p + 2);
		else
			snprintf(buf, len, "(none)");
	} else {
		v = e->params ? json_object_get(e->params, key + 6) : NULL;
		if (v)
			param_str(v, buf, len);
		else
			snprintf(buf, len, "(none)");
	}
}

static char *group_of(const struct opts *o, const struct run_entry *e)
{
	char part[512];
	char *out = strdup(""), *next;

	for (int i = 0; out && i < o->nr_group_keys; i++) {
		group_part(e, o->group_keys[i], part, sizeof(part));
		if (asprintf(&next, "%s%s%s=%s", out, i ? ", " : "", o->group_keys[i], part) < 0)
			next = NULL;
		free(out);
		out = next;
	}
	return out;
}

static struct row *find_row(struct model *md, const char *key)
{
	for (size_t i = 0; i < md->nr_rows; i++) {
		if (!strcmp(md->rows[i].key, key))
			return &md->rows[i];
	}
	return NULL;
}

/* Puts entry @e of source @si under @key (takes @key). */
static int place(struct model *md, const struct opts *o, size_t si, const struct run_entry *e,
		 char *key)
{
	struct row *r = find_row(md, key), *v;

	if (r) {
		free(key);
		if (!r->cells[si])
			r->cells[si] = e;
		return 0;
	}
	v = realloc(md->rows, (md->nr_rows + 1) * sizeof(*v));
	if (!v) {
		free(key);
		return -ENOMEM;
	}
	md->rows = v;
	r = &md->rows[md->nr_rows++];
	*r = (struct row){ .key = key, .group = group_of(o, e) };
	r->cells = calloc(md->nr_srcs, sizeof(*r->cells));
	if (!r->group || !r->cells)
		return -ENOMEM;
	r->cells[si] = e;
	return 0;
}

static int add_src(struct model *md, const char *label, const struct run *run, const char *pv)
{
	struct src *v = realloc(md->srcs, (md->nr_srcs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	md->srcs = v;
	v = &md->srcs[md->nr_srcs++];
	*v = (struct src){ .label = strdup(label),
			   .run = run,
			   .pivot_value = pv ? strdup(pv) : NULL };
	return v->label && (!pv || v->pivot_value) ? 0 : -ENOMEM;
}

/* Pivot values in order: numerically when both are numbers (2 < 10 < 100), else as versions
 * ("a2" < "a10"), so that the change column runs from the smallest value to the largest. */
static int pivot_order(const void *a, const void *b)
{
	const char *x = ((const struct src *)a)->pivot_value;
	const char *y = ((const struct src *)b)->pivot_value;
	char *ex, *ey;
	double dx = strtod(x, &ex), dy = strtod(y, &ey);

	if (*x && *y && !*ex && !*ey && dx != dy)
		return dx < dy ? -1 : 1;
	return strverscmp(x, y);
}

/* --pivot param:NAME: one source per value of NAME, in pivot_order. */
static int pivot_sources(struct model *md, const struct opts *o, const struct run *run)
{
	char val[256], label[320];
	bool seen;

	for (size_t i = 0; i < run->nr_entries; i++) {
		const json_t *v = run->entries[i].params;

		v = v ? json_object_get(v, o->pivot) : NULL;
		if (!v)
			continue;
		param_str(v, val, sizeof(val));
		seen = false;
		for (size_t s = 0; s < md->nr_srcs; s++)
			seen = seen || !strcmp(md->srcs[s].pivot_value, val);
		snprintf(label, sizeof(label), "%s=%s", o->pivot, val);
		if (!seen && add_src(md, label, run, val))
			return -ENOMEM;
	}
	if (!md->nr_srcs) {
		cli_err(o->prog, 0, "--pivot param:%s: no benchmark in %s has that param", o->pivot,
			run->path);
		return -EINVAL;
	}
	qsort(md->srcs, md->nr_srcs, sizeof(*md->srcs), pivot_order);
	return 0;
}

static int pivot_rows(struct model *md, const struct opts *o)
{
	const struct run *run = md->srcs[0].run;
	char val[256], *key;

	for (size_t i = 0; i < run->nr_entries; i++) {
		const struct run_entry *e = &run->entries[i];
		const json_t *v = e->params ? json_object_get(e->params, o->pivot) : NULL;
		size_t si = 0;

		if (!v)
			continue;
		param_str(v, val, sizeof(val));
		while (strcmp(md->srcs[si].pivot_value, val))
			si++;
		key = strip_param(e->fullname, val);
		if (!key && errno == ENOENT) {
			cli_warn(o->prog, "cannot fold %s: its id does not contain %s=%s",
				 e->fullname, o->pivot, val);
			key = strdup(e->fullname);
		}
		if (!key || place(md, o, si, e, key))
			return -ENOMEM;
	}
	return 0;
}

int build_rows(struct model *md, const struct opts *o, const struct runs *rs)
{
	bool dup = false;
	int ret;

	if (o->pivot) {
		ret = pivot_sources(md, o, rs->v[0]);
		return ret ? ret : pivot_rows(md, o);
	}
	/* labels name the runs; equal file names in two directories fall back to paths */
	for (size_t i = 0; i < rs->nr; i++) {
		for (size_t j = 0; j < i; j++)
			dup = dup || !strcmp(rs->v[i]->label, rs->v[j]->label);
	}
	for (size_t i = 0; i < rs->nr; i++) {
		if (add_src(md, dup ? rs->v[i]->path : rs->v[i]->label, rs->v[i], NULL))
			return -ENOMEM;
	}
	for (size_t si = 0; si < md->nr_srcs; si++) {
		const struct run *run = md->srcs[si].run;

		for (size_t i = 0; i < run->nr_entries; i++) {
			char *key = strdup(run->entries[i].fullname);

			if (!key || place(md, o, si, &run->entries[i], key))
				return -ENOMEM;
		}
	}
	return 0;
}

static bool metric_present(const struct model *md, enum metric m)
{
	double v;

	for (size_t r = 0; r < md->nr_rows; r++) {
		for (size_t s = 0; s < md->nr_srcs; s++) {
			if (cell_value(md->rows[r].cells[s], m, -1, &v))
				return true;
		}
	}
	return false;
}

/* The value columns: requested metrics present in some run, times the stats. */
int build_cols(struct model *md, const struct opts *o)
{
	for (int i = 0; i < o->nr_order; i++) {
		enum metric m = o->order[i];

		if (!metric_present(md, m)) {
			if (m == M_RSS)
				cli_note(o->prog, "no run has rss_bytes (mark the benchmarks "
						  "isolate=True to measure rss)");
			continue;
		}
		for (int st = 0; st < CMP_NR_STATS; st++) {
			if (o->stat < 0 && st > 0)
				break;
			if (o->stat >= 0 && !(o->stat_mask & (1u << st)))
				continue;
			md->cols[md->nr_cols++] = (struct col){ m, o->stat < 0 ? -1 : st };
		}
	}
	if (!md->nr_cols) {
		cli_err(o->prog, 0, "none of the requested columns has data in these runs");
		return -ENODATA;
	}
	return 0;
}

static int row_order(const void *a, const void *b, void *arg)
{
	const struct row *x = a, *y = b;
	const int *sort = arg;
	int c = strverscmp(x->group, y->group);

	if (c)
		return c;
	if (*sort == SORT_VALUE && x->sort_value != y->sort_value)
		return x->sort_value < y->sort_value ? 1 : -1;
	if (*sort == SORT_CHANGE && x->sort_change != y->sort_change)
		return x->sort_change < y->sort_change ? 1 : -1;
	return strverscmp(x->key, y->key);
}

/* Groups by key, then --sort (value: largest in the last source first; change: biggest
 * growth first; both keyed on the first column; rows without one go last). */
void sort_rows(struct model *md, const struct opts *o)
{
	int sort = o->sort;

	for (size_t i = 0; i < md->nr_rows; i++) {
		struct row *r = &md->rows[i];

		if (!cell_value(r->cells[md->nr_srcs - 1], md->cols[0].metric, md->cols[0].stat,
				&r->sort_value))
			r->sort_value = -INFINITY;
		if (!change_of(md, r, &md->cols[0], &r->sort_change))
			r->sort_change = -INFINITY;
	}
	qsort_r(md->rows, md->nr_rows, sizeof(*md->rows), row_order, &sort);
}

void model_free(struct model *md)
{
	for (size_t i = 0; i < md->nr_srcs; i++) {
		free(md->srcs[i].label);
		free(md->srcs[i].pivot_value);
	}
	for (size_t i = 0; i < md->nr_rows; i++) {
		free(md->rows[i].key);
		free(md->rows[i].group);
		free(md->rows[i].cells);
	}
	free(md->srcs);
	free(md->rows);
}
