// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_compare.c — `benchmemctl compare` (tables of runs, --fail-on) and `gate` (CI). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "ctl.h"
#include "runs.h"
#include "units.h"

#define MAX_RULES      32
#define MAX_GROUP_KEYS 8

enum metric { M_TIME, M_PEAK, M_ALLOCATED, M_ALLOCATIONS, M_RSS, NR_METRICS };
static const char *const metric_names[NR_METRICS] = { "time", "peak", "allocated", "allocations",
						      "rss" };
enum fmt { FMT_TABLE, FMT_MD, FMT_CSV };
enum sort { SORT_NAME, SORT_VALUE, SORT_CHANGE };

/* A column source: one run, or one value of the pivot param within the only run. */
struct src {
	char *label;
	const struct run *run;
	char *pivot_value; /* NULL unless pivoting */
};

/* A row: one id across the sources. */
struct row {
	char *key;			/* fullname, or fullname with the pivot token stripped */
	char *group;			/* --group-by key, "" without --group-by */
	const struct run_entry **cells; /* [nr_srcs], NULL when the id is absent there */
	double sort_value, sort_change; /* for --sort */
};

/* A value column: a metric, reduced by a stat or (stat < 0) its headline. */
struct col {
	enum metric metric;
	int stat;
};

struct opts {
	const char *cmd;
	bool metrics[NR_METRICS];
	enum metric order[NR_METRICS];
	int nr_order;
	int stat; /* -1 headline, CMP_NR_STATS = all */
	char *group_keys[MAX_GROUP_KEYS];
	int nr_group_keys;
	int sort;	   /* enum sort */
	const char *pivot; /* the NAME of param:NAME */
	int fmt;	   /* enum fmt */
	const char *csv_path;
	struct cmp_rule rules[MAX_RULES];
	char *rule_text[MAX_RULES];
	int nr_rules;
	uint64_t ceilings[CMP_NR_FIELDS]; /* UINT64_MAX: none */
	bool color;
};

struct model {
	struct src *srcs;
	size_t nr_srcs;
	struct row *rows;
	size_t nr_rows;
	struct col cols[NR_METRICS * CMP_NR_STATS];
	size_t nr_cols;
};

static void errorf(const struct opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void errorf(const struct opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "benchmemctl %s: error: ", o->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- values -------------------------------------------------------------------------------- */

/* The last "::" segment of an id (before any [params]). */
static const char *short_id(const char *key)
{
	const char *br = strchr(key, '['), *p = key, *q;

	while ((q = strstr(p, "::")) && (!br || q < br))
		p = q + 2;
	return p;
}

static bool cell_value(const struct run_entry *e, enum metric m, int stat, double *out)
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

static bool change_of(const struct model *md, const struct row *r, const struct col *c, double *pct)
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

/* Human form of a value: sizes in IEC units, counts as integers, times scaled. */
static void fmt_value(enum metric m, double v, char *buf, size_t len)
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

/* ---- options --------------------------------------------------------------------------------- */

static int parse_columns(struct opts *o, const char *arg)
{
	char *dup = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	memset(o->metrics, 0, sizeof(o->metrics));
	o->nr_order = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int m = 0;

		while (m < NR_METRICS && strcmp(tok, metric_names[m]))
			m++;
		if (m == NR_METRICS) {
			errorf(o,
			       "--columns: unknown column '%s' (time, peak, allocated, "
			       "allocations, rss)",
			       tok);
			ret = -EINVAL;
			break;
		}
		if (!o->metrics[m])
			o->order[o->nr_order++] = (enum metric)m;
		o->metrics[m] = true;
	}
	if (!ret && !o->nr_order) {
		errorf(o, "--columns: empty list");
		ret = -EINVAL;
	}
	free(dup);
	return ret;
}

static int parse_group_by(struct opts *o, const char *arg)
{
	static const char *const keys[] = {
		"fullname", "name", "func", "group", "module", "class"
	};
	char *dup = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		bool ok = !strncmp(tok, "param:", 6) && tok[6];

		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			ok = ok || !strcmp(tok, keys[i]);
		if (!ok || o->nr_group_keys >= MAX_GROUP_KEYS) {
			errorf(o,
			       "--group-by: bad key '%s' (fullname, name, func, group, module, "
			       "class, param:NAME; at most %d)",
			       tok, MAX_GROUP_KEYS);
			ret = -EINVAL;
		} else if (!(o->group_keys[o->nr_group_keys++] = strdup(tok))) {
			ret = -ENOMEM;
		}
	}
	free(dup);
	return ret;
}

