/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/results.h — the pytest-benchmark-shaped result document (schemas/result.schema.json):
 * built from per-pass series, written only through atomic_file. */
#ifndef BM_RESULTS_H
#define BM_RESULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic_file.h"

/* One measured pass of one region. */
struct bm_repeat {
	uint64_t peak_bytes;  /* bytes: high-water of live bytes during the pass */
	uint64_t total_bytes; /* bytes: sum of every block allocated during the pass */
	uint64_t allocations; /* count of blocks allocated during the pass */
	uint64_t rss_bytes;   /* bytes: VmHWM of the target; valid only if has_rss */
	bool has_rss;
	uint64_t wall_ns;     /* ns: region wall time, start to stop */
	bool aborted;	      /* the region was closed by detach/exit, not by a stop */
	uint64_t lost_stacks; /* allocations of a profiled pass whose stack was not kept */
};

/* One benchmark entry: every pass of one region name. All pointers are borrowed for the
 * duration of results_build(). */
struct bm_series {
	const char *name;     /* "test_x[10]" */
	const char *fullname; /* "tests/test_f.py::test_x[10]"; NULL = name */
	const char *group;    /* NULL ok */
	const json_t *params; /* object of scalars or NULL */
	const struct bm_repeat *reps;
	size_t nr_reps;	     /* >= 1 */
	const char *profile; /* path of the region's .bin, or NULL */
};

/* What the whole run shares. Pointers borrowed; NULL strings become JSON null. */
struct bm_run_meta {
	const char *command;	      /* the traced command line */
	const char *python_allocator; /* "pymalloc" | "malloc" | NULL */
	uint64_t lost_events;	      /* events lost or dropped during the run */
	int64_t start_unix_ns;	      /* ns since the epoch: the document's "datetime" */
	const char *version;	      /* "benchmemd 0.1.0" */
	const char *attach_mode;      /* "per-process", "system-wide", ... */
	const char *probe;	      /* "hook", "uprobes", "hook+uprobes" (docs/hook.md) */
	const json_t *context;	      /* the client's {commit_info, machine_info} (checked by
				       * context_check), or NULL */
	const char *python_frames;    /* profiles: whose Python frames they name, or why not */
};

/* Builds the result document for @n series (n may be 0). commit_info and machine_info are the
 * client's @m->context (context_apply: commit_info null without one; machine_info over the
 * host's uname() and /proc/cpuinfo); the daemon reads no working directory. Otherwise pure.
 * Returns a new reference (caller json_decref()s) or NULL with errno set (EINVAL: a series
 * with no pass or no name; ENOMEM). */
json_t *results_build(const struct bm_series *s, size_t n, const struct bm_run_meta *m);

/* Writes @doc atomically to @path (sorted keys, 2-space indent, mode 0644).
 * Returns 0 or -errno; on failure the old file, if any, is intact. */
int results_write(const json_t *doc, const char *path);

/* The daemon's form: file @name of directory @dirfd, created as @o says. 0 or -errno. */
int results_write_at(const json_t *doc, int dirfd, const char *name,
		     const struct atomic_file_opts *o);

/* The headline of @n passes (pytest-benchmem's rule): peak = the minimum peak_bytes;
 * total_bytes, allocations and wall_ns are those OF THE MIN-PEAK PASS (the first one on a
 * tie), not their own minima; rss = the minimum rss_bytes, has_rss only when every pass has
 * it; aborted when any pass was. The rule is cmp_headline_of's. Returns 0, -EINVAL (n == 0
 * or NULL) or -ENOMEM. Pure. */
int results_headline(const struct bm_repeat *reps, size_t n, struct bm_repeat *out);

/* Full pytest-benchmark stats (stats.py semantics) over @n wall times in ns, reported in
 * seconds; a 0 ns pass counts as 1 ns so mean and ops stay non-zero. Returns a new object
 * or NULL with errno set. Pure. */
json_t *results_stats(const uint64_t *wall_ns, size_t n);

/* pytest's parameter id for @params: the values joined with '-' in insertion order
 * (ints as digits, floats as Python repr, true/false/null as True/False/None, strings
 * verbatim, anything else as its key). Returns a new string (caller frees), or NULL with
 * errno 0 when @params is NULL or empty, or NULL with errno ENOMEM. Pure. */
char *results_param_id(const json_t *params);

#endif /* BM_RESULTS_H */
