/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/table.c — renders a result document as the aligned per-region table of both CLIs. */
#include "table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "jsonutil.h"
#include "units.h"

enum col { COL_REGION, COL_PASSES, COL_PEAK, COL_ALLOC, COL_NALLOC, COL_RSS, COL_LOST, COL_FLAGS };

static const struct {
	const char *title;
	bool left; /* left-aligned text column; numbers align right */
} cols[] = {
	[COL_REGION] = { "region", true },	 [COL_PASSES] = { "passes", false },
	[COL_PEAK] = { "peak", false },		 [COL_ALLOC] = { "allocated", false },
	[COL_NALLOC] = { "allocations", false }, [COL_RSS] = { "rss", false },
	[COL_LOST] = { "lost", false },		 [COL_FLAGS] = { "flags", true },
};
#define NR_COLS ARRAY_SIZE(cols)

#define ANSI_BOLD   "\033[1m"
#define ANSI_RED    "\033[31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_RESET  "\033[0m"

struct row {
	const char *region; /* borrowed from the document */
	char cell[NR_COLS][48];
	bool aborted;
	bool lost;
};

struct headline {
	uint64_t peak, total, allocations, rss;
	bool has_rss;
	size_t passes;
};

/* The headline from the per-pass lists (files written by other tools): cmp_headline_of's rule;
 * rss only when its list has a value for every pass. */
static int derive_headline(const json_t *bm, struct headline *h)
{
	static const char *const keys[] = { "peak_bytes", "total_bytes", "allocations",
					    "rss_bytes" };
	uint64_t *v[4] = { NULL };
	struct cmp_headline ch;
	size_t n[4] = { 0 };
	int ret = 0;

	for (int k = 0; k < 3 && !ret; k++) {
		ret = jsonutil_get_u64_array(bm, keys[k], &v[k], &n[k]);
		if (!ret && n[k] != h->passes)
			ret = -EINVAL;
	}
	if (!ret) {
		struct cmp_series s = { v[0], v[1], v[2], NULL, h->passes };

		if (!jsonutil_get_u64_array(bm, keys[3], &v[3], &n[3]) && n[3] == h->passes)
			s.rss_bytes = v[3];
		ret = cmp_headline_of(&s, &ch);
	}
	for (int k = 0; k < 4; k++)
		free(v[k]);
	if (ret)
		return -EINVAL;
	h->peak = ch.peak_bytes;
	h->total = ch.total_bytes;
	h->allocations = ch.allocations;
	h->rss = ch.rss_bytes;
	h->has_rss = ch.has_rss;
	return 0;
}

static int read_headline(const json_t *bm, const json_t *meta, struct headline *h)
{
	const json_t *head = json_object_get(meta, "headline");

	memset(h, 0, sizeof(*h));
	h->passes = json_array_size(json_object_get(bm, "peak_bytes"));
	if (!h->passes)
		return -ENOENT;
	if (jsonutil_get_u64(head, "peak_bytes", &h->peak) ||
	    jsonutil_get_u64(head, "total_bytes", &h->total) ||
	    jsonutil_get_u64(head, "allocations", &h->allocations))
		return derive_headline(bm, h);
	h->has_rss = !jsonutil_get_u64(head, "rss_bytes", &h->rss);
	return 0;
}

static bool any_true(const json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) if (json_is_true(v)) return true;
	return false;
}

static void fill_flags(struct row *r, const json_t *meta)
{
	char *flags = r->cell[COL_FLAGS];

	bool profile = json_is_string(json_object_get(meta, "profile"));
	uint64_t lost_stacks = 0;
	size_t sz = sizeof(r->cell[0]), n;

	r->aborted = any_true(json_object_get(meta, "aborted"));
	snprintf(flags, sz, "%s%s%s", r->aborted ? "aborted" : "", r->aborted && profile ? "," : "",
		 profile ? "profile" : "");
	/* a profile short of stacks says so: its flame graph misses those allocations */
	if (!jsonutil_get_u64(meta, "lost_stacks", &lost_stacks) && lost_stacks) {
		n = strlen(flags);
		snprintf(flags + n, sz - n, "%slost_stacks=%" PRIu64, n ? "," : "", lost_stacks);
	}
}

