// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/compare_render.c — `benchmemctl compare` output: aligned tables, markdown, csv. */
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
			if (!strcmp(run__short_id(md->rows[i].key), run__short_id(md->rows[j].key)))
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

		ret = add_row_lines(&g, md, &md->rows[r], short_names ? run__short_id(key) : key);
	}
	if (!ret && o->fmt == FMT_MD)
		print_grid_md(f, &g);
	else if (!ret)
		print_grid_table(f, &g, o->color);
	grid_free(&g);
	return ret;
}

int print_tables(FILE *f, const struct model *md, const struct opts *o)
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
void print_csv(FILE *f, const struct model *md, const struct opts *o)
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
