// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/openmetrics.c — OpenMetrics text of finished regions: names, labels, escaping. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "openmetrics.h"

static void region_free(struct om_region *r)
{
	free(r->benchmark);
	free(r->params);
	free(r->commit);
	free(r->host);
}

void om_set_init(struct om_set *s, size_t max)
{
	*s = (struct om_set){ .max = max ? max : 1 };
}

void om_set_clear(struct om_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		region_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->nr = s->cap = 0;
}

/* FNV-1a over the labels, NUL-separated so ("ab","c") and ("a","bc") differ. */
static uint64_t labels_hash(const struct om_region *r)
{
	const char *parts[] = { r->benchmark, r->params, r->commit, r->host };
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < 4; i++) {
		for (const char *c = parts[i];; c++) {
			h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
			if (!*c)
				break;
		}
	}
	return h;
}

static bool same_labels(const struct om_region *a, const struct om_region *b)
{
	return a->hash == b->hash && !strcmp(a->benchmark, b->benchmark) &&
	       !strcmp(a->params, b->params) && !strcmp(a->commit, b->commit) &&
	       !strcmp(a->host, b->host);
}

static void remove_at(struct om_set *s, size_t i)
{
	region_free(&s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->nr - i - 1) * sizeof(*s->v));
	s->nr--;
}

/* Takes @r (its strings): replaces the series with the same labels, or appends it and drops
 * the oldest past the cap. 0 or -ENOMEM (then @r is freed). */
static int push(struct om_set *s, struct om_region *r)
{
	r->hash = labels_hash(r);
	for (size_t i = 0; i < s->nr; i++) {
		if (same_labels(&s->v[i], r)) {
			remove_at(s, i); /* the newer value moves to the young end */
			break;
		}
	}
	if (s->nr == s->max) {
		remove_at(s, 0);
		s->dropped++;
	}
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct om_region *n;

		if (cap > s->max)
			cap = s->max;
		n = reallocarray(s->v, cap, sizeof(*n));
		if (!n) {
			region_free(r);
			return -ENOMEM;
		}
		s->v = n;
		s->cap = cap;
	}
	s->v[s->nr++] = *r;
	return 0;
}

static const char *str_at(const json_t *obj, const char *k1, const char *k2)
{
	const json_t *v = json_object_get(json_object_get(obj, k1), k2);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "test_x[10]" with param "10" → "test_x"; any other name stays whole. */
static char *benchmark_of(const char *name, const char *param)
{
	size_t n = strlen(name), p = param ? strlen(param) : 0;

	if (p && n > p + 2 && name[n - 1] == ']' && name[n - p - 2] == '[' &&
	    !strncmp(name + n - p - 1, param, p))
		return strndup(name, n - p - 2);
	return strdup(name);
}

int om_set_add_run(struct om_set *s, const struct run *run, const char *default_host)
{
	const json_t *list = json_object_get(run->doc, "benchmarks");
	const char *commit = str_at(run->doc, "commit_info", "id");
	const char *host = str_at(run->doc, "machine_info", "node");
	size_t first = run->nr_entries, kept = 0, added = 0;

	/* more regions than the cap: only the last @max can survive, drop the rest at once */
	while (first > 0 && kept < s->max)
		kept += run->entries[--first].has_mem;
	for (size_t i = 0; i < first; i++)
		s->dropped += run->entries[i].has_mem;
	for (size_t i = first; i < run->nr_entries; i++) {
		const struct run_entry *e = &run->entries[i];
		const json_t *p = json_object_get(json_array_get(list, i), "param");
		const char *param = json_is_string(p) ? json_string_value(p) : "";
		struct om_region r = {
			.benchmark = benchmark_of(e->name, param),
			.params = strdup(param),
			.commit = strdup(commit ? commit : ""),
			.host = strdup(host	      ? host
				       : default_host ? default_host
						      : ""),
			.peak_bytes = e->headline.peak_bytes,
			.allocated_bytes = e->headline.total_bytes,
			.allocations = e->headline.allocations,
			.rss_bytes = e->headline.rss_bytes,
			.has_rss = e->headline.has_rss,
		};

		if (!e->has_mem) {
			region_free(&r);
			continue;
		}
		if (!r.benchmark || !r.params || !r.commit || !r.host) {
			region_free(&r);
			return -ENOMEM;
		}
		if (push(s, &r))
			return -ENOMEM;
		added++;
	}
	return (int)added;
}

void om_write_family(FILE *f, const char *name, const char *type, const char *unit,
		     const char *help)
{
	fprintf(f, "# TYPE %s %s\n", name, type);
	if (unit)
		fprintf(f, "# UNIT %s %s\n", name, unit);
	fprintf(f, "# HELP %s %s\n", name, help);
}

void om_write_label_value(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void write_labels(FILE *f, const struct om_region *r)
{
	fputs("{benchmark=", f);
	om_write_label_value(f, r->benchmark);
	fputs(",params=", f);
	om_write_label_value(f, r->params);
	fputs(",commit=", f);
	om_write_label_value(f, r->commit);
	fputs(",host=", f);
	om_write_label_value(f, r->host);
	fputc('}', f);
}

void om_write_regions(FILE *f, const struct om_set *s)
{
	static const struct {
		const char *name, *unit, *help;
		size_t offset;
	} fams[] = {
		{ "benchmem_region_peak_bytes", "bytes",
		  "Peak of live heap bytes during the region (the min-peak pass).",
		  offsetof(struct om_region, peak_bytes) },
		{ "benchmem_region_allocated_bytes", "bytes",
		  "Bytes allocated during the region's min-peak pass, frees not subtracted.",
		  offsetof(struct om_region, allocated_bytes) },
		{ "benchmem_region_allocations", NULL,
		  "Allocations made during the region's min-peak pass.",
		  offsetof(struct om_region, allocations) },
		{ "benchmem_region_rss_bytes", "bytes",
		  "Resident set high-water of the traced processes during the region.",
		  offsetof(struct om_region, rss_bytes) },
	};

	if (!s->nr)
		return;
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		bool rss = fams[i].offset == offsetof(struct om_region, rss_bytes);

		om_write_family(f, fams[i].name, "gauge", fams[i].unit, fams[i].help);
		for (size_t j = 0; j < s->nr; j++) {
			const struct om_region *r = &s->v[j];

			if (rss && !r->has_rss)
				continue;
			fputs(fams[i].name, f);
			write_labels(f, r);
			fprintf(f, " %" PRIu64 "\n",
				*(const uint64_t *)((const char *)r + fams[i].offset));
		}
	}
}

int om_write_eof(FILE *f)
{
	fputs("# EOF\n", f);
	return fflush(f) || ferror(f) ? -EIO : 0;
}