static void fill_row(struct row *r, const json_t *entry)
{
	const json_t *extra = json_object_get(entry, "extra_info");
	const json_t *bm = json_object_get(extra, "benchmem");
	const json_t *meta = json_object_get(extra, "benchmem_meta");
	const char *name = json_string_value(json_object_get(entry, "name"));
	struct headline h;
	uint64_t lost;
	size_t sz = sizeof(r->cell[0]);

	r->region = name ? name : "?";
	for (size_t c = 1; c < NR_COLS; c++)
		snprintf(r->cell[c], sz, "-");
	if (read_headline(bm, meta, &h))
		return;
	snprintf(r->cell[COL_PASSES], sz, "%zu", h.passes);
	units_format_bytes(h.peak, r->cell[COL_PEAK], sz);
	units_format_bytes(h.total, r->cell[COL_ALLOC], sz);
	snprintf(r->cell[COL_NALLOC], sz, "%" PRIu64, h.allocations);
	if (h.has_rss)
		units_format_bytes(h.rss, r->cell[COL_RSS], sz);
	if (!jsonutil_get_u64(meta, "lost_events", &lost)) {
		snprintf(r->cell[COL_LOST], sz, "%" PRIu64, lost);
		r->lost = lost > 0;
	}
	fill_flags(r, meta);
}

/* Cells are joined by two blanks; the last column is left-aligned text, so it gets no padding
 * and, when empty, no separator: lines never end in blanks. */
static void print_cell(FILE *f, const char *text, size_t width, bool left, const char *ansi,
		       enum col c)
{
	bool last = c + 1 == NR_COLS;

	if (c && !(last && !*text))
		fputs("  ", f);
	fputs(ansi ? ansi : "", f);
	fprintf(f, left ? "%-*s" : "%*s", last ? 0 : (int)width, text);
	fputs(ansi ? ANSI_RESET : "", f);
	fputs(last ? "\n" : "", f);
}

static void print_rows(FILE *f, const struct row *rows, size_t n, bool color)
{
	size_t width[NR_COLS];

	for (size_t c = 0; c < NR_COLS; c++) {
		width[c] = strlen(cols[c].title);
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(c == COL_REGION ? rows[i].region : rows[i].cell[c]);

			width[c] = len > width[c] ? len : width[c];
		}
	}
	for (size_t c = 0; c < NR_COLS; c++)
		print_cell(f, cols[c].title, width[c], cols[c].left, color ? ANSI_BOLD : NULL, c);
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < NR_COLS; c++) {
			const char *ansi = NULL;

			if (color && c == COL_FLAGS && rows[i].aborted)
				ansi = ANSI_RED;
			else if (color && c == COL_LOST && rows[i].lost)
				ansi = ANSI_YELLOW;
			print_cell(f, c == COL_REGION ? rows[i].region : rows[i].cell[c], width[c],
				   cols[c].left, ansi, c);
		}
	}
}

/* The run's summary line: lost events (a non-zero count means the numbers are low bounds). */
static void print_footer(FILE *f, const json_t *doc, size_t n, bool color)
{
	const json_t *run = json_object_get(doc, "benchmem");
	const char *alloc = json_string_value(json_object_get(run, "python_allocator"));
	const json_t *first = json_array_get(json_object_get(doc, "benchmarks"), 0);
	uint64_t lost = 0;

	if (!alloc) /* files without the run object: the first entry's meta says it too */
		alloc = json_string_value(json_object_get(
			json_object_get(json_object_get(first, "extra_info"), "benchmem_meta"),
			"python_allocator"));
	jsonutil_get_u64(run, "lost_events", &lost);
	fprintf(f, "%zu region%s; %slost events: %" PRIu64 "%s; python allocator: %s\n", n,
		n == 1 ? "" : "s", color && lost ? ANSI_YELLOW : "", lost,
		color && lost ? ANSI_RESET : "", alloc ? alloc : "n/a");
}

void table_print(FILE *f, const json_t *result_doc, bool color)
{
	const json_t *bms = json_object_get(result_doc, "benchmarks");
	size_t n = json_array_size(bms);
	struct row *rows = n ? calloc(n, sizeof(*rows)) : NULL;

	if (n && !rows) {
		fprintf(f, "(no memory to print the table of %zu regions)\n", n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fill_row(&rows[i], json_array_get(bms, i));
	if (n)
		print_rows(f, rows, n, color);
	print_footer(f, result_doc, n, color);
	free(rows);
}
