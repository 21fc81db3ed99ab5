// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_group.c — regions into series: first-seen order, params compared as JSON
 * (key order does not matter, types do), the whole-run flag apart, skipped keys, and 200,000
 * distinct keys in linear time. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "group.h"
#include "tap.h"

static void test_first_seen_order_and_params(void)
{
	json_t *ab = json_pack("{s:i, s:i}", "a", 1, "b", 2);
	json_t *ba = json_pack("{s:i, s:i}", "b", 2, "a", 1);
	json_t *real = json_pack("{s:f, s:i}", "a", 1.0, "b", 2);
	struct group_key k[] = {
		{ "x", ab, false },    { "y", NULL, false }, { "x", ba, false },
		{ "x", real, false },  { "x", NULL, false }, { "y", NULL, false },
		{ NULL, NULL, false }, { "x", ab, true },
	};
	uint32_t of[8];

	CHECK_I64(group_keys(k, 8, of), 5);
	CHECK_U64(of[0], 0); /* x{a:1,b:2} */
	CHECK_U64(of[1], 1); /* y */
	CHECK_U64(of[2], 0); /* the same params in another key order */
	CHECK_U64(of[3], 2); /* 1.0 is not 1 */
	CHECK_U64(of[4], 3); /* x without params */
	CHECK_U64(of[5], 1);
	CHECK_U64(of[6], GROUP_NONE);
	CHECK_U64(of[7], 4); /* the whole-run region has a namespace of its own */
	json_decref(ab);
	json_decref(ba);
	json_decref(real);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_many_distinct_keys_in_linear_time(void)
{
	enum { N = 200000 };
	struct group_key *k = calloc(N, sizeof(*k));
	uint32_t *of = calloc(N, sizeof(*of));
	json_t **p = calloc(N, sizeof(*p));
	double t0, took;
	long n;

	for (size_t i = 0; i < N; i++) {
		p[i] = json_pack("{s:I}", "n", (json_int_t)(i / 2)); /* pairs share params */
		k[i] = (struct group_key){ "r", p[i], false };
	}
	t0 = now_s();
	n = group_keys(k, N, of);
	took = now_s() - t0;
	CHECK_I64(n, N / 2);
	CHECK_U64(of[N - 1], N / 2 - 1);
	CHECK_U64(of[N - 2], N / 2 - 1);
	/* quadratic would be 2e10 comparisons; hashed it takes ~0.5 s (5 s: a loaded machine) */
	CHECK(took < 5.0);
	printf("# %d keys grouped in %.3f s\n", N, took);
	for (size_t i = 0; i < N; i++)
		json_decref(p[i]);
	free(p);
	free(of);
	free(k);
}

int main(void)
{
	TEST(test_first_seen_order_and_params);
	TEST(test_many_distinct_keys_in_linear_time);
	return tap_done();
}
