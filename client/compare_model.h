/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/compare_model.h — `benchmemctl compare`'s model (sources x rows x value columns:
 * loading order, --pivot folding, --group-by, --sort) and its renderings (aligned table,
 * markdown, csv). */
#ifndef BM_COMPARE_MODEL_H
#define BM_COMPARE_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "compare.h"
#include "gate.h"
#include "runs.h"

#define MAX_GROUP_KEYS 8

enum metric { M_TIME, M_PEAK, M_ALLOCATED, M_ALLOCATIONS, M_RSS, NR_METRICS };
extern const char *const metric_names[NR_METRICS];
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

/* The options of compare and gate. */
struct opts {
	char prog[32]; /* "benchmemctl compare": the prefix of diagnostics */
	bool metrics[NR_METRICS];
	enum metric order[NR_METRICS];
	int nr_order;
	int stat;	    /* -1 headline, else a stat or CMP_NR_STATS (a list, all) */
	unsigned stat_mask; /* with stat >= 0: bit (1 << enum cmp_stat) per stat to show */
	char *group_keys[MAX_GROUP_KEYS];
	int nr_group_keys;
	int sort;	   /* enum sort */
	const char *pivot; /* the NAME of param:NAME */
	int fmt;	   /* enum fmt */
	const char *csv_path;
	struct gate_opts gate; /* --fail-on rules and --max-* ceilings */
	bool color;
	bool json;  /* gate --json: the verdict as JSON (client/gate_json.h) */
	bool check; /* gate --check: parse the rules and ceilings, read no run */
};

/* Sources x rows x columns of one comparison. */
struct model {
	struct src *srcs;
	size_t nr_srcs;
	struct row *rows;
	size_t nr_rows;
	struct col cols[NR_METRICS * CMP_NR_STATS];
	size_t nr_cols;
};

/* The value of metric @m (reduced by @stat, or its headline when @stat < 0) of @e. Returns
 * false when @e is NULL or lacks the data. */
bool cell_value(const struct run_entry *e, enum metric m, int stat, double *out);

/* Change in percent from the first to the last source of row @r in column @c. */
bool change_of(const struct model *md, const struct row *r, const struct col *c, double *pct);

/* Human form of a value: sizes in IEC units, counts as integers, times scaled. */
void fmt_value(enum metric m, double v, char *buf, size_t len);

/* Builds the sources and rows of @rs (one source per run, or per --pivot value). Returns 0,
 * -ENOMEM, or -EINVAL after printing why. */
int build_rows(struct model *md, const struct opts *o, const struct runs *rs);

/* Picks the value columns: requested metrics present in some run, times the stats. Returns 0
 * or -ENODATA after printing why. */
int build_cols(struct model *md, const struct opts *o);

/* Groups by key, then orders by --sort. */
void sort_rows(struct model *md, const struct opts *o);

/* NULL-safe; leaves @md empty. */
void model_free(struct model *md);

/* Prints the model as aligned tables (or markdown), one per group. Returns 0 or -errno. */
int print_tables(FILE *f, const struct model *md, const struct opts *o);

/* Prints raw values as csv. */
void print_csv(FILE *f, const struct model *md, const struct opts *o);

#endif /* BM_COMPARE_MODEL_H */
