// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_live.c — the live-block table and the mapping ranges. */
#include <errno.h>
#include "tap.h"
#include "live.h"

static void test_insert_then_remove_returns_size_and_birth(void)
{
	struct live_table *t = live_table__new();
	struct live_block old, out;

	CHECK(t);
	CHECK_I64(live_table__insert(t, 0x1000, 4096, 7, &old), 0);
	CHECK_U64(old.size, 0);
	CHECK_U64(live_table__count(t), 1);
	CHECK_I64(live_table__remove(t, 0x1000, &out), 0);
	CHECK_U64(out.size, 4096);
	CHECK_U64(out.epoch, 7);
	CHECK_I64(live_table__remove(t, 0x1000, &out), -ENOENT);
	CHECK_U64(live_table__count(t), 0);
	live_table__free(t);
}

static void test_insert_at_live_address_replaces_and_reports_old(void)
{
	struct live_table *t = live_table__new();
	struct live_block old;

	live_table__insert(t, 0x2000, 10, 1, &old);
	live_table__insert(t, 0x2000, 20, 2, &old);
	CHECK_U64(old.size, 10);
	CHECK_U64(live_table__count(t), 1);
	live_table__free(t);
}

/* 200k blocks force several doublings and long probe runs; every one must come back. */
static void test_many_blocks_survive_growth_and_backward_shift(void)
{
	struct live_table *t = live_table__new();
	struct live_block old, out;
	uint64_t sum = 0, n = 200000;
	int bad = 0;

	for (uint64_t i = 1; i <= n; i++)
		live_table__insert(t, i * 16, i, (uint32_t)i, &old);
	CHECK_U64(live_table__count(t), n);
	CHECK(live_table__mem_bytes(t) / n <= 48);
	for (uint64_t i = 1; i <= n; i += 2) {
		bad += live_table__remove(t, i * 16, &out) != 0;
		sum += out.size;
	}
	for (uint64_t i = 2; i <= n; i += 2) {
		bad += live_table__remove(t, i * 16, &out) != 0;
		bad += out.size != i;
		sum += out.size;
	}
	CHECK_I64(bad, 0);
	CHECK_U64(sum, n * (n + 1) / 2);
	CHECK(live_table__mem_bytes(t) / n <= 48);
	CHECK_U64(live_table__count(t), 0);
	live_table__free(t);
}

static uint64_t unmapped;
static void on_unmap(uint64_t bytes, uint32_t epoch, void *arg)
{
	(void)epoch;
	(void)arg;
	unmapped += bytes;
}

static void test_unmap_splits_shrinks_and_removes_ranges(void)
{
	struct live_table *t = live_table__new();

	live_table__map(t, 0x10000, 0x4000, 1);
	unmapped = 0;
	CHECK_U64(live_table__unmap(t, 0x11000, 0x1000, on_unmap, NULL), 0x1000);  /* middle */
	CHECK_U64(live_table__unmap(t, 0x10000, 0x1000, on_unmap, NULL), 0x1000);  /* head */
	CHECK_U64(live_table__unmap(t, 0x8000, 0x100000, on_unmap, NULL), 0x2000); /* the rest */
	CHECK_U64(unmapped, 0x4000);
	CHECK_U64(live_table__unmap(t, 0x10000, 0x4000, on_unmap, NULL), 0);
	live_table__free(t);
}

static int sum_block(void *arg, const struct live_block *b)
{
	*(uint64_t *)arg += b->size;
	return 0;
}

static void test_get_and_foreach_see_every_live_block(void)
{
	struct live_table *t = live_table__new();
	struct live_block b, old;
	uint64_t sum = 0;

	for (uint64_t i = 1; i <= 3000; i++)
		live_table__insert(t, i * 16, i, 7, &old);
	live_table__remove(t, 16 * 10, &b);
	CHECK(live_table__get(t, 16 * 11, &b) == 0);
	CHECK_U64(b.size, 11);
	CHECK_U64(b.epoch, 7);
	CHECK(live_table__get(t, 16 * 10, &b) == -ENOENT);
	CHECK(live_table__foreach(t, sum_block, &sum) == 0);
	CHECK_U64(sum, 3000 * 3001 / 2 - 10);
	live_table__free(t);
}

int main(void)
{
	TEST(test_get_and_foreach_see_every_live_block);
	TEST(test_insert_then_remove_returns_size_and_birth);
	TEST(test_insert_at_live_address_replaces_and_reports_old);
	TEST(test_many_blocks_survive_growth_and_backward_shift);
	TEST(test_unmap_splits_shrinks_and_removes_ranges);
	return tap_done();
}