static int parse_choice(struct opts *o, const char *opt, const char *arg, const char *const *names,
			int n, int *out)
{
	for (int i = 0; i < n; i++) {
		if (!strcmp(arg, names[i])) {
			*out = i;
			return 0;
		}
	}
	errorf(o, "%s: unknown value '%s'", opt, arg);
	return -EINVAL;
}

static int add_rule(struct opts *o, const char *arg)
{
	char err[256];

	if (o->nr_rules >= MAX_RULES) {
		errorf(o, "--fail-on: at most %d rules", MAX_RULES);
		return -E2BIG;
	}
	if (cmp_rule_parse(arg, &o->rules[o->nr_rules], err, sizeof(err))) {
		errorf(o, "--fail-on %s", err);
		return -EINVAL;
	}
	o->rule_text[o->nr_rules++] = (char *)arg;
	return 0;
}

static int add_ceiling(struct opts *o, enum cmp_field f, const char *arg)
{
	char err[256];

	if (cmp_limit_parse(f, arg, &o->ceilings[f], err, sizeof(err))) {
		errorf(o, "--max-%s: %s", cmp_field_name(f), err);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_COLUMNS = 256,
	OPT_STAT,
	OPT_GROUP_BY,
	OPT_SORT,
	OPT_PIVOT,
	OPT_FORMAT,
	OPT_CSV,
	OPT_FAIL_ON,
	OPT_MAX_PEAK,
	OPT_MAX_ALLOCATED,
	OPT_MAX_ALLOCATIONS
};

static const struct option long_opts[] = {
	{ "columns", required_argument, NULL, OPT_COLUMNS },
	{ "stat", required_argument, NULL, OPT_STAT },
	{ "group-by", required_argument, NULL, OPT_GROUP_BY },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "pivot", required_argument, NULL, OPT_PIVOT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "max-peak", required_argument, NULL, OPT_MAX_PEAK },
	{ "max-allocated", required_argument, NULL, OPT_MAX_ALLOCATED },
	{ "max-allocations", required_argument, NULL, OPT_MAX_ALLOCATIONS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_one(struct opts *o, int c, const char *arg)
{
	static const char *const stats[] = { "min", "max", "mean", "median", "stddev", "all" };
	static const char *const sorts[] = { "name", "value", "change" };
	static const char *const fmts[] = { "table", "md", "csv" };
	switch (c) {
	case OPT_COLUMNS:
		return parse_columns(o, arg);
	case OPT_STAT:
		return parse_choice(o, "--stat", arg, stats, 6, &o->stat);
	case OPT_GROUP_BY:
		return parse_group_by(o, arg);
	case OPT_SORT:
		return parse_choice(o, "--sort", arg, sorts, 3, &o->sort);
	case OPT_PIVOT:
		if (strncmp(arg, "param:", 6) || !arg[6]) {
			errorf(o, "--pivot: expected param:NAME, got '%s'", arg);
			return -EINVAL;
		}
		o->pivot = arg + 6;
		return 0;
	case OPT_FORMAT:
		return parse_choice(o, "--format", arg, fmts, 3, &o->fmt);
	case OPT_CSV:
		o->csv_path = arg;
		return 0;
	case OPT_FAIL_ON:
		return add_rule(o, arg);
	case OPT_MAX_PEAK:
		return add_ceiling(o, CMP_PEAK, arg);
	case OPT_MAX_ALLOCATED:
		return add_ceiling(o, CMP_ALLOCATED, arg);
	case OPT_MAX_ALLOCATIONS:
		return add_ceiling(o, CMP_ALLOCATIONS, arg);
	default:
		return -EINVAL;
	}
}

static const char compare_usage[] =
	"usage: benchmemctl compare RUN... [--columns time,peak,allocated,allocations,rss]\n"
	"         [--stat min|max|mean|median|stddev|all] [--group-by KEY[,KEY...]]\n"
	"         [--sort name|value|change] [--pivot param:NAME] [--format table|md|csv]\n"
	"         [--csv FILE] [--fail-on FIELD:THRESHOLD]...\n"
	"RUN is a pytest-benchmark JSON file or a storage directory (.benchmarks/<machine>/).\n";
static const char gate_usage[] =
	"usage: benchmemctl gate BASELINE RUN [--fail-on FIELD:THRESHOLD]... [--max-peak SIZE]\n"
	"         [--max-allocated SIZE] [--max-allocations N]\n";

/* Returns the index of the first positional argument, or -1 after printing why. */
static int parse_opts(struct opts *o, int argc, char **argv, bool gate)
{
	int c;

	optind = 0; /* full GNU getopt reset: argv is a fresh vector */
	opterr = 0;
	/* GNU getopt permutes: the positional RUNs end up at argv[optind..] */
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(gate ? gate_usage : compare_usage, stdout);
			return -2;
		}
		if (c == '?' || c == ':') {
			errorf(o, "bad option '%s' (see --help)", argv[optind - 1]);
			return -1;
		}
		if (gate && c != OPT_FAIL_ON && c < OPT_MAX_PEAK) {
			errorf(o, "option '%s' belongs to compare, not gate", argv[optind - 1]);
			return -1;
		}
		if (!gate && c >= OPT_MAX_PEAK) {
			errorf(o, "option '%s' belongs to gate, not compare", argv[optind - 1]);
			return -1;
		}
		if (parse_one(o, c, optarg))
			return -1;
	}
	return optind;
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
	const char *id = e->fullname, *seg = short_id(id), *p;
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

/* --pivot param:NAME: one source per value of NAME (collection order). */
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
		errorf(o, "--pivot param:%s: no benchmark in %s has that param", o->pivot,
		       run->path);
		return -EINVAL;
	}
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
			fprintf(stderr,
				"benchmemctl %s: warning: cannot fold %s: its id does not contain "
				"%s=%s\n",
				o->cmd, e->fullname, o->pivot, val);
			key = strdup(e->fullname);
		}
		if (!key || place(md, o, si, e, key))
			return -ENOMEM;
	}
	return 0;
}

