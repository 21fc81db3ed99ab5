// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_region.c — region accounting: peak, total, count, ownership of frees. */
#include "tap.h"
#include "region.h"

static void test_realloc_is_free_then_alloc(void)
{
	struct region_acct r;

	region_acct_start(&r, 10);
	region_acct_alloc(&r, 4096);	/* born at epoch 10 */
	region_acct_free(&r, 10, 4096); /* realloc: old block out ... */
	region_acct_alloc(&r, 8192);	/* ... new block in */
	CHECK_U64(r.peak_bytes, 8192);
	CHECK_U64(r.total_bytes, 4096 + 8192);
	CHECK_U64(r.allocations, 2);
}

static void test_free_of_block_born_before_region_does_not_lower_peak(void)
{
	struct region_acct r;

	region_acct_start(&r, 100);
	region_acct_alloc(&r, 1000);
	region_acct_free(&r, 99, 5000); /* born at epoch 99, before the start */
	region_acct_alloc(&r, 1000);
	CHECK_U64(r.cur_bytes, 2000);
	CHECK_U64(r.peak_bytes, 2000);
}

static void test_peak_is_high_water_not_final(void)
{
	struct region_acct r;

	region_acct_start(&r, 1);
	region_acct_alloc(&r, 300);
	region_acct_alloc(&r, 700);
	region_acct_free(&r, 1, 300);
	region_acct_free(&r, 1, 700);
	region_acct_alloc(&r, 10);
	CHECK_U64(r.peak_bytes, 1000);
	CHECK_U64(r.cur_bytes, 10);
	CHECK_U64(r.total_bytes, 1010);
	CHECK_U64(r.allocations, 3);
}

int main(void)
{
	TEST(test_realloc_is_free_then_alloc);
	TEST(test_free_of_block_born_before_region_does_not_lower_peak);
	TEST(test_peak_is_high_water_not_final);
	return tap_done();
}
