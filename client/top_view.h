/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/top_view.h — what `benchmemctl top` shows of one watch snapshot, as lines of text:
 * the ncurses screen and `top --once` print the same lines. */
#ifndef BM_TOP_VIEW_H
#define BM_TOP_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum top_sort { TOP_SORT_TOTAL = 0, TOP_SORT_OWN, TOP_SORT_COUNT };

/* What the user chose; the snapshot says what the daemon computed. */
struct top_ui {
	uint32_t session; /* the selected session (focus); 0: none */
	enum top_sort sort;
	uint32_t thread;  /* functions of this thread; 0: all */
	bool interactive; /* show the key help */
};

/* Receives each line: @row from 0, @selected for the selected session's row. */
typedef void top_line_fn(void *arg, int row, const char *text, bool selected);

/* Renders @snap (the "snapshot" member of a watch reply) with @ui, lines cut at @width
 * columns (at most 1023). Returns the number of lines. */
int top_render(const json_t *snap, const struct top_ui *ui, int width, top_line_fn *line,
	       void *arg);

/* The ids of the snapshot's sessions, ascending (the order rows are shown in), into @ids
 * (at most @max). Returns how many. */
int top_session_ids(const json_t *snap, uint32_t *ids, int max);

/* The tids the focus session's threads list holds, into @tids (at most @max); how many. */
int top_thread_ids(const json_t *snap, uint32_t *tids, int max);

const char *top_sort_name(enum top_sort s); /* "total", "own", "count" */

#endif /* BM_TOP_VIEW_H */
