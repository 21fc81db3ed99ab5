// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/session.c — sessions, their processes and regions, and the event accounting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmem.h"
#include "blockstacks.h"
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

static int64_t next_repeat(const struct session *s, const char *name)
{
	int64_t next = 0;

	for (size_t i = 0; i < s->nr_closed; i++) {
		if (s->closed[i].whole_run)
			continue;
		if (!strcmp(s->closed[i].name, name) && s->closed[i].repeat >= next)
			next = (int64_t)s->closed[i].repeat + 1;
	}
	return next;
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
				 .aborted = r->aborted };
}

/* One series is one (name, params): "r" with n=1000 and "r" with n=100000 are two entries. */
static bool same_params(const json_t *a, const json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

json_t *session__results(const struct session *s, const char *version, const char *attach_mode,
			 uint64_t lost_events)
{
	struct bm_series *series = calloc(s->nr_closed + 1, sizeof(*series));
	struct bm_repeat *reps = calloc(s->nr_closed + 1, sizeof(*reps));
	size_t nr_series = 0, used = 0;
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
	bool *taken = calloc(s->nr_closed + 1, sizeof(*taken));
	bool explicit_regions = false;
	json_t *doc = NULL;

	if (!series || !reps || !taken)
		goto out;
	/* the whole-run region is the result only of a command that marked no region */
	for (size_t i = 0; i < s->nr_closed; i++)
		explicit_regions |= !s->closed[i].whole_run;
	for (size_t i = 0; i < s->nr_closed; i++)
		taken[i] = explicit_regions && s->closed[i].whole_run;
	/* group by name in first-seen order; reps[] holds each series contiguously */
	for (size_t i = 0; i < s->nr_closed; i++) {
		struct bm_series *se;

		if (taken[i])
			continue;
		se = &series[nr_series++];
		se->name = s->closed[i].name;
		se->group = s->closed[i].has_group ? s->closed[i].group : NULL;
		se->params = s->closed[i].params;
		se->reps = &reps[used];
		se->profile = s->closed[i].profile;
		for (size_t j = i; j < s->nr_closed; j++) {
			if (taken[j] || s->closed[j].whole_run != s->closed[i].whole_run ||
			    strcmp(s->closed[j].name, se->name) ||
			    !same_params(s->closed[j].params, se->params))
				continue;
			taken[j] = true;
			if (s->closed[j].profile)
				se->profile = s->closed[j].profile;
			to_repeat(&s->closed[j], &reps[used++]);
			se->nr_reps++;
		}
	}
	doc = results_build(series, nr_series, &meta);
out:
	free(taken);
	free(series);
	free(reps);
	return doc;
}
