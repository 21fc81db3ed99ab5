// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_snapshot.c — top snapshots: the trust rule, the session and region numbers,
 * the size caps, and live bytes by function (own / total / count, sort, thread) with stacks
 * that point into this very binary, so the names come from its own symbol table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocators.h"
#include "blockstacks.h"
#include "snapshot.h"
#include "tap.h"

/* Stand-ins for a call chain: sysmalloc is a name the allocator has, so it is skipped. */
__attribute__((noinline)) void *sysmalloc(size_t n);
__attribute__((noinline)) void *leaf_a(size_t n);
__attribute__((noinline)) void *leaf_b(size_t n);
__attribute__((noinline)) void *caller(size_t n);

static void *volatile sink;

void *sysmalloc(size_t n)
{
	sink = &n;
	return sink;
}

void *leaf_a(size_t n)
{
	return sysmalloc(n + 1);
}

void *leaf_b(size_t n)
{
	return sysmalloc(n + 2);
}

void *caller(size_t n)
{
	return n ? leaf_a(n) : leaf_b(n);
}

/* Stack 0: sysmalloc <- leaf_a <- caller; stack 1: sysmalloc <- leaf_b <- caller. The return
 * addresses point one byte in; hotspots looks up ip - 1 for every frame but the first. */
static int fake_stack(void *arg, int map, int32_t id, uint64_t *ips, size_t max)
{
	(void)arg;
	(void)map;
	if (id < 0 || id > 1 || max < 3)
		return -ENOENT;
	ips[0] = (uint64_t)(uintptr_t)sysmalloc;
	ips[1] = (uint64_t)(uintptr_t)(id ? leaf_b : leaf_a) + 1;
	ips[2] = (uint64_t)(uintptr_t)caller + 1;
	return 3;
}

static uint64_t no_lost(void *arg, const struct session *s)
{
	(void)arg;
	return s->id * 10;
}

static void alloc(struct session *s, struct proc *p, uint64_t addr, uint64_t size, int32_t stack,
		  uint32_t tid)
{
	struct bm_event e = { .addr = addr,
			      .size = size,
			      .tgid = (uint32_t)p->tgid,
			      .tid = tid,
			      .stack_id = stack,
			      .kind = BM_EV_ALLOC,
			      .func = BM_FN_MALLOC };

	session__on_alloc(s, p, BM_FN_MALLOC, addr, size);
	blockstacks_note(&p->stacks, &e);
}

static void release(struct session *s, struct proc *p, uint64_t addr)
{
	struct bm_event e = { .addr = addr, .tgid = (uint32_t)p->tgid, .kind = BM_EV_FREE };

	session__on_free(s, p, addr);
	blockstacks_note(&p->stacks, &e);
}

static json_t *find_fn(json_t *hot, const char *name)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(hot, "functions"), i, f)
	{
		if (!strcmp(json_string_value(json_object_get(f, "function")), name))
			return f;
	}
	return NULL;
}

static uint64_t num(json_t *o, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(o, key));
}

/* A profiled session of this process: 1000 bytes from leaf_a (thread 11), 3 x 100 from
 * leaf_b (thread 12), a 5000-byte block from leaf_a that died (the peak), in region "r". */
static struct session *profiled(uint32_t id, uid_t uid)
{
	struct session *s = session__new(id, uid, getpid(), "/bin/bench --x");
	struct proc *p;

	s->profile = true;
	p = session__add_proc(s, getpid());
	session__start(s, "r", 0, NULL, NULL, 1, 0);
	alloc(s, p, 0x1000, 5000, 0, 11);
	release(s, p, 0x1000);
	alloc(s, p, 0x2000, 1000, 0, 11);
	for (int i = 0; i < 3; i++)
		alloc(s, p, 0x3000 + 0x100 * (uint64_t)i, 100, 1, 12);
	return s;
}

