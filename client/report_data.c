// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/report_data.c — runs -> groups -> regions for the report, and metric values. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_data.h"
#include "units.h"

#define MAX_REGIONS 2048 /* regions drawn per group */

static const char *const metric_names[REP_NR_METRICS] = { "peak", "allocated", "allocations", "rss",
							  "time" };

const char *rep_metric_name(enum rep_metric m)
{
	return metric_names[m];
}

enum tick_unit rep_metric_unit(enum rep_metric m)
{
	return m == REP_ALLOCATIONS ? TICK_COUNT : m == REP_TIME ? TICK_SECONDS : TICK_BYTES;
}

const char *rep_format(enum rep_metric m, double v, char *buf, size_t len)
{
	if (rep_metric_unit(m) == TICK_BYTES)
		return units_format_bytes((uint64_t)llround(v), buf, len);
	if (m == REP_TIME)
		return ticks_label(v, TICK_SECONDS, buf, len);
	snprintf(buf, len, v == floor(v) ? "%.0f" : "%.1f", v);
	return buf;
}

bool rep_value(const struct run_entry *e, struct rep_view v, double *out)
{
	const uint64_t *s;

	if (!e)
		return false;
	if (v.metric == REP_TIME) {
		if (!e->has_time)
			return false;
		*out = e->time_s[v.stat];
		return true;
	}
	if (!e->has_mem)
		return false;
	s = cmp_series_of(&e->series, (enum cmp_field)v.metric);
	return s && !cmp_reduce(s, e->series.n, v.stat, out);
}

size_t rep_first_recent(const struct runs *rs)
{
	return rs->nr > REP_RECENT_RUNS ? rs->nr - REP_RECENT_RUNS : 0;
}

int rep_prev_run(const struct rep_region *rg, struct rep_view v, size_t last)
{
	double x;

	for (size_t r = last; r-- > 0;)
		if (rep_value(rg->by_run[r], v, &x))
			return (int)r;
	return -1;
}

static bool same_group(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static struct rep_group *group_for(struct rep_model *m, const char *name)
{
	void *v;

	for (size_t i = 0; i < m->nr_groups; i++)
		if (same_group(m->groups[i].name, name))
			return &m->groups[i];
	if (!(v = reallocarray(m->groups, m->nr_groups + 1, sizeof(*m->groups))))
		return NULL;
	m->groups = v;
	m->groups[m->nr_groups] = (struct rep_group){ .name = name };
	return &m->groups[m->nr_groups++];
}

/* Adds run @ri's entry @e to its group and region. */
static int add_entry(struct rep_model *m, size_t ri, const struct run_entry *e)
{
	struct rep_group *g = group_for(m, e->group);
	struct rep_region *r = NULL;
	void *v;

	if (!g)
		return -ENOMEM;
	for (size_t i = 0; !r && i < g->nr; i++)
		r = !strcmp(g->regions[i].fullname, e->fullname) ? &g->regions[i] : NULL;
	if (!r) {
		if (g->nr >= MAX_REGIONS)
			return 0;
		if (!(v = reallocarray(g->regions, g->nr + 1, sizeof(*r))))
			return -ENOMEM;
		g->regions = v;
		r = &g->regions[g->nr];
		r->fullname = e->fullname;
		if (!(r->by_run = calloc(m->rs->nr, sizeof(*r->by_run))))
			return -ENOMEM;
		g->nr++;
	}
	r->by_run[ri] = e;
	return 0;
}

/* Whether @key takes two different numeric values among @g's entries. */
static bool varies(const struct rep_group *g, size_t nr_runs, const char *key)
{
	double first = NAN;

	for (size_t i = 0; i < g->nr; i++) {
		for (size_t r = 0; r < nr_runs; r++) {
			const struct run_entry *e = g->regions[i].by_run[r];
			json_t *w = e && e->params ? json_object_get(e->params, key) : NULL;

			if (!json_is_number(w))
				continue;
			if (isnan(first))
				first = json_number_value(w);
			else if (json_number_value(w) != first)
				return true;
		}
	}
	return false;
}

/* The first numeric param (in the first entries' key order) with >= 2 values. */
static const char *numeric_param(const struct rep_group *g, size_t nr_runs)
{
	for (size_t i = 0; i < g->nr; i++) {
		for (size_t r = 0; r < nr_runs; r++) {
			const struct run_entry *e = g->regions[i].by_run[r];
			const char *key;
			json_t *v;

			if (!e || !e->params)
				continue;
			json_object_foreach((json_t *)e->params, key, v)
			{
				if (json_is_number(v) && varies(g, nr_runs, key))
					return key;
			}
		}
	}
	return NULL;
}

int rep_model_build(struct rep_model *m, const struct runs *rs)
{
	int ret;

	*m = (struct rep_model){ .rs = rs };
	for (size_t r = 0; r < rs->nr; r++) {
		for (size_t i = 0; i < rs->v[r]->nr_entries; i++) {
			const struct run_entry *e = &rs->v[r]->entries[i];

			if (!e->has_mem)
				continue;
			m->has_metric[REP_PEAK] = m->has_metric[REP_ALLOCATED] = true;
			m->has_metric[REP_ALLOCATIONS] = true;
			m->has_metric[REP_RSS] |= e->headline.has_rss;
			m->has_metric[REP_TIME] |= e->has_time;
			if ((ret = add_entry(m, r, e)))
				return ret;
		}
	}
	for (size_t g = 0; g < m->nr_groups; g++)
		m->groups[g].param = numeric_param(&m->groups[g], rs->nr);
	return m->nr_groups ? 0 : -ENODATA;
}

void rep_model_clear(struct rep_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr_groups; i++) {
		for (size_t j = 0; j < m->groups[i].nr; j++)
			free(m->groups[i].regions[j].by_run);
		free(m->groups[i].regions);
	}
	free(m->groups);
	*m = (struct rep_model){ 0 };
}
