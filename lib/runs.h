/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/runs.h — loads pytest-benchmark result files (one file, or a storage directory)
 * into runs of entries with their timing stats and benchmem series, for compare and report. */
#ifndef BM_RUNS_H
#define BM_RUNS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "compare.h"

#define RUNS_MAX_FILE_BYTES (64u << 20) /* one result file */
#define RUNS_MAX_FILES	    4096	/* files taken from one directory */

/* One benchmark of a run. Strings and @params borrow from the run's document. */
struct run_entry {
	const char *fullname;	      /* the join key across runs: "path/test_f.py::test_x[10]" */
	const char *name;	      /* "test_x[10]" (the last "::" segment when absent) */
	const char *group;	      /* NULL when null or absent */
	const json_t *params;	      /* object of scalars, or NULL */
	const char *profile;	      /* extra_info.benchmem_meta.profile (a .bin path), or NULL */
	bool has_time;		      /* stats has numeric min, max, mean, median, stddev */
	double time_s[CMP_NR_STATS];  /* indexed by enum cmp_stat, seconds */
	bool has_mem;		      /* extra_info.benchmem present and valid */
	struct cmp_series series;     /* arrays owned by the entry (freed by run__free) */
	struct cmp_headline headline; /* valid when has_mem */
};

/* One result file. */
struct run {
	char *path;  /* as given or found in the directory */
	char *label; /* file name without directory and ".json": "0001_base" */
	json_t *doc; /* owned */
	struct run_entry *entries;
	size_t nr_entries;
};

/* An ordered list of runs (oldest first, as named on the command line). */
struct runs {
	struct run **v;
	size_t nr;
};

/* Loads one file. Returns a new run (run__free()) or NULL with errno set and a one-line
 * reason naming the file in @err: "x.json: not a pytest-benchmark file (no "benchmarks"
 * list)", "x.json: benchmark 3 (test_a): extra_info.benchmem.peak_bytes has 2 values,
 * allocations has 3" (benchmarks are counted from 1). Entries without extra_info.benchmem
 * are kept with has_mem = false (time only). */
struct run *run__load_file(const char *path, char *err, size_t errlen);

/* The same from a document in memory (takes a reference to @doc); @label names it in
 * errors. */
struct run *run__from_doc(json_t *doc, const char *label, char *err, size_t errlen);

/* NULL-safe. */
void run__free(struct run *run);

/* The entry with @fullname, or NULL. */
const struct run_entry *run__find(const struct run *run, const char *fullname);

/* The last "::" segment of a benchmark id (a "::" inside its [params] does not split):
 * "t.py::Cls::test_x[a::b]" -> "test_x[a::b]". Returns a pointer into @id. */
const char *run__short_id(const char *id);

/* Appends the runs at @path to @rs: a file, a directory of *.json files, or a
 * pytest-benchmark storage directory (.benchmarks/<machine>/NNNN_name.json; exactly one
 * machine directory may hold files), sorted by file name (NNNN). Returns 0, or -errno with
 * a one-line reason in @err (-ENOENT: no result files in a directory). */
int runs__load(struct runs *rs, const char *path, char *err, size_t errlen);

/* Frees every run and the array; leaves @rs empty. NULL-safe. */
void runs__clear(struct runs *rs);

#endif /* BM_RUNS_H */