static int build_rows(struct model *md, const struct opts *o, const struct runs *rs)
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
static int build_cols(struct model *md, const struct opts *o)
{
	for (int i = 0; i < o->nr_order; i++) {
		enum metric m = o->order[i];

		if (!metric_present(md, m)) {
			if (m == M_RSS)
				fprintf(stderr,
					"benchmemctl %s: note: no run has rss_bytes (mark the "
					"benchmarks isolate=True to measure rss)\n",
					o->cmd);
			continue;
		}
		for (int st = 0; st < CMP_NR_STATS; st++) {
			if (o->stat < 0 && st > 0)
				break;
			if (o->stat >= 0 && o->stat < CMP_NR_STATS && o->stat != st)
				continue;
			md->cols[md->nr_cols++] = (struct col){ m, o->stat < 0 ? -1 : st };
		}
	}
	if (!md->nr_cols) {
		errorf(o, "none of the requested columns has data in these runs");
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
static void sort_rows(struct model *md, const struct opts *o)
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

static void model_free(struct model *md)
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

/* ---- rendering ------------------------------------------------------------------------------ */

struct cell {
	char *text;
	int tone; /* 1 worse (red), -1 better (green), 0 plain */
};

struct grid {
	size_t ncols, nrows;
	struct cell *cells; /* row-major; row 0 is the header */
	size_t nr_left;	    /* leading text columns (left-aligned) */
	size_t cur;	    /* next column of the row being filled */
};

static int grid_add(struct grid *g, int tone, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int grid_add(struct grid *g, int tone, const char *fmt, ...)
{
	struct cell *v, *c;
	va_list ap;
	int ret;

	if (!g->cur) {
		v = realloc(g->cells, (g->nrows + 1) * g->ncols * sizeof(*v));
		if (!v)
			return -ENOMEM;
		g->cells = v;
		memset(v + g->nrows * g->ncols, 0, g->ncols * sizeof(*v));
	}
	c = &g->cells[g->nrows * g->ncols + g->cur];
	va_start(ap, fmt);
	ret = vasprintf(&c->text, fmt, ap);
	va_end(ap);
	if (ret < 0) {
		c->text = NULL;
		return -ENOMEM;
	}
	c->tone = tone;
	if (++g->cur == g->ncols) { /* a row is complete after ncols adds */
		g->cur = 0;
		g->nrows++;
	}
	return 0;
}

static void grid_free(struct grid *g)
{
	for (size_t i = 0; i < g->nrows * g->ncols + g->cur; i++)
		free(g->cells[i].text);
	free(g->cells);
}

static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80; /* count UTF-8 code points */
	return w;
}

static void print_cell(FILE *f, const struct cell *c, size_t width, bool left, bool color)
{
	size_t pad = width - text_width(c->text);

	if (!left)
		fprintf(f, "%*s", (int)pad, "");
	if (color && c->tone)
		fprintf(f, "\033[%sm%s\033[0m", c->tone > 0 ? "31" : "32", c->text);
	else
		fputs(c->text, f);
	if (left)
		fprintf(f, "%*s", (int)pad, "");
}

static void print_grid_table(FILE *f, const struct grid *g, bool color)
{
	size_t w[64] = { 0 };

	for (size_t i = 0; i < g->nrows * g->ncols; i++) {
		size_t tw = text_width(g->cells[i].text);

		if (tw > w[i % g->ncols])
			w[i % g->ncols] = tw;
	}
	for (size_t r = 0; r < g->nrows; r++) {
		for (size_t c = 0; c < g->ncols; c++) {
			if (c)
				fputs("  ", f);
			print_cell(f, &g->cells[r * g->ncols + c], w[c], c < g->nr_left,
				   color && r);
		}
		fputc('\n', f);
		if (!r) {
			size_t total = 0;

			for (size_t c = 0; c < g->ncols; c++)
				total += w[c] + (c ? 2 : 0);
			for (size_t i = 0; i < total; i++)
				fputc('-', f);
			fputc('\n', f);
		}
	}
}

static void print_md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void print_grid_md(FILE *f, const struct grid *g)
{
	for (size_t r = 0; r < g->nrows; r++) {
		for (size_t c = 0; c < g->ncols; c++) {
			fputs(c ? " | " : "| ", f);
			print_md_text(f, g->cells[r * g->ncols + c].text);
		}
		fputs(" |\n", f);
		for (size_t c = 0; !r && c < g->ncols; c++)
			fputs(c < g->nr_left ? "|---" : "|---:", f);
		if (!r)
			fputs("|\n", f);
	}
}

static void col_name(const struct col *c, char *buf, size_t len)
{
	if (c->stat < 0)
		snprintf(buf, len, "%s", metric_names[c->metric]);
	else
		snprintf(buf, len, "%s:%s", metric_names[c->metric],
			 cmp_stat_name((enum cmp_stat)c->stat));
}

static int add_change_cell(struct grid *g, const struct model *md, const struct row *r,
			   const struct col *c)
{
	double pct;

	if (!change_of(md, r, c, &pct))
		return grid_add(g, 0, "n/a");
	/* half-tenths round away from zero in %+.1f; an exact 0 shows as +0.0% */
	return grid_add(g, pct > 0.05 ? 1 : pct < -0.05 ? -1 : 0, "%+.1f%%", pct);
}

static int add_row_lines(struct grid *g, const struct model *md, const struct row *r,
			 const char *name)
{
	char buf[64];
	double v;
	int ret = 0;

	for (size_t s = 0; !ret && s < md->nr_srcs; s++) {
		ret = grid_add(g, 0, "%s", s ? "" : name);
		if (!ret && md->nr_srcs > 1)
			ret = grid_add(g, 0, "%s", md->srcs[s].label);
		for (size_t c = 0; !ret && c < md->nr_cols; c++) {
			if (cell_value(r->cells[s], md->cols[c].metric, md->cols[c].stat, &v))
				fmt_value(md->cols[c].metric, v, buf, sizeof(buf));
			else
				snprintf(buf, sizeof(buf), "-");
			ret = grid_add(g, 0, "%s", buf);
		}
	}
	if (ret || md->nr_srcs < 2)
		return ret;
	ret = grid_add(g, 0, "%s", "") ?: grid_add(g, 0, "change");
	for (size_t c = 0; !ret && c < md->nr_cols; c++)
		ret = add_change_cell(g, md, r, &md->cols[c]);
	return ret;
}

/* Shows the last "::" segment of ids unless two rows would look the same. */
static bool short_names_unique(const struct model *md)
{
	for (size_t i = 0; i < md->nr_rows; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(short_id(md->rows[i].key), short_id(md->rows[j].key)))
				return false;
		}
	}
	return true;
}

