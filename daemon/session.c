// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/session.c — sessions, their processes and regions, and the event accounting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmem.h"
#include "blockstacks.h"
#include "group.h"
#include "log.h"
#include "results.h"
#include "pystacks.h"
#include "session.h"
#include "spool.h"
#include "stacks.h"

struct session *session__new(uint32_t id, uid_t uid, pid_t root, const char *command)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->id = id;
	s->uid = uid;
	s->root = root;
	snprintf(s->command, sizeof(s->command), "%s", command ? command : "");
	s->epoch = 1;
	s->stack_slot = -1;
	return s;
}

static void region_release(struct region *r)
{
	json_decref(r->params);
	r->params = NULL;
	spool__free(r->spool);
	r->spool = NULL;
	free(r->profile);
	r->profile = NULL;
}

void session__free(struct session *s)
{
	if (!s)
		return;
	json_decref(s->context);
	json_decref(s->repeats);
	for (int i = 0; i < s->nr_procs; i++) {
		live_table__free(s->procs[i]->live);
		live_table__free(s->procs[i]->stacks);
		free(s->procs[i]);
	}
	free(s->procs);
	for (int i = 0; i < s->nr_open; i++) {
		region_release(s->open[i]);
		free(s->open[i]);
	}
	for (size_t i = 0; i < s->nr_closed; i++)
		region_release(&s->closed[i]);
	free(s->closed);
	if (s->images) {
		stacks_images_release(s->images);
		free(s->images);
	}
	pystacks__free(s->py);
	free(s);
}

struct proc *session__add_proc(struct session *s, pid_t tgid)
{
	struct proc *p;

