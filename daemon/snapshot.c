// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/snapshot.c — the sessions as one JSON snapshot for `top` and other watchers. */
#include <errno.h>
#include <time.h>

#include "snapshot.h"

bool snapshot_may_see(uid_t uid, const struct session *s)
{
	return uid == 0 || s->uid == uid;
}

static json_t *region_json(const struct region *r, uint64_t now_ns)
{
	return json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I}", "name", r->name, "repeat",
			 (int)r->repeat, "live_bytes", (json_int_t)r->acct.cur_bytes, "peak_bytes",
			 (json_int_t)r->acct.peak_bytes, "total_bytes",
			 (json_int_t)r->acct.total_bytes, "allocations",
			 (json_int_t)r->acct.allocations, "elapsed_ns",
			 (json_int_t)(now_ns > r->start_ns ? now_ns - r->start_ns : 0));
}

static int64_t unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Bytes per second allocated by @s since the viewer's previous snapshot (or, the first
 * time, since the session began); records the new totals in @prev slot @slot. */
static uint64_t alloc_rate(struct snap_view *v, const struct session *s, uint64_t now_ns, int slot,
			   const struct snap_view *old)
{
	uint64_t bytes = s->acct.total_bytes, ns = 0;

	for (int i = 0; i < old->nr_prev; i++) {
		if (old->prev[i].id != s->id)
			continue;
		bytes -= old->prev[i].total_bytes;
		ns = now_ns - old->prev[i].ns;
		break;
	}
	if (!ns) {
		int64_t age = unix_now_ns() - s->start_unix_ns;

		ns = age > 0 ? (uint64_t)age : 0;
	}
	v->prev[slot].id = s->id;
	v->prev[slot].total_bytes = s->acct.total_bytes;
	v->prev[slot].ns = now_ns;
	return ns ? (uint64_t)((double)bytes * 1e9 / (double)ns) : 0;
}

static json_t *session_json(const struct snap_source *src, struct snap_view *v,
			    const struct session *s, uint64_t now_ns, int slot,
			    const struct snap_view *old)
{
	json_t *regions = json_array(), *e;
	int shown = s->nr_open < SNAP_MAX_REGIONS ? s->nr_open : SNAP_MAX_REGIONS;

	for (int i = 0; i < shown; i++)
		json_array_append_new(regions, region_json(s->open[i], now_ns));
	e = json_pack("{s:i, s:s, s:i, s:i, s:i, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:i, "
		      "s:o, s:b}",
		      "session", (int)s->id, "command", s->command, "uid", (int)s->uid, "root_pid",
		      (int)s->root, "processes", s->nr_procs, "ended", s->ended, "profile",
		      s->profile, "live_bytes", (json_int_t)s->acct.cur_bytes, "peak_bytes",
		      (json_int_t)s->acct.peak_bytes, "total_bytes",
		      (json_int_t)s->acct.total_bytes, "allocations",
		      (json_int_t)s->acct.allocations, "alloc_rate",
		      (json_int_t)alloc_rate(v, s, now_ns, slot, old), "lost_events",
		      (json_int_t)src->lost(src->arg, s), "open_regions", s->nr_open, "regions",
		      regions, "regions_truncated", s->nr_open > shown);
	if (e && v->focus == s->id && s->profile) {
		json_t *hot = hotspots_build(s, src->stack_of, src->arg, src->sc, &v->hot);

		if (hot)
			json_object_set_new(e, "hotspots", hot);
	}
	return e;
}

json_t *snapshot_build(const struct snap_source *src, struct snap_view *v, uint64_t now_ns)
{
	json_t *list = json_array(), *e;
	struct snap_view old;
	int shown = 0, visible = 0;

	if (!list)
		return NULL;
	/* the previous totals are read from a copy while the new ones are written */
	old.nr_prev = v->nr_prev;
	for (int i = 0; i < v->nr_prev; i++)
		old.prev[i] = v->prev[i];
	for (int i = 0; i < src->nr_sessions; i++) {
		const struct session *s = src->sessions[i];

		if (!snapshot_may_see(v->uid, s))
			continue;
		visible++;
		if (shown == SNAP_MAX_SESSIONS)
			continue;
		e = session_json(src, v, s, now_ns, shown, &old);
		if (!e) {
			json_decref(list);
			errno = ENOMEM;
			return NULL;
		}
		json_array_append_new(list, e);
		shown++;
	}
	v->nr_prev = shown;
	v->seq++;
	return json_pack("{s:I, s:I, s:i, s:I, s:I, s:i, s:o, s:b}", "seq", (json_int_t)v->seq,
			 "time_ns", (json_int_t)unix_now_ns(), "interval_ms", (int)v->interval_ms,
			 "skipped", (json_int_t)v->skipped, "lost_events",
			 (json_int_t)src->lost_total, "focus", (int)v->focus, "sessions", list,
			 "sessions_truncated", visible > shown);
}