static int print_group(FILE *f, const struct model *md, const struct opts *o, size_t from,
		       size_t to, bool short_names)
{
	struct grid g = { .ncols = 1 + (md->nr_srcs > 1) + md->nr_cols };
	char name[128];
	int ret;

	g.nr_left = 1 + (md->nr_srcs > 1);
	if (g.ncols > 64)
		return -E2BIG;
	ret = grid_add(&g, 0, "name");
	if (!ret && md->nr_srcs > 1)
		ret = grid_add(&g, 0, o->pivot ? "%s" : "run", o->pivot ? o->pivot : "");
	for (size_t c = 0; !ret && c < md->nr_cols; c++) {
		col_name(&md->cols[c], name, sizeof(name));
		ret = grid_add(&g, 0, "%s", name);
	}
	for (size_t r = from; !ret && r < to; r++) {
		const char *key = md->rows[r].key;

		ret = add_row_lines(&g, md, &md->rows[r], short_names ? short_id(key) : key);
	}
	if (!ret && o->fmt == FMT_MD)
		print_grid_md(f, &g);
	else if (!ret)
		print_grid_table(f, &g, o->color);
	grid_free(&g);
	return ret;
}

static int print_tables(FILE *f, const struct model *md, const struct opts *o)
{
	bool short_names = short_names_unique(md);
	size_t from = 0;
	int ret = 0;

	while (!ret && from < md->nr_rows) {
		size_t to = from + 1;

		while (to < md->nr_rows && !strcmp(md->rows[to].group, md->rows[from].group))
			to++;
		if (o->nr_group_keys)
			fprintf(f, o->fmt == FMT_MD ? "%s### %s\n\n" : "%s[%s]\n", from ? "\n" : "",
				md->rows[from].group);
		else if (from)
			fputc('\n', f);
		ret = print_group(f, md, o, from, to, short_names);
		from = to;
	}
	return ret;
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Raw, unscaled values (bytes, counts, seconds): one column per metric[:stat]:source. */
static void print_csv(FILE *f, const struct model *md, const struct opts *o)
{
	char name[128], buf[512];
	double v;

	fputs(o->nr_group_keys ? "id,group" : "id", f);
	for (size_t c = 0; c < md->nr_cols; c++) {
		col_name(&md->cols[c], name, sizeof(name));
		for (size_t s = 0; s < md->nr_srcs; s++) {
			snprintf(buf, sizeof(buf), "%s:%s", name, md->srcs[s].label);
			fputc(',', f);
			csv_field(f, buf);
		}
		if (md->nr_srcs > 1)
			fprintf(f, ",%s:change_pct", name);
	}
	fputc('\n', f);
	for (size_t r = 0; r < md->nr_rows; r++) {
		const struct row *row = &md->rows[r];

		csv_field(f, row->key);
		if (o->nr_group_keys) {
			fputc(',', f);
			csv_field(f, row->group);
		}
		for (size_t c = 0; c < md->nr_cols; c++) {
			for (size_t s = 0; s < md->nr_srcs; s++) {
				fputc(',', f);
				if (cell_value(row->cells[s], md->cols[c].metric, md->cols[c].stat,
					       &v))
					fprintf(f, "%.10g", v);
			}
			if (md->nr_srcs > 1 && change_of(md, row, &md->cols[c], &v))
				fprintf(f, ",%.2f", v);
			else if (md->nr_srcs > 1)
				fputc(',', f);
		}
		fputc('\n', f);
	}
}

/* ---- gates ---------------------------------------------------------------------------------- */

static void fmt_field(enum cmp_field f, uint64_t v, char *buf, size_t len)
{
	if (f == CMP_ALLOCATIONS)
		snprintf(buf, len, "%" PRIu64, v);
	else
		units_format_bytes(v, buf, len);
}

/* Writes one line per regressed id of rule @i into @hits. Returns the number of hits, or
 * -ENODATA when no id had the rule's data in both the first and the last source. */
static int eval_rule(const struct model *md, const struct opts *o, int i, FILE *hits)
{
	const struct cmp_rule *rule = &o->rules[i];
	int nr_hits = 0, nr_eval = 0;
	char a[32], b[32], pct[32];
	struct cmp_verdict v;

	for (size_t r = 0; r < md->nr_rows; r++) {
		const struct run_entry *x = md->rows[r].cells[0];
		const struct run_entry *y = md->rows[r].cells[md->nr_srcs - 1];

		if (!x || !y || !x->has_mem || !y->has_mem ||
		    cmp_rule_eval(rule, &x->headline, &y->headline, &v))
			continue;
		nr_eval++;
		if (!v.regressed)
			continue;
		nr_hits++;
		fmt_field(rule->field, v.base, a, sizeof(a));
		fmt_field(rule->field, v.cur, b, sizeof(b));
		if (v.base)
			snprintf(pct, sizeof(pct), "%+.1f%%", v.change_pct);
		else
			snprintf(pct, sizeof(pct), "new");
		fprintf(hits, "  %s%-12s%s %s: %s \u2192 %s (%s) [%s]\n",
			o->color ? "\033[31m" : "", cmp_field_name(rule->field),
			o->color ? "\033[0m" : "", short_id(md->rows[r].key), a, b, pct,
			o->rule_text[i]);
	}
	if (!nr_eval) {
		if (rule->field == CMP_RSS)
			errorf(o,
			       "--fail-on %s: no rss data: no benchmark has rss_bytes in both %s "
			       "and %s (mark the benchmarks isolate=True)",
			       o->rule_text[i], md->srcs[0].label, md->srcs[md->nr_srcs - 1].label);
		else
			errorf(o, "--fail-on %s: no benchmark has memory data in both %s and %s",
			       o->rule_text[i], md->srcs[0].label, md->srcs[md->nr_srcs - 1].label);
		return -ENODATA;
	}
	return nr_hits;
}

/* Ceilings on the last source: the worst pass of each entry, strictly greater fails. */
static int eval_ceilings(const struct model *md, const struct opts *o, FILE *hits)
{
	static const char *const names[CMP_NR_FIELDS] = { "max_peak", "max_allocated",
							  "max_allocations", "max_rss" };
	const struct run *run = md->srcs[md->nr_srcs - 1].run;
	char a[32], b[32];
	uint64_t worst;
	int nr_hits = 0;

	for (size_t i = 0; i < run->nr_entries; i++) {
		const struct run_entry *e = &run->entries[i];

		for (int f = 0; e->has_mem && f < CMP_NR_FIELDS; f++) {
			if (o->ceilings[f] == UINT64_MAX ||
			    cmp_ceiling_check(&e->series, (enum cmp_field)f, o->ceilings[f],
					      &worst) != 1)
				continue;
			nr_hits++;
			fmt_field((enum cmp_field)f, worst, a, sizeof(a));
			fmt_field((enum cmp_field)f, o->ceilings[f], b, sizeof(b));
			fprintf(hits, "  %-12s %s: %s %s exceeds %s %s\n", names[f], e->name,
				cmp_field_name((enum cmp_field)f), a, names[f], b);
		}
	}
	return nr_hits;
}

/* Prints the verdict. Returns the exit code: 0 clean, 1 regressions, 2 no data. */
static int run_gates(const struct model *md, const struct opts *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *hits = open_memstream(&text, &len);
	int total = 0, n = 0;

	if (!hits)
		return 2;
	for (int i = 0; n >= 0 && i < o->nr_rules; i++) {
		n = eval_rule(md, o, i, hits);
		total += n > 0 ? n : 0;
	}
	if (n >= 0)
		total += eval_ceilings(md, o, hits);
	fclose(hits);
	if (n >= 0 && total)
		printf("%d regression(s) over threshold:\n%s", total, text);
	else if (n >= 0)
		printf("no regressions over thresholds (%s vs %s)\n",
		       md->srcs[md->nr_srcs - 1].label, md->srcs[0].label);
	free(text);
	return n < 0 ? 2 : total ? 1 : 0;
}

/* ---- commands ------------------------------------------------------------------------------ */

static void opts_init(struct opts *o, const char *cmd)
{
	const char *nc = getenv("NO_COLOR");

	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->metrics[M_TIME] = o->metrics[M_PEAK] = true;
	o->order[0] = M_TIME;
	o->order[1] = M_PEAK;
	o->nr_order = 2;
	o->stat = -1;
	for (int f = 0; f < CMP_NR_FIELDS; f++)
		o->ceilings[f] = UINT64_MAX;
	o->color = isatty(STDOUT_FILENO) && !(nc && *nc);
}

static void opts_free(struct opts *o)
{
	for (int i = 0; i < o->nr_group_keys; i++)
		free(o->group_keys[i]);
}

static int load_all(struct runs *rs, const struct opts *o, char **paths, int n)
{
	char err[512];

	for (int i = 0; i < n; i++) {
		if (runs__load(rs, paths[i], err, sizeof(err))) {
			errorf(o, "%s", err);
			return -EINVAL;
		}
	}
	return 0;
}

static int write_csv_file(const struct model *md, const struct opts *o)
{
	FILE *f = fopen(o->csv_path, "w");

	if (!f) {
		errorf(o, "--csv %s: %s", o->csv_path, strerror(errno));
		return -errno;
	}
	print_csv(f, md, o);
	if (fclose(f)) {
		errorf(o, "--csv %s: %s", o->csv_path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int compare_checks(const struct opts *o, const struct runs *rs)
{
	if (o->pivot && rs->nr != 1) {
		errorf(o, "--pivot folds one run; got %zu runs", rs->nr);
		return -EINVAL;
	}
	if (o->nr_rules && rs->nr < 2 && !o->pivot) {
		errorf(o, "--fail-on needs two runs (or --pivot param:NAME on one run)");
		return -EINVAL;
	}
	return 0;
}

static int compare_output(struct model *md, struct opts *o, const struct runs *rs)
{
	int ret = build_rows(md, o, rs);

	if (ret == -ENOMEM)
		errorf(o, "out of memory");
	if (!ret)
		ret = build_cols(md, o);
	if (ret)
		return 2;
	sort_rows(md, o);
	if (o->fmt == FMT_CSV)
		print_csv(stdout, md, o);
	else if (print_tables(stdout, md, o))
		return 1;
	if (o->csv_path && write_csv_file(md, o))
		return 2;
	if (!o->nr_rules)
		return 0;
	if (md->nr_srcs < 2) {
		errorf(o, "--fail-on with --pivot needs at least two values of %s", o->pivot);
		return 2;
	}
	fputc('\n', stdout);
	return run_gates(md, o);
}

int ctl_compare(int argc, char **argv)
{
	struct model md = { 0 };
	struct runs rs = { 0 };
	struct opts o;
	int first, ret = 2;

	opts_init(&o, "compare");
	first = parse_opts(&o, argc, argv, false);
	if (first == -2)
		ret = 0;
	if (first < 0)
		goto out;
	if (first >= argc) {
		errorf(&o, "no RUN given (a pytest-benchmark JSON file or a storage directory)");
		goto out;
	}
	if (o.fmt != FMT_TABLE)
		o.color = false;
	if (load_all(&rs, &o, argv + first, argc - first) || compare_checks(&o, &rs))
		goto out;
	ret = compare_output(&md, &o, &rs);
out:
	model_free(&md);
	runs__clear(&rs);
	opts_free(&o);
	return ret;
}

/* gate takes the newest run of a storage directory. */
static struct run *load_latest(struct opts *o, const char *path)
{
	struct runs rs = { 0 };
	struct run *run = NULL;
	char err[512];

	if (runs__load(&rs, path, err, sizeof(err))) {
		errorf(o, "%s", err);
	} else {
		run = rs.v[rs.nr - 1];
		rs.nr--;
	}
	runs__clear(&rs);
	return run;
}

int ctl_gate(int argc, char **argv)
{
	struct runs rs = { 0 };
	struct model md = { 0 };
	struct opts o;
	int first, ret = 2;
	bool ceilings = false;

	opts_init(&o, "gate");
	first = parse_opts(&o, argc, argv, true);
	if (first == -2)
		ret = 0;
	if (first < 0)
		goto out;
	for (int f = 0; f < CMP_NR_FIELDS; f++)
		ceilings = ceilings || o.ceilings[f] != UINT64_MAX;
	if (argc - first != 2) {
		errorf(&o, "expected BASELINE and RUN, got %d path(s)", argc - first);
		goto out;
	}
	if (!o.nr_rules && !ceilings) {
		errorf(&o, "nothing to check: give --fail-on FIELD:THRESHOLD or a --max-* ceiling");
		goto out;
	}
	rs.v = calloc(2, sizeof(*rs.v));
	if (!rs.v || !(rs.v[0] = load_latest(&o, argv[first])))
		goto out;
	rs.nr = 1;
	if (!(rs.v[1] = load_latest(&o, argv[first + 1])))
		goto out;
	rs.nr = 2;
	if (build_rows(&md, &o, &rs)) {
		errorf(&o, "out of memory");
		goto out;
	}
	ret = run_gates(&md, &o);
out:
	model_free(&md);
	runs__clear(&rs);
	opts_free(&o);
	return ret;
}
