// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_compare.c — `benchmemctl compare` (tables of runs, --fail-on) and `gate` (CI):
 * options and commands; the verdict is lib/gate's. */
#include <getopt.h>
#include <unistd.h>
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
#include "gate_json.h"
#include "jsonutil.h"
#include "units.h"
#include "ctl.h"

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
			cli_err(o->prog, 0,
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
		cli_err(o->prog, 0, "--columns: empty list");
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
			cli_err(o->prog, 0,
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

/* --stat min,median: one or more of min, max, mean, median, stddev; or all. */
static int parse_stats(struct opts *o, const char *arg)
{
	char *dup = strdup(arg), *save = NULL, *tok;
	int ret = 0, n = 0, st = 0;

	if (!dup)
		return -ENOMEM;
	o->stat_mask = 0;
	for (tok = strtok_r(dup, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save), n++) {
		for (st = 0; st < CMP_NR_STATS && strcmp(tok, cmp_stat_name((enum cmp_stat)st));
		     st++)
			;
		if (st < CMP_NR_STATS) {
			o->stat_mask |= 1u << st;
		} else if (!strcmp(tok, "all")) {
			o->stat_mask |= (1u << CMP_NR_STATS) - 1;
		} else {
			cli_err(o->prog, 0,
				"--stat: unknown stat '%s' (min, max, mean, median, stddev, all; a "
				"comma-separated list)",
				tok);
			ret = -EINVAL;
		}
	}
	if (!ret && !o->stat_mask) {
		cli_err(o->prog, 0, "--stat: empty list");
		ret = -EINVAL;
	}
	/* one stat keeps its index (the table's column header names it); several: a list */
	o->stat = n == 1 && st < CMP_NR_STATS ? st : CMP_NR_STATS;
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
	cli_err(o->prog, 0, "%s: unknown value '%s'", opt, arg);
	return -EINVAL;
}

static int add_rule(struct opts *o, const char *arg)
{
	char err[256];
	int ret = gate_add_rule(&o->gate, arg, err, sizeof(err));

	return ret ? cli_err(o->prog, ret, "%s", err) : 0;
}

static int add_ceiling(struct opts *o, enum cmp_field f, const char *arg)
{
	char err[256];
	int ret = gate_set_ceiling(&o->gate, f, arg, err, sizeof(err));

	return ret ? cli_err(o->prog, ret, "%s", err) : 0;
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
	OPT_MAX_ALLOCATIONS,
	OPT_JSON, /* gate only from here on, with the ceilings */
	OPT_CHECK
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
	{ "json", no_argument, NULL, OPT_JSON },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_one(struct opts *o, int c, const char *arg)
{
	static const char *const sorts[] = { "name", "value", "change" };
	static const char *const fmts[] = { "table", "md", "csv" };
	switch (c) {
	case OPT_COLUMNS:
		return parse_columns(o, arg);
	case OPT_STAT:
		return parse_stats(o, arg);
	case OPT_GROUP_BY:
		return parse_group_by(o, arg);
	case OPT_SORT:
		return parse_choice(o, "--sort", arg, sorts, 3, &o->sort);
	case OPT_PIVOT:
		if (strncmp(arg, "param:", 6) || !arg[6]) {
			cli_err(o->prog, 0, "--pivot: expected param:NAME, got '%s'", arg);
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
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_CHECK:
		o->check = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static const char compare_usage[] =
	"usage: benchmemctl compare RUN... [--columns time,peak,allocated,allocations,rss]\n"
	"         [--stat STAT[,STAT...]] (min, max, mean, median, stddev, all)\n"
	"         [--group-by KEY[,KEY...]]\n"
	"         [--sort name|value|change] [--pivot param:NAME] [--format table|md|csv]\n"
	"         [--csv FILE] [--fail-on FIELD:THRESHOLD]...\n"
	"RUN is a pytest-benchmark JSON file or a storage directory (.benchmarks/<machine>/).\n";
static const char gate_usage[] =
	"usage: benchmemctl gate BASELINE RUN [--fail-on FIELD:THRESHOLD]... [--max-peak SIZE]\n"
	"         [--max-allocated SIZE] [--max-allocations N] [--json]\n"
	"       benchmemctl gate --check [--fail-on FIELD:THRESHOLD]... [--max-* LIMIT]...\n"
	"--json prints the verdict as JSON (with no rule: the matched ids and their headlines);\n"
	"--check only parses the rules (exit 0 or 2); with --json it prints what they parsed to.\n";

/* Returns the index of the first positional argument, or -1 after printing why. */
static int parse_opts(struct opts *o, int argc, char **argv, bool gate)
{
	int c;

	optind = 0; /* full GNU getopt reset: argv is a fresh vector */
	opterr = 0;
	/* GNU getopt permutes: the positional RUNs end up at argv[optind..] */
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(gate ? gate_usage : compare_usage, stdout);
			return -2;
		}
		if (c == '?' || c == ':') {
			cli_bad_option(o->prog, c, argv);
			return -1;
		}
		if (gate && c != OPT_FAIL_ON && c < OPT_MAX_PEAK) {
			cli_err(o->prog, 0, "option '%s' belongs to compare, not gate",
				argv[optind - 1]);
			return -1;
		}
		if (!gate && c >= OPT_MAX_PEAK) {
			cli_err(o->prog, 0, "option '%s' belongs to gate, not compare",
				argv[optind - 1]);
			return -1;
		}
		if (parse_one(o, c, optarg))
			return -1;
	}
	return optind;
}

/* ---- the verdict (lib/gate) ----------------------------------------------------------------- */

/* Prints the hits, or the all-clear line naming the two sides. Returns the exit code: 0 clean,
 * 1 regressions, 2 an error (printed). */
static int report_gate(const struct opts *o, int ret, struct gate_hit *hits, size_t n,
		       const char *base_label, const char *cur_label, const char *err)
{
	if (ret) {
		free(hits);
		return cli_err(o->prog, 2, "%s", err);
	}
	if (n)
		gate_print(stdout, "", hits, n, o->color);
	else
		printf("no regressions over thresholds (%s vs %s)\n", cur_label, base_label);
	free(hits);
	return n ? 1 : 0;
}

/* compare --fail-on: the first source against the last. Runs are matched by lib/gate's rule;
 * --pivot sources (values of one param in one run) by the folded row. */
static int compare_gate(const struct model *md, const struct opts *o)
{
	const char *a = md->srcs[0].label, *b = md->srcs[md->nr_srcs - 1].label;
	struct gate_pair *pairs = NULL;
	struct gate_hit *hits = NULL;
	size_t nr = 0, n = 0;
	char err[512];
	int ret;

	if (!o->pivot) {
		ret = gate_match(md->srcs[0].run, md->srcs[md->nr_srcs - 1].run, &pairs, &nr);
	} else {
		pairs = calloc(md->nr_rows ? md->nr_rows : 1, sizeof(*pairs));
		ret = pairs ? 0 : -ENOMEM;
		for (size_t r = 0; pairs && r < md->nr_rows; r++) {
			const struct run_entry *x = md->rows[r].cells[0];
			const struct run_entry *y = md->rows[r].cells[md->nr_srcs - 1];

			if (x && y && x->has_mem && y->has_mem)
				pairs[nr++] =
					(struct gate_pair){ run__short_id(md->rows[r].key), x, y };
		}
	}
	if (ret) {
		free(pairs);
		return cli_err(o->prog, 2, "out of memory");
	}
	ret = gate_eval_pairs(&o->gate, pairs, nr, md->srcs[md->nr_srcs - 1].run, a, b, &hits, &n,
			      err, sizeof(err));
	free(pairs);
	return report_gate(o, ret, hits, n, a, b, err);
}

/* ---- commands ------------------------------------------------------------------------------ */

static void opts_init(struct opts *o, const char *cmd)
{
	const char *nc = getenv("NO_COLOR");

	memset(o, 0, sizeof(*o));
	snprintf(o->prog, sizeof(o->prog), "benchmemctl %s", cmd);
	o->metrics[M_TIME] = o->metrics[M_PEAK] = true;
	o->order[0] = M_TIME;
	o->order[1] = M_PEAK;
	o->nr_order = 2;
	o->stat = -1;
	gate_init(&o->gate);
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
			cli_err(o->prog, 0, "%s", err);
			return -EINVAL;
		}
	}
	return 0;
}

static int write_csv_file(const struct model *md, const struct opts *o)
{
	FILE *f = fopen(o->csv_path, "w");

	if (!f) {
		cli_err(o->prog, 0, "--csv %s: %s", o->csv_path, strerror(errno));
		return -errno;
	}
	print_csv(f, md, o);
	if (fclose(f)) {
		cli_err(o->prog, 0, "--csv %s: %s", o->csv_path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int compare_checks(const struct opts *o, const struct runs *rs)
{
	if (o->pivot && rs->nr != 1) {
		cli_err(o->prog, 0, "--pivot folds one run; got %zu runs", rs->nr);
		return -EINVAL;
	}
	if (o->gate.nr_rules && rs->nr < 2 && !o->pivot) {
		cli_err(o->prog, 0, "--fail-on needs two runs (or --pivot param:NAME on one run)");
		return -EINVAL;
	}
	return 0;
}

static int compare_output(struct model *md, struct opts *o, const struct runs *rs)
{
	int ret = build_rows(md, o, rs);

	if (ret == -ENOMEM)
		cli_err(o->prog, 0, "out of memory");
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
	if (!o->gate.nr_rules)
		return 0;
	if (md->nr_srcs < 2) {
		cli_err(o->prog, 0, "--fail-on with --pivot needs at least two values of %s",
			o->pivot);
		return 2;
	}
	fputc('\n', stdout);
	return compare_gate(md, o);
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
		cli_err(o.prog, 0,
			"no RUN given (a pytest-benchmark JSON file or a storage directory)");
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
		cli_err(o->prog, 0, "%s", err);
	} else {
		run = rs.v[rs.nr - 1];
		rs.nr--;
	}
	runs__clear(&rs);
	return run;
}

/* The verdict of @o over two loaded runs: lines (report_gate) or --json. */
static int judge(const struct opts *o, const struct run *base, const struct run *cur)
{
	/* labels name the runs; equal file names fall back to paths */
	bool same = !strcmp(base->label, cur->label);
	const char *a = same ? base->path : base->label, *b = same ? cur->path : cur->label;
	struct gate_pair *pairs = NULL;
	struct gate_hit *hits = NULL;
	size_t nr = 0, n = 0;
	char err[512];
	int ret;

	if (gate_match(base, cur, &pairs, &nr))
		return cli_err(o->prog, 2, "out of memory");
	ret = gate_eval_pairs(&o->gate, pairs, nr, cur, a, b, &hits, &n, err, sizeof(err));
	if (!ret && o->json) {
		ret = gate_json_print(stdout, &o->gate, a, b, pairs, nr, hits, n);
		free(hits);
		free(pairs);
		return ret ? cli_err(o->prog, 2, "%s", strerror(-ret)) : n ? 1 : 0;
	}
	free(pairs);
	return report_gate(o, ret, hits, n, a, b, err);
}

int ctl_gate(int argc, char **argv)
{
	struct run *base = NULL, *cur = NULL;
	struct opts o;
	int first, ret = 2;

	opts_init(&o, "gate");
	first = parse_opts(&o, argc, argv, true);
	if (first == -2)
		ret = 0;
	if (first < 0)
		goto out;
	if (argc - first != (o.check ? 0 : 2)) {
		cli_err(o.prog, 0,
			o.check ? "--check reads no run, got %d path(s)"
				: "expected BASELINE and RUN, got %d path(s)",
			argc - first);
		goto out;
	}
	/* --json alone is the matching and the headlines (what a front end shows), no verdict */
	if (!gate_has_checks(&o.gate) && (o.check || !o.json)) {
		cli_err(o.prog, 0,
			"nothing to check: give --fail-on FIELD:THRESHOLD or a --max-* ceiling");
		goto out;
	}
	if (o.check) {
		/* the rules parsed; --json: their values, for a front end's ceilings */
		ret = o.json && gate_json_print_checks(stdout, &o.gate) ? 2 : 0;
		goto out;
	}
	if ((base = load_latest(&o, argv[first])) && (cur = load_latest(&o, argv[first + 1])))
		ret = judge(&o, base, cur);
out:
	run__free(base);
	run__free(cur);
	opts_free(&o);
	return ret;
}