	if (s->nr_procs == s->cap_procs) {
		int cap = s->cap_procs ? s->cap_procs * 2 : 8;
		struct proc **n = reallocarray(s->procs, (size_t)cap, sizeof(*n));

		if (!n)
			return NULL;
		s->procs = n;
		s->cap_procs = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->live = live_table__new();
	if (!p->live) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->tgid = tgid;
	p->s = s;
	s->procs[s->nr_procs++] = p;
	return p;
}

void session__remove_proc(struct session *s, struct proc *p)
{
	for (int i = 0; i < s->nr_procs; i++) {
		if (s->procs[i] != p)
			continue;
		s->procs[i] = s->procs[--s->nr_procs];
		pystacks__forget(s->py, p->tgid);
		live_table__free(p->live);
		live_table__free(p->stacks);
		free(p);
		return;
	}
}

struct proc *session__find_proc(const struct session *s, pid_t tgid)
{
	for (int i = 0; i < s->nr_procs; i++) {
		if (s->procs[i]->tgid == tgid)
			return s->procs[i];
	}
	return NULL;
}

static inline void free_in_regions(struct session *s, uint32_t epoch, uint64_t size)
{
	region_acct_free(&s->acct, epoch, size);
	for (int i = 0; i < s->nr_open; i++)
		region_acct_free(&s->open[i]->acct, epoch, size);
}

/* The accounting of one event, inline in both entry points (the batch loop runs it for
 * every event of the hook's batches). */
static inline void alloc_one(struct session *s, struct proc *p, uint16_t func, uint64_t addr,
			     uint64_t size)
{
	struct live_block old;

	s->events++;
	if (allocator_is_ranged(func)) {
		/* a mapping that fails to record only under-counts a later munmap */
		live_table__map(p->live, addr, size, s->epoch);
	} else if (live_table__insert(p->live, addr, size, s->epoch, &old) == 0 && old.size) {
		/* the free of the old block at this address was lost */
		free_in_regions(s, old.epoch, old.size);
	}
	region_acct_alloc(&s->acct, size);
	for (int i = 0; i < s->nr_open; i++)
		region_acct_alloc(&s->open[i]->acct, size);
}

static inline void free_one(struct session *s, struct proc *p, uint64_t addr)
{
	struct live_block b;

	s->events++;
	if (live_table__remove(p->live, addr, &b)) {
		s->unmatched_frees++; /* born before tracing, or in the parent before fork */
		return;
	}
	free_in_regions(s, b.epoch, b.size);
}

void session__on_alloc(struct session *s, struct proc *p, uint16_t func, uint64_t addr,
		       uint64_t size)
{
	alloc_one(s, p, func, addr, size);
}

void session__on_free(struct session *s, struct proc *p, uint64_t addr)
{
	free_one(s, p, addr);
}

static void unmap_piece(uint64_t bytes, uint32_t epoch, void *arg)
{
	free_in_regions(arg, epoch, bytes);
}

void session__on_munmap(struct session *s, struct proc *p, uint64_t addr, uint64_t len)
{
	s->events++;
	live_table__unmap(p->live, addr, len, unmap_piece, s);
}

/* An allocation of a profiled session without its stack: the store was full, or the session
 * has none. Counted, so a profile says so. */
static void count_lost_stack(struct session *s, const struct bm_event *e)
{
	if (e->kind != BM_EV_ALLOC || e->stack_id >= 0)
		return;
	s->lost_stacks++;
	for (int i = 0; i < s->nr_open; i++)
		s->open[i]->lost_stacks++;
}

/* A session with profiles keeps every event in the spool of each open region. */
static void keep(struct session *s, struct proc *p, const struct bm_event *e)
{
	struct spool_rec r = { .addr = e->addr,
			       .size = e->size,
			       .tid = e->tid,
			       .stack_id = e->stack_id,
			       .kind = e->kind,
			       .func = e->func,
			       .py_stack = pystacks__on_event(s->py, e) };

	count_lost_stack(s, e);
	for (int i = 0; i < s->nr_open; i++) {
		/* a full budget marks the spool truncated: the profile says so, results stay */
		if (s->open[i]->spool)
			spool__append(s->open[i]->spool, &r);
	}
	blockstacks_note(&p->stacks, e); /* what `top` groups live bytes by */
}

static inline void account(struct session *s, struct proc *p, const struct bm_event *e)
{
	switch (e->kind) {
	case BM_EV_ALLOC:
		alloc_one(s, p, e->func, e->addr, e->size);
		break;
	case BM_EV_FREE:
		free_one(s, p, e->addr);
		break;
	case BM_EV_MUNMAP:
		session__on_munmap(s, p, e->addr, e->size);
		break;
	default:
		break;
	}
}

void session__on_event(struct session *s, struct proc *p, const struct bm_event *e)
{
	if (s->profile)
		keep(s, p, e);
	account(s, p, e);
}

/* How many events ahead session__on_events() fetches the live table's slot: enough to hide a
 * memory round trip behind the accounting of the events in between. */
#define PREFETCH_AHEAD 8

void session__on_events(struct session *s, struct proc *p, const struct bm_event *ev, size_t n)
{
	for (size_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		live_table__prefetch(p->live, ev[i].addr);
	for (size_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			live_table__prefetch(p->live, ev[i + PREFETCH_AHEAD].addr);
		if (s->profile)
			keep(s, p, &ev[i]);
		account(s, p, &ev[i]);
	}
}

/* A block the exec took away: gone from the session's "live now" (regions keep it, as ever). */
static int forget_block(void *arg, const struct live_block *b)
{
	struct session *s = arg;

	region_acct_free(&s->acct, b->epoch, b->size);
	return 0;
}

void session__on_exec(struct session *s, struct proc *p)
{
	struct live_table *fresh = live_table__new();

	pystacks__forget(s->py, p->tgid); /* the new image may run another interpreter, or none */
	if (!fresh)
		return; /* keep the stale table: lookups of old addresses simply miss later */
	live_table__foreach(p->live, forget_block, s);
	live_table__free(p->live);
	p->live = fresh;
	live_table__free(p->stacks);
	p->stacks = NULL;
}

uint64_t region_held_bytes(const char *name, const json_t *params, const char *group)
{
	return strlen(name) + (group ? strlen(group) : 0) +
	       (params ? json_dumpb(params, NULL, 0, JSON_COMPACT) : 0);
}

/* One more than the last closed repeat of @name: a hash lookup, so n starts cost O(n). */
static int64_t next_repeat(const struct session *s, const char *name)
{
	return s->repeats ? json_integer_value(json_object_get(s->repeats, name)) : 0;
}

/* Remembers that repeat @r->repeat of @r->name is closed (whole-run regions have their own
 * namespace). Without memory the next automatic repeat may reuse a number: harmless. */
static void note_repeat(struct session *s, const struct region *r)
{
	if (r->whole_run || (r->repeat < next_repeat(s, r->name)))
		return;
	if (!s->repeats)
		s->repeats = json_object();
	if (s->repeats)
		json_object_set_new(s->repeats, r->name, json_integer((json_int_t)r->repeat + 1));
}

struct region *session__start(struct session *s, const char *name, int64_t repeat, json_t *params,
			      const char *group, uint64_t now_ns, uint64_t lost)
{
	struct region *r;

	if (repeat < 0)
		repeat = next_repeat(s, name);
	/* the whole-run region lives in its own namespace: a command may name a region
	 * after itself */
	for (int i = 0; i < s->nr_open; i++) {
		if (s->open[i]->whole_run)
			continue;
		if (!strcmp(s->open[i]->name, name) && s->open[i]->repeat == repeat) {
			errno = EEXIST;
			return NULL;
		}
	}
	if (s->nr_open == SESSION_MAX_OPEN) {
		errno = EMFILE;
		return NULL;
	}
	if (s->epoch >= LIVE_EPOCH_MAX) {
		errno = ERANGE;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (group) {
		snprintf(r->group, sizeof(r->group), "%s", group);
		r->has_group = true;
	}
	r->repeat = (uint32_t)repeat;
	r->params = params ? json_incref(params) : NULL;
	region_acct_start(&r->acct, ++s->epoch);
	r->start_ns = now_ns;
	r->lost_at_start = lost;
	if (s->profile && s->budget) {
		r->spool = spool__new(s->budget, s->spill_dir);
		if (!r->spool)
			pr_warn("session %u: region '%s' keeps no profile: %s", s->id, name,
				strerror(errno));
	}
	s->open[s->nr_open++] = r;
	return r;
}

struct region *session__find_closed(struct session *s, const char *name, int64_t repeat)
{
	struct region *best = NULL;

	for (size_t i = 0; i < s->nr_closed; i++) {
		struct region *r = &s->closed[i];

		if (strcmp(r->name, name))
			continue;
		if (repeat >= 0 ? r->repeat == repeat
				: (!best || r->acct.peak_bytes < best->acct.peak_bytes))
			best = r;
	}
	return best;
}

struct region *session__find_open(const struct session *s, const char *name)
{
	for (int i = s->nr_open - 1; i >= 0; i--) {
		if (!s->open[i]->whole_run && !strcmp(s->open[i]->name, name))
			return s->open[i];
	}
	return NULL;
}

const struct region *session__close(struct session *s, struct region *r, uint64_t now_ns,
				    uint64_t lost, bool aborted)
{
	struct region *c;

	if (s->nr_closed == SESSION_MAX_CLOSED) {
		errno = E2BIG;
		return NULL;
	}
	if (s->nr_closed == s->cap_closed) {
		size_t cap = s->cap_closed ? s->cap_closed * 2 : 16;
		struct region *n = reallocarray(s->closed, cap, sizeof(*n));

		if (!n)
			return NULL;
		s->closed = n;
		s->cap_closed = cap;
	}
	r->wall_ns = now_ns > r->start_ns ? now_ns - r->start_ns : 0;
	r->lost_events = lost - r->lost_at_start;
	r->aborted = aborted;
	c = &s->closed[s->nr_closed++];
	*c = *r; /* the closed copy takes over params */
	note_repeat(s, c);
	for (int i = 0; i < s->nr_open; i++) {
		if (s->open[i] == r) {
			memmove(&s->open[i], &s->open[i + 1],
				sizeof(s->open[0]) * (size_t)(s->nr_open - i - 1));
			s->nr_open--;
			break;
		}
	}
	free(r);
	return c;
}

bool session__recording(const struct session *s)
{
	for (int i = 0; i < s->nr_open; i++) {
		if (!s->region_scope || !s->open[i]->whole_run)
			return true;
	}
	return false;
}

void session__fold_rss(struct session *s, uint64_t rss_bytes)
{
	for (int i = 0; i < s->nr_open; i++) {
		struct region *r = s->open[i];

		if (!r->has_rss || rss_bytes > r->rss_bytes)
			r->rss_bytes = rss_bytes;
		r->has_rss = true;
	}
}

static void to_repeat(const struct region *r, struct bm_repeat *o)
{
	*o = (struct bm_repeat){ .peak_bytes = r->acct.peak_bytes,
				 .total_bytes = r->acct.total_bytes,
				 .allocations = r->acct.allocations,
				 .rss_bytes = r->rss_bytes,
				 .has_rss = r->has_rss,
				 .wall_ns = r->wall_ns,
				 .lost_stacks = r->lost_stacks,
				 .aborted = r->aborted };
}

/* One series is one (name, params): "r" with n=1000 and "r" with n=100000 are two entries;
 * group.c finds them in O(n). reps[] holds each series contiguously, in close order. */
json_t *session__results(const struct session *s, const char *version, const char *attach_mode,
			 uint64_t lost_events)
{
	size_t n = s->nr_closed;
	struct bm_series *series = calloc(n + 1, sizeof(*series));
	struct bm_repeat *reps = calloc(n + 1, sizeof(*reps));
	uint32_t *series_of = calloc(n + 1, sizeof(*series_of));
	struct group_key *keys = calloc(n + 1, sizeof(*keys));
	size_t *fill = calloc(n + 1, sizeof(*fill));
	struct bm_run_meta meta = { .command = s->command,
				    .python_allocator = !s->saw_python	   ? NULL
							: s->python_malloc ? "malloc"
									   : "pymalloc",
				    .lost_events = lost_events,
				    .start_unix_ns = s->start_unix_ns,
				    .context = s->context,
				    .version = version,
				    .attach_mode = attach_mode,
				    .probe = !s->hook		? "uprobes"
					     : s->hook_fallback ? "hook+uprobes"
								: "hook",
				    .python_frames = pystacks__note(s->py) };
	/* never in region scope: the whole-run region saw only what the regions saw */
	bool explicit_regions = s->region_scope;
	json_t *doc = NULL;
	long nr_series;
	size_t used = 0;

	if (!series || !reps || !series_of || !keys || !fill)
		goto out;
	/* the whole-run region is the result only of a command that marked no region */
	for (size_t i = 0; i < n; i++)
		explicit_regions |= !s->closed[i].whole_run;
	for (size_t i = 0; i < n; i++) {
		const struct region *r = &s->closed[i];

		keys[i] = (struct group_key){ .name = explicit_regions && r->whole_run ? NULL
										       : r->name,
					      .params = r->params,
					      .whole_run = r->whole_run };
	}
	nr_series = group_keys(keys, n, series_of);
	if (nr_series < 0) {
		errno = (int)-nr_series;
		goto out;
	}
	/* count each series' passes, then lay the series out one after another */
	for (size_t i = 0; i < n; i++) {
		struct bm_series *se;

		if (series_of[i] == GROUP_NONE)
			continue;
		se = &series[series_of[i]];
		if (!se->nr_reps++) {
			se->name = s->closed[i].name;
			se->group = s->closed[i].has_group ? s->closed[i].group : NULL;
			se->params = s->closed[i].params;
		}
	}
	for (long k = 0; k < nr_series; k++) {
		series[k].reps = &reps[used];
		fill[k] = used;
		used += series[k].nr_reps;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t k = series_of[i];

		if (k == GROUP_NONE)
			continue;
		if (s->closed[i].profile)
			series[k].profile = s->closed[i].profile;
		to_repeat(&s->closed[i], &reps[fill[k]++]);
	}
	doc = results_build(series, (size_t)nr_series, &meta);
out:
	free(fill);
	free(keys);
	free(series_of);
	free(series);
	free(reps);
	return doc;
}