static json_t *build(struct session **ss, int n, struct snap_view *v, struct symcache *sc)
{
	struct snap_source src = { .sessions = ss,
				   .nr_sessions = n,
				   .lost = no_lost,
				   .lost_total = 7,
				   .stack_of = fake_stack,
				   .sc = sc };

	return snapshot_build(&src, v, 5000000000ULL);
}

static void test_numbers_and_trust_rule(void)
{
	struct session *ss[2] = { profiled(1, 1000), profiled(2, 2000) };
	struct snap_view v = { .uid = 1000, .interval_ms = 1000 };
	struct symcache *sc = symcache__new();
	json_t *snap = build(ss, 2, &v, sc), *s, *r;

	CHECK_U64(num(snap, "seq"), 1);
	CHECK_U64(num(snap, "lost_events"), 7);
	CHECK_U64(json_array_size(json_object_get(snap, "sessions")), 1); /* only uid 1000's */
	s = json_array_get(json_object_get(snap, "sessions"), 0);
	CHECK_U64(num(s, "session"), 1);
	CHECK_U64(num(s, "live_bytes"), 1300);
	CHECK_U64(num(s, "peak_bytes"), 5000);
	CHECK_U64(num(s, "total_bytes"), 6300);
	CHECK_U64(num(s, "allocations"), 5);
	CHECK_U64(num(s, "lost_events"), 10);
	CHECK(!json_object_get(s, "hotspots")); /* not in focus */
	r = json_array_get(json_object_get(s, "regions"), 0);
	CHECK_STR(json_string_value(json_object_get(r, "name")), "r");
	CHECK_U64(num(r, "live_bytes"), 1300);
	CHECK_U64(num(r, "peak_bytes"), 5000);
	json_decref(snap);
	v.uid = 0;
	snap = build(ss, 2, &v, sc);
	CHECK_U64(num(snap, "seq"), 2);
	CHECK_U64(json_array_size(json_object_get(snap, "sessions")), 2); /* root sees all */
	json_decref(snap);
	symcache__free(sc);
	session__free(ss[0]);
	session__free(ss[1]);
}

static void test_functions_own_total_count_sort_thread(void)
{
	struct session *s = profiled(1, 0);
	struct snap_view v = { .uid = 0, .focus = 1, .hot = { .sort = HOT_SORT_OWN } };
	struct symcache *sc = symcache__new();
	json_t *snap = build(&s, 1, &v, sc), *hot, *f;

	hot = json_object_get(json_array_get(json_object_get(snap, "sessions"), 0), "hotspots");
	CHECK(hot);
	CHECK(!find_fn(hot, "sysmalloc")); /* the allocator's frame is skipped */
	f = find_fn(hot, "leaf_a");
	CHECK(f && num(f, "own_bytes") == 1000 && num(f, "total_bytes") == 1000 &&
	      num(f, "count") == 1);
	f = find_fn(hot, "leaf_b");
	CHECK(f && num(f, "own_bytes") == 300 && num(f, "total_bytes") == 300 &&
	      num(f, "count") == 3);
	f = find_fn(hot, "caller");
	CHECK(f && num(f, "own_bytes") == 0 && num(f, "total_bytes") == 1300 &&
	      num(f, "count") == 4);
	CHECK_STR(json_string_value(json_object_get(find_fn(hot, "caller"), "module")),
		  "test_snapshot");
	/* own: leaf_a, leaf_b, caller */
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(hot, "functions"), 0), "function")),
		  "leaf_a");
	CHECK_U64(json_array_size(json_object_get(hot, "threads")), 2);
	CHECK_U64(num(json_array_get(json_object_get(hot, "threads"), 0), "tid"), 11);
	json_decref(snap);

	v.hot.sort = HOT_SORT_COUNT; /* caller (4), leaf_b (3), leaf_a (1) */
	snap = build(&s, 1, &v, sc);
	hot = json_object_get(json_array_get(json_object_get(snap, "sessions"), 0), "hotspots");
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(hot, "functions"), 1), "function")),
		  "leaf_b");
	json_decref(snap);

	v.hot.thread = 12; /* only leaf_b's blocks */
	snap = build(&s, 1, &v, sc);
	hot = json_object_get(json_array_get(json_object_get(snap, "sessions"), 0), "hotspots");
	CHECK(!find_fn(hot, "leaf_a"));
	f = find_fn(hot, "caller");
	CHECK(f && num(f, "total_bytes") == 300);
	CHECK_U64(num(hot, "blocks_examined"), 4);
	json_decref(snap);
	symcache__free(sc);
	session__free(s);
}

