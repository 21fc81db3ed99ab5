// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/top_view.c — one snapshot → the lines of the `top` screen. Bytes are exact integers
 * (a script or a test reads them off the screen); rates are human-readable. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top_view.h"
#include "units.h"

#define LINE_MAX_COLS 1024

struct out {
	top_line_fn *fn;
	void *arg;
	int row, width;
};

static void emit(struct out *o, bool selected, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emit(struct out *o, bool selected, const char *fmt, ...)
{
	char buf[LINE_MAX_COLS];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (o->width > 0 && o->width < (int)sizeof(buf))
		buf[o->width] = '\0';
	o->fn(o->arg, o->row++, buf, selected);
}

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

const char *top_sort_name(enum top_sort s)
{
	return s == TOP_SORT_OWN ? "own" : s == TOP_SORT_COUNT ? "count" : "total";
}

static int by_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int top_session_ids(const json_t *snap, uint32_t *ids, int max)
{
	const json_t *s;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(snap, "sessions"), i, s)
	{
		if (n < max)
			ids[n++] = (uint32_t)num(s, "session");
	}
	qsort(ids, (size_t)n, sizeof(*ids), by_id);
	return n;
}

static const json_t *session_of(const json_t *snap, uint32_t id)
{
	const json_t *s;
	size_t i;

	json_array_foreach(json_object_get(snap, "sessions"), i, s)
	{
		if ((uint32_t)num(s, "session") == id)
			return s;
	}
	return NULL;
}

int top_thread_ids(const json_t *snap, uint32_t *tids, int max)
{
	const json_t *s = session_of(snap, (uint32_t)num(snap, "focus")), *t;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(json_object_get(s, "hotspots"), "threads"), i, t)
	{
		if (n < max)
			tids[n++] = (uint32_t)num(t, "tid");
	}
	return n;
}

/* The owner's user name, else the uid as a number. */
static const char *owner(long long uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char scratch[1024];

	if (!getpwuid_r((uid_t)uid, &pw, scratch, sizeof(scratch), &res) && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "%lld", uid);
	return buf;
}

static void sessions_table(struct out *o, const json_t *snap, const struct top_ui *ui)
{
	uint32_t ids[256];
	int n = top_session_ids(snap, ids, 256);
	char rate[32], who[33];

	emit(o, false, "%-8s %-10s %-8s %12s %12s %11s %7s %8s  %s", "SESSION", "OWNER", "PID",
	     "LIVE_B", "PEAK_B", "RATE", "REGIONS", "LOST", "COMMAND");
	for (int k = 0; k < n; k++) {
		const json_t *s = session_of(snap, ids[k]);
		bool sel = ids[k] == ui->session;

		units_format_bytes((uint64_t)num(s, "alloc_rate"), rate, sizeof(rate) - 2);
		strcat(rate, "/s");
		emit(o, sel, "%c%-7lld %-10.10s %-8lld %12lld %12lld %11s %7lld %8lld  %s%s",
		     sel ? '>' : ' ', num(s, "session"), owner(num(s, "uid"), who, sizeof(who)),
		     num(s, "root_pid"), num(s, "live_bytes"), num(s, "peak_bytes"), rate,
		     num(s, "open_regions"), num(s, "lost_events"), str(s, "command"),
		     json_is_true(json_object_get(s, "ended")) ? " (ended)" : "");
	}
	if (!n)
		emit(o, false, " (no traced sessions you may see)");
	if (json_is_true(json_object_get(snap, "sessions_truncated")))
		emit(o, false, " (more sessions than a snapshot holds)");
}

static void regions_table(struct out *o, const json_t *s)
{
	const json_t *r;
	size_t i;

	emit(o, false, "%-32s %6s %12s %12s %14s %10s", "REGION", "REPEAT", "LIVE_B", "PEAK_B",
	     "TOTAL_B", "ALLOCS");
	json_array_foreach(json_object_get(s, "regions"), i, r)
	{
		emit(o, false, "%-32s %6lld %12lld %12lld %14lld %10lld", str(r, "name"),
		     num(r, "repeat"), num(r, "live_bytes"), num(r, "peak_bytes"),
		     num(r, "total_bytes"), num(r, "allocations"));
	}
	if (json_is_true(json_object_get(s, "regions_truncated")))
		emit(o, false, " (more open regions than a snapshot holds)");
}

static void functions_table(struct out *o, const json_t *hot, const struct top_ui *ui)
{
	const json_t *f, *t;
	size_t i;

	char who[32] = "all threads";

	if (num(hot, "thread"))
		snprintf(who, sizeof(who), "thread %lld", num(hot, "thread"));
	emit(o, false, "Functions by %s, %s%s", str(hot, "sort"), who,
	     ui->interactive ? "   [t]otal [o]wn [c]ount, left/right thread" : "");
	emit(o, false, "%12s %12s %8s  %-40s %s", "TOTAL_B", "OWN_B", "COUNT", "FUNCTION",
	     "MODULE");
	json_array_foreach(json_object_get(hot, "functions"), i, f)
	{
		emit(o, false, "%12lld %12lld %8lld  %-40s %s", num(f, "total_bytes"),
		     num(f, "own_bytes"), num(f, "count"), str(f, "function"), str(f, "module"));
	}
	if (json_is_true(json_object_get(hot, "functions_truncated")))
		emit(o, false, " (more functions)");
	if (json_is_true(json_object_get(hot, "capped")))
		emit(o, false, " (work cap reached: %lld live blocks examined)",
		     num(hot, "blocks_examined"));
	emit(o, false, "%-10s %12s %8s", "THREAD", "LIVE_B", "BLOCKS");
	json_array_foreach(json_object_get(hot, "threads"), i, t)
	{
		emit(o, (uint32_t)num(t, "tid") == ui->thread, "%-10lld %12lld %8lld",
		     num(t, "tid"), num(t, "live_bytes"), num(t, "blocks"));
	}
}

int top_render(const json_t *snap, const struct top_ui *ui, int width, top_line_fn *line, void *arg)
{
	struct out o = { line, arg, 0, width };
	const json_t *s = session_of(snap, ui->session);

	emit(&o, false, "benchmemctl top - snapshot %lld every %lld ms, lost events %lld%s%s",
	     num(snap, "seq"), num(snap, "interval_ms"), num(snap, "lost_events"),
	     ui->interactive ? "   [q]uit, up/down session" : "",
	     num(snap, "skipped") ? " (snapshots skipped: reading too slowly)" : "");
	emit(&o, false, "%s", "");
	sessions_table(&o, snap, ui);
	if (!s)
		return o.row;
	emit(&o, false, "%s", "");
	emit(&o, false, "Session %lld: %s (uid %lld, %lld processes)", num(s, "session"),
	     str(s, "command"), num(s, "uid"), num(s, "processes"));
	regions_table(&o, s);
	emit(&o, false, "%s", "");
	if (json_object_get(s, "hotspots"))
		functions_table(&o, json_object_get(s, "hotspots"), ui);
	else
		emit(&o, false,
		     "No stacks for this session: launch it with profiles "
		     "(benchmem-run --profile all) to see its functions.");
	return o.row;
}