static void test_caps_say_when_they_cut(void)
{
	struct session *ss[SNAP_MAX_SESSIONS + 1];
	struct snap_view v = { .uid = 0 };
	char name[16];
	json_t *snap, *s0;

	for (int i = 0; i <= SNAP_MAX_SESSIONS; i++)
		ss[i] = session__new((uint32_t)i + 1, 0, 1, "x");
	for (int i = 0; i <= SNAP_MAX_REGIONS; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		session__start(ss[0], name, 0, NULL, NULL, 1, 0);
	}
	snap = build(ss, SNAP_MAX_SESSIONS + 1, &v, NULL);
	CHECK_U64(json_array_size(json_object_get(snap, "sessions")), SNAP_MAX_SESSIONS);
	CHECK(json_is_true(json_object_get(snap, "sessions_truncated")));
	s0 = json_array_get(json_object_get(snap, "sessions"), 0);
	CHECK_U64(num(s0, "open_regions"), SNAP_MAX_REGIONS + 1);
	CHECK_U64(json_array_size(json_object_get(s0, "regions")), SNAP_MAX_REGIONS);
	CHECK(json_is_true(json_object_get(s0, "regions_truncated")));
	json_decref(snap);
	for (int i = 0; i <= SNAP_MAX_SESSIONS; i++)
		session__free(ss[i]);
}

static void test_alloc_rate_is_bytes_per_second_since_last(void)
{
	struct session *s = profiled(1, 0);
	struct snap_source src = { .sessions = &s, .nr_sessions = 1, .lost = no_lost };
	struct snap_view v = { .uid = 0 };
	json_t *snap;

	json_decref(snapshot_build(&src, &v, 1000000000ULL));
	session__on_alloc(s, s->procs[0], BM_FN_MALLOC, 0x9000, 500);
	snap = snapshot_build(&src, &v, 1500000000ULL); /* 500 bytes in 0.5 s */
	CHECK_U64(num(json_array_get(json_object_get(snap, "sessions"), 0), "alloc_rate"), 1000);
	json_decref(snap);
	session__free(s);
}

static void test_exec_takes_the_old_blocks_out_of_live_now(void)
{
	struct session *s = profiled(1, 0);
	struct snap_source src = { .sessions = &s, .nr_sessions = 1, .lost = no_lost };
	struct snap_view v = { .uid = 0 };
	json_t *snap, *e;

	session__on_exec(s, s->procs[0]);
	snap = snapshot_build(&src, &v, 1);
	e = json_array_get(json_object_get(snap, "sessions"), 0);
	CHECK_U64(num(e, "live_bytes"), 0);
	CHECK_U64(num(e, "peak_bytes"), 5000);
	/* a region keeps what it allocated (design.md), exec or not */
	CHECK_U64(num(json_array_get(json_object_get(e, "regions"), 0), "live_bytes"), 1300);
	json_decref(snap);
	session__free(s);
}

int main(void)
{
	TEST(test_exec_takes_the_old_blocks_out_of_live_now);
	TEST(test_numbers_and_trust_rule);
	TEST(test_functions_own_total_count_sort_thread);
	TEST(test_caps_say_when_they_cut);
	TEST(test_alloc_rate_is_bytes_per_second_since_last);
	return tap_done();
}
